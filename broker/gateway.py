"""The thin ASGI entry for AWS requests: find the service and protocol, parse, call the operation, render.

It bypasses FastAPI on purpose: the hot path pays for nothing but parsing and the operation itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from urllib.parse import parse_qsl

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.protocol import cbor as cbor_protocol
from broker.protocol import json as json_protocol
from broker.protocol import query as query_protocol
from broker.protocol.spec import ServiceSpec
from broker.protocol.streaming import StreamingResult

log = logging.getLogger("broker.gateway")

MAX_BODY = 16 * 1024 * 1024
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


def parse_credential(text: str) -> tuple[str, str, str] | None:
    """(access key, region, service) from a SigV4 Authorization header or X-Amz-Credential value."""
    m = _CREDENTIAL.search(text if "Credential=" in text else "Credential=" + text)
    return (m.group(1), m.group(2), m.group(3)) if m else None


class Gateway:
    def __init__(self, runtime, specs: list[ServiceSpec]) -> None:  # noqa: ANN001
        self.runtime = runtime
        self.by_target = {s.target_prefix: s for s in specs if s.target_prefix}
        self.by_name = {s.name: s for s in specs}
        self.by_version = {s.api_version: s for s in specs}
        self.by_action: dict[str, ServiceSpec] = {}
        for s in specs:
            for op in s.model.operation_names:
                self.by_action.setdefault(op, s)

    async def __call__(self, scope: dict, receive, send) -> None:  # noqa: ANN001
        request_id = ids.uuid4()
        headers = dict(scope["headers"])
        try:
            body = await _read_body(receive, headers)
        except ServiceError as e:
            await _send(send, *query_protocol.render_error(None, e, request_id))
            return
        target = headers.get(b"x-amz-target")
        try:
            if target is not None:
                response = await self._json(scope, headers, body, target.decode("latin-1"), request_id, receive)
            else:
                response = await self._query(scope, headers, body, request_id, receive)
        except ClientGone:
            return  # nobody to answer; the operation was cancelled
        if isinstance(response, StreamingResult):
            await _stream(send, receive, response, request_id)
            return
        await _send(send, *response)

    def _context(
        self,
        scope: dict,
        headers: dict,
        spec: ServiceSpec,
        op: str,
        request_id: str,
        cred: tuple[str, str, str] | None,
    ) -> RequestContext:
        settings = self.runtime.settings
        access_key = cred[0] if cred else ""
        account = access_key if len(access_key) == 12 and access_key.isdigit() else settings.default_account
        region = cred[1] if cred and cred[1] not in ("", "aws-global") else settings.default_region
        host = headers.get(b"host", b"").decode("latin-1") or f"{settings.host}:{settings.port}"
        return RequestContext(
            runtime=self.runtime,
            account=account,
            region=region,
            access_key=access_key,
            request_id=request_id,
            service=spec.name,
            operation=op,
            host=host,
            path=scope.get("path", "/"),
        )

    async def _json(self, scope: dict, headers: dict, body: bytes, target: str, request_id: str, receive):  # noqa: ANN001, ANN202
        # Same dispatch for both encodings; the Java SDK and KCL send CBOR to Kinesis.
        cbor = cbor_protocol.is_cbor(headers.get(b"content-type", b""))
        proto = cbor_protocol if cbor else json_protocol
        prefix, _, op_name = target.rpartition(".")
        spec = self.by_target.get(prefix)
        if spec is None:
            return proto.render_error(
                None, ServiceError("UnknownOperationException", f"Unknown target {target}."), request_id
            )
        op = spec.operation(op_name)
        if op is None:
            return proto.render_error(spec, _unknown(spec, op_name), request_id)
        cred = parse_credential(headers.get(b"authorization", b"").decode("latin-1"))
        ctx = self._context(scope, headers, spec, op_name, request_id, cred)
        if cbor:
            ctx.extra["cbor"] = True  # streamed answers (event payloads) use the request's encoding too
        try:
            params = proto.parse_input(spec, op, body)
            result = await _call(spec, op_name, ctx, params, receive)
        except ServiceError as e:
            return proto.render_error(spec, e, request_id)
        except ClientGone:
            raise
        except Exception:  # noqa: BLE001 - a bug, never bad input
            log.exception("internal error in %s.%s", spec.name, op_name)
            return proto.render_error(spec, _internal(), request_id)
        if isinstance(result, StreamingResult):
            return result
        if cbor:  # the output shape tells which numbers are timestamps, which CBOR must tag
            return cbor_protocol.render_result(spec, result, request_id, op)
        return json_protocol.render_result(spec, result, request_id)

    async def _query(self, scope: dict, headers: dict, body: bytes, request_id: str, receive):  # noqa: ANN001, ANN202
        params: dict[str, str] = {}
        try:
            if scope.get("query_string"):
                params.update(
                    parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True, errors="strict")
                )
            ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
            if body and (not ctype or "x-www-form-urlencoded" in ctype):
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            return query_protocol.render_error(
                None, ServiceError("MalformedQueryString", "The query string is malformed."), request_id
            )
        action = params.get("Action")
        cred_text = headers.get(b"authorization", b"").decode("latin-1") or params.get("X-Amz-Credential", "")
        cred = parse_credential(cred_text) if cred_text else None
        spec = (
            (self.by_name.get(cred[2]) if cred else None)
            or self.by_version.get(params.get("Version", ""))
            or self.by_action.get(action or "")
        )
        if not action:
            err = ServiceError("MissingAction", "The request must contain the parameter Action.")
            return query_protocol.render_error(spec, err, request_id)
        if spec is None:
            err = ServiceError("InvalidAction", f"The action {action} is not valid for this endpoint.")
            return query_protocol.render_error(None, err, request_id)
        op = spec.operation(action)
        if op is None:
            return query_protocol.render_error(spec, _unknown(spec, action, query=True), request_id)
        ctx = self._context(scope, headers, spec, action, request_id, cred)
        if spec.path_member and spec.path_member not in params and ctx.path.strip("/"):
            params[spec.path_member] = f"http://{ctx.host}{ctx.path}"
        try:
            parsed = query_protocol.parse_input(spec, op, params)
            result = await _call(spec, action, ctx, parsed, receive)
        except ServiceError as e:
            return query_protocol.render_error(spec, e, request_id)
        except ClientGone:
            raise
        except Exception:  # noqa: BLE001 - a bug, never bad input
            log.exception("internal error in %s.%s", spec.name, action)
            return query_protocol.render_error(spec, _internal(), request_id)
        return query_protocol.render_result(spec, op, result, request_id)


class ClientGone(Exception):
    """The client disconnected while its request was waiting (a long poll)."""


async def _call(spec: ServiceSpec, name: str, ctx: RequestContext, params: dict, receive) -> dict | None:  # noqa: ANN001
    """Run the operation; one that may wait long is cancelled as soon as its client disconnects, so abandoned
    long polls leave no task, watcher or connection behind."""
    if name not in spec.waiting_operations:
        return await spec.handlers[name](ctx, params)
    work = asyncio.ensure_future(spec.handlers[name](ctx, params))
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait((work, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not work.done():
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await work
            raise ClientGone
        gone.cancel()
    return work.result()


async def _disconnected(receive) -> None:  # noqa: ANN001
    while (await receive())["type"] != "http.disconnect":
        pass


def _unknown(spec: ServiceSpec, name: str, query: bool = False) -> ServiceError:
    if name in spec.model.operation_names:
        return ServiceError(
            "NotImplemented", f"{name} is not supported by this broker yet.", status=501, sender_fault=False
        )
    if query:
        return ServiceError("InvalidAction", f"The action {name} is not valid for this endpoint.")
    return ServiceError("UnknownOperationException", f"Unknown operation {name}.")


def _internal() -> ServiceError:
    return ServiceError(
        "InternalFailure",
        "The request processing has failed because of an unknown error.",
        status=500,
        sender_fault=False,
    )


async def _read_body(receive, headers: dict) -> bytes:  # noqa: ANN001
    length = headers.get(b"content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise ServiceError("RequestEntityTooLarge", "Request body is too large.", status=413)
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ServiceError("RequestEntityTooLarge", "Request body is too large.", status=413)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _stream(send, receive, result: StreamingResult, request_id: str) -> None:  # noqa: ANN001
    """Send an event stream chunk by chunk (no content-length: chunked); stop producing when the client goes, and
    end with the result's error chunk if the producer fails."""
    headers = [(b"content-type", result.content_type.encode()), (b"x-amzn-requestid", request_id.encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    chunks = result.chunks
    gone = asyncio.ensure_future(_disconnected(receive))
    nxt: asyncio.Future | None = None
    try:
        while True:
            nxt = asyncio.ensure_future(anext(chunks))
            await asyncio.wait((nxt, gone), return_when=asyncio.FIRST_COMPLETED)
            if not nxt.done():
                return  # the client went away; the producer is cancelled below
            try:
                chunk = nxt.result()
            except StopAsyncIteration:
                break
            except Exception:  # noqa: BLE001 - a bug or a lost database: tell the client, do not cut the stream
                log.exception("event stream producer failed")
                if result.error_chunk:
                    await send({"type": "http.response.body", "body": result.error_chunk, "more_body": True})
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        gone.cancel()
        if nxt is not None and not nxt.done():  # first stop the running step, then close the producer
            nxt.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await nxt
        with contextlib.suppress(Exception):
            await chunks.aclose()  # type: ignore[attr-defined]


async def _send(send, status: int, headers: list, body: bytes) -> None:  # noqa: ANN001
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
