"""EventBridge as the runtime sees it: its spec (the control plane of buses, rules and targets)."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec
from broker.services.base import Service
from broker.services.events import spec


class EventsService(Service):
    name = "events"

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]


SERVICE = EventsService
