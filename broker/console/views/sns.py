"""SNS page: topics with their attributes and subscriptions (pending confirmations, failing HTTP/S deliveries)."""

from __future__ import annotations

from typing import Any

from broker.console import store
from broker.console.operations import Operations
from broker.console.paging import Pager
from broker.context import RequestContext
from broker.errors import ServiceError


async def gather(ctx: RequestContext, ops: Operations, page: int = 1) -> dict[str, Any]:
    listed = await ops.pages(ctx, "sns", "ListTopics", {}, "Topics", "NextToken", "NextToken")
    pager = Pager(page, len(listed))
    failing = await ctx.env.db.read(store.failed_delivery_counts, ctx.account, ctx.region)
    topics: list[dict[str, Any]] = []
    for entry in pager.of(listed):
        arn = entry["TopicArn"]
        try:
            attrs = (await ops.call(ctx, "sns", "GetTopicAttributes", {"TopicArn": arn})).get("Attributes") or {}
            subs = await ops.pages(
                ctx, "sns", "ListSubscriptionsByTopic", {"TopicArn": arn}, "Subscriptions", "NextToken", "NextToken"
            )
        except ServiceError:
            continue
        for sub in subs:
            sub["Pending"] = sub.get("SubscriptionArn") == "PendingConfirmation"
            sub["FailingDeliveries"] = failing.get((arn, sub.get("Protocol", ""), sub.get("Endpoint", "")), 0)
        topics.append(
            {
                "arn": arn,
                "name": arn.rsplit(":", 1)[-1],
                "fifo": attrs.get("FifoTopic") == "true",
                "confirmed": int(attrs.get("SubscriptionsConfirmed", 0)),
                "pending": int(attrs.get("SubscriptionsPending", 0)),
                "attributes": dict(sorted((k, v) for k, v in attrs.items() if k != "Policy")),
                "subscriptions": subs,
            }
        )
    return {"topics": topics, "pager": pager}
