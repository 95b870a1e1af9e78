"""Gauges of what the database holds (queue depths, Lambda backlogs, leases, database size), as a prometheus_client
collector over a snapshot read at most once per `metrics_gauge_ttl_seconds` per node: scrapes, however frequent,
from however many scrapers and answered by whichever worker, never add load to the database beyond that.

The workers of a node share the snapshot through a small JSON file in the metrics directory (replaced atomically,
with the wall-clock time of its read): a worker whose own copy is stale takes the file's when that is fresh, and
reads the database (and rewrites the file) only otherwise. The snapshot is read on the reader pool by the route
before it renders (`refresh`); `collect` only formats it. Concurrent scrapes of a worker share one read; a failed
read keeps the last snapshot and sets `broker_database_up` to 0.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from broker import clock
from broker.config import Settings
from broker.metrics import store
from broker.services.sqs.queues import parse_arn
from broker.storage.db import Database

log = logging.getLogger("broker.metrics")

CACHE_FILE = "database-gauges.json"
_QUEUE = ["account", "region", "queue"]
_FUNCTION = ["account", "region", "function"]


class DatabaseGauges(Collector):
    def __init__(self, db: Database, settings: Settings, cache_dir: str = "") -> None:
        self._db = db
        self._ttl_s = settings.metrics_gauge_ttl_seconds
        self._cache = Path(cache_dir) / CACHE_FILE if cache_dir else None
        self._files: list[str] | None = None
        if not settings.is_postgres:
            path = settings.database_url().removeprefix("sqlite:///")
            self._files = [path, path + "-wal"]
        self._snapshot = store.Snapshot()
        self._read_at = -math.inf  # wall-clock time of the snapshot's read (successful or not), by any worker
        self._up = False
        self._reading: asyncio.Future[None] | None = None

    def _fresh(self, read_at: float) -> bool:
        return time.time() - read_at < self._ttl_s

    async def refresh(self) -> None:
        """Renew the snapshot if it is older than the TTL; scrapes arriving meanwhile wait for the same renewal."""
        if self._fresh(self._read_at):
            return
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._renew())
        await asyncio.shield(self._reading)

    async def _renew(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self._cache is not None and await loop.run_in_executor(None, self._load):
                return  # another worker of this node read the database a moment ago
            await self._read()
            if self._cache is not None:
                await loop.run_in_executor(None, self._save)
        finally:
            self._reading = None

    async def _read(self) -> None:
        try:
            self._snapshot = await self._db.read(store.read, clock.now_ms(), self._files)
            self._up = True
        except Exception as e:  # noqa: BLE001 - the scrape still answers, with the last snapshot and up = 0
            log.warning("metrics: reading the database gauges failed: %s", e)
            self._up = False
        # A failing database is retried after the TTL too, not per scrape.
        self._read_at = time.time()

    def _load(self) -> bool:
        """Take the shared snapshot if it is fresh."""
        assert self._cache is not None
        try:
            doc = json.loads(self._cache.read_text())
            read_at = float(doc["read_at"])
            if not self._fresh(read_at):
                return False
            snapshot = store.from_json(doc["snapshot"])
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return False  # none yet, or not one this version wrote: read the database
        self._snapshot, self._read_at, self._up = snapshot, read_at, bool(doc.get("up"))
        return True

    def _save(self) -> None:
        assert self._cache is not None
        doc: dict[str, Any] = {"read_at": self._read_at, "up": self._up, "snapshot": store.to_json(self._snapshot)}
        partial = self._cache.with_name(f".{CACHE_FILE}.{os.getpid()}")
        try:
            partial.write_text(json.dumps(doc, separators=(",", ":")))
            os.replace(partial, self._cache)  # readers see the old file or the new one, never half of one
        except OSError as e:
            log.warning("metrics: could not share the database gauges: %s", e)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self._snapshot
        now = snap.now
        up = GaugeMetricFamily("broker_database_up", "1 if the last read of the database gauges succeeded.")
        up.add_metric([], 1.0 if self._up else 0.0)
        yield up
        if math.isfinite(self._read_at):
            age = GaugeMetricFamily(
                "broker_database_gauges_age_seconds", "How old the database gauges of this scrape are (cached)."
            )
            age.add_metric([], max(time.time() - self._read_at, 0.0))
            yield age
        if snap.database_bytes is not None:
            size = GaugeMetricFamily(
                "broker_database_size_bytes",
                "Size of the database: SQLite's file and its WAL, or PostgreSQL's pg_database_size.",
            )
            size.add_metric([], float(snap.database_bytes))
            yield size
        yield from _queues(snap, now)
        yield from _lambda(snap, now)
        yield from _leases(snap)


def _queues(snap: store.Snapshot, now: int) -> Iterator[GaugeMetricFamily]:
    visible = GaugeMetricFamily(
        "broker_sqs_messages_visible", "Messages available for retrieval (ApproximateNumberOfMessages).", labels=_QUEUE
    )
    in_flight = GaugeMetricFamily(
        "broker_sqs_messages_in_flight",
        "Messages received and not yet deleted or visible again (ApproximateNumberOfMessagesNotVisible).",
        labels=_QUEUE,
    )
    delayed = GaugeMetricFamily(
        "broker_sqs_messages_delayed", "Messages not yet visible (ApproximateNumberOfMessagesDelayed).", labels=_QUEUE
    )
    oldest = GaugeMetricFamily(
        "broker_sqs_oldest_message_age_seconds",
        "Age of the oldest message in the queue (ApproximateAgeOfOldestMessage); 0 when the queue is empty.",
        labels=_QUEUE,
    )
    for key, (v, f, d, sent_at) in snap.queues.items():
        labels = list(key)
        visible.add_metric(labels, v)
        in_flight.add_metric(labels, f)
        delayed.add_metric(labels, d)
        oldest.add_metric(labels, max(now - sent_at, 0) / 1000 if sent_at is not None else 0.0)
    yield from (visible, in_flight, delayed, oldest)


def _function_name(arn: str) -> str:
    parts = arn.split(":")  # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    return parts[6] if len(parts) >= 7 else arn


def _lambda(snap: store.Snapshot, now: int) -> Iterator[GaugeMetricFamily]:
    backlog = GaugeMetricFamily(
        "broker_lambda_async_backlog",
        "Accepted asynchronous invocations not finished yet (queued, running or waiting for a retry).",
        labels=_FUNCTION,
    )
    oldest = GaugeMetricFamily(
        "broker_lambda_async_oldest_age_seconds",
        "Age of the oldest unfinished asynchronous invocation (AsyncEventAge).",
        labels=_FUNCTION,
    )
    by_function: dict[tuple[str, str, str], list[int]] = {}
    for account, region, arn, count, received_at in snap.async_invocations:
        entry = by_function.setdefault((account, region, _function_name(arn)), [0, received_at])
        entry[0] += count
        entry[1] = min(entry[1], received_at)
    for key, (count, received_at) in by_function.items():
        backlog.add_metric(list(key), count)
        oldest.add_metric(list(key), max(now - received_at, 0) / 1000)
    yield from (backlog, oldest)
    mapping = GaugeMetricFamily(
        "broker_lambda_mapping_backlog",
        "Work waiting for an event source mapping: its SQS queue's visible messages, or the records after its "
        "Kinesis shard checkpoints.",
        labels=["account", "region", "function", "mapping", "source"],
    )
    for uuid, account, region, function_arn, config_text in snap.mappings:
        source = _source(json.loads(config_text))
        if source is None:
            continue
        waiting = _mapping_backlog(snap, uuid, source)
        if waiting is not None:
            mapping.add_metric([account, region, _function_name(function_arn), uuid, source], waiting)
    yield mapping


def _source(config: dict[str, Any]) -> str | None:
    source = config.get("EventSourceArn")
    return source if isinstance(source, str) else None


def _mapping_backlog(snap: store.Snapshot, uuid: str, source: str) -> int | None:
    if source.startswith("arn:aws:kinesis:"):
        return snap.stream_backlogs.get(uuid, 0)
    queue = parse_arn(source)
    if queue is None:
        return None
    region, account, name = queue
    counts = snap.queues.get((account, region, name))
    return counts[0] if counts is not None else 0


def _leases(snap: store.Snapshot) -> Iterator[GaugeMetricFamily]:
    held = GaugeMetricFamily(
        "broker_lease_held",
        "1 for each live lease (a job or poller that runs once cluster-wide) and the process that holds it.",
        labels=["lease", "owner"],
    )
    for lease in snap.leases:
        if lease["live"]:
            held.add_metric([lease["name"], lease["owner"]], 1.0)
    yield held
