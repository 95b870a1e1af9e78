"""What every poller shares with the manager: a request to stop between batches, which also ends at once whatever
wait for work the poller is in."""

from __future__ import annotations

from broker.notify import Notifier, Watch

PAUSE_KEY = "lambda:esm:pause"  # never committed: a pause ends by time, by stop(), or by the clock's broadcast


class Stopped(Exception):
    """The poller was asked to stop while a batch waited for its next attempt (the batch is not committed)."""


class Stoppable:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.stopping = False
        self._watch: Watch | None = None

    def stop(self) -> None:
        """Finish the batches in flight (their outcomes written), then return from run()."""
        self.stopping = True
        if self._watch is not None and not self._watch.fut.done():
            self._watch.fut.set_result(True)

    def watch(self, keys: list[str]) -> Watch:
        """A Watch of `keys` that stop() also ends."""
        self._watch = Watch(self.notifier, keys)
        if self.stopping:
            self._watch.fut.set_result(True)
        return self._watch

    async def pause(self, seconds: float) -> None:
        """Sleep up to `seconds` (less when stopped or the test clock moves)."""
        with self.watch([PAUSE_KEY]) as w:
            await w.wait(seconds)
