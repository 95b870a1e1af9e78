"""Handing an event to a target, inside the transaction that accepted it: what EventBridge rules (and EventBridge
Scheduler schedules, and replays) deliver to. A target the broker keeps in its own database (an SQS queue, an SNS
topic, a Lambda function's asynchronous invocations, a Kinesis stream, another event bus) receives the event in the
same transaction; anything else (API destinations, Scheduler's universal targets) and every failed attempt becomes a
row of events_deliveries, sent and retried by the delivery dispatcher (delivery.py) under the target's RetryPolicy,
then dead-lettered."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from broker import ids
from broker.services.base import Env
from broker.services.events import delivery_store, permission_operations
from broker.services.kinesis import store as kinesis_store
from broker.services.kinesis.streams import ARN as STREAM_ARN
from broker.services.kinesis.streams import partition_hash
from broker.services.lambda_ import store as lambda_store
from broker.services.sns import local_publish
from broker.services.sns.lambda_delivery import function_exists
from broker.services.sns.messages import Envelopes
from broker.services.sqs.enqueue import content_dedup_id, enqueue, message_row
from broker.services.sqs.queues import queue_by_arn
from broker.storage.db import Tx

log = logging.getLogger("broker.events.delivery")


@dataclass(frozen=True)
class Delivery:
    """One event for one target, with everything resolved against the event already (paths, templates)."""

    account: str
    region: str
    origin: str  # "rule" (EventBridge, also replays) or "schedule" (EventBridge Scheduler)
    source_arn: str  # the rule's or the schedule's ARN: dead-letter attributes name it
    target_arn: str
    payload: str  # the text the target receives
    event_id: str  # EventBridge's event id (SQS FIFO deduplication id), or the schedule's invocation id
    accepted_at: int  # ms: MaximumEventAgeInSeconds counts from here
    message_group_id: str | None = None  # SQS FIFO targets
    partition_key: str | None = None  # Kinesis targets
    max_attempts: int = 185  # RetryPolicy.MaximumRetryAttempts
    max_age_s: int = 86_400  # RetryPolicy.MaximumEventAgeInSeconds
    dead_letter_arn: str | None = None  # DeadLetterConfig.Arn (an SQS queue)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. HttpParameters, Scheduler's EventBridgeParameters


# Targets outside the database: (claims this target ARN?, send it) — API destinations, Scheduler universal targets.
# A sender raises TargetError on failure; the dispatcher retries or dead-letters the delivery.
RemoteSender = Callable[[Env, Delivery], Awaitable[None]]
REMOTE_SENDERS: list[tuple[Callable[[str], bool], RemoteSender]] = []


class TargetError(Exception):
    """A failed attempt: `code` and `message` as the dead-letter message's attributes name them; `retryable` False
    sends the delivery to its dead-letter queue at once (e.g. the target does not exist)."""

    def __init__(self, code: str, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


# The dead-letter message attributes of a delivery that failed for good, by origin: (delivery, last error or None,
# the retries made (attempts after the first), the exhausted condition "MaximumRetryAttempts" /
# "MaximumEventAgeInSeconds", or "" for an error that is not retried) -> SQS message attributes.
DeadLetterAttributes = Callable[["Delivery", "TargetError | None", int, str], dict[str, dict[str, Any]]]
DEAD_LETTER_ATTRIBUTES: dict[str, DeadLetterAttributes] = {}

# The payload of a stored delivery's n-th attempt, by origin ("schedule": Scheduler's Input names the attempt number);
# origins without an entry send the same payload every time.
AttemptPayload = Callable[["Delivery", int], str]
ATTEMPT_PAYLOAD: dict[str, AttemptPayload] = {}


def for_attempt(delivery: Delivery, attempt: int) -> Delivery:
    render = ATTEMPT_PAYLOAD.get(delivery.origin)
    return dataclasses.replace(delivery, payload=render(delivery, attempt)) if render else delivery


MAX_HOPS = 4  # bus-to-bus forwarding of one event ends here (a cycle of buses)
BACKOFF_FIRST_MS = 1_000
BACKOFF_MAX_MS = 300_000
EVENTBRIDGE_SENDER_ID = "AIDAEVENTBRIDGEEXAMPLE"  # the SenderId SQS shows for what EventBridge sent
MAX_ERROR_MESSAGE = 1024


class _Bound:
    """This process's facilities that deliveries need outside a request (bound once by the events service)."""

    env: Env | None = None
    envelopes: Envelopes | None = None


