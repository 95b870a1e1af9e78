"""The rest of what the broker stores, one table each: EventBridge buses and rules, Scheduler schedules, CloudWatch
Logs groups, IAM roles and users (IAM is global: the same in every region of the account)."""

from __future__ import annotations

from typing import Any

from broker.console.operations import Operations
from broker.context import RequestContext
from broker.errors import ServiceError


async def gather(ctx: RequestContext, ops: Operations) -> dict[str, Any]:
    buses = await ops.pages(ctx, "events", "ListEventBuses", {}, "EventBuses", "NextToken", "NextToken")
    rules: list[dict[str, Any]] = []
    for bus in buses:
        try:
            rules += await ops.pages(
                ctx, "events", "ListRules", {"EventBusName": bus["Name"]}, "Rules", "NextToken", "NextToken"
            )
        except ServiceError:
            continue  # deleted since it was listed
    return {
        "buses": buses,
        "rules": rules,
        "schedules": await ops.pages(ctx, "scheduler", "ListSchedules", {}, "Schedules", "NextToken", "NextToken"),
        "log_groups": await ops.pages(ctx, "logs", "DescribeLogGroups", {}, "logGroups", "nextToken", "nextToken"),
        "roles": await ops.pages(ctx, "iam", "ListRoles", {}, "Roles", "Marker", "Marker"),
        "users": await ops.pages(ctx, "iam", "ListUsers", {}, "Users", "Marker", "Marker"),
    }
