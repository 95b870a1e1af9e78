"""All SQL of SQS. Functions take a Tx (writes, run on the writer thread) or a Connection (reads)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from broker import ids
from broker.errors import ServiceError
from broker.services.sqs.errors import resource_not_found as not_found
from broker.services.sqs.errors import too_many_tags
from broker.services.sqs.validation import DEFAULTS, FIFO_DEFAULTS
from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.prepared import Prepared
from broker.storage.tables import broker_state as bs
from broker.storage.tables import sqs_fifo_dedup as dd
from broker.storage.tables import sqs_messages as m
from broker.storage.tables import sqs_move_tasks as mt
from broker.storage.tables import sqs_queue_tombstones as tomb
from broker.storage.tables import sqs_queues as q
from broker.storage.tables import sqs_receive_attempts as ra
from broker.tags import changed

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
    q.c.dlq_arn,
]

_by_name = select(*_QUEUE_COLUMNS).where(
    and_(q.c.account == bindparam("account"), q.c.region == bindparam("region"), q.c.name == bindparam("name"))
)


def get_queue(conn: Connection, account: str, region: str, name: str) -> dict | None:
    row = conn.execute(_by_name, {"account": account, "region": region, "name": name}).mappings().first()
    return dict(row) if row else None


def _dlq_arn(attrs: dict[str, str]) -> str | None:
    policy = attrs.get("RedrivePolicy")
    return json.loads(policy)["deadLetterTargetArn"] if policy else None


def create_queue(
    tx: Tx,
    account: str,
    region: str,
    name: str,
    attrs: dict[str, str],
    tags: dict[str, str],
    now: int,
    fifo: bool = False,
) -> tuple[dict, bool]:
    """Create the queue, or return the existing one if the given attributes match; (row, created)."""
    existing = get_queue(tx.conn, account, region, name)
    if existing is not None:
        defaults = {**DEFAULTS, **(FIFO_DEFAULTS if existing["fifo"] else {})}
        current = {**defaults, **json.loads(existing["attributes"])}
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


def delete_queue(tx: Tx, queue: dict, now: int) -> None:
    """Drop the queue at once; its messages are removed in chunks by the sweep job (tombstone)."""
    if tx.conn.execute(delete(q).where(q.c.id == queue["id"])).rowcount == 0:
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
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
    if new_retention != old_retention:
        # AWS applies a changed retention period to the messages already in the queue: the first chunk now, the
        # rest by the sweep job.
        last = _retention_chunk(tx, queue_id, int(new_retention), -1, REWRITE_CHUNK)
        if last is not None:
            upsert(tx.conn, bs, {"key": f"{_RETENTION}{queue_id}", "value": str(last)}, ["key"])
    return attrs


def get_tags(conn: Connection, queue_id: int) -> dict[str, str]:
    row = conn.execute(select(q.c.tags).where(q.c.id == queue_id)).first()
    return json.loads(row[0]) if row else {}


def change_tags(tx: Tx, queue_id: int, add: dict[str, str], remove: list[str]) -> None:
    row = tx.conn.execute(select(q.c.tags).where(q.c.id == queue_id)).first()
    if row is None:
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
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


def purge(tx: Tx, queue_id: int, now: int) -> None:
    last = tx.conn.execute(select(q.c.purged_at).where(q.c.id == queue_id)).scalar()
    if last is not None and now - last < PURGE_INTERVAL_MS:
        raise ServiceError(
            "PurgeQueueInProgress", "Only one PurgeQueue operation on each queue is allowed every 60 seconds."
        )
    tx.conn.execute(update(q).where(q.c.id == queue_id).values(purged_at=now))
    tx.conn.execute(delete(dd).where(dd.c.queue_id == queue_id))  # a purge also forgets FIFO deduplication
    if _purge_chunk(tx, queue_id, now + 1, REWRITE_CHUNK) == REWRITE_CHUNK:
        # The rest goes in the background: all sent before this millisecond. Those sent within it go now (they
        # are all visible from now on, a short range of the visibility index), so that a message sent right
        # after the purge, in the same millisecond, is never taken for one sent before it.
        tx.conn.execute(delete(m).where(and_(m.c.queue_id == queue_id, m.c.visible_at >= now, m.c.sent_at == now)))
        upsert(tx.conn, bs, {"key": f"{_PURGING}{queue_id}", "value": str(now)}, ["key"])


# A large purge or retention change is finished in chunks by the sweep job, so that no request holds the writer
# for a whole queue. AWS allows itself 60 s to purge and up to 15 minutes to apply a new retention period.
REWRITE_CHUNK = 5000
_PURGING = "sqs.purging."  # broker_state key + queue id -> the purge time: messages sent before it go
_RETENTION = "sqs.retention."  # broker_state key + queue id -> the last message id already given the new expiry


def _purge_chunk(tx: Tx, queue_id: int, before: int, limit: int) -> int:
    ids = select(m.c.id).where(and_(m.c.queue_id == queue_id, m.c.sent_at < before)).limit(limit).scalar_subquery()
    return tx.conn.execute(delete(m).where(m.c.id.in_(ids))).rowcount


def _retention_chunk(tx: Tx, queue_id: int, retention_s: int, after: int, limit: int) -> int | None:
    """Give the next `limit` messages (by id) the queue's retention; returns the last id done, None at the end."""
    ids = tx.conn.execute(
        select(m.c.id).where(and_(m.c.queue_id == queue_id, m.c.id > after)).order_by(m.c.id).limit(limit)
    ).scalars()
    ids = list(ids)
    if ids:
        tx.conn.execute(
            update(m)
            .where(and_(m.c.queue_id == queue_id, m.c.id > after, m.c.id <= ids[-1]))
            .values(expires_at=m.c.sent_at + retention_s * 1000)
        )
    return ids[-1] if len(ids) == limit else None


