"""SQS operations on messages: sending, receiving (long polls included), deleting and changing visibility."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.long_poll import long_poll
from broker.services.sqs import message_store, receive_store, redrive, validation
from broker.services.sqs.checksums import md5_of_attributes
from broker.services.sqs.enqueue import content_dedup_id, enqueue, message_row
from broker.services.sqs.errors import (
    batch_request_too_long,
    deduplication_id_required,
    invalid_parameter,
    invalid_value,
    message_not_inflight,
    missing_parameter,
    receipt_handle_expired,
    receipt_handle_is_invalid,
    unknown_attribute,
)
from broker.services.sqs.fifo_store import sequence_number
from broker.services.sqs.message_store import Handle, waiters_key
from broker.services.sqs.queues import Queue, resolve
from broker.services.sqs.receive_store import DeadLetterTarget
from broker.services.sqs.wire import QUERY_ERROR_CODES

BATCH_LIMIT_BYTES = 1_048_576


# -- sending -----------------------------------------------------------------------------------------------
def _prepare(ctx: RequestContext, queue: Queue, p: dict[str, Any], now: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate one message; return (row to insert, result members)."""
    attrs, attrs_size = validation.message_attributes(p.get("MessageAttributes"))
    body = p["MessageBody"]
    validation.check_body(body, queue.max_size, attrs_size)
    delay = p.get("DelaySeconds")
    validation.check_delay(delay)
    group, dedup = _fifo_ids(queue, p, body, delay)
    sys_attrs = validation.system_attributes(p.get("MessageSystemAttributes"))
    md5_sys = md5_of_attributes(sys_attrs)  # of what the client sent, not of a trace id taken from the header
    if ctx.trace_header and "AWSTraceHeader" not in sys_attrs:
        sys_attrs["AWSTraceHeader"] = {"DataType": "String", "StringValue": ctx.trace_header}
    # A FIFO queue's messages all wait the queue's DelaySeconds (a message's own, only 0 allowed, is ignored).
    row = message_row(queue, body, attrs, sys_attrs, ctx.account, now, None if queue.fifo else delay, group, dedup)
    message_id, md5_body, md5_attrs = row["message_id"], row["md5_body"], row["md5_attributes"]
    result = {"MessageId": message_id, "MD5OfMessageBody": md5_body}
    if md5_attrs:
        result["MD5OfMessageAttributes"] = md5_attrs
    if md5_sys:
        result["MD5OfMessageSystemAttributes"] = md5_sys
    return row, result


def _fifo_ids(queue: Queue, p: dict[str, Any], body: str, delay: int | None) -> tuple[str | None, str | None]:
    """(MessageGroupId, MessageDeduplicationId) of a message, checked against the queue's type."""
    group = p.get("MessageGroupId")
    dedup = p.get("MessageDeduplicationId")
    if group is not None:
        validation.check_fifo_token("MessageGroupId", group)
    if not queue.fifo:
        if dedup is not None:
            raise invalid_value(
                "MessageDeduplicationId",
                dedup,
                "The request includes a parameter that is not valid for this queue type.",
            )
        return group, None  # a group id on a standard queue is kept (fair queues)
    if delay:
        raise invalid_value(
            "DelaySeconds", delay, "The request include parameter that is not valid for this queue type."
        )
    if group is None:
        raise missing_parameter("MessageGroupId")
    if dedup is None:
        if not queue.content_dedup:
            raise deduplication_id_required()
        dedup = content_dedup_id(body)
    else:
        validation.check_fifo_token("MessageDeduplicationId", dedup)
    return group, dedup


def _decode_attrs(raw: str | None) -> dict[str, dict[str, Any]]:
    if not raw:
        return {}
    out: dict[str, dict[str, Any]] = json.loads(raw)
    for a in out.values():
        if "BinaryValue" in a:
            a["BinaryValue"] = base64.b64decode(a["BinaryValue"])
    return out


