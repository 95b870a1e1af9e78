"""The per-process scheduler. Every process runs the same jobs; a lease decides which one does the work.

A job with a `wake` key sleeps while it has nothing to do: once its precheck finds no work it is paused until a
notification of that key (from any process: the writes that create its work wake it), a move of the test clock
or, as a safety net for a lost datagram, IDLE_RECHECK_S — an idle broker does not poll the database ten times a
second for work that announces itself, nor every few seconds for work that only comes with time (retention).
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

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

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
    paused: bool = False
    woken: bool = False


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
    ) -> None:
        self.jobs[name] = Job(name, fn, interval, leased, precheck, wake if precheck is not None else None)

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

    def _sleep(self, job: Job) -> None:
        """The precheck found nothing: pause, unless a wake came since the precheck began."""
        with self._pause_lock:
            if not job.woken and not job.paused:
                try:
                    self.scheduler.pause_job(job.name)
                except JobLookupError:  # the scheduler has stopped
                    return
                job.paused = True

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def run(self, name: str) -> bool:
        """Run one job now if this process can hold its lease; True if it ran."""
        job = self.jobs[name]
        try:
            job.woken = False
            if job.precheck is not None and not job.precheck():
                if job.wake is not None:
                    self._sleep(job)
                return False
            if job.leased and not self.db.write_sync(leases.acquire, f"job:{name}", self.owner, self.ttl_ms):
                return False
            job.fn()
            return True
        except Exception:  # a failed run is retried at the next interval
            log.exception("job %s failed", name)
            return False
