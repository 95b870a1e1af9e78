"""STS operations."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext


async def get_caller_identity(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.caller
    return {"UserId": caller.user_id, "Account": caller.account, "Arn": caller.arn}


HANDLERS = {"GetCallerIdentity": get_caller_identity}