async def send_message(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await resolve(ctx, p["QueueUrl"], "sqs:SendMessage")
    now = clock.now_ms()
    row, result = _prepare(ctx, queue, p, now)
    await _send(ctx, queue, [row], [result], now)
    return result


async def _send(
    ctx: RequestContext, queue: Queue, rows: list[dict[str, Any]], results: list[dict[str, Any]], now: int
) -> None:
    """Store the rows; on a FIFO queue, give each result the MessageId (the original's, for a duplicate) and
    SequenceNumber."""
    outcome = await ctx.env.db.write(enqueue, queue, rows, now)
    if outcome is not None:
        for result, (message_id, seq, _dup) in zip(results, outcome, strict=True):
            result.update(MessageId=message_id, SequenceNumber=sequence_number(seq))


async def send_message_batch(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    entries = p.get("Entries") or []
    validation.batch_ids(entries, "SendMessageBatchRequestEntry")
    queue = await resolve(ctx, p["QueueUrl"], "sqs:SendMessage")
    # The size of the whole request counts, valid entries or not: one oversized entry fails the request.
    total = sum(validation.message_size(e.get("MessageBody"), e.get("MessageAttributes")) for e in entries)
    if total > BATCH_LIMIT_BYTES:
        raise batch_request_too_long(BATCH_LIMIT_BYTES, total)
    if queue.fifo:
        # On a FIFO queue a missing group or deduplication id refuses the whole request.
        for entry in entries:
            if entry.get("MessageGroupId") is None:
                raise invalid_parameter("The request must contain the parameter MessageGroupId.")
            if entry.get("MessageDeduplicationId") is None and not queue.content_dedup:
                raise deduplication_id_required()
    now = clock.now_ms()
    rows: list[dict[str, Any]] = []
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            row, result = _prepare(ctx, queue, entry, now)
        except ServiceError as e:
            failed.append(_failure(entry["Id"], e))
            continue
        rows.append(row)
        successful.append({"Id": entry["Id"], **result})
    if rows:
        await _send(ctx, queue, rows, successful, now)
    return _batch_result(successful, failed)


def _batch_result(successful: list[dict[str, Any]], failed: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch answer: AWS leaves an empty Successful or Failed list out."""
    out: dict[str, Any] = {}
    if successful:
        out["Successful"] = successful
    if failed:
        out["Failed"] = failed
    return out


def _failure(entry_id: str, e: ServiceError) -> dict[str, Any]:
    return {
        "Id": entry_id,
        "SenderFault": e.sender_fault,
        "Code": QUERY_ERROR_CODES.get(e.code, e.code),
        "Message": e.message,
    }


# -- receiving ---------------------------------------------------------------------------------------------
async def receive_message(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await resolve(ctx, p["QueueUrl"], "sqs:ReceiveMessage")
    n = p.get("MaxNumberOfMessages")
    if n is not None and not 1 <= n <= 10:
        raise invalid_value("MaxNumberOfMessages", n, "Must be between 1 and 10, if provided.")
    vt = p.get("VisibilityTimeout")
    if vt is not None and not 0 <= vt <= 43200:
        raise invalid_value("VisibilityTimeout", vt, "Must be >= 0 and <= 43200, if provided.")
    wait = p.get("WaitTimeSeconds")
    if wait is not None and not 0 <= wait <= 20:
        raise invalid_value("WaitTimeSeconds", wait, "Must be >= 0 and <= 20, if provided.")
    system_names = set(p.get("AttributeNames") or ()) | set(p.get("MessageSystemAttributeNames") or ())
    for name in system_names:
        if name != "All" and name not in validation.SYSTEM_ATTRIBUTES:
            raise unknown_attribute(name)
    attempt = p.get("ReceiveRequestAttemptId")
    if attempt is not None:
        validation.check_fifo_token("ReceiveRequestAttemptId", attempt)
    dead_letter = await redrive.dead_letter_target(ctx, queue)
    rows = await receive_rows(
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
    return {"Messages": [message_view(queue, r, system_names, names) for r in rows]}


async def receive_rows(
    ctx: RequestContext,
    queue: Queue,
    n: int,
    vt: int,
    wait: int,
    dead_letter: DeadLetterTarget | None,
    attempt: str | None,
) -> list[dict[str, Any]]:
    db = ctx.env.db
    token = ids.token()

    def once(now: int) -> Awaitable[list[dict[str, Any]]]:
        """One receive attempt."""
        until = now + vt * 1000
        if attempt is not None:
            return db.write(receive_store.receive_with_attempt, queue.id, attempt, now, n, until, token, dead_letter)
        if queue.fifo or dead_letter is not None:
            return db.write(receive_store.receive_general, queue.id, now, n, until, token, queue.fifo, dead_letter)
        return db.write(receive_store.receive, queue.id, now, n, until, token)

    if wait <= 0:
        return await once(clock.now_ms())
    keys = (waiters_key(queue.id),)

    async def watched() -> tuple[str, ...]:
        return keys

    return await long_poll(
        ctx.env.notifier,
        watched,
        lambda: once(clock.now_ms()),
        wait,
        ctx.env.settings.long_poll_recheck_seconds,
        lambda: db.read(receive_store.next_due, queue.id, clock.now_ms()),
    )


def message_view(
    queue: Queue, row: dict[str, Any], system_names: set[str], attribute_names: list[str]
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "MessageId": row["message_id"],
        "ReceiptHandle": make_handle(queue.id, row["id"], row["receipt"], row["message_id"]),
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
            sysattrs["SequenceNumber"] = sequence_number(row["seq"])
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


def _select_attributes(attrs: dict[str, dict[str, Any]], names: list[str]) -> dict[str, dict[str, Any]]:
    """The attributes MessageAttributeNames asks for: "All" or ".*" every one, "Prefix.*" those whose name starts
    with Prefix ("Hel.*" gives "Hello" and "Help.Me"), any other entry the attribute of that name."""
    if "All" in names or ".*" in names:
        return attrs
    prefixes = tuple(n[:-2] for n in names if n.endswith(".*"))
    exact = set(names)
    return {name: value for name, value in attrs.items() if name in exact or (prefixes and name.startswith(prefixes))}


# -- receipt handles ---------------------------------------------------------------------------------------
def make_handle(queue_id: int, row_id: int, token: str, message_id: str) -> str:
    """(queue, row, the receive's token, the MessageId): the row id alone could name a later message on SQLite,
    which may reuse the id of a deleted last row."""
    raw = f"{queue_id}:{row_id}:{token}:{message_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_handle(queue: Queue, handle: str) -> Handle:
    try:
        raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)).decode()
        qid, row_id, token, *rest = raw.split(":")
        qid_i, row_i = int(qid), int(row_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        qid_i = row_i = -1
        token, rest = "", []
    if qid_i != queue.id or not 0 <= row_i < 2**63 or not token or len(rest) > 1:
        raise receipt_handle_is_invalid(handle)
    return Handle(row_i, token, rest[0] if rest else None)  # handles of older versions carry no MessageId


async def delete_handles(ctx: RequestContext, queue: Queue, handles: list[Handle]) -> list[bool]:
    """Delete by receipt handles; per handle True if it expired (FIFO queues only: it then deletes nothing)."""
    if queue.fifo:
        return await ctx.env.db.write(message_store.delete_fifo, queue.id, handles, clock.now_ms())
    await ctx.env.db.write(message_store.delete_messages, queue.id, handles)
    return [False] * len(handles)


async def delete_message(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await resolve(ctx, p["QueueUrl"], "sqs:DeleteMessage")
    handle = parse_handle(queue, p["ReceiptHandle"])
    (expired,) = await delete_handles(ctx, queue, [handle])
    if expired:
        raise receipt_handle_expired(p["ReceiptHandle"])
    return {}


async def delete_message_batch(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    entries = p.get("Entries") or []
    validation.batch_ids(entries, "DeleteMessageBatchRequestEntry")
    queue = await resolve(ctx, p["QueueUrl"], "sqs:DeleteMessage")
    handles: list[tuple[str, Handle]] = []
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            handles.append((entry["Id"], parse_handle(queue, entry["ReceiptHandle"])))
        except ServiceError as e:
            failed.append(_failure(entry["Id"], e))
    if handles:
        expired = await delete_handles(ctx, queue, [h for _e, h in handles])
        receipts = {e["Id"]: e["ReceiptHandle"] for e in entries}
        for (entry_id, _h), gone in zip(handles, expired, strict=True):
            if gone:
                failed.append(_failure(entry_id, receipt_handle_expired(receipts[entry_id])))
            else:
                successful.append({"Id": entry_id})
    return _batch_result(successful, failed)


def _check_visibility(timeout: int) -> None:
    if not 0 <= timeout <= 43200:
        raise invalid_value("VisibilityTimeout", timeout, "Must be between 0 and 43200, if provided.")


def _visibility_error(code: str | None, handle: str, timeout: int) -> ServiceError | None:
    if code is None:
        return None
    if code == "not-inflight":
        return message_not_inflight()
    if code == "too-long":
        return invalid_value(
            "VisibilityTimeout", timeout, "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
        )
    return invalid_value(
        "ReceiptHandle", handle, "Message does not exist or is not available for visibility timeout change."
    )


async def change_message_visibility(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    timeout = p["VisibilityTimeout"]
    _check_visibility(timeout)
    queue = await resolve(ctx, p["QueueUrl"], "sqs:ChangeMessageVisibility")
    handle = parse_handle(queue, p["ReceiptHandle"])
    (code,) = await ctx.env.db.write(
        message_store.change_visibility, queue.id, queue.fifo, [(handle, timeout)], clock.now_ms()
    )
    err = _visibility_error(code, p["ReceiptHandle"], timeout)
    if err:
        raise err
    return {}


async def change_message_visibility_batch(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    entries = p.get("Entries") or []
    validation.batch_ids(entries, "ChangeMessageVisibilityBatchRequestEntry")
    queue = await resolve(ctx, p["QueueUrl"], "sqs:ChangeMessageVisibility")
    pending: list[tuple[dict[str, Any], tuple[Handle, int]]] = []
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        timeout = entry.get("VisibilityTimeout", 0)
        try:
            _check_visibility(timeout)
            handle = parse_handle(queue, entry["ReceiptHandle"])
        except ServiceError as e:
            failed.append(_failure(entry["Id"], e))
            continue
        pending.append((entry, (handle, timeout)))
    if pending:
        codes = await ctx.env.db.write(
            message_store.change_visibility, queue.id, queue.fifo, [x[1] for x in pending], clock.now_ms()
        )
        for (entry, (_h, timeout)), code in zip(pending, codes, strict=True):
            err = _visibility_error(code, entry["ReceiptHandle"], timeout)
            if err:
                failed.append(_failure(entry["Id"], err))
            else:
                successful.append({"Id": entry["Id"]})
    return _batch_result(successful, failed)
