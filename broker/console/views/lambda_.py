"""Lambda page: one page of functions with their event source mappings (two listings per refresh, whatever the
number of functions); the versions, aliases and latest log lines of a function (the START, END and REPORT lines of
each invocation and what it printed) are read only while its details are open (`detail`)."""

from __future__ import annotations

from typing import Any

from broker.console.operations import Operations
from broker.console.paging import Pager
from broker.context import RequestContext
from broker.errors import ServiceError

LOG_STREAMS = 3  # the latest log streams shown per function (one per execution environment)
LOG_LINES = 30


async def gather(ctx: RequestContext, ops: Operations, page: int = 1) -> dict[str, Any]:
    functions = await ops.pages(ctx, "lambda", "ListFunctions", {}, "Functions", "Marker", "NextMarker")
    mappings = await ops.pages(
        ctx, "lambda", "ListEventSourceMappings", {}, "EventSourceMappings", "Marker", "NextMarker"
    )
    pager = Pager(page, len(functions))
    shown: list[dict[str, Any]] = []
    for fn in pager.of(functions):
        arn = fn["FunctionArn"]
        own = [m for m in mappings if m.get("FunctionArn", "").split(":")[:7] == arn.split(":")[:7]]
        shown.append({"name": fn["FunctionName"], "config": fn, "mappings": own})
    return {"functions": shown, "pager": pager}


async def detail(ctx: RequestContext, ops: Operations, name: str) -> dict[str, Any] | None:
    """A function's versions, aliases and recent logs; None when there is no such function (any more)."""
    try:
        versions = await ops.pages(
            ctx, "lambda", "ListVersionsByFunction", {"FunctionName": name}, "Versions", "Marker", "NextMarker"
        )
        aliases = await ops.pages(
            ctx, "lambda", "ListAliases", {"FunctionName": name}, "Aliases", "Marker", "NextMarker"
        )
    except ServiceError:
        return None
    return {
        "name": name,
        "versions": [v for v in versions if v.get("Version") != "$LATEST"],
        "aliases": aliases,
        "logs": await _logs(ctx, ops, f"/aws/lambda/{name}"),
    }


async def _logs(ctx: RequestContext, ops: Operations, group: str) -> list[dict[str, Any]]:
    try:
        streams = await ops.call(
            ctx,
            "logs",
            "DescribeLogStreams",
            {"logGroupName": group, "orderBy": "LastEventTime", "descending": True, "limit": LOG_STREAMS},
        )
    except ServiceError:
        return []  # no invocation logged yet
    out = []
    for stream in streams.get("logStreams") or []:
        try:
            events = await ops.call(
                ctx,
                "logs",
                "GetLogEvents",
                {
                    "logGroupName": group,
                    "logStreamName": stream["logStreamName"],
                    "startFromHead": False,
                    "limit": LOG_LINES,
                },
            )
        except ServiceError:
            continue
        out.append({"name": stream["logStreamName"], "events": events.get("events") or []})
    return out
