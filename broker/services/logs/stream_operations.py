"""CloudWatch Logs operations on log streams: CreateLogStream, DeleteLogStream, DescribeLogStreams."""

from __future__ import annotations

from typing import Any

from broker import clock, paging
from broker.context import RequestContext
from broker.services.logs import store
from broker.services.logs.errors import (
    deletion_protected,
    group_not_found,
    invalid_next_token,
    order_with_prefix,
    stream_exists,
    stream_not_found,
)
from broker.services.logs.groups import Group, Stream, group_name, sequence_token, stream_arn
from broker.services.logs.tokens import SQL_MAX

DESCRIBE_LIMIT = 50


async def create_log_stream(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    outcome = await ctx.env.db.write(
        store.create_stream, ctx.account, ctx.region, p["logGroupName"], p["logStreamName"], clock.now_ms()
    )
    if outcome == "no_group":
        raise group_not_found()
    if outcome == "exists":
        raise stream_exists()
    return {}


async def delete_log_stream(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    group = p["logGroupName"]
    outcome = await ctx.env.db.write(store.delete_stream, ctx.account, ctx.region, group, p["logStreamName"])
    if outcome == "no_group":
        raise group_not_found()
    if outcome == "no_stream":
        raise stream_not_found()
    if outcome == "protected":
        raise deletion_protected(group)
    return {}


def describe_stream(group: Group, s: Stream) -> dict[str, Any]:
    """A LogStream as AWS describes it: the event figures once it has events; storedBytes always 0 (AWS stopped
    reporting it for streams in 2019)."""
    doc: dict[str, Any] = {"logStreamName": s.name, "creationTime": s.created_at}
    if s.first_event is not None:
        doc["firstEventTimestamp"] = s.first_event
        doc["lastEventTimestamp"] = s.last_event
        doc["lastIngestionTime"] = s.last_ingestion
        doc["uploadSequenceToken"] = sequence_token(s.appends)
    doc["arn"] = stream_arn(group, s.name)
    doc["storedBytes"] = 0
    return doc


async def resolve_group(ctx: RequestContext, p: dict[str, Any]) -> Group:
    """The group a read names by logGroupName or logGroupIdentifier (ResourceNotFoundException when missing)."""
    name = group_name(ctx, p)
    group = await ctx.env.db.read(store.get_group, ctx.account, ctx.region, name) if name is not None else None
    if group is None:
        raise group_not_found()
    return group


def _after(token: str | None) -> tuple[int, str] | None:
    if token is None:
        return None
    state = paging.decode(token)
    time, name = (state or {}).get("t"), (state or {}).get("n")
    if not isinstance(time, int) or not isinstance(name, str) or not 0 <= time <= SQL_MAX:
        raise invalid_next_token()
    return time, name


async def describe_log_streams(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    by_time = p.get("orderBy") == "LastEventTime"
    prefix = p.get("logStreamNamePrefix")
    if by_time and prefix is not None:
        raise order_with_prefix()
    group = await resolve_group(ctx, p)
    after = _after(p.get("nextToken"))
    limit = p.get("limit") or DESCRIBE_LIMIT
    descending = bool(p.get("descending"))
    rows = await ctx.env.db.read(store.list_streams, group.id, prefix, by_time, descending, after, limit + 1)
    page = rows[:limit]
    out: dict[str, Any] = {"logStreams": [describe_stream(group, s) for s in page]}
    if len(rows) > limit:
        last = page[-1]
        out["nextToken"] = paging.encode({"t": last.last_event or 0, "n": last.name})
    return out


HANDLERS = {
    "CreateLogStream": create_log_stream,
    "DeleteLogStream": delete_log_stream,
    "DescribeLogStreams": describe_log_streams,
}
