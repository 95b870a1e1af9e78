"""The ARNs EventBridge Scheduler answers, and the group a request names."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext
from broker.services.scheduler.store import DEFAULT_GROUP


def schedule_arn(ctx: RequestContext, group: str, name: str) -> str:
    return arn_of(ctx.account, ctx.region, group, name)


def arn_of(account: str, region: str, group: str, name: str) -> str:
    return f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}"


def group_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:scheduler:{ctx.region}:{ctx.account}:schedule-group/{name}"


def group_name(p: dict[str, Any]) -> str:
    """A schedule's group: `default` when the request names none."""
    return str(p.get("GroupName") or DEFAULT_GROUP)
