"""Timed work of Kinesis: records past their stream's retention, shards closed for longer than it, and the rows of
deleted streams go, a chunk at a time."""

from __future__ import annotations

from broker import clock
from broker.services.kinesis import store
from broker.storage.db import Database


def sweep(db: Database) -> int:
    return db.write_sync(store.sweep, clock.now_ms())
