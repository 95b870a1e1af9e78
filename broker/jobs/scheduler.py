"""The per-process scheduler. Every process runs the same jobs; a lease decides which one does the work.

A job with a `wake` key sleeps while it has nothing to do: once its precheck finds no work it is paused until a
notification of that key (from any process: the writes that create its work wake it), a move of the test clock
or, as a safety net for a lost datagram, IDLE_RECHECK_S — an idle broker does not poll the database ten times a
second for work that announces itself, nor every few seconds for work that only comes with time (retention).

A job whose work comes with time (expiry, retention) tells instead when it is next `due`: it sleeps until then (a
timer when that is within IDLE_RECHECK_S, else the recheck looks again), or until a wake. After a run that did
work it runs again at its next interval without asking (what it did may have left follow-up work that `due` does
not see, such as the delivery state of records it removed), and so does its first run in a process (the
follow-up of a process that died half-way).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from broker import clock
from broker.jobs import leases
from broker.notify import WAKE_ALL, Notifier
from broker.storage.db import Database

log = logging.getLogger("broker.jobs")

IDLE_RECHECK_S = 30.0
RECHECK_JOB = "jobs.recheck"


@dataclass
class Job:
    name: str
    fn: Callable[[], object]
    interval: float
    leased: bool = True
    # Cheap check run before taking the lease: no lease traffic while there is nothing to do.
    precheck: Callable[[], bool] | None = None
    # The notification key prefix of new work (needs a precheck): the job sleeps while the precheck finds none.
    wake: str | None = None
    # When its work is next due (clock ms; None: nothing pending), asked instead of a precheck (needs `wake`).
    due: Callable[[], int | None] | None = None
    paused: bool = False
    woken: bool = False
    busy: bool = True  # the last run did work (or none ran yet): run again without asking `due`


class Jobs:
    def __init__(self, db: Database, lease_ttl_seconds: float, notifier: Notifier | None = None) -> None:
        self.db = db
        self.notifier = notifier
        self.ttl_ms = int(lease_ttl_seconds * 1000)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.jobs: dict[str, Job] = {}
        self.scheduler = BackgroundScheduler(daemon=True, job_defaults={"coalesce": True, "max_instances": 1})
        self._pause_lock = threading.Lock()  # a job pausing (scheduler thread) vs its wake (event loop thread)

    def add(
        self,
        name: str,
        fn: Callable[[], object],
        interval: float,
        leased: bool = True,
        precheck: Callable[[], bool] | None = None,
        wake: str | None = None,
        due: Callable[[], int | None] | None = None,
    ) -> None:
        asks = precheck is not None or due is not None
        self.jobs[name] = Job(name, fn, interval, leased, precheck, wake if asks else None, due if wake else None)

    def start(self) -> None:
        for job in self.jobs.values():
            self.scheduler.add_job(self.run, "interval", args=[job.name], seconds=job.interval, id=job.name)
            if job.wake is not None and self.notifier is not None:
                # WAKE_ALL too: a lost and restored PostgreSQL LISTEN connection, a reset; and a move of the test
                # clock, which can make work due (retention).
                for key in (job.wake, WAKE_ALL, "clock:"):
                    self.notifier.subscribe(key, functools.partial(self._woken, job.name))
        if any(job.wake for job in self.jobs.values()):
            self.scheduler.add_job(self._recheck, "interval", seconds=IDLE_RECHECK_S, id=RECHECK_JOB)
        self.scheduler.start()

    def wake(self, name: str) -> None:
        """New work for `name` may exist: run it at its next interval again."""
        job = self.jobs[name]
        with self._pause_lock:
            job.woken = True
            if job.paused:
                with contextlib.suppress(JobLookupError):  # the scheduler has stopped
                    self.scheduler.resume_job(name)
                job.paused = False

    def _woken(self, name: str, _key: str) -> None:
        self.wake(name)

    def _recheck(self) -> None:
        for job in self.jobs.values():
            if job.paused:
                self.wake(job.name)

    def _sleep(self, job: Job, for_s: float | None = None) -> None:
        """The precheck found nothing: pause, unless a wake came since the precheck began; `for_s`: work is due
        in that many seconds."""
        with self._pause_lock:
            if not job.woken and not job.paused:
                try:
                    self.scheduler.pause_job(job.name)
                    if for_s is not None and for_s < IDLE_RECHECK_S:
                        at = datetime.now(UTC) + timedelta(seconds=for_s)
                        self.scheduler.add_job(
                            self.wake, "date", args=[job.name], run_date=at, id=f"{job.name}:due", replace_existing=True
                        )
                except JobLookupError:  # the scheduler has stopped
                    return
                job.paused = True

    def _idle(self, job: Job) -> bool:
        """Whether the job has nothing to do now (and has gone to sleep)."""
        if job.due is not None:
            if job.busy:
                return False
            at = job.due()
            now = clock.now_ms()
            if at is not None and at <= now:
                return False
            self._sleep(job, None if at is None else (at - now) / 1000)
            return True
        if job.precheck is not None and not job.precheck():
            if job.wake is not None:
                self._sleep(job)
            return True
        return False

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def run(self, name: str) -> bool:
        """Run one job now if this process can hold its lease; True if it ran."""
        job = self.jobs[name]
        try:
            job.woken = False
            if self._idle(job):
                return False
            if job.leased and not self.db.write_sync(leases.acquire, f"job:{name}", self.owner, self.ttl_ms):
                job.busy = False  # another process does the work: ask `due` again
                return False
            done = job.fn()
            job.busy = bool(done)
            return True
        except Exception:  # a failed run is retried at the next interval
            log.exception("job %s failed", name)
            return False
