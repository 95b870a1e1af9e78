"""A worker's wake loop: a task on the event loop that does a pass of due work, then waits until a notification
(one of its keys, from any process) or the wait the pass asked for, whichever comes first. A pass that fails
(e.g. the database is busy) is logged and tried again after `retry_s`. Tasks a pass starts (`spawn`) are
cancelled with the loop on stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

from broker import clock
from broker.notify import Notifier


def until_due(due: int, cap_s: float) -> float:
    """The wait until test-clock time `due` (at least 50 ms), at most `cap_s` (the test clock may move)."""
    return min(max((due - clock.now_ms()) / 1000, 0.05), cap_s)


class WakeLoop:
    """Subclasses implement `run_pass`."""

    def __init__(
        self,
        notifier: Notifier,
        keys: Iterable[str],
        log: logging.Logger,
        failure: str,
        retry_s: float,
        settle_s: float = 0.0,
    ) -> None:
        """`failure`: the log message of a failed pass; `settle_s`: a pause after each wait, so that wakeups
        within it share the next pass."""
        self.notifier = notifier
        self._keys = tuple(keys)
        self._log = log
        self._failure = failure
        self._retry_s = retry_s
        self._settle_s = settle_s
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    async def run_pass(self) -> float | None:
        """Do the due work; how long to wait for a wakeup before the next pass (None: go again at once)."""
        raise NotImplementedError

    def start(self) -> None:
        for key in self._keys:
            self.notifier.subscribe(key, self._woken)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def _woken(self, _key: str) -> None:
        self._wake.set()

    async def stop(self) -> None:
        tasks = [t for t in [self._task, *self._in_flight] if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `work` beside the loop (cancelled by stop)."""
        task = asyncio.get_running_loop().create_task(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self.run_pass()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged; e.g. the database is busy: try again later
                self._log.exception(self._failure)
                wait = self._retry_s
            if wait is None:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            if self._settle_s:
                await asyncio.sleep(self._settle_s)
