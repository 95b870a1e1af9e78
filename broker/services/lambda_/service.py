"""Lambda as the runtime sees it: its spec, this worker's runner and execution engine, the dispatcher of asynchronous
invocations (and its safety-net job), the event source pollers, the lifecycle loop that retires stale and idle
environments, function URLs, and the admin route that serves code downloads (GetFunction's Code.Location)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response

from broker.protocol.spec import ServiceSpec
from broker.services.base import DataPlane, Env, Job, Service, Slot
from broker.services.lambda_ import spec, store, versions
from broker.services.lambda_.async_invoke import AsyncInvoker
from broker.services.lambda_.execution.engine import Engine
from broker.services.lambda_.lifecycle import Lifecycle
from broker.services.lambda_.runner import ENGINE_SLOT, RUNNER, Runner
from broker.services.lambda_.sources.manager import Sources
from broker.services.lambda_.urls import FunctionUrls
from broker.services.lambda_.versions import VERSIONS


class LambdaService(Service):
    name = "lambda"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        settings = env.settings
        self.engine = Engine(settings, f"http://127.0.0.1:{settings.port}")
        self.runner = Runner(env)
        self.versions = versions.new_cache()
        self.urls = FunctionUrls(env)
        self.lifecycle = Lifecycle(env, self.engine, self.runner)
        self.async_invoker = AsyncInvoker(env)
        self.sources = Sources(env, self.async_invoker.host)

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]

    def provides(self) -> dict[Slot[Any], object]:
        return {RUNNER: self.runner, ENGINE_SLOT: self.engine, VERSIONS: self.versions}

    def jobs(self) -> list[Job]:
        # The safety net of asynchronous invocations: due retries and expired claims nobody was woken for.
        invoker = self.async_invoker
        return [
            Job(
                "lambda.async",
                invoker.run_due,
                self.env.settings.lambda_async_interval_seconds,
                precheck=invoker.has_work,
            )
        ]

    def data_plane(self) -> DataPlane:
        return self.urls

    def admin_router(self) -> APIRouter:
        router = APIRouter(prefix="/_broker/lambda", tags=["lambda"])
        db = self.env.db

        @router.get("/code/{sha}.zip")
        async def code(sha: str) -> Response:
            data = await db.read(store.get_code, sha)
            if data is None:
                raise HTTPException(404, "no such code")
            return Response(data, media_type="application/zip")

        return router

    async def start(self) -> None:
        self.lifecycle.start()
        self.async_invoker.start()
        self.sources.start()

    async def stop(self) -> None:
        await self.sources.stop()
        await self.async_invoker.stop()
        await self.lifecycle.stop()
        await self.engine.stop()


SERVICE = LambdaService
