"""HTTP/2 cleartext beside HTTP/1.1 on one port: the uvicorn `http=` protocol class of `broker serve`.

A connection is looked at once, by its first bytes. The HTTP/2 connection preface (`PRI * HTTP/2.0`: "prior
knowledge", as the AWS SDK for JavaScript v3 and the Java SDK's Netty client send it to an http:// endpoint) hands
it to `H2Protocol`; anything else goes to uvicorn's own `HttpToolsProtocol`, unchanged. The transport is switched
over to the chosen protocol, so an HTTP/1.1 connection pays one extra call on its first packet and nothing after.

`H2Protocol` runs the `h2` state machine and bridges each stream to the ASGI app the way uvicorn bridges a request:
`receive` yields the body as it arrives (handed back to the client's flow-control window as the app takes it) and
`http.disconnect` once the client resets the stream (RST_STREAM) or the connection goes; `send` writes DATA frames
within the client's flow-control windows, waiting for its WINDOW_UPDATEs, so an event stream (SubscribeToShard)
flows as fast as the client reads it and a client that stops reading holds no more than its window.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Iterable, MutableMapping
from typing import Any, cast
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from h2.errors import ErrorCodes
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl, service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl
from uvicorn.server import ServerState

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Request body a stream may have in flight before the app takes it, and a whole connection: a 1 MiB PutRecord
# takes a few WINDOW_UPDATEs, and no client makes a connection buffer more than 1 MiB.
STREAM_WINDOW = 256 * 1024
CONNECTION_WINDOW = 1024 * 1024
MAX_STREAMS = 1000  # concurrent requests per connection (a SubscribeToShard holds one for up to 5 minutes)
MAX_HEADER_LIST = 64 * 1024

# RFC 9113 8.2.2: connection-specific headers are malformed in HTTP/2 (h2 refuses to send them).
_HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"})

Scope = MutableMapping[str, Any]

log = logging.getLogger("uvicorn.error")
access_log = logging.getLogger("uvicorn.access")


class HttpProtocol(asyncio.Protocol):
    """Picks the protocol of a new connection from its first bytes, then steps aside."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.loop = _loop
        self.connections: set[Any] = server_state.connections
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are no asyncio subclasses
        self.connections.add(self)  # a graceful shutdown closes a connection that has not said anything yet

    def data_received(self, data: bytes) -> None:
        if self.buffer:
            data = self.buffer + data
        if len(data) < len(PREFACE) and PREFACE.startswith(data):
            self.buffer = data  # a first packet cut inside the preface: wait for the rest
            return
        transport = self.transport
        assert transport is not None
        self.connections.discard(self)
        protocol: asyncio.Protocol
        if data.startswith(PREFACE):
            protocol = H2Protocol(self.config, self.server_state, self.app_state, self.loop)
            transport.set_protocol(protocol)
            protocol.connection_made(transport)
        else:
            protocol = HttpToolsProtocol(self.config, self.server_state, self.app_state, self.loop)
            transport.set_protocol(protocol)
            protocol.connection_made(cast(asyncio.Transport, Coalescing(transport)))
        protocol.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)

    def shutdown(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Coalescing:
    """An HTTP/1.1 connection's transport as uvicorn's protocol sees it: what one step of the event loop writes
    leaves in one send, so a response's head and body (two writes) make one syscall and one loopback segment
    instead of two. The rest is the real transport's."""

    __slots__ = ("_transport", "_pending")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(data)

    def writelines(self, lines: Iterable[bytes]) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class H2Protocol(asyncio.Protocol):
    """One HTTP/2 connection: its streams become ASGI requests."""

    transport: asyncio.Transport  # both set by connection_made
    flow: FlowControl

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.app = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.app_state = app_state
        self.server_state = server_state
        self.connections: set[Any] = server_state.connections
        self.tasks = server_state.tasks
        self.access_log = access_log.hasHandlers()
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
        self.streams: dict[int, _Stream] = {}
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "http"
        self.closing = False  # a graceful shutdown began: new streams are refused, the last one to end closes
        self.idle_timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = self.transport = cast(asyncio.Transport, transport)
        self.connections.add(self)
        self.flow = FlowControl(transport)
        self.server = get_local_addr(transport)
        self.client = get_remote_addr(transport)
        self.scheme = "https" if is_ssl(transport) else "http"
        self.conn.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST,
            },
        )
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(CONNECTION_WINDOW - self.conn.inbound_flow_control_window)
        self.flush()

    def data_received(self, data: bytes) -> None:
        self._cancel_idle_timer()
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as e:  # h2 queued the GOAWAY that says why
            log.warning("Invalid HTTP/2 data received: %s", e)
            self.flush()
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self._request(event)
            elif isinstance(event, h2.events.DataReceived):
                self._data(event)
            elif isinstance(event, h2.events.StreamEnded):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    stream.more_body = False
                    stream.message_event.set()
            elif isinstance(event, h2.events.StreamReset):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    stream.disconnect()  # the app sees http.disconnect, as after an HTTP/1.1 hang-up
            elif isinstance(event, h2.events.WindowUpdated):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    stream.window_event.set()
                elif event.stream_id == 0:
                    self._wake_writers()
            elif isinstance(event, h2.events.RemoteSettingsChanged):
                self._wake_writers()  # a new initial window or frame size
            elif isinstance(event, h2.events.ConnectionTerminated):
                # h2 sends nothing after a GOAWAY in either direction: the client's open streams end with it.
                for s in self.streams.values():
                    s.disconnect()
                self.flush()
                self.transport.close()
                return
        self.flush()
        if not self.streams:
            self._idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self._cancel_idle_timer()
        for stream in self.streams.values():
            stream.disconnect()
        self.flow.resume_writing()

    def eof_received(self) -> None:
        pass

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: refuse new streams, close once the open ones ended (or were cancelled)."""
        self.closing = True
        if not self.streams:
            self._goaway()

    # -- streams ----------------------------------------------------------------------------------------------
    def _request(self, event: h2.events.RequestReceived) -> None:
        sid = event.stream_id
        if self.closing:
            self._reset(sid, ErrorCodes.REFUSED_STREAM)  # never processed: the client may safely retry it
            return
        method = path = authority = None
        headers: list[tuple[bytes, bytes]] = []
        has_host = False
        for name, value in event.headers:
            assert isinstance(name, bytes) and isinstance(value, bytes)  # header_encoding=None: bytes as received
            if name[:1] == b":":
                if name == b":method":
                    method = value
                elif name == b":path":
                    path = value
                elif name == b":authority":
                    authority = value
            else:
                has_host = has_host or name == b"host"
                headers.append((name, value))
        if method is None or not path or not path.isascii():
            self._reset(sid, ErrorCodes.PROTOCOL_ERROR)
            return
        if authority is not None and not has_host:
            headers.append((b"host", authority))  # HTTP/2's Host: the gateway builds queue URLs from it
        raw_path, _, query = path.partition(b"?")
        text_path = raw_path.decode("ascii")
        if "%" in text_path:
            text_path = unquote(text_path)
        root = self.config.root_path
        scope: Scope = {
            "type": "http",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.3"},
            "http_version": "2",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": method.decode("ascii", "replace"),
            "root_path": root,
            "path": root + text_path,
            "raw_path": root.encode("ascii") + raw_path,
            "query_string": query,
            "headers": headers,
            "state": self.app_state.copy(),
        }
        limit = self.config.limit_concurrency
        app: Any = self.app
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            log.warning("Exceeded concurrency limit.")
            app = service_unavailable
        stream = _Stream(self, sid, scope)
        self.streams[sid] = stream
        if getattr(self.config, "reset_contextvars", False):  # uvicorn 0.55+
            task = self.loop.create_task(stream.run(app), context=contextvars.Context())
        else:
            task = self.loop.create_task(stream.run(app))
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def _data(self, event: h2.events.DataReceived) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None or stream.response_complete or stream.disconnected:
            # Nobody will read it: hand its window back at once, or the connection's window would shrink for good.
            self.acknowledge(event.flow_controlled_length, event.stream_id)
            return
        stream.body += event.data
        stream.unacknowledged += event.flow_controlled_length
        stream.message_event.set()

    def acknowledge(self, size: int, sid: int) -> None:
        """Hand `size` received bytes back to the client's flow-control windows (h2 sends the WINDOW_UPDATEs when
        enough has been handed back)."""
        if size:
            try:
                self.conn.acknowledge_received_data(size, sid)
            except h2.exceptions.ProtocolError:
                pass  # the connection is closing

    def stream_done(self, stream: _Stream) -> None:
        """The app returned: forget the stream; close the connection or arm its idle timer if it was the last."""
        if self.streams.pop(stream.sid, None) is None:
            return
        self.server_state.total_requests += 1
        self.acknowledge(stream.unacknowledged, stream.sid)
        stream.unacknowledged = 0
        if stream.disconnected:
            pass
        elif not stream.response_complete:
            self._reset(stream.sid, ErrorCodes.INTERNAL_ERROR)  # the app failed mid-response
        elif stream.more_body:
            # Answered before the whole request arrived (a body over the limit): ask the client to stop sending
            # it, without error (RFC 9113 8.1).
            self._reset(stream.sid, ErrorCodes.NO_ERROR)
        self.flush()
        if not self.streams:
            self._idle()

    def _reset(self, sid: int, code: ErrorCodes) -> None:
        try:
            self.conn.reset_stream(sid, code)
        except h2.exceptions.ProtocolError:
            pass  # closed on both sides already, or the connection is gone

    def _wake_writers(self) -> None:
        for stream in self.streams.values():
            stream.window_event.set()

    # -- connection -------------------------------------------------------------------------------------------
    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    def _idle(self) -> None:
        """No stream open: close now if a shutdown waits for that, else after uvicorn's keep-alive timeout."""
        if self.closing:
            self._goaway()
        elif self.idle_timer is None and not self.transport.is_closing():
            self.idle_timer = self.loop.call_later(self.config.timeout_keep_alive, self._goaway)

    def _goaway(self) -> None:
        self.idle_timer = None
        if self.transport.is_closing():
            return
        try:
            self.conn.close_connection()  # GOAWAY: streams after the last one we saw were not processed
        except h2.exceptions.ProtocolError:
            pass
        self.flush()
        self.transport.close()

    def _cancel_idle_timer(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None


class _Stream:
    """One request and its response on a stream, seen by the app as an ASGI HTTP request."""

    __slots__ = (
        "proto",
        "sid",
        "scope",
        "body",
        "unacknowledged",
        "more_body",
        "message_event",
        "window_event",
        "disconnected",
        "response_started",
        "response_complete",
        "bodyless",
    )

    def __init__(self, proto: H2Protocol, sid: int, scope: Scope) -> None:
        self.proto = proto
        self.sid = sid
        self.scope = scope
        self.body = bytearray()
        self.unacknowledged = 0  # flow-controlled bytes received but not yet taken by the app
        self.more_body = True
        self.message_event = asyncio.Event()
        self.window_event = asyncio.Event()
        self.disconnected = False
        self.response_started = False
        self.response_complete = False
        self.bodyless = False

    def disconnect(self) -> None:
        if not self.response_complete:
            self.disconnected = True
        self.message_event.set()
        self.window_event.set()

    async def run(self, app: Any) -> None:
        try:
            result = await app(self.scope, self.receive, self.send)
        except BaseException as exc:  # as uvicorn: logged, answered with a 500 if still possible
            log.error("Exception in ASGI application\n", exc_info=exc)
            if not self.response_started and not self.disconnected:
                await self._send_500()
        else:
            if result is not None:
                log.error("ASGI callable should return None, but returned '%s'.", result)
            elif not self.response_started and not self.disconnected:
                log.error("ASGI callable returned without starting response.")
                await self._send_500()
            elif not self.response_complete and not self.disconnected:
                log.error("ASGI callable returned without completing response.")
        finally:
            self.proto.stream_done(self)

    async def _send_500(self) -> None:
        await self.send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"21")]})
        await self.send({"type": "http.response.body", "body": b"Internal Server Error"})

    async def receive(self) -> dict[str, Any]:
        if not self.disconnected and not self.response_complete:
            await self.message_event.wait()
            self.message_event.clear()
        if self.disconnected or self.response_complete:
            return {"type": "http.disconnect"}
        body = bytes(self.body)
        self.body.clear()
        if self.unacknowledged:  # the app took it: the client may send that much more
            self.proto.acknowledge(self.unacknowledged, self.sid)
            self.unacknowledged = 0
            self.proto.flush()
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        proto = self.proto
        if proto.flow.write_paused and not self.disconnected:
            await proto.flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            if message["type"] != "http.response.start":
                raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{message['type']}'.")
            self.response_started = True
            status = message["status"]
            headers = [(b":status", b"%d" % status)]
            for name, value in (*proto.server_state.default_headers, *message.get("headers", ())):
                name = name.lower()
                if name not in _HOP_BY_HOP:
                    headers.append((name, value))
            self.bodyless = self.scope["method"] == "HEAD" or status in (204, 304) or status < 200
            if proto.access_log:
                self._access_log(status)
            try:
                proto.conn.send_headers(self.sid, headers)
            except h2.exceptions.ProtocolError:  # reset by the client meanwhile
                self.disconnected = True
                return
            # Written with the first body part (at once, as a rule), and soon in any case: an event stream may
            # wait for its first event.
            proto.loop.call_soon(proto.flush)
        elif not self.response_complete:
            if message["type"] != "http.response.body":
                raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{message['type']}'.")
            body = b"" if self.bodyless else message.get("body", b"")
            more_body = message.get("more_body", False)
            try:
                await self._write(body, end=not more_body)
            except h2.exceptions.ProtocolError:  # reset by the client while we waited, or the connection is gone
                self.disconnected = True
            if not more_body and not self.disconnected:
                self.response_complete = True
                self.message_event.set()
        else:
            raise RuntimeError(f"Unexpected ASGI message '{message['type']}' sent, after response already completed.")

    async def _write(self, body: bytes, end: bool) -> None:
        """DATA frames within the client's flow-control windows and frame size; END_STREAM with the last."""
        proto, conn = self.proto, self.proto.conn
        view = memoryview(body)
        while view:
            size = min(len(view), conn.local_flow_control_window(self.sid), conn.max_outbound_frame_size)
            if size <= 0:
                proto.flush()
                self.window_event.clear()
                await self.window_event.wait()  # a WINDOW_UPDATE, new SETTINGS, a reset or the connection's end
                if self.disconnected:
                    return
                continue
            conn.send_data(self.sid, view[:size], end_stream=end and size == len(view))
            view = view[size:]
            if proto.flow.write_paused:  # the socket's buffer is full: wait until the client reads
                proto.flush()
                await proto.flow.drain()
                if self.disconnected:
                    return
        if not body and end:
            conn.end_stream(self.sid)
        proto.flush()

    def _access_log(self, status: int) -> None:
        client = self.scope["client"]
        query = self.scope["query_string"]
        path = self.scope["raw_path"].decode("latin1") + ("?" + query.decode("ascii") if query else "")
        peer = f"{client[0]}:{client[1]}" if client else ""
        access_log.info('%s - "%s %s HTTP/2" %d', peer, self.scope["method"], path, status)
