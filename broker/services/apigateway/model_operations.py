"""Models of a REST API: named JSON schemas (by content type) that methods name for request and response bodies.
Every API has AWS's two default models, "Empty" and "Error": they are answered from this module's constants until
the API changes or deletes them (then a row holds the change, or a tombstone), so APIs need no rows for them.
Also serves GetModel's `flatten` (references to other models inlined) and GetModelTemplate (a VTL mapping
template skeleton shaped like the schema)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import Connection

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import common, errors, patch, store
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

# Names key the stored model (at most 256 characters): longer ones are refused like any other invalid name.
NAME = re.compile(r"^[a-zA-Z0-9]{1,255}$")
REF = re.compile(r"^https://apigateway\.amazonaws\.com/restapis/[^/]+/models/([a-zA-Z0-9]+)$")
PATCHABLE = {"schema": patch.STRING, "description": patch.STRING}
DELETED = "_deleted"  # marks the tombstone of a deleted default model
MAX_DEPTH = 64  # nesting of a schema: the flattening and the template walk it recursively
MAX_INLINED = 100  # references `flatten` replaces at most (models may name each other many times over)
MAX_CHAIN = 4  # models inlined one inside another at most (each may nest MAX_DEPTH deep)

DEFAULTS: dict[str, Doc] = {
    "Empty": {
        "name": "Empty",
        "description": "This is a default empty schema model",
        "schema": (
            '{\n  "$schema": "http://json-schema.org/draft-04/schema#",\n  "title" : "Empty Schema",\n'
            '  "type" : "object"\n}'
        ),
        "contentType": "application/json",
    },
    "Error": {
        "name": "Error",
        "description": "This is a default error schema model",
        "schema": (
            '{\n  "$schema" : "http://json-schema.org/draft-04/schema#",\n  "title" : "Error Schema",\n'
            '  "type" : "object",\n  "properties" : {\n    "message" : { "type" : "string" }\n  }\n}'
        ),
        "contentType": "application/json",
    },
}


def _not_found() -> ServiceError:
    return errors.not_found("Invalid Model Name specified")


def _default(api_id: str, name: str) -> Doc:
    """A default model with an id that is stable for the API (the same on every read, every process)."""
    digest = int.from_bytes(hashlib.sha256(f"{api_id}/{name}".encode()).digest()[:8], "big")
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    model_id = "".join(alphabet[(digest >> (6 * i)) % 36] for i in range(6))
    return {"id": model_id, **DEFAULTS[name]}


def api_models(conn: Connection, ctx: RequestContext, api_id: str) -> dict[str, Doc]:
    """The API's models by name: stored ones, and the defaults the API has not changed or deleted."""
    stored = {m["name"]: m for m in store.listing(conn, ctx.account, ctx.region, store.MODEL, api_id)}
    out = {name: _default(api_id, name) for name in DEFAULTS if name not in stored}
    out.update({name: m for name, m in stored.items() if not m.get(DELETED)})
    return out


