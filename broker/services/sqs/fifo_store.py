"""SQL of FIFO queues: sequence numbers, the deduplication window, the queue row lock, and the FIFO insert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from broker.services.sqs.errors import queue_does_not_exist
from broker.services.sqs.message_store import fetch_all, fetch_one, insert_messages, waiters_key
from broker.storage.db import Tx
from broker.storage.prepared import Prepared
from broker.storage.tables import sqs_fifo_dedup as dd
from broker.storage.tables import sqs_queues as q

DEDUP_WINDOW_MS = 300_000
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


def _dedup_upsert(dialect: Any) -> Prepared:  # the sqlite or postgresql dialect module (each has its own insert)
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


def allocate_seqs(tx: Tx, queue_id: int, count: int) -> int:
    """Reserve `count` sequence numbers of the queue; returns the first."""
    row = fetch_one(_seq_alloc, tx, {"q": queue_id, "k": count})
    if row is None:
        raise queue_does_not_exist()
    first: int = row[0] - count + 1
    return first


_lock_queue = Prepared(select(q.c.id).where(q.c.id == bindparam("q")).with_for_update())


def lock_fifo_queue(tx: Tx, queue_id: int) -> None:
    """On PostgreSQL, serialize the FIFO work of one queue across nodes (deduplication, attempts, group order)
    by locking its row first; SQLite transactions are serialized already."""
    if tx.is_pg and not fetch_all(_lock_queue, tx, {"q": queue_id}):
        raise queue_does_not_exist()


def insert_fifo(
    tx: Tx, queue_id: int, rows: list[dict[str, Any]], group_scope: bool, now: int
) -> list[tuple[str, int, bool]]:
    """Insert FIFO messages within the 5-minute deduplication window.

    Returns per row (message_id, seq, duplicate): a duplicate answers with the original message and is not
    enqueued again."""
    lock_fifo_queue(tx, queue_id)
    # Per row: the message it stands for (itself, an earlier row of this batch, or the stored original) and
    # whether it is a duplicate; rows get their seq below.
    results: list[tuple[dict[str, Any], bool]] = []
    fresh: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        scope = row["group_id"] if group_scope else ""
        key = (scope, row["dedup_id"])
        if key in seen:  # a duplicate within this very batch
            results.append((seen[key], True))
            continue
        hit = fetch_one(_dedup_hit, tx, {"q": queue_id, "scope": scope, "dedup": row["dedup_id"], "now": now})
        if hit is not None:
            results.append(({"message_id": hit[0], "seq": hit[1]}, True))
            continue
        seen[key] = row
        fresh.append(row)
        results.append((row, False))
    if fresh:
        first = allocate_seqs(tx, queue_id, len(fresh))
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
        insert_messages(tx, fresh)
        tx.wake(waiters_key(queue_id))
    return [(row["message_id"], row["seq"], duplicate) for row, duplicate in results]
