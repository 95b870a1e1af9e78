"""Timed work of CloudWatch Logs: the retention sweep (leased: one process of the cluster runs it at a time)."""

from __future__ import annotations

from broker import clock
from broker.services.logs import sweep_store
from broker.storage.db import Database

MAX_ROUNDS = 100  # write units per run; a larger backlog waits for the next run


def has_work(db: Database) -> bool:
    return db.read_sync(sweep_store.has_work)


def sweep(db: Database) -> int:
    """Delete events past their group's retention and the events of deleted groups and streams, one bounded write
    unit after another until nothing is left; returns how many events went."""
    total = 0
    for _ in range(MAX_ROUNDS):
        n = db.write_sync(sweep_store.sweep, clock.now_ms())
        total += n
        if n == 0:
            break
    return total