def bind(env: Env) -> None:
    _Bound.env = env
    _Bound.envelopes = local_publish.envelopes_for(env)


def deliver(tx: Tx, delivery: Delivery, now: int) -> None:
    """Deliver now when the target is in this database, else (or when that fails) store the delivery for the
    dispatcher. Never raises for a target's failure: the event was accepted."""
    deliver_many(tx, [delivery], now)


def deliver_many(tx: Tx, deliveries: list[Delivery], now: int) -> None:
    """deliver() for several deliveries at once: the deliveries to one target are handed over together (the target
    looked up once, a queue's messages inserted together in order, a stream's records put in one call)."""
    by_target: dict[str, list[Delivery]] = {}
    for d in deliveries:
        if remote_sender(d.target_arn) is not None:
            delivery_store.add(tx, d, now, 0, None)
        else:
            by_target.setdefault(d.target_arn, []).append(d)
    for group in by_target.values():
        for d, error in send_local_many(tx, group, now):
            failed(tx, d, error, 1, now)


def remote_sender(arn: str) -> RemoteSender | None:
    for claims, send in REMOTE_SENDERS:
        if claims(arn):
            return send
    return None


def backoff_ms(attempts: int) -> int:
    """Exponential backoff with jitter after `attempts` failed attempts."""
    delay: int = min(BACKOFF_FIRST_MS << min(attempts - 1, 30), BACKOFF_MAX_MS)
    return delay // 2 + random.randrange(delay // 2 + 1)  # jitter, not secrecy


def failed(tx: Tx, delivery: Delivery, error: TargetError, attempts: int, now: int, row_id: int | None = None) -> None:
    """After the `attempts`-th attempt failed: schedule the next one (the stored row, or a new one), or, when the
    error is not retried or the retry policy is spent, dead-letter the delivery (and drop its row)."""
    retries = attempts - 1
    condition = ""
    if error.retryable:
        due = now + backoff_ms(attempts)
        if retries >= delivery.max_attempts:
            condition = "MaximumRetryAttempts"
        elif due - delivery.accepted_at > delivery.max_age_s * 1000:
            condition = "MaximumEventAgeInSeconds"
        else:
            if row_id is None:
                delivery_store.add(tx, delivery, due, attempts, error_doc(error))
            else:
                delivery_store.reschedule(tx, row_id, due, error_doc(error))
            return
    if row_id is not None:
        delivery_store.remove(tx, row_id)
    dead_letter(tx, delivery, error, retries, condition, now)


def expired(tx: Tx, delivery: Delivery, error: TargetError | None, attempts: int, row_id: int, now: int) -> None:
    """A stored delivery older than its MaximumEventAgeInSeconds: not attempted again."""
    delivery_store.remove(tx, row_id)
    dead_letter(tx, delivery, error, max(attempts - 1, 0), "MaximumEventAgeInSeconds", now)


def error_doc(error: TargetError) -> str:
    return json.dumps({"code": error.code, "message": error.message, "retryable": error.retryable})


def error_of(doc: str | None) -> TargetError | None:
    if not doc:
        return None
    d = json.loads(doc)
    return TargetError(d["code"], d["message"], d.get("retryable", True))


def dead_letter(tx: Tx, delivery: Delivery, error: TargetError | None, retries: int, condition: str, now: int) -> None:
    """The payload to the target's dead-letter queue with the origin's attributes; dropped (logged) without one,
    or when the queue is not one EventBridge takes as a dead-letter queue (user guide, "Using dead-letter queues":
    a standard queue in the rule's Region)."""
    why = f"{error.code}: {error.message}" if error else condition
    arn = delivery.dead_letter_arn
    queue = queue_by_arn(tx.conn, arn) if arn else None
    problem = ""
    if arn and queue is None:
        problem = f": dead-letter queue {arn} does not exist"
    elif queue is not None and queue.fifo:
        problem = f": dead-letter queue {arn} is a FIFO queue"
    elif arn and arn.split(":")[3:4] != [delivery.region]:
        problem = f": dead-letter queue {arn} is not in Region {delivery.region}"
    if queue is None or problem:
        log.warning("Event %s for %s dropped (%s)%s", delivery.event_id, delivery.target_arn, why, problem)
        return
    make = DEAD_LETTER_ATTRIBUTES.get(delivery.origin)
    attrs = make(delivery, error, retries, condition) if make else {}
    row = message_row(queue, delivery.payload, attrs, {}, EVENTBRIDGE_SENDER_ID, now)
    enqueue(tx, queue, [row], now)


