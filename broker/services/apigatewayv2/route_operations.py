"""Routes (route keys checked as API Gateway checks them: `$default`, `<METHOD> /path` with `{param}` and a last
`{proxy+}` for HTTP APIs; any key, `$connect`/`$disconnect`/`$default` included, for WebSocket APIs), their route
responses (WebSocket) and request parameters. Every change redeploys the API's auto-deploy stages."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigatewayv2 import common, errors, responses, store
from broker.services.apigatewayv2.common import HTTP, WEBSOCKET
from broker.services.apigatewayv2.responses import ResponseKind
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

HTTP_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
SEGMENT = re.compile(r"^(?:[^{}/]+|\{[A-Za-z0-9._-]+\}|\{[A-Za-z0-9._-]+\+\})$")
AUTHORIZATION_TYPES = {HTTP: ("NONE", "AWS_IAM", "CUSTOM", "JWT"), WEBSOCKET: ("NONE", "AWS_IAM", "CUSTOM")}
WEBSOCKET_MEMBERS = ("ModelSelectionExpression", "RequestModels", "RouteResponseSelectionExpression")
UPDATABLE = (
    "ApiKeyRequired", "AuthorizationScopes", "AuthorizationType", "AuthorizerId", "ModelSelectionExpression",
    "OperationName", "RequestModels", "RequestParameters", "RouteKey", "RouteResponseSelectionExpression", "Target",
)  # fmt: skip


def _invalid_key(key: str) -> ServiceError:
    return errors.bad_request(
        f"Invalid route key: {key}. Route key must be $default or of the form '<HTTP METHOD> <resource path>'"
    )


def check_route_key(protocol: str, key: str) -> None:
    if protocol == WEBSOCKET or key == "$default":
        if not key.strip():
            raise _invalid_key(key)
        return
    method, sep, path = key.partition(" ")
    if not sep or method not in HTTP_METHODS or not path.startswith("/"):
        raise _invalid_key(key)
    if path == "/":
        return
    segments = path[1:].split("/")
    for i, segment in enumerate(segments):
        if not SEGMENT.match(segment) or (segment.endswith("+}") and i != len(segments) - 1):
            raise _invalid_key(key)
    names = [s[1:-1].rstrip("+") for s in segments if s.startswith("{")]
    if len(names) != len(set(names)):
        raise _invalid_key(key)


def _shape(key: str) -> tuple[str, list[str]]:
    method, _, path = key.partition(" ")
    return method, path.strip("/").split("/")


def check_conflicts(key: str, routes: list[Doc], route_id: str | None) -> None:
    for other in routes:
        if other["RouteId"] == route_id:
            continue
        if other["RouteKey"] == key:
            raise errors.conflict(f"Route with key {key} already exists for this API")
        if key.startswith("$") or other["RouteKey"].startswith("$"):
            continue
        (m1, s1), (m2, s2) = _shape(key), _shape(other["RouteKey"])
        if m1 != m2 or len(s1) != len(s2):
            continue
        # the same path up to a segment where both have a variable with different names
        for a, b in zip(s1, s2, strict=True):
            if a.startswith("{") and b.startswith("{") and a != b and a.endswith("+}") == b.endswith("+}"):
                raise errors.conflict(
                    f'The provided route key "{key}" has a conflicting variable on the same hierarchical level as '
                    f'"{other["RouteKey"]}"'
                )
            if a != b:
                break


def check_route(tx: Tx, ctx: RequestContext, api: Doc, route: Doc) -> None:
    protocol, api_id = api["ProtocolType"], api["ApiId"]
    check_route_key(protocol, route["RouteKey"])
    auth = route.get("AuthorizationType", "NONE")
    if auth not in AUTHORIZATION_TYPES[protocol]:
        raise errors.bad_request(f"AuthorizationType {auth} is not supported for {protocol} APIs")
    if protocol == HTTP:
        for member in WEBSOCKET_MEMBERS:
            if route.get(member) is not None:
                raise errors.websocket_only(member)
        if route.get("ApiKeyRequired"):
            raise errors.websocket_only("ApiKeyRequired")
        if route.get("RequestParameters"):
            raise errors.websocket_only("RequestParameters")
    authorizer_id = route.get("AuthorizerId")
    if auth in ("CUSTOM", "JWT"):
        if not authorizer_id:
            raise errors.bad_request(f"AuthorizerId is required for authorization type {auth}")
        authorizer = store.get(tx.conn, ctx.account, ctx.region, store.AUTHORIZER, api_id, authorizer_id)
        if authorizer is None:
            raise errors.authorizer_not_found(authorizer_id)
        wanted = "JWT" if auth == "JWT" else "REQUEST"
        if authorizer["AuthorizerType"] != wanted:
            raise errors.bad_request(
                f"AuthorizationType {auth} does not match the type of authorizer {authorizer_id} "
                f"({authorizer['AuthorizerType']})"
            )
    elif authorizer_id:
        raise errors.bad_request(f"AuthorizerId can not be set for authorization type {auth}")
    if route.get("AuthorizationScopes") and auth != "JWT" and protocol == HTTP:
        raise errors.bad_request("AuthorizationScopes are supported only for JWT authorizers")
    target = route.get("Target")
    if target is not None:
        m = re.fullmatch(r"integrations/([^/]+)", target)
        if m is None:
            raise errors.bad_request(f"Invalid target {target}: must be of the form integrations/<IntegrationId>")
        if store.get(tx.conn, ctx.account, ctx.region, store.INTEGRATION, api_id, m.group(1)) is None:
            raise errors.integration_not_found(m.group(1))
    for name in route.get("RequestParameters") or {}:
        if not re.fullmatch(r"route\.request\.(header|querystring)\.[^.]+", name):
            raise errors.bad_request(f"Invalid request parameter {name}")


def _route_or_404(conn: Connection, ctx: RequestContext, api_id: str, route_id: str) -> Doc:
    found = store.get(conn, ctx.account, ctx.region, store.ROUTE, api_id, route_id)
    if found is None:
        raise errors.route_not_found(route_id)
    return found


async def create_route(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["ApiId"]
    route: Doc = {"ApiKeyRequired": bool(p.get("ApiKeyRequired", False))}
    if p.get("AuthorizationScopes") is not None:
        route["AuthorizationScopes"] = p["AuthorizationScopes"]
    route["AuthorizationType"] = p.get("AuthorizationType") or "NONE"
    for key in (
        "AuthorizerId", "ModelSelectionExpression", "OperationName", "RequestModels", "RequestParameters",
    ):  # fmt: skip
        if p.get(key) is not None:
            route[key] = p[key]
    route["RouteId"] = common.new_id(7)
    route["RouteKey"] = p["RouteKey"]
    for key in ("RouteResponseSelectionExpression", "Target"):
        if p.get(key) is not None:
            route[key] = p[key]

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        check_route(tx, ctx, api, route)
        check_conflicts(route["RouteKey"], store.listing(tx.conn, ctx.account, ctx.region, store.ROUTE, api_id), None)
        store.add(tx, ctx.account, ctx.region, store.ROUTE, api_id, route["RouteId"], route)
        common.changed(tx, ctx.account, ctx.region, api_id)
        return route

    return common.answer(await ctx.env.db.write(write))


async def get_route(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> Doc:
        common.api_or_404(conn, ctx, p["ApiId"])
        found = store.get(conn, ctx.account, ctx.region, store.ROUTE, p["ApiId"], p["RouteId"])
        if found is None:
            raise errors.route_not_found(p["RouteId"])
        return found

    return common.answer(await ctx.env.db.read(read))


async def get_routes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> list[Doc]:
        common.api_or_404(conn, ctx, p["ApiId"])
        return store.listing(conn, ctx.account, ctx.region, store.ROUTE, p["ApiId"])

    return common.answered_page(await ctx.env.db.read(read), "RouteId", p)


async def update_route(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, route_id = p["ApiId"], p["RouteId"]

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        route = _route_or_404(tx.conn, ctx, api_id, route_id)
        if route.get("ApiGatewayManaged") and p.get("RouteKey") not in (None, route["RouteKey"]):
            raise errors.bad_request("The route key of a route managed by API Gateway can not be updated")
        for key in UPDATABLE:
            if p.get(key) is not None:
                route[key] = p[key]
        if route.get("AuthorizationType") in ("NONE", "AWS_IAM") and p.get("AuthorizerId") is None:
            route.pop("AuthorizerId", None)  # AWS drops the authorizer when the route stops using one
        if route.get("AuthorizationType") != "JWT" and p.get("AuthorizationScopes") is None:
            route.pop("AuthorizationScopes", None)
        check_route(tx, ctx, api, route)
        routes = store.listing(tx.conn, ctx.account, ctx.region, store.ROUTE, api_id)
        check_conflicts(route["RouteKey"], routes, route_id)
        store.put(tx, ctx.account, ctx.region, store.ROUTE, api_id, route_id, route)
        common.changed(tx, ctx.account, ctx.region, api_id)
        return route

    return common.answer(await ctx.env.db.write(write))


async def delete_route(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, route_id = p["ApiId"], p["RouteId"]

    def write(tx: Tx) -> None:
        common.api_or_404(tx.conn, ctx, api_id)
        _route_or_404(tx.conn, ctx, api_id, route_id)
        store.remove(tx, ctx.account, ctx.region, store.ROUTE, api_id, [route_id])
        store.remove_children(tx, ctx.account, ctx.region, store.ROUTE_RESPONSE, store.child_key(api_id, route_id))
        common.changed(tx, ctx.account, ctx.region, api_id)

    await ctx.env.db.write(write)
    return {}


async def delete_route_request_parameter(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, route_id, name = p["ApiId"], p["RouteId"], p["RequestParameterKey"]

    def write(tx: Tx) -> None:
        common.api_or_404(tx.conn, ctx, api_id)
        route = _route_or_404(tx.conn, ctx, api_id, route_id)
        params = route.get("RequestParameters") or {}
        if name not in params:
            raise errors.not_found(f"Invalid request parameter key specified: {name}")
        del params[name]
        route["RequestParameters"] = params
        store.put(tx, ctx.account, ctx.region, store.ROUTE, api_id, route_id, route)
        common.changed(tx, ctx.account, ctx.region, api_id)

    await ctx.env.db.write(write)
    return {}


ROUTE_RESPONSES = ResponseKind(
    name="RouteResponse",
    parent="Route",
    kind=store.ROUTE_RESPONSE,
    parent_kind=store.ROUTE,
    members=("ModelSelectionExpression", "ResponseModels", "ResponseParameters"),
    not_found=errors.route_response_not_found,
    parent_not_found=errors.route_not_found,
)


HANDLERS = {
    "CreateRoute": create_route,
    "GetRoute": get_route,
    "GetRoutes": get_routes,
    "UpdateRoute": update_route,
    "DeleteRoute": delete_route,
    "DeleteRouteRequestParameter": delete_route_request_parameter,
    **responses.handlers(ROUTE_RESPONSES),
}
