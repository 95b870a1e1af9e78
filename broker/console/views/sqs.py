"""SQS page: queues with their counts, attributes, dead-letter links and redrive (move) tasks."""

from __future__ import annotations

import json
from typing import Any

from broker.console.operations import Operations
from broker.console.paging import Pager
from broker.context import RequestContext
from broker.errors import ServiceError


async def gather(ctx: RequestContext, ops: Operations, page: int = 1) -> dict[str, Any]:
    """One page of queues (their attributes: one GetQueueAttributes each); the redrive sources a dead-letter
    queue shows are those of the same page."""
    urls = await ops.pages(ctx, "sqs", "ListQueues", {"MaxResults": 1000}, "QueueUrls", "NextToken", "NextToken")
    pager = Pager(page, len(urls))
    queues: list[dict[str, Any]] = []
    for url in pager.of(urls):
        try:
            result = await ops.call(ctx, "sqs", "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})
        except ServiceError:
            continue  # deleted since it was listed
        attrs: dict[str, str] = result.get("Attributes") or {}
        redrive = _json(attrs.get("RedrivePolicy"))
        queues.append(
            {
                "name": url.rstrip("/").rsplit("/", 1)[-1],
                "url": url,
                "arn": attrs.get("QueueArn", ""),
                "fifo": attrs.get("FifoQueue") == "true",
                "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                "delayed": int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
                "dlq_arn": redrive.get("deadLetterTargetArn", ""),
                "max_receives": redrive.get("maxReceiveCount", ""),
                "attributes": dict(sorted(attrs.items())),
                "sources": [],
                "tasks": [],
            }
        )
    by_arn = {q["arn"]: q for q in queues}
    for q in queues:
        target = by_arn.get(q["dlq_arn"])
        if target is not None:
            target["sources"].append(q["name"])
    for q in queues:
        if q["sources"]:
            try:
                moved = await ops.call(ctx, "sqs", "ListMessageMoveTasks", {"SourceArn": q["arn"], "MaxResults": 10})
            except ServiceError:
                continue
            q["tasks"] = moved.get("Results") or []
    return {"queues": queues, "by_arn": {arn: q["name"] for arn, q in by_arn.items()}, "pager": pager}


def _json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
