"""SQL of receiving: the one-statement standard receive, FIFO group order, dead-letter redrive inside the receive,
ReceiveRequestAttemptId retries, and when the next hidden message becomes visible (for long polls)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Update, and_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from broker.services.sqs import store
from broker.services.sqs.fifo_store import allocate_seqs, lock_fifo_queue
from broker.services.sqs.message_store import fetch_all, insert_messages, waiters_key
from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.prepared import Prepared
from broker.storage.tables import sqs_messages as m
from broker.storage.tables import sqs_receive_attempts as ra

ATTEMPT_WINDOW_MS = 300_000
FIFO_QUICK_PAGES = 2


@dataclass(frozen=True, slots=True)
class DeadLetterTarget:
    """What a receive needs to move over-received messages of a queue to its dead-letter queue."""

    id: int  # the dead-letter queue's
    fifo: bool
    retention: int  # seconds, the dead-letter queue's
    max_receives: int  # the source queue's maxReceiveCount
    source_arn: str


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
_RECEIVED: dict[str, Any] = {
    "visible_at": bindparam("until"),
    "receipt": bindparam("token"),
    "receive_count": m.c.receive_count + 1,
    "first_received_at": func.coalesce(m.c.first_received_at, bindparam("now")),
    "received_at": bindparam("now"),
}


# -- the standard receive ----------------------------------------------------------------------------------------
def _receive_statement(for_pg: bool) -> Update:
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


def receive(tx: Tx, queue_id: int, now: int, n: int, until: int, token: str) -> list[dict[str, Any]]:
    stmt = _receive_pg if tx.is_pg else _receive_sqlite
    out = stmt.fetch_dicts(tx.conn, {"q": queue_id, "now": now, "n": n, "until": until, "token": token})
    out.sort(key=lambda r: r["id"])
    return out


_next_due = select(func.min(m.c.visible_at)).where(
    and_(m.c.queue_id == bindparam("q"), m.c.visible_at > bindparam("now"))
)


def next_due(conn: Connection, queue_id: int, now: int) -> int | None:
    due: int | None = conn.execute(_next_due, {"q": queue_id, "now": now}).scalar()
    return due


# -- receiving with FIFO groups and dead-letter redrive ----------------------------------------------------------
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


def _group_heads(tx: Tx, queue_id: int, now: int, n: int, blocked: dict[str | None, int]) -> list[Any]:
    """(id, receive_count, group, seq) of the first deliverable message of up to n groups, in queue order."""

    def eligible(row: Any) -> bool:
        return row[2] not in blocked or row[3] < blocked[row[2]]

    page = max(100, n * 20)
    rows: list[Any] = []
    after, exhausted = -1, False
    for _ in range(FIFO_QUICK_PAGES):  # the common case: deliverable messages near the head of the queue
        batch = fetch_all(_fifo_candidates, tx, {"q": queue_id, "now": now, "after": after, "lim": page})
        rows.extend(r for r in batch if eligible(r))
        exhausted = len(batch) < page
        if exhausted or len({r[2] for r in rows}) >= n:
            break
        after = batch[-1][3]
    if blocked and not exhausted and len({r[2] for r in rows}) < n:
        # Deep blocked groups ahead: let the database skip them instead of walking them page by page.
        live: ColumnElement[bool] = and_(
            m.c.queue_id == queue_id, m.c.visible_at + 0 <= now, m.c.expires_at > now, m.c.seq > after
        )
        stmt = select(*_FIFO_COLUMNS).where(live, or_(m.c.group_id.is_(None), m.c.group_id.not_in(list(blocked))))
        rows.extend(tx.conn.execute(stmt.order_by(m.c.seq).limit(page)))
        heads = select(*_FIFO_COLUMNS).where(live, m.c.group_id.in_(list(blocked)), m.c.seq < max(blocked.values()))
        rows.extend(r for r in tx.conn.execute(heads) if eligible(r))
        rows.sort(key=lambda r: r[3])
    first: dict[str | None, Any] = {}
    for row in rows:
        first.setdefault(row[2], row)
    return list(first.values())[:n]


def _pick_fifo(tx: Tx, queue_id: int, now: int, n: int) -> list[tuple[int, int]]:
    """Up to n (id, receive_count) of a FIFO queue: only messages with no earlier message of their group in
    flight, in order; as many as possible from the first group, then the next (as AWS returns them), so that
    one receive holds as few groups as it can and other consumers get the rest."""
    blocked: dict[str | None, int] = dict(fetch_all(_fifo_blocked, tx, {"q": queue_id, "now": now}))
    picked: list[tuple[int, int]] = []
    for rid, count, group, seq in _group_heads(tx, queue_id, now, n, blocked):
        if group is None:
            picked.append((rid, count))
        else:
            lim = n - len(picked)
            members = fetch_all(_fifo_group, tx, {"q": queue_id, "g": group, "first": seq, "now": now, "lim": lim})
            # In order until the first one not deliverable now (in flight or delayed): nothing overtakes it.
            for mid, mcount, visible_at in members:
                if visible_at > now:
                    break
                picked.append((mid, mcount))
        if len(picked) >= n:
            break
    return picked


def receive_general(
    tx: Tx,
    queue_id: int,
    now: int,
    n: int,
    until: int,
    token: str,
    fifo: bool,
    dead_letter: DeadLetterTarget | None,
) -> list[dict[str, Any]]:
    """Receive from a FIFO queue and/or a queue with a redrive policy.

    Messages already received maxReceiveCount times are moved to the dead-letter queue instead of being
    delivered (atomically, in this transaction), and more are picked in their place."""
    if fifo:
        lock_fifo_queue(tx, queue_id)  # two receivers on two nodes never split a group
    rows: list[dict[str, Any]] = []
    for _ in range(20):
        picked: list[tuple[int, int]]
        if fifo:
            picked = _pick_fifo(tx, queue_id, now, n - len(rows))
        else:
            pick = _pick_standard_pg if tx.is_pg else _pick_standard
            picked = fetch_all(pick, tx, {"q": queue_id, "now": now, "n": n - len(rows)})
        if not picked:
            break
        limit = dead_letter.max_receives if dead_letter else None
        over = [r[0] for r in picked if limit is not None and r[1] >= limit]
        for rid, count in picked:
            if limit is None or count < limit:
                rows.extend(
                    _mark_received.fetch_dicts(tx.conn, {"rid": rid, "until": until, "token": token, "now": now})
                )
        if over and dead_letter is not None:
            _dead_letter(tx, over, dead_letter, now)
        if len(rows) >= n or not over:
            break
    if not fifo:
        rows.sort(key=lambda r: r["id"])
    return rows


def _dead_letter(tx: Tx, ids: list[int], target: DeadLetterTarget, now: int) -> None:
    """Move messages to the dead-letter queue: same MessageId, body and attributes. Standard queues keep the
    original enqueue time; FIFO queues restart it and use the MessageId as deduplication id."""
    if not store.queue_exists(tx.conn, target.id):
        return  # the dead-letter queue was deleted meanwhile: the messages stay where they are
    rows = [dict(r) for r in tx.conn.execute(select(m).where(m.c.id.in_(ids)).order_by(m.c.id)).mappings()]
    first = allocate_seqs(tx, target.id, len(rows)) if target.fifo else 0
    out = []
    for k, row in enumerate(rows):
        row.pop("id")
        sent_at = now if target.fifo else row["sent_at"]
        row.update(
            queue_id=target.id,
            visible_at=now,
            sent_at=sent_at,
            expires_at=sent_at + target.retention * 1000,
            receipt=None,
            source_arn=target.source_arn,
        )
        if target.fifo:
            row.update(seq=first + k, dedup_id=row["message_id"])
        out.append(row)
    insert_messages(tx, out)
    tx.conn.execute(delete(m).where(m.c.id.in_(ids)))
    tx.wake(waiters_key(target.id))


def receive_with_attempt(
    tx: Tx,
    queue_id: int,
    attempt_id: str,
    now: int,
    n: int,
    until: int,
    token: str,
    dead_letter: DeadLetterTarget | None,
) -> list[dict[str, Any]]:
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
