"""The responses of a WebSocket API's routes and integrations (route responses, integration responses): the same
five operations over documents stored under their parent, told apart by a `ResponseKind`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigatewayv2 import common, errors, store
from broker.services.apigatewayv2.common import WEBSOCKET
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ResponseKind:
    name: str  # "RouteResponse": its members are <name>Id and <name>Key, its operations <verb><name>[s]
    parent: str  # "Route": the parent's id member is <parent>Id
    kind: str  # store kind of the responses
    parent_kind: str  # store kind of the parent
    members: tuple[str, ...]  # the optional members CreateX takes and UpdateX changes
    not_found: Callable[[str], ServiceError]
    parent_not_found: Callable[[str], ServiceError]
    check_key: Callable[[str], None] | None = None


def _parent_id(rk: ResponseKind, p: dict[str, Any]) -> str:
    return str(p[f"{rk.parent}Id"])


def _websocket_parent(conn: Connection, ctx: RequestContext, rk: ResponseKind, api_id: str, parent_id: str) -> None:
    api = common.api_or_404(conn, ctx, api_id)
    if store.get(conn, ctx.account, ctx.region, rk.parent_kind, api_id, parent_id) is None:
        raise rk.parent_not_found(parent_id)
    if api["ProtocolType"] != WEBSOCKET:
        raise errors.websocket_only(f"{rk.name}s")


def _response_or_404(conn: Connection, ctx: RequestContext, rk: ResponseKind, p: dict[str, Any]) -> Doc:
    _websocket_parent(conn, ctx, rk, p["ApiId"], _parent_id(rk, p))
    parent = store.child_key(p["ApiId"], _parent_id(rk, p))
    found = store.get(conn, ctx.account, ctx.region, rk.kind, parent, p[f"{rk.name}Id"])
    if found is None:
        raise rk.not_found(p[f"{rk.name}Id"])
    return found


def handlers(rk: ResponseKind) -> dict[str, Handler]:
    """CreateX, GetX, GetXs, UpdateX and DeleteX of one kind of response."""
    id_member, key_member = f"{rk.name}Id", f"{rk.name}Key"

    async def create(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        api_id, parent_id = p["ApiId"], _parent_id(rk, p)
        if rk.check_key is not None:
            rk.check_key(p[key_member])
        doc: Doc = {key: p[key] for key in rk.members if p.get(key) is not None}
        doc[id_member] = common.new_id(6)
        doc[key_member] = p[key_member]
        doc = dict(sorted(doc.items()))  # members in AWS's (alphabetical) order
        parent = store.child_key(api_id, parent_id)

        def write(tx: Tx) -> Doc:
            _websocket_parent(tx.conn, ctx, rk, api_id, parent_id)
            for other in store.listing(tx.conn, ctx.account, ctx.region, rk.kind, parent):
                if other[key_member] == doc[key_member]:
                    raise errors.conflict(f"{rk.name} with key {doc[key_member]} already exists for this {rk.parent}")
            store.add(tx, ctx.account, ctx.region, rk.kind, parent, doc[id_member], doc)
            common.changed(tx, ctx.account, ctx.region, api_id)
            return doc

        return common.answer(await ctx.env.db.write(write))

    async def get(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return common.answer(await ctx.env.db.read(_response_or_404, ctx, rk, p))

    async def get_all(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        def read(conn: Connection) -> list[Doc]:
            _websocket_parent(conn, ctx, rk, p["ApiId"], _parent_id(rk, p))
            parent = store.child_key(p["ApiId"], _parent_id(rk, p))
            return store.listing(conn, ctx.account, ctx.region, rk.kind, parent)

        return common.answered_page(await ctx.env.db.read(read), id_member, p)

    async def update(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        def write(tx: Tx) -> Doc:
            doc = _response_or_404(tx.conn, ctx, rk, p)
            if rk.check_key is not None and p.get(key_member) is not None:
                rk.check_key(p[key_member])
            for key in sorted((*rk.members, key_member)):
                if p.get(key) is not None:
                    doc[key] = p[key]
            parent = store.child_key(p["ApiId"], _parent_id(rk, p))
            store.put(tx, ctx.account, ctx.region, rk.kind, parent, doc[id_member], doc)
            common.changed(tx, ctx.account, ctx.region, p["ApiId"])
            return doc

        return common.answer(await ctx.env.db.write(write))

    async def delete(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        def write(tx: Tx) -> None:
            doc = _response_or_404(tx.conn, ctx, rk, p)
            parent = store.child_key(p["ApiId"], _parent_id(rk, p))
            store.remove(tx, ctx.account, ctx.region, rk.kind, parent, [doc[id_member]])
            common.changed(tx, ctx.account, ctx.region, p["ApiId"])

        await ctx.env.db.write(write)
        return {}

    return {
        f"Create{rk.name}": create,
        f"Get{rk.name}": get,
        f"Get{rk.name}s": get_all,
        f"Update{rk.name}": update,
        f"Delete{rk.name}": delete,
    }
