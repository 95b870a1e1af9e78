"""Keeps this worker's execution environments in step with what is stored: environments of a changed or deleted
function (or version) are stopped at once when its change notification arrives, and every few seconds as a safety
net; idle ones are reaped; provisioned concurrency is kept started ahead (each worker holds its share)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math

from sqlalchemy import Connection

from broker.services.base import Env
from broker.services.lambda_ import config_store, store
from broker.services.lambda_.execution import Engine, FunctionSpec
from broker.services.lambda_.runner import Runner, spec_key
from broker.services.lambda_.wake import CACHE_PREFIX

log = logging.getLogger("broker.lambda")

INTERVAL_SECONDS = 5.0


def _live_keys(conn: Connection, account: str, region: str, name: str) -> set[str] | None:
    """The keys of the environments a function may keep (one per stored version), or None if it is gone."""
    fn = store.get_function(conn, account, region, name)
    if fn is None:
        return None
    return {spec_key(config) for config in store.list_versions(conn, fn.id, -1, 100_000)}


class Lifecycle:
    def __init__(self, env: Env, engine: Engine, runner: Runner) -> None:
        self.env = env
        self.engine = engine
        self.runner = runner
        self._task: asyncio.Task[None] | None = None
        self._pending: set[str] = set()  # function ARNs to reconcile soon
        self._kick = asyncio.Event()
        self._warm: dict[str, FunctionSpec] = {}  # key -> spec of the environments this worker keeps provisioned

    def start(self) -> None:
        self.env.notifier.subscribe(CACHE_PREFIX, self._on_change)
        self.env.notifier.subscribe("*", self._on_wake_all)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_change(self, key: str) -> None:
        account, region, name = key[len(CACHE_PREFIX) :].split(":", 2)
        self._pending.add(f"arn:aws:lambda:{region}:{account}:function:{name}")
        self._kick.set()

    def _on_wake_all(self, key: str) -> None:
        if key == "*":  # a reset, or a notification connection that came back: look at everything
            self._pending.update(env.fn.function_arn for env in self.engine.environments())
            self._kick.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), INTERVAL_SECONDS)
            self._kick.clear()
            arns = self._pending or {env.fn.function_arn for env in self.engine.environments()}
            self._pending = set()
            try:
                for arn in arns:
                    await self._reconcile(arn)
                await self._provision()
                self.engine.reap_idle()
            except Exception:  # a lost database must not end the loop; the next round retries
                log.warning("could not reconcile Lambda environments", exc_info=True)

    async def _reconcile(self, function_arn: str) -> None:
        parts = function_arn.split(":")
        region, account, name = parts[3], parts[4], parts[6]
        live = await self.env.db.read(_live_keys, account, region, name)
        self.runner.forget(function_arn, live or set())
        await self.engine.retire(function_arn, keep=live or ())

    async def _provision(self) -> None:
        """Start (or stop) this worker's share of every provisioned concurrency configuration."""
        if not self.env.settings.lambda_enabled:
            return
        share = max(1, self.env.settings.workers)
        wanted: dict[str, tuple[FunctionSpec, int]] = {}
        for _fid, arn, qualifier, requested in await self.env.db.read(config_store.provisioned_targets):
            version = await self._version(arn, qualifier)
            if version is None:
                continue
            spec = (await self.runner.prepare(version)).spec
            spec = dataclasses.replace(spec, initialization_type="provisioned-concurrency")
            count = math.ceil(requested / share)
            wanted[spec.key] = (spec, wanted.get(spec.key, (spec, 0))[1] + count)
        for key, spec in list(self._warm.items()):
            if key not in wanted:
                await self.engine.warm(spec, 0)
                del self._warm[key]
        for key, (spec, count) in wanted.items():
            await self.engine.warm(spec, count)
            self._warm[key] = spec

    async def _version(self, function_arn: str, qualifier: str) -> store.Version | None:
        parts = function_arn.split(":")
        region, account, name = parts[3], parts[4], parts[6]
        if not qualifier.isdigit():
            fn = await self.env.db.read(store.get_function, account, region, name)
            alias = await self.env.db.read(store.get_alias, fn.id, qualifier) if fn else None
            if alias is None:
                return None
            qualifier = alias["FunctionVersion"]
        return await self.env.db.read(store.get_version, account, region, name, qualifier)
