"""SQL of SNS topics, subscriptions, FIFO sequence numbers, deduplication and archive, the outbox and SNS's
broker_state rows (replay progress, the signing key). Functions take a Tx (writes, on the writer thread) or a
Connection (reads). HTTP/S deliveries: delivery_store.py; mobile push and SMS: mobile_store.py."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from broker.services.sns import delivery_store
from broker.services.sns.errors import (
    invalid_parameter,
    resource_not_found,
    subscription_not_found,
    tag_limit_exceeded,
    topic_not_found,
)
from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore, upsert
from broker.storage.tables import broker_state as bs
from broker.storage.tables import sns_archive as ar
from broker.storage.tables import sns_fifo_dedup as dd
from broker.storage.tables import sns_outbox as ob
from broker.storage.tables import sns_subscriptions as s
from broker.storage.tables import sns_topics as t
from broker.tags import changed

DAY_MS = 86_400_000
SWEEP_WAKE_KEY = "sns:sweep"  # woken when work for the sweep may be due sooner than it knew (see next_sweep_due)

DEDUP_WINDOW_MS = 300_000
PAGE = 100

Row = dict[str, Any]  # a table row as a plain dict (column name -> value)


# -- topics ----------------------------------------------------------------------------------------------------
def get_topic(conn: Connection, arn: str) -> Row | None:
    row = conn.execute(select(t).where(t.c.arn == arn)).mappings().first()
    return dict(row) if row else None


def create_topic(
    tx: Tx,
    arn: str,
    account: str,
    region: str,
    name: str,
    fifo: bool,
    attrs: dict[str, str],
    tags: dict[str, str],
    now: int,
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
    if "ArchivePolicy" in changes:
        tx.wake(SWEEP_WAKE_KEY)  # a shorter retention may make archived messages due now


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
    last: int = row[0]
    return last - count + 1


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


def archive(tx: Tx, topic_id: int, seq: int, message_id: str, now: int, payload: dict[str, Any]) -> None:
    tx.conn.execute(
        insert(ar).values(
            topic_id=topic_id, seq=seq, message_id=message_id, published_at=now, payload=json.dumps(payload)
        )
    )


def archived(conn: Connection, topic_id: int, start: int, end: int | None, after_seq: int, limit: int) -> list[Row]:
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


def archive_retention_ms(attrs: str) -> int:
    """How long a FIFO topic (its attributes' JSON) keeps archived messages: nothing without an ArchivePolicy."""
    policy = json.loads(attrs).get("ArchivePolicy")
    return int(json.loads(policy)["MessageRetentionPeriod"]) * DAY_MS if policy and policy != "{}" else 0


def next_sweep_due(conn: Connection) -> int | None:
    """When the sweep next has work (ms; None: none pending): the first deduplication id to expire, the first
    archived message past its topic's retention. Later ones come at least 5 minutes on (deduplication) or days
    (archives), so the scheduler's recheck sees them in time; a changed ArchivePolicy wakes the sweep."""
    times = [conn.execute(select(func.min(dd.c.expires_at))).scalar()]
    for topic_id, attrs in archiving_topics(conn):
        first = conn.execute(select(func.min(ar.c.published_at)).where(ar.c.topic_id == topic_id)).scalar()
        if first is not None:
            times.append(first + archive_retention_ms(attrs) + 1)
    return min((x for x in times if x is not None), default=None)


# -- subscriptions -------------------------------------------------------------------------------------------------
def get_subscription(conn: Connection, arn: str) -> Row | None:
    row = conn.execute(select(s).where(s.c.arn == arn)).mappings().first()
    return dict(row) if row else None


def topic_subscriptions(conn: Connection, topic_arn: str) -> list[Row]:
    return [dict(r) for r in conn.execute(select(s).where(s.c.topic_arn == topic_arn).order_by(s.c.id)).mappings()]


def add_subscription(tx: Tx, values: dict[str, Any]) -> None:
    if tx.conn.execute(select(t.c.id).where(t.c.arn == values["topic_arn"])).first() is None:
        raise topic_not_found()
    tx.conn.execute(insert(s).values(**values))


def delete_subscription(tx: Tx, arn: str) -> Row | None:
    row = get_subscription(tx.conn, arn)
    if row is not None:
        tx.conn.execute(delete(s).where(s.c.arn == arn))
        delivery_store.drop_subscription(tx, arn)
    return row


def set_subscription_attributes(tx: Tx, arn: str, attrs: dict[str, str]) -> None:
    if tx.conn.execute(update(s).where(s.c.arn == arn).values(attributes=json.dumps(attrs))).rowcount == 0:
        raise subscription_not_found()


# Kept in a subscription's attributes when a signed ConfirmSubscription asked for it: Unsubscribe must be signed.
AUTHENTICATE_ON_UNSUBSCRIBE = "AuthenticateOnUnsubscribe"


def confirm(tx: Tx, topic_arn: str, token: str, authenticate_on_unsubscribe: bool = False) -> Row | None:
    row = tx.conn.execute(select(s).where(and_(s.c.topic_arn == topic_arn, s.c.token == token))).mappings().first()
    if row is None:
        return None
    values: dict[str, Any] = {"confirmed": True}
    if authenticate_on_unsubscribe:
        values["attributes"] = json.dumps({**json.loads(row["attributes"]), AUTHENTICATE_ON_UNSUBSCRIBE: "true"})
    tx.conn.execute(update(s).where(s.c.id == row["id"]).values(**values))
    return {**row, **values}


def list_subscriptions(conn: Connection, owner: str | None, topic_arn: str | None, after: int) -> list[Row]:
    stmt = select(s).where(s.c.id > after)
    if owner is not None:
        stmt = stmt.where(s.c.owner == owner)
    if topic_arn is not None:
        stmt = stmt.where(s.c.topic_arn == topic_arn)
    return [dict(r) for r in conn.execute(stmt.order_by(s.c.id).limit(PAGE + 1)).mappings()]


# -- deliveries that leave the process ------------------------------------------------------------------------------
def outbox_row(
    account: str,
    region: str,
    protocol: str,
    endpoint: str,
    message: dict[str, Any],
    now: int,
    topic_arn: str | None = None,
    subscription_arn: str | None = None,
) -> Row:
    """What would have been sent (read back through /_broker/sns/outbox): a topic's email, email-json, SMS or push
    delivery, or a direct SMS or push publish (no topic, no subscription)."""
    return {
        "created_at": now,
        "account": account,
        "region": region,
        "topic_arn": topic_arn,
        "subscription_arn": subscription_arn,
        "protocol": protocol,
        "endpoint": endpoint,
        "message": json.dumps(message, ensure_ascii=False),
    }


def add_outbox(tx: Tx, rows: list[Row]) -> None:
    if rows:
        tx.conn.execute(insert(ob), rows)


def outbox(conn: Connection, filters: dict[str, str], after: int, limit: int) -> list[Row]:
    stmt = select(ob).where(ob.c.id > after)
    for key in ("account", "region", "topic_arn", "subscription_arn", "protocol", "endpoint"):
        if filters.get(key):
            stmt = stmt.where(ob.c[key] == filters[key])
    return [dict(r) for r in conn.execute(stmt.order_by(ob.c.id).limit(limit)).mappings()]


def clear_outbox(tx: Tx) -> int:
    return tx.conn.execute(delete(ob)).rowcount


# -- broker_state rows: replay progress, the signing key ------------------------------------------------------------
REPLAY_PREFIX = "sns.replay."  # + subscription ARN
SIGNING_KEY = "sns.signing"  # kept by /_broker/reset, so that no worker is left with a stale key


class ReplayState(TypedDict):
    topic_arn: str
    start: int  # ms: the archive window
    end: int | None
    after: int  # the last sequence number replayed
    status: str  # Pending, In progress, Completed
    base_url: str  # for the notifications' URLs


def replay_state(conn: Connection, sub_arn: str) -> ReplayState | None:
    value = conn.execute(select(bs.c.value).where(bs.c.key == REPLAY_PREFIX + sub_arn)).scalar()
    if not value:
        return None
    state: ReplayState = json.loads(value)
    return state


def save_replay(tx: Tx, sub_arn: str, state: ReplayState) -> None:
    upsert(tx.conn, bs, {"key": REPLAY_PREFIX + sub_arn, "value": json.dumps(state)}, ["key"])


def delete_replay(tx: Tx, sub_arn: str) -> None:
    tx.conn.execute(delete(bs).where(bs.c.key == REPLAY_PREFIX + sub_arn))


def replays(conn: Connection, arn_prefix: str = "") -> list[tuple[str, ReplayState]]:
    """(subscription ARN, state) of the replays whose subscription ARN starts with `arn_prefix`."""
    prefix = REPLAY_PREFIX + arn_prefix
    rows = conn.execute(select(bs.c.key, bs.c.value).where(and_(bs.c.key >= prefix, bs.c.key < prefix + "\uffff")))
    return [(key[len(REPLAY_PREFIX) :], json.loads(value)) for key, value in rows]


def signing_material(conn: Connection) -> str | None:
    material: str | None = conn.execute(select(bs.c.value).where(bs.c.key == SIGNING_KEY)).scalar()
    return material


def keep_signing_material(tx: Tx, material: str) -> None:
    insert_ignore(tx.conn, bs, {"key": SIGNING_KEY, "value": material})  # the first worker's key wins
