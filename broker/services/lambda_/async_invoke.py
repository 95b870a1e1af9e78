"""Asynchronous invocations run: every worker dispatches the due rows of lambda_async_invocations as soon as one
is accepted (the "lambda:async" wakeup reaches every process), and a leased job runs whatever is due that nobody
took (retries whose time came, claims of a process that died). Each attempt is claimed on its row until a
wall-clock time, so two workers never run the same attempt and an attempt cut short by a crash is retried once
the claim ends (at least once, as in Lambda). The attempt's outcome, the next attempt or the destination /
dead-letter delivery, and the row's update are written in one transaction.

Retries follow Lambda: function errors are retried MaximumRetryAttempts times (default 2), 1 minute then
2 minutes later; throttles and system errors with a backoff from 1 second doubling to 5 minutes; nothing runs
once the event is older than MaximumEventAgeInSeconds (default 6 hours). Times are test-clock times."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.jobs.wake_loop import WakeLoop, until_due
from broker.services.base import Env
from broker.services.lambda_ import arns, async_store, store
from broker.services.lambda_.destinations import dead_letter_attributes, error_message, executor, sender_for
from broker.services.lambda_.event_invoke_operations import EVENT_INVOKE
from broker.services.lambda_.execution.model import Outcome
from broker.services.lambda_.invoke_operations import SLOT_GRACE_MS, resolve, run
from broker.services.lambda_.store import LATEST
from broker.storage.db import Tx

log = logging.getLogger("broker.lambda.async")

CLAIM_MS = 60_000  # first claim; extended to the function's timeout once its version is known
MAX_IN_FLIGHT = 16  # attempts running at once in one process
# While events pour in, running them gives way to accepting them: accepted events are durable and run once the
# burst ends, whereas running them at full speed meanwhile (runtime processes, three writes each) would slow
# every Invoke answer down.
BUSY_ACCEPTS_PER_S = 100  # this process accepting more than this ...
BUSY_IN_FLIGHT = 2  # ... runs at most this many attempts at once
DUE_RECHECK_S = 5.0  # at most this long between looks while retries wait (the test clock may have moved)
IDLE_WAIT_S = 60.0  # nothing waiting: new rows wake the dispatcher
FUNCTION_ERROR_DELAYS_MS = (60_000, 120_000)
BACKOFF_FIRST_MS = 1_000
BACKOFF_MAX_MS = 300_000
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21_600

Row = dict[str, Any]


@dataclass
class Attempt:
    """How one attempt ended: "ok", "error" (function error), "throttle", "system" or "expired" (not run)."""

    kind: str
    status: int = 200
    payload: bytes = b""
    function_error: str | None = None
    executed_version: str | None = None

    def response(self) -> str | None:
        if self.kind not in ("ok", "error"):
            return None
        return json.dumps(
            {
                "statusCode": self.status,
                "executedVersion": self.executed_version,
                "functionError": self.function_error,
                "payload": self.payload.decode(errors="replace"),
            }
        )


def _settings(config: dict[str, Any] | None) -> tuple[int, int]:
    config = config or {}
    retries = config.get("MaximumRetryAttempts")
    age = config.get("MaximumEventAgeInSeconds")
    return (DEFAULT_RETRIES if retries is None else int(retries)), (DEFAULT_MAX_AGE_S if age is None else int(age))


def _json_or_text(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace") if isinstance(data, bytes) else data


def invocation_record(row: Row, function_arn: str, condition: str, count: int, response: dict[str, Any] | None) -> str:
    """Lambda's invocation record (version 1.0) as sent to a destination."""
    now = datetime.fromtimestamp(clock.now_ms() / 1000, UTC)
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": row["request_id"],
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": count,
        },
        "requestPayload": _json_or_text(row["payload"]),
    }
    if response is not None:
        context: dict[str, Any] = {"statusCode": response["statusCode"], "executedVersion": response["executedVersion"]}
        if response.get("functionError"):
            context["functionError"] = response["functionError"]
        record["responseContext"] = context
        record["responsePayload"] = _json_or_text(response["payload"])
    return json.dumps(record)


