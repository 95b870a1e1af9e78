"""API Gateway v2 (HTTP and WebSocket APIs) as the runtime sees it: the control plane, its state in the
apigateway_objects table it shares with v1 (kinds v2*, see store.py)."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec
from broker.services.apigatewayv2 import spec
from broker.services.base import Service


class ApiGatewayV2Service(Service):
    name = "apigatewayv2"

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]


SERVICE = ApiGatewayV2Service
