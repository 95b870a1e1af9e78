"""TestInvokeMethod: a request run through a method as it is configured now (not as deployed), from request
validation through the integration — authorizers, API keys and usage plans are bypassed, as API Gateway's test
invoke bypasses them — answered with the status, body, headers and an execution log."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from broker import clock, ids
from broker.context import RequestContext
from broker.services.apigateway import errors, execute, gateway_errors, lambda_proxy, routing, store
from broker.services.apigateway.call import Call, template_request
from broker.services.apigateway.deployment_operations import DEPLOYED, SNAPSHOT
from broker.services.apigateway.gateway_errors import GatewayError
from broker.services.apigateway.store import Doc

STAGE = "test-invoke-stage"


def _state(conn: Any, account: str, region: str, api_id: str) -> Doc | None:
    """The API as a deployment would freeze it now."""
    api = store.get(conn, account, region, store.REST_API, "", api_id)
    if api is None:
        return None
    frozen = {key: store.listing(conn, account, region, kind, api_id) for key, kind in DEPLOYED.items()}
    return {SNAPSHOT: store.listing(conn, account, region, store.RESOURCE, api_id), "_api": api, **frozen}


def _scope(p: dict[str, Any], path: str, query: str) -> dict[str, Any]:
    headers: list[tuple[bytes, bytes]] = []
    for name, values in (p.get("multiValueHeaders") or {}).items():
        headers += [(name.lower().encode("latin-1", "replace"), v.encode("latin-1", "replace")) for v in values]
    for name, value in (p.get("headers") or {}).items():
        headers.append((name.lower().encode("latin-1", "replace"), value.encode("latin-1", "replace")))
    return {
        "type": "http",
        "method": p["httpMethod"],
        "path": path,
        "raw_path": quote(path).encode(),
        "query_string": query.encode("latin-1", "replace"),
        "headers": headers,
        "http_version": "1.1",
        "client": ("test-invoke-source-ip", 0),
    }


async def test_invoke_method(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, resource_id, http_method = p["restApiId"], p["resourceId"], p["httpMethod"]
    state = await ctx.env.db.read(_state, ctx.account, ctx.region, api_id)
    if state is None:
        raise errors.api_not_found(ctx.account, api_id)
    resource = next((r for r in state[SNAPSHOT] if r["id"] == resource_id), None)
    if resource is None:
        raise errors.resource_not_found(ctx.account, resource_id)
    method = (resource.get("resourceMethods") or {}).get(http_method)
    if method is None:
        raise errors.method_not_found()
    parts = urlsplit(p.get("pathWithQueryString") or resource["path"])
    path = parts.path or "/"
    matched = routing.match(state[SNAPSHOT], http_method, quote(path))
    if matched is None or matched.resource["id"] != resource_id:
        matched = routing.Match(resource, method, {})
    request_id = ids.uuid4()
    call = Call(
        env=ctx.env,
        scope=_scope(p, path, parts.query),
        body=(p.get("body") or "").encode(),
        request_id=request_id,
        account=ctx.account,
        region=ctx.region,
        api=state["_api"],
        stage={"stageName": STAGE, "variables": p.get("stageVariables") or {}},
        deployment=state,
        matched=matched,
        path=path,
        started_ms=clock.now_ms(),
    )
    started = time.perf_counter()
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=None) as client:
        try:
            status, headers, content = await execute.integrate(call, client)
        except GatewayError as e:
            request = template_request(lambda_proxy.proxy_event(call), call.body)
            status, headers, content = gateway_errors.answer(e, call.deployed("_gatewayResponses"), request)
    latency = int((time.perf_counter() - started) * 1000)
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for k, v in headers:
        name, value = k.decode("latin-1"), v.decode("latin-1")
        single[name] = value
        multi.setdefault(name, []).append(value)
    return {
        "status": status,
        "body": content.decode("utf-8", "replace"),
        "headers": single,
        "multiValueHeaders": multi,
        "log": _log(request_id, call, status, content, latency),
        "latency": latency,
    }


def _log(request_id: str, call: Call, status: int, content: bytes, latency: int) -> str:
    """An execution log in API Gateway's shape (one timestamped line per step)."""
    when = datetime.fromtimestamp(clock.now_ms() / 1000, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
    query = call.scope["query_string"].decode("latin-1")
    lines = [
        f"Execution log for request {request_id}",
        f"{when} : Starting execution for request: {request_id}",
        f"{when} : HTTP Method: {call.method}, Resource Path: {call.path}",
        f"{when} : Method request path: {call.matched.path_parameters}",
        f"{when} : Method request query string: {{{query}}}",
        f"{when} : Method request body before transformations: {call.body.decode('utf-8', 'replace')}",
        f"{when} : Method response body after transformations: {content.decode('utf-8', 'replace')}",
        f"{when} : Successfully completed execution" if status < 400 else f"{when} : Execution failed",
        f"{when} : Method completed with status: {status}",
    ]
    return "\n".join(lines) + "\n"


HANDLERS = {"TestInvokeMethod": test_invoke_method}
