"""Putting messages into SQS queues: the row a message becomes, and the insert that fits the queue's type.

Used by SendMessage(Batch) and by other services that deliver into queues (SNS fan-out), so that a message
delivered by SNS is exactly what a direct send would have stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from broker import ids
from broker.services.sqs.checksums import md5_of_attributes, md5_of_body
from broker.services.sqs.fifo_store import insert_fifo
from broker.services.sqs.message_store import insert_rows
from broker.services.sqs.queues import Queue
from broker.storage.db import Tx


def content_dedup_id(body: str) -> str:
    """The deduplication id of a message on a queue with ContentBasedDeduplication: the SHA-256 of its body."""
    return hashlib.sha256(body.encode()).hexdigest()


def encode_attributes(attrs: dict[str, dict[str, Any]]) -> str | None:
    """Message attributes as stored: JSON, binary values in base64."""
    if not attrs:
        return None
    out: dict[str, dict[str, Any]] = {}
    for name, a in attrs.items():
        if "BinaryValue" in a:
            out[name] = {"DataType": a["DataType"], "BinaryValue": base64.b64encode(a["BinaryValue"]).decode()}
        else:
            out[name] = a
    return json.dumps(out)


def message_row(
    queue: Queue,
    body: str,
    attrs: dict[str, dict[str, Any]],
    sys_attrs: dict[str, dict[str, Any]],
    sender_id: str,
    now: int,
    delay: int | None = None,
    group: str | None = None,
    dedup: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """The sqs_messages row of one message (checked already)."""
    return {
        "queue_id": queue.id,
        "message_id": message_id or ids.uuid4(),
        "body": body,
        "attributes": encode_attributes(attrs),
        "system_attributes": encode_attributes(sys_attrs),
        "md5_body": md5_of_body(body),
        "md5_attributes": md5_of_attributes(attrs),
        "md5_system_attributes": md5_of_attributes(sys_attrs),
        "sender_id": sender_id,
        "sent_at": now,
        "visible_at": now + (queue.delay if delay is None else delay) * 1000,
        "expires_at": now + queue.retention * 1000,
        "receive_count": 0,
        "first_received_at": None,
        "received_at": None,
        "receipt": None,
        "group_id": group,
        "dedup_id": dedup,
        "seq": None,
        "source_arn": None,
        "turn": None,
    }


def enqueue(tx: Tx, queue: Queue, rows: list[dict[str, Any]], now: int) -> list[tuple[str, int, bool]] | None:
    """Insert rows into one queue in this transaction; for a FIFO queue, per row (message_id, seq, duplicate)."""
    if queue.fifo:
        return insert_fifo(tx, queue.id, rows, queue.group_dedup, now)
    insert_rows(tx, rows)
    return None


def enqueue_many(tx: Tx, batches: list[tuple[Queue, list[dict[str, Any]]]], now: int) -> None:
    """Insert into several queues in this transaction: the standard queues' rows in one statement."""
    plain: list[dict[str, Any]] = []
    for queue, rows in batches:
        if queue.fifo:
            insert_fifo(tx, queue.id, rows, queue.group_dedup, now)
        else:
            plain.extend(rows)
    if plain:
        insert_rows(tx, plain)
