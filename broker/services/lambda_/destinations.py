"""Where an asynchronous invocation's outcome goes, inside the transaction that records it: invocation records to
the event-invoke configuration's destinations (SQS standard queue, SNS standard topic, another function, an
EventBridge bus — not served yet), and the original event to the function's dead-letter queue (SQS or SNS).
SQS and SNS are reached through their own in-transaction enqueue and fan-out paths, never over HTTP."""

from __future__ import annotations

import json
import logging
from typing import Any

from broker import ids
from broker.services.base import Env
from broker.services.lambda_ import store
from broker.services.sns import fanout
from broker.services.sns import store as sns_store
from broker.services.sns.messages import Envelopes, Message
from broker.services.sns.signing import SIGNER, Signer
from broker.services.sns.topics import Subscription, Topic
from broker.services.sqs.enqueue import enqueue, message_row
from broker.services.sqs.queues import Queue, queue_by_arn
from broker.storage.db import Tx

log = logging.getLogger("broker.lambda.async")

LAMBDA_SENDER_ID = "AROAEXAMPLELAMBDAASYNC:awslambda"  # the SenderId SQS shows for what Lambda sent
MAX_ERROR_MESSAGE = 1024  # a dead-letter message carries the first 1 KB of the error message

Attributes = dict[str, dict[str, Any]]


class Sender:
    """Sends text to an SQS queue, SNS topic, Lambda function or EventBridge bus by ARN, in a transaction."""

    def __init__(self, signer: Signer | None, base_url: str) -> None:
        self.signer = signer
        self.base_url = base_url

    def send(self, tx: Tx, arn: str, body: str, attrs: Attributes, now: int, trace: str) -> bool:
        """False (logged) when the target is gone or not one that can take it."""
        parts = arn.split(":")
        service = parts[2] if len(parts) > 2 else ""
        if service == "sqs":
            queue = queue_by_arn(tx.conn, arn)
            if queue is None or queue.fifo:
                log.warning("Lambda async destination %s: no such standard queue", arn)
                return False
            self._to_queue(tx, queue, body, attrs, now)
            return True
        if service == "sns":
            return self._to_topic(tx, arn, body, attrs, now, trace)
        if service == "lambda" and len(parts) >= 7:
            store.enqueue_async(tx, ids.uuid4(), parts[4], parts[3], arn, body.encode(), None, trace, now)
            return True
        if service == "events":
            log.warning("Lambda async destination %s: not supported until EventBridge exists", arn)
            return False
        log.warning("Lambda async destination %s: unsupported target", arn)
        return False

    @staticmethod
    def _to_queue(tx: Tx, queue: Queue, body: str, attrs: Attributes, now: int) -> None:
        enqueue(tx, queue, [message_row(queue, body, attrs, {}, LAMBDA_SENDER_ID, now)], now)

    def _to_topic(self, tx: Tx, arn: str, body: str, attrs: Attributes, now: int, trace: str) -> bool:
        row = sns_store.get_topic(tx.conn, arn)
        if row is None or row["fifo"] or self.signer is None:
            log.warning("Lambda async destination %s: no such standard topic", arn)
            return False
        subs = [Subscription.from_row(s) for s in sns_store.topic_subscriptions(tx.conn, arn)]
        topic = Topic.from_row(row, subs)
        queues = {q: queue_by_arn(tx.conn, q) for sub in subs for q in sub.queue_arns}
        fan = fanout.Fanout(topic, queues, Envelopes(self.signer, self.base_url))
        msg = Message(
            message_id=ids.uuid4(),
            topic_arn=arn,
            message=body,
            subject=None,
            attributes=attrs,
            published_at=now,
            trace_header=trace or None,
        )
        fanout.apply(tx, fan.work(msg, now), now)
        return True


def sender_for(env: Env, host: str) -> Sender:
    """A Sender of this worker (SNS targets need SNS's signer: none when SNS is not served)."""
    try:
        signer: Signer | None = env.get(SIGNER)
    except KeyError:
        signer = None
    return Sender(signer, f"http://{host}")


def dead_letter_attributes(request_id: str, status: int, error_message: str) -> Attributes:
    """The message attributes Lambda puts on a dead-lettered event."""
    return {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": str(status)},
        "ErrorMessage": {"DataType": "String", "StringValue": error_message[:MAX_ERROR_MESSAGE] or "Unknown"},
    }


def error_message(response: bytes) -> str:
    """The errorMessage of a function's error document (or the document itself)."""
    try:
        document = json.loads(response or b"{}")
    except ValueError:
        return response.decode(errors="replace")
    if isinstance(document, dict) and "errorMessage" in document:
        return str(document["errorMessage"])
    return response.decode(errors="replace")
