"""API Gateway page: REST APIs (v1) and HTTP/WebSocket APIs (v2) with their stages and the URLs that invoke them
on this broker (the `/_aws/execute-api/<api-id>/<stage>/` form, which needs no DNS)."""

from __future__ import annotations

from typing import Any

from broker.console.operations import Operations
from broker.console.paging import Pager
from broker.context import RequestContext
from broker.errors import ServiceError


async def gather(ctx: RequestContext, ops: Operations, page: int = 1) -> dict[str, Any]:
    """One page of APIs, REST APIs first (their stages: one listing each)."""
    base = f"http://{ctx.host}/_aws/execute-api"
    rest_apis = await ops.pages(ctx, "apigateway", "GetRestApis", {"limit": 500}, "items", "position", "position")
    http_apis = await ops.pages(ctx, "apigatewayv2", "GetApis", {}, "Items", "NextToken", "NextToken")
    pager = Pager(page, len(rest_apis) + len(http_apis))
    shown = pager.of([*rest_apis, *http_apis])
    split = max(0, len(rest_apis) - pager.first_item)  # where the page's HTTP APIs start
    rest: list[dict[str, Any]] = []
    for api in shown[:split]:
        try:
            stages = (await ops.call(ctx, "apigateway", "GetStages", {"restApiId": api["id"]})).get("item") or []
        except ServiceError:
            continue
        urls = [(s["stageName"], f"{base}/{api['id']}/{s['stageName']}/") for s in stages]
        rest.append({"api": api, "stages": urls})
    http: list[dict[str, Any]] = []
    for api in shown[split:]:
        try:
            stages = await ops.pages(
                ctx, "apigatewayv2", "GetStages", {"ApiId": api["ApiId"]}, "Items", "NextToken", "NextToken"
            )
        except ServiceError:
            continue
        scheme_base = base.replace("http://", "ws://", 1) if api.get("ProtocolType") == "WEBSOCKET" else base
        urls = [
            (
                s["StageName"],
                f"{scheme_base}/{api['ApiId']}/" + ("" if s["StageName"] == "$default" else f"{s['StageName']}/"),
            )
            for s in stages
        ]
        http.append({"api": api, "stages": urls})
    return {"rest_apis": rest, "http_apis": http, "pager": pager}
