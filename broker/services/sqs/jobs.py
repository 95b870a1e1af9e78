"""Timed work of SQS: retention expiry and removal of deleted queues' messages (chunked, lease-guarded)."""

from __future__ import annotations

from broker import clock
from broker.services.sqs import store
from broker.storage.db import Database

CHUNK = 2000


def sweep(db: Database) -> int:
    """Delete expired messages and messages of deleted queues; returns how many rows went."""
    total = 0
    while True:
        n = db.write_sync(store.sweep_expired, clock.now_ms(), CHUNK)
        total += n
        if n < CHUNK:
            break
    while True:
        n = db.write_sync(store.sweep_deleted_queues, clock.now_ms(), CHUNK)
        total += n
        if n < CHUNK:
            break
    return total
