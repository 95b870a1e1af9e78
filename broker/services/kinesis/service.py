"""Kinesis Data Streams as the runtime sees it: its spec, its stream cache, its retention sweep."""

from __future__ import annotations

from typing import Any

from broker.cache import TtlCache
from broker.protocol.spec import ServiceSpec
from broker.services.base import Env, Job, Service, Slot
from broker.services.kinesis import jobs, spec, store
from broker.services.kinesis.streams import CACHE_PREFIX, STREAMS, Stream


class KinesisService(Service):
    name = "kinesis"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.streams: TtlCache[Stream] = TtlCache(CACHE_PREFIX)

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]

    def provides(self) -> dict[Slot[Any], object]:
        return {STREAMS: self.streams}

    def jobs(self) -> list[Job]:
        db = self.env.db
        sweep = Job(
            "kinesis.sweep",
            lambda: jobs.sweep(db),
            self.env.settings.sweep_interval_seconds,
            wake=store.SWEEP_WAKE_KEY,
            due=lambda: jobs.sweep_due(db),
        )
        return [sweep]


SERVICE = KinesisService
