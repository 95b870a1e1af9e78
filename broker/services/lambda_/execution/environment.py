"""One execution environment: a runtime process serving one invocation at a time through its own Runtime API.

States: starting (spawned, init running until its first `invocation/next`), idle (parked in `next`), busy (an
invocation delivered), finishing (answered, not yet back in `next`), dead. An invocation ends with the runtime's
response or error post, a timeout (the process group is killed), the process's exit, or the memory watchdog; the
environment is discarded after all but the first.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from broker import clock, ids
from broker.config import Settings
from broker.services.lambda_.execution import documents, launch
from broker.services.lambda_.execution.model import (
    INIT_TIMEOUT_S,
    MAX_RESPONSE_BYTES,
    TAIL_BYTES,
    FunctionSpec,
    Invocation,
    Outcome,
)
from broker.services.lambda_.execution.process import RuntimeProcess
from broker.services.lambda_.execution.runtime_api import (
    Reply,
    ResponseSink,
    RuntimeApiServer,
    error_reply,
    internal_error,
    invalid_request_id,
    invalid_state,
)

ChunkQueue = asyncio.Queue[bytes | None]
# A line longer than this is cut into events (CloudWatch Logs takes events of up to 256 KB).
MAX_LINE = 256 * 1024
# Output of an environment between invocations (a background thread printing) kept for the next one.
MAX_PENDING_LINES = 10_000
# After its answer a runtime normally asks for the next invocation at once; what it logs until then belongs to
# this invocation (as on AWS, where the invoke phase ends with that request). A runtime that does not come back
# within this long has its invocation closed without waiting longer.
AFTER_RESPONSE_GRACE_S = 0.25
# Lambda's names of the runtime's states, as its 403 answers quote them.
_STARTED, _RESPONSE_SENT = "Started", "RuntimeResponseSentState"


class _Failure:
    """Why an environment could not take an invocation: the document Invoke answers and the log's last words."""

    def __init__(
        self,
        payload: Callable[[str], bytes],
        error_type: str,
        line: Callable[[str], str | None],
        status: str = "error",
    ) -> None:
        self.payload = payload
        self.error_type = error_type
        self.line = line
        self.status = status


class _Call:
    """One invocation in flight."""

    def __init__(self, inv: Invocation, queue: ChunkQueue | None) -> None:
        self.inv = inv
        self.queue = queue
        self.lines: list[tuple[int, str]] = []
        self.started = 0.0
        self.responded = False
        self.result: tuple[bytes, bool] | None = None
        self.answered_at = 0.0
        self.done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.timer: asyncio.TimerHandle | None = None


class _Sink:
    """The body of a /response post: buffered (Invoke, 6 MB limit) or passed on as it comes (streamed)."""

    def __init__(self, env: Environment, call: _Call, streaming: bool) -> None:
        self.env = env
        self.call = call
        self.streaming = streaming and call.queue is not None
        self.parts: list[bytes] = []
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.streaming:
            assert self.call.queue is not None
            self.call.queue.put_nowait(chunk)
            self.parts.append(chunk)
        elif self.size <= MAX_RESPONSE_BYTES:
            self.parts.append(chunk)

    def finish(self, trailers: dict[bytes, bytes], complete: bool) -> Reply:
        env, call = self.env, self.call
        if env._current is not call:
            return invalid_request_id()
        if not complete:
            # The runtime hung up mid-body: its exit (or the timeout) ends the invocation.
            return internal_error()
        error_type = trailers.get(b"lambda-runtime-function-error-type")
        if error_type is not None:
            raw = trailers.get(b"lambda-runtime-function-error-body", b"")
            try:
                body = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                body = b""
            env._respond(call, body or documents.unknown_error_document(error_type.decode("latin-1")), True)
            return Reply(202)
        if not self.streaming and self.size > MAX_RESPONSE_BYTES:
            env._respond(call, documents.too_large_document(), True)
            return error_reply(
                413, "RequestEntityTooLarge", f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
            )
        env._respond(call, b"".join(self.parts), False, streamed=self.streaming)
        return Reply(202)


