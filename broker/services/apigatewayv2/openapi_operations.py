"""ExportApi (OpenAPI 3.0 of an HTTP API, its latest configuration or a stage's deployment), ImportApi (a new HTTP
API from an OpenAPI document) and ReimportApi (an API's routes, integrations, authorizers and CORS replaced by a
document's). Imported objects pass the same checks as the operations that create them one by one."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext
from broker.services.apigatewayv2 import (
    api_operations,
    authorizer_operations,
    common,
    errors,
    integration_operations,
    openapi,
    route_operations,
    store,
)
from broker.services.apigatewayv2.common import HTTP
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx


async def export_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["ApiId"]
    if p.get("ExportVersion") not in (None, "1.0"):
        raise errors.bad_request(f"Unsupported export version: {p['ExportVersion']}. Supported versions: 1.0")

    def read(conn: Any) -> Doc:
        api = common.api_or_404(conn, ctx, api_id)
        if api["ProtocolType"] != HTTP:
            raise errors.bad_request("Export is supported only for HTTP APIs")
        stage_name = p.get("StageName")
        if stage_name is None:
            return common.snapshot(conn, ctx.account, ctx.region, api_id, api)
        stage = store.get(conn, ctx.account, ctx.region, store.STAGE, api_id, stage_name)
        if stage is None:
            raise errors.stage_not_found(stage_name)
        deployment = None
        if stage.get("DeploymentId"):
            deployment = store.get(conn, ctx.account, ctx.region, store.DEPLOYMENT, api_id, stage["DeploymentId"])
        if deployment is None:
            raise errors.bad_request(f"Stage {stage_name} has no deployment to export")
        snap: Doc = deployment[store.SNAPSHOT]
        return snap

    snap = await ctx.env.db.read(read)
    document = openapi.export(
        snap["Api"], snap["Routes"], snap["Integrations"], snap["Authorizers"], p.get("IncludeExtensions", True)
    )
    return {"body": openapi.render(document, p["OutputType"])}


def _install(tx: Tx, ctx: RequestContext, api: Doc, plan: openapi.Plan) -> None:
    """Store a plan's authorizers, integrations and routes under an API (checked as their Create operations)."""
    api_id = api["ApiId"]
    ids: dict[str, str] = {}
    for name, spec in plan.authorizers.items():
        authorizer = authorizer_operations.build_authorizer(api, spec, common.new_id(6))
        authorizer_operations.check_authorizer(api, authorizer)
        store.add(tx, ctx.account, ctx.region, store.AUTHORIZER, api_id, authorizer["AuthorizerId"], authorizer)
        ids[name] = authorizer["AuthorizerId"]
    routes: list[Doc] = []
    for spec, integration_spec in plan.routes:
        route: Doc = {"ApiKeyRequired": False}
        if spec.get("AuthorizationScopes"):
            route["AuthorizationScopes"] = spec["AuthorizationScopes"]
        route["AuthorizationType"] = spec["AuthorizationType"]
        if spec.get("_Authorizer") in ids:
            route["AuthorizerId"] = ids[spec["_Authorizer"]]
        if spec.get("OperationName"):
            route["OperationName"] = spec["OperationName"]
        route["RouteId"] = common.new_id(7)
        route["RouteKey"] = spec["RouteKey"]
        if integration_spec is not None:
            if "IntegrationType" not in integration_spec:
                raise errors.bad_request(f"Invalid OpenAPI input: integration type missing for {spec['RouteKey']}")
            integration = integration_operations.build_integration(api, integration_spec, common.new_id(7))
            integration_operations.check_integration(api, integration)
            store.add(tx, ctx.account, ctx.region, store.INTEGRATION, api_id, integration["IntegrationId"], integration)
            route["Target"] = f"integrations/{integration['IntegrationId']}"
        route_operations.check_route(tx, ctx, api, route)
        route_operations.check_conflicts(route["RouteKey"], routes, None)
        routes.append(route)
        store.add(tx, ctx.account, ctx.region, store.ROUTE, api_id, route["RouteId"], route)


def _plan(p: dict[str, Any]) -> openapi.Plan:
    plan = openapi.parse(openapi.load(p["Body"]), p.get("Basepath"))
    if plan.warnings and p.get("FailOnWarnings"):
        raise errors.bad_request("Warnings found during import:\n\t" + "\n\t".join(plan.warnings))
    return plan


def _answer(api: Doc, plan: openapi.Plan) -> Doc:
    out = common.answer(api)
    if plan.warnings:
        out["Warnings"] = plan.warnings
    return out


async def import_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    plan = _plan(p)
    api = api_operations.build_api(ctx, {**plan.api, "ProtocolType": HTTP})

    def write(tx: Tx) -> None:
        store.add(tx, ctx.account, ctx.region, store.API, api["ApiId"], api["ApiId"], api)
        _install(tx, ctx, api, plan)

    await ctx.env.db.write(write)
    return _answer(api, plan)


async def reimport_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["ApiId"]
    plan = _plan(p)

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        if api["ProtocolType"] != HTTP:
            raise errors.bad_request("Import is supported only for HTTP APIs")
        for key in ("Name", "Description", "Version", "CorsConfiguration"):
            if key in plan.api:
                api[key] = plan.api[key]
            else:
                api.pop(key, None) if key != "Name" else None
        api_operations.check_cors(api.get("CorsConfiguration"))
        for kind in (store.ROUTE, store.INTEGRATION, store.AUTHORIZER):
            old = [d for d in store.listing(tx.conn, ctx.account, ctx.region, kind, api_id)]
            key = {store.ROUTE: "RouteId", store.INTEGRATION: "IntegrationId", store.AUTHORIZER: "AuthorizerId"}[kind]
            store.remove(tx, ctx.account, ctx.region, kind, api_id, [d[key] for d in old])
            child = {store.ROUTE: store.ROUTE_RESPONSE, store.INTEGRATION: store.INTEGRATION_RESPONSE}.get(kind)
            for d in old if child else []:
                store.remove_children(tx, ctx.account, ctx.region, child or "", store.child_key(api_id, d[key]))
        store.put(tx, ctx.account, ctx.region, store.API, api_id, api_id, api)
        _install(tx, ctx, api, plan)
        common.changed(tx, ctx.account, ctx.region, api_id)
        return api

    return _answer(await ctx.env.db.write(write), plan)


HANDLERS = {
    "ExportApi": export_api,
    "ImportApi": import_api,
    "ReimportApi": reimport_api,
}
