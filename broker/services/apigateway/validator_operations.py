"""Request validators of a REST API: which parts of a request (body, parameters) a method that names one asks API
Gateway to check; created, read, listed, patched and deleted."""

from __future__ import annotations

from typing import Any

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import common, errors, patch, store
from broker.services.apigateway.store import Doc

PATCHABLE = {"name": patch.STRING, "validateRequestBody": patch.BOOL, "validateRequestParameters": patch.BOOL}


def _not_found() -> ServiceError:
    return errors.not_found("Invalid Request Validator identifier specified")


def _answer(validator: Doc) -> Doc:
    out = dict(validator)
    out["validateRequestBody"] = bool(out.get("validateRequestBody", False))
    out["validateRequestParameters"] = bool(out.get("validateRequestParameters", False))
    return out


async def create_request_validator(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    validator: Doc = {"id": ids.short_id(6)}
    if p.get("name"):
        validator["name"] = p["name"]
    validator = _answer(
        {**validator, **{k: p[k] for k in ("validateRequestBody", "validateRequestParameters") if k in p}}
    )
    await ctx.env.db.write(
        store.add, ctx.account, ctx.region, store.REQUEST_VALIDATOR, api_id, validator["id"], validator
    )
    return validator


async def _validator(ctx: RequestContext, api_id: str, validator_id: str) -> Doc:
    await common.rest_api(ctx, api_id)
    return await common.stored(ctx, store.REQUEST_VALIDATOR, api_id, validator_id, _not_found)


async def get_request_validator(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _answer(await _validator(ctx, p["restApiId"], p["requestValidatorId"]))


async def get_request_validators(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["restApiId"]
    await common.rest_api(ctx, api_id)
    items = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.REQUEST_VALIDATOR, api_id)
    out = common.page(items, lambda v: str(v["id"]), p)
    out["items"] = [_answer(v) for v in out["items"]]
    return out


async def update_request_validator(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, validator_id = p["restApiId"], p["requestValidatorId"]
    current = await _validator(ctx, api_id, validator_id)
    changed = _answer(patch.apply(current, p.get("patchOperations"), PATCHABLE))
    await common.replace(ctx, store.REQUEST_VALIDATOR, api_id, validator_id, changed, _not_found)
    return changed


async def delete_request_validator(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, validator_id = p["restApiId"], p["requestValidatorId"]
    await common.rest_api(ctx, api_id)
    await common.delete(ctx, store.REQUEST_VALIDATOR, api_id, validator_id, _not_found)
    return {}


HANDLERS = {
    "CreateRequestValidator": create_request_validator,
    "GetRequestValidator": get_request_validator,
    "GetRequestValidators": get_request_validators,
    "UpdateRequestValidator": update_request_validator,
    "DeleteRequestValidator": delete_request_validator,
}
