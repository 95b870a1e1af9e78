"""Where an asynchronous invocation's outcome goes, inside the transaction that records it: invocation records to
the event-invoke configuration's destinations (SQS standard queue, SNS standard topic, another function, an
EventBridge bus), and the original event to the function's dead-letter queue (SQS or SNS). SQS, SNS and EventBridge
are reached through their own in-transaction enqueue, fan-out and routing paths, never over HTTP. On a bus the
record is the detail of an event from source "lambda" with detail-type "Lambda Function Invocation Result - Success"
(or "- Failure"), whose resources are the function (version) and the bus ARNs, in the order the Lambda developer
guide names them ("The resource event field contains the function and destination ARNs").

With auth = "sigv4" a target of another account than the function's must grant the function's execution role (a
session of it, named after the function) what Lambda calls on it: sqs:SendMessage, sns:Publish,
lambda:InvokeFunction or events:PutEvents, in its resource policy (the broker keeps no identity policies, so a
target of the function's own account needs none). A refused send is a failed delivery, logged, as one to a target
that is gone."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Connection

from broker import ids
from broker.auth.resource_policy import allows, principal_arn
from broker.identity import Identity
from broker.services.base import Env
from broker.services.events import routing
from broker.services.events import store as events_store
from broker.services.events.names import bus_of_arn
from broker.services.lambda_ import store
from broker.services.lambda_.permission_operations import policy_of
from broker.services.sns import local_publish
from broker.services.sns import store as sns_store
from broker.services.sns.messages import Envelopes
from broker.services.sns.signing import SIGNER, Signer
from broker.services.sqs.enqueue import enqueue, message_row
from broker.services.sqs.queues import Queue, queue_by_arn
from broker.storage.db import Tx

log = logging.getLogger("broker.lambda.async")

LAMBDA_SENDER_ID = "AROAEXAMPLELAMBDAASYNC:awslambda"  # the SenderId SQS shows for what Lambda sent
MAX_ERROR_MESSAGE = 1024  # a dead-letter message carries the first 1 KB of the error message

Attributes = dict[str, dict[str, Any]]
# What Lambda calls on a destination of each service, as the execution role.
ACTIONS = {
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "lambda": "lambda:InvokeFunction",
    "events": "events:PutEvents",
}


class Sender:
    """Sends text to an SQS queue, SNS topic, Lambda function or EventBridge bus by ARN, in a transaction."""

    def __init__(self, signer: Signer | None, base_url: str, grants: bool) -> None:
        self.signer = signer
        self.base_url = base_url
        self.grants = grants  # auth = "sigv4": a target of another account must grant the execution role

    def send(self, tx: Tx, arn: str, body: str, attrs: Attributes, now: int, trace: str, executor: Identity) -> bool:
        """False (logged) when the target is gone, not one that can take it, or (auth = "sigv4") of another account
        and its policy does not let `executor` (see `executor`) send to it (an event for an event bus that is gone
        is dropped and logged by routing)."""
        parts = arn.split(":")
        service = parts[2] if len(parts) > 2 else ""
        if self.grants and not granted(tx.conn, arn, executor):
            log.warning("Lambda destination %s: no resource policy allows %s to send to it", arn, executor.arn)
            return False
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
        bus = bus_of_arn(arn)
        if bus is not None:
            self._to_bus(tx, bus, arn, body, now)
            return True
        log.warning("Lambda async destination %s: unsupported target", arn)
        return False

    @staticmethod
    def _to_queue(tx: Tx, queue: Queue, body: str, attrs: Attributes, now: int) -> None:
        enqueue(tx, queue, [message_row(queue, body, attrs, {}, LAMBDA_SENDER_ID, now)], now)

    @staticmethod
    def _to_bus(tx: Tx, bus: tuple[str, str, str], arn: str, body: str, now: int) -> None:
        """The record as an event's detail; an event for a bus that does not exist is dropped (and logged) by
        routing.put_event."""
        account, region, name = bus
        record = json.loads(body)
        context = record.get("requestContext", {})
        outcome = "Success" if context.get("condition") == "Success" else "Failure"
        event = routing.new_event(
            account,
            region,
            "lambda",
            f"Lambda Function Invocation Result - {outcome}",
            [context.get("functionArn", ""), arn],
            record,
            now,
        )
        routing.put_event(tx, account, region, name, event, now)

    def _to_topic(self, tx: Tx, arn: str, body: str, attrs: Attributes, now: int, trace: str) -> bool:
        if self.signer is None or local_publish.publish(
            tx, Envelopes(self.signer, self.base_url, self.grants), arn, body, attrs, now, trace
        ):
            log.warning("Lambda async destination %s: no such standard topic", arn)
            return False
        return True


def sender_for(env: Env, host: str) -> Sender:
    """A Sender of this worker (SNS targets need SNS's signer: none when SNS is not served)."""
    try:
        signer: Signer | None = env.get(SIGNER)
    except KeyError:
        signer = None
    return Sender(signer, f"http://{host}", env.settings.sigv4)


def executor(account: str, function_name: str, role: str) -> Identity:
    """Whom a function's deliveries act as: a session of its execution role (of the function's account), named
    after the function, as Lambda names it."""
    session = f"arn:aws:sts::{account}:assumed-role/{role.rsplit('/', 1)[-1]}/{function_name}"
    return Identity(account, function_name, principal_arn=session)


def granted(conn: Connection, arn: str, principal: Identity) -> bool:
    """Whether `principal` may send to the destination `arn`: always in its own account; in another, when the
    target exists and its resource policy allows it."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[4] == principal.account:
        return True  # not an ARN of another account (an unsupported target is refused by send)
    action = ACTIONS.get(parts[2])
    found = _policy(conn, parts[2], arn)
    if action is None or found is None:
        return False
    policy, resource = found
    context = {"aws:PrincipalAccount": principal.account, "aws:PrincipalArn": principal_arn(principal)}
    return allows(policy, principal, action, resource, context)


def _policy(conn: Connection, service: str, arn: str) -> tuple[str | None, str] | None:
    """The resource policy of a destination and the resource it guards; None when there is no such target."""
    if service == "sqs":
        queue = queue_by_arn(conn, arn)
        return (queue.attrs.get("Policy"), queue.arn) if queue else None
    if service == "sns":
        topic = sns_store.get_topic(conn, arn)
        return (json.loads(topic["attributes"]).get("Policy"), arn) if topic else None
    if service == "lambda":
        return policy_of(conn, arn)
    bus = bus_of_arn(arn)
    if bus is None:
        return None
    doc = events_store.get_bus(conn, *bus)
    return (doc.get("Policy") if doc else None), arn


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
