"""API keys on the data plane: a method with apiKeyRequired answers only requests that present an enabled key (the
`x-api-key` header, or the Lambda authorizer's usageIdentifierKey when the API's apiKeySource is AUTHORIZER) that a
usage plan of this API stage holds (API Gateway's 403 "Forbidden" otherwise); the key and its plan are noted on the
call for the plan's throttle and quota (usage.py). The key, its value index, the plans and their keys are the rows
the control plane writes (key_operations.py)."""

from __future__ import annotations

from sqlalchemy import Connection

from broker.services.apigateway import store
from broker.services.apigateway.call import Call, Doc
from broker.services.apigateway.gateway_errors import GatewayError


def plan_key(
    conn: Connection, account: str, region: str, api_id: str, stage: str, value: str
) -> tuple[Doc, Doc] | None:
    """(key, usage plan) of an enabled key with this value in a plan serving the API stage, else None."""
    if not value:
        return None
    index = store.get(conn, account, region, store.API_KEY_VALUE, "", value)
    key = store.get(conn, account, region, store.API_KEY, "", index["id"]) if index else None
    if key is None or not key.get("enabled"):
        return None
    for plan in store.listing(conn, account, region, store.USAGE_PLAN, ""):
        serves = any(s.get("apiId") == api_id and s.get("stage") == stage for s in plan.get("apiStages") or [])
        if serves and store.get(conn, account, region, store.USAGE_PLAN_KEY, plan["id"], key["id"]) is not None:
            return key, plan
    return None


async def check(call: Call) -> None:
    """Admit a request to a method that requires an API key, noting the key and its plan on the call."""
    if not call.matched.method.get("apiKeyRequired"):
        return
    if call.api.get("apiKeySource", "HEADER") == "AUTHORIZER":
        value = str(call.extras.get("usage_identifier_key") or "")
    else:
        value = call.header(b"x-api-key")
    found = await call.env.db.read(plan_key, call.account, call.region, call.api_id, call.stage["stageName"], value)
    if found is None:
        raise GatewayError("INVALID_API_KEY")
    call.api_key, call.extras["usage_plan"] = found
