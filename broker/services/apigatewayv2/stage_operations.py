"""Stages: the deployment each serves (or AutoDeploy: a fresh deployment after every change of the API), stage
variables, default and per-route settings (throttling; execution logs only for WebSocket APIs), access logs."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.services.apigatewayv2 import common, errors, store
from broker.services.apigatewayv2.common import HTTP, WEBSOCKET
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

STAGE_NAME = re.compile(r"^[a-zA-Z0-9_\-]{1,128}$")
STAGE_VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
STAGE_VARIABLE_VALUE = re.compile(r"^[A-Za-z0-9\-._~:/?#&=,]*$")
LOG_SETTINGS = ("DataTraceEnabled", "LoggingLevel")


def _default_route_settings(protocol: str) -> Doc:
    if protocol == WEBSOCKET:
        return {"DataTraceEnabled": False, "DetailedMetricsEnabled": False, "LoggingLevel": "OFF"}
    return {"DetailedMetricsEnabled": False}


def _check_settings(protocol: str, settings: Doc | None) -> None:
    if not settings:
        return
    if protocol == HTTP and any(settings.get(k) is not None for k in LOG_SETTINGS):
        raise errors.bad_request("Execution logs are not supported on protocol HTTP")
    burst, rate = settings.get("ThrottlingBurstLimit"), settings.get("ThrottlingRateLimit")
    if burst is not None and burst < 0:
        raise errors.bad_request("ThrottlingBurstLimit must be a non-negative integer")
    if rate is not None and rate < 0:
        raise errors.bad_request("ThrottlingRateLimit must be a non-negative number")


def _check(conn: Connection, ctx: RequestContext, api: Doc, stage: Doc) -> None:
    protocol = api["ProtocolType"]
    name = stage["StageName"]
    if not (STAGE_NAME.match(name) or (name == "$default" and protocol == HTTP)):
        raise errors.bad_request("Stage name only allows a-zA-Z0-9_- (or $default for HTTP APIs)")
    _check_settings(protocol, stage.get("DefaultRouteSettings"))
    route_keys = {r["RouteKey"] for r in store.listing(conn, ctx.account, ctx.region, store.ROUTE, api["ApiId"])}
    for key, settings in (stage.get("RouteSettings") or {}).items():
        if key not in route_keys:
            raise errors.not_found(f"Unable to find Route by key {key} within the provided RouteSettings")
        _check_settings(protocol, settings)
    for key, value in (stage.get("StageVariables") or {}).items():
        if not STAGE_VARIABLE_NAME.match(key) or len(key) > 64:
            raise errors.bad_request(f"Stage variable name {key} must be alphanumeric or underscores")
        if not STAGE_VARIABLE_VALUE.match(value) or len(value) > 512:
            raise errors.bad_request(f"Stage variable value {value} contains invalid characters")
    logs = stage.get("AccessLogSettings")
    if logs:
        arn = logs.get("DestinationArn")
        if arn is not None and not re.match(r"^arn:aws[a-z-]*:(logs|firehose):", arn):
            raise errors.bad_request(f"Invalid ARN specified in the request: {arn}")
        if arn is not None and not logs.get("Format"):
            raise errors.bad_request("Access log format must be specified when a destination ARN is set")
    if stage.get("ClientCertificateId") is not None and protocol == HTTP:
        raise errors.websocket_only("ClientCertificateId")
    deployment_id = stage.get("DeploymentId")
    if (
        deployment_id
        and store.get(conn, ctx.account, ctx.region, store.DEPLOYMENT, api["ApiId"], deployment_id) is None
    ):
        raise errors.deployment_not_found(deployment_id)


def stage_or_404(conn: Connection, ctx: RequestContext, api_id: str, stage_name: str) -> Doc:
    found = store.get(conn, ctx.account, ctx.region, store.STAGE, api_id, stage_name)
    if found is None:
        raise errors.stage_not_found(stage_name)
    return found


async def create_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["ApiId"], p["StageName"]

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        now = common.now_iso()
        stage: Doc = {}
        if p.get("AccessLogSettings") is not None:
            stage["AccessLogSettings"] = p["AccessLogSettings"]
        stage["AutoDeploy"] = bool(p.get("AutoDeploy", False))
        if p.get("ClientCertificateId") is not None:
            stage["ClientCertificateId"] = p["ClientCertificateId"]
        stage["CreatedDate"] = now
        stage["DefaultRouteSettings"] = {
            **_default_route_settings(api["ProtocolType"]), **(p.get("DefaultRouteSettings") or {}),
        }  # fmt: skip
        if p.get("DeploymentId") is not None:
            stage["DeploymentId"] = p["DeploymentId"]
        if p.get("Description") is not None:
            stage["Description"] = p["Description"]
        stage["LastUpdatedDate"] = now
        stage["RouteSettings"] = dict(p.get("RouteSettings") or {})
        stage["StageName"] = name
        stage["StageVariables"] = dict(p.get("StageVariables") or {})
        stage["Tags"] = dict(p.get("Tags") or {})
        _check(tx.conn, ctx, api, stage)
        if store.get(tx.conn, ctx.account, ctx.region, store.STAGE, api_id, name) is not None:
            raise errors.conflict("Stage already exists")
        if stage["AutoDeploy"]:
            common.auto_deploy_stage(tx, ctx.account, ctx.region, api, stage)
        else:
            store.add(tx, ctx.account, ctx.region, store.STAGE, api_id, name, stage)
        return stage

    return common.answer(await ctx.env.db.write(write))


async def get_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> Doc:
        common.api_or_404(conn, ctx, p["ApiId"])
        return stage_or_404(conn, ctx, p["ApiId"], p["StageName"])

    return common.answer(await ctx.env.db.read(read))


async def get_stages(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> list[Doc]:
        common.api_or_404(conn, ctx, p["ApiId"])
        return store.listing(conn, ctx.account, ctx.region, store.STAGE, p["ApiId"])

    return common.answered_page(await ctx.env.db.read(read), "StageName", p)


async def update_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["ApiId"], p["StageName"]

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        stage = stage_or_404(tx.conn, ctx, api_id, name)
        was_auto = bool(stage.get("AutoDeploy"))
        for key in ("AccessLogSettings", "AutoDeploy", "ClientCertificateId", "DeploymentId", "Description"):
            if p.get(key) is not None:
                stage[key] = p[key]
        if p.get("DefaultRouteSettings") is not None:
            stage["DefaultRouteSettings"] = {**stage.get("DefaultRouteSettings", {}), **p["DefaultRouteSettings"]}
        if p.get("RouteSettings") is not None:
            merged = dict(stage.get("RouteSettings") or {})
            for key, settings in p["RouteSettings"].items():
                merged[key] = {**merged.get(key, {}), **settings}
            stage["RouteSettings"] = merged
        if p.get("StageVariables") is not None:
            variables = {**(stage.get("StageVariables") or {}), **p["StageVariables"]}
            stage["StageVariables"] = {k: v for k, v in variables.items() if v != ""}
        _check(tx.conn, ctx, api, stage)
        if p.get("DeploymentId") is not None and stage.get("AutoDeploy"):
            raise errors.bad_request("DeploymentId can not be set on a stage with AutoDeploy enabled")
        stage["LastUpdatedDate"] = common.now_iso()
        if stage.get("AutoDeploy") and not was_auto:
            common.auto_deploy_stage(tx, ctx.account, ctx.region, api, stage)
        else:
            store.put(tx, ctx.account, ctx.region, store.STAGE, api_id, name, stage)
        return stage

    return common.answer(await ctx.env.db.write(write))


async def delete_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["ApiId"], p["StageName"]

    def write(tx: Tx) -> None:
        common.api_or_404(tx.conn, ctx, api_id)
        stage_or_404(tx.conn, ctx, api_id, name)
        store.remove(tx, ctx.account, ctx.region, store.STAGE, api_id, [name])

    await ctx.env.db.write(write)
    return {}


async def delete_access_log_settings(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["ApiId"], p["StageName"]

    def write(tx: Tx) -> None:
        common.api_or_404(tx.conn, ctx, api_id)
        stage = stage_or_404(tx.conn, ctx, api_id, name)
        stage.pop("AccessLogSettings", None)
        stage["LastUpdatedDate"] = common.now_iso()
        store.put(tx, ctx.account, ctx.region, store.STAGE, api_id, name, stage)

    await ctx.env.db.write(write)
    return {}


async def delete_route_settings(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name, key = p["ApiId"], p["StageName"], p["RouteKey"]

    def write(tx: Tx) -> None:
        common.api_or_404(tx.conn, ctx, api_id)
        stage = stage_or_404(tx.conn, ctx, api_id, name)
        settings = stage.get("RouteSettings") or {}
        if key not in settings:
            raise errors.not_found(f"Unable to find RouteSettings for route key {key} in stage {name}")
        del settings[key]
        stage["RouteSettings"] = settings
        stage["LastUpdatedDate"] = common.now_iso()
        store.put(tx, ctx.account, ctx.region, store.STAGE, api_id, name, stage)

    await ctx.env.db.write(write)
    return {}


HANDLERS = {
    "CreateStage": create_stage,
    "GetStage": get_stage,
    "GetStages": get_stages,
    "UpdateStage": update_stage,
    "DeleteStage": delete_stage,
    "DeleteAccessLogSettings": delete_access_log_settings,
    "DeleteRouteSettings": delete_route_settings,
}
