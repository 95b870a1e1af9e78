"""API keys on the data plane: a method with apiKeyRequired answers only requests whose `x-api-key` header names an
enabled key that a usage plan of this API stage holds (API Gateway's 403 "Forbidden" otherwise). The key, its value
index, the plans and their keys are the rows the control plane writes (key_operations.py)."""

from __future__ import annotations

from sqlalchemy import Connection

from broker.services.apigateway import store


def allows(conn: Connection, account: str, region: str, api_id: str, stage: str, value: str) -> bool:
    if not value:
        return False
    index = store.get(conn, account, region, store.API_KEY_VALUE, "", value)
    key = store.get(conn, account, region, store.API_KEY, "", index["id"]) if index else None
    if key is None or not key.get("enabled"):
        return False
    for plan in store.listing(conn, account, region, store.USAGE_PLAN, ""):
        serves = any(s.get("apiId") == api_id and s.get("stage") == stage for s in plan.get("apiStages") or [])
        if serves and store.get(conn, account, region, store.USAGE_PLAN_KEY, plan["id"], key["id"]) is not None:
            return True
    return False
