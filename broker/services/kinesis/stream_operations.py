"""Kinesis Data Streams operations on streams and their shards: CreateStream, DeleteStream, DescribeStream,
DescribeStreamSummary, ListStreams, ListShards and DescribeLimits, all of them taking StreamARN where the model
allows it instead of StreamName."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.kinesis import iterators, store
from broker.services.kinesis.errors import (
    already_exists,
    in_use,
    invalid,
    invalid_next_token,
    on_demand_stream_limit,
    shard_limit_exceeded,
    stream_not_found,
    validation,
)
from broker.services.kinesis.lookup import load, resolve
from broker.services.kinesis.streams import (
    STREAMS,
    Row,
    Stream,
    random_id,
    row_status,
    sequence_number,
    shard_id,
    shard_index,
    stream_arn,
)
from broker.services.kinesis.tag_rules import check_tags

SHARD_LIMIT = 20_000  # per account and region (DescribeLimits); AWS's default is 500 or 200 and can be raised
ON_DEMAND_STREAM_LIMIT = 50
ON_DEMAND_SHARDS = 4  # an on-demand stream starts with 4 shards, as on AWS
DEFAULT_RETENTION_H = 24
FILTER_TYPES = ("AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP")


def updating_until(ctx: RequestContext) -> int:
    """When a stream that starts CREATING or UPDATING now becomes ACTIVE (the configured delay)."""
    return clock.now_ms() + ctx.env.settings.kinesis_status_delay_ms


def _new_stream_id() -> str:
    return random_id(20) + "-" + random_id(3)


async def create_stream(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["StreamName"]
    mode = (p.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
    count = p.get("ShardCount")
    if count is None and not p.get("StreamModeDetails"):
        mode = "ON_DEMAND"  # neither given: AWS creates an on-demand stream
    if mode == "ON_DEMAND":
        if count is not None:
            raise validation("ShardCount is not supported for on-demand streams.")
        count = ON_DEMAND_SHARDS
    elif count is None:
        raise invalid("ShardCount is required for provisioned streams.")
    tags = p.get("Tags") or {}
    check_tags(tags)
    shards, on_demand = await ctx.env.db.read(store.open_shard_count, ctx.account, ctx.region)
    if shards + count > SHARD_LIMIT:
        raise shard_limit_exceeded(ctx.account, ctx.region, shards, SHARD_LIMIT, count)
    if mode == "ON_DEMAND" and on_demand >= ON_DEMAND_STREAM_LIMIT:
        raise on_demand_stream_limit()
    attrs: dict[str, Any] = {}
    if p.get("MaxRecordSizeInKiB"):
        attrs["MaxRecordSizeInKiB"] = p["MaxRecordSizeInKiB"]
    if p.get("WarmThroughputMiBps") is not None:
        attrs["WarmThroughputMiBps"] = p["WarmThroughputMiBps"]
    if p.get("RecordDistributionStrategy"):
        if mode != "ON_DEMAND":
            raise invalid("RecordDistributionStrategy is supported for on-demand streams only.")
        attrs["RecordDistributionStrategy"] = p["RecordDistributionStrategy"]
    now = clock.now_ms()
    values = {
        "account": ctx.account,
        "region": ctx.region,
        "name": name,
        "stream_id": _new_stream_id(),
        "mode": mode,
        "status": "CREATING",
        "status_until": updating_until(ctx),
        "retention_hours": DEFAULT_RETENTION_H,
        "encryption": "NONE",
        "key_id": None,
        "metrics": "[]",
        "tags": store.dumps(tags),
        "attributes": store.dumps(attrs),
        "created_at": now,
    }
    if not await ctx.env.db.write(store.create_stream, values, count, now):
        raise already_exists("Stream", name, ctx.account)
    return {}


async def delete_stream(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await resolve(ctx, p, fresh=True)
    if not p.get("EnforceConsumerDeletion") and await ctx.env.db.read(store.consumer_count, s.id) > 0:
        raise in_use(
            f"Stream {s.name} under account {s.account} has registered consumers. Deregister them first, or set "
            "EnforceConsumerDeletion."
        )
    refused = await ctx.env.db.write(store.delete_stream, s.id, s.cache_key)
    if refused:
        raise in_use(f"Stream {s.name} under account {s.account} has {refused}. Delete them first.")
    ctx.env.get(STREAMS).drop(s.cache_key)
    return {}


def _mode(s: Stream) -> dict[str, Any]:
    return {"StreamMode": s.mode}


def _monitoring(s: Stream) -> list[dict[str, Any]]:
    return [{"ShardLevelMetrics": list(s.metrics)}]


def _shard_doc(row: Row) -> dict[str, Any]:
    doc: dict[str, Any] = {"ShardId": shard_id(row["idx"])}
    if row["parent"] is not None:
        doc["ParentShardId"] = shard_id(row["parent"])
    if row["adjacent_parent"] is not None:
        doc["AdjacentParentShardId"] = shard_id(row["adjacent_parent"])
    doc["HashKeyRange"] = {"StartingHashKey": str(int(row["hash_start"])), "EndingHashKey": str(int(row["hash_end"]))}
    seq = {"StartingSequenceNumber": sequence_number(row["idx"], row["seq_start"])}
    if row["closed_at"] is not None:
        seq["EndingSequenceNumber"] = sequence_number(row["idx"], max(row["next_seq"] - 1, row["seq_start"]))
    doc["SequenceNumberRange"] = seq
    return doc


def _exclusive_start(text: str) -> int:
    """The index of an ExclusiveStartShardId (DescribeStream, ListShards)."""
    idx = shard_index(text)
    if idx is None:
        raise invalid(f"Invalid ExclusiveStartShardId {text}.")
    return idx


async def describe_stream(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await resolve(ctx, p, fresh=True, action="kinesis:DescribeStream")
    limit = p.get("Limit") or 100
    rows = await ctx.env.db.read(store.shards, s.id)
    if p.get("ExclusiveStartShardId"):
        after = _exclusive_start(p["ExclusiveStartShardId"])
        rows = [r for r in rows if r["idx"] > after]
    page = rows[:limit]
    desc = {
        "StreamName": s.name,
        "StreamARN": s.arn,
        "StreamStatus": s.status_at(clock.now_ms()),
        "StreamModeDetails": _mode(s),
        "Shards": [_shard_doc(r) for r in page],
        "HasMoreShards": len(rows) > limit,
        "RetentionPeriodHours": s.retention_hours,
        "StreamCreationTimestamp": clock.to_datetime(s.created_at),
        "EnhancedMonitoring": _monitoring(s),
        "EncryptionType": s.encryption,
    }
    if s.key_id:
        desc["KeyId"] = s.key_id
    return {"StreamDescription": desc}


async def describe_stream_summary(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await resolve(ctx, p, fresh=True, action="kinesis:DescribeStreamSummary")
    consumers = await ctx.env.db.read(store.consumer_count, s.id)
    desc: dict[str, Any] = {
        "StreamName": s.name,
        "StreamARN": s.arn,
        "StreamId": s.stream_id,
        "StreamStatus": s.status_at(clock.now_ms()),
        "StreamModeDetails": _mode(s),
        "RetentionPeriodHours": s.retention_hours,
        "StreamCreationTimestamp": clock.to_datetime(s.created_at),
        "EnhancedMonitoring": _monitoring(s),
        "EncryptionType": s.encryption,
        "OpenShardCount": len(s.open_shards),
        "ConsumerCount": consumers,
        "MaxRecordSizeInKiB": int(s.attrs.get("MaxRecordSizeInKiB", 1024)),
    }
    if s.mode == "ON_DEMAND":
        desc["RecordDistributionStrategy"] = s.attrs.get("RecordDistributionStrategy", "USER_PARTITION_KEY")
    if s.key_id:
        desc["KeyId"] = s.key_id
    if "WarmThroughputMiBps" in s.attrs:
        target = s.attrs["WarmThroughputMiBps"]
        desc["WarmThroughput"] = {"TargetMiBps": target, "CurrentMiBps": target}
    return {"StreamDescriptionSummary": desc}


async def list_streams(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = p.get("Limit") or 100
    now = clock.now_ms()
    if p.get("NextToken"):
        if p.get("ExclusiveStartStreamName"):
            raise invalid("NextToken and ExclusiveStartStreamName cannot be provided together.")
        after = str(iterators.decode_token(p["NextToken"], now).get("after", ""))
    else:
        after = p.get("ExclusiveStartStreamName") or ""
    rows = await ctx.env.db.read(store.list_streams, ctx.account, ctx.region, after, limit + 1)
    page, more = rows[:limit], len(rows) > limit
    out: dict[str, Any] = {
        "StreamNames": [r["name"] for r in page],
        "HasMoreStreams": more,
        "StreamSummaries": [
            {
                "StreamName": r["name"],
                "StreamARN": stream_arn(r["region"], r["account"], r["name"]),
                "StreamStatus": row_status(r, now),
                "StreamModeDetails": {"StreamMode": r["mode"]},
                "StreamCreationTimestamp": clock.to_datetime(r["created_at"]),
            }
            for r in page
        ],
    }
    if more:
        out["NextToken"] = iterators.encode_token({"after": page[-1]["name"]}, now)
    return out


async def list_shards(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    now = clock.now_ms()
    if p.get("NextToken"):
        if p.get("StreamName") or p.get("ExclusiveStartShardId") or p.get("ShardFilter"):
            raise invalid(
                "NextToken cannot be provided together with StreamName, ExclusiveStartShardId or ShardFilter."
            )
        state = iterators.decode_token(p["NextToken"], now)
        try:
            scope, after, filt = (
                (state["account"], state["region"], state["name"]),
                int(state["after"]),
                state["filter"],
            )
            _check_filter_state(filt)
        except (KeyError, TypeError, ValueError):
            raise invalid_next_token() from None
        s = await load(ctx, *scope, fresh=True, action="kinesis:ListShards")
    else:
        s = await resolve(ctx, p, fresh=True, action="kinesis:ListShards")
        after = -1
        if p.get("ExclusiveStartShardId"):
            after = _exclusive_start(p["ExclusiveStartShardId"])
        filt = _shard_filter(p.get("ShardFilter"))
    if p.get("StreamCreationTimestamp") and clock.to_ms(p["StreamCreationTimestamp"]) // 1000 != s.created_at // 1000:
        raise stream_not_found(s.name, s.account)
    limit = p.get("MaxResults") or 1000
    rows = await ctx.env.db.read(store.shards, s.id)
    rows = [r for r in rows if r["idx"] > after and _passes(r, filt, s, now)]
    page, more = rows[:limit], len(rows) > limit
    out: dict[str, Any] = {"Shards": [_shard_doc(r) for r in page]}
    if more:
        out["NextToken"] = iterators.encode_token(
            {"account": s.account, "region": s.region, "name": s.name, "after": page[-1]["idx"], "filter": filt}, now
        )
    return out


def _shard_filter(f: dict[str, Any] | None) -> dict[str, Any] | None:
    if not f:
        return None
    kind = f["Type"]
    out: dict[str, Any] = {"type": kind}
    if kind == "AFTER_SHARD_ID":
        if not f.get("ShardId") or shard_index(f["ShardId"]) is None:
            raise invalid("ShardFilter AFTER_SHARD_ID needs a valid ShardId.")
        out["after"] = shard_index(f["ShardId"])
    elif kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
        if f.get("Timestamp") is None:
            raise invalid(f"ShardFilter {kind} needs a Timestamp.")
        out["at"] = clock.to_ms(f["Timestamp"])
    elif f.get("ShardId") or f.get("Timestamp"):
        raise invalid(f"ShardFilter {kind} takes neither ShardId nor Timestamp.")
    return out


def _check_filter_state(f: object) -> None:
    """A filter carried in a NextToken is one _shard_filter made; anything else raises ValueError."""
    if f is None:
        return
    if not isinstance(f, dict) or f.get("type") not in FILTER_TYPES:
        raise ValueError("filter")
    for key in ("after", "at"):
        if key in f and (not isinstance(f[key], int) or isinstance(f[key], bool)):
            raise ValueError("filter")
    if (f["type"] == "AFTER_SHARD_ID" and "after" not in f) or (f["type"].endswith("TIMESTAMP") and "at" not in f):
        raise ValueError("filter")


def _passes(row: Row, f: dict[str, Any] | None, s: Stream, now: int) -> bool:
    if f is None:
        return True
    kind = f["type"]
    idx: int = row["idx"]
    closed: int | None = row["closed_at"]
    created: int = row["created_at"]
    horizon = now - s.retention_hours * 3_600_000
    if kind == "AFTER_SHARD_ID":
        after: int = f["after"]
        return idx > after
    if kind == "AT_LATEST":
        return closed is None
    if kind == "AT_TRIM_HORIZON":  # the shards that were open at the trim horizon
        return created <= max(horizon, s.created_at) and (closed is None or closed > horizon)
    if kind == "FROM_TRIM_HORIZON":
        return closed is None or closed > horizon
    at: int = f["at"]
    if kind == "AT_TIMESTAMP":  # open at that moment (or the stream's first shards, before it existed)
        return (created <= at or created == s.created_at) and (closed is None or closed > at)
    return closed is None or closed > at  # FROM_TIMESTAMP


async def describe_limits(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    shards, on_demand = await ctx.env.db.read(store.open_shard_count, ctx.account, ctx.region)
    return {
        "ShardLimit": SHARD_LIMIT,
        "OpenShardCount": shards,
        "OnDemandStreamCount": on_demand,
        "OnDemandStreamCountLimit": ON_DEMAND_STREAM_LIMIT,
    }


HANDLERS = {
    "CreateStream": create_stream,
    "DeleteStream": delete_stream,
    "DescribeStream": describe_stream,
    "DescribeStreamSummary": describe_stream_summary,
    "ListStreams": list_streams,
    "ListShards": list_shards,
    "DescribeLimits": describe_limits,
}
