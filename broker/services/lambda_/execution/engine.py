"""The engine of one worker process: pools of execution environments by function key.

An invocation takes the warm environment of its key used last (idle, or finishing its previous invocation), else a
provisioned one still starting, else starts a new one (a cold start). A housekeeping task samples the memory of
running environments (the watchdog) and stops environments idle longer than `lambda_idle_seconds`. With auth =
"sigv4", an environment whose execution-role credentials could run out during an invocation is replaced instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Any

from broker import clock
from broker.config import Settings
from broker.services.lambda_.execution.environment import ChunkQueue, Environment
from broker.services.lambda_.execution.model import ExecutionDisabled, FunctionSpec, Invocation, Outcome

WATCHDOG_INTERVAL_S = 0.1
REAP_INTERVAL_S = 1.0
CREDENTIALS_MARGIN_S = 60  # an environment is replaced when its credentials have less than timeout + this left


class Engine:
    def __init__(self, settings: Settings, endpoint_url: str) -> None:
        self.settings = settings
        self.endpoint_url = endpoint_url
        self._pools: dict[str, list[Environment]] = {}
        self._provisioned: dict[str, tuple[FunctionSpec, int]] = {}
        self._background: set[asyncio.Future[Any]] = set()
        self._housekeeper: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scratch_root: Path | None = None
        self._stopping = False

    # --- invoking --------------------------------------------------------------------------------------------

    async def invoke(self, fn: FunctionSpec, inv: Invocation) -> Outcome:
        env = await self._acquire(fn)
        return await env.run(inv)

    async def stream(self, fn: FunctionSpec, inv: Invocation) -> AsyncIterator[bytes | Outcome]:
        """The response's chunks as the function writes them (one chunk for a buffered response), then the
        Outcome. A consumer that stops early does not stop the invocation."""
        env = await self._acquire(fn)
        queue: ChunkQueue = asyncio.Queue()
        task = asyncio.ensure_future(env.run(inv, queue))
        self._keep(task)
        while (chunk := await queue.get()) is not None:
            yield chunk
        yield await task

    async def _acquire(self, fn: FunctionSpec) -> Environment:
        if not self.settings.lambda_enabled:
            raise ExecutionDisabled("Lambda execution is disabled on this broker (lambda_enabled = false)")
        if self._stopping:
            raise ExecutionDisabled("the Lambda engine is stopping")
        self._loop = asyncio.get_running_loop()
        pool = self._pools.setdefault(fn.key, [])
        best: Environment | None = None
        for env in list(pool):
            if env.reserved or env.retiring:
                continue
            if self._credentials_run_out(env):
                env.retiring = True  # replaced (a provisioned one too) by a start with new credentials
                if env.state in ("idle", "starting"):
                    env.kill()
                continue
            if env.state in ("idle", "finishing") and (best is None or env.last_used > best.last_used):
                best = env
        if best is None:
            best = next((env for env in pool if env.state == "starting" and not env.reserved), None)
        if best is not None:
            best.reserved = True
            return best
        env = self._new_environment(fn, provisioned=False)
        env.reserved = True
        try:
            await env.start()
        except BaseException:
            env.reserved = False  # a later invocation takes it once started
            raise
        return env

    def _new_environment(self, fn: FunctionSpec, *, provisioned: bool) -> Environment:
        if self._scratch_root is None:
            self._scratch_root = Path(tempfile.mkdtemp(prefix="broker-lambda-"))
        env = Environment(
            self.settings,
            fn,
            endpoint_url=self.endpoint_url,
            scratch_root=self._scratch_root,
            on_idle=self._idle,
            on_dead=self._dead,
            provisioned=provisioned,
        )
        self._pools.setdefault(fn.key, []).append(env)
        if self._housekeeper is None or self._housekeeper.done():
            self._housekeeper = asyncio.ensure_future(self._housekeeping())
        return env

    # --- provisioned concurrency and retirement ----------------------------------------------------------------

    async def warm(self, fn: FunctionSpec, count: int) -> None:
        """Keeps `count` environments of `fn` initialized ahead of invocations (replaced when one dies)."""
        if not self.settings.lambda_enabled:
            raise ExecutionDisabled("Lambda execution is disabled on this broker (lambda_enabled = false)")
        self._loop = asyncio.get_running_loop()
        if count <= 0:
            self._provisioned.pop(fn.key, None)
        else:
            self._provisioned[fn.key] = (fn, count)
        current = [env for env in self._pools.get(fn.key, []) if env.provisioned and env.alive]
        for extra in current[count:]:
            extra.provisioned = False  # an ordinary warm environment now: reaped when idle
        started = []
        for _ in range(count - len(current)):
            env = self._new_environment(fn, provisioned=True)
            await env.start()
            started.append(env)
        await asyncio.gather(*(env.wait_ready() for env in started))

    async def retire(self, function_arn: str, keep_key: str | None = None, keep: Collection[str] = ()) -> None:
        """Stops the environments of a function (all, or all but those of `keep_key` and `keep`); busy ones finish
        their invocation first."""
        waits = []
        for key, pool in list(self._pools.items()):
            for env in list(pool):
                if env.fn.function_arn != function_arn or key == keep_key or key in keep:
                    continue
                self._provisioned.pop(key, None)
                env.retiring = True
                env.provisioned = False
                if not env.reserved and env.state in ("idle", "starting"):
                    env.kill()
                    waits.append(env.wait_closed())
        await asyncio.gather(*waits)

    async def stop(self) -> None:
        """Stops every environment and reaps every process (worker shutdown)."""
        self._stopping = True
        self._provisioned.clear()
        envs = [env for pool in self._pools.values() for env in pool]
        for env in envs:
            env.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(env.wait_closed() for env in envs)), 10)
        if self._housekeeper is not None:
            self._housekeeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeper
            self._housekeeper = None
        for task in list(self._background):
            task.cancel()
        if self._scratch_root is not None:
            shutil.rmtree(self._scratch_root, ignore_errors=True)
            self._scratch_root = None
        self._pools.clear()
        self._stopping = False

    def reap_idle(self) -> None:
        """Stops environments idle longer than `lambda_idle_seconds` (provisioned ones stay). Safe to call from
        another thread (a scheduler's)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._reap()
        else:
            loop.call_soon_threadsafe(self._reap)

    def environments(self, key: str | None = None) -> list[Environment]:
        """The live environments (of one key), for tests and admin views."""
        pools = [self._pools.get(key, [])] if key is not None else list(self._pools.values())
        return [env for pool in pools for env in pool if env.alive]

    # --- internals ---------------------------------------------------------------------------------------------

    def _reap(self) -> None:
        limit = time.monotonic() - self.settings.lambda_idle_seconds
        for pool in self._pools.values():
            for env in pool:
                if env.state == "idle" and not env.reserved and not env.provisioned and env.last_used < limit:
                    env.kill()

    def _credentials_run_out(self, env: Environment) -> bool:
        """With auth = "sigv4", whether the environment's credentials could expire during an invocation."""
        expires = env.credentials_expire_ms
        if expires is None or not self.settings.sigv4:
            return False
        return expires - clock.now_ms() < (env.fn.timeout_s + CREDENTIALS_MARGIN_S) * 1000

    def _idle(self, env: Environment) -> None:
        if env.retiring:
            env.kill()

    def _dead(self, env: Environment) -> None:
        pool = self._pools.get(env.fn.key)
        if pool is not None and env in pool:
            pool.remove(env)
            if not pool:
                del self._pools[env.fn.key]
        target = self._provisioned.get(env.fn.key)
        if env.provisioned and env.initialized and target is not None and not self._stopping:
            # Provisioned concurrency stays at its count: a replacement starts in the background.
            self._keep(asyncio.ensure_future(self.warm(target[0], target[1])))

    def _keep(self, future: asyncio.Future[Any]) -> None:
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    async def _housekeeping(self) -> None:
        last_reap = time.monotonic()
        while self._pools:
            await asyncio.sleep(WATCHDOG_INTERVAL_S)
            for pool in list(self._pools.values()):
                for env in list(pool):
                    if env.state in ("busy", "starting", "finishing"):
                        env.check_memory()
            if time.monotonic() - last_reap >= REAP_INTERVAL_S:
                last_reap = time.monotonic()
                self._reap()