def sweep_rewrites(tx: Tx, now: int, limit: int) -> int:
    """One chunk of a pending purge or retention change; returns the rows touched (0: nothing pending)."""
    row = tx.conn.execute(
        select(bs.c.key, bs.c.value).where(or_(bs.c.key.startswith(_PURGING), bs.c.key.startswith(_RETENTION))).limit(1)
    ).first()
    if row is None:
        return 0
    key, value = row
    queue_id = int(key.rsplit(".", 1)[1])
    attrs = tx.conn.execute(select(q.c.attributes).where(q.c.id == queue_id)).scalar()
    done, touched = True, 0
    if attrs is not None and key.startswith(_PURGING):
        touched = _purge_chunk(tx, queue_id, int(value), limit)
        done = touched < limit
    elif attrs is not None:
        retention = int(json.loads(attrs).get("MessageRetentionPeriod", DEFAULTS["MessageRetentionPeriod"]))
        last = _retention_chunk(tx, queue_id, retention, int(value), limit)
        if last is not None:
            tx.conn.execute(update(bs).where(bs.c.key == key).values(value=str(last)))
        touched, done = limit, last is None
    if done:
        tx.conn.execute(delete(bs).where(bs.c.key == key))
    return max(touched, 1)


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


def insert_rows(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Insert messages of any number of (standard) queues at once; wakes each queue's waiters."""
    _insert.executemany(tx.conn, rows)
    for queue_id in {r["queue_id"] for r in rows}:
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
    m.c.group_id,
    m.c.dedup_id,
    m.c.seq,
    m.c.source_arn,
]


# What a receive sets on each message it hands out.
_RECEIVED = {
    "visible_at": bindparam("until"),
    "receipt": bindparam("token"),
    "receive_count": m.c.receive_count + 1,
    "first_received_at": func.coalesce(m.c.first_received_at, bindparam("now")),
    "received_at": bindparam("now"),
}


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
    return update(m).where(m.c.id.in_(pick.scalar_subquery())).values(**_RECEIVED).returning(*_RETURNED)


_receive_sqlite = Prepared(_receive_statement(False))
_receive_pg = Prepared(_receive_statement(True))


def receive(tx: Tx, queue_id: int, now: int, n: int, until: int, token: str) -> list[dict]:
    stmt = _receive_pg if tx.is_pg else _receive_sqlite
    out = stmt.fetch_dicts(tx.conn, {"q": queue_id, "now": now, "n": n, "until": until, "token": token})
    out.sort(key=lambda r: r["id"])
    return out


