"""Kinesis Data Streams operations: one function per AWS operation, all of them taking StreamARN where the model
allows it instead of StreamName."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from broker import clock
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.kinesis import iterators, reshard, store
from broker.services.kinesis.iterators import Position
from broker.services.kinesis.streams import (
    HASH_SPACE,
    STREAMS,
    Stream,
    cache_key,
    in_use,
    invalid,
    not_found,
    parse_arn,
    parse_sequence,
    partition_hash,
    sequence_number,
    shard_id,
    shard_index,
    status_at,
    stream_arn,
)
from broker.tags import changed

SHARD_LIMIT = 20_000  # per account and region (DescribeLimits); AWS's default is 500 or 200 and can be raised
ON_DEMAND_STREAM_LIMIT = 50
ON_DEMAND_SHARDS = 4  # an on-demand stream starts with 4 shards, as on AWS
MIN_RETENTION_H, MAX_RETENTION_H, DEFAULT_RETENTION_H = 24, 8760, 24
MAX_PUT_RECORDS_BYTES = 10 * 1024 * 1024  # the whole request, partition keys included (AWS raised it from 5)
MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024
MAX_EVENT_BYTES = 6 * 1024 * 1024  # records per SubscribeToShard event: base64 + JSON stay under 16 MiB
METRICS = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
]
MAX_TAGS = 50


# -- finding streams ---------------------------------------------------------------------------------------------
def _name_of(ctx: RequestContext, p: dict) -> tuple[str, str, str]:
    """(account, region, name) from StreamARN (wins) or StreamName."""
    arn, name = p.get("StreamARN"), p.get("StreamName")
    if arn:
        region, account, arn_name = parse_arn(arn)
        if name and name != arn_name:
            raise invalid(f"StreamARN {arn} and StreamName {name} do not name the same stream.")
        return account, region, arn_name
    if not name:
        raise invalid("Either StreamName or StreamARN must be provided.")
    return ctx.account, ctx.region, name


async def load(ctx: RequestContext, account: str, region: str, name: str, fresh: bool = False) -> Stream:
    cache = ctx.env.get(STREAMS)
    key = cache_key(account, region, name)
    if fresh:
        cache.drop(key)
    stream = await cache.get_or_load(key, lambda: ctx.env.db.read(_load_stream, account, region, name))
    if stream is None:
        raise not_found(name, account)
    return stream


def _load_stream(conn: Connection, account: str, region: str, name: str) -> Stream | None:
    found = store.get_stream(conn, account, region, name)
    return None if found is None else Stream.from_row(*found)


async def resolve(ctx: RequestContext, p: dict, fresh: bool = False) -> Stream:
    """The stream a request names. `fresh` skips the per-process cache (reads of definitions, changes)."""
    return await load(ctx, *_name_of(ctx, p), fresh=fresh)


async def _active(ctx: RequestContext, p: dict) -> Stream:
    """A stream that accepts changes: ACTIVE, not CREATING or UPDATING."""
    s = await resolve(ctx, p, fresh=True)
    status = s.status_at(clock.now_ms())
    if status != "ACTIVE":
        raise in_use(f"Stream {s.name} under account {s.account} not ACTIVE, instead in state {status}")
    return s


def readable(s: Stream) -> Stream:
    if s.status_at(clock.now_ms()) == "CREATING":
        raise not_found(s.name, s.account)
    return s


def _new_stream_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(random.choices(alphabet, k=20)) + "-" + "".join(random.choices(alphabet, k=3))  # noqa: S311


# -- streams -----------------------------------------------------------------------------------------------------
async def create_stream(ctx: RequestContext, p: dict) -> dict:
    name = p["StreamName"]
    mode = (p.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
    count = p.get("ShardCount")
    if count is None and not p.get("StreamModeDetails"):
        mode = "ON_DEMAND"  # neither given: AWS creates an on-demand stream
    if mode == "ON_DEMAND":
        if count is not None:
            raise ServiceError("ValidationException", "ShardCount is not supported for on-demand streams.")
        count = ON_DEMAND_SHARDS
    elif count is None:
        raise invalid("ShardCount is required for provisioned streams.")
    tags = p.get("Tags") or {}
    check_tags(tags)
    shards, on_demand = await ctx.env.db.read(store.open_shard_count, ctx.account, ctx.region)
    if shards + count > SHARD_LIMIT:
        raise ServiceError(
            "LimitExceededException",
            f"This request would exceed the shard limit for the account {ctx.account} in {ctx.region}. Current "
            f"shard count for the account: {shards}. Limit: {SHARD_LIMIT}. Number of additional shards that would "
            f"have resulted from this request: {count}.",
        )
    if mode == "ON_DEMAND" and on_demand >= ON_DEMAND_STREAM_LIMIT:
        raise ServiceError("LimitExceededException", "This request would exceed the on-demand stream limit.")
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
        "status_until": _until(ctx),
        "retention_hours": DEFAULT_RETENTION_H,
        "encryption": "NONE",
        "key_id": None,
        "metrics": "[]",
        "tags": store.dumps(tags),
        "attributes": store.dumps(attrs),
        "created_at": now,
    }
    if not await ctx.env.db.write(store.create_stream, values, count, now):
        raise in_use(f"Stream {name} under account {ctx.account} already exists.")
    return {}


async def delete_stream(ctx: RequestContext, p: dict) -> dict:
    s = await resolve(ctx, p, fresh=True)
    if not p.get("EnforceConsumerDeletion") and await ctx.env.db.read(store.consumer_count, s.id):
        raise in_use(
            f"Stream {s.name} under account {s.account} has registered consumers. Deregister them first, or set "
            "EnforceConsumerDeletion."
        )
    refused = await ctx.env.db.write(store.delete_stream, s.id, s.cache_key)
    if refused:
        raise in_use(f"Stream {s.name} under account {s.account} has {refused}. Delete them first.")
    ctx.env.get(STREAMS).drop(s.cache_key)
    return {}


def _mode(s: Stream) -> dict:
    return {"StreamMode": s.mode}


def _monitoring(s: Stream) -> list[dict]:
    return [{"ShardLevelMetrics": list(s.metrics)}]


def _shard_doc(row: dict) -> dict:
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


async def describe_stream(ctx: RequestContext, p: dict) -> dict:
    s = await resolve(ctx, p, fresh=True)
    limit = p.get("Limit") or 100
    rows = await ctx.env.db.read(store.shards, s.id)
    if p.get("ExclusiveStartShardId"):
        after = shard_index(p["ExclusiveStartShardId"])
        if after is None:
            raise invalid(f"Invalid ExclusiveStartShardId {p['ExclusiveStartShardId']}.")
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


async def describe_stream_summary(ctx: RequestContext, p: dict) -> dict:
    s = await resolve(ctx, p, fresh=True)
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


async def list_streams(ctx: RequestContext, p: dict) -> dict:
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
                "StreamStatus": status_at(r["status"], r["status_until"], now),
                "StreamModeDetails": {"StreamMode": r["mode"]},
                "StreamCreationTimestamp": clock.to_datetime(r["created_at"]),
            }
            for r in page
        ],
    }
    if more:
        out["NextToken"] = iterators.encode_token({"after": page[-1]["name"]}, now)
    return out


async def list_shards(ctx: RequestContext, p: dict) -> dict:
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
            raise invalid("Invalid NextToken.") from None
        s = await load(ctx, *scope, fresh=True)
    else:
        s = await resolve(ctx, p, fresh=True)
        after = -1
        if p.get("ExclusiveStartShardId"):
            start = shard_index(p["ExclusiveStartShardId"])
            if start is None:
                raise invalid(f"Invalid ExclusiveStartShardId {p['ExclusiveStartShardId']}.")
            after = start
        filt = _shard_filter(p.get("ShardFilter"))
    if p.get("StreamCreationTimestamp") and clock.to_ms(p["StreamCreationTimestamp"]) // 1000 != s.created_at // 1000:
        raise not_found(s.name, s.account)
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


def _shard_filter(f: dict | None) -> dict | None:
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


FILTER_TYPES = ("AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP")


def _passes(row: dict, f: dict | None, s: Stream, now: int) -> bool:
    if f is None:
        return True
    kind, closed, created = f["type"], row["closed_at"], row["created_at"]
    horizon = now - s.retention_hours * 3_600_000
    if kind == "AFTER_SHARD_ID":
        return row["idx"] > f["after"]
    if kind == "AT_LATEST":
        return closed is None
    if kind == "AT_TRIM_HORIZON":  # the shards that were open at the trim horizon
        return created <= max(horizon, s.created_at) and (closed is None or closed > horizon)
    if kind == "FROM_TRIM_HORIZON":
        return closed is None or closed > horizon
    at = f["at"]
    if kind == "AT_TIMESTAMP":  # open at that moment (or the stream's first shards, before it existed)
        return (created <= at or created == s.created_at) and (closed is None or closed > at)
    return closed is None or closed > at  # FROM_TIMESTAMP


# -- records -----------------------------------------------------------------------------------------------------
def _route(s: Stream, key: str, explicit: str | None) -> int:
    if s.auto_distribution:  # RecordDistributionStrategy AUTO: keys are ignored, records spread evenly
        return s.open_shards[random.randrange(len(s.open_shards))][2]  # noqa: S311
    if explicit is not None:
        value = int(explicit)
        if value >= HASH_SPACE:
            raise invalid(f"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, {HASH_SPACE - 1}]")
        return s.shard_for(value)
    return s.shard_for(partition_hash(key))


def _check_record(s: Stream, data: bytes, key: str | None, where: str) -> None:
    if key is None and not s.auto_distribution:
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value null at '{where}partitionKey' failed to satisfy constraint: "
            "Member must not be null",
        )
    if len(data) + len((key or "").encode()) > s.max_record_bytes:  # AWS counts the partition key too
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value at '{where}data' failed to satisfy constraint: Member must have "
            f"length less than or equal to {s.max_record_bytes}",
        )


Unrouted = tuple[str, str | None, bytes]  # partition key, ExplicitHashKey, data


async def _append(
    ctx: RequestContext, s: Stream, records: list[Unrouted]
) -> tuple[list[tuple[int, str, bytes]], list[tuple[int, int] | None]]:
    """Route and write records: (routed items, and their (shard, counter) or None when over a write limit).

    A reshard committed after this process read its routing table closes shards the records may have been routed
    to: the write then fails as a whole and is routed again once, on fresh shards."""
    limited = ctx.env.settings.kinesis_throughput_limits
    for attempt in range(2):
        items = [(_route(s, key, explicit), key, data) for key, explicit, data in records]
        try:
            return items, await ctx.env.db.write(store.put_records, s.id, items, limited)
        except store.ShardClosed:
            ctx.env.get(STREAMS).drop(s.cache_key)
            if attempt == 0:
                s = await resolve(ctx, {"StreamARN": s.arn}, fresh=True)
    raise ServiceError(
        "ProvisionedThroughputExceededException", "The stream is being resharded. Please retry.", sender_fault=False
    )


async def put_record(ctx: RequestContext, p: dict) -> dict:
    s = readable(await resolve(ctx, p))
    data, key = p["Data"], p.get("PartitionKey") or ""
    _check_record(s, data, p.get("PartitionKey"), "")
    ordering = p.get("SequenceNumberForOrdering")
    if ordering is not None and parse_sequence(ordering) is None:
        raise invalid(f"ExclusiveMinimumSequenceNumber {ordering} used in PutRecord on stream {s.name} is invalid.")
    ((idx, _, _),), (placed,) = await _append(ctx, s, [(key, p.get("ExplicitHashKey"), data)])
    if placed is None:
        raise _write_throttled(s, idx)
    return {"ShardId": shard_id(idx), "SequenceNumber": sequence_number(*placed), "EncryptionType": s.encryption}


async def put_records(ctx: RequestContext, p: dict) -> dict:
    s = readable(await resolve(ctx, p))
    records: list[Unrouted] = []
    total = 0
    for i, rec in enumerate(p["Records"]):
        data, key = rec["Data"], rec.get("PartitionKey") or ""
        _check_record(s, data, rec.get("PartitionKey"), f"records.{i + 1}.member.")
        total += len(data) + len(key.encode())
        records.append((key, rec.get("ExplicitHashKey"), data))
    if total > MAX_PUT_RECORDS_BYTES:
        raise invalid(f"Records size exceeds {MAX_PUT_RECORDS_BYTES // (1024 * 1024)} MB limit")
    items, results = await _append(ctx, s, records)
    entries: list[dict[str, str]] = []
    for (idx, _, _), placed in zip(items, results, strict=True):
        if placed is None:
            err = _write_throttled(s, idx)
            entries.append({"ErrorCode": err.code, "ErrorMessage": err.message})
        else:
            entries.append({"SequenceNumber": sequence_number(*placed), "ShardId": shard_id(placed[0])})
    failed = sum(1 for e in entries if "ErrorCode" in e)
    return {"FailedRecordCount": failed, "Records": entries, "EncryptionType": s.encryption}


def _write_throttled(s: Stream, idx: int) -> ServiceError:
    return ServiceError(
        "ProvisionedThroughputExceededException",
        f"Rate exceeded for shard {shard_id(idx)} in stream {s.name} under account {s.account}.",
    )


# Read limits of one worker process (kinesis_throughput_limits): (stream row, shard) -> [second, calls, bytes].
READ_CALLS_PER_S, READ_BYTES_PER_S = 5, 2 * 1024 * 1024
_reads: dict[tuple[int, int], list[int]] = {}


def _read_allowed(pos: Position) -> list[int]:
    second = clock.wall_ms() // 1000
    window = _reads.get((pos.stream_id, pos.shard))
    if window is None or window[0] != second:
        if len(_reads) > 100_000:
            _reads.clear()
        window = _reads[(pos.stream_id, pos.shard)] = [second, 0, 0]
    if window[1] >= READ_CALLS_PER_S or window[2] >= READ_BYTES_PER_S:
        raise ServiceError(
            "ProvisionedThroughputExceededException",
            f"Rate exceeded for shard {shard_id(pos.shard)}: more than {READ_CALLS_PER_S} GetRecords calls or "
            f"{READ_BYTES_PER_S // (1024 * 1024)} MiB per second.",
        )
    window[1] += 1
    return window


async def shard_row(ctx: RequestContext, s: Stream, name: str) -> dict:
    idx = shard_index(name)
    row = await ctx.env.db.read(store.shard, s.id, idx) if idx is not None else None
    if row is None:
        raise ServiceError(
            "ResourceNotFoundException", f"Shard {name} in stream {s.name} under account {s.account} does not exist"
        )
    return row


async def start_after(
    ctx: RequestContext, s: Stream, row: dict, kind: str, seq_text: str | None, at: datetime | None, op: str
) -> int:
    """Where reading starts (the counter of the last record before it) for an iterator type or starting position."""
    idx = row["idx"]
    if seq_text is not None and kind not in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        raise invalid(f"StartingSequenceNumber cannot be used with {kind}.")
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        if seq_text is None:
            raise invalid(f"StartingSequenceNumber is required for {kind}.")
        parsed = parse_sequence(seq_text)
        if parsed is None or parsed[0] != idx:
            raise invalid(
                f"StartingSequenceNumber {seq_text} used in {op} on shard {shard_id(idx)} in stream {s.name} under "
                f"account {s.account} is invalid because it did not come from this stream."
            )
        # AT the StartingSequenceNumber (counter 0, no record) starts at the first record, like AFTER it.
        return max(parsed[1] - 1, row["seq_start"]) if kind == "AT_SEQUENCE_NUMBER" else parsed[1]
    if kind == "TRIM_HORIZON":
        return row["seq_start"]
    if kind == "LATEST":
        return row["next_seq"] - 1
    if kind == "AT_TIMESTAMP":
        if at is None:
            raise invalid("Timestamp is required for AT_TIMESTAMP.")
        first = await ctx.env.db.read(store.first_at, s.id, idx, clock.to_ms(at))
        return (first if first is not None else row["next_seq"]) - 1
    raise invalid(f"Invalid ShardIteratorType {kind}.")


async def get_shard_iterator(ctx: RequestContext, p: dict) -> dict:
    s = readable(await resolve(ctx, p))
    row = await shard_row(ctx, s, p["ShardId"])
    after = await start_after(
        ctx, s, row, p["ShardIteratorType"], p.get("StartingSequenceNumber"), p.get("Timestamp"), "GetShardIterator"
    )
    position = Position(s.id, s.created_at, row["idx"], after, clock.now_ms())
    return {"ShardIterator": iterators.encode(position)}


async def get_records(ctx: RequestContext, p: dict) -> dict:
    now = clock.now_ms()
    pos = iterators.decode(p["ShardIterator"], now)
    limit = p.get("Limit") or 10_000
    window = _read_allowed(pos) if ctx.env.settings.kinesis_throughput_limits else None
    result = await ctx.env.db.read(read_batch, pos, limit, now)
    if result is None:
        raise ServiceError("ResourceNotFoundException", "The stream or shard of the ShardIterator no longer exists.")
    out, last, _more = result
    if window is not None:
        window[2] += sum(len(r["Data"]) + len(r.get("PartitionKey", "")) for r in out["Records"])
    if "ChildShards" not in out:  # at the end of a closed shard there is no next iterator
        out["NextShardIterator"] = iterators.encode(Position(pos.stream_id, pos.created_at, pos.shard, last, now))
    return out


def read_batch(  # noqa: ANN201
    conn,
    pos: Position,
    limit: int,
    now: int,
    max_bytes: int = MAX_GET_RECORDS_BYTES,  # noqa: ANN001
) -> tuple[dict, int, bool] | None:
    """Records after a position in one read transaction: (GetRecords' answer without NextShardIterator, the counter
    of the last record read, whether more records wait); ChildShards when the read reached the end of a closed
    shard. None: the stream or shard is gone."""
    row = store.shard(conn, pos.stream_id, pos.shard)
    stream = store.stream_by_id(conn, pos.stream_id)
    if row is None or stream is None or stream["created_at"] != pos.created_at or stream["status"] == "DELETING":
        return None
    oldest = store.oldest_kept(stream, now)
    rows = store.read_records(conn, pos.stream_id, pos.shard, pos.after, limit, oldest)
    records, size, last, full = [], 0, pos.after, False
    for rec in rows:
        size += len(rec["data"]) + len(rec["partition_key"].encode())
        if records and size > max_bytes:
            full = True
            break
        records.append(
            {
                "SequenceNumber": sequence_number(pos.shard, rec["seq"]),
                "ApproximateArrivalTimestamp": clock.to_datetime(rec["arrived_at"]),
                "Data": rec["data"],
            }
        )
        if rec["partition_key"]:  # AUTO distribution stores records without one
            records[-1]["PartitionKey"] = rec["partition_key"]
        last = rec["seq"]
    if not full and len(rows) < limit:
        last = max(last, row["next_seq"] - 1)  # what lies beyond was filtered out: expired records
    at_tip = last >= row["next_seq"] - 1
    out: dict[str, Any] = {"Records": records}
    out["MillisBehindLatest"] = 0 if at_tip or not records else max(now - rows[len(records) - 1]["arrived_at"], 0)
    if row["closed_at"] is not None and at_tip:
        out["ChildShards"] = [
            {
                "ShardId": shard_id(c["idx"]),
                "ParentShards": [shard_id(x) for x in (c["parent"], c["adjacent_parent"]) if x is not None],
                "HashKeyRange": {
                    "StartingHashKey": str(int(c["hash_start"])),
                    "EndingHashKey": str(int(c["hash_end"])),
                },
            }
            for c in store.children(conn, pos.stream_id, pos.shard)
        ]
    return out, last, not at_tip


# -- retention, tags, encryption, monitoring, mode, policies ---------------------------------------------------
def _check_retention(hours: int) -> None:
    if hours < MIN_RETENTION_H:
        raise invalid(
            f"Minimum allowed retention period is {MIN_RETENTION_H} hours. Requested retention period ({hours} "
            "hours) is too short."
        )
    if hours > MAX_RETENTION_H:
        raise invalid(
            f"Maximum allowed retention period is {MAX_RETENTION_H} hours. Requested retention period ({hours} "
            "hours) is too long."
        )


async def increase_stream_retention_period(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    hours = p["RetentionPeriodHours"]
    _check_retention(hours)
    now = clock.now_ms()

    def change(row: dict) -> dict:
        if hours < row["retention_hours"]:
            raise invalid(
                f"Requested retention period ({hours} hours) for stream {s.name} can not be shorter than existing "
                f"retention period ({row['retention_hours']} hours). Use DecreaseRetentionPeriod API."
            )
        # Records that had expired under the old period stay expired (AWS: no expired data becomes accessible).
        attrs = json.loads(row["attributes"])
        attrs["ExpiredBefore"] = store.oldest_kept(row, now)
        return {"retention_hours": hours, "attributes": store.dumps(attrs)}

    await _modify(ctx, s, change)
    return {}


async def decrease_stream_retention_period(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    hours = p["RetentionPeriodHours"]
    _check_retention(hours)

    def change(row: dict) -> dict:
        if hours > row["retention_hours"]:
            raise invalid(
                f"Requested retention period ({hours} hours) for stream {s.name} can not be longer than existing "
                f"retention period ({row['retention_hours']} hours). Use IncreaseRetentionPeriod API."
            )
        return {"retention_hours": hours}

    await _modify(ctx, s, change)
    return {}


async def _modify(ctx: RequestContext, s: Stream, change: Callable[[dict], dict]) -> dict:
    """Apply `change` to the stream's current row in the writer (no lost updates between concurrent requests)."""
    return await ctx.env.db.write(store.modify_stream, s.id, s.cache_key, change)


