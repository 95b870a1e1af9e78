"""Deployments and stages of a REST API: a deployment freezes the API's resources (with their methods) as they are
when it is made — the snapshot the data plane serves a stage from, kept under a private key and never answered —
and a stage names the deployment it serves, with its variables and per-method settings."""

from __future__ import annotations

import re
from typing import Any

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import access_log, common, errors, patch, store
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

SNAPSHOT = "_resources"
# What else a deployment freezes for the data plane (private keys too): the API's own settings and the objects a
# request meets on its way — AWS applies changes to these only when they are deployed.
DEPLOYED = {
    "_authorizers": store.AUTHORIZER,
    "_validators": store.REQUEST_VALIDATOR,
    "_models": store.MODEL,
    "_gatewayResponses": store.GATEWAY_RESPONSE,
}
STAGE_NAME = re.compile(r"^[a-zA-Z0-9_\-]{1,128}$")
DEPLOYMENT_PATCHABLE = {"description": patch.STRING}
STAGE_PATCHABLE = {
    "deploymentId": patch.STRING,
    "description": patch.STRING,
    "variables": patch.MAP,
    "tracingEnabled": patch.BOOL,
    "cacheClusterEnabled": patch.BOOL,
    "cacheClusterSize": patch.STRING,
    "clientCertificateId": patch.STRING,
    "documentationVersion": patch.STRING,
}
CACHE_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")
LOGGING_LEVELS = ("OFF", "ERROR", "INFO")
CACHE_CONTROL_STRATEGIES = ("FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER")
# The settings a stage's method takes: patch path suffix -> (MethodSetting member, value kind).
METHOD_SETTINGS: dict[str, tuple[str, str]] = {
    "metrics/enabled": ("metricsEnabled", patch.BOOL),
    "logging/loglevel": ("loggingLevel", "level"),
    "logging/dataTrace": ("dataTraceEnabled", patch.BOOL),
    "throttling/burstLimit": ("throttlingBurstLimit", patch.INT),
    "throttling/rateLimit": ("throttlingRateLimit", "double"),
    "caching/enabled": ("cachingEnabled", patch.BOOL),
    "caching/ttlInSeconds": ("cacheTtlInSeconds", patch.INT),
    "caching/dataEncrypted": ("cacheDataEncrypted", patch.BOOL),
    "caching/requireAuthorizationForCacheControl": ("requireAuthorizationForCacheControl", patch.BOOL),
    "caching/unauthorizedCacheControlHeaderStrategy": ("unauthorizedCacheControlHeaderStrategy", "strategy"),
}
# What AWS fills in for a method's settings the first time one of them is set.
METHOD_SETTING_DEFAULTS: Doc = {
    "metricsEnabled": False,
    "loggingLevel": "OFF",
    "dataTraceEnabled": False,
    "throttlingBurstLimit": 5000,
    "throttlingRateLimit": 10000.0,
    "cachingEnabled": False,
    "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False,
    "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}
HTTP_METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")


def deployment_not_found() -> ServiceError:
    return errors.not_found("Invalid Deployment identifier specified")


def stage_not_found() -> ServiceError:
    return errors.not_found("Invalid stage identifier specified")


def no_such_deployment() -> ServiceError:
    """A stage pointed at a deployment that does not exist (AWS answers 400 here, not 404)."""
    return errors.bad_request("Deployment id does not exist")


def _check_stage_name(name: str) -> None:
    if not STAGE_NAME.match(name):
        raise errors.bad_request("Stage name only allows a-zA-Z0-9_-")


def _check_stage(stage: Doc) -> None:
    size = stage.get("cacheClusterSize")
    if size is not None and size not in CACHE_SIZES:
        raise errors.bad_request(f"Invalid cache cluster size specified: {size}")


# -- deployments


def _api_summary(resources: list[Doc]) -> Doc:
    summary: Doc = {}
    for r in resources:
        methods = r.get("resourceMethods") or {}
        if methods:
            summary[r["path"]] = {
                m: {
                    "authorizationType": d.get("authorizationType", "NONE"),
                    "apiKeyRequired": bool(d.get("apiKeyRequired")),
                }
                for m, d in methods.items()
            }
    return summary


def _deployment_answer(row: Doc, embed: list[str] | None = None) -> Doc:
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out["createdDate"] = common.when(row["createdDate"])
    if "apisummary" in (embed or []):
        out["apiSummary"] = _api_summary(row.get(SNAPSHOT) or [])
    return out


def _new_stage(name: str, deployment_id: str, p: Doc, description_key: str) -> Doc:
    now = common.now()
    stage: Doc = {"deploymentId": deployment_id, "stageName": name}
    if p.get(description_key) is not None:
        stage["description"] = p[description_key]
    stage["cacheClusterEnabled"] = bool(p.get("cacheClusterEnabled", False))
    if p.get("cacheClusterSize") is not None:
        stage["cacheClusterSize"] = p["cacheClusterSize"]
    stage["cacheClusterStatus"] = "NOT_AVAILABLE"
    stage["methodSettings"] = {}
    if p.get("variables"):
        stage["variables"] = dict(p["variables"])
    if p.get("documentationVersion") is not None:
        stage["documentationVersion"] = p["documentationVersion"]
    stage["tracingEnabled"] = bool(p.get("tracingEnabled", False))
    if p.get("tags"):
        stage["tags"] = dict(p["tags"])
    stage["createdDate"] = now
    stage["lastUpdatedDate"] = now
    _check_stage(stage)
    return stage


async def create_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    stage_name = p.get("stageName")
    if stage_name is not None:
        _check_stage_name(stage_name)
    deployment_id = ids.short_id(6)
    doc: Doc = {"id": deployment_id}
    if p.get("description") is not None:
        doc["description"] = p["description"]
    doc["createdDate"] = common.now()

    def write(tx: Tx) -> Doc:
        api = store.get(tx.conn, ctx.account, ctx.region, store.REST_API, "", api_id)
        if api is None:
            raise errors.api_not_found(ctx.account, api_id)
        resources = store.listing(tx.conn, ctx.account, ctx.region, store.RESOURCE, api_id)
        if not any(r.get("resourceMethods") for r in resources):
            raise errors.bad_request("The REST API doesn't contain any methods")
        frozen = {key: store.listing(tx.conn, ctx.account, ctx.region, kind, api_id) for key, kind in DEPLOYED.items()}
        snapshot = {**doc, SNAPSHOT: resources, "_api": api, **frozen}
        store.add(tx, ctx.account, ctx.region, store.DEPLOYMENT, api_id, deployment_id, snapshot)
        if stage_name is not None:
            stage = store.get(tx.conn, ctx.account, ctx.region, store.STAGE, api_id, stage_name)
            if stage is None:
                stage = _new_stage(stage_name, deployment_id, p, "stageDescription")
            else:
                stage["deploymentId"] = deployment_id
                for key, source in (("description", "stageDescription"), ("cacheClusterSize", "cacheClusterSize")):
                    if p.get(source) is not None:
                        stage[key] = p[source]
                for key in ("cacheClusterEnabled", "tracingEnabled"):
                    if p.get(key) is not None:
                        stage[key] = bool(p[key])
                if p.get("variables"):
                    stage["variables"] = {**(stage.get("variables") or {}), **p["variables"]}
                stage["lastUpdatedDate"] = common.now()
                _check_stage(stage)
            store.put(tx, ctx.account, ctx.region, store.STAGE, api_id, stage_name, stage)
        return doc

    return _deployment_answer(await ctx.env.db.write(write))


async def _deployment(ctx: RequestContext, api_id: str, deployment_id: str) -> Doc:
    await common.rest_api(ctx, api_id)
    return await common.stored(ctx, store.DEPLOYMENT, api_id, deployment_id, deployment_not_found)


async def get_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    found = await _deployment(ctx, p["restApiId"], p["deploymentId"])
    return _deployment_answer(found, p.get("embed"))


async def get_deployments(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    found = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.DEPLOYMENT, api_id)
    out = common.page(found, lambda d: str(d["id"]), p)
    out["items"] = [_deployment_answer(d) for d in out["items"]]
    return out


async def update_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, deployment_id = p["restApiId"], p["deploymentId"]
    current = await _deployment(ctx, api_id, deployment_id)
    changed = patch.apply(current, p.get("patchOperations"), DEPLOYMENT_PATCHABLE)

    def write(tx: Tx) -> Doc:
        row = store.get(tx.conn, ctx.account, ctx.region, store.DEPLOYMENT, api_id, deployment_id)
        if row is None:
            raise deployment_not_found()
        row.pop("description", None)
        if "description" in changed:
            row["description"] = changed["description"]
        store.put(tx, ctx.account, ctx.region, store.DEPLOYMENT, api_id, deployment_id, row)
        return row

    return _deployment_answer(await ctx.env.db.write(write))


async def delete_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, deployment_id = p["restApiId"], p["deploymentId"]
    await common.rest_api(ctx, api_id)

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, store.DEPLOYMENT, api_id, deployment_id) is None:
            raise deployment_not_found()
        stages = store.listing(tx.conn, ctx.account, ctx.region, store.STAGE, api_id)
        if any(s.get("deploymentId") == deployment_id for s in stages):
            raise errors.bad_request("Active stages pointing to this deployment must be moved or deleted")
        store.remove(tx, ctx.account, ctx.region, store.DEPLOYMENT, api_id, [deployment_id])

    await ctx.env.db.write(write)
    return {}


