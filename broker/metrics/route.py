"""`GET /_broker/metrics`: every worker process's instruments (summed from their metric files) and the database
gauges, in Prometheus's text format (or OpenMetrics when the scraper asks for it).

A worker that uvicorn replaced (crashed, or killed by its health check) leaves its files behind: its counters
rightly stay in the sums, but its `livesum` gauges (running Lambda invocations) must not, and uvicorn has no hook
for a replaced worker. So each scrape first drops the live-gauge files of processes that no longer exist."""

from __future__ import annotations

import asyncio
import glob
import os
import re
from collections.abc import Iterable

from fastapi import APIRouter, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from broker.config import Settings
from broker.metrics import directory
from broker.metrics.gauges import DatabaseGauges
from broker.storage.db import Database

_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")


class _ThisProcess(Collector):
    """The process's own default registry, when metrics are not kept in files (the app run outside `broker
    serve`, e.g. under plain uvicorn or in an in-process test)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def metrics_router(db: Database, settings: Settings) -> APIRouter:
    router = APIRouter()
    gauges = DatabaseGauges(db, settings)
    registry = CollectorRegistry()
    path = os.environ.get(directory.ENV, "")
    if directory.enabled():
        multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(gauges)

    def render(accept: str) -> tuple[bytes, str]:
        if path:
            forget_dead_processes(path)
        encoder, content_type = choose_encoder(accept)
        return encoder(registry), content_type

    @router.get("/_broker/metrics", response_class=Response, summary="Prometheus metrics of all worker processes")
    async def metrics(request: Request) -> Response:
        await gauges.refresh()
        # Reading every worker's files takes a few milliseconds: off the event loop.
        body, content_type = await asyncio.get_running_loop().run_in_executor(
            None, render, request.headers.get("accept", "")
        )
        return Response(body, media_type=content_type)

    return router


def forget_dead_processes(path: str) -> None:
    """Remove the live-gauge files of worker processes that are gone."""
    pids = {int(m.group(1)) for f in glob.glob(os.path.join(path, "gauge_live*.db")) if (m := _LIVE_FILE.search(f))}
    for pid in pids:
        if pid != os.getpid() and not _alive(pid):
            multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists (another user's process reusing the number)
    return True