def rule_dead_letter_attributes(
    delivery: Delivery, error: TargetError | None, retries: int, condition: str
) -> dict[str, dict[str, Any]]:
    """EventBridge's attributes of a dead-lettered event (user guide, "Using dead-letter queues"). An event that
    ran out of time with no attempt's error on record (never attempted, or an attempt cut short) says UNKNOWN, one
    of the documented ERROR_CODE values."""
    attrs = {
        "RULE_ARN": _text(delivery.source_arn),
        "TARGET_ARN": _text(delivery.target_arn),
        "ERROR_CODE": _text(error.code if error else "UNKNOWN"),
        "ERROR_MESSAGE": _text((error.message if error else _NOT_DELIVERED)[:MAX_ERROR_MESSAGE]),
        "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": str(retries)},
    }
    if condition:
        attrs["EXHAUSTED_RETRY_CONDITION"] = _text(condition)
    return attrs


DEAD_LETTER_ATTRIBUTES["rule"] = rule_dead_letter_attributes
_NOT_DELIVERED = "The event was not delivered within its MaximumEventAgeInSeconds."


def _text(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _no_resource(kind: str, arn: str) -> TargetError:
    # A target that does not exist is not retried (user guide): straight to the dead-letter queue.
    return TargetError("NO_RESOURCE", f"{kind} {arn} does not exist.", retryable=False)


# -- the targets kept in this database ------------------------------------------------------------------------
# A local sender hands deliveries to one target (all with the same target ARN) in the caller's transaction and
# answers the ones the target refused, with why.
Refused = list[tuple[Delivery, TargetError]]


def send_local(tx: Tx, d: Delivery, now: int) -> None:
    """Hand the delivery to its target in this transaction; TargetError when the target cannot take it."""
    for _, error in send_local_many(tx, [d], now):
        raise error


def send_local_many(tx: Tx, ds: list[Delivery], now: int) -> Refused:
    """Hand deliveries to one target in this transaction; the refused ones with their errors."""
    parts = ds[0].target_arn.split(":", 5)
    sender = _LOCAL.get(parts[2] if len(parts) == 6 else "")
    if sender is None:
        return [(d, TargetError("NO_RESOURCE", f"Target {d.target_arn} is not supported.", False)) for d in ds]
    return sender(tx, ds, now)


_FIFO_NEEDS_CONTENT_DEDUP = (
    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
)


def _to_queue(tx: Tx, ds: list[Delivery], now: int) -> Refused:
    """Messages of one queue, inserted together in order. EventBridge sends no deduplication id: a FIFO target
    needs content-based deduplication (the model's Target.SqsParameters), else SQS refuses the message."""
    queue = queue_by_arn(tx.conn, ds[0].target_arn)
    if queue is None:
        return [(d, _no_resource("Queue", d.target_arn)) for d in ds]
    refused: Refused = []
    rows = []
    for d in ds:
        problem = ""
        if len(d.payload.encode()) > queue.max_size:
            problem = "Message must be shorter than the queue's MaximumMessageSize."
        elif queue.fifo and not d.message_group_id:
            problem = "The request must contain the parameter MessageGroupId."
        elif queue.fifo and not queue.content_dedup:
            problem = _FIFO_NEEDS_CONTENT_DEDUP
        if problem:
            refused.append((d, TargetError("INVALID_PARAMETER", problem, retryable=False)))
            continue
        group, dedup = (d.message_group_id, content_dedup_id(d.payload)) if queue.fifo else (None, None)
        rows.append(message_row(queue, d.payload, {}, {}, EVENTBRIDGE_SENDER_ID, now, group=group, dedup=dedup))
    if rows:
        enqueue(tx, queue, rows, now)
    return refused


def _to_topic(tx: Tx, ds: list[Delivery], now: int) -> Refused:
    envelopes = _Bound.envelopes
    if envelopes is None:
        return [(d, TargetError("INTERNAL_ERROR", "SNS is not served by this broker.")) for d in ds]
    arn = ds[0].target_arn
    outcome = local_publish.publish_many(tx, envelopes, arn, [d.payload for d in ds], {}, now, "")
    if outcome == "no_topic":
        return [(d, _no_resource("Topic", arn)) for d in ds]
    if outcome == "fifo":
        error = TargetError("INVALID_PARAMETER", "FIFO topics are not supported as targets.", retryable=False)
        return [(d, error) for d in ds]
    return []


def _to_function(tx: Tx, ds: list[Delivery], now: int) -> Refused:
    arn = ds[0].target_arn
    if not function_exists(tx.conn, arn):
        return [(d, _no_resource("Function", arn)) for d in ds]
    region, account = arn.split(":")[3:5]
    for d in ds:
        lambda_store.enqueue_async(tx, ids.uuid4(), account, region, arn, d.payload.encode(), None, "", now)
    return []


def _to_stream(tx: Tx, ds: list[Delivery], now: int) -> Refused:
    """One put of every record; the ones over their shard's write limit are refused (THROTTLING, retried)."""
    arn = ds[0].target_arn
    m = STREAM_ARN.match(arn)
    stream = kinesis_store.get_stream(tx.conn, m.group(2), m.group(1), m.group(3)) if m else None
    if stream is None or stream.status_at(now) in ("CREATING", "DELETING") or not stream.open_shards:
        return [(d, _no_resource("Stream", arn)) for d in ds]
    items = []
    for d in ds:
        key = d.partition_key or d.event_id
        if stream.auto_distribution:
            idx = stream.open_shards[random.randrange(len(stream.open_shards))][2]  # spread, not secrecy
        else:
            idx = stream.shard_for(partition_hash(key))
        items.append((idx, key, d.payload.encode()))
    limited = bool(_Bound.env and _Bound.env.settings.kinesis_throughput_limits)
    try:
        placed = kinesis_store.put_records(tx, stream.id, items, limited)
    except kinesis_store.ShardClosed:
        error = TargetError("RESOURCE_MODIFICATION_COLLISION", "The stream is being resharded.")
        return [(d, error) for d in ds]
    return [
        (d, TargetError("THROTTLING", f"Rate exceeded for shard shardId-{idx:012d} in stream {stream.name}."))
        for d, (idx, _, _), at in zip(ds, items, placed, strict=True)
        if at is None
    ]


def _to_bus(tx: Tx, ds: list[Delivery], now: int) -> Refused:
    return [(d, error) for d in ds if (error := _to_one_bus(tx, d, now)) is not None]


def _to_one_bus(tx: Tx, d: Delivery, now: int) -> TargetError | None:
    """Put the event on the target bus. A bus of another account takes it only if its policy lets the rule's
    account put events there; a refusal is not retried (missing permissions, user guide)."""
    from broker.services.events import routing, store  # routing delivers through this module

    region, account, resource = d.target_arn.split(":", 5)[3:6]
    bus = resource.removeprefix("event-bus/")
    if not resource.startswith("event-bus/"):
        return _no_resource("Event bus", d.target_arn)
    if account != d.account:
        if not permission_operations.allows_put(store.get_bus(tx.conn, account, region, bus), d.account, account):
            message = f"Account {d.account} is not authorized to put events on event bus {d.target_arn}."
            return TargetError("NO_PERMISSIONS", message, retryable=False)
    elif not store.bus_exists(tx.conn, account, region, bus):
        return _no_resource("Event bus", d.target_arn)
    hops = int(d.extra.get("hops", 0)) + 1
    if hops > MAX_HOPS:
        log.warning("Event %s dropped: forwarded through more than %d event buses", d.event_id, MAX_HOPS)
        return None
    if "DetailType" in d.extra and "Source" in d.extra:  # EventBridge Scheduler's EventBridgeParameters
        resources = [d.source_arn] if d.origin == "schedule" else []  # the schedule that sent it
        event = routing.new_event(account, region, d.extra["Source"], d.extra["DetailType"], resources, _detail(d), now)
    else:
        event = json.loads(d.payload)
    routing.put_event(tx, account, region, bus, event, now, hops)
    return None


def _detail(d: Delivery) -> Any:
    try:
        return json.loads(d.payload)
    except ValueError:
        return d.payload


_LOCAL: dict[str, Callable[[Tx, list[Delivery], int], Refused]] = {
    "sqs": _to_queue,
    "sns": _to_topic,
    "lambda": _to_function,
    "kinesis": _to_stream,
    "events": _to_bus,
}
