"""API Gateway (REST APIs, v1) as the runtime sees it: the control plane's spec (state in apigateway_objects), the
execute-api data plane that serves deployed stages (execute.py), the process's Lambda authorizer result cache it
provides (authorizer_cache.py), and on stop the access log lines still queued written out (access_log.py)."""

from __future__ import annotations

from typing import Any

from broker.protocol.spec import ServiceSpec
from broker.services.apigateway import access_log, spec
from broker.services.apigateway.authorizer_cache import AUTHORIZER_CACHE, AuthorizerCache
from broker.services.apigateway.execute import ExecuteApi
from broker.services.base import DataPlane, Env, Service, Slot


class ApiGatewayService(Service):
    name = "apigateway"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.execute = ExecuteApi(env)
        self.authorizer_cache = AuthorizerCache()

    def provides(self) -> dict[Slot[Any], object]:
        return {AUTHORIZER_CACHE: self.authorizer_cache}

    def data_plane(self) -> DataPlane:
        return self.execute

    async def stop(self) -> None:
        await access_log.flush(self.env)
        await self.execute.close()

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]


SERVICE = ApiGatewayService
