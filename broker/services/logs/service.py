"""CloudWatch Logs as the runtime sees it: its spec and its retention sweep."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec
from broker.services.base import TIME_ONLY, Job, Service
from broker.services.logs import jobs, spec


class LogsService(Service):
    name = "logs"

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]

    def jobs(self) -> list[Job]:
        db = self.env.db
        return [
            Job(
                "logs.sweep",
                lambda: jobs.sweep(db),
                self.env.settings.sweep_interval_seconds,
                precheck=lambda: jobs.has_work(db),
                wake=TIME_ONLY,  # events past their group's retention (days): idle, every 30 s is plenty
            )
        ]


SERVICE = LogsService
