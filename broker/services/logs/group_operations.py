"""CloudWatch Logs operations on log groups: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, ListLogGroups,
PutRetentionPolicy, DeleteRetentionPolicy, PutLogGroupDeletionProtection."""

from __future__ import annotations

import re
from typing import Any

from broker import clock, paging
from broker.context import RequestContext
from broker.services.logs import store
from broker.services.logs.errors import (
    deletion_protected,
    group_exists,
    group_not_found,
    invalid_next_token,
    prefix_and_pattern,
    reserved_group_name,
    retention_days,
)
from broker.services.logs.groups import RETENTION_DAYS, Group, identifier_name

DESCRIBE_LIMIT = 50
LIST_CHUNK = 1000


async def create_log_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["logGroupName"]
    if name.lower().startswith("aws/"):
        raise reserved_group_name()
    values = {
        "account": ctx.account,
        "region": ctx.region,
        "name": name,
        "created_at": clock.now_ms(),
        "retention_days": None,
        "log_class": p.get("logGroupClass") or "STANDARD",
        # Stored and reported; nothing is encrypted (no KMS here).
        "kms_key_id": p.get("kmsKeyId"),
        "deletion_protection": bool(p.get("deletionProtectionEnabled")),
        "tags": p.get("tags") or {},
    }
    if not await ctx.env.db.write(store.create_group, values):
        raise group_exists()
    return {}


async def delete_log_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["logGroupName"]
    outcome = await ctx.env.db.write(store.delete_group, ctx.account, ctx.region, name)
    if outcome == "missing":
        raise group_not_found()
    if outcome == "protected":
        raise deletion_protected(name)
    return {}


def _page_token(p: dict[str, Any]) -> str | None:
    token = p.get("nextToken")
    if token is None:
        return None
    after = paging.after_of(token)
    if not isinstance(after, str):
        raise invalid_next_token()
    return after


def _describe(grp: Group, size: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"logGroupName": grp.name, "creationTime": grp.created_at}
    if grp.retention_days is not None:
        doc["retentionInDays"] = grp.retention_days
    doc["metricFilterCount"] = 0
    doc["arn"] = grp.arn + ":*"
    doc["storedBytes"] = size
    if grp.kms_key_id:
        doc["kmsKeyId"] = grp.kms_key_id
    doc["logGroupClass"] = grp.log_class
    doc["logGroupArn"] = grp.arn
    doc["deletionProtectionEnabled"] = grp.deletion_protection
    return doc


async def describe_log_groups(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    prefix, pattern = p.get("logGroupNamePrefix"), p.get("logGroupNamePattern")
    if prefix is not None and pattern is not None:
        raise prefix_and_pattern()
    names = None
    if p.get("logGroupIdentifiers") is not None:
        # Names or ARNs; another account's or Region's ARN names nothing here.
        names = [n for n in (identifier_name(ctx, i) for i in p["logGroupIdentifiers"]) if n is not None]
    limit = p.get("limit") or DESCRIBE_LIMIT
    after = _page_token(p)
    log_class = p.get("logGroupClass")
    rows = await ctx.env.db.read(
        store.list_groups, ctx.account, ctx.region, prefix, pattern, log_class, names, after, limit + 1
    )
    page = rows[:limit]
    if pattern:
        # AWS: with logGroupNamePattern only these three members are returned.
        groups = [{"logGroupName": g.name, "creationTime": g.created_at, "arn": g.arn + ":*"} for g, _ in page]
    else:
        groups = [_describe(g, size) for g, size in page]
    out: dict[str, Any] = {"logGroups": groups}
    if len(rows) > limit:
        out["nextToken"] = paging.after_token(page[-1][0].name)
    return out


def _tag_filter(grp: Group, filters: list[dict[str, Any]]) -> bool:
    for f in filters:
        if f["key"] not in grp.tags:
            return False
        values = f.get("values")
        if values and grp.tags[f["key"]] not in values:
            return False
    return True


async def list_log_groups(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = p.get("limit") or DESCRIBE_LIMIT
    pattern = re.compile(p["logGroupNamePattern"]) if p.get("logGroupNamePattern") else None
    tag_filters = p.get("logGroupTags") or []
    if p.get("dataSources") or p.get("fieldIndexNames"):
        return {"logGroups": []}  # no group here has data sources or field indexes
    after = _page_token(p)
    found: list[Group] = []
    more = False
    while True:
        rows = await ctx.env.db.read(
            store.list_groups, ctx.account, ctx.region, None, None, p.get("logGroupClass"), None, after, LIST_CHUNK
        )
        for grp, _ in rows:
            if (pattern is None or pattern.search(grp.name)) and _tag_filter(grp, tag_filters):
                if len(found) == limit:
                    more = True
                    break
                found.append(grp)
        if more or len(rows) < LIST_CHUNK:
            break
        after = rows[-1][0].name
    out: dict[str, Any] = {
        "logGroups": [{"logGroupName": g.name, "logGroupArn": g.arn, "logGroupClass": g.log_class} for g in found]
    }
    if more:
        out["nextToken"] = paging.after_token(found[-1].name)
    return out


async def put_retention_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    days = p["retentionInDays"]
    if days not in RETENTION_DAYS:
        raise retention_days(days, RETENTION_DAYS)
    if not await ctx.env.db.write(store.set_retention, ctx.account, ctx.region, p["logGroupName"], days):
        raise group_not_found()
    return {}


async def delete_retention_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    if not await ctx.env.db.write(store.set_retention, ctx.account, ctx.region, p["logGroupName"], None):
        raise group_not_found()
    return {}


async def put_log_group_deletion_protection(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = identifier_name(ctx, p["logGroupIdentifier"])
    enabled = bool(p["deletionProtectionEnabled"])
    if name is None or not await ctx.env.db.write(
        store.set_deletion_protection, ctx.account, ctx.region, name, enabled
    ):
        raise group_not_found()
    return {}


HANDLERS = {
    "CreateLogGroup": create_log_group,
    "DeleteLogGroup": delete_log_group,
    "DescribeLogGroups": describe_log_groups,
    "ListLogGroups": list_log_groups,
    "PutRetentionPolicy": put_retention_policy,
    "DeleteRetentionPolicy": delete_retention_policy,
    "PutLogGroupDeletionProtection": put_log_group_deletion_protection,
}
