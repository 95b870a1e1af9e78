"""API Gateway as the runtime sees it: the REST API (v1) control plane; state in apigateway_objects."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec
from broker.services.apigateway import spec
from broker.services.base import Service


class ApiGatewayService(Service):
    name = "apigateway"

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]


SERVICE = ApiGatewayService
