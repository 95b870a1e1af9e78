"""Which event source pollers run in this worker. Every worker scans the enabled mappings and their units of work
(one per SQS mapping, one per shard of a Kinesis mapping whose parents are done), and runs the pollers whose lease
it holds: a lease per unit, renewed on every scan, taken by another worker (or node) once its owner stops renewing
it. Each worker runs at most its share of the units (their number over the live workers, which renew a presence
lease), so the units spread over the workers and nodes; a unit changes hands only between batches (its poller
finishes what it runs, then its lease is given up). A mapping's change (create, update, delete, enable, disable)
wakes every worker's scan at once; a poller whose mapping changed finishes its batches and starts again with the
new configuration. A worker with no unit to run and none running renews nothing: it sleeps until a mapping
changes (or IDLE_RECHECK_S), and counts again once there are units."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from dataclasses import dataclass
from typing import Any, Protocol

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
PRESENCE = "esm-worker:"  # + owner: a lease each worker renews while it has units, to count the live workers
IDLE_RECHECK_S = 30.0  # no units: the scan waits for a mapping's change, or this long (a lost notification)
JOIN_S = 0.25  # after the scan that registers a worker: soon again, to take its share once all have counted


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


@dataclass
class Claim:
    kept: set[str]  # leases still ours
    taken: set[str]  # leases newly ours
    excess: list[str]  # kept units over this worker's share: to hand over once their in-flight batches end
    joined: bool = False  # this scan registered the worker: it took nothing yet


def claim(
    tx: Tx, owner: str, ttl_ms: int, held: list[str], draining: list[str], done: list[str], free: list[str], total: int
) -> Claim:
    """Renew this worker's presence and its leases, give up the units whose pollers stopped (`done`), and take free
    units up to its fair share (the units over the live workers, rounded up). A worker over its share (another
    joined) names the excess: its pollers finish what they run before their leases are given up, so no batch runs
    twice at once. A worker takes nothing in the scan that first registers it, so that workers starting together
    all count before any takes."""
    present = leases.live_count(tx.conn, PRESENCE + owner) > 0
    leases.acquire(tx, PRESENCE + owner, owner, ttl_ms)
    for name in done:
        leases.release(tx, name, owner)
    share = -(-total // max(leases.live_count(tx.conn, PRESENCE), 1)) if present else 0
    kept = {name for name in [*held, *draining] if leases.acquire(tx, name, owner, ttl_ms)}
    running = [name for name in held if name in kept]
    excess = sorted(running)[share:] if present else []
    taken: set[str] = set()
    room = share - (len(running) - len(excess))
    for name in free:
        if len(taken) >= room:
            break
        if leases.acquire(tx, name, owner, ttl_ms):
            taken.add(name)
    return Claim(kept, taken, excess, joined=not present)


class Poller(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None:
        """Finish the batches in flight (their outcomes written), then return from run()."""


@dataclass
class Running:
    unit: Unit
    poller: Poller
    task: asyncio.Task[None]
    draining: bool = False  # asked to stop: its lease is given up once the task ends


class Sources:
    """This worker's event source pollers."""

    def __init__(self, env: Env, host: str) -> None:
        self.env = env
        self.host = host
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.ttl_ms = int(env.settings.lease_ttl_seconds * 1000)
        self.period = self.ttl_ms / 4000  # between scans while there are units: leases renewed well within their TTL
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
        while True:
            self._wake.clear()
            wait = self.period
            try:
                wait = await self.scan()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event source scan failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def scan(self) -> float:
        """One look at the units: renew, give up and take leases; returns how long until the next look."""
        found = {u.lease: u for u in await self.env.db.read(units)}
        if not found and not self.running:
            return IDLE_RECHECK_S  # nothing to run, nothing to give up: no presence to renew
        done: list[str] = []
        for name, r in list(self.running.items()):
            if r.task.done():
                del self.running[name]
                if r.draining:
                    done.append(name)  # a unit still wanted is started again below (its lease is still ours)
                continue
            unit = found.get(name)
            if unit is None or unit.generation != r.unit.generation:
                self._drain(r)  # the mapping went or changed: finish, then start afresh with the new settings
        held = [n for n, r in self.running.items() if not r.draining]
        draining = [n for n, r in self.running.items() if r.draining]
        free = [n for n in found if n not in self.running and n not in done]
        random.shuffle(free)
        c = await self.env.db.write(claim, self.owner, self.ttl_ms, held, draining, done, free, len(found))
        for name, r in list(self.running.items()):
            if name not in c.kept:
                del self.running[name]
                r.task.cancel()  # another process owns it now: nothing of ours may be written
        for name in c.excess:
            self._drain(self.running[name])
        for name in c.taken:
            self._start(found[name])
        return JOIN_S if c.joined and free else self.period

    def _drain(self, r: Running) -> None:
        if not r.draining:
            r.draining = True
            r.poller.stop()

    def _start(self, unit: Unit) -> None:
        poller: Poller
        if unit.shard is None:
            poller = SqsPoller(self.env, self.host, unit.mapping)
        else:
            lease = Lease(unit.lease, self.owner, self.ttl_ms)
            poller = KinesisPoller(self.env, self.host, unit.mapping, unit.shard, lease)
        task = asyncio.get_running_loop().create_task(self._poll(unit, poller))
        self.running[unit.lease] = Running(unit, poller, task)

    async def _poll(self, unit: Unit, poller: Poller) -> None:
        try:
            await poller.run()
        except asyncio.CancelledError:
            raise
        except LeaseLost:
            log.info("event source %s: lease lost", unit.lease)
        except Exception:
            log.exception("event source %s failed", unit.lease)
            await asyncio.sleep(1.0)  # then the next scan starts it again
        self._wake.set()  # a stopped poller's lease is given up, a finished shard's children may start
