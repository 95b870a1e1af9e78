"""Everything one worker process owns: database, notifier, scheduler, and the services of the registry."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, delete, select

from broker import clock
from broker.cache import TtlCache
from broker.config import Settings
from broker.jobs.scheduler import Jobs
from broker.notify import WAKE_ALL, DatagramTransport, Notifier, PostgresTransport
from broker.protocol.spec import ServiceSpec
from broker.services.base import Service, Slot
from broker.services.registry import service_classes
from broker.storage.db import Database, Tx
from broker.storage.helpers import upsert
from broker.storage.tables import broker_state, metadata

log = logging.getLogger("broker")

CLOCK_KEY = "clock_offset_ms"
T = TypeVar("T")


class Runtime:
    """One per worker process; implements `broker.services.base.Env` for the services it builds."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started_at = time.time()
        self.pid = os.getpid()
        self.db = Database(settings)
        transport = (
            PostgresTransport(settings.database_url())
            if settings.is_postgres
            else DatagramTransport(settings.state_dir)
        )
        self.notifier = Notifier(transport)
        self.jobs = Jobs(self.db, settings.lease_ttl_seconds, self.notifier)
        self.services: list[Service] = [cls(self) for cls in service_classes()]
        self.specs: list[ServiceSpec] = [spec for service in self.services for spec in service.specs()]
        self._slots: dict[Slot[Any], object] = {}
        for service in self.services:
            self._slots.update(service.provides())
        self.data_planes = [dp for service in self.services if (dp := service.data_plane()) is not None]

    def get(self, slot: Slot[T]) -> T:
        return cast(T, self._slots[slot])

    async def open(self) -> None:
        """The database and notifications only (no service hooks, no jobs): enough to run operations, which is
        how the declared resources are created before any worker starts (`broker.resources`)."""
        loop = asyncio.get_running_loop()
        self.db.listener = self.notifier
        self.db.start()
        for cache in self._caches():
            self.notifier.subscribe(cache.prefix, cache.on_notify)
        self.notifier.subscribe("clock:", self._on_clock)
        await loop.run_in_executor(None, self.notifier.start, loop)
        if self.settings.test_mode:
            clock.set_offset_ms(await self.db.read(_read_clock))

    async def close(self) -> None:
        """Undo `open`."""
        self.notifier.stop()
        await asyncio.get_running_loop().run_in_executor(None, self.db.stop)

    async def start(self) -> None:
        await self.open()
        if self.settings.test_mode:
            # A wake-all follows a lost and restored notification connection: a clock change may have been missed.
            self.notifier.subscribe(WAKE_ALL, self._on_wake_all)
        for service in self.services:
            await service.start()
            for job in service.jobs():
                self.jobs.add(
                    job.name, job.run, job.interval, job.leased, precheck=job.precheck, wake=job.wake, due=job.due
                )
        self.jobs.start()
        # Long-lived startup objects leave the collector's view, and young collections run less often: fewer
        # pauses in the middle of requests.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)

    async def stop(self) -> None:
        for service in reversed(self.services):
            await service.stop()
        self.jobs.stop()
        self.notifier.stop()
        await asyncio.get_running_loop().run_in_executor(None, self.db.stop)

    def _caches(self) -> list[TtlCache[Any]]:
        return [cache for service in self.services for cache in service.caches()]

    # -- test mode ----------------------------------------------------------------------------------------
    def _on_clock(self, key: str) -> None:
        clock.set_offset_ms(int(key.split(":", 1)[1]))

    def _on_wake_all(self, _key: str) -> None:
        asyncio.ensure_future(self._reload_clock())

    async def _reload_clock(self) -> None:
        try:
            clock.set_offset_ms(await self.db.read(_read_clock))
        except Exception:  # noqa: BLE001 - the database is still away: the next wake-all tries again
            log.warning("could not reload the test clock")

    async def set_clock_offset(self, offset_ms: int) -> None:
        await self.db.write(_write_clock, offset_ms)
        clock.set_offset_ms(offset_ms)
        self.notifier.broadcast({f"clock:{offset_ms}", WAKE_ALL})

    async def reset(self) -> None:
        kept = frozenset().union(*(service.kept_state() for service in self.services))
        await self.db.write(_reset_all, kept)
        clock.set_offset_ms(0)
        caches = self._caches()
        for cache in caches:
            cache.on_notify(cache.prefix + "*")
        self.notifier.broadcast({*(cache.prefix + "*" for cache in caches), "clock:0", WAKE_ALL})


def _read_clock(conn: Connection) -> int:
    value = conn.execute(select(broker_state.c.value).where(broker_state.c.key == CLOCK_KEY)).scalar()
    return int(value) if value else 0


def _write_clock(tx: Tx, offset_ms: int) -> None:
    upsert(tx.conn, broker_state, {"key": CLOCK_KEY, "value": str(offset_ms)}, ["key"])


def _reset_all(tx: Tx, kept: frozenset[str]) -> None:
    for table in reversed(metadata.sorted_tables):
        if table.name == "broker_state":  # state every worker holds in memory stays
            tx.conn.execute(delete(table).where(table.c.key.not_in(kept)))
        elif table.name != "leases":
            tx.conn.execute(delete(table))
