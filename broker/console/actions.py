"""The console's actions. Each runs the service's own operation (`Operations.call`: the protocol layer's input
checks, then the handler), so it obeys validation and storage exactly as an API call; peek, which no operation
offers without changing visibility, reads the queue's rows read-only."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from broker import clock
from broker.console import store
from broker.console.operations import Operations
from broker.context import RequestContext
from broker.services.sqs import queues
from broker.services.sqs.fifo_store import sequence_number

Form = Mapping[str, str]
Action = Callable[[RequestContext, Operations, Form], Awaitable[dict[str, Any]]]

PEEK_MAX = 10


def _pick(form: Form, *names: str, numbers: tuple[str, ...] = ()) -> dict[str, Any]:
    """The non-empty form fields among `names`; `numbers` are sent as integers when they read as one (otherwise as
    given, so the operation's own check reports them)."""
    out: dict[str, Any] = {}
    for name in names:
        value = form.get(name, "")
        if value == "":
            continue
        if name in numbers:
            try:
                out[name] = int(value)
            except ValueError:
                out[name] = value
        else:
            out[name] = value
    return out


def _op(service: str, operation: str, *names: str, numbers: tuple[str, ...] = ()) -> Action:
    async def run(ctx: RequestContext, ops: Operations, form: Form) -> dict[str, Any]:
        return await ops.call(ctx, service, operation, _pick(form, *names, numbers=numbers))

    return run


async def _peek(ctx: RequestContext, ops: Operations, form: Form) -> dict[str, Any]:
    # Peeking shows what a receive would: it needs what ReceiveMessage needs.
    queue = await queues.resolve(ctx, form.get("QueueUrl", ""), "sqs:ReceiveMessage")
    try:
        limit = min(max(int(form.get("MaxNumberOfMessages") or PEEK_MAX), 1), 100)
    except ValueError:
        limit = PEEK_MAX
    rows = await ctx.env.db.read(store.peek, queue.id, clock.now_ms(), limit)
    return {"Messages": [_peeked(row) for row in rows]}


def _peeked(row: dict[str, Any]) -> dict[str, Any]:
    """A peeked row under the names ReceiveMessage uses."""
    out: dict[str, Any] = {
        "MessageId": row["message_id"],
        "Body": row["body"],
        "SentTimestamp": clock.to_datetime(row["sent_at"]),
        "ApproximateReceiveCount": row["receive_count"],
    }
    if row["attributes"]:
        out["MessageAttributes"] = json.loads(row["attributes"])
    for key, name in (("group_id", "MessageGroupId"), ("dedup_id", "MessageDeduplicationId")):
        if row[key] is not None:
            out[name] = row[key]
    if row["seq"] is not None:
        out["SequenceNumber"] = sequence_number(row["seq"])
    return out


async def _put_record(ctx: RequestContext, ops: Operations, form: Form) -> dict[str, Any]:
    params = _pick(form, "StreamName", "PartitionKey", "ExplicitHashKey")
    params["Data"] = _data(form)
    return await ops.call(ctx, "kinesis", "PutRecord", params)


async def _read_shard(ctx: RequestContext, ops: Operations, form: Form) -> dict[str, Any]:
    params = _pick(form, "StreamName", "ShardId", "ShardIteratorType", "StartingSequenceNumber", "Timestamp")
    iterator = await ops.call(ctx, "kinesis", "GetShardIterator", params)
    records = _pick(form, "Limit", numbers=("Limit",))
    records["ShardIterator"] = iterator["ShardIterator"]
    return await ops.call(ctx, "kinesis", "GetRecords", records)


async def _invoke(ctx: RequestContext, ops: Operations, form: Form) -> dict[str, Any]:
    params = _pick(form, "FunctionName", "Qualifier", "InvocationType")
    params["Payload"] = form.get("Payload", "").encode()
    if params.get("InvocationType", "RequestResponse") == "RequestResponse":
        params["LogType"] = "Tail"
    result = await ops.call(ctx, "lambda", "Invoke", params)
    if "LogResult" in result:
        result["LogResult"] = base64.b64decode(result["LogResult"]).decode("utf-8", "replace")
    return result


async def _set_mapping(ctx: RequestContext, ops: Operations, form: Form) -> dict[str, Any]:
    params: dict[str, Any] = _pick(form, "UUID")
    params["Enabled"] = form.get("Enabled", "").lower() == "true"
    return await ops.call(ctx, "lambda", "UpdateEventSourceMapping", params)


def _data(form: Form) -> bytes:
    """Record data as typed, or decoded from base64 when the form says so."""
    text = form.get("Data", "")
    if form.get("DataEncoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            pass  # sent as typed: the user sees what was stored
    return text.encode()


ACTIONS: dict[str, Action] = {
    "sqs.send": _op(
        "sqs",
        "SendMessage",
        "QueueUrl",
        "MessageBody",
        "MessageGroupId",
        "MessageDeduplicationId",
        "DelaySeconds",
        numbers=("DelaySeconds",),
    ),
    "sqs.peek": _peek,
    "sqs.purge": _op("sqs", "PurgeQueue", "QueueUrl"),
    "sqs.redrive": _op(
        "sqs",
        "StartMessageMoveTask",
        "SourceArn",
        "DestinationArn",
        "MaxNumberOfMessagesPerSecond",
        numbers=("MaxNumberOfMessagesPerSecond",),
    ),
    "sqs.cancel-redrive": _op("sqs", "CancelMessageMoveTask", "TaskHandle"),
    "sns.publish": _op("sns", "Publish", "TopicArn", "Message", "Subject", "MessageGroupId", "MessageDeduplicationId"),
    "kinesis.put": _put_record,
    "kinesis.read": _read_shard,
    "lambda.invoke": _invoke,
    "lambda.mapping": _set_mapping,
}


def plain(value: Any) -> Any:
    """A result as JSON can show it: text for bytes that are UTF-8 (else base64), ISO times, ms kept as numbers."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(raw).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    return value
