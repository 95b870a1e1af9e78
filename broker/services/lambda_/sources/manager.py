"""Which event source pollers run in this worker. Every worker scans the enabled mappings and their units of work
(one per SQS mapping, one per shard of a Kinesis mapping whose parents are done), and runs the pollers whose lease
it holds: a lease per unit, renewed on every scan, taken by another worker (or node) once its owner stops renewing
it. Each worker runs at most its share of the units (their number over the live workers, which renew a presence
lease), so the units spread over the workers and nodes. A mapping's change (create, update, delete, enable,
disable) wakes every worker's scan at once; a poller whose mapping changed is restarted with the new
configuration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from broker.jobs import leases
from broker.notify import WAKE_ALL
from broker.services.base import Env
from broker.services.kinesis import store as kinesis_store
from broker.services.lambda_ import mapping_store
from broker.services.lambda_.sources import checkpoint_store
from broker.services.lambda_.sources.kinesis_poller import KinesisPoller, Lease, LeaseLost
from broker.services.lambda_.sources.sqs_poller import SqsPoller
from broker.storage.db import Tx

log = logging.getLogger("broker.lambda.sources")

WAKE_KEY = "lambda:esm"  # woken when a mapping changes
PRESENCE = "esm-worker:"  # + owner: a lease each worker renews while it runs, to count the live workers


@dataclass(frozen=True)
class Unit:
    lease: str  # also the unit's name
    mapping: dict[str, Any]
    shard: int | None = None  # Kinesis

    @property
    def generation(self) -> int:
        return int(self.mapping["LastModified"])


def units(conn: Connection) -> list[Unit]:
    """Every unit of work of the enabled SQS and Kinesis mappings."""
    out: list[Unit] = []
    for m in mapping_store.enabled(conn):
        kind = m.get("Kind")
        if kind in ("sqs", "sqs-fifo"):
            out.append(Unit(f"esm:{m['UUID']}", m))
        elif kind == "kinesis":
            out += _shard_units(conn, m)
    return out


def _shard_units(conn: Connection, m: dict[str, Any]) -> list[Unit]:
    """A stream's shards that are ready: not read to their end yet, and every parent still held in the stream is."""
    _, _, _, region, account, resource = m["EventSourceArn"].split(":", 5)
    stream = kinesis_store.get_stream(conn, account, region, resource.split("/", 1)[1])
    if stream is None or stream.status == "DELETING":
        return []
    shards = kinesis_store.shards(conn, stream.id)
    present = {s["idx"] for s in shards}
    done = checkpoint_store.finished_shards(conn, m["UUID"], stream.id, stream.created_at)
    out = []
    for s in shards:
        parents = {p for p in (s["parent"], s["adjacent_parent"]) if p is not None and p in present}
        if s["idx"] not in done and parents <= done:
            out.append(Unit(f"esm:{m['UUID']}:{s['idx']}", m, s["idx"]))
    return out


def claim(tx: Tx, owner: str, ttl_ms: int, held: list[str], free: list[str], total: int) -> tuple[set[str], set[str]]:
    """Renew this worker's presence and the leases it holds, and take free units up to its fair share (the units
    over the live workers, rounded up); a worker over its share (one joined) gives the excess up at once.
    Returns (kept, taken)."""
    leases.acquire(tx, PRESENCE + owner, owner, ttl_ms)
    share = -(-total // max(leases.live_count(tx.conn, PRESENCE), 1))
    kept = {name for name in held if leases.acquire(tx, name, owner, ttl_ms)}
    for name in sorted(kept)[share:]:
        leases.release(tx, name, owner)
        kept.discard(name)
    taken: set[str] = set()
    for name in free:
        if len(kept) + len(taken) >= share:
            break
        if leases.acquire(tx, name, owner, ttl_ms):
            taken.add(name)
    return kept, taken


@dataclass
class Running:
    unit: Unit
    task: asyncio.Task[None]


class Sources:
    """This worker's event source pollers."""

    def __init__(self, env: Env, host: str) -> None:
        self.env = env
        self.host = host
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.ttl_ms = int(env.settings.lease_ttl_seconds * 1000)
        self.running: dict[str, Running] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        for key in (WAKE_KEY, WAKE_ALL):
            self.env.notifier.subscribe(key, lambda _key: self._wake.set())
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        tasks = [r.task for r in self.running.values()]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.running.clear()

    async def _run(self) -> None:
        period = self.ttl_ms / 4000
        while True:
            self._wake.clear()
            try:
                await self.scan()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event source scan failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), period)

    async def scan(self) -> None:
        found = {u.lease: u for u in await self.env.db.read(units)}
        for name, r in list(self.running.items()):
            unit = found.get(name)
            if unit is None or unit.generation != r.unit.generation or r.task.done():
                self._drop(name)
        free = [name for name in found if name not in self.running]
        random.shuffle(free)
        kept, taken = await self.env.db.write(claim, self.owner, self.ttl_ms, list(self.running), free, len(found))
        for name in list(self.running):
            if name not in kept:
                self._drop(name)
        for name in taken:
            unit = found[name]
            self.running[name] = Running(unit, asyncio.get_running_loop().create_task(self._poll(unit)))

    def _drop(self, name: str) -> None:
        r = self.running.pop(name)
        r.task.cancel()

    def _poller(self, unit: Unit) -> Coroutine[Any, Any, None]:
        if unit.shard is None:
            return SqsPoller(self.env, self.host, unit.mapping).run()
        lease = Lease(unit.lease, self.owner, self.ttl_ms)
        return KinesisPoller(self.env, self.host, unit.mapping, unit.shard, lease).run()

    async def _poll(self, unit: Unit) -> None:
        try:
            await self._poller(unit)
        except asyncio.CancelledError:
            raise
        except LeaseLost:
            log.info("event source %s: lease lost", unit.lease)
        except Exception:
            log.exception("event source %s failed", unit.lease)
            await asyncio.sleep(1.0)  # then the next scan starts it again
        self._wake.set()  # a shard read to its end lets its children start
