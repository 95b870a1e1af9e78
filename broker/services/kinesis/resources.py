"""What queues and channels share: both are rows named by an ARN (region, account, id) and attached to one on-demand
data stream of their account and Region; both are found by that ARN, listed by name with a StreamFilter, described
with their stream, and tagged the same way."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from broker import clock
from broker.auth.resource_policy import crosses
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.kinesis import iterators, store
from broker.services.kinesis.errors import (
    already_exists,
    invalid,
    invalid_next_token,
    not_found,
    stream_being_deleted,
    validation,
)
from broker.services.kinesis.lookup import check_active, resolve_arn
from broker.services.kinesis.streams import Row, Stream, stream_arn_of
from broker.services.kinesis.tag_rules import TagChange

MAX_LIST = 100  # ListQueues and ListChannels: at most this many per page, and by default


@dataclass(frozen=True)
class Kind:
    """A kind of resource attached to a stream."""

    name: str  # "queue" / "channel": as in its ARN, and as the store knows it
    label: str  # "Queue" / "Channel": as messages start
    arn: re.Pattern[str]  # groups: region, account, id
    token_key: str  # what a NextToken of its listing holds the last name under


QUEUE = Kind(
    "queue",
    "Queue",
    re.compile(r"^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):queue/([a-z0-9]{1,64})$"),
    "queues_after",
)
CHANNEL = Kind(
    "channel",
    "Channel",
    re.compile(r"^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):channel/([a-z0-9]{1,64})$"),
    "channels_after",
)


def display_name(row: Row) -> str:
    name: str = row["name"]
    return name.split("~")[-1]  # a deleted one's name is "~<row id>~<name>"


async def find(ctx: RequestContext, kind: Kind, arn: str, deleting: bool = False) -> Row:
    """The row of the queue or channel an ARN names; one being deleted only with `deleting` (Describe shows it for
    the status delay)."""
    m = kind.arn.match(arn)
    # No policy shares these: another account's (with auth = "sigv4") are not found, as if missing.
    row = (
        await ctx.env.db.read(store.get_attached, kind.name, m.group(2), m.group(1), m.group(3))
        if m and not crosses(ctx, m.group(2))
        else None
    )
    if row is None or (row["status"] == "DELETING" and not (deleting and clock.now_ms() < row["status_until"])):
        raise not_found(kind.label, arn)
    return row


async def stream_of(ctx: RequestContext, kind: Kind, row: Row, arn: str) -> Row:
    """The stream row of a queue or channel (named `arn` in the error when its stream's rows went first, after a
    forced stream deletion)."""
    stream = await ctx.env.db.read(store.stream_by_id, row["stream_id"])
    if stream is None:
        raise not_found(kind.label, arn)
    return stream


async def stream_to_attach(ctx: RequestContext, kind: Kind, arn: str) -> tuple[Stream, int]:
    """The data stream a new queue or channel reads, and now: of the request's account and Region, ACTIVE, on
    demand."""
    s = await resolve_arn(ctx, arn)
    if (s.account, s.region) != (ctx.account, ctx.region):
        raise invalid(f"A {kind.name} must be created in the account and Region of its data stream.")
    now = clock.now_ms()
    check_active(s, now)
    if s.mode != "ON_DEMAND":
        raise validation(
            f"{kind.label}s are supported only on data streams in on-demand capacity mode; {s.name} is not."
        )
    return s, now


def check_created(kind: Kind, outcome: str, name: str, account: str, s: Stream) -> None:
    """The refusals of the create write unit that CreateQueue and CreateChannel share: "exists" (the name is taken)
    and "gone" (the stream is being deleted)."""
    if outcome == "exists":
        raise already_exists(kind.label, name, account)
    if outcome == "gone":
        raise stream_being_deleted(s.name, s.account)


async def filtered_streams(ctx: RequestContext, filters: list[dict[str, Any]] | None) -> dict[int, Row] | None:
    """The streams a StreamFilter of ListQueues/ListChannels names, by row id (None: no filter). A stream that does
    not exist, or was created at another time than the filter says, matches nothing."""
    if filters is None:
        return None
    streams = {}
    for f in filters:
        try:
            s = await resolve_arn(ctx, f["StreamARN"])
        except ServiceError:
            continue
        created = f.get("StreamCreationTimestamp")
        if created is None or clock.to_ms(created) // 1000 == s.created_at // 1000:
            streams[s.id] = {"account": s.account, "region": s.region, "name": s.name, "created_at": s.created_at}
    return streams


async def list_page(
    ctx: RequestContext, kind: Kind, p: dict[str, Any], summary: Callable[[Row, int], dict[str, Any]]
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ListQueues or ListChannels: by name, `StreamFilter` honoured, at most 100 per page; the summaries
    (`summary` of each row, plus its stream) and the NextToken, if more follow."""
    now = clock.now_ms()
    after = ""
    if p.get("NextToken"):
        state = iterators.decode_token(p["NextToken"], now)
        if not isinstance(state.get(kind.token_key), str):
            raise invalid_next_token()
        after = state[kind.token_key]
    streams = await filtered_streams(ctx, p.get("StreamFilter"))
    limit = min(p.get("MaxResults") or MAX_LIST, MAX_LIST)
    on = list(streams) if streams is not None else None
    rows = await ctx.env.db.read(store.list_attached, kind.name, ctx.account, ctx.region, after, limit + 1, on)
    summaries = []
    for row in rows[:limit]:
        stream = (streams or {}).get(row["stream_id"])
        if stream is None:
            stream = await ctx.env.db.read(store.stream_by_id, row["stream_id"])
        if stream is None:
            continue
        streams_doc = [
            {"StreamARN": stream_arn_of(stream), "StreamCreationTimestamp": clock.to_datetime(stream["created_at"])}
        ]
        summaries.append({**summary(row, now), "Streams": streams_doc})
    token = iterators.encode_token({kind.token_key: rows[limit - 1]["name"]}, now) if len(rows) > limit else None
    return summaries, token


# -- tags (TagResource, UntagResource, ListTagsForResource with a queue or channel ARN) --------------------------
async def change_tags(ctx: RequestContext, kind: Kind, arn: str, change: TagChange) -> None:
    row = await find(ctx, kind, arn)
    if not await ctx.env.db.write(store.modify_tags, kind.name, row["id"], change):
        raise not_found(kind.label, arn)


async def tags(ctx: RequestContext, kind: Kind, arn: str) -> dict[str, str]:
    found: dict[str, str] = json.loads((await find(ctx, kind, arn))["tags"])
    return found
