"""ImportRestApi, PutRestApi and GetExport: a REST API created from, or changed by, an OpenAPI 3.0 / Swagger 2.0
definition (openapi_import reads it; here its objects are written in one transaction, so a definition that
fails leaves nothing behind), and a deployed stage exported as one (openapi_export)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import yaml
from sqlalchemy import Connection

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import (
    common,
    deployment_operations,
    documentation_operations,
    errors,
    model_operations,
    openapi_export,
    openapi_import,
    rest_api_operations,
    store,
)
from broker.services.apigateway.openapi_import import Plan
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

PUT_MODES = ("merge", "overwrite")
EXPORT_TYPES = ("oas30", "swagger")
EXTENSIONS = ("integrations", "apigateway", "authorizers", "postman")
# API settings a definition carries; overwriting with a definition that leaves one out drops it
DEFINED_SETTINGS = ("description", "version", "binaryMediaTypes", "minimumCompressionSize", "policy")
# The member of each kind of object that is its object id in the store
OBJECT_KEYS = {
    store.RESOURCE: "id",
    store.MODEL: "name",
    store.AUTHORIZER: "id",
    store.REQUEST_VALIDATOR: "id",
    store.GATEWAY_RESPONSE: "responseType",
}


def _import_error(message: str) -> ServiceError:
    return errors.bad_request("Errors found during import:\n\t" + message)


def _options(parameters: dict[str, Any] | None) -> openapi_import.Options:
    params = parameters or {}
    base_path = params.get("basepath") or "ignore"
    if base_path not in openapi_import.BASE_PATH_MODES:
        raise errors.bad_request(
            f"Invalid basepath parameter specified: {base_path}. Valid values are: ignore, prepend, split"
        )
    types = [t for t in str(params.get("endpointConfigurationTypes") or "").split(",") if t]
    for t in types:
        if t not in rest_api_operations.ENDPOINT_TYPES:
            raise errors.bad_request(f"Invalid endpoint type specified: {t}")
    return openapi_import.Options(base_path=base_path, endpoint_types=types or None)


def _plan(p: dict[str, Any], api_id: str) -> Plan:
    options = _options(p.get("parameters"))
    doc = openapi_import.parse(bytes(p.get("body") or b""))
    plan = openapi_import.plan(doc, api_id, options)
    ignored = str((p.get("parameters") or {}).get("ignore") or "").split(",")
    if documentation_operations.EXTENSION in doc and "documentation" not in ignored:
        parts, warnings = documentation_operations.imported_parts(json.dumps(doc).encode())
        plan.documentation = parts
        plan.warnings += warnings
    if p.get("failOnWarnings") and plan.warnings:
        raise openapi_import.warnings_error(plan.warnings)
    return plan


def _answer(api: Doc, plan: Plan) -> dict[str, Any]:
    out = rest_api_operations.answer(api)
    if plan.warnings:
        out["warnings"] = list(plan.warnings)
    return out


# -- writing a plan


def _by_name(tx: Tx, ctx: RequestContext, kind: str, api_id: str) -> dict[str, Doc]:
    return {str(d.get("name") or d["id"]): d for d in store.listing(tx.conn, ctx.account, ctx.region, kind, api_id)}


def _clear(tx: Tx, ctx: RequestContext, api_id: str, root: Doc) -> None:
    """Overwrite: the API keeps only its root resource (without methods) and its deployments and stages."""
    for kind, key in OBJECT_KEYS.items():
        rows = store.listing(tx.conn, ctx.account, ctx.region, kind, api_id)
        doomed = [str(r[key]) for r in rows if key in r and r[key] != root["id"]]
        if doomed:
            store.remove(tx, ctx.account, ctx.region, kind, api_id, doomed)
    root.pop("resourceMethods", None)


def _write_objects(tx: Tx, ctx: RequestContext, api_id: str, plan: Plan) -> tuple[dict[str, str], dict[str, str]]:
    """Models, authorizers, validators and gateway responses (an object of the same name is replaced and keeps
    its id); the ids of the authorizers and validators by name."""
    account, region = ctx.account, ctx.region
    for name, model in plan.models.items():
        old = store.get(tx.conn, account, region, store.MODEL, api_id, name)
        model_id = old["id"] if old and "id" in old else ids.short_id(6)
        store.put(tx, account, region, store.MODEL, api_id, name, {"id": model_id, **model})
    named: list[dict[str, str]] = []
    for kind, wanted in ((store.AUTHORIZER, plan.authorizers), (store.REQUEST_VALIDATOR, plan.validators)):
        existing = _by_name(tx, ctx, kind, api_id)
        found = {name: str(d["id"]) for name, d in existing.items()}
        for name, doc in wanted.items():
            object_id = found.get(name) or ids.short_id(6)
            store.put(tx, account, region, kind, api_id, object_id, {"id": object_id, **doc})
            found[name] = object_id
        named.append(found)
    for kind_name, response in plan.gateway_responses.items():
        store.put(tx, account, region, store.GATEWAY_RESPONSE, api_id, kind_name, response)
    return named[0], named[1]


def _method(method: Doc, resource_id: str, authorizers: dict[str, str], validators: dict[str, str]) -> Doc:
    out = {k: v for k, v in method.items() if not k.startswith("_")}
    if "_authorizer" in method:
        out["authorizerId"] = authorizers[method["_authorizer"]]
    if "_validator" in method:
        out["requestValidatorId"] = validators[method["_validator"]]
    integration = out.get("methodIntegration")
    if integration is not None:
        out["methodIntegration"] = {**integration, "cacheNamespace": integration.get("cacheNamespace") or resource_id}
    return out


def _resource(by_path: dict[str, Doc], path: str, changed: dict[str, Doc]) -> Doc:
    """The resource at `path`, created (with the missing resources above it) when absent."""
    parts = [p for p in path.split("/") if p]
    current = by_path["/"]
    for i, part in enumerate(parts):
        here = "/" + "/".join(parts[: i + 1])
        found = by_path.get(here)
        if found is None:
            found = _child(by_path, current, here, part)
            changed[found["id"]] = found
        current = found
    return current


def _child(by_path: dict[str, Doc], parent: Doc, path: str, part: str) -> Doc:
    """A new resource under `parent`, with CreateResource's checks."""
    if parent.get("pathPart", "").endswith("+}"):
        raise _import_error(
            f"Unable to create resource at path '{path}': Cannot create a child of a resource with a greedy path "
            "variable"
        )
    if part.startswith("{"):
        for sibling in by_path.values():
            if sibling.get("parentId") == parent["id"] and str(sibling.get("pathPart", "")).startswith("{"):
                raise _import_error(
                    f"Unable to create resource at path '{path}': A sibling ({sibling['id']}) of this resource "
                    "already has a variable path part -- only one is allowed"
                )
    doc = {"id": ids.short_id(6), "parentId": parent["id"], "pathPart": part, "path": path}
    by_path[path] = doc
    return doc


