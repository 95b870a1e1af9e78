"""The Lambda Runtime API (2018-06-01) served to ONE execution environment on its own loopback port.

HTTP/1.1 on asyncio streams with h11, keep-alive, `Expect: 100-continue`, chunked request bodies with trailers
(streamed responses). The server knows the wire; what a request means is the environment's business
(`RuntimeApiHandler`). Status codes and error bodies are Lambda's: 202 `{"status":"OK"}`, 400 InvalidRequestID,
403 InvalidStateTransition, 413 RequestEntityTooLarge, 500 InternalServerError.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol

import h11
import orjson

PREFIX = b"/2018-06-01/runtime/"
ACCEPTED = orjson.dumps({"status": "OK"})
_READ_SIZE = 1 << 16
# Error posts and init errors bigger than this are cut: Lambda keeps only the start of an error document too.
MAX_ERROR_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes = ACCEPTED
    headers: tuple[tuple[bytes, bytes], ...] = ()


def error_reply(status: int, error_type: str, message: str) -> Reply:
    return Reply(status, orjson.dumps({"errorMessage": message, "errorType": error_type}))


def invalid_request_id() -> Reply:
    return error_reply(400, "InvalidRequestID", "Invalid request ID")


def invalid_state(current: str, target: str) -> Reply:
    return error_reply(
        403,
        "InvalidStateTransition",
        f"State transition from {current} to {target} failed for runtime. Error: State transition is not allowed",
    )


def internal_error() -> Reply:
    return error_reply(500, "InternalServerError", "Internal Server Error")


class ResponseSink(Protocol):
    """Where the body of one /response post goes, chunk by chunk."""

    def feed(self, chunk: bytes) -> None: ...

    def finish(self, trailers: dict[bytes, bytes], complete: bool) -> Reply: ...


class RuntimeApiHandler(Protocol):
    async def next_invocation(self) -> Reply:
        """Waits for the next invocation (long poll) and renders it."""
        ...

    def open_response(self, request_id: str, headers: dict[bytes, bytes]) -> ResponseSink | Reply: ...

    def post_error(self, request_id: str, headers: dict[bytes, bytes], body: bytes) -> Reply: ...

    def post_init_error(self, headers: dict[bytes, bytes], body: bytes) -> Reply: ...


class RuntimeApiServer:
    """Listens on 127.0.0.1:<free port> for one environment; `close()` drops the listener and every connection."""

    def __init__(self, handler: RuntimeApiHandler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=16)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                event = await _next_event(conn, reader)
                if not isinstance(event, h11.Request):
                    break
                if conn.they_are_waiting_for_100_continue:
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])) or b"")
                reply = await self._dispatch(conn, reader, event)
                writer.write(_render(conn, reply))
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except h11.RemoteProtocolError:
            with contextlib.suppress(h11.ProtocolError):
                writer.write(_render(conn, error_reply(400, "InvalidRequestFormat", "Malformed HTTP request")))
        except (ConnectionError, asyncio.IncompleteReadError, h11.LocalProtocolError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _dispatch(self, conn: h11.Connection, reader: asyncio.StreamReader, request: h11.Request) -> Reply:
        target = bytes(request.target).split(b"?", 1)[0]
        method = bytes(request.method)
        headers = {bytes(name): bytes(value) for name, value in request.headers}
        if not target.startswith(PREFIX):
            await _drain(conn, reader)
            return Reply(404, b"404 page not found\n", ((b"Content-Type", b"text/plain; charset=utf-8"),))
        parts = target[len(PREFIX) :].split(b"/")
        if parts == [b"invocation", b"next"] and method == b"GET":
            await _drain(conn, reader)
            return await self._handler.next_invocation()
        if len(parts) == 3 and parts[0] == b"invocation" and method == b"POST" and parts[1]:
            request_id = parts[1].decode("utf-8", "replace")
            if parts[2] == b"response":
                return await self._response(conn, reader, request_id, headers)
            if parts[2] == b"error":
                body = await _body(conn, reader, MAX_ERROR_BODY)
                return self._handler.post_error(request_id, headers, body)
        if parts == [b"init", b"error"] and method == b"POST":
            body = await _body(conn, reader, MAX_ERROR_BODY)
            return self._handler.post_init_error(headers, body)
        await _drain(conn, reader)
        if parts and parts[0] in (b"invocation", b"init"):
            return Reply(405, b"", ())
        return Reply(404, b"404 page not found\n", ((b"Content-Type", b"text/plain; charset=utf-8"),))

    async def _response(
        self, conn: h11.Connection, reader: asyncio.StreamReader, request_id: str, headers: dict[bytes, bytes]
    ) -> Reply:
        sink = self._handler.open_response(request_id, headers)
        if isinstance(sink, Reply):
            await _drain(conn, reader)
            return sink
        complete = False
        trailers: dict[bytes, bytes] = {}
        try:
            while True:
                event = await _next_event(conn, reader)
                if isinstance(event, h11.Data):
                    sink.feed(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    trailers = {bytes(name): bytes(value) for name, value in event.headers}
                    complete = True
                    break
                else:
                    break
        finally:
            reply = sink.finish(trailers, complete)
        return reply


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> object:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await reader.read(_READ_SIZE))


async def _body(conn: h11.Connection, reader: asyncio.StreamReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await _next_event(conn, reader)
        if isinstance(event, h11.Data):
            if size < limit:
                chunks.append(bytes(event.data)[: limit - size])
            size += len(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(chunks)
        else:
            raise ConnectionError("connection closed in a request body")


async def _drain(conn: h11.Connection, reader: asyncio.StreamReader) -> None:
    await _body(conn, reader, 0)


def _render(conn: h11.Connection, reply: Reply) -> bytes:
    headers: list[tuple[bytes, bytes]] = list(reply.headers)
    if not any(name.lower() == b"content-type" for name, _ in headers):
        headers.append((b"Content-Type", b"application/json"))
    headers.append((b"Content-Length", str(len(reply.body)).encode()))
    out: Iterable[bytes | None] = (
        conn.send(h11.Response(status_code=reply.status, headers=headers, reason=_reason(reply.status))),
        conn.send(h11.Data(data=reply.body)) if reply.body else b"",
        conn.send(h11.EndOfMessage()),
    )
    return b"".join(part for part in out if part)
