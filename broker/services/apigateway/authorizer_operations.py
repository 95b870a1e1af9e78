"""Authorizers of a REST API (TOKEN and REQUEST Lambda authorizers, Cognito user pool authorizers): created with
AWS's defaults and checks, read, listed, patched and deleted — not while a method still names one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import common, errors, patch, store
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

TYPES = ("TOKEN", "REQUEST", "COGNITO_USER_POOLS")
DEFAULT_TTL, MAX_TTL = 300, 3600
TOKEN_IDENTITY_SOURCE = "method.request.header.Authorization"
OPTIONAL = ("authType", "authorizerCredentials", "identitySource", "identityValidationExpression")
PATCHABLE = {
    "name": patch.STRING,
    "type": patch.STRING,
    "authType": patch.STRING,
    "authorizerUri": patch.STRING,
    "authorizerCredentials": patch.STRING,
    "identitySource": patch.STRING,
    "identityValidationExpression": patch.STRING,
    "authorizerResultTtlInSeconds": patch.INT,
    "providerARNs": patch.SET,
}


def _not_found() -> ServiceError:
    return errors.not_found("Invalid Authorizer identifier specified")


def _valid_lambda_uri(uri: str) -> bool:
    fields = uri.split(":", 5)
    return (
        len(fields) == 6
        and fields[0] == "arn"
        and fields[2] == "apigateway"
        and fields[4] == "lambda"
        and fields[5].startswith("path/")
    )


def check(authorizer: Doc) -> None:
    kind = authorizer.get("type")
    if kind not in TYPES:
        raise errors.bad_request(f"Invalid authorizer type specified: {kind}. Valid values are: {', '.join(TYPES)}")
    if not authorizer.get("name"):
        raise errors.bad_request("Authorizer name must be non-empty")
    if kind == "COGNITO_USER_POOLS":
        if not authorizer.get("providerARNs"):
            raise errors.bad_request("ProviderARNs need to be specified for authorizer of type COGNITO_USER_POOLS")
    else:
        uri = authorizer.get("authorizerUri")
        if not uri or not _valid_lambda_uri(uri):
            raise errors.bad_request(
                f"Invalid Authorizer URI: {uri or 'null'}. Authorizer URI should be a valid API Gateway ARN that "
                "represents a Lambda function invocation."
            )
    ttl = authorizer.get("authorizerResultTtlInSeconds", DEFAULT_TTL)
    if not 0 <= ttl <= MAX_TTL:
        raise errors.bad_request(f"Authorizer result TTL must be between 0 and {MAX_TTL} seconds")


async def create_authorizer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    authorizer: Doc = {"id": ids.short_id(6), "name": p["name"], "type": p["type"]}
    if p.get("providerARNs"):
        authorizer["providerARNs"] = list(p["providerARNs"])
    if p.get("authorizerUri"):
        authorizer["authorizerUri"] = p["authorizerUri"]
    for key in OPTIONAL:
        if p.get(key):
            authorizer[key] = p[key]
    if p["type"] == "TOKEN":
        authorizer.setdefault("identitySource", TOKEN_IDENTITY_SOURCE)
    ttl = p.get("authorizerResultTtlInSeconds")
    authorizer["authorizerResultTtlInSeconds"] = DEFAULT_TTL if ttl is None else ttl
    check(authorizer)
    await ctx.env.db.write(store.add, ctx.account, ctx.region, store.AUTHORIZER, api_id, authorizer["id"], authorizer)
    return authorizer


async def _authorizer(ctx: RequestContext, api_id: str, authorizer_id: str) -> Doc:
    await common.rest_api(ctx, api_id)
    return await common.stored(ctx, store.AUTHORIZER, api_id, authorizer_id, _not_found)


async def get_authorizer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _authorizer(ctx, p["restApiId"], p["authorizerId"])


async def get_authorizers(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    items = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.AUTHORIZER, api_id)
    return common.page(items, lambda a: str(a["id"]), p)


async def update_authorizer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, authorizer_id = p["restApiId"], p["authorizerId"]
    current = await _authorizer(ctx, api_id, authorizer_id)
    changed = patch.apply(current, p.get("patchOperations"), PATCHABLE)
    changed.setdefault("authorizerResultTtlInSeconds", DEFAULT_TTL)
    check(changed)
    await common.replace(ctx, store.AUTHORIZER, api_id, authorizer_id, changed, _not_found)
    return changed


def _user(conn: Connection, ctx: RequestContext, api_id: str, authorizer_id: str) -> str | None:
    """ "VERB/path" of a method that uses the authorizer, as AWS names it when refusing a delete."""
    for resource in store.listing(conn, ctx.account, ctx.region, store.RESOURCE, api_id):
        for verb, method in sorted((resource.get("resourceMethods") or {}).items()):
            if method.get("authorizerId") == authorizer_id:
                return f"{verb}/{resource['path']}"
    return None


async def delete_authorizer(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, authorizer_id = p["restApiId"], p["authorizerId"]
    await common.rest_api(ctx, api_id)

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, store.AUTHORIZER, api_id, authorizer_id) is None:
            raise _not_found()
        user = _user(tx.conn, ctx, api_id, authorizer_id)
        if user is not None:
            raise errors.conflict(f"Cannot delete authorizer, is referenced in method: {user}")
        store.remove(tx, ctx.account, ctx.region, store.AUTHORIZER, api_id, [authorizer_id])

    await ctx.env.db.write(write)
    return {}


HANDLERS = {
    "CreateAuthorizer": create_authorizer,
    "GetAuthorizer": get_authorizer,
    "GetAuthorizers": get_authorizers,
    "UpdateAuthorizer": update_authorizer,
    "DeleteAuthorizer": delete_authorizer,
}