def _write(tx: Tx, ctx: RequestContext, api_id: str, plan: Plan, overwrite: bool) -> None:
    resources = store.listing(tx.conn, ctx.account, ctx.region, store.RESOURCE, api_id)
    root = next(r for r in resources if "parentId" not in r)
    if overwrite:
        _clear(tx, ctx, api_id, root)
        resources = [root]
    authorizers, validators = _write_objects(tx, ctx, api_id, plan)
    by_path = {str(r["path"]): r for r in resources}
    changed: dict[str, Doc] = {root["id"]: root} if overwrite else {}
    for path in sorted(plan.resources):
        resource = _resource(by_path, path, changed)
        methods = dict(resource.get("resourceMethods") or {})
        for verb, method in plan.resources[path].items():
            methods[verb] = _method(method, resource["id"], authorizers, validators)
        if methods:
            resource["resourceMethods"] = methods
        changed[resource["id"]] = resource
    for resource in changed.values():
        store.put(tx, ctx.account, ctx.region, store.RESOURCE, api_id, resource["id"], resource)
    if plan.documentation is not None:
        documentation_operations.write_parts(tx, ctx.account, ctx.region, api_id, plan.documentation, overwrite)


# -- ImportRestApi, PutRestApi


async def import_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, root_id = ids.short_id(), ids.short_id()
    plan = _plan(p, api_id)
    settings = plan.api
    if not settings.get("name"):
        raise errors.bad_request("Invalid REST API name specified: must be non-empty")
    api: Doc = {"id": api_id, "name": settings["name"]}
    for key in ("description", "version"):
        if settings.get(key) is not None:
            api[key] = settings[key]
    api["createdDate"] = common.now()
    for key in ("binaryMediaTypes", "minimumCompressionSize"):
        if settings.get(key) is not None:
            api[key] = settings[key]
    api["apiKeySource"] = settings.get("apiKeySource") or "HEADER"
    endpoint = settings.get("endpointConfiguration") or {}
    api["endpointConfiguration"] = {
        "types": endpoint.get("types") or ["EDGE"],
        "ipAddressType": "ipv4",
        **({"vpcEndpointIds": endpoint["vpcEndpointIds"]} if endpoint.get("vpcEndpointIds") else {}),
    }
    if settings.get("policy"):
        api["policy"] = settings["policy"]
    api["disableExecuteApiEndpoint"] = bool(settings.get("disableExecuteApiEndpoint", False))
    api["rootResourceId"] = root_id
    _check_api(api)

    def write(tx: Tx) -> None:
        store.add(tx, ctx.account, ctx.region, store.REST_API, "", api_id, api)
        store.add(tx, ctx.account, ctx.region, store.RESOURCE, api_id, root_id, {"id": root_id, "path": "/"})
        _write(tx, ctx, api_id, plan, overwrite=False)

    await ctx.env.db.write(write)
    return _answer(api, plan)


def _check_api(api: Doc) -> None:
    for t in api["endpointConfiguration"]["types"]:
        if t not in rest_api_operations.ENDPOINT_TYPES:
            raise _import_error(f"Invalid endpoint type specified: {t}")
    try:
        rest_api_operations.check(api)
    except ServiceError as e:
        raise _import_error(e.message) from None