_next_due = select(func.min(m.c.visible_at)).where(
    and_(m.c.queue_id == bindparam("q"), m.c.visible_at > bindparam("now"))
)


def next_due(conn: Connection, queue_id: int, now: int) -> int | None:
    return conn.execute(_next_due, {"q": queue_id, "now": now}).scalar()


_delete = Prepared(
    delete(m).where(and_(m.c.id == bindparam("id"), m.c.queue_id == bindparam("q"), m.c.receipt == bindparam("token")))
)


def delete_messages(tx: Tx, queue_id: int, handles: list[tuple[int, str]]) -> None:
    """Delete by (row id, receipt token). A stale or already-used handle deletes nothing, as on AWS."""
    _delete.executemany(tx.conn, [{"id": i, "q": queue_id, "token": t} for i, t in handles])


_delete_in_flight = Prepared(
    delete(m).where(
        and_(
            m.c.id == bindparam("id"),
            m.c.queue_id == bindparam("q"),
            m.c.receipt == bindparam("token"),
            m.c.visible_at > bindparam("now"),
        )
    )
)
_exists = Prepared(select(m.c.id).where(and_(m.c.id == bindparam("id"), m.c.queue_id == bindparam("q"))))


def delete_fifo(tx: Tx, queue_id: int, handles: list[tuple[int, str]], now: int) -> list[bool]:
    """FIFO delete: a handle whose visibility ran out (or that was superseded) has expired and deletes nothing.
    Per handle True if expired. A delete frees the message's group for waiting receivers."""
    deleted = _delete_in_flight.executemany(
        tx.conn, [{"id": i, "q": queue_id, "token": t, "now": now} for i, t in handles]
    )
    tx.wake(f"sqs:{queue_id}")
    if deleted == len(handles):
        return [False] * len(handles)
    # Some were not deleted: those still present have an expired handle; absent ones were deleted (now or
    # before, which succeeds on AWS too).
    return [bool(_fetch(_exists, tx, {"id": i, "q": queue_id})) for i, _t in handles]


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
        changed = tx.conn.execute(
            update(m).where(and_(m.c.id == row_id, m.c.visible_at > now)).values(visible_at=now + timeout_s * 1000)
        ).rowcount
        if not changed:
            results.append("not-inflight")
            continue
        woke = woke or now + timeout_s * 1000 < visible_at
        results.append(None)
    if woke:
        tx.wake(f"sqs:{queue_id}")
    return results


# -- sweeping ----------------------------------------------------------------------------------------------
def sweep_expired(tx: Tx, now: int, limit: int) -> int:
    ids = select(m.c.id).where(m.c.expires_at <= now).limit(limit).scalar_subquery()
    n = tx.conn.execute(delete(m).where(m.c.id.in_(ids))).rowcount
    tx.conn.execute(delete(dd).where(dd.c.expires_at <= now))
    tx.conn.execute(delete(ra).where(ra.c.expires_at <= now))
    return n


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


# -- FIFO --------------------------------------------------------------------------------------------------
DEDUP_WINDOW_MS = 300_000
ATTEMPT_WINDOW_MS = 300_000
SEQ_BASE = 18_000_000_000_000_000_000  # SequenceNumbers are 20-digit decimal strings, like AWS's


def sequence_number(seq: int) -> str:
    return str(SEQ_BASE + seq)


_dedup_hit = Prepared(
    select(dd.c.message_id, dd.c.seq).where(
        and_(
            dd.c.queue_id == bindparam("q"),
            dd.c.scope == bindparam("scope"),
            dd.c.dedup_id == bindparam("dedup"),
            dd.c.expires_at > bindparam("now"),
        )
    )
)
_seq_alloc = Prepared(update(q).where(q.c.id == bindparam("q")).values(seq=q.c.seq + bindparam("k")).returning(q.c.seq))


