"""SQS as the runtime sees it: its spec, its queue cache, its timed work."""

from __future__ import annotations

from typing import Any

from broker.cache import TtlCache
from broker.protocol.spec import ServiceSpec
from broker.services.base import Env, Job, Service, Slot
from broker.services.sqs import jobs, move_store, spec, sweep_store
from broker.services.sqs.queues import CACHE_PREFIX, QUEUES, Queue


class SqsService(Service):
    name = "sqs"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.queues: TtlCache[Queue] = TtlCache(CACHE_PREFIX)

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]

    def provides(self) -> dict[Slot[Any], object]:
        return {QUEUES: self.queues}

    def jobs(self) -> list[Job]:
        db, settings = self.env.db, self.env.settings
        return [
            Job(
                "sqs.sweep",
                lambda: jobs.sweep(db),
                settings.sweep_interval_seconds,
                wake=sweep_store.WAKE_KEY,
                due=lambda: jobs.sweep_due(db),
            ),
            Job(
                "sqs.move",
                lambda: jobs.run_move_tasks(db, settings.sqs_move_default_rate),
                settings.move_interval_seconds,
                precheck=lambda: jobs.has_move_tasks(db),
                wake=move_store.WAKE_KEY,
            ),
        ]


SERVICE = SqsService
