"""The thin ASGI entry for AWS requests: find the service and protocol, parse, call the operation, render.

It bypasses FastAPI on purpose: the hot path pays for nothing but parsing and the operation itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel

from broker import ids
from broker.auth import errors as auth_errors
from broker.auth import sigv4, temporary
from broker.context import RequestContext
from broker.errors import ServiceError, internal_failure, request_too_large
from broker.identity import Identity, SigningKey
from broker.metrics import instruments as metrics
from broker.protocol import cbor, json, query, restjson
from broker.protocol.base import (
    EventStream,
    Headers,
    HttpRequest,
    Response,
    Route,
    RoutingError,
    Services,
    StreamEvent,
    WireProtocol,
)
from broker.protocol.spec import ServiceSpec
from broker.protocol.unserved import Unserved
from broker.services.base import Env

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

log = logging.getLogger("broker.gateway")

# Lambda takes deployment packages of up to 50 MB in the request: base64 in JSON makes that ~70 MB (AWS's own
# bound is 70,167,211 bytes for CreateFunction), so the body limit sits just above it.
MAX_BODY = 72 * 1024 * 1024


class Gateway:
    def __init__(self, env: Env, specs: list[ServiceSpec]) -> None:
        self.env = env
        self.services = Services(specs)
        self.unserved = Unserved(self.services)
        self.sigv4 = env.settings.sigv4

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = ids.uuid4()
        headers = dict(scope["headers"])
        path = scope.get("path", "/")
        proto = self._protocol(scope["method"], path, headers)
        try:
            body = await _read_body(receive, headers)
        except ServiceError as e:
            await _send(send, *proto.render_error(None, e, request_id))
            return
        except ClientGone:
            return  # the request never arrived whole: nothing is executed, nobody is answered
        req = HttpRequest(
            scope["method"],
            path,
            scope.get("query_string", b""),
            headers,
            body,
            scope.get("raw_path") or b"",
            scope["headers"],
        )
        try:
            response = await self._handle(proto, req, request_id, receive)
        except ClientGone:
            return  # nobody to answer; the operation was cancelled
        if isinstance(response, tuple):
            await _send(send, *response)
        else:
            await _stream(send, receive, proto, response, request_id)

    async def _handle(
        self, proto: WireProtocol, req: HttpRequest, request_id: str, receive: Receive
    ) -> Response | _Streaming:
        # A service this broker does not serve (S3, DynamoDB, ...) is named in its own protocol, before anything
        # else reads the request as one of ours.
        started = time.perf_counter()
        named = self.unserved.named(req)
        if named is not None and (refusal := await self.unserved.answer(named, req, request_id)) is not None:
            # counted by the name the request gave (the code is errors.service_not_provided's)
            metrics.request(named[1], metrics.UNKNOWN, "NotImplemented", time.perf_counter() - started)
            return refusal
        key = None
        if self.sigv4:
            # Before routing, as AWS authenticates before it reads the action; an aws-chunked body comes back
            # decoded.
            try:
                key, req = await sigv4.authenticate(self.env, req)
            except auth_errors.AuthFailure as failure:
                if failure.kind != "missing" or not self._may_go_unsigned(proto, req):
                    return self._refuse(proto, req, failure, request_id, started)
            except ServiceError as e:  # the database could not be asked about the key
                metrics.request(metrics.UNKNOWN, metrics.UNKNOWN, e.code, time.perf_counter() - started)
                return proto.render_error(None, e, request_id)
        try:
            route = proto.route(req, self.services)
        except RoutingError as e:
            service = e.spec.name if e.spec else metrics.UNKNOWN
            metrics.request(service, metrics.UNKNOWN, e.error.code, time.perf_counter() - started)
            return proto.render_error(e.spec, e.error, request_id)
        spec, op = route.spec, route.op
        if req.signed_scope is not None:
            # The scope the signature was verified with is the route's (routing took it too), and it must name
            # the service the request reaches: a signed request is not replayable against another.
            route.credential = req.signed_scope
            try:
                sigv4.check_service(req.signed_scope, spec.model.signing_name)
            except auth_errors.AuthFailure as failure:
                error = auth_errors.error(failure, auth_errors.family(proto, spec))
                metrics.request(spec.name, op.name, error.code, time.perf_counter() - started)
                return proto.render_error(spec, error, request_id)
        ctx = self._context(req, route, key)
        outcome = metrics.DISCONNECTED  # unless answered: the client left (ClientGone) or the server is stopping
        try:
            params = proto.decode(route, req, ctx.host)
            result = await _call(spec, op.name, ctx, params, receive)
            outcome = metrics.SUCCESS
            if isinstance(result, EventStream):
                return _Streaming(spec, op, result)
            return proto.render_result(spec, op, result, request_id)
        except ServiceError as e:
            outcome = e.code
            return proto.render_error(spec, e, request_id)
        except ClientGone:
            raise
        except Exception:  # a bug, never bad input: logged, answered as AWS's InternalFailure
            log.exception("internal error in %s.%s", spec.name, op.name)
            error = internal_failure()
            outcome = error.code
            return proto.render_error(spec, error, request_id)
        finally:
            metrics.request(spec.name, op.name, outcome, time.perf_counter() - started)

    def _context(self, req: HttpRequest, route: Route, key: SigningKey | None) -> RequestContext:
        settings = self.env.settings
        cred = route.credential
        region = cred[1] if cred and cred[1] not in ("", "aws-global") else settings.default_region
        host = req.header(b"host") or f"{settings.host}:{settings.port}"
        trace = req.header(b"x-amzn-trace-id")
        if key is not None:  # auth = "sigv4": the verified key's account and owner
            identity = key.identity
            return RequestContext(
                self.env, identity.account, region, host, trace, authenticated=True, identity=identity,
                temporary=key.access_key_id.startswith(temporary.PREFIX),  # STS key ids: ASIA (long-term: AKIA)
            )  # fmt: skip
        access_key = cred[0] if cred else ""
        is_account = len(access_key) == 12 and access_key.isascii() and access_key.isdigit()
        account = access_key if is_account else settings.default_account
        owner = None if is_account or not access_key.startswith(temporary.PREFIX) else self._session(req, access_key)
        if owner is not None:  # credentials this broker issued act in their own account and as their owner
            return RequestContext(self.env, owner.account, region, host, trace, identity=owner, temporary=True)
        return RequestContext(env=self.env, account=account, region=region, host=host, trace_header=trace)

    def _session(self, req: HttpRequest, access_key: str) -> Identity | None:
        """Who the temporary credentials of an auth-none request are (verified, expired or not: auth = "none"
        accepts any key, the token only says the account)."""
        token = req.header(b"x-amz-security-token")
        if not token:
            try:
                token = req.query_params().get("X-Amz-Security-Token", "")
            except ValueError:
                return None
        found = temporary.verify(self.env, access_key, token) if token else None
        return found.identity if found is not None else None

    def _may_go_unsigned(self, proto: WireProtocol, req: HttpRequest) -> bool:
        try:
            route = proto.route(req, self.services)
        except RoutingError:
            return False
        return (route.spec.name, route.op.name) in sigv4.UNSIGNED_OPERATIONS

    def _refuse(
        self, proto: WireProtocol, req: HttpRequest, failure: auth_errors.AuthFailure, request_id: str, started: float
    ) -> Response:
        """The refusal in the words of the service the request names (when it names one), counted as its."""
        try:
            spec: ServiceSpec | None = proto.route(req, self.services).spec
        except RoutingError as e:
            spec = e.spec
        error = auth_errors.error(failure, auth_errors.family(proto, spec))
        service = spec.name if spec is not None else metrics.UNKNOWN
        metrics.request(service, metrics.UNKNOWN, error.code, time.perf_counter() - started)
        return proto.render_error(spec, error, request_id)

    def _protocol(self, method: str, path: str, headers: dict[bytes, bytes]) -> WireProtocol:
        if b"x-amz-target" in headers:
            # Same dispatch for both encodings; the Java SDK and KCL send CBOR to Kinesis.
            return cbor.PROTOCOL if cbor.is_cbor(headers.get(b"content-type", b"")) else json.PROTOCOL
        if self.services.rest.claims(path):
            return restjson.PROTOCOL
        return query.protocol_for(method, headers)


@dataclass(slots=True)
class _Streaming:
    spec: ServiceSpec
    op: OperationModel
    result: EventStream


class ClientGone(Exception):
    """The client disconnected while its request was waiting (a long poll)."""


async def _call(
    spec: ServiceSpec, name: str, ctx: RequestContext, params: dict[str, object], receive: Receive
) -> dict[str, Any] | EventStream | None:
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


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _read_body(receive: Receive, headers: dict[bytes, bytes]) -> bytes:
    """The whole body; ClientGone when the client hung up before sending all of it, so a request cut short is
    never executed on the part that arrived (its client, seeing no answer, would retry it)."""
    length = headers.get(b"content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise request_too_large()
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise request_too_large()
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _stream(send: Send, receive: Receive, proto: WireProtocol, streaming: _Streaming, request_id: str) -> None:
    """Send an event stream event by event (no content-length: chunked); stop producing when the client goes, and
    end with the stream's failure event if the producer fails."""
    spec, op, events = streaming.spec, streaming.op, streaming.result.events
    headers, first = proto.open_stream(spec, op, request_id, streaming.result.initial)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if first:
        await send({"type": "http.response.body", "body": first, "more_body": True})
    gone = asyncio.ensure_future(_disconnected(receive))
    nxt: asyncio.Future[StreamEvent] | None = None
    try:
        while True:
            nxt = asyncio.ensure_future(anext(events))
            await asyncio.wait((nxt, gone), return_when=asyncio.FIRST_COMPLETED)
            if not nxt.done():
                return  # the client went away; the producer is cancelled below
            try:
                chunk = proto.frame_event(spec, op, nxt.result())
            except StopAsyncIteration:
                break
            except Exception:  # a bug or a lost database: tell the client, do not cut the stream
                log.exception("event stream producer failed")
                failure = proto.frame_event(spec, op, streaming.result.failure)
                await send({"type": "http.response.body", "body": failure, "more_body": True})
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
            aclose = getattr(events, "aclose", None)  # async generators can be closed; other iterators end alone
            if aclose is not None:
                await aclose()


async def _send(send: Send, status: int, headers: Headers, body: bytes) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