def _dedup_upsert(dialect) -> Prepared:  # noqa: ANN001
    stmt = dialect.insert(dd).values(
        queue_id=bindparam("queue_id"),
        scope=bindparam("scope"),
        dedup_id=bindparam("dedup_id"),
        message_id=bindparam("message_id"),
        seq=bindparam("seq"),
        expires_at=bindparam("expires_at"),
    )
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["queue_id", "scope", "dedup_id"],
            set_={
                "message_id": stmt.excluded.message_id,
                "seq": stmt.excluded.seq,
                "expires_at": stmt.excluded.expires_at,
            },
        )
    )


_dedup_upsert_sqlite = _dedup_upsert(sqlite_dialect)
_dedup_upsert_pg = _dedup_upsert(pg_dialect)


def _allocate_seqs(tx: Tx, queue_id: int, count: int) -> int:
    """Reserve `count` sequence numbers of the queue; returns the first."""
    cur = _seq_alloc.execute(tx.conn, {"q": queue_id, "k": count})
    row = cur.fetchone()
    cur.close()
    if row is None:
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
    return row[0] - count + 1


_lock_queue = Prepared(select(q.c.id).where(q.c.id == bindparam("q")).with_for_update())


def lock_fifo_queue(tx: Tx, queue_id: int) -> None:
    """On PostgreSQL, serialize the FIFO work of one queue across nodes (deduplication, attempts, group order)
    by locking its row first; SQLite transactions are serialized already."""
    if tx.is_pg and not _fetch(_lock_queue, tx, {"q": queue_id}):
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")


def insert_fifo(tx: Tx, queue_id: int, rows: list[dict[str, Any]], group_scope: bool, now: int) -> list[tuple]:
    """Insert FIFO messages within the 5-minute deduplication window.

    Returns per row (message_id, seq, duplicate): a duplicate answers with the original message and is not
    enqueued again."""
    lock_fifo_queue(tx, queue_id)
    results: list[tuple] = []
    fresh: list[dict] = []
    seen: dict[tuple[str, str], dict] = {}
    for row in rows:
        scope = row["group_id"] if group_scope else ""
        key = (scope, row["dedup_id"])
        if key in seen:  # a duplicate within this very batch
            results.append(("batch", seen[key]))
            continue
        cur = _dedup_hit.execute(tx.conn, {"q": queue_id, "scope": scope, "dedup": row["dedup_id"], "now": now})
        hit = cur.fetchone()
        cur.close()
        if hit is not None:
            results.append((hit[0], hit[1], True))
            continue
        seen[key] = row
        fresh.append(row)
        results.append(("new", row))
    if fresh:
        first = _allocate_seqs(tx, queue_id, len(fresh))
        for k, row in enumerate(fresh):
            row["seq"] = first + k
        upsert_dedup = _dedup_upsert_pg if tx.is_pg else _dedup_upsert_sqlite
        upsert_dedup.executemany(
            tx.conn,
            [
                {
                    "queue_id": queue_id,
                    "scope": row["group_id"] if group_scope else "",
                    "dedup_id": row["dedup_id"],
                    "message_id": row["message_id"],
                    "seq": row["seq"],
                    "expires_at": now + DEDUP_WINDOW_MS,
                }
                for row in fresh
            ],
        )
        _insert.executemany(tx.conn, fresh)
        tx.wake(f"sqs:{queue_id}")
    out = []
    for r in results:
        if r[0] == "new":
            out.append((r[1]["message_id"], r[1]["seq"], False))
        elif r[0] == "batch":
            out.append((r[1]["message_id"], r[1]["seq"], True))
        else:
            out.append(r)
    return out


# -- receiving with FIFO groups and dead-letter redrive ---------------------------------------------------
_pick_standard = Prepared(
    text(
        "SELECT id, receive_count FROM sqs_messages WHERE queue_id = :q AND visible_at <= :now AND expires_at > :now "
        "ORDER BY visible_at LIMIT :n"
    )
)
_pick_standard_pg = Prepared(
    text(
        "SELECT id, receive_count FROM sqs_messages WHERE queue_id = :q AND visible_at <= :now AND expires_at > :now "
        "ORDER BY visible_at LIMIT :n FOR UPDATE SKIP LOCKED"
    )
)
# FIFO: for each group, the lowest sequence number in flight; a message behind it waits.
_fifo_blocked = Prepared(
    text(
        "SELECT group_id, MIN(seq) FROM sqs_messages WHERE queue_id = :q AND visible_at > :now AND receive_count > 0 "
        "AND group_id IS NOT NULL GROUP BY group_id"
    )
)
_mark_received = Prepared(update(m).where(m.c.id == bindparam("rid")).values(**_RECEIVED).returning(*_RETURNED))


