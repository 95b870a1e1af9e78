"""All SQL of SNS. Functions take a Tx (writes, on the writer thread) or a Connection (reads)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from broker.services.sns.errors import (
    invalid_parameter,
    resource_not_found,
    subscription_not_found,
    tag_limit_exceeded,
    topic_not_found,
)
from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.tables import sns_archive as ar
from broker.storage.tables import sns_deliveries as dl
from broker.storage.tables import sns_fifo_dedup as dd
from broker.storage.tables import sns_outbox as ob
from broker.storage.tables import sns_subscriptions as s
from broker.storage.tables import sns_topics as t
from broker.tags import changed

DEDUP_WINDOW_MS = 300_000
PAGE = 100


# -- topics ----------------------------------------------------------------------------------------------------
def get_topic(conn: Connection, arn: str) -> dict | None:
    row = conn.execute(select(t).where(t.c.arn == arn)).mappings().first()
    return dict(row) if row else None


def create_topic(
    tx: Tx, arn: str, account: str, region: str, name: str, fifo: bool, attrs: dict, tags: dict, now: int
) -> None:
    """Create a topic, or accept the call for an existing one with the same attributes and tags."""
    row = get_topic(tx.conn, arn)
    if row is not None:
        stored = json.loads(row["attributes"])
        if any(stored.get(k) != v for k, v in attrs.items()):
            raise invalid_parameter("Attributes Reason: Topic already exists with different attributes")
        old_tags = json.loads(row["tags"])
        if tags and any(old_tags.get(k) != v for k, v in tags.items()):
            raise invalid_parameter("Tags Reason: Topic already exists with different tags")
        return
    tx.conn.execute(
        insert(t).values(
            arn=arn,
            account=account,
            region=region,
            name=name,
            fifo=fifo,
            attributes=json.dumps(attrs),
            tags=json.dumps(tags),
            created_at=now,
            seq=0,
        )
    )


def delete_topic(tx: Tx, arn: str) -> list[str]:
    """Delete a topic and its subscriptions; returns the subscription ARNs that went."""
    row = tx.conn.execute(select(t.c.id).where(t.c.arn == arn)).first()
    if row is None:
        return []
    subs = list(tx.conn.execute(select(s.c.arn).where(s.c.topic_arn == arn)).scalars())
    tx.conn.execute(delete(s).where(s.c.topic_arn == arn))
    tx.conn.execute(delete(dd).where(dd.c.topic_id == row[0]))
    tx.conn.execute(delete(ar).where(ar.c.topic_id == row[0]))
    tx.conn.execute(delete(t).where(t.c.id == row[0]))
    return subs


def set_topic_attributes(tx: Tx, arn: str, changes: dict[str, str]) -> None:
    row = tx.conn.execute(select(t.c.attributes).where(t.c.arn == arn)).first()
    if row is None:
        raise topic_not_found()
    attrs = json.loads(row[0])
    for name, value in changes.items():
        if value == "" and name in ("Policy", "DeliveryPolicy", "KmsMasterKeyId", "ArchivePolicy"):
            attrs.pop(name, None)
        else:
            attrs[name] = value
    tx.conn.execute(update(t).where(t.c.arn == arn).values(attributes=json.dumps(attrs)))


def list_topics(conn: Connection, account: str, region: str, after: str | None) -> list[str]:
    stmt = select(t.c.arn).where(and_(t.c.account == account, t.c.region == region))
    if after is not None:
        stmt = stmt.where(t.c.arn > after)
    return list(conn.execute(stmt.order_by(t.c.arn).limit(PAGE + 1)).scalars())


def subscription_counts(conn: Connection, arn: str) -> tuple[int, int]:
    """(confirmed, pending) subscriptions of a topic."""
    rows = conn.execute(select(s.c.confirmed, func.count()).where(s.c.topic_arn == arn).group_by(s.c.confirmed))
    counts = {bool(c): n for c, n in rows}
    return counts.get(True, 0), counts.get(False, 0)


def set_tags(tx: Tx, arn: str, add: dict[str, str], remove: list[str]) -> None:
    row = tx.conn.execute(select(t.c.tags).where(t.c.arn == arn)).first()
    if row is None:
        raise resource_not_found("Resource does not exist")
    tags = changed(json.loads(row[0]), add, remove, 50, tag_limit_exceeded)
    tx.conn.execute(update(t).where(t.c.arn == arn).values(tags=json.dumps(tags)))


def put_data_protection_policy(tx: Tx, arn: str, policy: str) -> None:
    if tx.conn.execute(update(t).where(t.c.arn == arn).values(data_protection_policy=policy or None)).rowcount == 0:
        raise topic_not_found()


def allocate_seq(tx: Tx, topic_id: int, count: int) -> int:
    """Reserve `count` sequence numbers of a FIFO topic; returns the first."""
    row = tx.conn.execute(update(t).where(t.c.id == topic_id).values(seq=t.c.seq + count).returning(t.c.seq)).first()
    if row is None:
        raise topic_not_found()
    return row[0] - count + 1


def dedup_hit(tx: Tx, topic_id: int, scope: str, dedup_id: str, now: int) -> tuple[str, int] | None:
    row = tx.conn.execute(
        select(dd.c.message_id, dd.c.seq).where(
            and_(dd.c.topic_id == topic_id, dd.c.scope == scope, dd.c.dedup_id == dedup_id, dd.c.expires_at > now)
        )
    ).first()
    return (row[0], row[1]) if row else None


def remember_dedup(tx: Tx, topic_id: int, scope: str, dedup_id: str, message_id: str, seq: int, now: int) -> None:
    upsert(
        tx.conn,
        dd,
        {
            "topic_id": topic_id,
            "scope": scope,
            "dedup_id": dedup_id,
            "message_id": message_id,
            "seq": seq,
            "expires_at": now + DEDUP_WINDOW_MS,
        },
        ["topic_id", "scope", "dedup_id"],
    )


def archive(tx: Tx, topic_id: int, seq: int, message_id: str, now: int, payload: dict) -> None:
    tx.conn.execute(
        insert(ar).values(
            topic_id=topic_id, seq=seq, message_id=message_id, published_at=now, payload=json.dumps(payload)
        )
    )


def archived(conn: Connection, topic_id: int, start: int, end: int | None, after_seq: int, limit: int) -> list[dict]:
    stmt = select(ar).where(and_(ar.c.topic_id == topic_id, ar.c.published_at >= start, ar.c.seq > after_seq))
    if end is not None:
        stmt = stmt.where(ar.c.published_at <= end)
    return [dict(r) for r in conn.execute(stmt.order_by(ar.c.seq).limit(limit)).mappings()]


def sweep(tx: Tx, now: int, archive_cutoffs: dict[int, int]) -> int:
    n = tx.conn.execute(delete(dd).where(dd.c.expires_at <= now)).rowcount
    for topic_id, cutoff in archive_cutoffs.items():
        n += tx.conn.execute(delete(ar).where(and_(ar.c.topic_id == topic_id, ar.c.published_at < cutoff))).rowcount
    return n


def archiving_topics(conn: Connection) -> list[tuple[int, str]]:
    """(id, attributes) of FIFO topics, for the archive's retention."""
    return [(r[0], r[1]) for r in conn.execute(select(t.c.id, t.c.attributes).where(t.c.fifo.is_(True)))]


