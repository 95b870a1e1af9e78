"""Gateway responses of a REST API: what API Gateway answers when a request fails before (or instead of) reaching
the integration, one per response type. Every type has AWS's default (defaultResponse true); Put and Update store a
customised one (a row), Delete brings the default back."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import common, errors, patch, store
from broker.services.apigateway.store import Doc

# Response type -> default status code (the two DEFAULT_* types have none: they cover a range).
STATUS: dict[str, str | None] = {
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "RESOURCE_NOT_FOUND": "404",
    "UNAUTHORIZED": "401",
    "INVALID_API_KEY": "403",
    "ACCESS_DENIED": "403",
    "AUTHORIZER_FAILURE": "500",
    "AUTHORIZER_CONFIGURATION_ERROR": "500",
    "INVALID_SIGNATURE": "403",
    "EXPIRED_TOKEN": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403",
    "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504",
    "API_CONFIGURATION_ERROR": "500",
    "UNSUPPORTED_MEDIA_TYPE": "415",
    "BAD_REQUEST_PARAMETERS": "400",
    "BAD_REQUEST_BODY": "400",
    "REQUEST_TOO_LARGE": "413",
    "THROTTLED": "429",
    "QUOTA_EXCEEDED": "429",
    "WAF_FILTERED": "403",
}
DEFAULT_TEMPLATES = {"application/json": '{"message":$context.error.messageString}'}
PATCHABLE = {"statusCode": patch.STRING, "responseParameters": patch.MAP, "responseTemplates": patch.MAP}


def _check_type(response_type: str) -> None:
    if response_type not in STATUS:
        raise errors.bad_request(
            f"1 validation error detected: Value '{response_type}' at 'responseType' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(STATUS)}]"
        )


def _check_status(status: str | None) -> None:
    if status is not None and not (len(status) == 3 and status[0] in "12345" and status[1:].isdigit()):
        raise errors.bad_request(f"Invalid status code specified: {status}")


def default(response_type: str) -> Doc:
    """AWS's default gateway response of a type."""
    out: Doc = {"responseType": response_type}
    status = STATUS[response_type]
    if status is not None:
        out["statusCode"] = status
    out["responseParameters"] = {}
    out["responseTemplates"] = dict(DEFAULT_TEMPLATES)
    out["defaultResponse"] = True
    return out


def _not_found() -> ServiceError:
    return errors.not_found("Invalid Gateway Response type specified")


async def _stored(ctx: RequestContext, api_id: str) -> dict[str, Doc]:
    await common.rest_api(ctx, api_id)
    rows = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.GATEWAY_RESPONSE, api_id)
    return {r["responseType"]: r for r in rows}


async def put_gateway_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, response_type = p["restApiId"], p["responseType"]
    _check_type(response_type)
    await common.rest_api(ctx, api_id)
    response: Doc = {"responseType": response_type}
    status = p.get("statusCode") or STATUS[response_type]
    _check_status(status)
    if status is not None:
        response["statusCode"] = status
    response["responseParameters"] = dict(p.get("responseParameters") or {})
    response["responseTemplates"] = dict(p.get("responseTemplates") or {})
    response["defaultResponse"] = False
    await ctx.env.db.write(store.put, ctx.account, ctx.region, store.GATEWAY_RESPONSE, api_id, response_type, response)
    return response


async def get_gateway_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    response_type = p["responseType"]
    _check_type(response_type)
    return (await _stored(ctx, p["restApiId"])).get(response_type) or default(response_type)


async def get_gateway_responses(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    """Every type, customised or default; AWS does not page this collection (`limit` and `position` do nothing)."""
    stored = await _stored(ctx, p["restApiId"])
    return {"items": [stored.get(t) or default(t) for t in STATUS]}


async def update_gateway_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, response_type = p["restApiId"], p["responseType"]
    _check_type(response_type)
    current = (await _stored(ctx, api_id)).get(response_type) or default(response_type)
    changed = patch.apply(current, p.get("patchOperations"), PATCHABLE)
    _check_status(changed.get("statusCode"))
    changed.setdefault("responseParameters", {})
    changed.setdefault("responseTemplates", {})
    changed["defaultResponse"] = False
    await ctx.env.db.write(store.put, ctx.account, ctx.region, store.GATEWAY_RESPONSE, api_id, response_type, changed)
    return changed


async def delete_gateway_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, response_type = p["restApiId"], p["responseType"]
    _check_type(response_type)
    await common.rest_api(ctx, api_id)
    await common.delete(ctx, store.GATEWAY_RESPONSE, api_id, response_type, _not_found)
    return {}


HANDLERS = {
    "PutGatewayResponse": put_gateway_response,
    "GetGatewayResponse": get_gateway_response,
    "GetGatewayResponses": get_gateway_responses,
    "UpdateGatewayResponse": update_gateway_response,
    "DeleteGatewayResponse": delete_gateway_response,
}
