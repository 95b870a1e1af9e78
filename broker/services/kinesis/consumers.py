"""Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer, ListStreamConsumers,
DeregisterStreamConsumer. A consumer's ARN is the stream's ARN + /consumer/<name>:<creation time in seconds>."""

from __future__ import annotations

import re
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.kinesis import iterators, store
from broker.services.kinesis.errors import consumer_exists, consumer_limit, consumer_not_found, invalid
from broker.services.kinesis.lookup import load, resolve_arn
from broker.services.kinesis.streams import Row, Stream, parse_arn, row_status
from broker.services.kinesis.tag_rules import check_tags

MAX_CONSUMERS = 20  # per stream, as on AWS
CONSUMER_ARN = re.compile(
    r"^(arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[a-zA-Z0-9_.-]+)/consumer/([a-zA-Z0-9_.-]+):(\d+)$"
)


def consumer_arn(s: Stream, row: Row) -> str:
    return f"{s.arn}/consumer/{row['name']}:{row['created_at'] // 1000}"


def _doc(s: Stream, row: Row, now: int, with_stream: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "ConsumerName": row["name"],
        "ConsumerARN": consumer_arn(s, row),
        "ConsumerStatus": row_status(row, now),
        "ConsumerCreationTimestamp": clock.to_datetime(row["created_at"]),
    }
    if with_stream:
        doc["StreamARN"] = s.arn
    return doc


async def find(ctx: RequestContext, p: dict[str, Any]) -> tuple[Stream, Row]:
    """The consumer named by ConsumerARN, or by StreamARN + ConsumerName."""
    if p.get("ConsumerARN"):
        m = CONSUMER_ARN.match(p["ConsumerARN"])
        if m is None:
            raise invalid(f"Invalid ConsumerARN {p['ConsumerARN']}.")
        region, account, name = parse_arn(m.group(1))
        try:
            s = await load(ctx, account, region, name, fresh=True)
        except ServiceError:
            raise consumer_not_found(p["ConsumerARN"]) from None
        row = await ctx.env.db.read(store.consumer, s.id, m.group(2))
        if row is None or row["created_at"] // 1000 != int(m.group(3)):
            raise consumer_not_found(p["ConsumerARN"])
        return s, row
    if not p.get("StreamARN") or not p.get("ConsumerName"):
        raise invalid("Either ConsumerARN, or StreamARN and ConsumerName, must be provided.")
    s = await resolve_arn(ctx, p["StreamARN"])
    row = await ctx.env.db.read(store.consumer, s.id, p["ConsumerName"])
    if row is None:
        raise consumer_not_found(f"{p['ConsumerName']} under stream {s.arn}")
    return s, row


async def register_stream_consumer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await resolve_arn(ctx, p["StreamARN"], "kinesis:RegisterStreamConsumer")
    tags = p.get("Tags") or {}
    check_tags(tags)
    now = clock.now_ms()
    values = {
        "stream_id": s.id,
        "name": p["ConsumerName"],
        "created_at": now,
        "status": "CREATING",
        "status_until": now + ctx.env.settings.kinesis_status_delay_ms,
        "tags": store.dumps(tags),
    }
    outcome = await ctx.env.db.write(store.add_consumer, values, MAX_CONSUMERS)
    if outcome is None:
        raise consumer_exists(p["ConsumerName"], s.name)
    if outcome == "limit":
        raise consumer_limit(s.name, MAX_CONSUMERS)
    # AWS answers CREATING whatever the delay; describe shows ACTIVE once it has passed.
    return {"Consumer": {**_doc(s, values, now), "ConsumerStatus": "CREATING"}}


async def describe_stream_consumer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s, row = await find(ctx, p)
    return {"ConsumerDescription": _doc(s, row, clock.now_ms(), with_stream=True)}


async def list_stream_consumers(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    now = clock.now_ms()
    if p.get("NextToken"):
        state = iterators.decode_token(p["NextToken"], now)
        if state.get("stream") != p["StreamARN"] or not isinstance(state.get("after"), str):
            raise invalid("NextToken does not belong to this stream.")
        after = state["after"]
    else:
        after = ""
    s = await resolve_arn(ctx, p["StreamARN"], "kinesis:ListStreamConsumers")
    limit = p.get("MaxResults") or 100
    rows = await ctx.env.db.read(store.consumers, s.id, after, limit + 1)
    out: dict[str, Any] = {"Consumers": [_doc(s, r, now) for r in rows[:limit]]}
    if len(rows) > limit:
        out["NextToken"] = iterators.encode_token({"stream": p["StreamARN"], "after": rows[limit - 1]["name"]}, now)
    return out


async def deregister_stream_consumer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s, row = await find(ctx, p)
    await ctx.env.db.write(store.remove_consumer, s.id, row["name"])
    return {}


HANDLERS = {
    "RegisterStreamConsumer": register_stream_consumer,
    "DescribeStreamConsumer": describe_stream_consumer,
    "ListStreamConsumers": list_stream_consumers,
    "DeregisterStreamConsumer": deregister_stream_consumer,
}