def schema_depth(node: Any) -> int:
    """How deeply lists and objects nest in a parsed document (without recursion)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            stack += [(v, level + 1) for v in (value.values() if isinstance(value, dict) else value)]
    return deepest


def check_schema(schema: str | None) -> None:
    if schema is None or schema == "":
        return
    try:
        parsed = json.loads(schema)
    except (ValueError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict) or schema_depth(parsed) > MAX_DEPTH:
        raise errors.bad_request(
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"
        )


async def create_model(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["restApiId"], p["name"]
    await common.rest_api(ctx, api_id)
    if not NAME.match(name):
        raise errors.bad_request("Model name must be non-empty and alphanumeric")
    if not p["contentType"]:
        raise errors.bad_request("Content type must be non-empty")
    check_schema(p.get("schema"))
    model: Doc = {"id": ids.short_id(6), "name": name}
    for key in ("description", "schema"):
        if p.get(key):
            model[key] = p[key]
    model["contentType"] = p["contentType"]

    def write(tx: Tx) -> None:
        if name in api_models(tx.conn, ctx, api_id):
            raise errors.conflict("Model name already exists for this REST API")
        if name in DEFAULTS:  # over the tombstone of the deleted default
            store.put(tx, ctx.account, ctx.region, store.MODEL, api_id, name, model)
        elif not store.add(tx, ctx.account, ctx.region, store.MODEL, api_id, name, model):
            raise errors.conflict("Model name already exists for this REST API")

    await ctx.env.db.write(write)
    return model


async def _all(ctx: RequestContext, api_id: str) -> dict[str, Doc]:
    await common.rest_api(ctx, api_id)
    return await ctx.env.db.read(api_models, ctx, api_id)


def _model(models: dict[str, Doc], name: str) -> Doc:
    found = models.get(name)
    if found is None:
        raise _not_found()
    return found


def _inline(node: Any, models: dict[str, Doc], seen: frozenset[str], budget: list[int]) -> Any:
    """`node` with each {"$ref": <a model's URL>} replaced by that model's schema (a cycle keeps its reference, as
    does every reference past the budget)."""
    if isinstance(node, list):
        return [_inline(x, models, seen, budget) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    match = REF.match(ref) if isinstance(ref, str) else None
    name = match.group(1) if match else ""
    if name in models and name not in seen and len(seen) <= MAX_CHAIN and budget[0] > 0:
        budget[0] -= 1
        target = _parsed(models[name])
        target.pop("$schema", None)
        return _inline(target, models, seen | {name}, budget)
    return {k: _inline(v, models, seen, budget) for k, v in node.items()}


def _parsed(model: Doc) -> dict[str, Any]:
    try:
        parsed = json.loads(model.get("schema") or "{}")
    except (ValueError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _flattened(model: Doc, models: dict[str, Doc]) -> Doc:
    schema = _parsed(model)
    flat = _inline(schema, models, frozenset({model["name"]}), [MAX_INLINED])
    if flat == schema:
        return model
    return {**model, "schema": json.dumps(flat, indent=2)}


async def get_model(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    models = await _all(ctx, p["restApiId"])
    model = _model(models, p["modelName"])
    return _flattened(model, models) if p.get("flatten") else model


async def get_models(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    models = await _all(ctx, p["restApiId"])
    return common.page(sorted(models.values(), key=lambda m: str(m["name"])), lambda m: str(m["name"]), p)


async def update_model(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["restApiId"], p["modelName"]
    current = _model(await _all(ctx, api_id), name)
    changed = patch.apply(current, p.get("patchOperations"), PATCHABLE)
    check_schema(changed.get("schema"))

    def write(tx: Tx) -> None:
        if name not in api_models(tx.conn, ctx, api_id):
            raise _not_found()
        store.put(tx, ctx.account, ctx.region, store.MODEL, api_id, name, changed)

    await ctx.env.db.write(write)
    return changed


async def delete_model(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, name = p["restApiId"], p["modelName"]
    await common.rest_api(ctx, api_id)

    def write(tx: Tx) -> None:
        if name not in api_models(tx.conn, ctx, api_id):
            raise _not_found()
        if name in DEFAULTS:  # a tombstone keeps the default from coming back
            store.put(tx, ctx.account, ctx.region, store.MODEL, api_id, name, {"name": name, DELETED: True})
        else:
            store.remove(tx, ctx.account, ctx.region, store.MODEL, api_id, [name])

    await ctx.env.db.write(write)
    return {}


# GetModelTemplate: AWS's skeleton sets $inputRoot to the whole body and writes one line per property, strings
# quoted, other scalars bare, objects nested and arrays as #foreach loops.


def template_lines(schema: Any, expr: str, indent: str, depth: int) -> list[str]:
    """Lines of the template for a value of `schema` read from the VTL expression `expr`; the first line carries
    no indentation (it follows a property name)."""
    schema = schema if isinstance(schema, dict) else {}
    kind = schema.get("type")
    if kind == "array" or "items" in schema:
        elem = "$elem" if depth == 0 else f"$elem{depth}"
        inner = template_lines(schema.get("items"), elem, indent + "  ", depth + 1)
        return [
            "[",
            f"#foreach({elem} in {expr})",
            indent + "  " + inner[0],
            *inner[1:],
            f"{indent}  #if($foreach.hasNext),#end",
            "#end",
            f"{indent}]",
        ]
    properties = schema.get("properties")
    if kind == "object" or isinstance(properties, dict):
        props = properties if isinstance(properties, dict) else {}
        if not props:
            return ["{ }"]
        lines = ["{"]
        names = list(props)
        for i, name in enumerate(names):
            value = template_lines(props[name], f"{expr}.{name}", indent + "  ", depth)
            comma = "," if i < len(names) - 1 else ""
            lines.append(f'{indent}  "{name}" : {value[0]}')
            lines += value[1:]
            lines[-1] += comma
        lines.append(f"{indent}}}")
        return lines
    if kind == "string" or kind is None:
        return [f'"{expr}"']
    return [expr]


def model_template(schema: dict[str, Any]) -> str:
    """GetModelTemplate's mapping template for a model's schema (an empty schema: an object)."""
    lines = ["#set($inputRoot = $input.path('$'))", *template_lines(schema or {"type": "object"}, "$inputRoot", "", 0)]
    return "\n".join(lines)


async def get_model_template(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    models = await _all(ctx, p["restApiId"])
    model = _model(models, p["modelName"])
    schema = _parsed(_flattened(model, models))
    return {"value": model_template(schema)}


HANDLERS = {
    "CreateModel": create_model,
    "GetModel": get_model,
    "GetModels": get_models,
    "UpdateModel": update_model,
    "DeleteModel": delete_model,
    "GetModelTemplate": get_model_template,
}
