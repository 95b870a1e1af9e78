"""Access logs of a stage (placeholder until written to CloudWatch Logs)."""

from __future__ import annotations

from broker.services.apigateway.call import Call


async def record(call: Call, status: int, length: int) -> None:
    """Append the request's line in the stage's accessLogSettings format to its log group."""
    return None