async def _set_attribute(ctx: RequestContext, s: Stream, name: str, value: Any) -> None:
    """Set (or with None remove) one setting kept in the stream's `attributes`."""

    def change(row: dict) -> dict:
        attrs = json.loads(row["attributes"])
        if value is None:
            attrs.pop(name, None)
        else:
            attrs[name] = value
        return {"attributes": store.dumps(attrs)}

    await _modify(ctx, s, change)


def check_tags(tags: dict[str, str]) -> None:
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise invalid(f"Invalid tag key {key!r}: 1 to 128 characters, not starting with aws:.")
        if len(value) > 256:
            raise invalid(f"Invalid value for tag {key!r}: at most 256 characters.")
    if len(tags) > MAX_TAGS:
        raise ServiceError("LimitExceededException", f"A stream cannot have more than {MAX_TAGS} tags.")


async def set_tags(ctx: RequestContext, s: Stream, add: dict[str, str], remove: list[str]) -> None:
    check_tags(add)

    def too_many() -> ServiceError:
        return ServiceError(
            "LimitExceededException",
            f"Failed to add tags to stream {s.name} under account {s.account} because a given stream cannot "
            f"have more than {MAX_TAGS} tags.",
        )

    def change(row: dict) -> dict:
        return {"tags": store.dumps(changed(json.loads(row["tags"]), add, remove, MAX_TAGS, too_many))}

    await _modify(ctx, s, change)


