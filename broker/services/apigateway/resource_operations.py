"""Resources of a REST API: a tree under the root ("/"), each with its path part (a literal, a `{variable}` or a
greedy `{proxy+}`) and full path; created under a parent, read with or without their methods embedded, moved or
renamed by patch operations (their subtree's paths follow), deleted with their subtree."""

from __future__ import annotations

import re
from typing import Any

from broker import ids
from broker.context import RequestContext
from broker.services.apigateway import common, errors, patch, store
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

PATH_PART = re.compile(r"^(?:[a-zA-Z0-9._\-:]+|\{[a-zA-Z0-9._\-]+\+?\})$")
PATCHABLE = {"pathPart": patch.STRING, "parentId": patch.STRING}


def _check_part(part: str) -> None:
    if not PATH_PART.match(part or ""):
        raise errors.bad_request(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an "
            "optional plus sign before the closing brace."
        )


def _path(parent: Doc, part: str) -> str:
    return ("" if parent["path"] == "/" else parent["path"]) + "/" + part


def _is_variable(part: str) -> bool:
    return part.startswith("{")


def _check_siblings(resources: list[Doc], parent_id: str, part: str, own_id: str | None) -> None:
    for r in resources:
        if r.get("parentId") != parent_id or r["id"] == own_id:
            continue
        if r.get("pathPart") == part:
            raise errors.conflict(f"Another resource with the same parent already has this name: {part}")
        if _is_variable(part) and _is_variable(r.get("pathPart", "")):
            raise errors.bad_request(
                f"A sibling ({r['id']}) of this resource already has a variable path part -- only one is allowed"
            )


def _answer(resource: Doc, embed: bool) -> Doc:
    out = {k: v for k, v in resource.items() if k != "resourceMethods"}
    methods = resource.get("resourceMethods")
    if methods:
        out["resourceMethods"] = methods if embed else {m: {} for m in methods}
    return out


async def create_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, parent_id, part = p["restApiId"], p["parentId"], p["pathPart"]
    await common.rest_api(ctx, api_id)
    _check_part(part)
    resource_id = ids.short_id(6)

    def write(tx: Tx) -> Doc:
        parent = store.get(tx.conn, ctx.account, ctx.region, store.RESOURCE, api_id, parent_id)
        if parent is None:
            raise errors.resource_not_found(ctx.account, parent_id)
        if parent.get("pathPart", "").endswith("+}"):
            raise errors.bad_request("Cannot create a child of a resource with a greedy path variable")
        resources = store.listing(tx.conn, ctx.account, ctx.region, store.RESOURCE, api_id)
        _check_siblings(resources, parent_id, part, None)
        doc = {"id": resource_id, "parentId": parent_id, "pathPart": part, "path": _path(parent, part)}
        store.add(tx, ctx.account, ctx.region, store.RESOURCE, api_id, resource_id, doc)
        return doc

    return _answer(await ctx.env.db.write(write), False)


async def _resource(ctx: RequestContext, api_id: str, resource_id: str) -> Doc:
    await common.rest_api(ctx, api_id)
    found = await ctx.env.db.read(store.get, ctx.account, ctx.region, store.RESOURCE, api_id, resource_id)
    if found is None:
        raise errors.resource_not_found(ctx.account, resource_id)
    return found


async def get_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    found = await _resource(ctx, p["restApiId"], p["resourceId"])
    return _answer(found, "methods" in (p.get("embed") or []))


async def get_resources(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    resources = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.RESOURCE, api_id)
    embed = "methods" in (p.get("embed") or [])
    out = common.page(resources, lambda r: str(r["id"]), p)
    out["items"] = [_answer(r, embed) for r in out["items"]]
    return out


def _subtree(resources: list[Doc], root_id: str) -> list[Doc]:
    """The resource and every descendant, parents before children."""
    by_parent: dict[str, list[Doc]] = {}
    for r in resources:
        by_parent.setdefault(r.get("parentId", ""), []).append(r)
    out = [r for r in resources if r["id"] == root_id]
    i = 0
    while i < len(out):
        out += by_parent.get(out[i]["id"], [])
        i += 1
    return out


async def update_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, resource_id = p["restApiId"], p["resourceId"]
    current = await _resource(ctx, api_id, resource_id)
    changed = patch.apply(current, p.get("patchOperations"), PATCHABLE)
    if "parentId" not in current and changed != current:
        raise errors.bad_request("The root resource cannot be changed")
    _check_part(changed.get("pathPart", ""))

    def write(tx: Tx) -> Doc:
        resources = store.listing(tx.conn, ctx.account, ctx.region, store.RESOURCE, api_id)
        by_id = {r["id"]: r for r in resources}
        if resource_id not in by_id:
            raise errors.resource_not_found(ctx.account, resource_id)
        parent = by_id.get(changed["parentId"])
        if parent is None:
            raise errors.resource_not_found(ctx.account, changed["parentId"])
        subtree = _subtree(resources, resource_id)
        if parent["id"] in {r["id"] for r in subtree}:
            raise errors.bad_request("Cannot move a resource under itself or one of its descendants")
        _check_siblings(resources, changed["parentId"], changed["pathPart"], resource_id)
        moved = {**by_id[resource_id], "parentId": changed["parentId"], "pathPart": changed["pathPart"]}
        moved["path"] = _path(parent, changed["pathPart"])
        by_id[resource_id] = moved
        for r in subtree[1:]:  # descendants follow, parents first
            r["path"] = _path(by_id[r["parentId"]], r["pathPart"])
            by_id[r["id"]] = r
        for r in [moved, *subtree[1:]]:
            store.put(tx, ctx.account, ctx.region, store.RESOURCE, api_id, r["id"], r)
        return moved

    return _answer(await ctx.env.db.write(write), False)


async def delete_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, resource_id = p["restApiId"], p["resourceId"]
    await common.rest_api(ctx, api_id)

    def write(tx: Tx) -> None:
        resources = store.listing(tx.conn, ctx.account, ctx.region, store.RESOURCE, api_id)
        target = next((r for r in resources if r["id"] == resource_id), None)
        if target is None:
            raise errors.resource_not_found(ctx.account, resource_id)
        if "parentId" not in target:
            raise errors.bad_request("Cannot delete root resource")
        ids_ = [r["id"] for r in _subtree(resources, resource_id)]
        store.remove(tx, ctx.account, ctx.region, store.RESOURCE, api_id, ids_)

    await ctx.env.db.write(write)
    return {}


HANDLERS = {
    "CreateResource": create_resource,
    "GetResource": get_resource,
    "GetResources": get_resources,
    "UpdateResource": update_resource,
    "DeleteResource": delete_resource,
}
