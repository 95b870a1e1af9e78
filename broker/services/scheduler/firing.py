"""Schedules fire. A schedule row's next_at is when it fires next; one write transaction takes the due rows (SKIP
LOCKED on PostgreSQL, the exclusive write transaction on SQLite), hands each firing to its target through
EventBridge's delivery and moves next_at to the following firing: a firing happens once cluster-wide, and after a
crash either happened with its next_at moved or not at all.

Every worker runs a loop that fires as soon as something is due, woken by schedule changes (the store's WAKE_KEY,
in every process) and test-clock moves; the leased job `scheduler.fire` is the safety net. A schedule whose firings
were missed (the broker was down) fires once when it comes back, not once per missed firing, and then continues
from then on (rate schedules keep their cadence)."""

from __future__ import annotations

import json
import logging
from typing import Any

from broker import clock, ids
from broker.jobs.wake_loop import WakeLoop, until_due
from broker.notify import WAKE_ALL
from broker.services.base import Env
from broker.services.events.targets import deliver
from broker.services.scheduler import expressions, store
from broker.services.scheduler.delivery import firing
from broker.services.scheduler.names import arn_of
from broker.storage.db import DB_ERRORS, Tx

log = logging.getLogger("broker.scheduler")

BATCH = 100  # firings per transaction
IDLE_WAIT_S = 60.0  # nothing due soon: changes and clock moves wake the loop
RETRY_MS = 60_000  # a firing that failed (a bug, not its target: those are the delivery's retries) is tried again


def fire_due(tx: Tx, now: int) -> int:
    """Fire every due schedule (up to BATCH) in this transaction; how many were taken."""
    rows = store.take_due(tx, now, BATCH)
    for row in rows:
        savepoint = tx.conn.begin_nested()
        try:
            _fire(tx, row, now)
            savepoint.commit()
        except DB_ERRORS:
            raise
        except Exception:  # a bug must not stop every other schedule: this one is tried again later
            savepoint.rollback()
            log.exception(
                "Schedule %s/%s could not fire; trying again in %d s", row["group_name"], row["name"], RETRY_MS // 1000
            )
            store.retry_later(tx, row["account"], row["region"], row["group_name"], row["name"], now + RETRY_MS)
    return len(rows)


def _fire(tx: Tx, row: dict[str, Any], now: int) -> None:
    account, region, group, name = row["account"], row["region"], row["group_name"], row["name"]
    doc = json.loads(row["doc"])
    arn = arn_of(account, region, group, name)
    if doc.get("_complete"):  # ActionAfterCompletion DELETE: the EndDate of a schedule with nothing left came
        store.delete_schedule(tx, account, region, group, name)
        return
    nominal = int(doc.get("_nominal") or row["next_at"])
    deliver(tx, firing(account, region, arn, doc["Target"], nominal, ids.token(8), now), now)
    expr = expressions.parse(doc["ScheduleExpression"])
    end = doc.get("EndDate")
    # Lateness counts from when the firing was due (its flexible window offset is not lateness).
    late_by = max(now - int(row["next_at"]), 0)
    nxt = expressions.following(expr, doc["ScheduleExpressionTimezone"], nominal, nominal + late_by, end)
    next_at: int | None = None
    if nxt is not None:
        window = doc["FlexibleTimeWindow"].get("MaximumWindowInMinutes")
        next_at = nxt + expressions.window_offset(arn, nxt, window)
    elif doc.get("ActionAfterCompletion") == "DELETE":
        if expr.kind == "at" or end is None or end <= now:
            store.delete_schedule(tx, account, region, group, name)
            return
        doc["_complete"], next_at = True, end  # deleted once its EndDate has come
    doc["_nominal"] = nxt
    store.replace_schedule(tx, account, region, group, name, doc, next_at, wake=False)


class Firer(WakeLoop):
    """This worker's firing loop."""

    def __init__(self, env: Env) -> None:
        keys = (store.WAKE_KEY, "clock:", WAKE_ALL)
        super().__init__(env.notifier, keys, log, "Scheduler firing pass failed", 1.0)
        self.env = env

    # -- the safety-net job (scheduler thread) ------------------------------------------------------------------
    def has_due(self) -> bool:
        due = self.env.db.read_sync(store.next_due)
        return due is not None and due <= clock.now_ms()

    def run_due(self) -> int:
        fired = 0
        while True:
            n = self.env.db.write_sync(fire_due, clock.now_ms())
            fired += n
            if n < BATCH:
                return fired

    # -- the loop (event loop) ----------------------------------------------------------------------------------
    async def run_pass(self) -> float | None:
        due = await self.env.db.read(store.next_due)
        if due is not None and due <= clock.now_ms():
            if await self.env.db.write(fire_due, clock.now_ms()) == BATCH:
                return None  # more are due
            due = await self.env.db.read(store.next_due)
        # Still due: another node holds it (PostgreSQL), look again shortly.
        return IDLE_WAIT_S if due is None else until_due(due, IDLE_WAIT_S)
