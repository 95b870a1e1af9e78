"""API keys on deployed APIs: a method that requires one answers only a request whose x-api-key is an enabled key
of a usage plan holding the API's stage; otherwise API Gateway's 403 "Forbidden"."""

from __future__ import annotations

import httpx

from tests.apigateway.helpers import mock_method


def test_api_key_required(broker, gw):
    api = gw.create_rest_api(name="keyed")
    api_id, root = api["id"], api["rootResourceId"]
    mock_method(gw, api_id, root, answer='{"ok": true}', apiKeyRequired=True)
    gw.create_deployment(restApiId=api_id, stageName="prod")
    key = gw.create_api_key(name="client", enabled=True, value="k" * 30)
    gw.create_api_key(name="outsider", enabled=True, value="o" * 30)
    plan = gw.create_usage_plan(name="plan", apiStages=[{"apiId": api_id, "stage": "prod"}])
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    url = f"{broker.url}/_aws/execute-api/{api_id}/prod/"

    def call(value: str | None) -> httpx.Response:
        return httpx.get(url, headers={"x-api-key": value} if value is not None else {}, timeout=30)

    assert (call(None).status_code, call(None).json()) == (403, {"message": "Forbidden"})
    assert call("wrong-key-value-0000000000").status_code == 403
    assert call("o" * 30).status_code == 403  # enabled, but in no plan of this stage
    r = call("k" * 30)
    assert (r.status_code, r.json()) == (200, {"ok": True})
    gw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])
    assert call("k" * 30).status_code == 403
