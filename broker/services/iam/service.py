"""IAM as the runtime sees it: one spec; state in the iam_* tables, nothing per process."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec
from broker.services.base import Service
from broker.services.iam import spec


class IamService(Service):
    name = "iam"

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]


SERVICE = IamService
