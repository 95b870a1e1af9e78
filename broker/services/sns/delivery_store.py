"""SQL of pending HTTP/S deliveries (sns_deliveries), and what claiming them and recording their outcomes read and
write of their subscriptions and topics (delivery policies, the shared throttle counters). Functions take a Tx
(writes, on the writer thread) or a Connection (reads); the logic is in http_delivery.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from broker.storage.db import Tx
from broker.storage.tables import sns_deliveries as dl
from broker.storage.tables import sns_subscriptions as s
from broker.storage.tables import sns_topics as t

WAKE_KEY = "sns:deliveries"  # woken at the commit of new (or rescheduled) deliveries, in every process

Row = dict[str, Any]


def add(tx: Tx, rows: list[Row]) -> None:
    if rows:
        tx.conn.execute(insert(dl), rows)
        tx.wake(WAKE_KEY)


def drop_subscription(tx: Tx, sub_arn: str) -> None:
    """Forget a deleted subscription's pending deliveries."""
    tx.conn.execute(delete(dl).where(dl.c.subscription_arn == sub_arn))


# -- claiming --------------------------------------------------------------------------------------------------------
def due(tx: Tx, now: int, limit: int) -> list[Row]:
    """Deliveries due and not claimed, earliest first (rows other nodes hold locked are skipped on PostgreSQL)."""
    stmt = select(dl).where(and_(dl.c.due_at <= now, dl.c.lease_until <= now)).order_by(dl.c.due_at).limit(limit)
    if tx.is_pg:
        stmt = stmt.with_for_update(skip_locked=True)
    return [dict(r) for r in tx.conn.execute(stmt).mappings()]


def lease(tx: Tx, ids: list[int], until: int) -> None:
    tx.conn.execute(update(dl).where(dl.c.id.in_(ids)).values(lease_until=until))


def next_due(conn: Connection, now: int) -> int | None:
    """When the earliest unclaimed delivery is due, or None."""
    due_at: int | None = conn.execute(
        select(dl.c.due_at).where(dl.c.lease_until <= now).order_by(dl.c.due_at).limit(1)
    ).scalar()
    return due_at


def next_claim_end(conn: Connection, now: int) -> int | None:
    """When the earliest claim still running ends (deliveries in flight, or left by a worker that died), or None."""
    until: int | None = conn.execute(select(func.min(dl.c.lease_until)).where(dl.c.lease_until > now)).scalar()
    return until


# -- the throttle (maxReceivesPerSecond), counted on the subscription rows ------------------------------------------
def policy_sources(tx: Tx, sub_arns: list[str]) -> list[tuple[str, str, str, str | None]]:
    """(ARN, protocol, attributes, topic attributes or None) of subscriptions."""
    found = tx.conn.execute(
        select(s.c.arn, s.c.protocol, s.c.attributes, t.c.attributes)
        .select_from(s.outerjoin(t, t.c.arn == s.c.topic_arn))
        .where(s.c.arn.in_(sub_arns))
    )
    return [(arn, protocol, attrs, topic_attrs) for arn, protocol, attrs, topic_attrs in found]


def throttle_counters(tx: Tx, sub_arns: list[str]) -> list[tuple[str, int, int]]:
    """(ARN, second, deliveries counted in it) of subscriptions; locked on PostgreSQL, so that nodes claiming at
    once do not both spend the same second."""
    stmt = select(s.c.arn, s.c.throttle_second, s.c.throttle_count).where(s.c.arn.in_(sub_arns)).order_by(s.c.arn)
    if tx.is_pg:
        stmt = stmt.with_for_update()
    return [(arn, second, count) for arn, second, count in tx.conn.execute(stmt)]


def set_throttle_counter(tx: Tx, sub_arn: str, second: int, count: int) -> None:
    tx.conn.execute(update(s).where(s.c.arn == sub_arn).values(throttle_second=second, throttle_count=count))


def postpone(tx: Tx, ids: list[int], due_at: int) -> None:
    tx.conn.execute(update(dl).where(dl.c.id.in_(ids)).values(due_at=due_at))


# -- outcomes ----------------------------------------------------------------------------------------------------------
def still_claimed(tx: Tx, delivery_id: int, lease_until: int) -> bool:
    """Whether the delivery is still there under that claim."""
    mine = and_(dl.c.id == delivery_id, dl.c.lease_until == lease_until)
    return tx.conn.execute(select(dl.c.id).where(mine)).first() is not None


def remove(tx: Tx, delivery_id: int) -> None:
    tx.conn.execute(delete(dl).where(dl.c.id == delivery_id))


def retry_at(tx: Tx, delivery_id: int, attempts: int, due_at: int) -> None:
    """Unclaim a failed delivery, due again at `due_at`."""
    tx.conn.execute(update(dl).where(dl.c.id == delivery_id).values(attempts=attempts, due_at=due_at, lease_until=0))
    tx.wake(WAKE_KEY)


def subscription_settings(tx: Tx, sub_arn: str) -> tuple[str, str] | None:
    """(attributes, topic ARN) of a subscription, or None when it is gone."""
    row = tx.conn.execute(select(s.c.attributes, s.c.topic_arn).where(s.c.arn == sub_arn)).first()
    return (row[0], row[1]) if row is not None else None


def topic_attributes(tx: Tx, topic_arn: str) -> str | None:
    attrs: str | None = tx.conn.execute(select(t.c.attributes).where(t.c.arn == topic_arn)).scalar()
    return attrs
