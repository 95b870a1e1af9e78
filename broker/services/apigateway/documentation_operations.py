"""API documentation: documentation parts (JSON content attached to a location in the API: the API itself, an
authorizer, a model, a resource, a method, a parameter, header or body of its requests or responses), imported
from OpenAPI's x-amazon-apigateway-documentation extension, and documentation versions (named snapshots of the
parts, which a stage can name). A location is documented at most once: an index row per location guards that on
both backends."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import common, errors, openapi_import, patch, store
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

# The location fields each type takes (AWS's DocumentationPartLocation rules); the others must be absent.
LOCATION_FIELDS: dict[str, tuple[str, ...]] = {
    "API": (),
    "AUTHORIZER": ("name",),
    "MODEL": ("name",),
    "RESOURCE": ("path",),
    "METHOD": ("path", "method"),
    "PATH_PARAMETER": ("path", "method", "name"),
    "QUERY_PARAMETER": ("path", "method", "name"),
    "REQUEST_HEADER": ("path", "method", "name"),
    "REQUEST_BODY": ("path", "method", "name"),
    "RESPONSE": ("path", "method", "statusCode"),
    "RESPONSE_HEADER": ("path", "method", "statusCode", "name"),
    "RESPONSE_BODY": ("path", "method", "statusCode"),
}
NAME_REQUIRED = ("AUTHORIZER", "MODEL", "PATH_PARAMETER", "QUERY_PARAMETER", "REQUEST_HEADER", "RESPONSE_HEADER")
# What an omitted field means: the root resource, any method, any status code.
DEFAULTS = {"path": "/", "method": "*", "statusCode": "*"}
FIELD_ORDER = ("type", "path", "method", "statusCode", "name")
PART_PATCHABLE = {"properties": patch.STRING}
VERSION_PATCHABLE = {"description": patch.STRING}
VERSION_MAX = 64
SNAPSHOT = "_parts"
EXTENSION = "x-amazon-apigateway-documentation"


def part_not_found() -> ServiceError:
    return errors.not_found("Invalid Documentation part identifier specified")


def version_not_found() -> ServiceError:
    return errors.not_found("Invalid Documentation version identifier specified")


# -- locations and parts


def location_of(raw: Any) -> Doc:
    """The canonical location (defaults filled in) of a request's location; BadRequestException when a field is
    not one its type takes or a required name is missing."""
    if not isinstance(raw, dict):
        raise errors.bad_request("Invalid documentation part location: must be an object")
    kind = raw.get("type")
    if kind not in LOCATION_FIELDS:
        allowed = ", ".join(LOCATION_FIELDS)
        raise errors.bad_request(f"Invalid documentation part location type: {kind}. Must be one of: [{allowed}]")
    valid = LOCATION_FIELDS[kind]
    location: Doc = {"type": kind}
    for field in ("path", "method", "statusCode", "name"):
        value = raw.get(field)
        if value is None:
            if field in DEFAULTS and field in valid:
                location[field] = DEFAULTS[field]
            continue
        if field not in valid:
            raise errors.bad_request(
                f"Invalid documentation part location: {field} is not a valid field for type {kind}"
            )
        if not isinstance(value, str) or not value:
            raise errors.bad_request(f"Invalid documentation part location: {field} must be a non-empty string")
        location[field] = value
    if kind in NAME_REQUIRED and "name" not in location:
        raise errors.bad_request(f"Invalid documentation part location: name is required for type {kind}")
    if "path" in location and not location["path"].startswith("/"):
        raise errors.bad_request(f"Invalid documentation part location: path must start with '/': {location['path']}")
    return {k: location[k] for k in FIELD_ORDER if k in location}


def _describe(location: Doc) -> str:
    return ", ".join(f"{k} '{location[k]}'" for k in FIELD_ORDER if k in location)


def _location_key(location: Doc) -> str:
    return hashlib.sha256(json.dumps(location, sort_keys=True).encode()).hexdigest()[:40]


def _check_properties(properties: Any) -> str:
    if not properties:
        raise errors.bad_request("Documentation part properties must be non-empty")
    try:
        parsed = json.loads(str(properties))
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        parsed = None
    if not isinstance(parsed, dict):
        raise errors.bad_request("Invalid documentation part properties: must be a JSON object")
    return str(properties)


def _add_part(tx: Tx, account: str, region: str, api_id: str, part: Doc) -> None:
    """Store a new part; ConflictException when its location is documented already."""
    index = {"id": part["id"]}
    key = _location_key(part["location"])
    if not store.add(tx, account, region, store.DOCUMENTATION_LOCATION, api_id, key, index):
        raise errors.conflict(
            f"Documentation part already exists for the specified location: {_describe(part['location'])}."
        )
    store.add(tx, account, region, store.DOCUMENTATION_PART, api_id, part["id"], part)


def _remove_part(tx: Tx, account: str, region: str, api_id: str, part: Doc) -> None:
    store.remove(tx, account, region, store.DOCUMENTATION_PART, api_id, [part["id"]])
    store.remove(tx, account, region, store.DOCUMENTATION_LOCATION, api_id, [_location_key(part["location"])])


def _api_exists(conn: Connection, account: str, region: str, api_id: str) -> None:
    if store.get(conn, account, region, store.REST_API, "", api_id) is None:
        raise errors.api_not_found(account, api_id)


async def create_documentation_part(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    part: Doc = {
        "id": ids.short_id(6),
        "location": location_of(p.get("location")),
        "properties": _check_properties(p.get("properties")),
    }

    def write(tx: Tx) -> None:
        _api_exists(tx.conn, ctx.account, ctx.region, api_id)
        _add_part(tx, ctx.account, ctx.region, api_id, part)

    await ctx.env.db.write(write)
    return part


async def _part(ctx: RequestContext, api_id: str, part_id: str) -> Doc:
    await common.rest_api(ctx, api_id)
    return await common.stored(ctx, store.DOCUMENTATION_PART, api_id, part_id, part_not_found)


async def get_documentation_part(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _part(ctx, p["restApiId"], p["documentationPartId"])


def _undocumented(part: Doc) -> bool:
    """A part whose content is an empty object documents nothing."""
    try:
        return bool(json.loads(part["properties"]) == {})
    except ValueError:
        return False


async def get_documentation_parts(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    parts = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.DOCUMENTATION_PART, api_id)
    kind, name, path, status = p.get("type"), p.get("nameQuery"), p.get("path"), p.get("locationStatus")
    if kind:
        parts = [d for d in parts if d["location"]["type"] == kind]
    if name:
        parts = [d for d in parts if str(d["location"].get("name") or "").startswith(name)]
    if path:
        parts = [d for d in parts if d["location"].get("path") == path]
    if status == "DOCUMENTED":
        parts = [d for d in parts if not _undocumented(d)]
    elif status == "UNDOCUMENTED":
        parts = [d for d in parts if _undocumented(d)]
    return common.page(parts, lambda d: str(d["id"]), p)


async def update_documentation_part(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, part_id = p["restApiId"], p["documentationPartId"]
    changed = patch.replace_only(await _part(ctx, api_id, part_id), p.get("patchOperations"), PART_PATCHABLE)
    changed["properties"] = _check_properties(changed.get("properties"))
    await common.replace(ctx, store.DOCUMENTATION_PART, api_id, part_id, changed, part_not_found)
    return changed


async def delete_documentation_part(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, part_id = p["restApiId"], p["documentationPartId"]
    await common.rest_api(ctx, api_id)

    def write(tx: Tx) -> None:
        part = store.get(tx.conn, ctx.account, ctx.region, store.DOCUMENTATION_PART, api_id, part_id)
        if part is None:
            raise part_not_found()
        _remove_part(tx, ctx.account, ctx.region, api_id, part)

    await ctx.env.db.write(write)
    return {}


def imported_parts(body: bytes) -> tuple[list[tuple[Doc, str]], list[str]]:
    """((location, properties) of each valid part, warnings about the others) of an OpenAPI definition's
    documentation extension (JSON, or YAML as ImportRestApi reads it); BadRequestException for a body that is no
    definition."""
    document = openapi_import.parse(body)
    extension = document.get(EXTENSION) or {}
    raw_parts = extension.get("documentationParts") if isinstance(extension, dict) else None
    parts: list[tuple[Doc, str]] = []
    warnings: list[str] = []
    for i, raw in enumerate(raw_parts if isinstance(raw_parts, list) else []):
        try:
            if not isinstance(raw, dict):
                raise errors.bad_request("a documentation part must be an object")
            location = location_of(raw.get("location"))
            props = raw.get("properties")
            properties = _check_properties(json.dumps(props) if isinstance(props, dict) else props)
        except ServiceError as e:
            warnings.append(f"documentationParts[{i}]: {e.message}")
            continue
        parts.append((location, properties))
    return parts, warnings


def write_parts(
    tx: Tx, account: str, region: str, api_id: str, parts: list[tuple[Doc, str]], overwrite: bool
) -> list[str]:
    """Imported (location, properties) pairs written as AWS imports them: each replaces the content of its
    location's part (keeping its id) or adds a part; overwrite first drops every part. Answers the parts' ids."""
    existing = store.listing(tx.conn, account, region, store.DOCUMENTATION_PART, api_id)
    if overwrite:
        for part in existing:
            _remove_part(tx, account, region, api_id, part)
        existing = []
    by_location = {_location_key(d["location"]): d for d in existing}
    part_ids: list[str] = []
    for location, properties in parts:
        current = by_location.get(_location_key(location))
        if current is not None:
            current["properties"] = properties
            store.put(tx, account, region, store.DOCUMENTATION_PART, api_id, current["id"], current)
        else:
            current = {"id": ids.short_id(6), "location": location, "properties": properties}
            _add_part(tx, account, region, api_id, current)
            by_location[_location_key(location)] = current
        if current["id"] not in part_ids:
            part_ids.append(current["id"])
    return part_ids


async def import_documentation_parts(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    mode = p.get("mode") or "merge"
    if mode not in ("merge", "overwrite"):
        raise errors.bad_request(f"Invalid mode specified: {mode}. Must be one of: [merge, overwrite]")
    parts, warnings = imported_parts(bytes(p.get("body") or b""))
    if warnings and p.get("failOnWarnings"):
        raise errors.bad_request("; ".join(warnings))

    def write(tx: Tx) -> Doc:
        _api_exists(tx.conn, ctx.account, ctx.region, api_id)
        part_ids = write_parts(tx, ctx.account, ctx.region, api_id, parts, mode == "overwrite")
        return {"ids": part_ids, "warnings": warnings}

    return await ctx.env.db.write(write)


# -- documentation versions


def _version_answer(version: Doc) -> Doc:
    out = {k: v for k, v in version.items() if not k.startswith("_")}
    out["createdDate"] = common.when(version["createdDate"])
    return out


async def create_documentation_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name, stage_name = p["restApiId"], str(p["documentationVersion"]), str(p.get("stageName") or "")
    await common.rest_api(ctx, api_id)
    if not name or len(name) > VERSION_MAX:
        raise errors.bad_request(f"Invalid documentation version specified: must be 1 to {VERSION_MAX} characters")
    now = common.now()
    version: Doc = {"version": name, "createdDate": now}
    if p.get("description") is not None:
        version["description"] = p["description"]

    def write(tx: Tx) -> Doc:
        _api_exists(tx.conn, ctx.account, ctx.region, api_id)
        stage = None
        if stage_name:
            stage = store.get(tx.conn, ctx.account, ctx.region, store.STAGE, api_id, stage_name)
            if stage is None:
                raise errors.not_found("Invalid stage identifier specified")
        row = {**version, SNAPSHOT: store.listing(tx.conn, ctx.account, ctx.region, store.DOCUMENTATION_PART, api_id)}
        if not store.add(tx, ctx.account, ctx.region, store.DOCUMENTATION_VERSION, api_id, name, row):
            raise errors.conflict("Documentation version already exists")
        if stage is not None:
            stage["documentationVersion"] = name
            stage["lastUpdatedDate"] = now
            store.put(tx, ctx.account, ctx.region, store.STAGE, api_id, stage_name, stage)
        return row

    return _version_answer(await ctx.env.db.write(write))


async def _version(ctx: RequestContext, api_id: str, name: str) -> Doc:
    await common.rest_api(ctx, api_id)
    return await common.stored(ctx, store.DOCUMENTATION_VERSION, api_id, name, version_not_found)


async def get_documentation_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _version_answer(await _version(ctx, p["restApiId"], p["documentationVersion"]))


async def get_documentation_versions(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    versions = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.DOCUMENTATION_VERSION, api_id)
    out = common.page(versions, lambda v: str(v["version"]), p)
    out["items"] = [_version_answer(v) for v in out["items"]]
    return out


async def update_documentation_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["restApiId"], p["documentationVersion"]
    current = await _version(ctx, api_id, name)
    changed = patch.replace_only(current, p.get("patchOperations"), VERSION_PATCHABLE)
    await common.replace(ctx, store.DOCUMENTATION_VERSION, api_id, name, changed, version_not_found)
    return _version_answer(changed)


async def delete_documentation_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["restApiId"], p["documentationVersion"]
    await common.rest_api(ctx, api_id)
    await common.delete(ctx, store.DOCUMENTATION_VERSION, api_id, name, version_not_found)
    return {}


HANDLERS = {
    "CreateDocumentationPart": create_documentation_part,
    "GetDocumentationPart": get_documentation_part,
    "GetDocumentationParts": get_documentation_parts,
    "UpdateDocumentationPart": update_documentation_part,
    "DeleteDocumentationPart": delete_documentation_part,
    "ImportDocumentationParts": import_documentation_parts,
    "CreateDocumentationVersion": create_documentation_version,
    "GetDocumentationVersion": get_documentation_version,
    "GetDocumentationVersions": get_documentation_versions,
    "UpdateDocumentationVersion": update_documentation_version,
    "DeleteDocumentationVersion": delete_documentation_version,
}
