"""FastAPI app for /_broker/*: health for operators, clock/reset/jobs for test suites (test_mode only), and the
services' own admin routes (each service's `admin_router`)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Response
from pydantic import BaseModel

from broker import __version__, clock
from broker.admin import health as health_details
from broker.admin.guards import require_test_mode
from broker.auth.admin import require_admin
from broker.console.routes import build_router as console_router
from broker.console.routes import docs_router
from broker.jobs import leases
from broker.metrics.route import metrics_router
from broker.runtime import Runtime
from broker.startup import start_with_retries

OPENAPI_URL = "/_broker/openapi.json"


class ClockChange(BaseModel):
    offset_seconds: float | None = None
    advance_seconds: float | None = None


def build_admin(runtime: Runtime) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await start_with_retries(runtime.start, runtime.stop)
        yield
        await runtime.stop()

    app = FastAPI(
        title="broker admin",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served offline by broker.console.routes.docs_router
        openapi_url=None,  # FastAPI's own route would skip the app's dependencies: served below, guarded
        redoc_url=None,
        # auth = "sigv4": every route but health needs an admin (broker/auth/admin.py).
        dependencies=[Depends(require_admin)],
    )
    app.state.broker_env = runtime

    def _test_mode() -> None:
        require_test_mode(runtime.settings)

    @app.get("/_broker/health")
    async def health(response: Response) -> dict[str, Any]:
        held: list[dict[str, Any]] = []
        try:
            held = await runtime.db.read(leases.holders)  # also the check that the database answers
            db_ok = True
        except Exception:  # noqa: BLE001 - any failure means the database cannot be used: report it
            db_ok = False
            response.status_code = 503
        return {
            "status": "ok" if db_ok else "degraded",
            "database": "reachable" if db_ok else "unreachable",
            "backend": "postgresql" if runtime.settings.is_postgres else "sqlite",
            "version": __version__,
            "uptime_seconds": round(time.time() - runtime.started_at, 3),
            "pid": runtime.pid,
            "waiting_long_polls": runtime.notifier.waiting(),
            "auth": runtime.settings.auth,
            "services": health_details.services(runtime),
            "jobs": health_details.jobs(runtime, held),
        }

    @app.get(OPENAPI_URL, include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/_broker/clock")
    async def get_clock() -> dict[str, Any]:
        _test_mode()
        return {"now_ms": clock.now_ms(), "offset_ms": clock.offset_ms()}

    @app.post("/_broker/clock")
    async def set_clock(change: ClockChange) -> dict[str, Any]:
        _test_mode()
        if change.offset_seconds is not None:
            offset = int(change.offset_seconds * 1000)
        elif change.advance_seconds is not None:
            offset = clock.offset_ms() + int(change.advance_seconds * 1000)
        else:
            raise HTTPException(400, "give offset_seconds or advance_seconds")
        await runtime.set_clock_offset(offset)
        return {"now_ms": clock.now_ms(), "offset_ms": clock.offset_ms()}

    @app.post("/_broker/reset")
    async def reset() -> dict[str, Any]:
        _test_mode()
        await runtime.reset()
        return {"reset": True}

    @app.post("/_broker/jobs/{name}/run")
    async def run_job(name: str) -> dict[str, Any]:
        _test_mode()
        if name not in runtime.jobs.jobs:
            raise HTTPException(404, f"no job {name}")
        ran = await asyncio.get_running_loop().run_in_executor(None, runtime.jobs.run, name)
        return {"job": name, "ran": ran, "owner": runtime.jobs.owner}

    @app.get("/_broker/leases")
    async def list_leases() -> dict[str, Any]:
        return {"owner": runtime.jobs.owner, "leases": await runtime.db.read(leases.holders)}

    @app.get("/_broker/resources")
    async def resources() -> dict[str, Any]:
        """What this worker process holds, for leak tests and soak reports (test_mode only)."""
        _test_mode()
        return {
            "pid": runtime.pid,
            "tasks": len(asyncio.all_tasks()),
            "fds": len(os.listdir("/proc/self/fd")),
            "threads": threading.active_count(),
            "rss_kb": _rss_kb(),
            "waiting": runtime.notifier.waiting(),
        }

    app.include_router(metrics_router(runtime.db, runtime.settings))
    app.include_router(console_router(runtime))
    app.include_router(docs_router(OPENAPI_URL, app.title))
    for service in runtime.services:
        router = service.admin_router()
        if router is not None:
            app.include_router(router)
    return app


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
