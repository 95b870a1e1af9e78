"""SubscribeToShard: records pushed to an enhanced fan-out consumer as an event stream.

Records are read right after the commit that added them: the put's transaction wakes the shard's stream key in
every process (no polling; a slow periodic event only when the shard is quiet). A subscription lasts 5 minutes
of the broker's clock, then the stream ends and the client subscribes again from its ContinuationSequenceNumber —
which is also how it resumes after a broker restart, since the position lives in the client, as on AWS.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.metrics import instruments as metrics
from broker.notify import Watch
from broker.protocol.base import EventStream, StreamEvent
from broker.services.kinesis import consumers, store
from broker.services.kinesis.errors import (
    consumer_not_active,
    subscription_exists,
    subscription_failed,
    subscription_target_gone,
)
from broker.services.kinesis.iterators import Position
from broker.services.kinesis.lookup import readable
from broker.services.kinesis.record_operations import MAX_EVENT_BYTES, read_batch, shard_row, start_after
from broker.services.kinesis.streams import consumer_wake_key, row_status, sequence_number, shard_id, shard_wake_key

LIFETIME_MS = 300_000  # AWS ends a subscription after 5 minutes
QUIET_EVENT_S = 5.0  # an event (with no records) at least this often, so the client sees the subscription alive
BATCH = 10_000
RESUBSCRIBE_GAP_S = 5.0  # AWS refuses a second subscription of a consumer to a shard within 5 s of the last

_recent: dict[tuple[str, int], float] = {}  # (consumer ARN, shard) -> when a subscription started (this process)


async def subscribe_to_shard(ctx: RequestContext, p: dict[str, Any]) -> EventStream:
    s, consumer = await consumers.find(ctx, {"ConsumerARN": p["ConsumerARN"]})
    now = clock.now_ms()
    if row_status(consumer, now) != "ACTIVE":
        raise consumer_not_active(p["ConsumerARN"])
    readable(s)
    row = await shard_row(ctx, s, p["ShardId"])
    start = p["StartingPosition"]
    after = await start_after(
        ctx, s, row, start["Type"], start.get("SequenceNumber"), start.get("Timestamp"), "SubscribeToShard"
    )
    key = (p["ConsumerARN"], row["idx"])
    started = _recent.get(key)
    if started is not None and time.monotonic() - started < RESUBSCRIBE_GAP_S:
        raise subscription_exists(p["ConsumerARN"], p["ShardId"])
    for old in [k for k, at in _recent.items() if time.monotonic() - at >= RESUBSCRIBE_GAP_S]:
        del _recent[old]
    _recent[key] = time.monotonic()
    position = Position(s.id, s.created_at, row["idx"], after, now)
    events = _events(ctx, position, (s.account, s.region, s.name), consumer["name"], now + LIFETIME_MS)
    return EventStream(events, subscription_failed())


async def _events(
    ctx: RequestContext, pos: Position, stream: tuple[str, str, str], consumer: str, deadline: int
) -> AsyncIterator[StreamEvent]:
    """SubscribeToShardEvents as plain dicts; the protocol frames and encodes them as the request was (JSON for
    boto3, CBOR for the Java SDK and the KCL)."""
    db, notifier = ctx.env.db, ctx.env.notifier
    keys = (shard_wake_key(pos.stream_id, pos.shard), consumer_wake_key(pos.stream_id, consumer))
    after, sent_at, first = pos.after, 0.0, True
    while True:
        with Watch(notifier, keys) as watch:  # watch first, then read: a put committed in between still wakes us
            now = clock.now_ms()
            at = Position(pos.stream_id, pos.created_at, pos.shard, after, now)
            batch = await db.read(read_batch, at, BATCH, now, MAX_EVENT_BYTES)
            if batch is None or await db.read(store.consumer, pos.stream_id, consumer) is None:
                yield subscription_target_gone()
                return
            out, after, more = batch
            metrics.kinesis_read(*stream, shard_id(pos.shard), consumer, len(out["Records"]), out["MillisBehindLatest"])
            ended = "ChildShards" in out
            if out["Records"] or ended or first or time.monotonic() - sent_at >= QUIET_EVENT_S:
                event: dict[str, object] = {
                    "Records": out["Records"],
                    "ContinuationSequenceNumber": sequence_number(pos.shard, after),
                    "MillisBehindLatest": out["MillisBehindLatest"],
                }
                if ended:
                    event["ChildShards"] = out["ChildShards"]
                yield StreamEvent("SubscribeToShardEvent", event)
                sent_at, first = time.monotonic(), False
            if ended or clock.now_ms() >= deadline:
                return  # a closed shard read to its end, or the subscription's 5 minutes are over
            if more:
                continue  # the batch was full and more is waiting: no need to sleep
            await watch.wait(min(QUIET_EVENT_S, max((deadline - clock.now_ms()) / 1000, 0.001)))


HANDLERS = {"SubscribeToShard": subscribe_to_shard}
