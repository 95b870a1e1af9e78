"""Amazon SQS operations: one function per AWS operation, independent of the wire protocol."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.long_poll import long_poll
from broker.services.sqs import permissions, redrive, store, validation
from broker.services.sqs.checksums import md5_of_attributes
from broker.services.sqs.enqueue import message_row
from broker.services.sqs.errors import invalid_parameter, missing_parameter
from broker.services.sqs.queues import Queue, cache_key, lookup, name_page, queue_url, resolve
from broker.services.sqs.wire import QUERY_ERROR_CODES

BATCH_LIMIT_BYTES = 1_048_576


# -- queues ------------------------------------------------------------------------------------------------
async def create_queue(ctx: RequestContext, p: dict) -> dict:
    name = p["QueueName"]
    raw = p.get("Attributes") or {}
    fifo = validation.is_fifo_request(raw)
    validation.check_queue_name(name, fifo)
    attrs = validation.normalize_attributes(raw, creating=True, fifo=fifo)
    _check_fifo_settings(attrs)
    arn = f"arn:aws:sqs:{ctx.region}:{ctx.account}:{name}"
    await redrive.check_redrive_policy(ctx, arn, fifo, attrs.get("RedrivePolicy"))
    tags = p.get("tags") or {}
    _check_tags(tags)
    now = clock.now_ms()
    await ctx.env.db.write(_create, ctx.account, ctx.region, name, attrs, tags, now, fifo)
    return {"QueueUrl": queue_url(ctx, ctx.account, name)}


def _check_fifo_settings(attrs: dict[str, str]) -> None:
    if attrs.get("FifoThroughputLimit") == "perMessageGroupId" and attrs.get("DeduplicationScope") == "queue":
        raise ServiceError(
            "InvalidAttributeValue",
            "Invalid value for the parameter FifoThroughputLimit. Reason: perMessageGroupId requires "
            "DeduplicationScope messageGroup.",
        )


def _create(tx, account, region, name, attrs, tags, now, fifo):  # noqa: ANN001, ANN202
    row, created = store.create_queue(tx, account, region, name, attrs, tags, now, fifo)
    if created:
        tx.wake(cache_key(account, region, name))
    return row


async def get_queue_url(ctx: RequestContext, p: dict) -> dict:
    account = p.get("QueueOwnerAWSAccountId") or ctx.account
    queue = await lookup(ctx, account, p["QueueName"])
    return {"QueueUrl": queue_url(ctx, queue.account, queue.name)}


async def list_queues(ctx: RequestContext, p: dict) -> dict:
    prefix = p.get("QueueNamePrefix") or ""
    possible = len(prefix) <= 80 and validation.QUEUE_NAME_CHARS.match(prefix)  # else no name starts like that

    def fetch(conn, after, limit):  # noqa: ANN001, ANN202
        return store.list_queues(conn, ctx.account, ctx.region, prefix, after, limit) if possible else []

    names, token = await name_page(ctx, p, fetch)
    out: dict[str, Any] = {}
    if names:
        out["QueueUrls"] = [queue_url(ctx, ctx.account, n) for n in names]
    if token:
        out["NextToken"] = token
    return out


async def delete_queue(ctx: RequestContext, p: dict) -> dict:
    queue = await _fresh(ctx, p["QueueUrl"])
    await ctx.env.db.write(_delete_queue, queue, clock.now_ms())
    return {}


def _delete_queue(tx, queue: Queue, now: int) -> None:  # noqa: ANN001
    store.delete_queue(tx, {"id": queue.id, "account": queue.account, "region": queue.region, "name": queue.name}, now)
    tx.wake(queue.cache_key)
    tx.wake(f"sqs:{queue.id}")


async def _fresh(ctx: RequestContext, url: str) -> Queue:
    """The queue as stored now (not from the cache): for operations that read or change its attributes."""
    queue = await resolve(ctx, url)
    row = await ctx.env.db.read(store.get_queue, queue.account, queue.region, queue.name)
    if row is None:
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
    return Queue.from_row(row)


async def get_queue_attributes(ctx: RequestContext, p: dict) -> dict:
    names = p.get("AttributeNames") or []
    for n in names:
        if n != "All" and n not in validation.READABLE:
            raise ServiceError("InvalidAttributeName", f"Unknown Attribute {n}.")
    queue = await _fresh(ctx, p["QueueUrl"])
    wanted = set(validation.READABLE) if "All" in names else set(names)
    if not wanted:
        return {}
    out: dict[str, str] = {}
    for k, v in queue.attrs.items():
        if k in wanted:
            out[k] = v
    if "KmsMasterKeyId" in queue.attrs and "KmsDataKeyReusePeriodSeconds" in wanted:
        out.setdefault("KmsDataKeyReusePeriodSeconds", "300")
    if wanted & {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    }:
        counts = await ctx.env.db.read(store.counts, queue.id, clock.now_ms())
        out.update({k: str(v) for k, v in counts.items() if k in wanted})
    if "CreatedTimestamp" in wanted:
        out["CreatedTimestamp"] = str(queue.created_at // 1000)
    if "LastModifiedTimestamp" in wanted:
        out["LastModifiedTimestamp"] = str(queue.modified_at // 1000)
    if "QueueArn" in wanted:
        out["QueueArn"] = queue.arn
    return {"Attributes": out} if out else {}


async def set_queue_attributes(ctx: RequestContext, p: dict) -> dict:
    queue = await _fresh(ctx, p["QueueUrl"])
    changes = validation.normalize_attributes(p.get("Attributes") or {}, creating=False, fifo=queue.fifo)
    _check_fifo_settings({**queue.attrs, **changes})
    if changes.get("RedrivePolicy"):
        await redrive.check_redrive_policy(ctx, queue.arn, queue.fifo, changes["RedrivePolicy"])
    if changes:
        await ctx.env.db.write(_set_attributes, queue, changes, clock.now_ms())
    return {}


def _set_attributes(tx, queue: Queue, changes: dict, now: int) -> None:  # noqa: ANN001
    store.set_attributes(tx, queue.id, changes, now)
    tx.wake(queue.cache_key)
    tx.wake(f"sqs:{queue.id}")  # long polls re-read the queue's settings


async def purge_queue(ctx: RequestContext, p: dict) -> dict:
    queue = await resolve(ctx, p["QueueUrl"])
    await ctx.env.db.write(store.purge, queue.id, clock.now_ms())
    return {}


def _check_tags(tags: dict[str, str]) -> None:
    if len(tags) > 50:
        raise invalid_parameter("Too many tags added for queue. Maximum is 50.")
    for k, v in tags.items():
        if validation.INVALID_BODY_CHAR.search(k + v):
            raise invalid_parameter(f"Tag '{k}' contains invalid characters.")
        if not 1 <= len(k) <= 128:
            raise invalid_parameter(f"Tag key '{k}' must be between 1 and 128 characters long.")
        if len(v) > 256:
            raise invalid_parameter(f"Tag value for key '{k}' must be at most 256 characters long.")


async def tag_queue(ctx: RequestContext, p: dict) -> dict:
    tags = p["Tags"]
    _check_tags(tags)
    queue = await resolve(ctx, p["QueueUrl"])
    await ctx.env.db.write(store.change_tags, queue.id, tags, [])
    return {}


async def untag_queue(ctx: RequestContext, p: dict) -> dict:
    queue = await resolve(ctx, p["QueueUrl"])
    keys = [k for k in p["TagKeys"] if not validation.INVALID_BODY_CHAR.search(k)]
    await ctx.env.db.write(store.change_tags, queue.id, {}, keys)
    return {}


async def list_queue_tags(ctx: RequestContext, p: dict) -> dict:
    queue = await resolve(ctx, p["QueueUrl"])
    tags = await ctx.env.db.read(store.get_tags, queue.id)
    return {"Tags": tags} if tags else {}


# -- sending -----------------------------------------------------------------------------------------------
def _prepare(ctx: RequestContext, queue: Queue, p: dict, now: int) -> tuple[dict, dict, int]:
    """Validate one message; return (row to insert, result members, size in bytes)."""
    attrs, attrs_size = validation.message_attributes(p.get("MessageAttributes"))
    body = p["MessageBody"]
    validation.check_body(body, queue.max_size, attrs_size)
    delay = p.get("DelaySeconds")
    validation.check_delay(delay)
    group, dedup = _fifo_ids(queue, p, body, delay)
    sys_attrs = validation.system_attributes(p.get("MessageSystemAttributes"))
    row = message_row(queue, body, attrs, sys_attrs, ctx.account, now, delay, group, dedup)
    message_id, md5_body = row["message_id"], row["md5_body"]
    md5_attrs, md5_sys = row["md5_attributes"], row["md5_system_attributes"]
    result = {"MessageId": message_id, "MD5OfMessageBody": md5_body}
    if md5_attrs:
        result["MD5OfMessageAttributes"] = md5_attrs
    if md5_sys:
        result["MD5OfMessageSystemAttributes"] = md5_sys
    return row, result, len(body.encode()) + attrs_size


def _fifo_ids(queue: Queue, p: dict, body: str, delay: int | None) -> tuple[str | None, str | None]:
    """(MessageGroupId, MessageDeduplicationId) of a message, checked against the queue's type."""
    group = p.get("MessageGroupId")
    dedup = p.get("MessageDeduplicationId")
    if group is not None:
        validation.check_fifo_token("MessageGroupId", group)
    if not queue.fifo:
        if dedup is not None:
            raise invalid_parameter(
                f"Value {dedup} for parameter MessageDeduplicationId is invalid. Reason: The request includes a "
                "parameter that is not valid for this queue type."
            )
        return group, None  # a group id on a standard queue is kept (fair queues)
    if delay:
        raise invalid_parameter(
            f"Value {delay} for parameter DelaySeconds is invalid. Reason: The request include parameter that is "
            "not valid for this queue type."
        )
    if group is None:
        raise missing_parameter("MessageGroupId")
    if dedup is None:
        if not queue.content_dedup:
            raise invalid_parameter(
                "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                "provided explicitly"
            )
        dedup = hashlib.sha256(body.encode()).hexdigest()
    else:
        validation.check_fifo_token("MessageDeduplicationId", dedup)
    return group, dedup


