"""API Gateway as the runtime sees it: the REST API (v1) control plane (state in apigateway_objects) and the
execute-api data plane that serves deployed stages."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec
from broker.services.apigateway import spec
from broker.services.apigateway.execute import ExecuteApi
from broker.services.base import DataPlane, Env, Service


class ApiGatewayService(Service):
    name = "apigateway"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.execute = ExecuteApi(env)

    def data_plane(self) -> DataPlane:
        return self.execute

    async def stop(self) -> None:
        await self.execute.close()

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]


SERVICE = ApiGatewayService
