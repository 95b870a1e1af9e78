"""Kinesis queue operations: CreateQueue, DescribeQueue, ListQueues, UpdateQueue, DeleteQueue, and receiving records
from a queue with visibility timeouts and built-in dead-letter handling (Receive/Acknowledge/UpdateVisibility on both
paths, RestoreDeadLetterQueueRecords). The state lives in queue_store; this module checks requests and shapes
answers."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.long_poll import long_poll
from broker.services.kinesis import queue_store, store
from broker.services.kinesis.consumers import MAX_CONSUMERS
from broker.services.kinesis.errors import (
    consumer_and_queue_limit,
    queue_changed_meanwhile,
    queue_creating,
    queue_not_active,
    queue_not_found,
    queues_changing,
    receipt_invalid,
    receipt_not_in_flight,
    receipt_other_path,
    receipt_other_queue,
    receipt_stale,
    validation,
)
from broker.services.kinesis.resources import (
    QUEUE,
    check_created,
    display_name,
    find,
    list_page,
    stream_of,
    stream_to_attach,
)
from broker.services.kinesis.streams import (
    MAX_COUNTER,
    Row,
    random_id,
    row_status,
    sequence_number,
    shard_wake_key,
    stream_arn_of,
)
from broker.services.kinesis.tag_rules import check_tags

DEFAULT_VISIBILITY_S = 30
DEFAULT_MAX_RECEIVE = 6
DEFAULT_WAIT_S = 9
DEFAULT_LIMIT = 10
HANDLE_PREFIX = "AQEB"


def queue_arn(row: Row) -> str:
    return f"arn:aws:kinesis:{row['region']}:{row['account']}:queue/{row['queue_id']}"


def _attributes(row: Row) -> dict[str, Any]:
    dead: dict[str, Any] = {"TargetType": "NONE"}
    if row["max_receive"] is not None:
        dead = {"TargetType": "BUILT_IN", "MaxReceiveCount": row["max_receive"]}
    return {"VisibilityTimeoutSeconds": row["visibility"], "DeadLetterConfiguration": dead}


def _description(row: Row, stream: Row, status: str) -> dict[str, Any]:
    position: dict[str, Any] = {"Type": row["start_type"]}
    # While CREATING the answer echoes the request; from ACTIVE on it always has the effective starting time.
    if status != "CREATING" or row["start_type"] == "AT_TIMESTAMP":
        position["Timestamp"] = clock.to_datetime(row["start_at"])
    return {
        "QueueName": display_name(row),
        "QueueARN": queue_arn(row),
        "QueueStatus": status,
        "QueueCreationTimestamp": clock.to_datetime(row["created_at"]),
        "StreamConfigurationList": [{"StreamARN": stream_arn_of(stream), "StartingPosition": position}],
        "QueueAttributes": _attributes(row),
    }


async def _describe(ctx: RequestContext, row: Row) -> dict[str, Any]:
    stream = await stream_of(ctx, QUEUE, row, queue_arn(row))
    return _description(row, stream, row_status(row, clock.now_ms()))


def _dead_letter(config: dict[str, Any] | None, default: int | None) -> int | None:
    """MaxReceiveCount of a DeadLetterConfiguration (None: dead-letter handling off)."""
    if config is None:
        return default
    count: int | None = config.get("MaxReceiveCount")
    if config["TargetType"] == "BUILT_IN":
        if count is None:
            raise validation("MaxReceiveCount is required when TargetType is BUILT_IN.")
        return count
    if count is not None:
        raise validation("MaxReceiveCount cannot be specified when TargetType is NONE.")
    return None


# -- definitions -------------------------------------------------------------------------------------------------
async def create_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    configs = p["StreamConfigurationList"]
    if len(configs) != 1:
        raise validation("StreamConfigurationList must contain exactly one entry: a queue reads one data stream.")
    config = configs[0]
    position = config.get("StartingPosition") or {"Type": "LATEST"}
    kind, at = position["Type"], position.get("Timestamp")
    if kind == "AT_TIMESTAMP" and at is None:
        raise validation("StartingPosition Timestamp is required when Type is AT_TIMESTAMP.")
    if kind != "AT_TIMESTAMP" and at is not None:
        raise validation(f"StartingPosition Timestamp cannot be specified when Type is {kind}.")
    attrs = p.get("QueueAttributes") or {}
    max_receive = _dead_letter(attrs.get("DeadLetterConfiguration"), DEFAULT_MAX_RECEIVE)
    tags = p.get("Tags") or {}
    check_tags(tags)
    s, now = await stream_to_attach(ctx, QUEUE, config["StreamARN"])
    earliest = max(s.created_at, now - s.retention_hours * 3_600_000, int(s.attrs.get("ExpiredBefore", 0)))
    if kind == "AT_TIMESTAMP" and at is not None:
        start_at = max(clock.to_ms(at), earliest)
    else:
        start_at = now if kind == "LATEST" else earliest  # TRIM_HORIZON
    values = {
        "account": ctx.account,
        "region": ctx.region,
        "name": p["QueueName"],
        "queue_id": random_id(26),
        "stream_id": s.id,
        "start_type": kind,
        "start_at": start_at,
        "visibility": attrs.get("VisibilityTimeoutSeconds", DEFAULT_VISIBILITY_S),
        "max_receive": max_receive,
        "status": "CREATING",
        "status_until": now + ctx.env.settings.kinesis_status_delay_ms,
        "tags": store.dumps(tags),
        "created_at": now,
    }
    outcome = await ctx.env.db.write(queue_store.create_queue, values, clock.to_ms(at) if at else None, MAX_CONSUMERS)
    check_created(QUEUE, outcome, p["QueueName"], ctx.account, s)
    if outcome == "limit":
        raise consumer_and_queue_limit(s.name, MAX_CONSUMERS)
    if outcome == "busy":
        raise queues_changing(queue_store.MAX_CHANGING)
    # AWS answers CREATING whatever the delay; DescribeQueue shows ACTIVE once it has passed.
    stream = {"account": s.account, "region": s.region, "name": s.name}
    return {"QueueDescription": _description(values, stream, "CREATING")}


async def describe_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"QueueDescription": await _describe(ctx, await find(ctx, QUEUE, p["QueueARN"], deleting=True))}


async def list_queues(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def summary(row: Row, now: int) -> dict[str, Any]:
        return {
            "QueueName": display_name(row),
            "QueueARN": queue_arn(row),
            "QueueStatus": row_status(row, now),
            "QueueCreationTimestamp": clock.to_datetime(row["created_at"]),
        }

    summaries, token = await list_page(ctx, QUEUE, p, summary)
    return {"QueueSummaries": summaries, **({"NextToken": token} if token else {})}


async def update_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await find(ctx, QUEUE, p["QueueARN"])
    attrs = p["QueueAttributes"]
    if "VisibilityTimeoutSeconds" not in attrs and "DeadLetterConfiguration" not in attrs:
        raise validation("QueueAttributes must set VisibilityTimeoutSeconds, DeadLetterConfiguration or both.")
    now = clock.now_ms()
    state = row_status(row, now)
    if state != "ACTIVE":
        raise queue_not_active(queue_arn(row), state)
    values: dict[str, Any] = {"status": "UPDATING", "status_until": now + ctx.env.settings.kinesis_status_delay_ms}
    if "VisibilityTimeoutSeconds" in attrs:
        values["visibility"] = attrs["VisibilityTimeoutSeconds"]
    if "DeadLetterConfiguration" in attrs:
        values["max_receive"] = _dead_letter(attrs["DeadLetterConfiguration"], None)
    if not await ctx.env.db.write(queue_store.update_queue, row["id"], values, now):
        raise queue_changed_meanwhile(queue_arn(row))
    return {"QueueDescription": {**await _describe(ctx, {**row, **values}), "QueueStatus": "UPDATING"}}


async def delete_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await find(ctx, QUEUE, p["QueueARN"])
    until = clock.now_ms() + ctx.env.settings.kinesis_status_delay_ms
    if not await ctx.env.db.write(queue_store.delete_queue, row["id"], until):
        raise queue_not_found(p["QueueARN"])
    return {}


# -- receipt handles ---------------------------------------------------------------------------------------------
def _handle(path: str, queue_row_id: int, shard: int, seq: int, token: str) -> str:
    raw = f"{path}:{queue_row_id}:{shard}:{seq}:{token}".encode()
    return HANDLE_PREFIX + base64.urlsafe_b64encode(raw).decode()


def _parse_handle(text: str, path: str, queue_row_id: int) -> tuple[int, int, str] | ServiceError:
    """(shard, seq, receipt token) of a receipt handle this queue issued on `path`, or why it is not one."""
    try:
        raw = base64.urlsafe_b64decode(text.removeprefix(HANDLE_PREFIX).encode()).decode()
        kind, queue, shard, seq, token = raw.split(":")
        numbers = int(queue), int(shard), int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return receipt_invalid()
    in_range = 0 <= numbers[0] < 2**31 and 0 <= numbers[1] < 2**31 and 0 <= numbers[2] < MAX_COUNTER  # column types
    if not text.startswith(HANDLE_PREFIX) or not in_range or not token:
        return receipt_invalid()
    if kind != path:
        return receipt_other_path("ReceiveDeadLetterQueueRecords" if path == "d" else "ReceiveQueueRecords")
    if numbers[0] != queue_row_id:
        return receipt_other_queue()
    return numbers[1], numbers[2], token


# -- receiving ---------------------------------------------------------------------------------------------------
def _check_receivable(row: Row) -> None:
    if row_status(row, clock.now_ms()) == "CREATING":
        raise queue_creating(queue_arn(row))


async def _receive(ctx: RequestContext, p: dict[str, Any], dead: bool) -> dict[str, Any]:
    row = await find(ctx, QUEUE, p["QueueARN"])
    _check_receivable(row)
    n = p.get("Limit") or DEFAULT_LIMIT
    vt = p.get("VisibilityTimeoutSeconds")
    vt_ms = (row["visibility"] if vt is None else vt) * 1000
    wait = p.get("WaitTimeSeconds") or DEFAULT_WAIT_S
    db = ctx.env.db
    token = ids.token()

    async def attempt() -> list[Row]:
        got = await db.write(queue_store.receive, row["id"], n, vt_ms, clock.now_ms(), token, dead)
        if got is None:
            raise queue_not_found(p["QueueARN"])
        return got

    async def keys() -> list[str]:
        keys = [queue_store.wake_key(row["id"])]
        if not dead:  # new records in any shard too (read each time: a reshard may have added shards)
            keys += [shard_wake_key(row["stream_id"], s["idx"]) for s in await db.read(store.shards, row["stream_id"])]
        return keys

    got = await attempt()  # records are often there: no shard list to read for the watch
    if not got:
        got = await long_poll(
            ctx.env.notifier,
            keys,
            attempt,
            wait,
            ctx.env.settings.long_poll_recheck_seconds,
            lambda: db.read(queue_store.next_visible, row["id"], dead, clock.now_ms()),
        )
    path = "d" if dead else "n"
    records = []
    for x in got:
        record: dict[str, Any] = {
            "ReceiptHandle": _handle(path, row["id"], x["shard"], x["seq"], token),
            "RecordId": sequence_number(x["shard"], x["seq"]),
            "Data": x["data"],
            "ApproximateArrivalTimestamp": clock.to_datetime(x["arrived_at"]),
            "FirstReceiveTimestamp": clock.to_datetime(x["first_received_at"]),
            "ReceiveCount": x["receive_count"],
        }
        if x["partition_key"]:  # AUTO distribution stores records without one
            record["PartitionKey"] = x["partition_key"]
        records.append(record)
    return {"QueueRecords": records}


async def receive_queue_records(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _receive(ctx, p, dead=False)


async def receive_dead_letter_queue_records(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _receive(ctx, p, dead=True)


def _failed(handle: str, err: ServiceError) -> dict[str, str]:
    return {"ReceiptHandle": handle, "ErrorCode": err.code, "ErrorMessage": err.message}


async def _per_entry(
    ctx: RequestContext,
    p: dict[str, Any],
    path: str,
    work: Callable[..., list[bool]],
    stale: Callable[[], ServiceError],
    *extra: int,
) -> dict[str, Any]:
    """Run a batch operation entry by entry: handles that are not this queue's fail alone; `work` answers for the
    rest whether each took effect (`stale` is the failure of those that did not)."""
    row = await find(ctx, QUEUE, p["QueueARN"])
    entries = p["Entries"]
    parsed = [_parse_handle(e["ReceiptHandle"], path, row["id"]) for e in entries]
    items = [
        (*x, e["VisibilityTimeoutSeconds"]) if "VisibilityTimeoutSeconds" in e else x
        for x, e in zip(parsed, entries, strict=True)
        if not isinstance(x, ServiceError)
    ]
    done = iter(await ctx.env.db.write(work, row["id"], items, *extra) if items else [])
    out: dict[str, list[dict[str, str]]] = {"Successful": [], "Failed": []}
    for e, x in zip(entries, parsed, strict=True):
        handle = e["ReceiptHandle"]
        if isinstance(x, ServiceError):
            out["Failed"].append(_failed(handle, x))
        elif next(done):
            out["Successful"].append({"ReceiptHandle": handle})
        else:
            out["Failed"].append(_failed(handle, stale()))
    return out


async def acknowledge_queue_records(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _per_entry(ctx, p, "n", queue_store.acknowledge, receipt_stale)


async def acknowledge_dead_letter_queue_records(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _per_entry(ctx, p, "d", queue_store.acknowledge, receipt_stale)


async def update_queue_records_visibility(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _per_entry(ctx, p, "n", queue_store.change_visibility, receipt_not_in_flight, clock.now_ms())


async def update_dead_letter_queue_records_visibility(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _per_entry(ctx, p, "d", queue_store.change_visibility, receipt_not_in_flight, clock.now_ms())


async def restore_dead_letter_queue_records(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _per_entry(ctx, p, "d", queue_store.restore, receipt_stale, clock.now_ms())


HANDLERS = {
    "CreateQueue": create_queue,
    "DescribeQueue": describe_queue,
    "ListQueues": list_queues,
    "UpdateQueue": update_queue,
    "DeleteQueue": delete_queue,
    "ReceiveQueueRecords": receive_queue_records,
    "AcknowledgeQueueRecords": acknowledge_queue_records,
    "UpdateQueueRecordsVisibility": update_queue_records_visibility,
    "ReceiveDeadLetterQueueRecords": receive_dead_letter_queue_records,
    "AcknowledgeDeadLetterQueueRecords": acknowledge_dead_letter_queue_records,
    "UpdateDeadLetterQueueRecordsVisibility": update_dead_letter_queue_records_visibility,
    "RestoreDeadLetterQueueRecords": restore_dead_letter_queue_records,
}
