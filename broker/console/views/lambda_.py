"""Lambda page: functions with versions, aliases, event source mappings and their latest log lines (the START,
END and REPORT lines of each invocation and what the function printed)."""

from __future__ import annotations

from typing import Any

from broker.console.operations import Operations
from broker.context import RequestContext
from broker.errors import ServiceError

LOG_STREAMS = 3  # the latest log streams shown per function (one per execution environment)
LOG_LINES = 30


async def gather(ctx: RequestContext, ops: Operations) -> dict[str, Any]:
    functions = await ops.pages(ctx, "lambda", "ListFunctions", {}, "Functions", "Marker", "NextMarker")
    mappings = await ops.pages(
        ctx, "lambda", "ListEventSourceMappings", {}, "EventSourceMappings", "Marker", "NextMarker"
    )
    shown: list[dict[str, Any]] = []
    for fn in functions:
        name = fn["FunctionName"]
        try:
            versions = await ops.pages(
                ctx, "lambda", "ListVersionsByFunction", {"FunctionName": name}, "Versions", "Marker", "NextMarker"
            )
            aliases = await ops.pages(
                ctx, "lambda", "ListAliases", {"FunctionName": name}, "Aliases", "Marker", "NextMarker"
            )
        except ServiceError:
            continue  # deleted since it was listed
        arn = fn["FunctionArn"]
        own = [m for m in mappings if m.get("FunctionArn", "").split(":")[:7] == arn.split(":")[:7]]
        shown.append(
            {
                "name": name,
                "config": fn,
                "versions": [v for v in versions if v.get("Version") != "$LATEST"],
                "aliases": aliases,
                "mappings": own,
                "logs": await _logs(ctx, ops, f"/aws/lambda/{name}"),
            }
        )
    return {"functions": shown}


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