def _decode_attrs(raw: str | None) -> dict[str, dict]:
    if not raw:
        return {}
    out = json.loads(raw)
    for a in out.values():
        if "BinaryValue" in a:
            a["BinaryValue"] = base64.b64decode(a["BinaryValue"])
    return out


async def send_message(ctx: RequestContext, p: dict) -> dict:
    queue = await resolve(ctx, p["QueueUrl"])
    now = clock.now_ms()
    row, result, _size = _prepare(ctx, queue, p, now)
    if queue.fifo:
        ((message_id, seq, _dup),) = await ctx.env.db.write(store.insert_fifo, queue.id, [row], queue.group_dedup, now)
        result.update(MessageId=message_id, SequenceNumber=store.sequence_number(seq))
    else:
        await ctx.env.db.write(store.insert_rows, [row])
    return result


async def send_message_batch(ctx: RequestContext, p: dict) -> dict:
    entries = p.get("Entries") or []
    validation.batch_ids(entries, "SendMessageBatchRequestEntry")
    queue = await resolve(ctx, p["QueueUrl"])
    if queue.fifo:
        # On a FIFO queue a missing group or deduplication id refuses the whole request.
        for entry in entries:
            if entry.get("MessageGroupId") is None:
                raise invalid_parameter("The request must contain the parameter MessageGroupId.")
            if entry.get("MessageDeduplicationId") is None and not queue.content_dedup:
                raise invalid_parameter(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                    "provided explicitly"
                )
    now = clock.now_ms()
    rows, successful, failed, total = [], [], [], 0
    for entry in entries:
        try:
            row, result, size = _prepare(ctx, queue, entry, now)
        except ServiceError as e:
            failed.append(_failure(entry["Id"], e))
            continue
        total += size
        rows.append(row)
        successful.append({"Id": entry["Id"], **result})
    if total > BATCH_LIMIT_BYTES:
        raise ServiceError(
            "BatchRequestTooLong",
            f"Batch requests cannot be longer than {BATCH_LIMIT_BYTES} bytes. You have sent {total} bytes.",
        )
    if rows and queue.fifo:
        outcome = await ctx.env.db.write(store.insert_fifo, queue.id, rows, queue.group_dedup, now)
        for entry, (message_id, seq, _dup) in zip(successful, outcome, strict=True):
            entry.update(MessageId=message_id, SequenceNumber=store.sequence_number(seq))
    elif rows:
        await ctx.env.db.write(store.insert_rows, rows)
    return {"Successful": successful, "Failed": failed}


