"""The dispatcher of stored deliveries (events_deliveries): every worker attempts the due rows as soon as one is
added (the "events:deliveries" wakeup reaches every process), and a leased job attempts whatever is due that
nobody took (retries whose time came, claims of a process that died). Each attempt is claimed on its row until a
wall-clock time, so two workers never make the same attempt, and an attempt cut short by a crash is made again
once the claim ends (at least once, as EventBridge delivers).

An attempt sends through the remote sender that claims the target, or into the database target itself; a failure
is retried with exponential backoff and jitter under the target's RetryPolicy, then dead-lettered (targets.failed).
Times are test-clock times."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from broker import clock
from broker.jobs.wake_loop import WakeLoop, until_due
from broker.services.base import Env
from broker.services.events import delivery_store, targets
from broker.services.events.targets import Delivery, TargetError
from broker.storage.db import Tx

log = logging.getLogger("broker.events.delivery")

CLAIM_MS = 60_000  # an attempt's hold on its row (remote sends time out well before)
MAX_IN_FLIGHT = 32  # attempts at once in one process
DUE_RECHECK_S = 5.0  # at most this long between looks while retries wait (the test clock may have moved)
IDLE_WAIT_S = 60.0  # nothing waiting: new rows wake the dispatcher

Row = dict[str, Any]


class Dispatcher(WakeLoop):
    """This worker's dispatcher of stored deliveries."""

    def __init__(self, env: Env) -> None:
        # A test-clock move makes retries due. A cancelled attempt keeps its claim: it is made again when the
        # claim ends.
        keys = (delivery_store.WAKE_KEY, "clock:")
        super().__init__(env.notifier, keys, log, "EventBridge delivery dispatch failed", DUE_RECHECK_S)
        self.env = env
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        super().start()

    # -- the safety-net job (scheduler thread) ------------------------------------------------------------------
    def has_work(self) -> bool:
        return bool(self.env.db.read_sync(delivery_store.pending, clock.now_ms(), clock.wall_ms()))

    def run_due(self) -> int:
        """Attempt every due delivery nobody holds, on this worker's loop, and wait for them; how many."""
        if self._loop is None:
            return 0
        return asyncio.run_coroutine_threadsafe(self.dispatch(wait=True), self._loop).result()

    # -- dispatching (event loop) ---------------------------------------------------------------------------------
    async def run_pass(self) -> float | None:
        if await self.dispatch(wait=False):
            return None
        due = await self.env.db.read(delivery_store.next_due)
        return IDLE_WAIT_S if due is None else until_due(due, DUE_RECHECK_S)

    async def dispatch(self, wait: bool) -> int:
        room = MAX_IN_FLIGHT - len(self._in_flight)
        if room <= 0:
            return 0
        rows = await self.env.db.write(delivery_store.claim, clock.now_ms(), clock.wall_ms(), CLAIM_MS, room)
        tasks = [self.spawn(self._attempt(row)) for row in rows]
        if wait and tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return len(rows)

    async def _attempt(self, row: Row) -> None:
        delivery = targets.for_attempt(delivery_store.delivery_of(row), row["attempts"])
        db = self.env.db
        if clock.now_ms() - delivery.accepted_at > delivery.max_age_s * 1000:
            await db.write(_expire, row, delivery)
            return
        send = targets.remote_sender(delivery.target_arn)
        if send is None:  # a database target whose earlier attempt failed
            await db.write(_local, row, delivery)
            return
        try:
            await send(self.env, delivery)
        except TargetError as e:
            await asyncio.shield(db.write(_finish, row, delivery, e))
            return
        except Exception as e:
            log.exception("EventBridge delivery to %s failed", delivery.target_arn)
            await asyncio.shield(db.write(_finish, row, delivery, TargetError("INTERNAL_ERROR", str(e) or "Error.")))
            return
        await asyncio.shield(db.write(_finish, row, delivery, None))


def _expire(tx: Tx, row: Row, delivery: Delivery) -> None:
    if delivery_store.still_claimed(tx, row):
        targets.expired(
            tx, delivery, targets.error_of(row["last_error"]), row["attempts"] - 1, row["id"], clock.now_ms()
        )


def _local(tx: Tx, row: Row, delivery: Delivery) -> None:
    """Writer thread: another attempt at a database target, its outcome written in the same transaction."""
    if not delivery_store.still_claimed(tx, row):
        return
    now = clock.now_ms()
    try:
        targets.send_local(tx, delivery, now)
    except TargetError as e:
        targets.failed(tx, delivery, e, row["attempts"], now, row["id"])
        return
    delivery_store.remove(tx, row["id"])


def _finish(tx: Tx, row: Row, delivery: Delivery, error: TargetError | None) -> None:
    """Writer thread: a remote attempt's outcome."""
    if not delivery_store.still_claimed(tx, row):
        return  # its claim ended and another worker took it
    if error is None:
        delivery_store.remove(tx, row["id"])
    else:
        targets.failed(tx, delivery, error, row["attempts"], clock.now_ms(), row["id"])
