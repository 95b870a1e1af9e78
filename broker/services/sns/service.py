"""SNS as the runtime sees it: its spec, its topic cache, the broker's signing key, the HTTP/S deliverer, its timed
work (deduplication and archive sweep, archive replays) and its admin routes."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from broker.cache import TtlCache
from broker.protocol.spec import ServiceSpec
from broker.services.base import Env, Job, Service, Slot
from broker.services.sns import admin, jobs, replay, spec, store
from broker.services.sns.http_delivery import Deliverer
from broker.services.sns.signing import SIGNER, Signer
from broker.services.sns.topics import CACHE_PREFIX, TOPICS, Topic


class SnsService(Service):
    name = "sns"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.topics: TtlCache[Topic] = TtlCache(CACHE_PREFIX)
        self.signer = Signer()
        self.deliverer = Deliverer(env.db, env.notifier, env.settings)

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]

    def provides(self) -> dict[Slot[Any], object]:
        return {TOPICS: self.topics, SIGNER: self.signer}

    def jobs(self) -> list[Job]:
        db, settings = self.env.db, self.env.settings
        return [
            Job(
                "sns.sweep",
                lambda: jobs.sweep(db),
                settings.sweep_interval_seconds,
                wake=store.SWEEP_WAKE_KEY,
                due=lambda: jobs.sweep_due(db),
            ),
            Job(
                "sns.replay",
                lambda: jobs.run_replays(db, self.signer, settings.sigv4),
                settings.move_interval_seconds,
                precheck=lambda: jobs.has_replays(db),
                wake=replay.WAKE_KEY,
            ),
        ]

    def admin_router(self) -> APIRouter:
        return admin.router(self.env, self.signer)

    def kept_state(self) -> frozenset[str]:
        return frozenset({store.SIGNING_KEY})  # every worker holds the signing key in memory

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.signer.load, self.env.db, self.env.settings.sns_signing_key_bits)
        self.deliverer.start()

    async def stop(self) -> None:
        await self.deliverer.stop()


SERVICE = SnsService
