"""From stored versions to what the engine runs: code and layers unpacked into this node's cache (fetched from the
database the first time), the engine's FunctionSpec, and each Invocation."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker import ids
from broker.auth import temporary
from broker.context import RequestContext
from broker.services.base import Env, Slot
from broker.services.lambda_ import errors, layer_store, store
from broker.services.lambda_.arns import FunctionRef
from broker.services.lambda_.code import CodeCache
from broker.services.lambda_.execution import launch
from broker.services.lambda_.execution.engine import Engine
from broker.services.lambda_.execution.model import FunctionSpec, Invocation
from broker.services.lambda_.store import Version
from broker.services.sts import sessions


@dataclass(frozen=True, slots=True)
class Prepared:
    spec: FunctionSpec

    def invocation(
        self,
        ref: FunctionRef,
        payload: bytes,
        client_context: str | None,
        ctx: RequestContext,
        request_id: str | None = None,
    ) -> Invocation:
        return Invocation(
            request_id=request_id or ids.uuid4(),
            payload=payload,
            invoked_arn=ref.qualified_arn,
            client_context=client_context,
            trace_id=ctx.trace_header,
        )


class Runner:
    """One per worker process."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.cache = CodeCache(Path(env.settings.data_dir).resolve() / "lambda" / "code")
        self._specs: dict[str, FunctionSpec] = {}

    async def _unpacked(self, sha: str) -> Path:
        path = self.cache.path(sha)
        if path is not None:
            return path
        data = await self.env.db.read(store.get_code, sha)
        if data is None:
            raise errors.not_found("The function's code is gone (deleted while it was being invoked).")
        return await asyncio.get_running_loop().run_in_executor(None, self.cache.unpack, sha, data)

    def forget(self, function_arn: str, live: set[str]) -> None:
        """Drop the specs of a function's versions that are gone or changed."""
        for key, spec in list(self._specs.items()):
            if spec.function_arn == function_arn and key not in live:
                del self._specs[key]

    async def prepare(self, version: Version) -> Prepared:
        config = version.config
        key = spec_key(config)
        spec = self._specs.get(key)
        if spec is None:
            code_dir = await self._unpacked(version.code_sha)
            layer_dirs = []
            for layer in config.get("Layers") or []:
                found = await self.env.db.read(layer_store.code_sha_of, layer["Arn"])
                if found is not None:
                    layer_dirs.append(await self._unpacked(found))
            fn = version.function
            # The execution role's session, named after the function, as AWS names it.
            role = await sessions.role_session(self.env, config.get("Role") or "", fn.name)
            spec = FunctionSpec(
                key=key,
                function_name=fn.name,
                function_arn=fn.arn,
                version=version.version,
                runtime=config.get("Runtime") or "provided.al2023",
                handler=config.get("Handler") or "",
                code_dir=code_dir,
                layer_dirs=tuple(layer_dirs),
                environment=dict((config.get("Environment") or {}).get("Variables") or {}),
                memory_mb=int(config.get("MemorySize", 128)),
                timeout_s=int(config.get("Timeout", 3)),
                account=fn.account,
                region=fn.region,
                log_group=(config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{fn.name}",
                architecture=(config.get("Architectures") or ["x86_64"])[0],
                ephemeral_mb=int((config.get("EphemeralStorage") or {}).get("Size", 512)),
                credentials=functools.partial(
                    temporary.issue, self.env, role or sessions.root(fn.account), launch.SESSION_SECONDS
                ),
            )
            self._specs[key] = spec
        return Prepared(spec)


# The members that shape a running environment; others (Description, tags, policies — which also change the
# RevisionId) leave warm environments running.
_RUNTIME_MEMBERS = (
    "Runtime", "Handler", "CodeSha256", "Timeout", "MemorySize", "Environment", "Layers", "Architectures",
    "EphemeralStorage", "LoggingConfig", "TracingConfig", "Role",
)  # fmt: skip


def spec_key(config: dict[str, Any]) -> str:
    """What makes environments interchangeable: the version, its code and the configuration a runtime sees."""
    shape = json.dumps([config.get(k) for k in _RUNTIME_MEMBERS], sort_keys=True, separators=(",", ":"))
    return f"{config['FunctionArn']}#{config['Version']}#{hashlib.sha256(shape.encode()).hexdigest()[:24]}"


RUNNER: Slot[Runner] = Slot("lambda.runner")
ENGINE_SLOT: Slot[Engine] = Slot("lambda.engine")