def _fetch(prepared: Prepared, tx: Tx, params: dict) -> list[tuple]:
    cur = prepared.execute(tx.conn, params)
    rows = cur.fetchall()
    cur.close()
    return rows


_FIFO_COLUMNS = (m.c.id, m.c.receive_count, m.c.group_id, m.c.seq)
# Candidates in sequence order; "visible_at + 0" keeps SQLite on the (queue_id, seq) index for the ORDER BY.
_fifo_candidates = Prepared(
    select(*_FIFO_COLUMNS)
    .where(
        and_(
            m.c.queue_id == bindparam("q"),
            m.c.visible_at + 0 <= bindparam("now"),
            m.c.expires_at > bindparam("now"),
            m.c.seq > bindparam("after"),
        )
    )
    .order_by(m.c.seq)
    .limit(bindparam("lim"))
)
FIFO_QUICK_PAGES = 2
# The next messages of one group, in order, from its first deliverable one (the (queue_id, group_id, seq) index).
_fifo_group = Prepared(
    select(m.c.id, m.c.receive_count, m.c.visible_at)
    .where(
        and_(
            m.c.queue_id == bindparam("q"),
            m.c.group_id == bindparam("g"),
            m.c.seq >= bindparam("first"),
            m.c.expires_at > bindparam("now"),
        )
    )
    .order_by(m.c.seq)
    .limit(bindparam("lim"))
)


def _group_heads(tx: Tx, queue_id: int, now: int, n: int, blocked: dict) -> list[tuple]:
    """(id, receive_count, group, seq) of the first deliverable message of up to n groups, in queue order."""

    def eligible(row: tuple) -> bool:
        return row[2] not in blocked or row[3] < blocked[row[2]]

    page = max(100, n * 20)
    rows: list[tuple] = []
    after, exhausted = -1, False
    for _ in range(FIFO_QUICK_PAGES):  # the common case: deliverable messages near the head of the queue
        batch = _fetch(_fifo_candidates, tx, {"q": queue_id, "now": now, "after": after, "lim": page})
        rows.extend(r for r in batch if eligible(r))
        exhausted = len(batch) < page
        if exhausted or len({r[2] for r in rows}) >= n:
            break
        after = batch[-1][3]
    if blocked and not exhausted and len({r[2] for r in rows}) < n:
        # Deep blocked groups ahead: let the database skip them instead of walking them page by page.
        live = and_(m.c.queue_id == queue_id, m.c.visible_at + 0 <= now, m.c.expires_at > now, m.c.seq > after)
        stmt = select(*_FIFO_COLUMNS).where(live, or_(m.c.group_id.is_(None), m.c.group_id.not_in(list(blocked))))
        rows.extend(tx.conn.execute(stmt.order_by(m.c.seq).limit(page)))
        heads = select(*_FIFO_COLUMNS).where(live, m.c.group_id.in_(list(blocked)), m.c.seq < max(blocked.values()))
        rows.extend(r for r in tx.conn.execute(heads) if eligible(r))
        rows.sort(key=lambda r: r[3])
    first: dict[str | None, tuple] = {}
    for row in rows:
        first.setdefault(row[2], row)
    return list(first.values())[:n]


