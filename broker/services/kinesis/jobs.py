"""Timed work of Kinesis: records past their stream's retention, shards closed for longer than it, and the rows of
deleted streams go, a chunk at a time; so does the delivery state of queues for records past retention and of
deleted queues."""

from __future__ import annotations

from broker import clock
from broker.services.kinesis import queue_store, store
from broker.storage.db import Database


def sweep(db: Database) -> int:
    now = clock.now_ms()
    return db.write_sync(store.sweep, now) + db.write_sync(queue_store.sweep, now)


def sweep_due(db: Database) -> int | None:
    return db.read_sync(store.next_sweep_due, clock.now_ms())
