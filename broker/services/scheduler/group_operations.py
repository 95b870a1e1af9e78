"""EventBridge Scheduler operations on schedule groups: CreateScheduleGroup, GetScheduleGroup, DeleteScheduleGroup
(with all its schedules), ListScheduleGroups, and the tags of groups (TagResource, UntagResource,
ListTagsForResource: AWS tags groups only). The `default` group exists in every account and Region without being
created (its row, with its CreationDate, is written the first time it is asked for) and cannot be deleted.

DeleteScheduleGroup removes the group and its schedules in one transaction: AWS answers at once and keeps the group
DELETING while it removes the schedules in the background; here the group is gone when the call returns (a
GetScheduleGroup right after is ResourceNotFoundException, never DELETING), which no client can tell from a fast
AWS deletion."""

from __future__ import annotations

from typing import Any

from broker import clock, paging
from broker.context import RequestContext
from broker.services.scheduler import errors, store
from broker.services.scheduler.names import group_arn
from broker.services.scheduler.store import DEFAULT_GROUP, Doc
from broker.storage.db import Tx

LIST_LIMIT = 100
MAX_TAGS = 200


async def create_schedule_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    if name == DEFAULT_GROUP:
        raise errors.group_exists(name)
    now = clock.now_ms()
    doc: Doc = {"CreationDate": now, "LastModificationDate": now, "Tags": _tags(p.get("Tags") or [])}
    if p.get("ClientToken"):
        doc["ClientToken"] = p["ClientToken"]
    if not await ctx.env.db.write(_create, ctx.account, ctx.region, name, doc):
        raise errors.group_exists(name)
    return {"ScheduleGroupArn": group_arn(ctx, name)}


def _create(tx: Tx, account: str, region: str, name: str, doc: Doc) -> bool:
    if store.create_group(tx, account, region, name, doc):
        return True
    # A retry of the same request (same ClientToken) succeeds, as AWS's idempotency promises.
    old = store.get_group(tx.conn, account, region, name)
    return bool(old and doc.get("ClientToken") and old.get("ClientToken") == doc["ClientToken"])


def _summary(ctx: RequestContext, name: str, doc: Doc) -> dict[str, Any]:
    return {
        "Arn": group_arn(ctx, name),
        "Name": name,
        "State": "ACTIVE",
        "CreationDate": clock.to_datetime(doc["CreationDate"]),
        "LastModificationDate": clock.to_datetime(doc["LastModificationDate"]),
    }


async def _default_group(ctx: RequestContext) -> Doc:
    return await ctx.env.db.write(store.ensure_default_group, ctx.account, ctx.region, clock.now_ms())


async def get_schedule_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    doc = await ctx.env.db.read(store.get_group, ctx.account, ctx.region, name)
    if doc is None:
        if name != DEFAULT_GROUP:
            raise errors.group_not_found(name)
        doc = await _default_group(ctx)
    return _summary(ctx, name, doc)


async def delete_schedule_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    if name == DEFAULT_GROUP:
        raise errors.default_group_undeletable()
    if not await ctx.env.db.write(store.delete_group, ctx.account, ctx.region, name):
        raise errors.group_not_found(name)
    return {}


async def list_schedule_groups(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    prefix = p.get("NamePrefix") or ""
    limit = p.get("MaxResults") or LIST_LIMIT
    after: str | None = None
    if p.get("NextToken") is not None:
        token = paging.after_of(p["NextToken"])
        if not isinstance(token, str):
            raise errors.invalid_next_token()
        after = token
    stored = dict(await ctx.env.db.read(store.list_groups, ctx.account, ctx.region))
    if DEFAULT_GROUP not in stored:  # once per account and Region
        stored[DEFAULT_GROUP] = await _default_group(ctx)
    names = sorted({DEFAULT_GROUP, *stored})
    names = [n for n in names if n.startswith(prefix) and (after is None or n > after)]
    page = names[:limit]
    out: dict[str, Any] = {"ScheduleGroups": [_summary(ctx, n, stored[n]) for n in page]}
    if len(names) > limit:
        out["NextToken"] = paging.after_token(page[-1])
    return out


# -- tags (of groups) -----------------------------------------------------------------------------------------------
def _tags(tags: list[dict[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags}


def _group_of(ctx: RequestContext, arn: str) -> str:
    """The group a tagging request's ARN names (the model's pattern admits only group ARNs of some Region)."""
    head, _, name = arn.partition(":schedule-group/")
    parts = head.split(":")
    if len(parts) != 5 or not name:
        raise errors.invalid_arn(arn)
    if (parts[3], parts[4]) != (ctx.region, ctx.account):
        raise errors.group_not_found(name)
    return name


async def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _change(ctx, p["ResourceArn"], _tags(p["Tags"]), [])
    return {}


async def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _change(ctx, p["ResourceArn"], {}, list(p["TagKeys"]))
    return {}


async def list_tags_for_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = _group_of(ctx, p["ResourceArn"])
    doc = await ctx.env.db.read(store.get_group, ctx.account, ctx.region, name)
    if doc is None and name != DEFAULT_GROUP:
        raise errors.group_not_found(name)
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted((doc or {}).get("Tags", {}).items())]}


async def _change(ctx: RequestContext, arn: str, add: dict[str, str], remove: list[str]) -> None:
    name = _group_of(ctx, arn)
    outcome = await ctx.env.db.write(change_tags, ctx.account, ctx.region, name, add, remove)
    if outcome == "missing":
        raise errors.group_not_found(name)
    if outcome == "too_many":
        raise errors.too_many_tags()


def change_tags(tx: Tx, account: str, region: str, name: str, add: dict[str, str], remove: list[str]) -> str:
    """Apply a tag change in one transaction: "ok", "missing" or "too_many"."""
    doc = store.get_group(tx.conn, account, region, name)
    if doc is None:
        if name != DEFAULT_GROUP:
            return "missing"
        doc = store.ensure_default_group(tx, account, region, clock.now_ms())
    tags = {k: v for k, v in {**doc.get("Tags", {}), **add}.items() if k not in remove}
    if len(tags) > MAX_TAGS:
        return "too_many"
    doc["Tags"] = tags
    store.put_group(tx, account, region, name, doc)
    return "ok"


HANDLERS = {
    "CreateScheduleGroup": create_schedule_group,
    "GetScheduleGroup": get_schedule_group,
    "DeleteScheduleGroup": delete_schedule_group,
    "ListScheduleGroups": list_schedule_groups,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
