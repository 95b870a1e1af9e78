"""What a schedule's firing hands to EventBridge's delivery (events/targets.py): the Delivery of its target — the
templated targets' parameters (SqsParameters, KinesisParameters, EventBridgeParameters), RetryPolicy,
DeadLetterConfig — with the context attributes substituted into Input for each attempt, and the attributes Scheduler
gives a dead-lettered firing's SQS message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from broker.services.events.targets import (
    ATTEMPT_PAYLOAD,
    DEAD_LETTER_ATTRIBUTES,
    MAX_ERROR_MESSAGE,
    Delivery,
    TargetError,
    _text,
)
from broker.services.scheduler.universal import is_universal

# RetryPolicy's defaults are the delivery's own (185 retries, 24 hours).
DEFAULT_RETRY_ATTEMPTS: int = Delivery.max_attempts
DEFAULT_MAX_AGE_S: int = Delivery.max_age_s
# What a target receives when the schedule's Target has no Input.
DEFAULT_INPUT = "{}"
_CONTEXT = "<aws.scheduler."


def scheduled_time(ms: int) -> str:
    """As the <aws.scheduler.scheduled-time> context attribute writes it: 2022-03-22T18:59:43Z."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_input(text: str, arn: str, nominal: int, execution_id: str, attempt: int) -> str:
    """Input with the context attributes replaced by their values (user guide, "Adding context attributes")."""
    for key, value in (
        ("<aws.scheduler.schedule-arn>", arn),
        ("<aws.scheduler.scheduled-time>", scheduled_time(nominal)),
        ("<aws.scheduler.execution-id>", execution_id),
        ("<aws.scheduler.attempt-number>", str(attempt)),
    ):
        text = text.replace(key, value)
    return text


def firing(
    account: str, region: str, arn: str, target: dict[str, Any], nominal: int, execution_id: str, now: int
) -> Delivery:
    """The Delivery of one firing of a schedule whose Target is `target`, its payload rendered for attempt 1."""
    retry = target.get("RetryPolicy") or {}
    extra: dict[str, Any] = {}
    bridge = target.get("EventBridgeParameters")
    if bridge:
        extra = {"DetailType": bridge["DetailType"], "Source": bridge["Source"]}
    text = target.get("Input") or DEFAULT_INPUT
    if _CONTEXT in text:  # kept raw: a retry renders it again with its own attempt number
        extra.update(Input=text, ScheduledTime=nominal)
    if is_universal(target["Arn"]):  # the call is made as a session of the target's role
        extra["RoleArn"] = target.get("RoleArn")
    return Delivery(
        account=account,
        region=region,
        origin="schedule",
        source_arn=arn,
        target_arn=target["Arn"],
        payload=render_input(text, arn, nominal, execution_id, 1),
        event_id=execution_id,
        accepted_at=now,
        message_group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
        partition_key=(target.get("KinesisParameters") or {}).get("PartitionKey"),
        max_attempts=int(retry.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)),
        max_age_s=int(retry.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S)),
        dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"),
        extra=extra,
    )


def attempt_payload(delivery: Delivery, attempt: int) -> str:
    """The payload of a firing's `attempt`-th attempt (the dispatcher's retries)."""
    text = delivery.extra.get("Input")
    if text is None:
        return delivery.payload
    nominal = int(delivery.extra["ScheduledTime"])
    return render_input(str(text), delivery.source_arn, nominal, delivery.event_id, attempt)


def dead_letter_attributes(
    delivery: Delivery, error: TargetError | None, retries: int, condition: str
) -> dict[str, dict[str, Any]]:
    """Scheduler's message attributes of a dead-lettered firing (user guide, "Configuring a dead-letter queue")."""
    group = delivery.source_arn.split(":schedule/", 1)[-1].split("/", 1)[0]
    code = error.code if error else condition or "EVENT_EXPIRED"
    message = error.message if error else "The event expired before it could be delivered."
    return {
        "X-Amz-Scheduler-Attempt": {"DataType": "Number", "StringValue": str(retries + 1)},
        "X-Amz-Scheduler-Schedule-Arn": _text(delivery.source_arn),
        "X-Amz-Scheduler-Group": _text(group),
        "X-Amz-Scheduler-Target-Arn": _text(delivery.target_arn),
        "X-Amz-Scheduler-Error-Code": _text(code),
        "X-Amz-Scheduler-Error-Message": _text(message[:MAX_ERROR_MESSAGE]),
    }


DEAD_LETTER_ATTRIBUTES["schedule"] = dead_letter_attributes
ATTEMPT_PAYLOAD["schedule"] = attempt_payload
