"""Delivery to lambda subscriptions: a notification a lambda subscription accepts becomes an asynchronous invocation
of the function its endpoint names (a lambda_async_invocations row, which Lambda's own dispatcher runs, retries and
sends to destinations), written in the publishing transaction: the publish is acknowledged only once the
invocation is durable.

There are no SNS-side retries, and no pending rows, on purpose. SNS's delivery policy for Lambda (3 immediate,
2 pre-backoff, 10 backoff, 100,000 post-backoff retries) applies to server-side errors: Lambda unavailable or
refusing a valid request. Here Lambda accepts the event inside the same transaction, so that cannot happen. What
can happen is a function, or a version or alias of it, that does not exist: AWS calls that a client-side error
(stale subscription metadata, its example being a deleted function) and does not retry it; the message goes to
the subscription's dead-letter queue, if it has one, at once, else it is discarded (Amazon SNS Developer Guide,
"Amazon SNS dead-letter queues"). So both outcomes are decided and written in the publishing transaction, as for
an SQS subscription whose queue is gone.

The existence check is one indexed read per distinct endpoint in the transaction, made only for messages a lambda
subscription accepted: topics without one pay nothing. With auth = "sigv4", a function of another account than the
topic's must also grant sns.amazonaws.com lambda:InvokeFunction in its policy (grants.py); a refused invocation is
the same client-side error, decided the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from broker import ids
from broker.services.lambda_ import store as lambda_store
from broker.services.lambda_.permission_operations import policy_of
from broker.services.sns import grants
from broker.services.sqs.enqueue import enqueue
from broker.services.sqs.queues import Queue
from broker.storage.db import Tx

log = logging.getLogger("broker.sns.lambda")

MAX_TRACE = 256  # the longest trace header an asynchronous invocation row keeps


@dataclass(slots=True)
class Invocation:
    """One lambda subscription's delivery of one message."""

    function_arn: str  # the subscription's endpoint: a function ARN, possibly qualified with a version or alias
    event: bytes
    trace: str  # the publisher's X-Amzn-Trace-Id, or ""
    dead_letter: tuple[Queue, dict[str, Any]] | None = None  # the subscription's dead-letter queue and its message
    topic_arn: str | None = None  # set when a function of another account needs its policy's grant (auth = sigv4)


def deliver(tx: Tx, invocations: list[Invocation], now: int) -> None:
    """Writer thread, inside the publishing transaction: invoke each existing function asynchronously; for a
    missing one, dead-letter the notification (or drop it when the subscription has no dead-letter queue)."""
    found: dict[tuple[str, str | None], bool] = {}
    for inv in invocations:
        key = (inv.function_arn, inv.topic_arn)
        exists = found.get(key)
        if exists is None:
            exists = found[key] = function_exists(tx.conn, inv.function_arn) and _granted(tx.conn, inv)
        if exists:
            region, account = inv.function_arn.split(":")[3:5]
            trace = inv.trace if len(inv.trace) <= MAX_TRACE else ""
            lambda_store.enqueue_async(tx, ids.uuid4(), account, region, inv.function_arn, inv.event, None, trace, now)
        elif inv.dead_letter is not None:
            queue, row = inv.dead_letter
            enqueue(tx, queue, [row], now)
        else:
            log.info("SNS delivery to %s dropped: no such function or grant (nor dead-letter queue)", inv.function_arn)


def _granted(conn: Connection, inv: Invocation) -> bool:
    """Whether the topic may invoke the function: always within its account, or with auth = "none"."""
    if inv.topic_arn is None:
        return True
    found = policy_of(conn, inv.function_arn)
    if found is None:
        return False
    policy, resource = found
    return grants.may_deliver(inv.topic_arn, inv.function_arn.split(":")[4], policy, "lambda:InvokeFunction", resource)


def function_exists(conn: Connection, arn: str) -> bool:
    """Whether a function ARN names a function, and its qualifier ($LATEST, a version or an alias) exists."""
    parts = arn.split(":")  # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    if len(parts) not in (7, 8) or parts[2] != "lambda" or parts[5] != "function":
        return False
    region, account, name = parts[3], parts[4], parts[6]
    qualifier = parts[7] if len(parts) == 8 else lambda_store.LATEST
    if qualifier == lambda_store.LATEST or qualifier.isdigit():
        return lambda_store.get_version(conn, account, region, name, qualifier) is not None
    function = lambda_store.get_function(conn, account, region, name)
    return function is not None and lambda_store.get_alias(conn, function.id, qualifier) is not None