# -- subscriptions -------------------------------------------------------------------------------------------------
def get_subscription(conn: Connection, arn: str) -> dict | None:
    row = conn.execute(select(s).where(s.c.arn == arn)).mappings().first()
    return dict(row) if row else None


def topic_subscriptions(conn: Connection, topic_arn: str) -> list[dict]:
    return [dict(r) for r in conn.execute(select(s).where(s.c.topic_arn == topic_arn).order_by(s.c.id)).mappings()]


def add_subscription(tx: Tx, values: dict[str, Any]) -> None:
    if tx.conn.execute(select(t.c.id).where(t.c.arn == values["topic_arn"])).first() is None:
        raise topic_not_found()
    tx.conn.execute(insert(s).values(**values))


def delete_subscription(tx: Tx, arn: str) -> dict | None:
    row = get_subscription(tx.conn, arn)
    if row is not None:
        tx.conn.execute(delete(s).where(s.c.arn == arn))
        tx.conn.execute(delete(dl).where(dl.c.subscription_arn == arn))
    return row


def set_subscription_attributes(tx: Tx, arn: str, attrs: dict[str, str]) -> None:
    if tx.conn.execute(update(s).where(s.c.arn == arn).values(attributes=json.dumps(attrs))).rowcount == 0:
        raise subscription_not_found()


def confirm(tx: Tx, topic_arn: str, token: str) -> dict | None:
    row = tx.conn.execute(select(s).where(and_(s.c.topic_arn == topic_arn, s.c.token == token))).mappings().first()
    if row is None:
        return None
    tx.conn.execute(update(s).where(s.c.id == row["id"]).values(confirmed=True))
    return {**row, "confirmed": True}


def list_subscriptions(conn: Connection, owner: str | None, topic_arn: str | None, after: int) -> list[dict]:
    stmt = select(s).where(s.c.id > after)
    if owner is not None:
        stmt = stmt.where(s.c.owner == owner)
    if topic_arn is not None:
        stmt = stmt.where(s.c.topic_arn == topic_arn)
    return [dict(r) for r in conn.execute(stmt.order_by(s.c.id).limit(PAGE + 1)).mappings()]


# -- deliveries that leave the process ------------------------------------------------------------------------------
def add_outbox(tx: Tx, rows: list[dict]) -> None:
    if rows:
        tx.conn.execute(insert(ob), rows)


def outbox(conn: Connection, filters: dict[str, str], after: int, limit: int) -> list[dict]:
    stmt = select(ob).where(ob.c.id > after)
    for key in ("account", "region", "topic_arn", "subscription_arn", "protocol", "endpoint"):
        if filters.get(key):
            stmt = stmt.where(ob.c[key] == filters[key])
    return [dict(r) for r in conn.execute(stmt.order_by(ob.c.id).limit(limit)).mappings()]


def clear_outbox(tx: Tx) -> int:
    return tx.conn.execute(delete(ob)).rowcount


def add_deliveries(tx: Tx, rows: list[dict]) -> None:
    if rows:
        tx.conn.execute(insert(dl), rows)
        tx.wake("sns:deliveries")
