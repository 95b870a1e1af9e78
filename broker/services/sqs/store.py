"""SQL of SQS queue definitions: creating, reading, changing and deleting queues, their tags, their listings and
their dead-letter sources. Functions take a Tx (writes, run on the writer thread) or a Connection (reads).

The other store modules: messages (`message_store.py`), FIFO sequence numbers and deduplication (`fifo_store.py`),
receives (`receive_store.py`), chunked removals and rewrites (`sweep_store.py`), move tasks (`move_store.py`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from broker.services.sqs.errors import (
    queue_deleted_recently,
    queue_does_not_exist,
    queue_name_exists,
    too_many_tags,
)
from broker.services.sqs.sweep_store import DELETED_RECENTLY_MS, WAKE_KEY, change_retention
from broker.services.sqs.validation import DEFAULTS, FIFO_DEFAULTS
from broker.storage.db import Tx
from broker.storage.tables import sqs_queue_tombstones as tomb
from broker.storage.tables import sqs_queues as q
from broker.tags import changed

_QUEUE_COLUMNS = [
    q.c.id,
    q.c.account,
    q.c.region,
    q.c.name,
    q.c.fifo,
    q.c.attributes,
    q.c.created_at,
    q.c.modified_at,
    q.c.purged_at,
    q.c.dlq_arn,
]

_by_name = select(*_QUEUE_COLUMNS).where(
    and_(q.c.account == bindparam("account"), q.c.region == bindparam("region"), q.c.name == bindparam("name"))
)


def get_queue(conn: Connection, account: str, region: str, name: str) -> dict[str, Any] | None:
    row = conn.execute(_by_name, {"account": account, "region": region, "name": name}).mappings().first()
    return dict(row) if row else None


def queue_exists(conn: Connection, queue_id: int) -> bool:
    return conn.execute(select(q.c.id).where(q.c.id == queue_id)).first() is not None


def _dlq_arn(attrs: dict[str, str]) -> str | None:
    policy = attrs.get("RedrivePolicy")
    arn: str | None = json.loads(policy)["deadLetterTargetArn"] if policy else None
    return arn


def create_queue(
    tx: Tx,
    account: str,
    region: str,
    name: str,
    attrs: dict[str, str],
    tags: dict[str, str],
    now: int,
    fifo: bool = False,
) -> tuple[dict[str, Any], bool]:
    """Create the queue, or return the existing one if the given attributes match; (row, created)."""
    existing = get_queue(tx.conn, account, region, name)
    if existing is not None:
        defaults = {**DEFAULTS, **(FIFO_DEFAULTS if existing["fifo"] else {})}
        current = {**defaults, **json.loads(existing["attributes"])}
        for k, v in attrs.items():
            if current.get(k) != v:
                raise queue_name_exists(k)
        return existing, False
    recent = tx.conn.execute(
        select(tomb.c.queue_id)
        .where(
            and_(
                tomb.c.account == account,
                tomb.c.region == region,
                tomb.c.name == name,
                tomb.c.deleted_at > now - DELETED_RECENTLY_MS,
            )
        )
        .limit(1)
    ).first()
    if recent is not None:
        raise queue_deleted_recently()
    values = {
        "account": account,
        "region": region,
        "name": name,
        "fifo": fifo,
        "attributes": json.dumps({k: v for k, v in attrs.items() if v != ""}),
        "dlq_arn": _dlq_arn(attrs),
        "tags": json.dumps(tags),
        "created_at": now,
        "modified_at": now,
        "purged_at": None,
    }
    mod = pg_dialect if tx.is_pg else sqlite_dialect
    qid = tx.conn.execute(mod.insert(q).values(**values).on_conflict_do_nothing().returning(q.c.id)).scalar()
    if qid is None:  # created concurrently by another node since we looked: compare with that one
        return create_queue(tx, account, region, name, attrs, tags, now, fifo)
    return {**values, "id": qid}, True


def delete_queue(tx: Tx, queue_id: int, account: str, region: str, name: str, now: int) -> None:
    """Drop the queue at once; its messages are removed in chunks by the sweep job (tombstone)."""
    if tx.conn.execute(delete(q).where(q.c.id == queue_id)).rowcount == 0:
        raise queue_does_not_exist()
    tx.conn.execute(insert(tomb).values(queue_id=queue_id, account=account, region=region, name=name, deleted_at=now))
    tx.wake(WAKE_KEY)  # its messages go at once (the sweep)


def set_attributes(tx: Tx, queue_id: int, changes: dict[str, str], now: int) -> dict[str, str]:
    row = tx.conn.execute(select(q.c.attributes).where(q.c.id == queue_id)).first()
    if row is None:
        raise queue_does_not_exist()
    attrs: dict[str, str] = json.loads(row[0])
    old_retention = attrs.get("MessageRetentionPeriod")
    attrs.update(changes)
    for name in ("KmsMasterKeyId", "Policy", "RedrivePolicy", "RedriveAllowPolicy"):
        if name in attrs and attrs[name] == "":
            attrs.pop(name)  # an empty value removes the attribute
            if name == "KmsMasterKeyId":
                attrs.pop("KmsDataKeyReusePeriodSeconds", None)
    tx.conn.execute(
        update(q)
        .where(q.c.id == queue_id)
        .values(attributes=json.dumps(attrs), modified_at=now, dlq_arn=_dlq_arn(attrs))
    )
    new_retention = attrs.get("MessageRetentionPeriod")
    if new_retention is not None and new_retention != old_retention:  # (changes never remove the retention)
        change_retention(tx, queue_id, int(new_retention))
    return attrs


def get_tags(conn: Connection, queue_id: int) -> dict[str, str]:
    row = conn.execute(select(q.c.tags).where(q.c.id == queue_id)).first()
    tags: dict[str, str] = json.loads(row[0]) if row else {}
    return tags


def change_tags(tx: Tx, queue_id: int, add: dict[str, str], remove: list[str]) -> None:
    row = tx.conn.execute(select(q.c.tags).where(q.c.id == queue_id)).first()
    if row is None:
        raise queue_does_not_exist()
    tags = changed(json.loads(row[0]), add, remove, 50, too_many_tags)
    tx.conn.execute(update(q).where(q.c.id == queue_id).values(tags=json.dumps(tags)))


def list_queues(conn: Connection, account: str, region: str, prefix: str, after: str | None, limit: int) -> list[str]:
    stmt = select(q.c.name).where(and_(q.c.account == account, q.c.region == region))
    if prefix:
        # substr, not LIKE: SQLite's LIKE ignores case, and queue names are case-sensitive.
        stmt = stmt.where(func.substr(q.c.name, 1, len(prefix)) == prefix)
    if after is not None:
        stmt = stmt.where(q.c.name > after)
    return list(conn.execute(stmt.order_by(q.c.name).limit(limit)).scalars())


def dead_letter_sources(
    conn: Connection, account: str, region: str, arn: str, after: str | None, limit: int
) -> list[str]:
    stmt = select(q.c.name).where(and_(q.c.dlq_arn == arn, q.c.account == account, q.c.region == region))
    if after is not None:
        stmt = stmt.where(q.c.name > after)
    return list(conn.execute(stmt.order_by(q.c.name).limit(limit)).scalars())


def has_dead_letter_sources(conn: Connection, arn: str) -> bool:
    return conn.execute(select(q.c.id).where(q.c.dlq_arn == arn).limit(1)).first() is not None
