"""Invoke, InvokeAsync and InvokeWithResponseStream: pick the version (aliases route by weight), take a concurrency
slot that every worker counts, run the function in this worker's engine, then store its log lines and free the
slot in one transaction. Asynchronous invocations are stored durably before they are answered 202."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from broker import clock, ids
from broker.context import RequestContext
from broker.metrics import instruments as metrics
from broker.protocol.base import EventStream, StreamEvent
from broker.services.lambda_ import arns, errors, slot_store, store, versions
from broker.services.lambda_.async_store import INTAKE
from broker.services.lambda_.execution.model import Outcome
from broker.services.lambda_.functions import function, pick_weighted
from broker.services.lambda_.permission_operations import authorize
from broker.services.lambda_.runner import ENGINE_SLOT, RUNNER, Prepared
from broker.services.lambda_.store import LATEST
from broker.services.logs.store import append_events
from broker.storage.db import Tx

MAX_SYNC_PAYLOAD = 6_291_456
MAX_ASYNC_PAYLOAD = 1_048_576
MAX_INVOKE_ASYNC_PAYLOAD = 262_144  # the legacy InvokeAsync keeps its 256 KB limit
MAX_CLIENT_CONTEXT = 3_583  # bytes of the base64 text in X-Amz-Client-Context
# A slot outlives its invocation by this much if its worker dies without freeing it.
SLOT_GRACE_MS = 30_000


async def resolve(ctx: RequestContext, p: dict[str, Any]) -> tuple[arns.FunctionRef, store.Version]:
    """The version an invocation runs: a number, $LATEST, or an alias (by its routing weights)."""
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"), shared=True)
    await authorize(ctx, ref, "lambda:InvokeFunction")
    q = ref.qualifier or LATEST
    if q != LATEST and not q.isdigit():
        fn = await function(ctx, ref)
        alias = await ctx.env.db.read(store.get_alias, fn.id, q)
        if alias is None:
            raise errors.function_not_found(ref.qualified_arn)
        q = pick_weighted(alias)
    found = await versions.version(ctx, ref.account, ref.region, ref.name, q)
    if found is None:
        raise errors.function_not_found(ref.qualified_arn)
    return ref, found


def _check_json(payload: bytes) -> bytes:
    if not payload.strip():
        return b"{}"
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise errors.invalid_request_content(
            f"Could not parse request body into json: Could not parse payload into json: {e}"
        ) from None
    return payload


def _client_context(value: str | None) -> str | None:
    """The ClientContext header: at most 3,583 bytes of base64 (AWS's limit is on the encoded text), holding a
    JSON object (the runtimes read its members)."""
    if value is None:
        return None
    if len(value.encode()) > MAX_CLIENT_CONTEXT:
        raise errors.invalid_parameter(f"Client context must be less than {MAX_CLIENT_CONTEXT} bytes.")
    try:
        document = orjson.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        document = None
    if not isinstance(document, dict):
        raise errors.invalid_request_content("Client context must be a valid Base64-encoded JSON object.")
    return value


async def _enqueue(ctx: RequestContext, ref: arns.FunctionRef, payload: bytes, cc: str | None) -> str:
    request_id = ids.uuid4()
    arn = ref.qualified_arn
    trace = ctx.trace_header
    await ctx.env.db.write(
        store.enqueue_async, request_id, ref.account, ref.region, arn, payload, cc, trace, clock.now_ms()
    )
    INTAKE.accepted()
    return request_id


async def invoke(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    kind = p.get("InvocationType", "RequestResponse")
    payload: bytes = p.get("Payload") or b""
    if kind == "Event" and len(payload) > MAX_ASYNC_PAYLOAD:
        raise errors.event_too_large(len(payload), MAX_ASYNC_PAYLOAD)
    if len(payload) > MAX_SYNC_PAYLOAD:
        raise errors.request_too_large("InvokeFunction", MAX_SYNC_PAYLOAD)
    cc = _client_context(p.get("ClientContext"))
    ref, version = await resolve(ctx, p)
    payload = _check_json(payload)
    if kind == "DryRun":
        return {"StatusCode": 204}
    if kind == "Event":
        await _enqueue(ctx, ref, payload, cc)
        return {"StatusCode": 202}
    outcome = await run(ctx, ref, version, payload, cc)
    out: dict[str, Any] = {"StatusCode": 200, "Payload": outcome.payload, "ExecutedVersion": version.version}
    if outcome.function_error:
        out["FunctionError"] = outcome.function_error
    if p.get("LogType") == "Tail":
        out["LogResult"] = base64.b64encode(outcome.log_tail).decode()
    return out


async def run(
    ctx: RequestContext,
    ref: arns.FunctionRef,
    version: store.Version,
    payload: bytes,
    cc: str | None,
    request_id: str | None = None,
    then: Callable[[Tx, Outcome], None] | None = None,
) -> Outcome:
    """Run one synchronous invocation: a concurrency slot every worker counts, this worker's engine, then the log
    lines stored and the slot freed in one transaction (which also runs `then`, the caller's writes of the
    outcome)."""
    if not ctx.env.settings.lambda_enabled:
        raise errors.execution_disabled()
    prepared = await ctx.env.get(RUNNER).prepare(version)
    slot = await _acquire(ctx, version, prepared)
    fn = version.function
    counted = metrics.lambda_function(fn.account, fn.region, fn.name)
    counted.concurrent.inc()
    try:
        invocation = prepared.invocation(ref, payload, cc, ctx, request_id)
        outcome = await ctx.env.get(ENGINE_SLOT).invoke(prepared.spec, invocation)
    except BaseException:
        counted.concurrent.dec()
        await asyncio.shield(ctx.env.db.write(slot_store.release, slot))  # also when the client went away
        raise
    counted.concurrent.dec()
    counted.finished(outcome.duration_ms, outcome.function_error is not None)
    await _finish(ctx, version, slot, outcome.log_stream, outcome.log_events, outcome, then)
    return outcome


async def _acquire(ctx: RequestContext, version: store.Version, prepared: Prepared) -> int:
    fn = version.function
    settings = ctx.env.settings
    ttl = int(prepared.spec.timeout_s * 1000) + SLOT_GRACE_MS
    slot = await ctx.env.db.write(
        slot_store.acquire,
        fn.account,
        fn.region,
        fn.id,
        fn.reserved_concurrency,
        settings.lambda_account_concurrency,
        clock.wall_ms(),
        ttl,
    )
    if slot is None:
        metrics.lambda_function(fn.account, fn.region, fn.name).throttles.inc()
        if fn.reserved_concurrency is not None:
            raise errors.too_many_requests("ReservedFunctionConcurrentInvocationLimitExceeded")
        raise errors.too_many_requests("ConcurrentInvocationLimitExceeded")
    return slot


async def _finish(
    ctx: RequestContext,
    version: store.Version,
    slot: int,
    stream: str,
    events: list[tuple[int, str]],
    outcome: Outcome | None = None,
    then: Callable[[Tx, Outcome], None] | None = None,
) -> None:
    fn = version.function
    group = (version.config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{fn.name}"

    def write(tx: Tx) -> None:
        slot_store.release(tx, slot)
        if events:
            append_events(tx.conn, fn.account, fn.region, group, stream, events, clock.now_ms())
        if then is not None and outcome is not None:
            then(tx, outcome)

    await ctx.env.db.write(write)


async def invoke_async(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    args: bytes = p.get("InvokeArgs") or b""
    if len(args) > MAX_INVOKE_ASYNC_PAYLOAD:
        raise errors.request_too_large("InvokeAsync", MAX_INVOKE_ASYNC_PAYLOAD)
    ref, _ = await resolve(ctx, p)
    await _enqueue(ctx, ref, _check_json(args), None)
    return {"Status": 202}


async def invoke_with_response_stream(ctx: RequestContext, p: dict[str, Any]) -> EventStream | dict[str, Any]:
    kind = p.get("InvocationType", "RequestResponse")
    payload: bytes = p.get("Payload") or b""
    if len(payload) > MAX_SYNC_PAYLOAD:
        raise errors.request_too_large("InvokeWithResponseStream", MAX_SYNC_PAYLOAD)
    cc = _client_context(p.get("ClientContext"))
    ref, version = await resolve(ctx, p)
    payload = _check_json(payload)
    if kind == "DryRun":
        return {"StatusCode": 204}  # no stream: an empty 204, as Lambda answers a dry run
    if not ctx.env.settings.lambda_enabled:
        raise errors.execution_disabled()
    runner = ctx.env.get(RUNNER)
    prepared = await runner.prepare(version)
    slot = await _acquire(ctx, version, prepared)
    engine = ctx.env.get(ENGINE_SLOT)
    tail = p.get("LogType") == "Tail"

    fn = version.function
    counted = metrics.lambda_function(fn.account, fn.region, fn.name)

    async def events() -> AsyncIterator[StreamEvent]:
        outcome = None
        counted.concurrent.inc()
        try:
            async for item in engine.stream(prepared.spec, prepared.invocation(ref, payload, cc, ctx)):
                if isinstance(item, bytes | bytearray):
                    if item:
                        yield StreamEvent("PayloadChunk", {"Payload": bytes(item)})
                else:
                    outcome = item
        finally:
            counted.concurrent.dec()
            if outcome is not None:
                counted.finished(outcome.duration_ms, outcome.function_error is not None)
            await _finish(
                ctx, version, slot, outcome.log_stream if outcome else "", outcome.log_events if outcome else []
            )
        complete: dict[str, object] = {}
        if outcome is not None and outcome.function_error:
            document = orjson.loads(outcome.payload or b"{}")
            complete["ErrorCode"] = str(document.get("errorType", "Unhandled"))
            complete["ErrorDetails"] = str(document.get("errorMessage", ""))
        if tail and outcome is not None:
            complete["LogResult"] = base64.b64encode(outcome.log_tail).decode()
        yield StreamEvent("InvokeComplete", complete)

    return EventStream(events(), _failure(), {"StatusCode": 200, "ExecutedVersion": version.version})


def _failure() -> StreamEvent:
    return StreamEvent("InvokeComplete", {"ErrorCode": "ServiceException", "ErrorDetails": "The stream failed."})


HANDLERS = {
    "Invoke": invoke,
    "InvokeAsync": invoke_async,
    "InvokeWithResponseStream": invoke_with_response_stream,
}
