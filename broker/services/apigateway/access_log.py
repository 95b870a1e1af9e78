"""Access logs of a stage: after each request the stage's accessLogSettings `format`, its $context variables
substituted (a variable without a value is "-", as API Gateway writes it), becomes one event of the CloudWatch
Logs group its `destinationArn` names, in a log stream of this worker (32 hex digits, as API Gateway names its
streams). Lines are queued in the worker and appended in batches by one task — through `logs.store.append_events`,
the path Lambda's logs take — so writing them never holds up an answer. A group that does not exist gets nothing
(API Gateway cannot deliver to it); a Kinesis Data Firehose destination is accepted but not delivered (the broker
serves no Firehose). Also: the UpdateStage patch operations of /accessLogSettings."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from broker import clock
from broker.services.apigateway import errors, lambda_proxy
from broker.services.apigateway.call import Call, Doc
from broker.services.base import Env
from broker.services.logs.store import append_events, get_group
from broker.storage.db import Database, Tx

log = logging.getLogger("broker.apigateway.access_log")

VARIABLE = re.compile(r"\$context\.([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_\-]+)*)")
LOG_GROUP_ARN = re.compile(r"^arn:aws[a-z\-]*:logs:([a-z0-9\-]+):(\d{12}):log-group:([^:]+)(?::\*)?$")
FIREHOSE_ARN = re.compile(r"^arn:aws[a-z\-]*:firehose:[a-z0-9\-]+:\d{12}:deliverystream/(.+)$")
MAX_QUEUED = 50_000  # lines a worker holds while the database is slow; later ones are dropped


# -- the stage's settings (UpdateStage)


def is_setting(path: str) -> bool:
    return path == "/accessLogSettings" or path.startswith("/accessLogSettings/")


def apply_setting(stage: Doc, operation: Doc) -> None:
    """One patch operation on /accessLogSettings (remove), /accessLogSettings/destinationArn or /format."""
    op, path, value = operation.get("op"), str(operation.get("path") or ""), operation.get("value")
    if path == "/accessLogSettings":
        if op != "remove":
            raise errors.bad_request(f"Invalid patch operation specified. Must be 'remove' for path {path}")
        stage.pop("accessLogSettings", None)
        return
    member = path[len("/accessLogSettings/") :]
    if member not in ("destinationArn", "format"):
        raise errors.bad_request(
            f"Invalid patch path '{path}' specified for op '{op}'. Must be one of: "
            "[/accessLogSettings, /accessLogSettings/destinationArn, /accessLogSettings/format]"
        )
    settings: Doc = dict(stage.get("accessLogSettings") or {})
    if op == "remove":
        settings.pop(member, None)
    elif op in ("replace", "add"):
        text = "" if value is None else str(value)
        if member == "destinationArn":
            firehose = FIREHOSE_ARN.match(text)
            if LOG_GROUP_ARN.match(text) is None and firehose is None:
                raise errors.bad_request(f"Invalid ARN specified in the request: {text}")
            if firehose is not None and not firehose.group(1).startswith("amazon-apigateway-"):
                raise errors.bad_request(
                    "Kinesis Data Firehose delivery stream name must begin with amazon-apigateway-"
                )
        elif "$context.requestId" not in text and "$context.extendedRequestId" not in text:
            raise errors.bad_request(
                "Access log format must include at least one of $context.requestId or $context.extendedRequestId"
            )
        settings[member] = text
    else:
        raise errors.bad_request(f"Invalid patch operation specified. Must be 'replace' for path {path}")
    if settings:
        stage["accessLogSettings"] = settings
    else:
        stage.pop("accessLogSettings", None)


# -- the line


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}{k}.", v, out)
    else:
        out[prefix[:-1]] = value


def variables(call: Call, status: int, length: int, now_ms: int) -> dict[str, Any]:
    """The $context variables of a finished request, by dotted name."""
    # The event without the body: only its requestContext is wanted, and a large body costs to encode.
    context = lambda_proxy.proxy_event(dataclasses.replace(call, body=b""))["requestContext"]
    started = call.started_ms or now_ms
    context["requestTime"] = datetime.fromtimestamp(started / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    context["requestTimeEpoch"] = started
    context["status"] = status
    context["responseLength"] = length
    context["responseLatency"] = max(0, now_ms - started)
    context["deploymentId"] = call.stage.get("deploymentId")
    for name in ("integrationLatency", "integrationStatus"):
        if call.extras.get(name) is not None:
            context[name] = call.extras[name]
    error = call.extras.get("error")
    if error is not None:
        context["error"] = {
            "message": error.message,
            "messageString": json.dumps(error.message),
            "responseType": error.response_type,
        }
    out: dict[str, Any] = {}
    _flatten("", context, out)
    return out


def _text(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(template: str, values: dict[str, Any]) -> str:
    """`template` with each $context.name replaced by its value ("-" without one)."""

    def one(m: re.Match[str]) -> str:
        name, rest = m.group(1), ""
        while name not in values and "." in name:  # `$context.status.x` and the like: the longest known name
            name, tail = name.rsplit(".", 1)
            rest = f".{tail}{rest}"
        return _text(values[name]) + rest if name in values else "-"

    return VARIABLE.sub(one, template)


# -- writing


@dataclass(frozen=True)
class Target:
    account: str
    region: str
    group: str
    stream: str


def stream_name(api_id: str, stage: str) -> str:
    """This worker's log stream for a stage (each API Gateway host writes its own)."""
    return hashlib.md5(f"{api_id}/{stage}/{os.getpid()}".encode(), usedforsecurity=False).hexdigest()


