"""Scheduled and pending work: redrive (move) tasks, asynchronous invocations waiting for their next attempt, SNS
HTTP/S deliveries and EventBridge/Scheduler target deliveries waiting to be (re)tried. No AWS operation lists these
across resources, so they are read from the tables, read-only."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.console import store
from broker.context import RequestContext

LIMIT = 200


async def gather(ctx: RequestContext) -> dict[str, Any]:
    read, a, r = ctx.env.db.read, ctx.account, ctx.region
    return {
        "now": clock.now_ms(),
        "move_tasks": await read(store.move_tasks, a, r, LIMIT),
        "async_invocations": await read(store.async_invocations, a, r, LIMIT),
        "http_deliveries": await read(store.http_deliveries, a, r, LIMIT),
        "event_deliveries": await read(store.event_deliveries, a, r, LIMIT),
        "limit": LIMIT,
    }