class Environment:
    def __init__(
        self,
        settings: Settings,
        fn: FunctionSpec,
        *,
        endpoint_url: str,
        scratch_root: Path,
        on_idle: Callable[[Environment], None],
        on_dead: Callable[[Environment], None],
        provisioned: bool = False,
    ) -> None:
        self.settings = settings
        self.fn = fn
        self.provisioned = provisioned
        self.retiring = False
        self.reserved = False
        self.state = "starting"
        self.credentials_expire_ms: int | None = None  # of the execution role's credentials it was started with
        self.last_used = time.monotonic()
        self.peak_kb = 0
        hex_id = ids.token(16)
        day = time.strftime("%Y/%m/%d", time.gmtime(clock.now_ms() / 1000))
        self.log_stream = f"{day}/[{fn.version}]{hex_id}"
        self._endpoint_url = endpoint_url
        self._scratch = scratch_root / hex_id
        self._on_idle = on_idle
        self._on_dead = on_dead
        self._loop = asyncio.get_running_loop()
        self._server = RuntimeApiServer(self)
        self._proc: RuntimeProcess | None = None
        self._ready: asyncio.Future[_Failure | None] = self._loop.create_future()
        self._exited: asyncio.Future[None] = self._loop.create_future()
        self._parked: asyncio.Future[Reply] | None = None
        self._queued: _Call | None = None
        self._current: _Call | None = None
        self._pending: list[tuple[int, str]] = []
        self._partial = b""
        self._spawned_at = 0.0
        self._init_ms: float | None = None
        self._cold = not provisioned
        self._oom = False
        self._init_error: _Failure | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Spawns the runtime; a runtime that cannot start leaves the environment dead with the reason ready for
        the invocation waiting on it."""
        port = await self._server.start()
        try:
            self._scratch.mkdir(parents=True, exist_ok=True)
            spec = launch.build(
                self.settings,
                self.fn,
                runtime_api=f"127.0.0.1:{port}",
                log_stream=self.log_stream,
                endpoint_url=self._endpoint_url,
                scratch=self._scratch,
            )
            self.credentials_expire_ms = spec.credentials_expire_ms
            for note in spec.notes:
                self._pending.append((clock.now_ms(), note))
            self._spawned_at = time.perf_counter()
            self._proc = RuntimeProcess(spec.argv, spec.env, spec.cwd, self._on_output, self._on_exit)
        except launch.LaunchError as e:
            self._fail_to_start(e.error_type, e.reason)
        except OSError as e:
            self._fail_to_start("Runtime.InvalidEntrypoint", f"fork/exec {e.filename or '?'}: {_strerror(e)}")

    def _fail_to_start(self, error_type: str, reason: str) -> None:
        self._resolve_ready(
            _Failure(
                lambda rid: documents.error_document(error_type, f"RequestId: {rid} Error: {reason}"),
                error_type,
                lambda rid: f"RequestId: {rid} Error: {reason}\n{error_type}",
            )
        )
        self._die()

    async def wait_ready(self) -> bool:
        """For provisioned concurrency: True once init completed."""
        failure = await self._wait_init()
        return failure is None

    def kill(self) -> None:
        """Stops the environment (its whole process group); the exit is handled as usual."""
        if self._proc is not None and self._proc.alive:
            self._proc.kill()
        elif self.state != "dead":
            self._die()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._exited)

    @property
    def initialized(self) -> bool:
        """Init completed (the runtime asked for its first invocation)."""
        return self._ready.done() and self._ready.result() is None

    @property
    def alive(self) -> bool:
        return self.state != "dead"

    def check_memory(self) -> None:
        """The watchdog's sample: the group's resident memory; over the function's MemorySize it is killed."""
        proc = self._proc
        if proc is None or not proc.alive:
            return
        kb = proc.group_rss_kb()
        self.peak_kb = max(self.peak_kb, kb)
        if self.settings.lambda_enforce_memory and kb > self.fn.memory_mb * 1024:
            self._oom = True
            proc.kill()

    # --- invocations -----------------------------------------------------------------------------------------

    async def run(self, inv: Invocation, queue: ChunkQueue | None = None) -> Outcome:
        """Runs one invocation on this (reserved) environment; streamed chunks go to `queue`, then None."""
        call = _Call(inv, queue)
        delivered = False
        try:
            failure = await self._wait_init()
            if failure is not None:
                return self._failed_start(call, failure)
            self._deliver(call)
            delivered = True
            # A caller that gives up (cancelled) leaves the invocation running to its end, as on AWS.
            return await asyncio.shield(call.done)
        finally:
            if not delivered:
                self.reserved = False
            if queue is not None:
                queue.put_nowait(None)

    async def _wait_init(self) -> _Failure | None:
        if not self._ready.done():
            limit = INIT_TIMEOUT_S + (0 if self.provisioned else self.fn.timeout_s)
            try:
                await asyncio.wait_for(asyncio.shield(self._ready), limit)
            except TimeoutError:
                timeout_s = float(self.fn.timeout_s)
                self._resolve_ready(
                    _Failure(
                        lambda rid: documents.timeout_document(rid, timeout_s),
                        "Sandbox.Timedout",
                        lambda rid: documents.timeout_line(clock.now_ms(), rid, timeout_s),
                        status="timeout",
                    )
                )
                self.kill()
        return self._ready.result()

    def _failed_start(self, call: _Call, failure: _Failure) -> Outcome:
        rid = call.inv.request_id
        lines = self._take_pending()
        now = clock.now_ms()
        lines.append((now, documents.start_line(rid, self.fn.version)))
        last = failure.line(rid)
        if last:
            lines.append((now, last))
        payload = failure.payload(rid)
        init_ms = self._init_elapsed_ms()
        # Discarded: the next invocation starts a fresh environment.
        self.kill()
        self.state = "dead"
        self.reserved = False
        return self._outcome(call, lines, payload, True, 0.0, init_ms, failure.status, failure.error_type)

    def _deliver(self, call: _Call) -> None:
        # A "finishing" environment gets the invocation when its runtime asks for the next one.
        self.state = "busy"
        self._current = call
        call.lines = self._take_pending()
        call.lines.append((clock.now_ms(), documents.start_line(call.inv.request_id, self.fn.version)))
        call.started = time.perf_counter()
        call.timer = self._loop.call_later(self.fn.timeout_s, self._timed_out, call)
        if self._parked is not None and not self._parked.done():
            self._parked.set_result(self._render(call))
        else:
            self._queued = call

    def _render(self, call: _Call) -> Reply:
        inv = call.inv
        headers = [
            (b"Content-Type", b"application/json"),
            (b"Lambda-Runtime-Aws-Request-Id", inv.request_id.encode()),
            (b"Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + self.fn.timeout_s * 1000).encode()),
            (b"Lambda-Runtime-Invoked-Function-Arn", inv.invoked_arn.encode()),
            (b"Lambda-Runtime-Trace-Id", (inv.trace_id or _trace_id()).encode()),
        ]
        if inv.client_context:
            headers.append((b"Lambda-Runtime-Client-Context", _client_context(inv.client_context)))
        if inv.cognito_identity:
            headers.append((b"Lambda-Runtime-Cognito-Identity", inv.cognito_identity.encode()))
        return Reply(200, inv.payload, tuple(headers))

    def _timed_out(self, call: _Call) -> None:
        if self._current is not call:
            return
        timeout_s = float(self.fn.timeout_s)
        if self._proc is not None:
            self._proc.kill()
        self.state = "dead"  # not reusable; the exit completes the teardown
        self._finish(
            call,
            documents.timeout_document(call.inv.request_id, timeout_s),
            True,
            last_line=documents.timeout_line(clock.now_ms(), call.inv.request_id, timeout_s),
            status="timeout",
        )

    def _respond(self, call: _Call, payload: bytes, failed: bool, *, streamed: bool = False) -> None:
        """The runtime answered: the payload is known now (a stream consumer gets it at once); the invocation
        ends when the runtime asks for the next one (or after a grace)."""
        if call.result is not None or call.done.done():
            return
        call.result = (payload, failed)
        call.answered_at = time.perf_counter()
        if call.timer is not None:
            call.timer.cancel()
        if call.queue is not None and not failed and not streamed and payload:
            call.queue.put_nowait(payload)
        call.timer = self._loop.call_later(AFTER_RESPONSE_GRACE_S, self._grace_over, call)

    def _grace_over(self, call: _Call) -> None:
        if self._current is call and call.result is not None:
            self._finish(call, *call.result, end=call.answered_at)

    def _finish(
        self,
        call: _Call,
        payload: bytes,
        failed: bool,
        *,
        last_line: str | None = None,
        status: str | None = None,
        error_type: str | None = None,
        end: float | None = None,
    ) -> None:
        if call.done.done():
            return
        if call.timer is not None:
            call.timer.cancel()
        if self._proc is not None:
            self._proc.drain()
        self._flush_partial()
        duration = ((end or time.perf_counter()) - call.started) * 1000
        self._current = None
        self.reserved = False
        if self.state == "busy":
            self.state = "finishing"
        lines = call.lines
        if last_line:
            lines.append((clock.now_ms(), last_line))
        init_ms = self._init_ms if self._cold else None
        self._cold = False
        call.done.set_result(self._outcome(call, lines, payload, failed, duration, init_ms, status, error_type))
        self.last_used = time.monotonic()

    def _outcome(
        self,
        call: _Call,
        lines: list[tuple[int, str]],
        payload: bytes,
        failed: bool,
        duration: float,
        init_ms: float | None,
        status: str | None,
        error_type: str | None,
    ) -> Outcome:
        rid = call.inv.request_id
        peak_kb = max(self.peak_kb, self._proc.peak_rss_kb() if self._proc is not None else 0)
        max_mb = (peak_kb + 1023) // 1024
        # AWS bills the init phase of on-demand environments too (since August 2025).
        billed = documents.billed_ms(duration + (init_ms or 0.0))
        now = clock.now_ms()
        lines.append((now, documents.end_line(rid)))
        lines.append(
            (now, documents.report_line(rid, duration, billed, self.fn.memory_mb, max_mb, init_ms, status, error_type))
        )
        text = "".join(line + "\n" for _, line in lines).encode()
        return Outcome(
            payload=payload,
            function_error=documents.UNHANDLED if failed else None,
            log_stream=self.log_stream,
            log_events=lines,
            log_tail=text[-TAIL_BYTES:],
            duration_ms=duration,
            billed_ms=billed,
            init_duration_ms=init_ms,
            max_memory_mb=max_mb,
        )

    # --- Runtime API (RuntimeApiHandler) ---------------------------------------------------------------------

    async def next_invocation(self) -> Reply:
        if self.state == "dead":
            return internal_error()
        call = self._current
        if call is not None and self._queued is None and call.result is not None:
            self._finish(call, *call.result)
        # (A runtime asking again without answering waits, as on AWS: its invocation runs into its timeout.)
        if self.state == "starting":
            self._init_ms = (time.perf_counter() - self._spawned_at) * 1000
            self.state = "idle"
            self._resolve_ready(None)
        elif self.state == "finishing":
            self.state = "idle"
            self._on_idle(self)
        if self._queued is not None:
            call, self._queued = self._queued, None
            return self._render(call)
        parked: asyncio.Future[Reply] = self._loop.create_future()
        self._parked = parked
        try:
            return await parked
        finally:
            if self._parked is parked:
                self._parked = None

    def _answering(self, request_id: str, target: str) -> _Call | Reply:
        """The invocation an answer is for, or Lambda's refusal: 403 outside an invocation's processing, 400 for
        an id that is not the current invocation's."""
        call = self._current
        if self.state == "starting":
            return invalid_state(_STARTED, target)
        if self.state == "finishing" or (call is not None and call.responded):
            return invalid_state(_RESPONSE_SENT, target)
        if call is None or self._queued is call or request_id != call.inv.request_id:
            return invalid_request_id()
        call.responded = True
        return call

    def open_response(self, request_id: str, headers: dict[bytes, bytes]) -> ResponseSink | Reply:
        call = self._answering(request_id, "InvocationResponse")
        if isinstance(call, Reply):
            return call
        streaming = headers.get(b"lambda-runtime-function-response-mode", b"").lower() == b"streaming"
        return _Sink(self, call, streaming)

    def post_error(self, request_id: str, headers: dict[bytes, bytes], body: bytes) -> Reply:
        call = self._answering(request_id, "InvocationErrorResponse")
        if isinstance(call, Reply):
            return call
        error_type = headers.get(b"lambda-runtime-function-error-type", b"").decode("latin-1")
        self._respond(call, body if body.strip() else documents.unknown_error_document(error_type), True)
        return Reply(202)

    def post_init_error(self, headers: dict[bytes, bytes], body: bytes) -> Reply:
        if self.state != "starting" or self._init_error is not None:
            current = "InitError" if self._init_error is not None else "Ready"
            if self.state == "finishing" or (self._current is not None and self._current.responded):
                current = _RESPONSE_SENT
            return invalid_state(current, "InitError")
        header = headers.get(b"lambda-runtime-function-error-type", b"").decode("latin-1")
        payload = body if body.strip() else documents.unknown_error_document(header)
        error_type = _error_type(payload) or header or "Runtime.Unknown"
        self._init_error = _Failure(lambda rid: payload, error_type, lambda rid: None)
        self._init_ms = (time.perf_counter() - self._spawned_at) * 1000
        self._resolve_ready(self._init_error)
        # The runtime exits after reporting; one that lingers is stopped.
        self._loop.call_later(0.5, self.kill)
        return Reply(202)

    # --- process events --------------------------------------------------------------------------------------

    def _on_output(self, data: bytes) -> None:
        if not data:
            self._flush_partial()
            return
        buf = self._partial + data if self._partial else data
        *complete, self._partial = buf.split(b"\n")
        target = self._current.lines if self._current is not None else self._pending
        now = clock.now_ms()
        for raw in complete:
            target.append((now, _decode(raw)))
        while len(self._partial) > MAX_LINE:
            target.append((now, _decode(self._partial[:MAX_LINE])))
            self._partial = self._partial[MAX_LINE:]
        if target is self._pending and len(self._pending) > MAX_PENDING_LINES:
            del self._pending[: len(self._pending) - MAX_PENDING_LINES]

    def _flush_partial(self) -> None:
        if self._partial:
            target = self._current.lines if self._current is not None else self._pending
            target.append((clock.now_ms(), _decode(self._partial)))
            self._partial = b""

    def _on_exit(self, returncode: int) -> None:
        error_type = "Runtime.OutOfMemory" if self._oom else "Runtime.ExitError"
        if not self._ready.done():
            if self._init_ms is None:
                self._init_ms = (time.perf_counter() - self._spawned_at) * 1000
            self._resolve_ready(
                _Failure(
                    lambda rid: documents.exit_document(rid, returncode, error_type),
                    error_type,
                    lambda rid: documents.exit_line(rid, returncode, error_type),
                )
            )
        call = self._current
        if call is not None and call.result is not None:
            self._finish(call, *call.result)
        elif call is not None:
            self._finish(
                call,
                documents.exit_document(call.inv.request_id, returncode, error_type),
                True,
                last_line=documents.exit_line(call.inv.request_id, returncode, error_type),
                status="error",
                error_type=error_type,
            )
        self._die()

    def _die(self) -> None:
        if self._exited.done():
            return
        self.state = "dead"
        if self._parked is not None and not self._parked.done():
            self._parked.set_result(internal_error())
        self._server.close()
        shutil.rmtree(self._scratch, ignore_errors=True)
        self._exited.set_result(None)
        self._on_dead(self)

    # --- helpers ---------------------------------------------------------------------------------------------

    def _resolve_ready(self, failure: _Failure | None) -> None:
        if not self._ready.done():
            self._ready.set_result(failure)

    def _init_elapsed_ms(self) -> float | None:
        if not self._cold:
            return None
        self._cold = False
        if self._init_ms is not None:
            return self._init_ms
        return (time.perf_counter() - self._spawned_at) * 1000 if self._spawned_at else 0.0

    def _take_pending(self) -> list[tuple[int, str]]:
        if self._proc is not None:
            self._proc.drain()
        self._flush_partial()
        lines, self._pending = self._pending, []
        return lines


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _strerror(e: OSError) -> str:
    return (e.strerror or str(e)).lower()


def _error_type(payload: bytes) -> str | None:
    import orjson

    with contextlib.suppress(orjson.JSONDecodeError):
        doc = orjson.loads(payload)
        if isinstance(doc, dict) and isinstance(doc.get("errorType"), str):
            return str(doc["errorType"])
    return None


def _client_context(value: str) -> bytes:
    """X-Amz-Client-Context arrives base64-encoded; the runtime gets the JSON itself."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value.encode()


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{ids.token(12)};Parent={ids.token(8)};Sampled=0"
