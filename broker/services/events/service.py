"""EventBridge as the runtime sees it: its spec (the control plane of buses, rules and targets)."""

from __future__ import annotations

from typing import Any

from broker.protocol.spec import ServiceSpec
from broker.services.base import TIME_ONLY, Env, Job, Service, Slot
from broker.services.events import (
    api_destinations,  # noqa: F401 - registers the API destination sender
    archives,
    authorizations,
    replays,
    spec,
    targets,
)
from broker.services.events.delivery import Dispatcher
from broker.services.events.rule_schedules import RuleScheduler


class EventsService(Service):
    name = "events"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.rule_scheduler = RuleScheduler(env)
        self.dispatcher = Dispatcher(env)

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]

    def jobs(self) -> list[Job]:
        rules = self.rule_scheduler
        return [
            # The safety net of scheduled rules (each process's loop fires them when due).
            Job("events.rule_schedules", rules.run_due, 30.0, precheck=rules.has_work),
            # The safety net of deliveries: due retries and ended claims nobody was woken for.
            Job("events.deliveries", self.dispatcher.run_due, 10.0, precheck=self.dispatcher.has_work),
            *self._archive_jobs(),
        ]

    def provides(self) -> dict[Slot[Any], object]:
        return {ARCHIVES: archives.CACHE}

    def _archive_jobs(self) -> list[Job]:
        env, db, interval = self.env, self.env.db, self.env.settings.sweep_interval_seconds
        lease_s = env.settings.lease_ttl_seconds
        return [
            # Archived events past their archive's retention; replays' chunks; OAuth connections left AUTHORIZING
            # (api_destinations registers itself as the remote sender of API destination targets on import).
            Job(
                "events.archive_sweep",
                lambda: archives.sweep(db),
                interval,
                precheck=lambda: archives.has_expired(db),
                wake=TIME_ONLY,  # events past their archive's retention (days)
            ),
            Job("events.replays", lambda: replays.run(db, lease_s), interval, precheck=lambda: replays.has_work(db)),
            Job(
                "events.authorizations",
                lambda: authorizations.run(env),
                interval,
                precheck=lambda: authorizations.has_work(env),
            ),
        ]

    async def start(self) -> None:
        targets.bind(self.env)
        authorizations.start()
        self.dispatcher.start()
        self.rule_scheduler.start()

    async def stop(self) -> None:
        await self.dispatcher.stop()
        await authorizations.close()
        await self.rule_scheduler.stop()


ARCHIVES = Slot[object]("events.archives")  # the per-process archive lists capture reads
SERVICE = EventsService
