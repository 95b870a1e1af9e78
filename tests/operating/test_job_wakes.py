"""Jobs with a wake key sleep while they have nothing to do: paused after a precheck that finds no work, resumed by
a notification of their key (or the periodic recheck), never losing a wake that comes while the precheck runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from broker import clock
from broker.jobs import scheduler
from broker.jobs.scheduler import Jobs


class FakeNotifier:
    def __init__(self) -> None:
        self.handlers: list[tuple[str, Callable[[str], None]]] = []

    def subscribe(self, prefix: str, handler: Callable[[str], None]) -> None:
        self.handlers.append((prefix, handler))

    def publish(self, key: str) -> None:
        for prefix, handler in self.handlers:
            if key.startswith(prefix):
                handler(key)


def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _jobs(work: list[int], prechecks: list[int], hook: Callable[[], None] | None = None) -> Jobs:
    notifier = FakeNotifier()
    jobs = Jobs(db=None, lease_ttl_seconds=1, notifier=notifier)  # type: ignore[arg-type]  # unleased: no database

    def precheck() -> bool:
        prechecks.append(1)
        found = bool(work)
        if hook is not None:
            hook()  # after the look: what it does comes too late for this precheck
        return found

    jobs.add("moves", lambda: work.pop(), 0.02, leased=False, precheck=precheck, wake="sqs:moves")
    return jobs


def test_an_idle_job_sleeps_until_its_key_is_notified():
    work: list[int] = []
    prechecks: list[int] = []
    jobs = _jobs(work, prechecks)
    jobs.start()
    try:
        _until(lambda: jobs.jobs["moves"].paused)
        seen = len(prechecks)
        time.sleep(0.3)  # 15 intervals
        assert len(prechecks) == seen, "a paused job ran its precheck"
        work.extend([1, 2, 3])
        jobs.notifier.publish("sqs:moves")  # type: ignore[union-attr]
        _until(lambda: not work)
        _until(lambda: jobs.jobs["moves"].paused)  # and asleep again once done
        jobs.notifier.publish("sqs:other")  # type: ignore[union-attr]  # not its key
        assert jobs.jobs["moves"].paused
    finally:
        jobs.stop()


def test_a_wake_during_the_precheck_is_not_lost():
    work: list[int] = []
    prechecks: list[int] = []
    once = threading.Event()
    jobs: Jobs

    def wake_meanwhile() -> None:
        if not once.is_set():  # the first precheck finds nothing, but work arrives before it pauses the job
            once.set()
            work.append(1)
            jobs.wake("moves")

    jobs = _jobs(work, prechecks, wake_meanwhile)
    jobs.start()
    try:
        _until(lambda: not work and once.is_set())
    finally:
        jobs.stop()


def test_the_recheck_resumes_a_job_whose_wake_was_lost(monkeypatch):
    monkeypatch.setattr(scheduler, "IDLE_RECHECK_S", 0.2)
    work: list[int] = []
    prechecks: list[int] = []
    jobs = _jobs(work, prechecks)
    jobs.start()
    try:
        _until(lambda: jobs.jobs["moves"].paused)
        work.append(1)  # no notification
        _until(lambda: not work)
    finally:
        jobs.stop()


def _timed(items: list[int], runs: list[int], asked: list[int]) -> Jobs:
    """A job whose work comes with time: `items` are the times its pieces of work are due; a run does those due."""
    jobs = Jobs(db=None, lease_ttl_seconds=1, notifier=FakeNotifier())  # type: ignore[arg-type]  # unleased

    def due() -> int | None:
        asked.append(clock.now_ms())
        return min(items, default=None)

    def run() -> int:
        now = clock.now_ms()
        runs.append(now)
        done = [at for at in items if at <= now]
        for at in done:
            items.remove(at)
        return len(done)

    jobs.add("sweep", run, 0.02, leased=False, wake="sqs:sweep", due=due)
    return jobs


def test_a_timed_job_runs_when_its_work_is_due_and_asks_nothing_meanwhile():
    at = clock.now_ms() + 400
    items = [at]
    runs: list[int] = []
    asked: list[int] = []
    jobs = _timed(items, runs, asked)
    jobs.start()
    try:
        _until(lambda: jobs.jobs["sweep"].paused)
        assert len(runs) == 1  # the first run in a process does not ask (the follow-up of a crash)
        time.sleep(0.2)
        assert len(runs) == 1 and len(asked) == 1, "it polled while nothing was due"
        _until(lambda: not items)
        assert runs[-1] >= at
        _until(lambda: jobs.jobs["sweep"].paused)
        ran = len(runs)
        time.sleep(0.2)
        assert len(runs) == ran, "it ran with nothing due"
        items.append(clock.now_ms())  # work that is due at once, announced by its key
        jobs.notifier.publish("sqs:sweep")  # type: ignore[union-attr]
        _until(lambda: not items)
    finally:
        jobs.stop()


def test_a_timed_job_that_did_work_runs_again_without_asking():
    runs: list[int] = []
    asked: list[int] = []
    now = clock.now_ms()
    jobs = _timed([now - 2, now - 1, now], runs, asked)
    jobs.start()
    try:
        _until(lambda: jobs.jobs["sweep"].paused)
        assert len(runs) == 2 and len(asked) == 1  # one run that did the work, one that found none; then asked
    finally:
        jobs.stop()


def test_a_timed_job_looks_again_after_the_recheck(monkeypatch):
    monkeypatch.setattr(scheduler, "IDLE_RECHECK_S", 0.2)
    items = [clock.now_ms() + 3_600_000]  # beyond the recheck: no timer
    runs: list[int] = []
    asked: list[int] = []
    jobs = _timed(items, runs, asked)
    jobs.start()
    try:
        _until(lambda: jobs.jobs["sweep"].paused)
        items.append(clock.now_ms())  # work became due that nobody announced (a message sent with a short retention)
        _until(lambda: len(items) == 1)
    finally:
        jobs.stop()
