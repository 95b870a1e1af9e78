"""Kinesis Data Streams operations on records: PutRecord, PutRecords, GetShardIterator, GetRecords, with the
per-shard throughput limits (when `kinesis_throughput_limits` is set); and the reading of a shard from a position
that SubscribeToShard shares with GetRecords."""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING, Any

from broker import clock
from broker.context import RequestContext
from broker.metrics import instruments as metrics
from broker.services.kinesis import iterators, store
from broker.services.kinesis.errors import (
    invalid,
    iterator_target_gone,
    missing_partition_key,
    read_throttled,
    record_too_large,
    resharding,
    shard_not_found,
    write_throttled,
)
from broker.services.kinesis.iterators import Position, ShardIterator
from broker.services.kinesis.lookup import authorize, find, readable, resolve, resolve_arn
from broker.services.kinesis.streams import (
    HASH_SPACE,
    STREAMS,
    Row,
    Stream,
    parse_sequence,
    partition_hash,
    sequence_number,
    shard_id,
    shard_index,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

MAX_PUT_RECORDS_BYTES = 10 * 1024 * 1024  # the whole request, partition keys included (AWS raised it from 5)
MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024
MAX_EVENT_BYTES = 6 * 1024 * 1024  # records per SubscribeToShard event: base64 + JSON stay under 16 MiB


def _route(s: Stream, key: str, explicit: str | None) -> int:
    if s.auto_distribution:  # RecordDistributionStrategy AUTO: keys are ignored, records spread evenly
        return s.open_shards[random.randrange(len(s.open_shards))][2]  # spread, not secrecy
    if explicit is not None:
        value = int(explicit)
        if value >= HASH_SPACE:
            raise invalid(f"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, {HASH_SPACE - 1}]")
        return s.shard_for(value)
    return s.shard_for(partition_hash(key))


def _check_record(s: Stream, data: bytes, key: str | None, where: str) -> None:
    if key is None and not s.auto_distribution:
        raise missing_partition_key(where)
    if len(data) + len((key or "").encode()) > s.max_record_bytes:  # AWS counts the partition key too
        raise record_too_large(where, s.max_record_bytes)


Unrouted = tuple[str, str | None, bytes]  # partition key, ExplicitHashKey, data


async def _append(
    ctx: RequestContext, s: Stream, records: list[Unrouted], action: str
) -> tuple[list[tuple[int, str, bytes]], list[tuple[int, int] | None]]:
    """Route and write records: (routed items, and their (shard, counter) or None when over a write limit).

    A reshard committed after this process read its routing table closes shards the records may have been routed
    to: the write then fails as a whole and is routed again once, on fresh shards."""
    limited = ctx.env.settings.kinesis_throughput_limits
    for attempt in range(2):
        items = [(_route(s, key, explicit), key, data) for key, explicit, data in records]
        try:
            placed = await ctx.env.db.write(store.put_records, s.id, items, limited)
        except store.ShardClosed:
            ctx.env.get(STREAMS).drop(s.cache_key)
            if attempt == 0:
                s = await resolve_arn(ctx, s.arn, action)
            continue
        metrics.kinesis_put(s.account, s.region, s.name, len(placed) - placed.count(None))
        return items, placed
    raise resharding()


async def put_record(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = readable(await resolve(ctx, p, action="kinesis:PutRecord"))
    data, key = p["Data"], p.get("PartitionKey") or ""
    _check_record(s, data, p.get("PartitionKey"), "")
    ordering = p.get("SequenceNumberForOrdering")
    if ordering is not None and parse_sequence(ordering) is None:
        raise invalid(f"ExclusiveMinimumSequenceNumber {ordering} used in PutRecord on stream {s.name} is invalid.")
    ((idx, _, _),), (placed,) = await _append(ctx, s, [(key, p.get("ExplicitHashKey"), data)], "kinesis:PutRecord")
    if placed is None:
        raise write_throttled(shard_id(idx), s.name, s.account)
    return {"ShardId": shard_id(idx), "SequenceNumber": sequence_number(*placed), "EncryptionType": s.encryption}


async def put_records(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = readable(await resolve(ctx, p, action="kinesis:PutRecords"))
    records: list[Unrouted] = []
    total = 0
    for i, rec in enumerate(p["Records"]):
        data, key = rec["Data"], rec.get("PartitionKey") or ""
        _check_record(s, data, rec.get("PartitionKey"), f"records.{i + 1}.member.")
        total += len(data) + len(key.encode())
        records.append((key, rec.get("ExplicitHashKey"), data))
    if total > MAX_PUT_RECORDS_BYTES:
        raise invalid(f"Records size exceeds {MAX_PUT_RECORDS_BYTES // (1024 * 1024)} MB limit")
    items, results = await _append(ctx, s, records, "kinesis:PutRecords")
    entries: list[dict[str, str]] = []
    for (idx, _, _), placed in zip(items, results, strict=True):
        if placed is None:
            err = write_throttled(shard_id(idx), s.name, s.account)
            entries.append({"ErrorCode": err.code, "ErrorMessage": err.message})
        else:
            entries.append({"SequenceNumber": sequence_number(*placed), "ShardId": shard_id(placed[0])})
    failed = sum(1 for e in entries if "ErrorCode" in e)
    return {"FailedRecordCount": failed, "Records": entries, "EncryptionType": s.encryption}


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
        raise read_throttled(shard_id(pos.shard), READ_CALLS_PER_S, READ_BYTES_PER_S // (1024 * 1024))
    window[1] += 1
    return window


async def shard_row(ctx: RequestContext, s: Stream, name: str) -> Row:
    idx = shard_index(name)
    row = await ctx.env.db.read(store.shard, s.id, idx) if idx is not None else None
    if row is None:
        raise shard_not_found(name, s.name, s.account)
    return row


async def start_after(
    ctx: RequestContext, s: Stream, row: Row, kind: str, seq_text: str | None, at: datetime | None, op: str
) -> int:
    """Where reading starts (the counter of the last record before it) for an iterator type or starting position."""
    idx: int = row["idx"]
    seq_start: int = row["seq_start"]
    next_seq: int = row["next_seq"]
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
        return max(parsed[1] - 1, seq_start) if kind == "AT_SEQUENCE_NUMBER" else parsed[1]
    if kind == "TRIM_HORIZON":
        return seq_start
    if kind == "LATEST":
        return next_seq - 1
    if kind == "AT_TIMESTAMP":
        if at is None:
            raise invalid("Timestamp is required for AT_TIMESTAMP.")
        first = await ctx.env.db.read(store.first_at, s.id, idx, clock.to_ms(at))
        return (first if first is not None else next_seq) - 1
    raise invalid(f"Invalid ShardIteratorType {kind}.")


async def get_shard_iterator(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = readable(await resolve(ctx, p, action="kinesis:GetShardIterator"))
    row = await shard_row(ctx, s, p["ShardId"])
    after = await start_after(
        ctx, s, row, p["ShardIteratorType"], p.get("StartingSequenceNumber"), p.get("Timestamp"), "GetShardIterator"
    )
    position = Position(s.id, s.created_at, row["idx"], after, clock.now_ms())
    return {"ShardIterator": iterators.encode(ctx.env, ShardIterator(position, s.account, s.region, s.name))}


async def get_records(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    now = clock.now_ms()
    it = iterators.decode(ctx.env, p["ShardIterator"], now)
    if ctx.authenticated:  # an iterator is no grant: the stream's policy decides as for GetShardIterator
        stream = await find(ctx, it.account, it.region, it.name)
        authorize(ctx, it.account, it.region, it.name, stream, "kinesis:GetRecords")
    pos = it.position
    limit = p.get("Limit") or 10_000
    window = _read_allowed(pos) if ctx.env.settings.kinesis_throughput_limits else None
    result = await ctx.env.db.read(read_batch, pos, limit, now)
    if result is None:
        raise iterator_target_gone()
    out, last, _more = result
    records, behind = len(out["Records"]), out["MillisBehindLatest"]
    metrics.kinesis_read(it.account, it.region, it.name, shard_id(pos.shard), metrics.GET_RECORDS, records, behind)
    if window is not None:
        window[2] += sum(len(r["Data"]) + len(r.get("PartitionKey", "")) for r in out["Records"])
    if "ChildShards" not in out:  # at the end of a closed shard there is no next iterator
        following = Position(pos.stream_id, pos.created_at, pos.shard, last, now)
        out["NextShardIterator"] = iterators.encode(ctx.env, ShardIterator(following, it.account, it.region, it.name))
    return out


def read_batch(
    conn: Connection, pos: Position, limit: int, now: int, max_bytes: int = MAX_GET_RECORDS_BYTES
) -> tuple[dict[str, Any], int, bool] | None:
    """Records after a position in one read transaction: (GetRecords' answer without NextShardIterator, the counter
    of the last record read, whether more records wait); ChildShards when the read reached the end of a closed
    shard. None: the stream or shard is gone."""
    row = store.shard(conn, pos.stream_id, pos.shard)
    stream = store.stream_by_id(conn, pos.stream_id)
    if row is None or stream is None or stream["created_at"] != pos.created_at or stream["status"] == "DELETING":
        return None
    oldest = store.oldest_kept(stream, now)
    rows = store.read_records(conn, pos.stream_id, pos.shard, pos.after, limit, oldest)
    records: list[dict[str, Any]] = []
    size, last, full = 0, pos.after, False
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


HANDLERS = {
    "PutRecord": put_record,
    "PutRecords": put_records,
    "GetShardIterator": get_shard_iterator,
    "GetRecords": get_records,
}