class AsyncInvoker(WakeLoop):
    """This worker's dispatcher of asynchronous invocations."""

    def __init__(self, env: Env) -> None:
        # A cancelled attempt keeps its claim: it is retried when the claim ends.
        super().__init__(env.notifier, (async_store.WAKE_KEY,), log, "Lambda async dispatch failed", DUE_RECHECK_S)
        self.env = env
        settings = env.settings
        self.host = settings.public_host or f"127.0.0.1:{settings.port}"
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        super().start()

    # -- the safety-net job (scheduler thread) ------------------------------------------------------------------
    def has_work(self) -> bool:
        return bool(self.env.db.read_sync(async_store.pending, clock.wall_ms()))

    def run_due(self) -> int:
        """Run every due attempt nobody holds, on this worker's loop, and wait for them; how many ran."""
        if self._loop is None:
            return 0
        return asyncio.run_coroutine_threadsafe(self.dispatch(wait=True), self._loop).result()

    # -- dispatching (event loop) ---------------------------------------------------------------------------------
    async def run_pass(self) -> float | None:
        if await self.dispatch(wait=False):
            return None
        due = await self.env.db.read(async_store.next_due)
        return IDLE_WAIT_S if due is None else until_due(due, DUE_RECHECK_S)

    async def dispatch(self, wait: bool) -> int:
        limit = BUSY_IN_FLIGHT if async_store.INTAKE.per_second() > BUSY_ACCEPTS_PER_S else MAX_IN_FLIGHT
        room = limit - len(self._in_flight)
        if room <= 0:
            return 0
        rows = await self.env.db.write(async_store.claim, clock.now_ms(), clock.wall_ms(), CLAIM_MS, room)
        tasks = [self.spawn(self._attempt(row)) for row in rows]
        if wait and tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return len(rows)

    async def _attempt(self, row: Row) -> None:
        db = self.env.db
        ctx = RequestContext(
            env=self.env, account=row["account"], region=row["region"], host=self.host, trace_header=row["trace_id"]
        )
        try:
            ref, version = await resolve(ctx, {"FunctionName": row["function_arn"]})
        except ServiceError:  # the function (or its alias/version) is gone: Lambda discards the event
            log.warning("Lambda async invocation %s: %s is gone", row["request_id"], row["function_arn"])
            await db.write(_drop, row)
            return
        qualifier = ref.qualifier or LATEST
        config = await db.read(store.get_config, version.function.id, EVENT_INVOKE, qualifier)
        _, max_age = _settings(config)
        if clock.now_ms() - row["received_at"] > max_age * 1000:
            await db.write(self._finish, row, ref, version, Attempt("expired"))
            return
        until = clock.wall_ms() + int(float(version.config.get("Timeout", 3)) * 1000) + SLOT_GRACE_MS
        if until > row["claimed_until"] and not await db.write(async_store.extend, row, until):
            return  # claimed again meanwhile (our claim had ended)

        def finish(tx: Tx, outcome: Outcome) -> None:  # in the transaction that frees the slot
            kind = "error" if outcome.function_error else "ok"
            self._finish(
                tx, row, ref, version, Attempt(kind, 200, outcome.payload, outcome.function_error, version.version)
            )

        try:
            await run(ctx, ref, version, row["payload"], row["client_context"], then=finish)
            return
        except ServiceError as e:
            attempt = Attempt("throttle" if e.code == "TooManyRequestsException" else "system", e.status)
        except Exception:
            log.exception("Lambda async invocation %s failed", row["request_id"])
            attempt = Attempt("system", 500)
        await asyncio.shield(db.write(self._finish, row, ref, version, attempt))

    def _finish(self, tx: Tx, row: Row, ref: arns.FunctionRef, version: store.Version, attempt: Attempt) -> None:
        """Writer thread: the attempt's outcome and what follows from it, with the row's update."""
        if not async_store.still_claimed(tx, row):
            return  # its claim ended and another worker took it
        now = clock.now_ms()
        fn = version.function
        config = store.get_config(tx.conn, fn.id, EVENT_INVOKE, ref.qualifier or LATEST) or {}
        retries, _ = _settings(config)
        response = attempt.response()
        if attempt.kind == "ok":
            self._deliver(tx, row, ref, version, config, "Success", row["attempts"], response, attempt)
            async_store.remove(tx, row["id"])
            return
        if attempt.kind == "expired":
            self._deliver(tx, row, ref, version, config, "EventAgeExceeded", row["attempts"] - 1, row["last_outcome"])
            async_store.remove(tx, row["id"])
            return
        if attempt.kind == "error":
            failed = row["function_errors"] + 1
            if failed <= retries:
                delay = FUNCTION_ERROR_DELAYS_MS[min(failed, len(FUNCTION_ERROR_DELAYS_MS)) - 1]
                async_store.reschedule(tx, row["id"], now + delay, failed, 0, response)
                return
            self._deliver(tx, row, ref, version, config, "RetriesExhausted", row["attempts"], response, attempt)
            async_store.remove(tx, row["id"])
            return
        delay = min(BACKOFF_FIRST_MS * 2 ** min(row["throttles"], 20), BACKOFF_MAX_MS)
        async_store.reschedule(
            tx, row["id"], now + delay, row["function_errors"], row["throttles"] + 1, row["last_outcome"]
        )

    def _deliver(
        self,
        tx: Tx,
        row: Row,
        ref: arns.FunctionRef,
        version: store.Version,
        config: dict[str, Any],
        condition: str,
        count: int,
        response: str | None,
        attempt: Attempt | None = None,
    ) -> None:
        destinations = config.get("DestinationConfig") or {}
        success = condition == "Success"
        target = (destinations.get("OnSuccess" if success else "OnFailure") or {}).get("Destination")
        sender = sender_for(self.env, self.host)
        now = clock.now_ms()
        function_arn = f"{ref.arn}:{ref.qualifier or LATEST}"
        role = executor(ref.account, ref.name, str(version.config.get("Role", "")))
        if target:
            body = invocation_record(row, function_arn, condition, count, json.loads(response) if response else None)
            sender.send(tx, target, body, {}, now, row["trace_id"], role)
            return
        if success:
            return
        dlq = (version.config.get("DeadLetterConfig") or {}).get("TargetArn")
        if not dlq:
            log.info("Lambda async invocation %s dropped (%s)", row["request_id"], condition)
            return
        status = attempt.status if attempt is not None else (200 if response else 429)
        message = error_message(attempt.payload) if attempt is not None else condition
        if attempt is None and response:
            message = error_message(json.loads(response)["payload"].encode())
        attrs = dead_letter_attributes(row["request_id"], status, message)
        sender.send(tx, dlq, row["payload"].decode(errors="replace"), attrs, now, row["trace_id"], role)


def _drop(tx: Tx, row: Row) -> None:
    if async_store.still_claimed(tx, row):
        async_store.remove(tx, row["id"])
