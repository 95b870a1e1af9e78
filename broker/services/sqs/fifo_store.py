"""SQL of FIFO queues: sequence numbers, the deduplication window, the queue row lock, the FIFO insert, and the
turns of message groups (`sqs_messages.turn`, see receive_store)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, case, select, text, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from broker.services.sqs.errors import queue_does_not_exist
from broker.services.sqs.message_store import MESSAGE_COLUMNS, fetch_all, fetch_one, waiters_key
from broker.storage.db import Tx
from broker.storage.prepared import Prepared
from broker.storage.tables import sqs_fifo_dedup as dd
from broker.storage.tables import sqs_queues as q

DEDUP_WINDOW_MS = 300_000
# SequenceNumbers are 20-digit decimal strings, like AWS's, and time-based like them: a queue's counter never goes
# below (now in ms) << SEQ_TIME_SHIFT, so numbers grow with time across queues and stay increasing in each queue.
SEQ_BASE = 18_000_000_000_000_000_000
SEQ_TIME_SHIFT = 20


def sequence_number(seq: int) -> str:
    return str(SEQ_BASE + seq)


_dedup_hit = Prepared(
    select(dd.c.message_id, dd.c.seq)
    .where(
        and_(
            dd.c.queue_id == bindparam("q"),
            # Ids seen under queue-wide deduplication still count after a change to messageGroup.
            dd.c.scope.in_([bindparam("scope"), ""]),
            dd.c.dedup_id == bindparam("dedup"),
            dd.c.expires_at > bindparam("now"),
        )
    )
    .order_by(dd.c.expires_at.desc())
    .limit(1)
)
_seq_alloc = Prepared(
    update(q)
    .where(q.c.id == bindparam("q"))
    .values(seq=case((q.c.seq > bindparam("floor"), q.c.seq), else_=bindparam("floor")) + bindparam("k"))
    .returning(q.c.seq)
)


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


def allocate_seqs(tx: Tx, queue_id: int, count: int, now: int) -> int:
    """Reserve `count` sequence numbers of the queue; returns the first."""
    row = fetch_one(_seq_alloc, tx, {"q": queue_id, "k": count, "floor": now << SEQ_TIME_SHIFT})
    if row is None:
        raise queue_does_not_exist()
    first: int = row[0] - count + 1
    return first


# A FIFO message is inserted as its group's head (turn = its seq) when the group has no message waiting for its
# first receive: the group was empty, or all it holds was received (the receive gave the next message its turn
# already, or there was none). The check is part of the insert: no extra statement. (The group is bound twice, as
# :group_id and :w_group: PostgreSQL refuses one untyped parameter deduced as two types.)
_FIFO_COLUMNS = [c for c in MESSAGE_COLUMNS if c != "turn"]
_insert_fifo = Prepared(
    text(
        f"INSERT INTO sqs_messages ({', '.join(_FIFO_COLUMNS)}, turn) "
        f"VALUES ({', '.join(':' + c for c in _FIFO_COLUMNS)}, "
        "CASE WHEN EXISTS (SELECT 1 FROM sqs_messages w WHERE w.queue_id = :queue_id AND w.group_id = :w_group "
        "AND w.seq IS NOT NULL AND w.receive_count = 0 AND w.expires_at > :sent_at) THEN NULL ELSE :seq END)"
    )
)


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
        first = allocate_seqs(tx, queue_id, len(fresh), now)
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
        for row in fresh:
            row["w_group"] = row["group_id"]
        _insert_fifo.executemany(tx.conn, fresh)
        tx.wake(waiters_key(queue_id))
    return [(row["message_id"], row["seq"], duplicate) for row, duplicate in results]


# -- group turns -------------------------------------------------------------------------------------------------
_first_live = text(
    "UPDATE sqs_messages SET turn = seq WHERE id = (SELECT id FROM sqs_messages WHERE queue_id = :q AND group_id = :g "
    "AND seq IS NOT NULL AND expires_at > :now ORDER BY seq LIMIT 1) AND turn IS NULL"
)


def give_heads_turns(tx: Tx, groups: set[tuple[int, str]], now: int) -> None:
    """After messages left FIFO groups other than by a receive (retention, a move task), the groups' new first
    messages take a turn (their seq) if they have none, so that receives find them."""
    for queue_id, group in groups:
        tx.conn.execute(_first_live, {"q": queue_id, "g": group, "now": now})
    for queue_id in {queue_id for queue_id, _g in groups}:
        tx.wake(waiters_key(queue_id))


_all_heads = text(
    "UPDATE sqs_messages SET turn = seq WHERE queue_id = :q AND seq IS NOT NULL AND turn IS NULL AND NOT EXISTS ("
    "SELECT 1 FROM sqs_messages e WHERE e.queue_id = :q AND e.group_id = sqs_messages.group_id "
    "AND e.seq IS NOT NULL AND e.seq < sqs_messages.seq)"
)


def give_all_heads_turns(tx: Tx, queue_id: int) -> None:
    """Every group's first message takes a turn if it has none (after a purge that ran in the background)."""
    tx.conn.execute(_all_heads, {"q": queue_id})
    tx.wake(waiters_key(queue_id))
