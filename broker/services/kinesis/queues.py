"""Kinesis queues: CreateQueue, DescribeQueue, ListQueues, UpdateQueue, DeleteQueue, and receiving records from a
queue with visibility timeouts and built-in dead-letter handling (Receive/Acknowledge/UpdateVisibility on both
paths, RestoreDeadLetterQueueRecords). The state lives in queue_store; this module checks requests and shapes
answers."""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import string
from collections.abc import Callable
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.long_poll import long_poll
from broker.services.kinesis import iterators, queue_store, store
from broker.services.kinesis.consumers import MAX_CONSUMERS
from broker.services.kinesis.operations import check_tags, resolve
from broker.services.kinesis.streams import MAX_COUNTER, invalid, sequence_number, shard_wake_key, status_at

QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):queue/([a-z0-9]{1,64})$")
DEFAULT_VISIBILITY_S = 30
DEFAULT_MAX_RECEIVE = 6
DEFAULT_WAIT_S = 9
DEFAULT_LIMIT = 10
DEFAULT_LIST = 100
HANDLE_PREFIX = "AQEB"


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def queue_arn(row: dict) -> str:
    return f"arn:aws:kinesis:{row['region']}:{row['account']}:queue/{row['queue_id']}"


def _name(row: dict) -> str:
    return row["name"].split("~")[-1]  # a deleted queue's name is "~<row id>~<name>"


def _not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Queue {arn} not found.")


async def find_by_arn(
    ctx: RequestContext, arn: str, pattern: re.Pattern, getter: Callable, kind: str, deleting: bool = False
) -> dict:
    """The row of the queue or channel an ARN names (region, account, id); one being deleted only with `deleting`
    (Describe shows it for the status delay)."""
    m = pattern.match(arn)
    row = await ctx.env.db.read(getter, m.group(2), m.group(1), m.group(3)) if m else None
    if row is None or (row["status"] == "DELETING" and not (deleting and clock.now_ms() < row["status_until"])):
        raise ServiceError("ResourceNotFoundException", f"{kind} {arn} not found.")
    return row


async def find(ctx: RequestContext, arn: str, deleting: bool = False) -> dict:
    return await find_by_arn(ctx, arn, QUEUE_ARN, queue_store.get_queue, "Queue", deleting)


def stream_arn_of(stream: dict) -> str:
    return f"arn:aws:kinesis:{stream['region']}:{stream['account']}:stream/{stream['name'].split('~')[-1]}"


def _attributes(row: dict) -> dict[str, Any]:
    dead: dict[str, Any] = {"TargetType": "NONE"}
    if row["max_receive"] is not None:
        dead = {"TargetType": "BUILT_IN", "MaxReceiveCount": row["max_receive"]}
    return {"VisibilityTimeoutSeconds": row["visibility"], "DeadLetterConfiguration": dead}


def _description(row: dict, stream: dict, status: str) -> dict[str, Any]:
    position: dict[str, Any] = {"Type": row["start_type"]}
    # While CREATING the answer echoes the request; from ACTIVE on it always has the effective starting time.
    if status != "CREATING" or row["start_type"] == "AT_TIMESTAMP":
        position["Timestamp"] = clock.to_datetime(row["start_at"])
    return {
        "QueueName": _name(row),
        "QueueARN": queue_arn(row),
        "QueueStatus": status,
        "QueueCreationTimestamp": clock.to_datetime(row["created_at"]),
        "StreamConfigurationList": [{"StreamARN": stream_arn_of(stream), "StartingPosition": position}],
        "QueueAttributes": _attributes(row),
    }


async def _describe(ctx: RequestContext, row: dict) -> dict[str, Any]:
    stream = await ctx.env.db.read(store.stream_by_id, row["stream_id"])
    if stream is None:  # the stream's rows went before the queue's (a forced stream deletion)
        raise _not_found(queue_arn(row))
    return _description(row, stream, status_at(row["status"], row["status_until"], clock.now_ms()))