# -- stages


def _stage_answer(stage: Doc) -> Doc:
    out = dict(stage)
    out["createdDate"] = common.when(stage["createdDate"])
    out["lastUpdatedDate"] = common.when(stage["lastUpdatedDate"])
    return out


async def create_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name, deployment_id = p["restApiId"], p["stageName"], p["deploymentId"]
    await common.rest_api(ctx, api_id)
    _check_stage_name(name)
    stage = _new_stage(name, deployment_id, p, "description")

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, store.DEPLOYMENT, api_id, deployment_id) is None:
            raise no_such_deployment()
        if not store.add(tx, ctx.account, ctx.region, store.STAGE, api_id, name, stage):
            raise errors.conflict("Stage already exists")

    await ctx.env.db.write(write)
    return _stage_answer(stage)


async def _stage(ctx: RequestContext, api_id: str, name: str) -> Doc:
    await common.rest_api(ctx, api_id)
    return await common.stored(ctx, store.STAGE, api_id, name, stage_not_found)


async def get_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _stage_answer(await _stage(ctx, p["restApiId"], p["stageName"]))


async def get_stages(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    stages = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.STAGE, api_id)
    wanted = p.get("deploymentId")
    return {"item": [_stage_answer(s) for s in stages if wanted is None or s.get("deploymentId") == wanted]}


