"""The per-process scheduler. Every process runs the same jobs; a lease decides which one does the work."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler

from broker.jobs import leases
from broker.storage.db import Database

log = logging.getLogger("broker.jobs")


@dataclass
class Job:
    name: str
    fn: Callable[[], object]
    interval: float
    leased: bool = True
    # Cheap check run before taking the lease: no lease traffic while there is nothing to do.
    precheck: Callable[[], bool] | None = None


class Jobs:
    def __init__(self, db: Database, lease_ttl_seconds: float) -> None:
        self.db = db
        self.ttl_ms = int(lease_ttl_seconds * 1000)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.jobs: dict[str, Job] = {}
        self.scheduler = BackgroundScheduler(daemon=True, job_defaults={"coalesce": True, "max_instances": 1})

    def add(
        self,
        name: str,
        fn: Callable[[], object],
        interval: float,
        leased: bool = True,
        precheck: Callable[[], bool] | None = None,
    ) -> None:
        self.jobs[name] = Job(name, fn, interval, leased, precheck)

    def start(self) -> None:
        for job in self.jobs.values():
            self.scheduler.add_job(self.run, "interval", args=[job.name], seconds=job.interval, id=job.name)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def run(self, name: str) -> bool:
        """Run one job now if this process can hold its lease; True if it ran."""
        job = self.jobs[name]
        try:
            if job.precheck is not None and not job.precheck():
                return False
            if job.leased and not self.db.write_sync(leases.acquire, f"job:{name}", self.owner, self.ttl_ms):
                return False
            job.fn()
            return True
        except Exception:  # a failed run is retried at the next interval
            log.exception("job %s failed", name)
            return False
