"""EventBridge Scheduler as the runtime sees it: its spec, this worker's firing loop and the safety-net job
`scheduler.fire`. Importing `delivery` and `universal` registers Scheduler's dead-letter attributes and its
universal-target sender with EventBridge's delivery."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec
from broker.services.base import Env, Job, Service
from broker.services.scheduler import delivery, spec, store, universal
from broker.services.scheduler.firing import Firer

__all__ = ["SERVICE", "delivery", "universal"]


class SchedulerService(Service):
    name = "scheduler"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.firer = Firer(env)

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]

    def jobs(self) -> list[Job]:
        interval = self.env.settings.sweep_interval_seconds
        # A safety net for the firing loops (firing.py): idle, it sleeps until a schedule changes (or 30 s).
        return [Job("scheduler.fire", self.firer.run_due, interval, precheck=self.firer.has_due, wake=store.WAKE_KEY)]

    async def start(self) -> None:
        self.firer.start()

    async def stop(self) -> None:
        await self.firer.stop()


SERVICE = SchedulerService
