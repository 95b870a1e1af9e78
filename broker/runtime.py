"""Everything one worker process owns: database, notifier, scheduler, caches, service specs."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time

from sqlalchemy import delete, select

from broker import clock
from broker.cache import TtlCache
from broker.config import Settings
from broker.jobs.scheduler import Jobs
from broker.notify import WAKE_ALL, DatagramTransport, Notifier, PostgresTransport
from broker.protocol.spec import ServiceSpec
from broker.services.kinesis import jobs as kinesis_jobs
from broker.services.kinesis import spec as kinesis_spec
from broker.services.kinesis.streams import CACHE_PREFIX as KINESIS_CACHE_PREFIX
from broker.services.kinesis.streams import Stream
from broker.services.sns import jobs as sns_jobs
from broker.services.sns import spec as sns_spec
from broker.services.sns.http_delivery import Deliverer
from broker.services.sns.signing import STATE_KEY as SIGNING_KEY
from broker.services.sns.signing import Signer
from broker.services.sns.topics import CACHE_PREFIX as SNS_CACHE_PREFIX
from broker.services.sns.topics import Topic
from broker.services.sqs import jobs as sqs_jobs
from broker.services.sqs import spec as sqs_spec
from broker.services.sqs.queues import CACHE_PREFIX, Queue
from broker.services.sts import spec as sts_spec
from broker.storage.db import Database, Tx
from broker.storage.helpers import upsert
from broker.storage.tables import broker_state, metadata

log = logging.getLogger("broker")

CLOCK_KEY = "clock_offset_ms"


class Runtime:
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
        self.jobs = Jobs(self.db, settings.lease_ttl_seconds)
        self.sqs_cache: TtlCache[Queue] = TtlCache(CACHE_PREFIX)
        self.sns_cache: TtlCache[Topic] = TtlCache(SNS_CACHE_PREFIX)
        self.kinesis_cache: TtlCache[Stream] = TtlCache(KINESIS_CACHE_PREFIX)
        self.sns_signer = Signer()
        self.sns_http = Deliverer(self.db, self.notifier)
        self.specs: list[ServiceSpec] = [sqs_spec.build(), sns_spec.build(), kinesis_spec.build(), sts_spec.build()]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.db.listener = self.notifier
        self.db.start()
        self.notifier.subscribe(CACHE_PREFIX, self.sqs_cache.on_notify)
        self.notifier.subscribe(SNS_CACHE_PREFIX, self.sns_cache.on_notify)
        self.notifier.subscribe(KINESIS_CACHE_PREFIX, self.kinesis_cache.on_notify)
        self.notifier.subscribe("clock:", self._on_clock)
        await loop.run_in_executor(None, self.notifier.start, loop)
        if self.settings.test_mode:
            offset = await self.db.read(_read_clock)
            clock.set_offset_ms(offset)
            # A wake-all follows a lost and restored notification connection: a clock change may have been missed.
            self.notifier.subscribe(WAKE_ALL, lambda _key: asyncio.ensure_future(self._reload_clock()))
        self.jobs.add("sqs.sweep", lambda: sqs_jobs.sweep(self.db), self.settings.sweep_interval_seconds)
        self.jobs.add(
            "sqs.move",
            lambda: sqs_jobs.run_move_tasks(self.db, self.settings.sqs_move_default_rate),
            self.settings.move_interval_seconds,
            precheck=lambda: sqs_jobs.has_move_tasks(self.db),
        )
        await loop.run_in_executor(None, self.sns_signer.load, self.db, self.settings.sns_signing_key_bits)
        self.jobs.add("sns.sweep", lambda: sns_jobs.sweep(self.db), self.settings.sweep_interval_seconds)
        self.jobs.add(
            "sns.replay",
            lambda: sns_jobs.run_replays(self.db, self.sns_signer),
            self.settings.move_interval_seconds,
            precheck=lambda: sns_jobs.has_replays(self.db),
        )
        self.jobs.add("kinesis.sweep", lambda: kinesis_jobs.sweep(self.db), self.settings.sweep_interval_seconds)
        self.jobs.start()
        self.sns_http.start()
        # Long-lived startup objects leave the collector's view, and young collections run less often: fewer
        # pauses in the middle of requests.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)

    async def stop(self) -> None:
        await self.sns_http.stop()
        self.jobs.stop()
        self.notifier.stop()
        await asyncio.get_running_loop().run_in_executor(None, self.db.stop)

    # -- test mode ----------------------------------------------------------------------------------------
    def _on_clock(self, key: str) -> None:
        clock.set_offset_ms(int(key.split(":", 1)[1]))

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
        await self.db.write(_reset_all)
        clock.set_offset_ms(0)
        caches = (self.sqs_cache, self.sns_cache, self.kinesis_cache)
        for cache in caches:
            cache.on_notify(cache.prefix + "*")
        self.notifier.broadcast({*(cache.prefix + "*" for cache in caches), "clock:0", WAKE_ALL})


def _read_clock(conn) -> int:  # noqa: ANN001
    value = conn.execute(select(broker_state.c.value).where(broker_state.c.key == CLOCK_KEY)).scalar()
    return int(value) if value else 0


def _write_clock(tx: Tx, offset_ms: int) -> None:
    upsert(tx.conn, broker_state, {"key": CLOCK_KEY, "value": str(offset_ms)}, ["key"])


def _reset_all(tx: Tx) -> None:
    for table in reversed(metadata.sorted_tables):
        if table.name == "broker_state":  # the SNS signing key stays: every worker holds it in memory
            tx.conn.execute(delete(table).where(table.c.key != SIGNING_KEY))
        elif table.name != "leases":
            tx.conn.execute(delete(table))
