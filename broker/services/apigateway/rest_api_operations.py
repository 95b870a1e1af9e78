"""REST APIs: created with their root resource ("/"), read, listed, changed by patch operations and deleted with
everything under them."""

from __future__ import annotations

from typing import Any

from broker import ids
from broker.context import RequestContext
from broker.services.apigateway import common, errors, patch, store
from broker.storage.db import Tx

API_KEY_SOURCES = ("HEADER", "AUTHORIZER")
ENDPOINT_TYPES = ("REGIONAL", "EDGE", "PRIVATE")
PATCHABLE = {
    "name": patch.STRING,
    "description": patch.STRING,
    "version": patch.STRING,
    "binaryMediaTypes": patch.SET,
    "minimumCompressionSize": patch.INT,
    "apiKeySource": patch.STRING,
    "disableExecuteApiEndpoint": patch.BOOL,
    "policy": patch.STRING,
}


def check(api: dict[str, Any]) -> None:
    if api.get("apiKeySource", "HEADER") not in API_KEY_SOURCES:
        raise errors.bad_request(
            f"Invalid API Key source specified: {api['apiKeySource']}. Must be one of [HEADER, AUTHORIZER]"
        )
    size = api.get("minimumCompressionSize")
    if size is not None and not 0 <= size <= 10_485_760:
        raise errors.bad_request("Invalid minimum compression size, must be between 0 and 10485760")
    if not api.get("name"):
        raise errors.bad_request("Invalid REST API name specified: must be non-empty")


async def create_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = ids.short_id()
    root_id = ids.short_id()
    endpoint = p.get("endpointConfiguration") or {}
    types = endpoint.get("types") or ["EDGE"]
    for t in types:
        if t not in ENDPOINT_TYPES:
            raise errors.bad_request(f"Invalid endpoint type specified: {t}")
    api: dict[str, Any] = {"id": api_id, "name": p.get("name")}
    for key in ("description", "version"):
        if p.get(key) is not None:
            api[key] = p[key]
    api["createdDate"] = common.now()
    if p.get("binaryMediaTypes"):
        api["binaryMediaTypes"] = p["binaryMediaTypes"]
    if p.get("minimumCompressionSize") is not None:
        api["minimumCompressionSize"] = p["minimumCompressionSize"]
    api["apiKeySource"] = p.get("apiKeySource") or "HEADER"
    api["endpointConfiguration"] = {"types": types, "ipAddressType": endpoint.get("ipAddressType") or "ipv4"}
    if p.get("policy"):
        api["policy"] = p["policy"]
    if p.get("tags"):
        api["tags"] = p["tags"]
    api["disableExecuteApiEndpoint"] = bool(p.get("disableExecuteApiEndpoint", False))
    api["rootResourceId"] = root_id
    check(api)

    def write(tx: Tx) -> None:
        store.add(tx, ctx.account, ctx.region, store.REST_API, "", api_id, api)
        store.add(tx, ctx.account, ctx.region, store.RESOURCE, api_id, root_id, {"id": root_id, "path": "/"})

    await ctx.env.db.write(write)
    return answer(api)


def answer(api: dict[str, Any]) -> dict[str, Any]:
    out = dict(api)
    out["createdDate"] = common.when(api["createdDate"])
    return out


async def get_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return answer(await common.rest_api(ctx, p["restApiId"]))


async def get_rest_apis(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    apis = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.REST_API, "")
    out = common.page(apis, lambda a: str(a["id"]), p)
    out["items"] = [answer(a) for a in out["items"]]
    return out


async def update_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    current = await common.rest_api(ctx, api_id)
    changed = patch.apply(current, p.get("patchOperations"), PATCHABLE)
    check(changed)
    await common.replace(ctx, store.REST_API, "", api_id, changed, lambda: errors.api_not_found(ctx.account, api_id))
    return answer(changed)


async def delete_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, store.REST_API, "", api_id) is None:
            raise errors.api_not_found(ctx.account, api_id)
        store.remove_api(tx, ctx.account, ctx.region, api_id)

    await ctx.env.db.write(write)
    return {}


HANDLERS = {
    "CreateRestApi": create_rest_api,
    "GetRestApi": get_rest_api,
    "GetRestApis": get_rest_apis,
    "UpdateRestApi": update_rest_api,
    "DeleteRestApi": delete_rest_api,
}