def _pick_fifo(tx: Tx, queue_id: int, now: int, n: int) -> list[tuple[int, int]]:
    """Up to n (id, receive_count) of a FIFO queue: only messages with no earlier message of their group in
    flight, in order; as many as possible from the first group, then the next (as AWS returns them), so that
    one receive holds as few groups as it can and other consumers get the rest."""
    blocked = dict(_fetch(_fifo_blocked, tx, {"q": queue_id, "now": now}))
    picked: list[tuple[int, int]] = []
    for rid, count, group, seq in _group_heads(tx, queue_id, now, n, blocked):
        if group is None:
            picked.append((rid, count))
        else:
            lim = n - len(picked)
            members = _fetch(_fifo_group, tx, {"q": queue_id, "g": group, "first": seq, "now": now, "lim": lim})
            # In order until the first one not deliverable now (in flight or delayed): nothing overtakes it.
            for mid, mcount, visible_at in members:
                if visible_at > now:
                    break
                picked.append((mid, mcount))
        if len(picked) >= n:
            break
    return picked


def receive_general(
    tx: Tx, queue_id: int, now: int, n: int, until: int, token: str, fifo: bool, dead_letter: dict | None
) -> list[dict]:
    """Receive from a FIFO queue and/or a queue with a redrive policy.

    Messages already received maxReceiveCount times are moved to the dead-letter queue instead of being
    delivered (atomically, in this transaction), and more are picked in their place."""
    if fifo:
        lock_fifo_queue(tx, queue_id)  # two receivers on two nodes never split a group
    rows: list[dict] = []
    for _ in range(20):
        if fifo:
            picked = _pick_fifo(tx, queue_id, now, n - len(rows))
        else:
            pick = _pick_standard_pg if tx.is_pg else _pick_standard
            picked = _fetch(pick, tx, {"q": queue_id, "now": now, "n": n - len(rows)})
        if not picked:
            break
        limit = dead_letter["max_receives"] if dead_letter else None
        over = [r[0] for r in picked if limit is not None and r[1] >= limit]
        for rid, count in picked:
            if limit is None or count < limit:
                rows.extend(
                    _mark_received.fetch_dicts(tx.conn, {"rid": rid, "until": until, "token": token, "now": now})
                )
        if over:
            _dead_letter(tx, over, dead_letter, now)
        if len(rows) >= n or not over:
            break
    if not fifo:
        rows.sort(key=lambda r: r["id"])
    return rows


def _dead_letter(tx: Tx, ids: list[int], target: dict, now: int) -> None:
    """Move messages to the dead-letter queue: same MessageId, body and attributes. Standard queues keep the
    original enqueue time; FIFO queues restart it and use the MessageId as deduplication id."""
    if tx.conn.execute(select(q.c.id).where(q.c.id == target["id"])).first() is None:
        return  # the dead-letter queue was deleted meanwhile: the messages stay where they are
    rows = [dict(r) for r in tx.conn.execute(select(m).where(m.c.id.in_(ids)).order_by(m.c.id)).mappings()]
    first = _allocate_seqs(tx, target["id"], len(rows)) if target["fifo"] else 0
    out = []
    for k, row in enumerate(rows):
        row.pop("id")
        sent_at = now if target["fifo"] else row["sent_at"]
        row.update(
            queue_id=target["id"],
            visible_at=now,
            sent_at=sent_at,
            expires_at=sent_at + target["retention"] * 1000,
            receipt=None,
            source_arn=target["source_arn"],
        )
        if target["fifo"]:
            row.update(seq=first + k, dedup_id=row["message_id"])
        out.append(row)
    _insert.executemany(tx.conn, out)
    tx.conn.execute(delete(m).where(m.c.id.in_(ids)))
    tx.wake(f"sqs:{target['id']}")


