"""Authorizers: JWT (HTTP APIs; issuer and audiences, the token's identity source) and REQUEST (a Lambda
authorizer: its URI, payload format version for HTTP APIs, simple responses, result caching by identity sources).
ResetAuthorizersCache only checks its stage: the data plane's authorizer cache lives in each worker process."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.services.apigatewayv2 import authorizers, common, errors, store
from broker.services.apigatewayv2.common import HTTP, WEBSOCKET
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

IDENTITY_SOURCE = re.compile(r"^\$(request\.(header|querystring)\.[^.\s]+|context\.[\w.]+|stageVariables\.\w+)$")
WEBSOCKET_IDENTITY_SOURCE = re.compile(
    r"^(route\.request\.(header|querystring)\.[^.\s]+|context\.[\w.]+|stageVariables\.\w+)$"
)
UPDATABLE = (
    "AuthorizerCredentialsArn", "AuthorizerPayloadFormatVersion", "AuthorizerResultTtlInSeconds", "AuthorizerType",
    "AuthorizerUri", "EnableSimpleResponses", "IdentitySource", "IdentityValidationExpression", "JwtConfiguration",
    "Name",
)  # fmt: skip


def check_authorizer(api: Doc, doc: Doc) -> None:
    protocol, kind = api["ProtocolType"], doc["AuthorizerType"]
    sources = doc.get("IdentitySource") or []
    if kind == "JWT":
        if protocol == WEBSOCKET:
            raise errors.bad_request("JWT authorizers are supported only for HTTP APIs")
        jwt = doc.get("JwtConfiguration")
        if not jwt:
            raise errors.bad_request("JwtConfiguration must be specified for JWT authorizers")
        if not jwt.get("Issuer"):
            raise errors.bad_request("JwtConfiguration.Issuer must be specified for JWT authorizers")
        if not sources:
            raise errors.bad_request("IdentitySource must be specified for JWT authorizers")
        if len(sources) != 1 or not re.fullmatch(
            r"\$(request\.(header|querystring)\.[^.\s]+|context\.[\w.]+)", sources[0]
        ):
            raise errors.bad_request(
                f"Invalid identity source {','.join(sources)}: JWT authorizers take a single identity source of the "
                "form $request.header.<name> or $request.querystring.<name>"
            )
        for member in ("AuthorizerUri", "AuthorizerPayloadFormatVersion", "EnableSimpleResponses"):
            if doc.get(member) is not None:
                raise errors.bad_request(f"{member} is not supported for JWT authorizers")
        return
    if not doc.get("AuthorizerUri"):
        raise errors.bad_request("AuthorizerUri must be specified for REQUEST authorizers")
    if doc.get("JwtConfiguration") is not None:
        raise errors.bad_request("JwtConfiguration is supported only for JWT authorizers")
    pattern = IDENTITY_SOURCE if protocol == HTTP else WEBSOCKET_IDENTITY_SOURCE
    for source in sources:
        if not pattern.match(source):
            raise errors.bad_request(f"Invalid identity source specified: {source}")
    ttl = doc.get("AuthorizerResultTtlInSeconds") or 0
    if protocol == HTTP:
        version = doc.get("AuthorizerPayloadFormatVersion")
        if version is None:
            raise errors.bad_request("AuthorizerPayloadFormatVersion must be specified for REQUEST authorizers")
        if version not in ("1.0", "2.0"):
            raise errors.bad_request("AuthorizerPayloadFormatVersion must be one of: 1.0, 2.0")
        if doc.get("EnableSimpleResponses") and version != "2.0":
            raise errors.bad_request("EnableSimpleResponses is supported only for payload format version 2.0")
        if ttl > 0 and not sources:
            raise errors.bad_request("IdentitySource must be specified when authorizer caching is enabled")
    else:
        for member in ("AuthorizerPayloadFormatVersion", "EnableSimpleResponses"):
            if doc.get(member) is not None:
                raise errors.http_only(member)
    common.check_arn(doc.get("AuthorizerCredentialsArn"), "AuthorizerCredentialsArn")


def build_authorizer(api: Doc, p: dict[str, Any], authorizer_id: str) -> Doc:
    kind = p["AuthorizerType"]
    doc: Doc = {}
    if p.get("AuthorizerCredentialsArn") is not None:
        doc["AuthorizerCredentialsArn"] = p["AuthorizerCredentialsArn"]
    doc["AuthorizerId"] = authorizer_id
    if p.get("AuthorizerPayloadFormatVersion") is not None:
        doc["AuthorizerPayloadFormatVersion"] = p["AuthorizerPayloadFormatVersion"]
    if kind == "REQUEST":
        doc["AuthorizerResultTtlInSeconds"] = p.get("AuthorizerResultTtlInSeconds") or 0
    elif p.get("AuthorizerResultTtlInSeconds"):
        raise errors.bad_request("AuthorizerResultTtlInSeconds is not supported for JWT authorizers")
    doc["AuthorizerType"] = kind
    if p.get("AuthorizerUri") is not None:
        doc["AuthorizerUri"] = p["AuthorizerUri"]
    if p.get("EnableSimpleResponses") is not None:
        doc["EnableSimpleResponses"] = p["EnableSimpleResponses"]
    elif kind == "REQUEST" and api["ProtocolType"] == HTTP:
        doc["EnableSimpleResponses"] = False
    doc["IdentitySource"] = list(p.get("IdentitySource") or [])
    for key in ("IdentityValidationExpression", "JwtConfiguration"):
        if p.get(key) is not None:
            doc[key] = p[key]
    doc["Name"] = p["Name"]
    return doc


def _authorizer_or_404(conn: Connection, ctx: RequestContext, api_id: str, authorizer_id: str) -> Doc:
    found = store.get(conn, ctx.account, ctx.region, store.AUTHORIZER, api_id, authorizer_id)
    if found is None:
        raise errors.authorizer_not_found(authorizer_id)
    return found


async def create_authorizer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["ApiId"]

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        doc = build_authorizer(api, p, common.new_id(6))
        check_authorizer(api, doc)
        store.add(tx, ctx.account, ctx.region, store.AUTHORIZER, api_id, doc["AuthorizerId"], doc)
        common.changed(tx, ctx.account, ctx.region, api_id)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def get_authorizer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> Doc:
        common.api_or_404(conn, ctx, p["ApiId"])
        return _authorizer_or_404(conn, ctx, p["ApiId"], p["AuthorizerId"])

    return common.answer(await ctx.env.db.read(read))


async def get_authorizers(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> list[Doc]:
        common.api_or_404(conn, ctx, p["ApiId"])
        return store.listing(conn, ctx.account, ctx.region, store.AUTHORIZER, p["ApiId"])

    return common.answered_page(await ctx.env.db.read(read), "AuthorizerId", p)


async def update_authorizer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, authorizer_id = p["ApiId"], p["AuthorizerId"]

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        doc = _authorizer_or_404(tx.conn, ctx, api_id, authorizer_id)
        for key in UPDATABLE:
            if p.get(key) is not None:
                doc[key] = p[key]
        check_authorizer(api, doc)
        store.put(tx, ctx.account, ctx.region, store.AUTHORIZER, api_id, authorizer_id, doc)
        common.changed(tx, ctx.account, ctx.region, api_id)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def delete_authorizer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, authorizer_id = p["ApiId"], p["AuthorizerId"]

    def write(tx: Tx) -> None:
        common.api_or_404(tx.conn, ctx, api_id)
        _authorizer_or_404(tx.conn, ctx, api_id, authorizer_id)
        for route in store.listing(tx.conn, ctx.account, ctx.region, store.ROUTE, api_id):
            if route.get("AuthorizerId") == authorizer_id:
                raise errors.conflict(
                    f"Cannot delete authorizer '{authorizer_id}', is referenced in route: {route['RouteKey']}"
                )
        store.remove(tx, ctx.account, ctx.region, store.AUTHORIZER, api_id, [authorizer_id])
        common.changed(tx, ctx.account, ctx.region, api_id)

    await ctx.env.db.write(write)
    return {}


async def reset_authorizers_cache(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> None:
        common.api_or_404(conn, ctx, p["ApiId"])
        if store.get(conn, ctx.account, ctx.region, store.STAGE, p["ApiId"], p["StageName"]) is None:
            raise errors.stage_not_found(p["StageName"])

    await ctx.env.db.read(read)
    # Each worker holds its own results: the broadcast empties this stage's entries in all of them.
    ctx.env.notifier.broadcast({authorizers.reset_key(ctx.account, ctx.region, p["ApiId"], p["StageName"])})
    return {}


HANDLERS = {
    "CreateAuthorizer": create_authorizer,
    "GetAuthorizer": get_authorizer,
    "GetAuthorizers": get_authorizers,
    "UpdateAuthorizer": update_authorizer,
    "DeleteAuthorizer": delete_authorizer,
    "ResetAuthorizersCache": reset_authorizers_cache,
}
