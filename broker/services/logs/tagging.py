"""Tags of log groups: the legacy TagLogGroup / UntagLogGroup / ListTagsLogGroup (by name) and TagResource /
UntagResource / ListTagsForResource (by the log group's ARN, without the trailing `:*`)."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext
from broker.services.logs import store
from broker.services.logs.errors import (
    group_not_found,
    resource_not_found,
    too_many_group_tags,
    too_many_tags,
)
from broker.services.logs.groups import MAX_TAGS, name_from_arn


async def _change(ctx: RequestContext, name: str, add: dict[str, str], remove: list[str]) -> str:
    return await ctx.env.db.write(store.change_tags, ctx.account, ctx.region, name, add, remove, MAX_TAGS)


async def _tags(ctx: RequestContext, name: str | None) -> dict[str, str] | None:
    group = await ctx.env.db.read(store.get_group, ctx.account, ctx.region, name) if name is not None else None
    return group.tags if group is not None else None


# -- by log group name (on the path to deprecation at AWS, still served) -------------------------------------------
async def tag_log_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    outcome = await _change(ctx, p["logGroupName"], p["tags"], [])
    if outcome == "missing":
        raise group_not_found()
    if outcome == "too_many":
        raise too_many_group_tags(MAX_TAGS)
    return {}


async def untag_log_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    if await _change(ctx, p["logGroupName"], {}, p["tags"]) == "missing":
        raise group_not_found()
    return {}


async def list_tags_log_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = await _tags(ctx, p["logGroupName"])
    if tags is None:
        raise group_not_found()
    return {"tags": tags}


# -- by ARN --------------------------------------------------------------------------------------------------------
def _arn_group(ctx: RequestContext, arn: str) -> str | None:
    """The log group an ARN names here; None for a destination (none exist here) or another account's group."""
    if arn.split(":")[5:6] == ["destination"]:
        return None
    return name_from_arn(ctx, arn)


async def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["resourceArn"]
    name = _arn_group(ctx, arn)
    outcome = await _change(ctx, name, p["tags"], []) if name is not None else "missing"
    if outcome == "missing":
        raise resource_not_found()
    if outcome == "too_many":
        raise too_many_tags(arn, MAX_TAGS)
    return {}


async def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = _arn_group(ctx, p["resourceArn"])
    if name is None or await _change(ctx, name, {}, p["tagKeys"]) == "missing":
        raise resource_not_found()
    return {}


async def list_tags_for_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = await _tags(ctx, _arn_group(ctx, p["resourceArn"]))
    if tags is None:
        raise resource_not_found()
    return {"tags": tags}


HANDLERS = {
    "TagLogGroup": tag_log_group,
    "UntagLogGroup": untag_log_group,
    "ListTagsLogGroup": list_tags_log_group,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
