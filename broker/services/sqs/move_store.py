"""SQL of message move tasks (dead-letter queue redrive): starting, listing and cancelling them, and the step the
`sqs.move` job runs, which moves messages and records the progress in one transaction."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from broker import ids
from broker.services.sqs import store
from broker.services.sqs.errors import move_task_running, resource_not_found, source_arn_not_found, task_not_found
from broker.services.sqs.fifo_store import allocate_seqs, give_heads_turns
from broker.services.sqs.message_store import insert_messages, waiters_key
from broker.services.sqs.validation import DEFAULTS
from broker.storage.db import Tx
from broker.storage.tables import sqs_messages as m
from broker.storage.tables import sqs_move_tasks as mt

ACTIVE = ("RUNNING",)
WAKE_KEY = "sqs:moves"  # woken at the commit of a new move task, in every process


class MoveTaskFailed(Exception):
    """Raised inside a step, so that the step's deletions are rolled back; the job then records FAILED."""


@dataclass(frozen=True, slots=True)
class _QueueFacts:
    """What a move needs of a source or destination queue."""

    id: int
    fifo: bool
    retention: int  # seconds
    delay: int  # seconds


def _queue_by_arn(conn: Connection, arn: str) -> _QueueFacts | None:
    parts = arn.split(":")
    if len(parts) != 6:
        return None
    row = store.get_queue(conn, parts[4], parts[3], parts[5])
    if row is None:
        return None
    attrs = {**DEFAULTS, **json.loads(row["attributes"])}
    return _QueueFacts(
        id=row["id"],
        fifo=bool(row["fifo"]),
        retention=int(attrs["MessageRetentionPeriod"]),
        delay=int(attrs["DelaySeconds"]),
    )


def start_move_task(tx: Tx, values: dict[str, Any]) -> None:
    active = tx.conn.execute(
        select(mt.c.id).where(and_(mt.c.source_arn == values["source_arn"], mt.c.status.in_(ACTIVE))).limit(1)
    ).first()
    if active is not None:
        raise move_task_running()
    source = _queue_by_arn(tx.conn, values["source_arn"])
    if source is None:
        raise source_arn_not_found()
    count = tx.conn.execute(select(func.count(), func.max(m.c.id)).where(m.c.queue_id == source.id)).one()
    tx.conn.execute(insert(mt).values(**values, moved=0, to_move=count[0], high_water=count[1] or 0))
    tx.wake(WAKE_KEY)


def list_move_tasks(conn: Connection, source_arn: str, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(mt).where(mt.c.source_arn == source_arn).order_by(mt.c.started_at.desc(), mt.c.id.desc()).limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def _task_id(handle: str) -> str | None:
    """The taskId of a stored handle (base64 of {"taskId": ..., "sourceArn": ...}, written by the broker)."""
    task_id = json.loads(base64.b64decode(handle)).get("taskId")
    return task_id if isinstance(task_id, str) else None


def cancel_move_task(tx: Tx, source_arn: str, task_id: str) -> dict[str, Any]:
    rows = tx.conn.execute(select(mt).where(mt.c.source_arn == source_arn)).mappings().all()
    row = next((r for r in rows if _task_id(r["handle"]) == task_id), None)
    if row is None:
        raise task_not_found()
    if row["status"] != "RUNNING":
        raise resource_not_found(f"Only a RUNNING task can be cancelled; this task is {row['status']}.")
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
            and_(m.c.queue_id == source.id, m.c.id <= task["high_water"], m.c.visible_at <= now, m.c.expires_at > now)
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
    targets: dict[str, _QueueFacts | None] = {}
    out: list[tuple[_QueueFacts, dict[str, Any]]] = []
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
            queue_id=dest.id,
            message_id=new_id,
            sent_at=now,
            visible_at=now + dest.delay * 1000,
            expires_at=now + dest.retention * 1000,
            receive_count=0,
            first_received_at=None,
            received_at=None,
            receipt=None,
            source_arn=None,
        )
        if dest.fifo:  # each takes a turn: receives find them in any case
            seq = allocate_seqs(tx, dest.id, 1, now)
            row.update(seq=seq, turn=seq, dedup_id=row["dedup_id"] or new_id)
        else:
            row.update(seq=None, turn=None)
        tx.wake(waiters_key(dest.id))
    if out:
        insert_messages(tx, [row for _d, row in out])
    if source.fifo:  # the source's groups lost their first messages: the next ones head them now
        give_heads_turns(tx, {(source.id, r["group_id"]) for r in rows if r["group_id"] is not None}, now)
    remaining = tx.conn.execute(
        select(m.c.id).where(and_(m.c.queue_id == source.id, m.c.id <= task["high_water"])).limit(1)
    ).first()
    values: dict[str, Any] = {
        "moved": task["moved"] + len(out),
        "progress_at": since + int(len(out) * 1000 / rate) if out else task["progress_at"],
    }
    if remaining is None:
        values["status"] = "COMPLETED"
    tx.conn.execute(update(mt).where(mt.c.id == task_id).values(**values))
    return len(out)


def fail_move_task(tx: Tx, task_id: int, reason: str) -> None:
    _finish(tx, task_id, "FAILED", reason)


def _finish(tx: Tx, task_id: int, status: str, reason: str | None) -> int:
    tx.conn.execute(update(mt).where(mt.c.id == task_id).values(status=status, failure_reason=reason))
    return 0
