"""Models of WebSocket APIs (JSON schemas named per API; HTTP APIs have none) and their mapping template skeletons,
rendered the way v1's GetModelTemplate renders them (its schema check and renderer are reused)."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.services.apigateway.model_operations import check_schema, model_template
from broker.services.apigatewayv2 import common, errors, store
from broker.services.apigatewayv2.common import HTTP
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

NAME = re.compile(r"^[a-zA-Z0-9]{1,128}$")


def _websocket_api(conn: Connection, ctx: RequestContext, api_id: str) -> Doc:
    api = common.api_or_404(conn, ctx, api_id)
    if api["ProtocolType"] == HTTP:
        raise errors.websocket_only("Models")
    return api


def _check(models: list[Doc], doc: Doc) -> None:
    if not NAME.match(doc["Name"]):
        raise errors.bad_request("Model name must be alphanumeric")
    check_schema(doc.get("Schema"))
    for other in models:
        if other["ModelId"] != doc["ModelId"] and other["Name"] == doc["Name"]:
            raise errors.conflict(f"Model name already exists for this API: {doc['Name']}")


def _model_or_404(conn: Connection, ctx: RequestContext, api_id: str, model_id: str) -> Doc:
    _websocket_api(conn, ctx, api_id)
    found = store.get(conn, ctx.account, ctx.region, store.MODEL, api_id, model_id)
    if found is None:
        raise errors.model_not_found(model_id)
    return found


async def create_model(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["ApiId"]
    doc: Doc = {"ContentType": p.get("ContentType") or "application/json"}
    if p.get("Description") is not None:
        doc["Description"] = p["Description"]
    doc.update(ModelId=common.new_id(6), Name=p["Name"], Schema=p["Schema"])

    def write(tx: Tx) -> Doc:
        _websocket_api(tx.conn, ctx, api_id)
        _check(store.listing(tx.conn, ctx.account, ctx.region, store.MODEL, api_id), doc)
        store.add(tx, ctx.account, ctx.region, store.MODEL, api_id, doc["ModelId"], doc)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def get_model(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return common.answer(await ctx.env.db.read(_model_or_404, ctx, p["ApiId"], p["ModelId"]))


async def get_models(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> list[Doc]:
        _websocket_api(conn, ctx, p["ApiId"])
        return store.listing(conn, ctx.account, ctx.region, store.MODEL, p["ApiId"])

    return common.answered_page(await ctx.env.db.read(read), "ModelId", p)


async def update_model(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, model_id = p["ApiId"], p["ModelId"]

    def write(tx: Tx) -> Doc:
        doc = _model_or_404(tx.conn, ctx, api_id, model_id)
        for key in ("ContentType", "Description", "Name", "Schema"):
            if p.get(key) is not None:
                doc[key] = p[key]
        _check(store.listing(tx.conn, ctx.account, ctx.region, store.MODEL, api_id), doc)
        store.put(tx, ctx.account, ctx.region, store.MODEL, api_id, model_id, doc)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def delete_model(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, model_id = p["ApiId"], p["ModelId"]

    def write(tx: Tx) -> None:
        _model_or_404(tx.conn, ctx, api_id, model_id)
        store.remove(tx, ctx.account, ctx.region, store.MODEL, api_id, [model_id])

    await ctx.env.db.write(write)
    return {}


async def get_model_template(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    model = await ctx.env.db.read(_model_or_404, ctx, p["ApiId"], p["ModelId"])
    try:
        schema = json.loads(model.get("Schema") or "{}")
    except ValueError:
        schema = {}
    return {"Value": model_template(schema if isinstance(schema, dict) else {})}


HANDLERS = {
    "CreateModel": create_model,
    "GetModel": get_model,
    "GetModels": get_models,
    "UpdateModel": update_model,
    "DeleteModel": delete_model,
    "GetModelTemplate": get_model_template,
}
