"""Timed work of SQS: retention expiry, removal of deleted queues' messages, large purges (chunked, leased)."""

from __future__ import annotations

from broker import clock
from broker.services.sqs import move_store, sweep_store
from broker.storage.db import Database

CHUNK = 2000


def sweep(db: Database) -> int:
    """Delete expired messages and messages of deleted queues, finish large purges and retention changes;
    returns how many rows were touched."""
    total = 0
    while n := db.write_sync(sweep_store.sweep_rewrites, clock.now_ms(), CHUNK):
        total += n
    while True:
        n = db.write_sync(sweep_store.sweep_expired, clock.now_ms(), CHUNK)
        total += n
        if n < CHUNK:
            break
    while True:
        n = db.write_sync(sweep_store.sweep_deleted_queues, clock.now_ms(), CHUNK)
        total += n
        if n < CHUNK:
            break
    return total


def sweep_due(db: Database) -> int | None:
    return db.read_sync(sweep_store.next_due, clock.now_ms())


MOVE_CHUNK = 500


def has_move_tasks(db: Database) -> bool:
    return bool(db.read_sync(move_store.active_move_tasks))


def run_move_tasks(db: Database, default_rate: int) -> int:
    """One tick of every running message move task: each moves what its rate allows since its last step."""
    moved = 0
    for task_id in db.read_sync(move_store.active_move_tasks):
        try:
            moved += db.write_sync(
                move_store.move_step, task_id, clock.now_ms(), clock.wall_ms(), default_rate, MOVE_CHUNK
            )
        except move_store.MoveTaskFailed as e:
            db.write_sync(move_store.fail_move_task, task_id, str(e))
    return moved
