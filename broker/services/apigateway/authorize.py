"""Authorization of a request on the data plane (placeholder until the authorizers are run: methods pass)."""

from __future__ import annotations

from broker.services.apigateway.call import Call


async def authorize(call: Call) -> None:
    """Run the method's authorizer (authorizationType CUSTOM / COGNITO_USER_POOLS / AWS_IAM)."""
    return None