def _setting_value(kind: str, path: str, raw: Any) -> Any:
    if kind == "double":
        try:
            return float(str(raw))
        except ValueError:
            raise errors.bad_request(f"Invalid value '{raw}' for path {path}: must be a number") from None
    if kind == "level":
        if raw not in LOGGING_LEVELS:
            raise errors.bad_request(f"Invalid logging level '{raw}'. Must be one of: [OFF, ERROR, INFO]")
        return raw
    if kind == "strategy":
        if raw not in CACHE_CONTROL_STRATEGIES:
            allowed = ", ".join(CACHE_CONTROL_STRATEGIES)
            raise errors.bad_request(
                f"Invalid unauthorized cache control header strategy '{raw}'. Must be one of: [{allowed}]"
            )
        return raw
    if kind == patch.BOOL:
        if str(raw).lower() not in ("true", "false"):
            raise errors.bad_request(f"Invalid boolean value '{raw}' for path {path}")
        return str(raw).lower() == "true"
    try:
        return int(str(raw))
    except ValueError:
        raise errors.bad_request(f"Invalid value '{raw}' for path {path}: must be an integer") from None


def _apply_method_setting(stage: Doc, operation: Doc) -> None:
    """One patch operation on /methodSettings-style paths: /<resource path>/<METHOD>/<group>/<setting> sets one
    setting of that method (its other settings take AWS's defaults), /<resource path>/<METHOD> with `remove` drops
    the method's settings. The resource path stays as written (`*` or `~1pets~1{id}`), as AWS keys the map."""
    op, path = operation.get("op"), operation.get("path") or ""
    parts = path.split("/")[1:]
    settings: Doc = stage.setdefault("methodSettings", {})
    if op == "remove" and len(parts) >= 2 and parts[-1] in HTTP_METHODS:
        settings.pop("/".join(parts), None)
        return
    if len(parts) < 4 or parts[-3] not in HTTP_METHODS or "/".join(parts[-2:]) not in METHOD_SETTINGS:
        allowed = ", ".join(f"/{m}" for m in STAGE_PATCHABLE)
        raise errors.bad_request(f"Invalid patch path '{path}' specified for op '{op}'. Must be one of: [{allowed}]")
    if op != "replace":
        raise errors.bad_request(f"Invalid patch operation specified. Must be 'replace' for path {path}")
    member, kind = METHOD_SETTINGS["/".join(parts[-2:])]
    key = "/".join(parts[:-2])
    entry = settings.setdefault(key, dict(METHOD_SETTING_DEFAULTS))
    entry[member] = _setting_value(kind, path, operation.get("value"))


