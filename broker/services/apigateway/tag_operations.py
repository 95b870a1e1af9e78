"""Tags of API Gateway resources named by ARN (arn:aws:apigateway:<region>::/restapis/<id>, .../stages/<name>,
/apikeys/<id>, /usageplans/<id>): they live in the tagged object's own document, in its "tags" member, so reading
the object answers them too. `check_tag_keys` and `retagged` serve HTTP APIs' tags too."""

from __future__ import annotations

import re
from typing import Any

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import errors, store
from broker.services.apigateway.key_operations import key_not_found, plan_not_found, stage_not_found
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

ARN = re.compile(
    r"^arn:aws[a-z-]*:apigateway:(?P<region>[a-z0-9-]+)::"
    r"/(?:restapis/(?P<api>[^/]+)(?:/stages/(?P<stage>[^/]+))?|apikeys/(?P<key>[^/]+)|usageplans/(?P<plan>[^/]+))$"
)
MAX_TAGS = 50


def _target(ctx: RequestContext, arn: str) -> tuple[str, str, str, ServiceError]:
    """(kind, api_id, object_id, the error when it is missing) of the object an ARN names."""
    m = ARN.match(arn)
    if m is None:
        raise errors.bad_request(f"Invalid resource ARN specified: {arn}")
    if m["region"] != ctx.region:
        raise errors.not_found(f"Invalid resource identifier specified: {arn}")
    if m["stage"]:
        return store.STAGE, m["api"], m["stage"], stage_not_found()
    if m["api"]:
        return store.REST_API, "", m["api"], errors.api_not_found(ctx.account, m["api"])
    if m["key"]:
        return store.API_KEY, "", m["key"], key_not_found()
    return store.USAGE_PLAN, "", m["plan"], plan_not_found()


def check_tag_keys(tags: dict[str, str]) -> None:
    for key in tags:
        if key.lower().startswith("aws:"):
            raise errors.bad_request("Tag keys must not start with the reserved prefix 'aws:'")


def retagged(current: dict[str, str] | None, set_tags: dict[str, str], remove: list[str]) -> dict[str, str]:
    """A resource's tags after a TagResource (set_tags) or UntagResource (remove), within the limit."""
    tags = {**(current or {}), **set_tags}
    for key in remove:
        tags.pop(key, None)
    if len(tags) > MAX_TAGS:
        raise errors.bad_request(f"Too many tags: a resource can have at most {MAX_TAGS} tags")
    return tags


async def _change(ctx: RequestContext, arn: str, set_tags: dict[str, str], remove: list[str]) -> None:
    kind, api_id, object_id, missing = _target(ctx, arn)

    def write(tx: Tx) -> None:
        if kind == store.STAGE and store.get(tx.conn, ctx.account, ctx.region, store.REST_API, "", api_id) is None:
            raise errors.api_not_found(ctx.account, api_id)
        doc = store.get(tx.conn, ctx.account, ctx.region, kind, api_id, object_id)
        if doc is None:
            raise missing
        tags = retagged(doc.get("tags"), set_tags, remove)
        if tags:
            doc["tags"] = tags
        else:
            doc.pop("tags", None)
        store.put(tx, ctx.account, ctx.region, kind, api_id, object_id, doc)

    await ctx.env.db.write(write)


async def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = dict(p.get("tags") or {})
    check_tag_keys(tags)
    await _change(ctx, p["resourceArn"], tags, [])
    return {}


async def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _change(ctx, p["resourceArn"], {}, list(p.get("tagKeys") or []))
    return {}


async def get_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    kind, api_id, object_id, missing = _target(ctx, p["resourceArn"])
    api = await ctx.env.db.read(store.get, ctx.account, ctx.region, store.REST_API, "", api_id) if api_id else {}
    if api is None:
        raise errors.api_not_found(ctx.account, api_id)
    doc: Doc | None = await ctx.env.db.read(store.get, ctx.account, ctx.region, kind, api_id, object_id)
    if doc is None:
        raise missing
    return {"tags": dict(doc.get("tags") or {})}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "GetTags": get_tags,
}
