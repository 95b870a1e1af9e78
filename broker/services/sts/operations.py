"""STS operations."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext


async def get_caller_identity(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"UserId": ctx.account, "Account": ctx.account, "Arn": f"arn:aws:iam::{ctx.account}:root"}


HANDLERS = {"GetCallerIdentity": get_caller_identity}
