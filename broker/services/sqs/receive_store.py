"""SQL of receiving: the one-statement standard receive, FIFO group order, dead-letter redrive inside the receive,
ReceiveRequestAttemptId retries, and when the next hidden message becomes visible (for long polls)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, select, text, update

from broker.services.sqs import store
from broker.services.sqs.fifo_store import allocate_seqs, lock_fifo_queue
from broker.services.sqs.message_store import fetch_all, insert_messages, waiters_key
from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.prepared import Prepared
from broker.storage.tables import sqs_messages as m
from broker.storage.tables import sqs_receive_attempts as ra

ATTEMPT_WINDOW_MS = 300_000


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
# The oldest visible messages by visible time, and the messages received before and visible again (a smaller,
# partial index) by theirs; of both, the first n in sending order (id): a message whose visibility ran out comes
# back ahead of messages sent after it, as on AWS, and never waits behind the backlog that arrived since.
def _standard_pick(for_pg: bool, columns: str) -> str:
    lock = " FOR UPDATE SKIP LOCKED" if for_pg else ""
    live = "queue_id = :q AND visible_at <= :now AND expires_at > :now"
    return (
        f"SELECT {columns} FROM ("
        f"SELECT {columns} FROM (SELECT {columns} FROM sqs_messages WHERE {live} ORDER BY visible_at LIMIT :n{lock}) a "
        f"UNION SELECT {columns} FROM (SELECT {columns} FROM sqs_messages WHERE {live} AND receive_count > 0 "
        f"ORDER BY visible_at LIMIT :n{lock}) b"
        f") c ORDER BY id LIMIT :n"
    )


_RETURNED_SQL = ", ".join(c.name for c in _RETURNED)


def _receive_statement(for_pg: bool) -> str:
    return (
        "UPDATE sqs_messages SET visible_at = :until, receipt = :token, receive_count = receive_count + 1, "
        "first_received_at = COALESCE(first_received_at, :now), received_at = :now "
        f"WHERE id IN ({_standard_pick(for_pg, 'id')}) RETURNING {_RETURNED_SQL}"
    )


_receive_sqlite = Prepared(text(_receive_statement(False)))
_receive_pg = Prepared(text(_receive_statement(True)))


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
_pick_standard = Prepared(text(_standard_pick(False, "id, receive_count")))
_pick_standard_pg = Prepared(text(_standard_pick(True, "id, receive_count")))
_mark_received = Prepared(update(m).where(m.c.id == bindparam("rid")).values(**_RECEIVED).returning(*_RETURNED))
_mark_received_fifo = Prepared(
    update(m).where(m.c.id == bindparam("rid")).values(**_RECEIVED, turn=bindparam("turn")).returning(*_RETURNED)
)
_give_turn = Prepared(update(m).where(m.c.id == bindparam("rid")).values(turn=bindparam("turn")))

# FIFO message groups take turns. Each group's first message carries the group's turn (`turn`; the partial index
# holds only rows that have one): its seq while the group was never received, a fresh number (after every seq
# handed out so far) once a receive took messages of it, so that the group goes to the back of the rotation and
# comes back, when its messages are visible again, after the groups not received since. A receive gives the turn
# to what it takes and to the group's next message, which heads the group once those are deleted; an insert gives
# one (its seq) to a message that heads its group. So a receive reads the first n deliverable heads in turn order
# from the index: a message is a head when no live message of its group comes before it (a group whose first
# message is in flight has none). "+ 0" keeps both databases on that index, also without statistics.
_fifo_heads = Prepared(
    text(
        "SELECT h.id, h.receive_count, h.group_id, h.seq FROM sqs_messages h "
        "WHERE h.queue_id = :q AND h.turn IS NOT NULL AND h.visible_at + 0 <= :now AND h.expires_at + 0 > :now "
        "AND NOT EXISTS (SELECT 1 FROM sqs_messages e WHERE e.queue_id = :q AND e.group_id = h.group_id "
        "AND e.seq IS NOT NULL AND e.seq < h.seq AND e.expires_at > :now) "
        "ORDER BY h.turn, h.seq LIMIT :n"
    )
)
# The next messages of one group, in order, from its head (the (queue_id, group_id, seq) index).
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


def _pick_fifo(tx: Tx, queue_id: int, now: int, n: int) -> tuple[list[tuple[int, int, str]], dict[str, int]]:
    """Up to n (id, receive_count, group) of a FIFO queue, and per group taken the id of its next message: the
    groups in turn order, as many messages as possible from each (in order, up to the first one not deliverable:
    nothing overtakes it) before the next group, so that one receive holds as few groups as it can."""
    picked: list[tuple[int, int, str]] = []
    nexts: dict[str, int] = {}
    for _rid, _count, group, seq in fetch_all(_fifo_heads, tx, {"q": queue_id, "now": now, "n": n}):
        lim = n - len(picked)
        members = fetch_all(_fifo_group, tx, {"q": queue_id, "g": group, "first": seq, "now": now, "lim": lim + 1})
        taken = 0
        for mid, mcount, visible_at in members[:lim]:
            if visible_at > now:
                break
            picked.append((mid, mcount, group))
            taken += 1
        if taken < len(members):
            nexts[group] = members[taken][0]
        if len(picked) >= n:
            break
    return picked, nexts


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
        picked: list[tuple[int, int, str | None]]
        turns: dict[str | None, int] = {}
        if fifo:
            fifo_picked, nexts = _pick_fifo(tx, queue_id, now, n - len(rows))
            picked = list(fifo_picked)
            if picked:  # the groups taken go to the back of the rotation, in the order they were taken
                groups = list(dict.fromkeys(g for _r, _c, g in fifo_picked))
                first = allocate_seqs(tx, queue_id, len(groups), now)
                turns = {g: first + k for k, g in enumerate(groups)}
                for next_group, next_id in nexts.items():
                    _give_turn.execute(tx.conn, {"rid": next_id, "turn": turns[next_group]}).close()
        else:
            pick = _pick_standard_pg if tx.is_pg else _pick_standard
            picked = [
                (rid, count, None)
                for rid, count in fetch_all(pick, tx, {"q": queue_id, "now": now, "n": n - len(rows)})
            ]
        if not picked:
            break
        limit = dead_letter.max_receives if dead_letter else None
        over = [r[0] for r in picked if limit is not None and r[1] >= limit]
        for rid, count, group in picked:
            if limit is None or count < limit:
                params = {"rid": rid, "until": until, "token": token, "now": now}
                if fifo:
                    rows.extend(_mark_received_fifo.fetch_dicts(tx.conn, {**params, "turn": turns[group]}))
                else:
                    rows.extend(_mark_received.fetch_dicts(tx.conn, params))
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
    first = allocate_seqs(tx, target.id, len(rows), now) if target.fifo else 0
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
        if target.fifo:  # each takes a turn: the dead-letter queue's receives find them in any case
            row.update(seq=first + k, dedup_id=row["message_id"], turn=first + k)
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
