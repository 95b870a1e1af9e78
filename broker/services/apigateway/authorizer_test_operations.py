"""TestInvokeAuthorizer (run an API's current Lambda authorizer on a simulated request) and
FlushStageAuthorizersCache (drop a stage's cached authorizer results in every process)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.services.apigateway import common, errors, lambda_proxy, routing, store
from broker.services.apigateway.authorize import (
    COGNITO_UNSUPPORTED,
    authorizer_event,
    identity_values,
    method_arn,
    request_sources,
    run_authorizer,
)
from broker.services.apigateway.authorizer_cache import stage_key
from broker.services.apigateway.authorizer_operations import get_authorizer
from broker.services.apigateway.call import Call
from broker.services.apigateway.deployment_operations import stage_not_found
from broker.services.apigateway.gateway_errors import GatewayError

TEST_STAGE = "test-invoke-stage"
TEST_METHOD = "GET"
TEST_SOURCE_IP = "test-invoke-source-ip"


def _simulated(ctx: RequestContext, api: dict[str, Any], p: dict[str, Any]) -> Call:
    """The request a test invoke describes, as the data plane would hold it."""
    path, _, query = str(p.get("pathWithQueryString") or "/").partition("?")
    path = "/" + path.lstrip("/")
    headers: list[tuple[bytes, bytes]] = []
    for name, value in (p.get("headers") or {}).items():
        headers.append((name.encode("latin-1", "replace"), str(value).encode("latin-1", "replace")))
    for name, values in (p.get("multiValueHeaders") or {}).items():
        for value in values or []:
            headers.append((name.encode("latin-1", "replace"), str(value).encode("latin-1", "replace")))
    scope = {
        "type": "http",
        "method": TEST_METHOD,
        "path": path,
        "query_string": query.encode("latin-1", "replace"),
        "headers": headers,
        "http_version": "1.1",
        "client": (TEST_SOURCE_IP, 0),
    }
    return Call(
        env=ctx.env,
        scope=scope,
        body=str(p.get("body") or "").encode(),
        request_id=ids.uuid4(),
        account=ctx.account,
        region=ctx.region,
        api=api,
        stage={"stageName": TEST_STAGE, "variables": dict(p.get("stageVariables") or {})},
        deployment={},
        matched=routing.Match(resource={"id": "", "path": path}, method={}, path_parameters={}),
        path=path,
        started_ms=clock.now_ms(),
    )


def _stamp() -> str:
    return datetime.fromtimestamp(clock.now_ms() / 1000, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


async def test_invoke_authorizer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    api = await common.rest_api(ctx, api_id)
    authorizer = await get_authorizer(ctx, {"restApiId": api_id, "authorizerId": p["authorizerId"]})
    if authorizer.get("type") == "COGNITO_USER_POOLS":
        raise errors.bad_request(COGNITO_UNSUPPORTED)
    call = _simulated(ctx, api, p)
    request = lambda_proxy.proxy_event(call)
    sources = request_sources(call, request)
    sources["context"] = {**sources["context"], **(p.get("additionalContext") or {})}
    started = time.monotonic()
    log = [f"Execution log for request {call.request_id}"]
    log.append(f"{_stamp()} : Starting authorizer: {authorizer['id']} for request: {call.request_id}")
    try:
        identity = identity_values(authorizer, sources)
        log.append(f"{_stamp()} : Incoming identity: {json.dumps(identity)}")
        arn = method_arn(ctx.region, ctx.account, api_id, TEST_STAGE, TEST_METHOD, call.path)
        event = authorizer_event(authorizer, identity, arn, request)
        log.append(f"{_stamp()} : Endpoint request body after transformations: {json.dumps(event)}")
        result = await run_authorizer(call, authorizer, event)
    except GatewayError as e:
        latency = int((time.monotonic() - started) * 1000)
        log.append(f"{_stamp()} : {e.error_type or e.response_type}")
        log.append(f"{_stamp()} : Authorizer latency: {latency} ms")
        return {"clientStatus": e.status, "log": "\n".join(log) + "\n", "latency": latency}
    latency = int((time.monotonic() - started) * 1000)
    policy = json.dumps(result["policyDocument"])
    log.append(f"{_stamp()} : Authorizer result body before parsing: {json.dumps(_answer(result))}")
    log.append(f"{_stamp()} : Using valid authorizer policy for principal: {result['principalId']}")
    log.append(f"{_stamp()} : Successfully completed authorizer execution")
    log.append(f"{_stamp()} : Authorizer latency: {latency} ms")
    return {
        "clientStatus": 200,
        "log": "\n".join(log) + "\n",
        "latency": latency,
        "principalId": result["principalId"],
        "policy": policy,
    }


def _answer(result: dict[str, Any]) -> dict[str, Any]:
    out = {"principalId": result["principalId"], "policyDocument": result["policyDocument"]}
    if result["context"]:
        out["context"] = result["context"]
    if result.get("usageIdentifierKey") is not None:
        out["usageIdentifierKey"] = result["usageIdentifierKey"]
    return out


async def flush_stage_authorizers_cache(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, stage = p["restApiId"], p["stageName"]
    await common.rest_api(ctx, api_id)
    if await ctx.env.db.read(store.get, ctx.account, ctx.region, store.STAGE, api_id, stage) is None:
        raise stage_not_found()
    # Each process holds its own cache: the broadcast empties this stage's entries in all of them.
    ctx.env.notifier.broadcast({stage_key(ctx.account, ctx.region, api_id, stage)})
    return {}


HANDLERS = {
    "TestInvokeAuthorizer": test_invoke_authorizer,
    "FlushStageAuthorizersCache": flush_stage_authorizers_cache,
}
