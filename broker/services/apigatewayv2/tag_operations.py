"""Tags of API Gateway v2 resources named by ARN (arn:aws:apigateway:<region>::/apis/<id>, .../stages/<name>,
/domainnames/<name>, /vpclinks/<id>): they live in the tagged object's own document, in its "Tags" member, so
reading the object answers them too."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway.tag_operations import check_tag_keys, retagged
from broker.services.apigatewayv2 import errors, store
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

ARN = re.compile(
    r"^arn:aws[a-z-]*:apigateway:(?P<region>[a-z0-9-]+)::/(?:apis/(?P<api>[^/]+)(?:/stages/(?P<stage>[^/]+))?"
    r"|domainnames/(?P<domain>[^/]+)|vpclinks/(?P<link>[^/]+))$"
)


def _target(ctx: RequestContext, arn: str) -> tuple[str, str, str, ServiceError]:
    """(kind, api_id column, object_id, the error when it is missing) of the object an ARN names."""
    m = ARN.match(arn)
    if m is None:
        raise errors.bad_request(f"Invalid resource ARN specified: {arn}")
    if m["region"] != ctx.region:
        raise errors.not_found(f"Invalid resource identifier specified: {arn}")
    if m["stage"]:
        return store.STAGE, m["api"], m["stage"], errors.stage_not_found(m["stage"])
    if m["api"]:
        return store.API, m["api"], m["api"], errors.api_not_found(ctx.account, m["api"])
    if m["domain"]:
        return store.DOMAIN_NAME, "", m["domain"], errors.domain_not_found(m["domain"])
    return store.VPC_LINK, "", m["link"], errors.vpc_link_not_found(m["link"])


def _find(conn: Connection, ctx: RequestContext, arn: str) -> tuple[str, str, str, Doc]:
    kind, api_id, object_id, missing = _target(ctx, arn)
    if kind == store.STAGE and store.get_api(conn, ctx.account, ctx.region, api_id) is None:
        raise errors.api_not_found(ctx.account, api_id)
    doc = store.get(conn, ctx.account, ctx.region, kind, api_id, object_id)
    if doc is None:
        raise missing
    return kind, api_id, object_id, doc


async def _change(ctx: RequestContext, arn: str, set_tags: dict[str, str], remove: list[str]) -> None:
    def write(tx: Tx) -> None:
        kind, api_id, object_id, doc = _find(tx.conn, ctx, arn)
        doc["Tags"] = retagged(doc.get("Tags"), set_tags, remove)
        store.put(tx, ctx.account, ctx.region, kind, api_id, object_id, doc)

    await ctx.env.db.write(write)


async def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = dict(p.get("Tags") or {})
    check_tag_keys(tags)
    await _change(ctx, p["ResourceArn"], tags, [])
    return {}


async def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _change(ctx, p["ResourceArn"], {}, list(p.get("TagKeys") or []))
    return {}


async def get_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _, _, _, doc = await ctx.env.db.read(_find, ctx, p["ResourceArn"])
    return {"Tags": dict(doc.get("Tags") or {})}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "GetTags": get_tags,
}