def _dead_letter(config: dict | None, default: int | None) -> int | None:
    """MaxReceiveCount of a DeadLetterConfiguration (None: dead-letter handling off)."""
    if config is None:
        return default
    count = config.get("MaxReceiveCount")
    if config["TargetType"] == "BUILT_IN":
        if count is None:
            raise validation("MaxReceiveCount is required when TargetType is BUILT_IN.")
        return count
    if count is not None:
        raise validation("MaxReceiveCount cannot be specified when TargetType is NONE.")
    return None


def _new_queue_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(random.choices(alphabet, k=26))  # noqa: S311


# -- definitions -------------------------------------------------------------------------------------------------
async def create_queue(ctx: RequestContext, p: dict) -> dict:
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
    s = await resolve(ctx, {"StreamARN": config["StreamARN"]}, fresh=True)
    if (s.account, s.region) != (ctx.account, ctx.region):
        raise invalid("A queue must be created in the account and Region of its data stream.")
    now = clock.now_ms()
    state = s.status_at(now)
    if state != "ACTIVE":
        raise ServiceError(
            "ResourceInUseException", f"Stream {s.name} under account {s.account} not ACTIVE, instead in state {state}"
        )
    if s.mode != "ON_DEMAND":
        raise validation(f"Queues are supported only on data streams in on-demand capacity mode; {s.name} is not.")
    earliest = max(s.created_at, now - s.retention_hours * 3_600_000, int(s.attrs.get("ExpiredBefore", 0)))
    start_at = {"LATEST": now, "TRIM_HORIZON": earliest}.get(kind) or max(clock.to_ms(at), earliest)
    values = {
        "account": ctx.account,
        "region": ctx.region,
        "name": p["QueueName"],
        "queue_id": _new_queue_id(),
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
    if outcome == "exists":
        raise ServiceError(
            "ResourceInUseException", f"Queue {p['QueueName']} under account {ctx.account} already exists."
        )
    if outcome == "gone":
        raise ServiceError("ResourceInUseException", f"Stream {s.name} under account {s.account} is being deleted.")
    if outcome == "limit":
        raise ServiceError(
            "LimitExceededException", f"Stream {s.name} already has {MAX_CONSUMERS} registered consumers and queues."
        )
    if outcome == "busy":
        raise ServiceError(
            "LimitExceededException",
            f"At most {queue_store.MAX_CHANGING} queues of an account and Region can be CREATING or DELETING at once.",
        )
    # AWS answers CREATING whatever the delay; DescribeQueue shows ACTIVE once it has passed.
    stream = {"account": s.account, "region": s.region, "name": s.name}
    return {"QueueDescription": _description(values, stream, "CREATING")}


async def describe_queue(ctx: RequestContext, p: dict) -> dict:
    return {"QueueDescription": await _describe(ctx, await find(ctx, p["QueueARN"], deleting=True))}


async def filtered_streams(ctx: RequestContext, filters: list[dict] | None) -> dict[int, dict] | None:
    """The streams a StreamFilter of ListQueues/ListChannels names, by row id (None: no filter). A stream that does
    not exist, or was created at another time than the filter says, matches nothing."""
    if filters is None:
        return None
    streams = {}
    for f in filters:
        try:
            s = await resolve(ctx, {"StreamARN": f["StreamARN"]}, fresh=True)
        except ServiceError:
            continue
        created = f.get("StreamCreationTimestamp")
        if created is None or clock.to_ms(created) // 1000 == s.created_at // 1000:
            streams[s.id] = {"account": s.account, "region": s.region, "name": s.name, "created_at": s.created_at}
    return streams


async def list_page(
    ctx: RequestContext, p: dict, token_key: str, lister: Callable, summary: Callable[[dict, int], dict]
) -> tuple[list[dict], str | None]:
    """One page of ListQueues or ListChannels: by name, `StreamFilter` honoured, at most 100 per page; the summaries
    (`summary` of each row, plus its stream) and the NextToken, if more follow."""
    now = clock.now_ms()
    after = ""
    if p.get("NextToken"):
        state = iterators.decode_token(p["NextToken"], now)
        if not isinstance(state.get(token_key), str):
            raise invalid("Invalid NextToken.")
        after = state[token_key]
    streams = await filtered_streams(ctx, p.get("StreamFilter"))
    limit = min(p.get("MaxResults") or DEFAULT_LIST, DEFAULT_LIST)
    on = list(streams) if streams is not None else None
    rows = await ctx.env.db.read(lister, ctx.account, ctx.region, after, limit + 1, on)
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
    token = iterators.encode_token({token_key: rows[limit - 1]["name"]}, now) if len(rows) > limit else None
    return summaries, token


async def list_queues(ctx: RequestContext, p: dict) -> dict:
    def summary(row: dict, now: int) -> dict:
        return {
            "QueueName": _name(row),
            "QueueARN": queue_arn(row),
            "QueueStatus": status_at(row["status"], row["status_until"], now),
            "QueueCreationTimestamp": clock.to_datetime(row["created_at"]),
        }

    summaries, token = await list_page(ctx, p, "queues_after", queue_store.list_queues, summary)
    return {"QueueSummaries": summaries, **({"NextToken": token} if token else {})}


async def update_queue(ctx: RequestContext, p: dict) -> dict:
    row = await find(ctx, p["QueueARN"])
    attrs = p["QueueAttributes"]
    if "VisibilityTimeoutSeconds" not in attrs and "DeadLetterConfiguration" not in attrs:
        raise validation("QueueAttributes must set VisibilityTimeoutSeconds, DeadLetterConfiguration or both.")
    now = clock.now_ms()
    state = status_at(row["status"], row["status_until"], now)
    if state != "ACTIVE":
        raise ServiceError("ResourceInUseException", f"Queue {queue_arn(row)} is not ACTIVE, instead in state {state}.")
    values: dict[str, Any] = {"status": "UPDATING", "status_until": now + ctx.env.settings.kinesis_status_delay_ms}
    if "VisibilityTimeoutSeconds" in attrs:
        values["visibility"] = attrs["VisibilityTimeoutSeconds"]
    if "DeadLetterConfiguration" in attrs:
        values["max_receive"] = _dead_letter(attrs["DeadLetterConfiguration"], None)
    if not await ctx.env.db.write(queue_store.update_queue, row["id"], values, now):
        raise ServiceError("ResourceInUseException", f"Queue {queue_arn(row)} is not ACTIVE (changed meanwhile).")
    return {"QueueDescription": {**await _describe(ctx, {**row, **values}), "QueueStatus": "UPDATING"}}


async def delete_queue(ctx: RequestContext, p: dict) -> dict:
    row = await find(ctx, p["QueueARN"])
    until = clock.now_ms() + ctx.env.settings.kinesis_status_delay_ms
    if not await ctx.env.db.write(queue_store.delete_queue, row["id"], until):
        raise _not_found(p["QueueARN"])
    return {}


# -- receipt handles ---------------------------------------------------------------------------------------------
def _handle(path: str, queue_row_id: int, shard: int, seq: int, token: str) -> str:
    raw = f"{path}:{queue_row_id}:{shard}:{seq}:{token}".encode()
    return HANDLE_PREFIX + base64.urlsafe_b64encode(raw).decode()


def _parse_handle(text: str, path: str, queue_row_id: int) -> tuple[int, int, str] | str:
    """(shard, seq, receipt token) of a receipt handle this queue issued on `path`, or why it is not one."""
    try:
        raw = base64.urlsafe_b64decode(text.removeprefix(HANDLE_PREFIX).encode()).decode()
        kind, queue, shard, seq, token = raw.split(":")
        numbers = int(queue), int(shard), int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "The receipt handle is not valid."
    in_range = 0 <= numbers[0] < 2**31 and 0 <= numbers[1] < 2**31 and 0 <= numbers[2] < MAX_COUNTER  # column types
    if not text.startswith(HANDLE_PREFIX) or not in_range or not token:
        return "The receipt handle is not valid."
    if kind != path:
        which = "ReceiveDeadLetterQueueRecords" if path == "d" else "ReceiveQueueRecords"
        return f"The receipt handle was not issued by {which}."
    if numbers[0] != queue_row_id:
        return "The receipt handle was issued by a different queue."
    return numbers[1], numbers[2], token


# -- receiving ---------------------------------------------------------------------------------------------------
def _active(row: dict) -> None:
    state = status_at(row["status"], row["status_until"], clock.now_ms())
    if state == "CREATING":
        raise ServiceError("ResourceNotFoundException", f"Queue {queue_arn(row)} is not ACTIVE yet (CREATING).")


async def _receive(ctx: RequestContext, p: dict, dead: bool) -> dict:
    row = await find(ctx, p["QueueARN"])
    _active(row)
    n = p.get("Limit") or DEFAULT_LIMIT
    vt = p.get("VisibilityTimeoutSeconds")
    vt_ms = (row["visibility"] if vt is None else vt) * 1000
    wait = p.get("WaitTimeSeconds") or DEFAULT_WAIT_S
    db = ctx.env.db
    token = ids.token()

    async def attempt() -> list[dict] | None:
        got = await db.write(queue_store.receive, row["id"], n, vt_ms, clock.now_ms(), token, dead)
        if got is None:
            raise _not_found(p["QueueARN"])
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


async def receive_queue_records(ctx: RequestContext, p: dict) -> dict:
    return await _receive(ctx, p, dead=False)


async def receive_dead_letter_queue_records(ctx: RequestContext, p: dict) -> dict:
    return await _receive(ctx, p, dead=True)


async def _per_entry(
    ctx: RequestContext, p: dict, path: str, work: Callable[..., list[bool]], stale: str, *extra: Any
) -> dict:
    """Run a batch operation entry by entry: handles that are not this queue's fail alone; `work` answers for the
    rest whether each took effect."""
    row = await find(ctx, p["QueueARN"])
    entries = p["Entries"]
    parsed = [_parse_handle(e["ReceiptHandle"], path, row["id"]) for e in entries]
    items = [
        (*x, e["VisibilityTimeoutSeconds"]) if "VisibilityTimeoutSeconds" in e else x
        for x, e in zip(parsed, entries, strict=True)
        if not isinstance(x, str)
    ]
    done = iter(await ctx.env.db.write(work, row["id"], items, *extra) if items else [])
    out: dict[str, list] = {"Successful": [], "Failed": []}
    for e, x in zip(entries, parsed, strict=True):
        handle = e["ReceiptHandle"]
        if isinstance(x, str):
            out["Failed"].append({"ReceiptHandle": handle, "ErrorCode": "InvalidArgumentException", "ErrorMessage": x})
        elif next(done):
            out["Successful"].append({"ReceiptHandle": handle})
        else:
            out["Failed"].append(
                {"ReceiptHandle": handle, "ErrorCode": "InvalidArgumentException", "ErrorMessage": stale}
            )
    return out


STALE = "The receipt handle has expired: the record was received again since, or the queue was deleted."
NOT_IN_FLIGHT = (
    "The record is not in flight under this receipt handle: its visibility timeout passed, or it was received again."
)


async def acknowledge_queue_records(ctx: RequestContext, p: dict) -> dict:
    return await _per_entry(ctx, p, "n", queue_store.acknowledge, STALE)


async def acknowledge_dead_letter_queue_records(ctx: RequestContext, p: dict) -> dict:
    return await _per_entry(ctx, p, "d", queue_store.acknowledge, STALE)


async def update_queue_records_visibility(ctx: RequestContext, p: dict) -> dict:
    return await _per_entry(ctx, p, "n", queue_store.change_visibility, NOT_IN_FLIGHT, clock.now_ms())


async def update_dead_letter_queue_records_visibility(ctx: RequestContext, p: dict) -> dict:
    return await _per_entry(ctx, p, "d", queue_store.change_visibility, NOT_IN_FLIGHT, clock.now_ms())


async def restore_dead_letter_queue_records(ctx: RequestContext, p: dict) -> dict:
    return await _per_entry(ctx, p, "d", queue_store.restore, STALE, clock.now_ms())


# -- tags (TagResource, UntagResource, ListTagsForResource with a queue ARN) -------------------------------------
async def change_tags(ctx: RequestContext, arn: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
    row = await find(ctx, arn)
    done = await ctx.env.db.write(
        queue_store.modify_tags, row["id"], lambda text: store.dumps(change(json.loads(text)))
    )
    if not done:
        raise _not_found(arn)


async def tags(ctx: RequestContext, arn: str) -> dict[str, str]:
    return json.loads((await find(ctx, arn))["tags"])


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