def _failure(entry_id: str, e: ServiceError) -> dict:
    return {
        "Id": entry_id,
        "SenderFault": e.sender_fault,
        "Code": QUERY_ERROR_CODES.get(e.code, e.code),
        "Message": e.message,
    }


# -- receiving ---------------------------------------------------------------------------------------------
async def receive_message(ctx: RequestContext, p: dict) -> dict:
    queue = await resolve(ctx, p["QueueUrl"])
    n = p.get("MaxNumberOfMessages")
    if n is not None and not 1 <= n <= 10:
        raise invalid_parameter(
            f"Value {n} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
        )
    vt = p.get("VisibilityTimeout")
    if vt is not None and not 0 <= vt <= 43200:
        raise invalid_parameter(
            f"Value {vt} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
        )
    wait = p.get("WaitTimeSeconds")
    if wait is not None and not 0 <= wait <= 20:
        raise invalid_parameter(
            f"Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
        )
    system_names = set(p.get("AttributeNames") or ()) | set(p.get("MessageSystemAttributeNames") or ())
    for name in system_names:
        if name != "All" and name not in validation.SYSTEM_ATTRIBUTES:
            raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.")
    attempt = p.get("ReceiveRequestAttemptId")
    if attempt is not None:
        validation.check_fifo_token("ReceiveRequestAttemptId", attempt)
    dead_letter = await redrive.dead_letter_target(ctx, queue)
    rows = await _receive(
        ctx,
        queue,
        n or 1,
        queue.visibility_timeout if vt is None else vt,
        queue.wait if wait is None else wait,
        dead_letter,
        attempt if queue.fifo else None,
    )
    if not rows:
        return {}
    names = p.get("MessageAttributeNames") or []
    return {"Messages": [_message(queue, r, system_names, names) for r in rows]}


