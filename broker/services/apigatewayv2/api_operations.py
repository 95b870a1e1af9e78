"""APIs (HTTP and WebSocket): created (HTTP APIs also by quick create: an integration with the target, a route to it
and a `$default` stage that deploys itself), read, listed, updated, deleted with everything under them, and their
CORS configuration removed."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext
from broker.services.apigatewayv2 import common, errors, store
from broker.services.apigatewayv2.common import HTTP, WEBSOCKET
from broker.services.apigatewayv2.route_operations import check_route_key
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

HTTP_ROUTE_SELECTION = "$request.method $request.path"
HTTP_ROUTE_SELECTION_FORMS = (HTTP_ROUTE_SELECTION, "${request.method} ${request.path}")
API_KEY_SELECTIONS = ("$request.header.x-api-key", "$context.authorizer.usageIdentifierKey")
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*")
QUICK_CREATE = ("Target", "RouteKey", "CredentialsArn")


def endpoint(ctx: RequestContext, api_id: str, protocol: str) -> str:
    scheme = "wss" if protocol == WEBSOCKET else "https"
    return f"{scheme}://{api_id}.execute-api.{ctx.region}.amazonaws.com"


def check_cors(cors: Doc | None) -> None:
    if cors is None:
        return
    for method in cors.get("AllowMethods") or []:
        if method.upper() not in CORS_METHODS:
            raise errors.bad_request(f"Invalid CORS configuration: unsupported method {method}")
    origins = cors.get("AllowOrigins") or []
    if cors.get("AllowCredentials") and "*" in origins:
        raise errors.bad_request(
            "CORS configuration: allowCredentials can not be true when allowOrigins contains a wildcard '*'"
        )


def _check(api: Doc) -> None:
    protocol = api["ProtocolType"]
    if api.get("ApiKeySelectionExpression") not in API_KEY_SELECTIONS:
        raise errors.bad_request(
            "ApiKeySelectionExpression must be one of: $request.header.x-api-key, "
            "$context.authorizer.usageIdentifierKey"
        )
    if protocol == HTTP:
        if api.get("RouteSelectionExpression") not in HTTP_ROUTE_SELECTION_FORMS:
            raise errors.bad_request("RouteSelectionExpression must be ${request.method} ${request.path} for HTTP APIs")
        check_cors(api.get("CorsConfiguration"))
    else:
        if not api.get("RouteSelectionExpression"):
            raise errors.bad_request("RouteSelectionExpression is required for WEBSOCKET APIs")
        if api.get("CorsConfiguration") is not None:
            raise errors.http_only("CorsConfiguration")


def _integration_for_target(target: str, credentials: str | None) -> Doc:
    """The integration quick create makes for a target: Lambda (payload 2.0) or an HTTP URL (proxied)."""
    doc: Doc = {"ApiGatewayManaged": True, "ConnectionType": "INTERNET"}
    if target.startswith("arn:"):
        if ":lambda:" not in target:
            raise errors.bad_request(f"Invalid target {target}: must be a Lambda function ARN or an HTTP(S) URL")
        doc.update(IntegrationMethod="POST", IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0")
    elif target.startswith(("http://", "https://")):
        doc.update(IntegrationMethod="ANY", IntegrationType="HTTP_PROXY", PayloadFormatVersion="1.0")
    else:
        raise errors.bad_request(f"Invalid target {target}: must be a Lambda function ARN or an HTTP(S) URL")
    if credentials is not None:
        doc["CredentialsArn"] = credentials
    doc["IntegrationUri"] = target
    doc["TimeoutInMillis"] = 30000
    return doc


def build_api(ctx: RequestContext, p: dict[str, Any]) -> Doc:
    """A new API's document (checked) from CreateApi's members."""
    protocol = p["ProtocolType"]
    api_id = common.new_id(10)
    api: Doc = {"ApiEndpoint": endpoint(ctx, api_id, protocol), "ApiId": api_id}
    api["ApiKeySelectionExpression"] = p.get("ApiKeySelectionExpression") or "$request.header.x-api-key"
    if p.get("CorsConfiguration") is not None:
        api["CorsConfiguration"] = p["CorsConfiguration"]
    api["CreatedDate"] = common.now_iso()
    if p.get("Description") is not None:
        api["Description"] = p["Description"]
    api["DisableExecuteApiEndpoint"] = bool(p.get("DisableExecuteApiEndpoint", False))
    if p.get("DisableSchemaValidation") is not None:
        if protocol == HTTP:
            raise errors.websocket_only("DisableSchemaValidation")
        api["DisableSchemaValidation"] = p["DisableSchemaValidation"]
    api["IpAddressType"] = p.get("IpAddressType") or "ipv4"
    api["Name"] = p["Name"]
    api["ProtocolType"] = protocol
    if protocol == HTTP:
        api["RouteSelectionExpression"] = HTTP_ROUTE_SELECTION
        if p.get("RouteSelectionExpression") not in (None, *HTTP_ROUTE_SELECTION_FORMS):
            api["RouteSelectionExpression"] = p["RouteSelectionExpression"]
    elif p.get("RouteSelectionExpression") is not None:
        api["RouteSelectionExpression"] = p["RouteSelectionExpression"]
    api["Tags"] = dict(p.get("Tags") or {})
    if p.get("Version") is not None:
        api["Version"] = p["Version"]
    _check(api)
    return api


async def create_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api = build_api(ctx, p)
    api_id, protocol = api["ApiId"], api["ProtocolType"]
    target = p.get("Target")
    quick = any(p.get(k) is not None for k in QUICK_CREATE)
    if quick and protocol == WEBSOCKET:
        raise errors.bad_request("Quick create is not supported for WEBSOCKET APIs")
    if quick and target is None:
        raise errors.bad_request("Target is required for quick create")
    integration: Doc | None = None
    route_key = p.get("RouteKey") or "$default"
    if target is not None:
        common.check_arn(p.get("CredentialsArn"), "CredentialsArn")
        integration = _integration_for_target(target, p.get("CredentialsArn"))
        check_route_key(HTTP, route_key)

    def write(tx: Tx) -> None:
        store.add(tx, ctx.account, ctx.region, store.API, api_id, api_id, api)
        if integration is None:
            return
        integration_id = common.new_id(7)
        integration["IntegrationId"] = integration_id
        store.add(tx, ctx.account, ctx.region, store.INTEGRATION, api_id, integration_id, integration)
        route_id = common.new_id(7)
        route: Doc = {
            "ApiGatewayManaged": True, "ApiKeyRequired": False, "AuthorizationType": "NONE", "RouteId": route_id,
            "RouteKey": route_key, "Target": f"integrations/{integration_id}",
        }  # fmt: skip
        store.add(tx, ctx.account, ctx.region, store.ROUTE, api_id, route_id, route)
        now = common.now_iso()
        stage: Doc = {
            "ApiGatewayManaged": True, "AutoDeploy": True, "CreatedDate": now,
            "DefaultRouteSettings": {"DetailedMetricsEnabled": False}, "LastUpdatedDate": now, "RouteSettings": {},
            "StageName": "$default", "StageVariables": {}, "Tags": {},
        }  # fmt: skip
        common.auto_deploy_stage(tx, ctx.account, ctx.region, api, stage)

    await ctx.env.db.write(write)
    return common.answer(api)


async def get_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return common.answer(await common.api(ctx, p["ApiId"]))


async def get_apis(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    apis = await ctx.env.db.read(store.list_apis, ctx.account, ctx.region)
    return common.answered_page(apis, "ApiId", p)


UPDATABLE = (
    "ApiKeySelectionExpression", "CorsConfiguration", "Description", "DisableExecuteApiEndpoint",
    "DisableSchemaValidation", "IpAddressType", "Name", "RouteSelectionExpression", "Version",
)  # fmt: skip


async def update_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["ApiId"]

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        protocol = api["ProtocolType"]
        for key in UPDATABLE:
            if p.get(key) is not None:
                api[key] = p[key]
        if protocol == HTTP and api.get("RouteSelectionExpression") in HTTP_ROUTE_SELECTION_FORMS:
            api["RouteSelectionExpression"] = HTTP_ROUTE_SELECTION
        if protocol == HTTP and p.get("DisableSchemaValidation") is not None:
            raise errors.websocket_only("DisableSchemaValidation")
        _check(api)
        if any(p.get(k) is not None for k in QUICK_CREATE):
            if protocol == WEBSOCKET:
                raise errors.bad_request("Quick create is not supported for WEBSOCKET APIs")
            _quick_update(tx, ctx, api_id, p)
        store.put(tx, ctx.account, ctx.region, store.API, api_id, api_id, api)
        common.changed(tx, ctx.account, ctx.region, api_id)
        return api

    return common.answer(await ctx.env.db.write(write))


def _quick_update(tx: Tx, ctx: RequestContext, api_id: str, p: dict[str, Any]) -> None:
    """Target, RouteKey and CredentialsArn of UpdateApi change the managed integration and route quick create made."""
    account, region = ctx.account, ctx.region
    integrations = [
        i for i in store.listing(tx.conn, account, region, store.INTEGRATION, api_id) if i.get("ApiGatewayManaged")
    ]
    routes = [r for r in store.listing(tx.conn, account, region, store.ROUTE, api_id) if r.get("ApiGatewayManaged")]
    if not integrations or not routes:
        raise errors.bad_request("Target, RouteKey and CredentialsArn can only be updated on APIs made by quick create")
    integration, route = integrations[0], routes[0]
    if p.get("Target") is not None or p.get("CredentialsArn") is not None:
        common.check_arn(p.get("CredentialsArn"), "CredentialsArn")
        fresh = _integration_for_target(
            p.get("Target") or integration["IntegrationUri"], p.get("CredentialsArn", integration.get("CredentialsArn"))
        )
        fresh["IntegrationId"] = integration["IntegrationId"]
        store.put(tx, account, region, store.INTEGRATION, api_id, integration["IntegrationId"], fresh)
    if p.get("RouteKey") is not None:
        check_route_key(HTTP, p["RouteKey"])
        route["RouteKey"] = p["RouteKey"]
        store.put(tx, account, region, store.ROUTE, api_id, route["RouteId"], route)


async def delete_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["ApiId"]

    def write(tx: Tx) -> None:
        common.api_or_404(tx.conn, ctx, api_id)
        store.remove_http_api(tx, ctx.account, ctx.region, api_id)
        for key, mapping in store.listing_any(tx.conn, ctx.account, ctx.region, store.API_MAPPING):
            if mapping.get("ApiId") == api_id:
                store.remove(tx, ctx.account, ctx.region, store.API_MAPPING, key, [mapping["ApiMappingId"]])

    await ctx.env.db.write(write)
    return {}


async def delete_cors_configuration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["ApiId"]

    def write(tx: Tx) -> None:
        api = common.api_or_404(tx.conn, ctx, api_id)
        if api["ProtocolType"] == WEBSOCKET:
            raise errors.http_only("CorsConfiguration")
        api.pop("CorsConfiguration", None)
        store.put(tx, ctx.account, ctx.region, store.API, api_id, api_id, api)
        common.changed(tx, ctx.account, ctx.region, api_id)

    await ctx.env.db.write(write)
    return {}


HANDLERS = {
    "CreateApi": create_api,
    "GetApi": get_api,
    "GetApis": get_apis,
    "UpdateApi": update_api,
    "DeleteApi": delete_api,
    "DeleteCorsConfiguration": delete_cors_configuration,
}
