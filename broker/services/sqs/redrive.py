"""Dead-letter queues: redrive policies, ListDeadLetterSourceQueues and message move tasks."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import Connection

from broker import clock, ids
from broker.context import RequestContext
from broker.services.sqs import move_store, store
from broker.services.sqs.errors import invalid_parameter, invalid_value, resource_not_found, source_arn_not_found
from broker.services.sqs.queues import Queue, by_arn, name_page, parse_arn, queue_url, resolve
from broker.services.sqs.receive_store import DeadLetterTarget

MAX_VELOCITY = 500  # MaxNumberOfMessagesPerSecond, as AWS limits it


async def check_redrive_policy(ctx: RequestContext, source_arn: str, source_fifo: bool, policy: str | None) -> None:
    """The dead-letter target must exist in the same account and region, be of the same type, and allow this
    source by its RedriveAllowPolicy."""
    if not policy:
        return
    target_arn = json.loads(policy)["deadLetterTargetArn"]
    parsed = parse_arn(target_arn)
    if parsed is None or parsed[:2] != (ctx.region, source_arn.split(":")[4]):
        raise invalid_value(
            "RedrivePolicy", policy, "Dead-letter target must be in the same account and region as the source queue."
        )
    if target_arn == source_arn:
        raise invalid_value("RedrivePolicy", policy, "Dead-letter target can't be the source queue itself.")
    target = await by_arn(ctx, target_arn)
    if target is None:
        raise invalid_value("RedrivePolicy", policy, "Dead letter target does not exist.")
    if target.fifo != source_fifo:
        raise invalid_value("RedrivePolicy", policy, "Dead-letter queue must be same type of queue as the source.")
    allow = target.attrs.get("RedriveAllowPolicy")
    if allow:
        doc = json.loads(allow)
        permission = doc["redrivePermission"]
        if permission == "denyAll" or (permission == "byQueue" and source_arn not in doc["sourceQueueArns"]):
            raise invalid_value(
                "RedrivePolicy",
                policy,
                f"Queue {target_arn} does not allow {source_arn} to use it as a dead-letter queue.",
            )


async def dead_letter_target(ctx: RequestContext, queue: Queue) -> DeadLetterTarget | None:
    """What receive needs to move over-received messages, or None when the queue has no (existing) DLQ."""
    if not queue.dlq_arn:
        return None
    target = await by_arn(ctx, queue.dlq_arn)
    if target is None:
        return None
    return DeadLetterTarget(
        id=target.id,
        fifo=target.fifo,
        retention=target.retention,
        max_receives=queue.max_receives,
        source_arn=queue.arn,
    )


async def list_dead_letter_source_queues(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await resolve(ctx, p["QueueUrl"], "sqs:ListDeadLetterSourceQueues")

    def fetch(conn: Connection, after: str | None, limit: int) -> list[str]:
        return store.dead_letter_sources(conn, queue.account, queue.region, queue.arn, after, limit)

    names, token = await name_page(ctx, p, fetch)
    out: dict[str, Any] = {"queueUrls": [queue_url(ctx, queue.account, n, queue.region) for n in names]}
    if token:
        out["NextToken"] = token
    return out


# -- move tasks --------------------------------------------------------------------------------------------
async def start_message_move_task(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    source_arn = p["SourceArn"]
    source = await by_arn(ctx, source_arn, "sqs:StartMessageMoveTask")
    if source is None:
        raise source_arn_not_found()
    if not await ctx.env.db.read(store.has_dead_letter_sources, source_arn):
        raise invalid_parameter("Source queue must be configured as a Dead Letter Queue.")
    destination_arn = p.get("DestinationArn")
    if destination_arn is not None:
        destination = await by_arn(ctx, destination_arn, "sqs:StartMessageMoveTask")
        if destination is None:
            raise resource_not_found("The resource that you specified for the DestinationArn parameter doesn't exist.")
        if destination.fifo != source.fifo:
            raise invalid_parameter("The source queue and the destination queue must be of the same type.")
        if destination_arn == source_arn:
            raise invalid_parameter("The source queue and the destination queue must be different.")
    rate = p.get("MaxNumberOfMessagesPerSecond")
    if rate is not None and not 1 <= rate <= MAX_VELOCITY:
        raise invalid_value("MaxNumberOfMessagesPerSecond", rate, f"must be between 1 and {MAX_VELOCITY}.")
    now = clock.now_ms()
    task_id = ids.uuid4()
    handle = base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn}).encode()).decode()
    await ctx.env.db.write(
        move_store.start_move_task,
        {
            "handle": handle,
            "account": source.account,
            "region": source.region,
            "source_arn": source_arn,
            "destination_arn": destination_arn,
            "rate": rate,
            "status": "RUNNING",
            "started_at": now,
            "failure_reason": None,
            "progress_at": clock.wall_ms(),
        },
    )
    return {"TaskHandle": handle}


async def list_message_move_tasks(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    source_arn = p["SourceArn"]
    if await by_arn(ctx, source_arn, "sqs:ListMessageMoveTasks") is None:
        raise source_arn_not_found()
    max_results = p.get("MaxResults")
    if max_results is not None and not 1 <= max_results <= 10:
        raise invalid_value("MaxResults", max_results, "must be between 1 and 10.")
    tasks = await ctx.env.db.read(move_store.list_move_tasks, source_arn, max_results or 1)
    return {"Results": [_task(t) for t in tasks]}


def _task(t: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Status": t["status"],
        "SourceArn": t["source_arn"],
        "ApproximateNumberOfMessagesMoved": t["moved"],
        "ApproximateNumberOfMessagesToMove": t["to_move"],
        "StartedTimestamp": t["started_at"],
    }
    if t["status"] == "RUNNING":
        out["TaskHandle"] = t["handle"]
    if t["destination_arn"]:
        out["DestinationArn"] = t["destination_arn"]
    if t["rate"]:
        out["MaxNumberOfMessagesPerSecond"] = t["rate"]
    if t["failure_reason"]:
        out["FailureReason"] = t["failure_reason"]
    return out


async def cancel_message_move_task(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    handle = p["TaskHandle"]
    try:
        doc = json.loads(base64.b64decode(handle, validate=True))
        valid = isinstance(doc, dict) and {"taskId", "sourceArn"} <= set(doc)
    except (ValueError, TypeError):
        valid = False
    if not valid or not isinstance(doc["sourceArn"], str) or not isinstance(doc["taskId"], str):
        raise invalid_parameter("Value for parameter TaskHandle is invalid.")
    # The handle names the source queue and the task: AWS looks up the queue first, then the task.
    if await by_arn(ctx, doc["sourceArn"], "sqs:CancelMessageMoveTask") is None:
        raise source_arn_not_found()
    task = await ctx.env.db.write(move_store.cancel_move_task, doc["sourceArn"], doc["taskId"])
    return {"ApproximateNumberOfMessagesMoved": task["moved"]}
