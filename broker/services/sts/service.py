"""STS as the runtime sees it: a spec and nothing stored."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec
from broker.services.base import Service
from broker.services.sts import spec


class StsService(Service):
    name = "sts"

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]


SERVICE = StsService
