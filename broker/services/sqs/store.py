"""All SQL of SQS. Functions take a Tx (writes, run on the writer thread) or a Connection (reads)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, delete, func, insert, select, update

from broker.errors import ServiceError
from broker.services.sqs.validation import DEFAULTS
from broker.storage.db import Tx
from broker.storage.prepared import Prepared
from broker.storage.tables import sqs_messages as m
from broker.storage.tables import sqs_queue_tombstones as tomb
from broker.storage.tables import sqs_queues as q

DELETED_RECENTLY_MS = 60_000
PURGE_INTERVAL_MS = 60_000

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
]

_by_name = select(*_QUEUE_COLUMNS).where(
    and_(q.c.account == bindparam("account"), q.c.region == bindparam("region"), q.c.name == bindparam("name"))
)


def get_queue(conn: Connection, account: str, region: str, name: str) -> dict | None:
    row = conn.execute(_by_name, {"account": account, "region": region, "name": name}).mappings().first()
    return dict(row) if row else None


def create_queue(
    tx: Tx, account: str, region: str, name: str, attrs: dict[str, str], tags: dict[str, str], now: int
) -> tuple[dict, bool]:
    """Create the queue, or return the existing one if the given attributes match; (row, created)."""
    existing = get_queue(tx.conn, account, region, name)
    if existing is not None:
        current = {**DEFAULTS, **json.loads(existing["attributes"])}
        for k, v in attrs.items():
            if current.get(k) != v:
                raise ServiceError(
                    "QueueNameExists",
                    f"A queue already exists with the same name and a different value for attribute {k}",
                )
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
        raise ServiceError(
            "QueueDeletedRecently",
            "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
        )
    values = {
        "account": account,
        "region": region,
        "name": name,
        "fifo": False,
        "attributes": json.dumps(attrs),
        "tags": json.dumps(tags),
        "created_at": now,
        "modified_at": now,
        "purged_at": None,
    }
    qid = tx.conn.execute(insert(q).values(**values).returning(q.c.id)).scalar_one()
    return {**values, "id": qid}, True


def delete_queue(tx: Tx, queue: dict, now: int) -> None:
    """Drop the queue at once; its messages are removed in chunks by the sweep job (tombstone)."""
    tx.conn.execute(delete(q).where(q.c.id == queue["id"]))
    tx.conn.execute(
        insert(tomb).values(
            queue_id=queue["id"],
            account=queue["account"],
            region=queue["region"],
            name=queue["name"],
            deleted_at=now,
        )
    )


def set_attributes(tx: Tx, queue_id: int, changes: dict[str, str], now: int) -> dict[str, str]:
    row = tx.conn.execute(select(q.c.attributes).where(q.c.id == queue_id)).first()
    if row is None:
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
    attrs = json.loads(row[0])
    old_retention = attrs.get("MessageRetentionPeriod")
    attrs.update(changes)
    if "KmsMasterKeyId" in attrs and not attrs["KmsMasterKeyId"]:
        attrs.pop("KmsMasterKeyId")
        attrs.pop("KmsDataKeyReusePeriodSeconds", None)
    tx.conn.execute(update(q).where(q.c.id == queue_id).values(attributes=json.dumps(attrs), modified_at=now))
    new_retention = attrs.get("MessageRetentionPeriod")
    if new_retention != old_retention:
        # AWS applies a changed retention period to the messages already in the queue.
        tx.conn.execute(
            update(m).where(m.c.queue_id == queue_id).values(expires_at=m.c.sent_at + int(new_retention) * 1000)
        )
    return attrs


def get_tags(conn: Connection, queue_id: int) -> dict[str, str]:
    row = conn.execute(select(q.c.tags).where(q.c.id == queue_id)).first()
    return json.loads(row[0]) if row else {}


def change_tags(tx: Tx, queue_id: int, add: dict[str, str], remove: list[str]) -> None:
    row = tx.conn.execute(select(q.c.tags).where(q.c.id == queue_id)).first()
    if row is None:
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
    tags = json.loads(row[0])
    tags.update(add)
    for k in remove:
        tags.pop(k, None)
    if len(tags) > 50:
        raise ServiceError("InvalidParameterValue", "Too many tags added for queue. Maximum is 50.")
    tx.conn.execute(update(q).where(q.c.id == queue_id).values(tags=json.dumps(tags)))


def list_queues(conn: Connection, account: str, region: str, prefix: str, after: str | None, limit: int) -> list[str]:
    stmt = select(q.c.name).where(and_(q.c.account == account, q.c.region == region))
    if prefix:
        # substr, not LIKE: SQLite's LIKE ignores case, and queue names are case-sensitive.
        stmt = stmt.where(func.substr(q.c.name, 1, len(prefix)) == prefix)
    if after is not None:
        stmt = stmt.where(q.c.name > after)
    return list(conn.execute(stmt.order_by(q.c.name).limit(limit)).scalars())


def purge(tx: Tx, queue_id: int, now: int) -> None:
    last = tx.conn.execute(select(q.c.purged_at).where(q.c.id == queue_id)).scalar()
    if last is not None and now - last < PURGE_INTERVAL_MS:
        raise ServiceError(
            "PurgeQueueInProgress", "Only one PurgeQueue operation on each queue is allowed every 60 seconds."
        )
    tx.conn.execute(delete(m).where(and_(m.c.queue_id == queue_id, m.c.sent_at <= now)))
    tx.conn.execute(update(q).where(q.c.id == queue_id).values(purged_at=now))


def counts(conn: Connection, queue_id: int, now: int) -> dict[str, int]:
    """ApproximateNumberOfMessages(+NotVisible, +Delayed) from the visible_at model, in one pass."""
    hidden = m.c.visible_at > now
    row = conn.execute(
        select(
            func.count(case((~hidden, 1))),
            func.count(case((and_(hidden, m.c.receive_count > 0), 1))),
            func.count(case((and_(hidden, m.c.receive_count == 0), 1))),
        ).where(and_(m.c.queue_id == queue_id, m.c.expires_at > now))
    ).one()
    return {
        "ApproximateNumberOfMessages": row[0],
        "ApproximateNumberOfMessagesNotVisible": row[1],
        "ApproximateNumberOfMessagesDelayed": row[2],
    }


# -- messages ----------------------------------------------------------------------------------------------
MESSAGE_COLUMNS = [c.name for c in m.columns if c.name != "id"]
_insert = Prepared(insert(m), column_keys=MESSAGE_COLUMNS)


def insert_messages(tx: Tx, queue_id: int, rows: list[dict[str, Any]]) -> None:
    _insert.executemany(tx.conn, rows)
    tx.wake(f"sqs:{queue_id}")


_RETURNED = [
    m.c.id,
    m.c.message_id,
    m.c.body,
    m.c.attributes,
    m.c.system_attributes,
    m.c.md5_body,
    m.c.md5_attributes,
    m.c.md5_system_attributes,
    m.c.sender_id,
    m.c.sent_at,
    m.c.receive_count,
    m.c.first_received_at,
    m.c.receipt,
]


def _receive_statement(for_pg: bool):  # noqa: ANN202
    pick = (
        select(m.c.id)
        .where(
            and_(
                m.c.queue_id == bindparam("q"),
                m.c.visible_at <= bindparam("now"),
                m.c.expires_at > bindparam("now"),
            )
        )
        .order_by(m.c.visible_at)
        .limit(bindparam("n"))
    )
    if for_pg:
        pick = pick.with_for_update(skip_locked=True)
    return (
        update(m)
        .where(m.c.id.in_(pick.scalar_subquery()))
        .values(
            visible_at=bindparam("until"),
            receipt=bindparam("token"),
            receive_count=m.c.receive_count + 1,
            first_received_at=func.coalesce(m.c.first_received_at, bindparam("now")),
            received_at=bindparam("now"),
        )
        .returning(*_RETURNED)
    )


_receive_sqlite = Prepared(_receive_statement(False))
_receive_pg = Prepared(_receive_statement(True))


def receive(tx: Tx, queue_id: int, now: int, n: int, until: int, token: str) -> list[dict]:
    stmt = _receive_pg if tx.is_pg else _receive_sqlite
    out = stmt.fetch_dicts(tx.conn, {"q": queue_id, "now": now, "n": n, "until": until, "token": token})
    out.sort(key=lambda r: r["id"])
    return out


_has_visible = (
    select(m.c.id)
    .where(
        and_(
            m.c.queue_id == bindparam("q"),
            m.c.visible_at <= bindparam("now"),
            m.c.expires_at > bindparam("now"),
        )
    )
    .limit(1)
)
_next_due = select(func.min(m.c.visible_at)).where(
    and_(m.c.queue_id == bindparam("q"), m.c.visible_at > bindparam("now"))
)


def has_visible(conn: Connection, queue_id: int, now: int) -> bool:
    return conn.execute(_has_visible, {"q": queue_id, "now": now}).first() is not None


def next_due(conn: Connection, queue_id: int, now: int) -> int | None:
    return conn.execute(_next_due, {"q": queue_id, "now": now}).scalar()


_delete = Prepared(
    delete(m).where(and_(m.c.id == bindparam("id"), m.c.queue_id == bindparam("q"), m.c.receipt == bindparam("token")))
)


def delete_messages(tx: Tx, queue_id: int, handles: list[tuple[int, str]]) -> None:
    """Delete by (row id, receipt token). A stale or already-used handle deletes nothing, as on AWS."""
    _delete.executemany(tx.conn, [{"id": i, "q": queue_id, "token": t} for i, t in handles])


VISIBILITY_LIMIT_MS = 43_200_000


def change_visibility(tx: Tx, queue_id: int, entries: list[tuple[int, str, int]], now: int) -> list[str | None]:
    """Set visible_at = now + timeout for in-flight messages; per entry None or an error code."""
    results: list[str | None] = []
    woke = False
    for row_id, _token, timeout_s in entries:
        # By message, not by the latest receipt token: AWS accepts an older handle of a message in flight.
        row = tx.conn.execute(
            select(m.c.visible_at, m.c.received_at).where(and_(m.c.id == row_id, m.c.queue_id == queue_id))
        ).first()
        if row is None:
            results.append("gone")
            continue
        visible_at, received_at = row
        if visible_at <= now:
            results.append("not-inflight")
            continue
        if received_at is not None and now + timeout_s * 1000 - received_at > VISIBILITY_LIMIT_MS:
            results.append("too-long")
            continue
        tx.conn.execute(update(m).where(m.c.id == row_id).values(visible_at=now + timeout_s * 1000))
        woke = woke or timeout_s == 0
        results.append(None)
    if woke:
        tx.wake(f"sqs:{queue_id}")
    return results


# -- sweeping ----------------------------------------------------------------------------------------------
def sweep_expired(tx: Tx, now: int, limit: int) -> int:
    ids = select(m.c.id).where(m.c.expires_at <= now).limit(limit).scalar_subquery()
    return tx.conn.execute(delete(m).where(m.c.id.in_(ids))).rowcount


def sweep_deleted_queues(tx: Tx, now: int, limit: int) -> int:
    """Remove messages of deleted queues in chunks; forget tombstones once empty and older than 60 s."""
    removed = 0
    for (qid,) in tx.conn.execute(select(tomb.c.queue_id)).all():
        ids = select(m.c.id).where(m.c.queue_id == qid).limit(limit).scalar_subquery()
        n = tx.conn.execute(delete(m).where(m.c.id.in_(ids))).rowcount
        removed += n
        if n < limit:
            tx.conn.execute(
                delete(tomb).where(and_(tomb.c.queue_id == qid, tomb.c.deleted_at <= now - DELETED_RECENTLY_MS))
            )
        if removed >= limit:
            break
    return removed