def _updated_api(current: Doc, settings: Doc, overwrite: bool) -> Doc:
    api = dict(current)
    if overwrite:
        for key in DEFINED_SETTINGS:
            api.pop(key, None)
        api["apiKeySource"] = "HEADER"
    for key in ("name", *DEFINED_SETTINGS, "apiKeySource", "disableExecuteApiEndpoint"):
        if settings.get(key) is not None:
            api[key] = settings[key]
    endpoint = settings.get("endpointConfiguration") or {}
    if endpoint:
        api["endpointConfiguration"] = {**(api.get("endpointConfiguration") or {}), **endpoint}
    return api


async def put_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    mode = p.get("mode") or "merge"
    if mode not in PUT_MODES:
        raise errors.bad_request(
            f"1 validation error detected: Value '{mode}' at 'mode' failed to satisfy constraint: Member must "
            "satisfy enum value set: [merge, overwrite]"
        )
    await common.rest_api(ctx, api_id)
    plan = _plan(p, api_id)
    overwrite = mode == "overwrite"

    def write(tx: Tx) -> Doc:
        current = store.get(tx.conn, ctx.account, ctx.region, store.REST_API, "", api_id)
        if current is None:
            raise errors.api_not_found(ctx.account, api_id)
        api = _updated_api(current, plan.api, overwrite)
        _check_api(api)
        store.put(tx, ctx.account, ctx.region, store.REST_API, "", api_id, api)
        _write(tx, ctx, api_id, plan, overwrite)
        return api

    api = await ctx.env.db.write(write)
    return _answer(api, plan)


# -- GetExport


def _media(accepts: str | None) -> tuple[str, str]:
    """(content type answered, file extension) for the Accept header: JSON unless YAML is asked for; without a
    JSON or YAML type named, the body is JSON sent as application/octet-stream, as AWS does."""
    wanted = [a.split(";")[0].strip().lower() for a in (accepts or "").split(",") if a.strip()]
    for media in wanted:
        if media in ("application/yaml", "application/x-yaml"):
            return "application/yaml", "yaml"
        if media == "application/json":
            return "application/json", "json"
    if not wanted or any(m in ("*/*", "application/*", "application/octet-stream") for m in wanted):
        return "application/octet-stream", "json"
    raise errors.bad_request(f"Unsupported Accept header: {accepts}")


def _export_sources(conn: Connection, ctx: RequestContext, api_id: str, stage_name: str) -> dict[str, Any] | None:
    account, region = ctx.account, ctx.region
    api = store.get(conn, account, region, store.REST_API, "", api_id)
    if api is None:
        return None
    stage = store.get(conn, account, region, store.STAGE, api_id, stage_name)
    deployment = store.get(conn, account, region, store.DEPLOYMENT, api_id, stage["deploymentId"]) if stage else None
    return {
        "api": api,
        "stage": stage,
        "deployment": deployment,
        "models": list(model_operations.api_models(conn, ctx, api_id).values()),
        "authorizers": store.listing(conn, account, region, store.AUTHORIZER, api_id),
        "validators": store.listing(conn, account, region, store.REQUEST_VALIDATOR, api_id),
        "gateway_responses": store.listing(conn, account, region, store.GATEWAY_RESPONSE, api_id),
    }


async def get_export(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, stage_name, kind = p["restApiId"], p["stageName"], p["exportType"]
    found = await ctx.env.db.read(_export_sources, ctx, api_id, stage_name)
    if found is None:
        raise errors.api_not_found(ctx.account, api_id)
    if found["stage"] is None or found["deployment"] is None:
        raise deployment_operations.stage_not_found()
    if kind not in EXPORT_TYPES:
        raise errors.bad_request(f"No export type found for: {kind}")
    params = p.get("parameters") or {}
    extensions = {e.strip() for e in str(params.get("extensions") or "").split(",") if e.strip()}
    for extension in extensions:
        if extension not in EXTENSIONS:
            raise errors.bad_request(f"Invalid extensions specified: {extension}")
    content_type, suffix = _media(p.get("accepts"))
    export = openapi_export.Export(
        kind,
        extensions,
        found["api"],
        found["models"],
        found["authorizers"],
        found["validators"],
        found["gateway_responses"],
    )
    created = datetime.fromtimestamp(float(found["deployment"]["createdDate"]), UTC)
    version = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    resources = found["deployment"].get(deployment_operations.SNAPSHOT) or []
    doc = openapi_export.build(export, resources, stage_name, ctx.region, version)
    if suffix == "yaml":
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        body = str(yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True)).encode()
    else:
        body = json.dumps(doc, indent=2, ensure_ascii=False).encode()
    filename = f"{kind}_{doc['info']['version']}.{suffix}"
    return {
        "contentType": content_type,
        "contentDisposition": f'attachment; filename="{filename}"',
        "body": body,
    }


HANDLERS = {
    "ImportRestApi": import_rest_api,
    "PutRestApi": put_rest_api,
    "GetExport": get_export,
}
