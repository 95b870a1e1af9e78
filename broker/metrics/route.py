"""`GET /_broker/metrics`: every worker process's instruments (summed from their metric files) and the database
gauges, in Prometheus's text format (or OpenMetrics when the scraper asks for it).

A worker that uvicorn replaced (crashed, or killed by its health check) leaves its files behind: its counters
rightly stay in the sums, but its `livesum` gauges (running Lambda invocations) must not, and uvicorn has no hook
for a replaced worker. So each scrape first drops the live-gauge files of processes that no longer exist; two
scrapes doing that at once (or a worker creating its files while they are read) must not fail either."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
import os
import re
import struct
from collections.abc import Iterable

from fastapi import APIRouter, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from broker.config import Settings
from broker.metrics import buffer, directory
from broker.metrics.gauges import DatabaseGauges
from broker.storage.db import Database

log = logging.getLogger("broker.metrics")

_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")
# What reading the metric files can raise when the directory changes under the read (a file removed between the
# listing and its reading, a worker's file created but still empty): the read is tried again.
_RACES = (OSError, struct.error, ValueError)
_TRIES = 3


class _ThisProcess(Collector):
    """The process's own default registry, when metrics are not kept in files (the app run outside `broker
    serve`, e.g. under plain uvicorn or in an in-process test)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def metrics_router(db: Database, settings: Settings) -> APIRouter:
    router = APIRouter()
    path = os.environ.get(directory.ENV, "")
    gauges = DatabaseGauges(db, settings, path)
    registry = CollectorRegistry()
    if directory.enabled():
        multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(gauges)

    def render(accept: str) -> tuple[bytes, str]:
        buffer.flush()  # this worker's latest counts; the others' are at most buffer.FLUSH_S old
        encoder, content_type = choose_encoder(accept)
        for attempt in range(1, _TRIES + 1):
            try:
                if path:
                    forget_dead_processes(path)
                return encoder(registry), content_type
            except _RACES as e:
                if attempt == _TRIES:
                    raise
                log.debug("metrics: the metric files changed during a scrape (%s): reading them again", e)
        raise AssertionError("unreachable")

    @router.get("/_broker/metrics", response_class=Response, summary="Prometheus metrics of all worker processes")
    async def metrics(request: Request) -> Response:
        await gauges.refresh()
        # Reading every worker's files takes a few milliseconds: off the event loop.
        try:
            body, content_type = await asyncio.get_running_loop().run_in_executor(
                None, render, request.headers.get("accept", "")
            )
        except _RACES as e:
            log.warning("metrics: the metric files could not be read: %s", e)
            return Response("metric files unreadable, try again\n", status_code=503, media_type="text/plain")
        return Response(body, media_type=content_type)

    return router


def forget_dead_processes(path: str) -> None:
    """Remove the live-gauge files of worker processes that are gone (what prometheus_client's mark_process_dead
    does, but tolerating a file that a concurrent scrape removed first)."""
    for f in glob.glob(os.path.join(path, "gauge_live*.db")):
        m = _LIVE_FILE.search(f)
        if m is not None and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists (another user's process reusing the number)
    return True