async def _receive(
    ctx: RequestContext, queue: Queue, n: int, vt: int, wait: int, dead_letter: dict | None, attempt: str | None
) -> list[dict]:
    db = ctx.env.db
    token = ids.token()

    def once(now: int):  # noqa: ANN202 - the awaitable of one receive attempt
        if attempt is not None:
            return db.write(store.receive_with_attempt, queue.id, attempt, now, n, now + vt * 1000, token, dead_letter)
        if queue.fifo or dead_letter is not None:
            return db.write(store.receive_general, queue.id, now, n, now + vt * 1000, token, queue.fifo, dead_letter)
        return db.write(store.receive, queue.id, now, n, now + vt * 1000, token)

    if wait <= 0:
        return await once(clock.now_ms())
    keys = (f"sqs:{queue.id}",)

    async def watched() -> tuple[str, ...]:
        return keys

    return await long_poll(
        ctx.env.notifier,
        watched,
        lambda: once(clock.now_ms()),
        wait,
        ctx.env.settings.long_poll_recheck_seconds,
        lambda: db.read(store.next_due, queue.id, clock.now_ms()),
    )


def _message(queue: Queue, row: dict, system_names: set[str], attribute_names: list[str]) -> dict:
    msg: dict[str, Any] = {
        "MessageId": row["message_id"],
        "ReceiptHandle": make_handle(queue.id, row["id"], row["receipt"]),
        "MD5OfBody": row["md5_body"],
        "Body": row["body"],
    }
    if system_names:
        every = "All" in system_names
        sysattrs: dict[str, str] = {}
        if every or "SenderId" in system_names:
            sysattrs["SenderId"] = row["sender_id"]
        if every or "SentTimestamp" in system_names:
            sysattrs["SentTimestamp"] = str(row["sent_at"])
        if every or "ApproximateReceiveCount" in system_names:
            sysattrs["ApproximateReceiveCount"] = str(row["receive_count"])
        if every or "ApproximateFirstReceiveTimestamp" in system_names:
            sysattrs["ApproximateFirstReceiveTimestamp"] = str(row["first_received_at"])
        if row["group_id"] is not None and (every or "MessageGroupId" in system_names):
            sysattrs["MessageGroupId"] = row["group_id"]
        if queue.fifo and (every or "MessageDeduplicationId" in system_names):
            sysattrs["MessageDeduplicationId"] = row["dedup_id"]
        if queue.fifo and (every or "SequenceNumber" in system_names):
            sysattrs["SequenceNumber"] = store.sequence_number(row["seq"])
        if row["source_arn"] and (every or "DeadLetterQueueSourceArn" in system_names):
            sysattrs["DeadLetterQueueSourceArn"] = row["source_arn"]
        if (every or "AWSTraceHeader" in system_names) and row["system_attributes"]:
            trace = _decode_attrs(row["system_attributes"]).get("AWSTraceHeader")
            if trace:
                sysattrs["AWSTraceHeader"] = trace["StringValue"]
        if sysattrs:
            msg["Attributes"] = sysattrs
    if attribute_names and row["attributes"]:
        attrs = _decode_attrs(row["attributes"])
        chosen = _select_attributes(attrs, attribute_names)
        if chosen:
            msg["MessageAttributes"] = chosen
            msg["MD5OfMessageAttributes"] = (
                row["md5_attributes"] if len(chosen) == len(attrs) else md5_of_attributes(chosen)
            )
    return msg