def _is_method_setting(path: str) -> bool:
    first = path.split("/")[1] if path.startswith("/") else ""
    return bool(first) and first not in STAGE_PATCHABLE


async def update_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["restApiId"], p["stageName"]
    current = await _stage(ctx, api_id, name)
    changed = current
    for operation in p.get("patchOperations") or []:
        if access_log.is_setting(str(operation.get("path") or "")):
            access_log.apply_setting(changed, operation)
        elif _is_method_setting(str(operation.get("path") or "")):
            _apply_method_setting(changed, operation)
        else:
            changed = patch.apply(changed, [operation], STAGE_PATCHABLE)
    for key, default in (("tracingEnabled", False), ("cacheClusterEnabled", False)):
        changed.setdefault(key, default)
    changed.setdefault("methodSettings", {})
    if not changed.get("deploymentId"):
        raise errors.bad_request("Deployment id does not exist")
    _check_stage(changed)
    changed["lastUpdatedDate"] = common.now()

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, store.STAGE, api_id, name) is None:
            raise stage_not_found()
        deployment = changed["deploymentId"]
        if store.get(tx.conn, ctx.account, ctx.region, store.DEPLOYMENT, api_id, deployment) is None:
            raise no_such_deployment()
        store.put(tx, ctx.account, ctx.region, store.STAGE, api_id, name, changed)

    await ctx.env.db.write(write)
    return _stage_answer(changed)


async def delete_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["restApiId"], p["stageName"]
    await common.rest_api(ctx, api_id)
    await common.delete(ctx, store.STAGE, api_id, name, stage_not_found)
    return {}


HANDLERS = {
    "CreateDeployment": create_deployment,
    "GetDeployment": get_deployment,
    "GetDeployments": get_deployments,
    "UpdateDeployment": update_deployment,
    "DeleteDeployment": delete_deployment,
    "CreateStage": create_stage,
    "GetStage": get_stage,
    "GetStages": get_stages,
    "UpdateStage": update_stage,
    "DeleteStage": delete_stage,
}
