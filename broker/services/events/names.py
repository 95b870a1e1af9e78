"""How requests name buses and rules (names or ARNs), and the ARNs AWS answers for them."""

from __future__ import annotations

from typing import Any

from broker import paging
from broker.context import RequestContext
from broker.services.events.errors import invalid_next_token
from broker.services.events.store import DEFAULT_BUS

MAX_TARGETS = 5  # per rule (EventBridge quota)


def bus_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:events:{ctx.region}:{ctx.account}:event-bus/{name}"


def rule_arn(ctx: RequestContext, bus: str, name: str) -> str:
    """Rules of custom buses carry the bus in their ARN; those of the default bus do not."""
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:aws:events:{ctx.region}:{ctx.account}:rule/{path}"


def bus_of_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, Region, bus name) of an event bus ARN; None when the ARN names something else."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "events" or not parts[5].startswith("event-bus/"):
        return None
    return parts[4], parts[3], parts[5].removeprefix("event-bus/")


def bus_name(p: dict[str, Any], member: str = "EventBusName") -> str:
    """The bus a request names by name or ARN (the model's pattern admits both); `default` when absent."""
    value = p.get(member)
    if not value:
        return DEFAULT_BUS
    text = str(value)
    if text.startswith("arn:"):
        return text.split("event-bus/", 1)[-1]
    return text


def page_after(p: dict[str, Any]) -> str | None:
    """The name a NextToken continues after; ValidationException for a token that is not ours."""
    if p.get("NextToken") is None:
        return None
    after = paging.after_of(p["NextToken"])
    if not isinstance(after, str):
        raise invalid_next_token()
    return after