def receive_with_attempt(
    tx: Tx, queue_id: int, attempt_id: str, now: int, n: int, until: int, token: str, dead_letter: dict | None
) -> list[dict]:
    """FIFO ReceiveRequestAttemptId: a retry within 5 minutes gets the same messages and receipt handles."""
    lock_fifo_queue(tx, queue_id)
    hit = tx.conn.execute(
        select(ra.c.token, ra.c.message_ids).where(
            and_(ra.c.queue_id == queue_id, ra.c.attempt_id == attempt_id, ra.c.expires_at > now)
        )
    ).first()
    if hit is not None:
        ids = json.loads(hit[1])
        # A retry within the window returns the same messages and resets their visibility timeout.
        tx.conn.execute(
            update(m).where(and_(m.c.id.in_(ids), m.c.receipt == hit[0], m.c.visible_at > now)).values(visible_at=until)
        )
        rows = [
            dict(r)
            for r in tx.conn.execute(
                select(*_RETURNED).where(and_(m.c.id.in_(ids), m.c.receipt == hit[0], m.c.visible_at > now))
            ).mappings()
        ]
        order = {rid: i for i, rid in enumerate(ids)}
        rows.sort(key=lambda r: order[r["id"]])
        return rows
    rows = receive_general(tx, queue_id, now, n, until, token, True, dead_letter)
    if not rows:
        return rows  # an empty answer is not remembered: a later retry (or long-poll pass) may find messages
    upsert(
        tx.conn,
        ra,
        {
            "queue_id": queue_id,
            "attempt_id": attempt_id,
            "token": token,
            "message_ids": json.dumps([r["id"] for r in rows]),
            "expires_at": now + ATTEMPT_WINDOW_MS,
        },
        ["queue_id", "attempt_id"],
    )
    return rows


def dead_letter_sources(
    conn: Connection, account: str, region: str, arn: str, after: str | None, limit: int
) -> list[str]:
    stmt = select(q.c.name).where(and_(q.c.dlq_arn == arn, q.c.account == account, q.c.region == region))
    if after is not None:
        stmt = stmt.where(q.c.name > after)
    return list(conn.execute(stmt.order_by(q.c.name).limit(limit)).scalars())


def has_dead_letter_sources(conn: Connection, arn: str) -> bool:
    return conn.execute(select(q.c.id).where(q.c.dlq_arn == arn).limit(1)).first() is not None


# -- message move tasks (dead-letter queue redrive) -------------------------------------------------------
ACTIVE = ("RUNNING",)