def _select_attributes(attrs: dict[str, dict], names: list[str]) -> dict[str, dict]:
    if "All" in names or ".*" in names:
        return attrs
    out = {}
    for name, value in attrs.items():
        for pattern in names:
            if pattern == name or (pattern.endswith(".*") and name.startswith(pattern[:-1])):
                out[name] = value
                break
    return out


# -- receipt handles ---------------------------------------------------------------------------------------
def make_handle(queue_id: int, row_id: int, token: str) -> str:
    raw = f"{queue_id}:{row_id}:{token}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_handle(queue: Queue, handle: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)).decode()
        qid, row_id, token = raw.split(":")
        qid_i, row_i = int(qid), int(row_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        qid_i = row_i = -1
        token = ""
    if qid_i != queue.id or not 0 <= row_i < 2**63 or not token:
        raise ServiceError(
            "ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.'
        )
    return row_i, token


async def delete_message(ctx: RequestContext, p: dict) -> dict:
    queue = await resolve(ctx, p["QueueUrl"])
    handle = parse_handle(queue, p["ReceiptHandle"])
    if queue.fifo:
        (expired,) = await ctx.env.db.write(store.delete_fifo, queue.id, [handle], clock.now_ms())
        if expired:
            raise invalid_parameter("The receipt handle has expired.")
    else:
        await ctx.env.db.write(store.delete_messages, queue.id, [handle])
    return {}


async def delete_message_batch(ctx: RequestContext, p: dict) -> dict:
    entries = p.get("Entries") or []
    validation.batch_ids(entries, "DeleteMessageBatchRequestEntry")
    queue = await resolve(ctx, p["QueueUrl"])
    handles, successful, failed = [], [], []
    for entry in entries:
        try:
            handles.append((entry["Id"], parse_handle(queue, entry["ReceiptHandle"])))
        except ServiceError as e:
            failed.append(_failure(entry["Id"], e))
    if handles and queue.fifo:
        expired = await ctx.env.db.write(store.delete_fifo, queue.id, [h for _e, h in handles], clock.now_ms())
        for (entry_id, _h), gone in zip(handles, expired, strict=True):
            if gone:
                failed.append(_failure(entry_id, invalid_parameter("The receipt handle has expired.")))
            else:
                successful.append({"Id": entry_id})
    elif handles:
        await ctx.env.db.write(store.delete_messages, queue.id, [h for _e, h in handles])
        successful.extend({"Id": entry_id} for entry_id, _h in handles)
    return {"Successful": successful, "Failed": failed}


def _check_visibility(timeout: int) -> None:
    if not 0 <= timeout <= 43200:
        raise invalid_parameter(
            f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, "
            "if provided."
        )


def _visibility_error(code: str | None, handle: str, timeout: int) -> ServiceError | None:
    if code is None:
        return None
    if code == "not-inflight":
        return ServiceError("MessageNotInflight", "The message referred to isn't in flight.")
    if code == "too-long":
        return invalid_parameter(
            f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the "
            "message is beyond the limit [43200 seconds]"
        )
    return invalid_parameter(
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not "
        "available for visibility timeout change."
    )


async def change_message_visibility(ctx: RequestContext, p: dict) -> dict:
    timeout = p["VisibilityTimeout"]
    _check_visibility(timeout)
    queue = await resolve(ctx, p["QueueUrl"])
    row_id, token = parse_handle(queue, p["ReceiptHandle"])
    (code,) = await ctx.env.db.write(store.change_visibility, queue.id, [(row_id, token, timeout)], clock.now_ms())
    err = _visibility_error(code, p["ReceiptHandle"], timeout)
    if err:
        raise err
    return {}


async def change_message_visibility_batch(ctx: RequestContext, p: dict) -> dict:
    entries = p.get("Entries") or []
    validation.batch_ids(entries, "ChangeMessageVisibilityBatchRequestEntry")
    queue = await resolve(ctx, p["QueueUrl"])
    pending, successful, failed = [], [], []
    for entry in entries:
        timeout = entry.get("VisibilityTimeout", 0)
        try:
            _check_visibility(timeout)
            row_id, token = parse_handle(queue, entry["ReceiptHandle"])
        except ServiceError as e:
            failed.append(_failure(entry["Id"], e))
            continue
        pending.append((entry, (row_id, token, timeout)))
    if pending:
        codes = await ctx.env.db.write(store.change_visibility, queue.id, [x[1] for x in pending], clock.now_ms())
        for (entry, (_r, _t, timeout)), code in zip(pending, codes, strict=True):
            err = _visibility_error(code, entry["ReceiptHandle"], timeout)
            if err:
                failed.append(_failure(entry["Id"], err))
            else:
                successful.append({"Id": entry["Id"]})
    return {"Successful": successful, "Failed": failed}


HANDLERS = {
    "CreateQueue": create_queue,
    "GetQueueUrl": get_queue_url,
    "ListQueues": list_queues,
    "DeleteQueue": delete_queue,
    "GetQueueAttributes": get_queue_attributes,
    "SetQueueAttributes": set_queue_attributes,
    "PurgeQueue": purge_queue,
    "TagQueue": tag_queue,
    "UntagQueue": untag_queue,
    "ListQueueTags": list_queue_tags,
    "SendMessage": send_message,
    "SendMessageBatch": send_message_batch,
    "ReceiveMessage": receive_message,
    "DeleteMessage": delete_message,
    "DeleteMessageBatch": delete_message_batch,
    "ChangeMessageVisibility": change_message_visibility,
    "ChangeMessageVisibilityBatch": change_message_visibility_batch,
    "AddPermission": permissions.add_permission,
    "RemovePermission": permissions.remove_permission,
    "ListDeadLetterSourceQueues": redrive.list_dead_letter_source_queues,
    "StartMessageMoveTask": redrive.start_message_move_task,
    "ListMessageMoveTasks": redrive.list_message_move_tasks,
    "CancelMessageMoveTask": redrive.cancel_message_move_task,
}