async def add_tags_to_stream(ctx: RequestContext, p: dict) -> dict:
    s = await resolve(ctx, p, fresh=True)
    await set_tags(ctx, s, p["Tags"], [])
    return {}


async def remove_tags_from_stream(ctx: RequestContext, p: dict) -> dict:
    s = await resolve(ctx, p, fresh=True)
    await set_tags(ctx, s, {}, p["TagKeys"])
    return {}


async def list_tags_for_stream(ctx: RequestContext, p: dict) -> dict:
    s = await resolve(ctx, p, fresh=True)
    keys = sorted(k for k in s.tags if k > (p.get("ExclusiveStartTagKey") or ""))
    limit = p.get("Limit") or 50
    return {
        "Tags": [{"Key": k, "Value": s.tags[k]} for k in keys[:limit]],
        "HasMoreTags": len(keys) > limit,
    }


def _updating(ctx: RequestContext) -> dict:
    """The columns that put a stream into UPDATING for the configured delay."""
    return {"status": "UPDATING", "status_until": _until(ctx)}


async def start_stream_encryption(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    if p["EncryptionType"] != "KMS":
        raise invalid("EncryptionType must be KMS.")
    await ctx.env.db.write(
        store.update_stream, s.id, s.cache_key, dict(encryption="KMS", key_id=p["KeyId"], **_updating(ctx))
    )
    return {}


async def stop_stream_encryption(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    if p["EncryptionType"] != "KMS":
        raise invalid("EncryptionType must be KMS.")
    await ctx.env.db.write(
        store.update_stream, s.id, s.cache_key, dict(encryption="NONE", key_id=None, **_updating(ctx))
    )
    return {}


async def _set_metrics(ctx: RequestContext, p: dict, enable: bool) -> dict:
    s = await _active(ctx, p)
    asked = p["ShardLevelMetrics"]
    for m in asked:
        if m not in (*METRICS, "ALL"):
            raise invalid(f"Invalid ShardLevelMetrics value {m}.")
    wanted = set(METRICS) if "ALL" in asked else set(asked)
    before: list[str] = []

    def change(row: dict) -> dict:
        before[:] = json.loads(row["metrics"])
        desired = set(before) | wanted if enable else set(before) - wanted
        return {"metrics": store.dumps([m for m in METRICS if m in desired])}

    after = json.loads((await _modify(ctx, s, change))["metrics"])
    return {
        "StreamName": s.name,
        "StreamARN": s.arn,
        "CurrentShardLevelMetrics": [m for m in METRICS if m in before],
        "DesiredShardLevelMetrics": after,
    }


async def enable_enhanced_monitoring(ctx: RequestContext, p: dict) -> dict:
    return await _set_metrics(ctx, p, True)


async def disable_enhanced_monitoring(ctx: RequestContext, p: dict) -> dict:
    return await _set_metrics(ctx, p, False)


async def update_stream_mode(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, {"StreamARN": p["StreamARN"]})
    mode = p["StreamModeDetails"]["StreamMode"]
    if mode == s.mode:
        raise invalid(f"Stream {s.name} under account {s.account} is already in {mode} mode.")
    if mode == "PROVISIONED" and await ctx.env.db.read(store.queue_count, s.id):
        raise in_use(f"Stream {s.name} under account {s.account} has queues, which need on-demand mode.")
    if mode == "PROVISIONED" and await ctx.env.db.read(store.channel_count, s.id):
        raise in_use(f"Stream {s.name} under account {s.account} has channels, which need on-demand mode.")
    await ctx.env.db.write(store.update_stream, s.id, s.cache_key, dict(mode=mode, **_updating(ctx)))
    return {}


async def update_max_record_size(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    await _set_attribute(ctx, s, "MaxRecordSizeInKiB", p["MaxRecordSizeInKiB"])
    return {}


async def update_stream_warm_throughput(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    if s.mode != "ON_DEMAND":
        raise ServiceError("ValidationException", "Warm throughput applies to on-demand streams only.")
    target = p["WarmThroughputMiBps"]
    await _set_attribute(ctx, s, "WarmThroughputMiBps", target)
    return {"StreamARN": s.arn, "StreamName": s.name, "WarmThroughput": {"TargetMiBps": target, "CurrentMiBps": target}}


async def update_stream_record_distribution_strategy(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    if s.mode != "ON_DEMAND":
        raise invalid("The record distribution strategy applies to on-demand streams only.")
    await _set_attribute(ctx, s, "RecordDistributionStrategy", p["RecordDistributionStrategy"])
    return {}


async def describe_account_settings(ctx: RequestContext, p: dict) -> dict:  # noqa: ARG001
    state = await ctx.env.db.read(store.account_settings, ctx.account)
    return {"MinimumThroughputBillingCommitment": _commitment(state)}


async def update_account_settings(ctx: RequestContext, p: dict) -> dict:
    wanted = p["MinimumThroughputBillingCommitment"]["Status"]
    state = await ctx.env.db.write(store.set_commitment, ctx.account, wanted, clock.now_ms())
    return {"MinimumThroughputBillingCommitment": _commitment(state)}


def _commitment(state: dict) -> dict:
    """Billing commitments mean nothing here: the status is kept and reported, with its times."""
    out: dict[str, Any] = {"Status": state.get("Status", "DISABLED")}
    for key in ("StartedAt", "EndedAt"):
        if state.get(key):
            out[key] = clock.to_datetime(state[key])
    return out


async def _policy_target(ctx: RequestContext, p: dict) -> Stream:
    arn = p["ResourceARN"]
    if ":stream/" not in arn or "/consumer/" in arn:
        raise invalid(f"Invalid ResourceARN {arn}: resource policies are kept for stream ARNs.")
    return await resolve(ctx, {"StreamARN": arn}, fresh=True)


async def put_resource_policy(ctx: RequestContext, p: dict) -> dict:
    s = await _policy_target(ctx, p)
    try:
        policy = json.loads(p["Policy"])
    except ValueError:
        raise invalid("Policy is not valid JSON.") from None
    if not isinstance(policy, dict):
        raise invalid("Policy must be a JSON object.")
    await _set_attribute(ctx, s, "Policy", p["Policy"])
    return {}


async def get_resource_policy(ctx: RequestContext, p: dict) -> dict:
    s = await _policy_target(ctx, p)
    return {"Policy": s.attrs.get("Policy", "{}")}


async def delete_resource_policy(ctx: RequestContext, p: dict) -> dict:
    s = await _policy_target(ctx, p)
    if "Policy" not in s.attrs:
        raise ServiceError("ResourceNotFoundException", f"No resource policy found for resource ARN {s.arn}.")
    await _set_attribute(ctx, s, "Policy", None)
    return {}


# -- resharding --------------------------------------------------------------------------------------------------
def _until(ctx: RequestContext) -> int:
    return clock.now_ms() + ctx.env.settings.kinesis_status_delay_ms


def _hash_key(text: str) -> int:
    if not text.isdigit() or int(text) >= HASH_SPACE:
        raise invalid(f"NewStartingHashKey {text} is not a hash key: an integer from 0 to {HASH_SPACE - 1}.")
    return int(text)


async def split_shard(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    name = p["ShardToSplit"]
    key = _hash_key(p["NewStartingHashKey"])
    await ctx.env.db.write(reshard.split, s.id, shard_index(name), name, key, clock.now_ms(), _until(ctx), SHARD_LIMIT)
    ctx.env.get(STREAMS).drop(s.cache_key)
    return {}


async def merge_shards(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    a, b = p["ShardToMerge"], p["AdjacentShardToMerge"]
    await ctx.env.db.write(reshard.merge, s.id, shard_index(a), a, shard_index(b), b, clock.now_ms(), _until(ctx))
    ctx.env.get(STREAMS).drop(s.cache_key)
    return {}


async def update_shard_count(ctx: RequestContext, p: dict) -> dict:
    s = await _active(ctx, p)
    if s.mode == "ON_DEMAND":
        raise ServiceError("ValidationException", "UpdateShardCount is not supported for on-demand streams.")
    target = p["TargetShardCount"]
    current = await ctx.env.db.write(reshard.uniform, s.id, target, clock.now_ms(), _until(ctx), SHARD_LIMIT)
    ctx.env.get(STREAMS).drop(s.cache_key)
    return {"StreamName": s.name, "StreamARN": s.arn, "CurrentShardCount": current, "TargetShardCount": target}


async def describe_limits(ctx: RequestContext, p: dict) -> dict:  # noqa: ARG001
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
    "PutRecord": put_record,
    "PutRecords": put_records,
    "GetShardIterator": get_shard_iterator,
    "GetRecords": get_records,
    "IncreaseStreamRetentionPeriod": increase_stream_retention_period,
    "DecreaseStreamRetentionPeriod": decrease_stream_retention_period,
    "AddTagsToStream": add_tags_to_stream,
    "RemoveTagsFromStream": remove_tags_from_stream,
    "ListTagsForStream": list_tags_for_stream,
    "StartStreamEncryption": start_stream_encryption,
    "StopStreamEncryption": stop_stream_encryption,
    "EnableEnhancedMonitoring": enable_enhanced_monitoring,
    "DisableEnhancedMonitoring": disable_enhanced_monitoring,
    "UpdateStreamMode": update_stream_mode,
    "UpdateMaxRecordSize": update_max_record_size,
    "UpdateStreamWarmThroughput": update_stream_warm_throughput,
    "PutResourcePolicy": put_resource_policy,
    "GetResourcePolicy": get_resource_policy,
    "DeleteResourcePolicy": delete_resource_policy,
    "DescribeLimits": describe_limits,
    "UpdateStreamRecordDistributionStrategy": update_stream_record_distribution_strategy,
    "DescribeAccountSettings": describe_account_settings,
    "UpdateAccountSettings": update_account_settings,
    "SplitShard": split_shard,
    "MergeShards": merge_shards,
    "UpdateShardCount": update_shard_count,
}