def _queue_by_arn(conn: Connection, arn: str) -> dict | None:
    parts = arn.split(":")
    if len(parts) != 6:
        return None
    row = (
        conn.execute(
            select(q.c.id, q.c.fifo, q.c.attributes).where(
                and_(q.c.region == parts[3], q.c.account == parts[4], q.c.name == parts[5])
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    attrs = {**DEFAULTS, **json.loads(row["attributes"])}
    return {
        "id": row["id"],
        "fifo": bool(row["fifo"]),
        "retention": int(attrs["MessageRetentionPeriod"]),
        "delay": int(attrs["DelaySeconds"]),
    }


def start_move_task(tx: Tx, values: dict) -> None:
    active = tx.conn.execute(
        select(mt.c.id).where(and_(mt.c.source_arn == values["source_arn"], mt.c.status.in_(ACTIVE))).limit(1)
    ).first()
    if active is not None:
        raise ServiceError(
            "InvalidParameterValue",
            "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
        )
    source = _queue_by_arn(tx.conn, values["source_arn"])
    if source is None:
        raise not_found("The resource that you specified for the SourceArn parameter doesn't exist.")
    count = tx.conn.execute(select(func.count(), func.max(m.c.id)).where(m.c.queue_id == source["id"])).one()
    tx.conn.execute(insert(mt).values(**values, moved=0, to_move=count[0], high_water=count[1] or 0))
    tx.wake("sqs:moves")


def list_move_tasks(conn: Connection, source_arn: str, limit: int) -> list[dict]:
    rows = conn.execute(
        select(mt).where(mt.c.source_arn == source_arn).order_by(mt.c.started_at.desc(), mt.c.id.desc()).limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def cancel_move_task(tx: Tx, handle: str) -> dict:
    row = tx.conn.execute(select(mt).where(mt.c.handle == handle)).mappings().first()
    if row is None:
        raise not_found("The specified task handle doesn't exist.")
    if row["status"] != "RUNNING":
        raise not_found(f"Only a RUNNING task can be cancelled; this task is {row['status']}.")
    tx.conn.execute(update(mt).where(mt.c.id == row["id"]).values(status="CANCELLED"))
    return dict(row)


def active_move_tasks(conn: Connection) -> list[int]:
    return list(conn.execute(select(mt.c.id).where(mt.c.status == "RUNNING")).scalars())


def move_step(tx: Tx, task_id: int, now: int, wall_ms: int, default_rate: int, chunk: int) -> int:
    """Move the messages this task may move now (by its rate), as one transaction with its progress: a crash
    either keeps the whole step or none of it, so every message moves exactly once. Returns how many moved."""
    stmt = select(mt).where(mt.c.id == task_id)
    task = tx.conn.execute(stmt.with_for_update() if tx.is_pg else stmt).mappings().first()
    if task is None or task["status"] != "RUNNING":
        return 0
    rate = task["rate"] or default_rate
    since = max(task["progress_at"], wall_ms - 1000)  # after a stall, allow at most one second of catch-up
    budget = min(chunk, int((wall_ms - since) * rate / 1000))
    if budget < 1:
        return 0
    source = _queue_by_arn(tx.conn, task["source_arn"])
    if source is None:
        return _finish(tx, task_id, "FAILED", "AWS.SimpleQueueService.NonExistentQueue")
    # Take the messages out with DELETE ... RETURNING, re-checking visibility: a message a consumer received
    # in the meantime (on another node) is not moved, and only what this statement deleted is inserted.
    candidates = (
        select(m.c.id)
        .where(
            and_(
                m.c.queue_id == source["id"], m.c.id <= task["high_water"], m.c.visible_at <= now, m.c.expires_at > now
            )
        )
        .order_by(m.c.id)
        .limit(budget)
    )
    if tx.is_pg:
        candidates = candidates.with_for_update(skip_locked=True)
    rows = [
        dict(r)
        for r in tx.conn.execute(
            delete(m).where(and_(m.c.id.in_(candidates.scalar_subquery()), m.c.visible_at <= now)).returning(*m.columns)
        ).mappings()
    ]
    rows.sort(key=lambda r: r["id"])
    targets: dict[str, dict | None] = {}
    out = []
    for row in rows:
        arn = task["destination_arn"] or row["source_arn"]
        if arn is None:
            raise MoveTaskFailed(
                "A message in the source queue has no source queue to return to; give a DestinationArn."
            )
        if arn not in targets:
            targets[arn] = _queue_by_arn(tx.conn, arn)
        dest = targets[arn]
        if dest is None:
            raise MoveTaskFailed("AWS.SimpleQueueService.NonExistentQueue")
        out.append((dest, row))
    for dest, row in out:
        # Redriven messages are new messages: new MessageId and enqueue time (AWS's redrive behaviour).
        row.pop("id")
        new_id = ids.uuid4()
        row.update(
            queue_id=dest["id"],
            message_id=new_id,
            sent_at=now,
            visible_at=now + dest["delay"] * 1000,
            expires_at=now + dest["retention"] * 1000,
            receive_count=0,
            first_received_at=None,
            received_at=None,
            receipt=None,
            source_arn=None,
        )
        if dest["fifo"]:
            row.update(seq=_allocate_seqs(tx, dest["id"], 1), dedup_id=row["dedup_id"] or new_id)
        else:
            row.update(seq=None)
        tx.wake(f"sqs:{dest['id']}")
    if out:
        _insert.executemany(tx.conn, [row for _d, row in out])
    remaining = tx.conn.execute(
        select(m.c.id).where(and_(m.c.queue_id == source["id"], m.c.id <= task["high_water"])).limit(1)
    ).first()
    values: dict[str, Any] = {
        "moved": task["moved"] + len(out),
        "progress_at": since + int(len(out) * 1000 / rate) if out else task["progress_at"],
    }
    if remaining is None:
        values["status"] = "COMPLETED"
    tx.conn.execute(update(mt).where(mt.c.id == task_id).values(**values))
    return len(out)


class MoveTaskFailed(Exception):
    """Raised inside a step, so that the step's deletions are rolled back; the job then records FAILED."""


def fail_move_task(tx: Tx, task_id: int, reason: str) -> None:
    _finish(tx, task_id, "FAILED", reason)


def _finish(tx: Tx, task_id: int, status: str, reason: str | None) -> int:
    tx.conn.execute(update(mt).where(mt.c.id == task_id).values(status=status, failure_reason=reason))
    return 0