def _append(tx: Tx, batch: list[tuple[Target, int, str]]) -> None:
    by_target: dict[Target, list[tuple[int, str]]] = {}
    for target, at, line in batch:
        by_target.setdefault(target, []).append((at, line))
    now = clock.now_ms()
    for target, events in by_target.items():
        if get_group(tx.conn, target.account, target.region, target.group) is None:
            continue  # no such group: API Gateway cannot deliver there either
        append_events(tx.conn, target.account, target.region, target.group, target.stream, events, now)


class Writer:
    """A worker's queue of access log lines and the task that appends them, a batch per database write."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: list[tuple[Target, int, str]] = []
        self.task: asyncio.Task[None] | None = None

    def add(self, target: Target, at: int, line: str) -> None:
        if len(self.pending) >= MAX_QUEUED:
            return
        self.pending.append((target, at, line))
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                await self.db.write(_append, batch)
            except Exception:  # a lost batch of log lines must not end the task or reach a request
                log.warning("access log lines dropped", exc_info=True)

    async def flush(self) -> None:
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task


_writers: dict[int, Writer] = {}


def _writer(env: Env) -> Writer:
    found = _writers.get(id(env.db))
    if found is None or found.db is not env.db:
        found = _writers[id(env.db)] = Writer(env.db)
    return found


async def flush(env: Env) -> None:
    """Wait for the lines queued in this worker to be written (at shutdown)."""
    found = _writers.get(id(env.db))
    if found is not None:
        await found.flush()


async def record(call: Call, status: int, length: int) -> None:
    """Queue the request's line in the stage's accessLogSettings format for its log group (written by the
    worker's writer task: nothing here waits for the database)."""
    settings = call.stage.get("accessLogSettings") or {}
    template, arn = settings.get("format"), settings.get("destinationArn")
    if template and arn:
        values = variables(call, status, length, clock.now_ms())
        enqueue(call.env, str(arn), str(template), values, call.api_id, str(call.stage["stageName"]))


def enqueue(env: Env, destination_arn: str, template: str, values: dict[str, Any], api_id: str, stage: str) -> None:
    """Queue one line (`template` rendered with the $context `values`) for a stage's log group; a destination that
    is not a CloudWatch Logs group (a Firehose stream: not served by the broker) gets nothing. REST and HTTP APIs
    both log through here."""
    m = LOG_GROUP_ARN.match(destination_arn)
    if m is None:
        return
    target = Target(m.group(2), m.group(1), m.group(3), stream_name(api_id, stage))
    _writer(env).add(target, clock.now_ms(), render(template, values))
