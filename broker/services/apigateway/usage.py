"""Usage plans and throttling on the data plane (placeholder until throttles and quotas are enforced)."""

from __future__ import annotations

from broker.services.apigateway.call import Call


async def admit(call: Call) -> None:
    """Throttle (stage/method settings, the usage plan's throttle) and count the request against its plan's quota."""
    return None
