"""Tags of event buses and rules by ARN: TagResource, UntagResource, ListTagsForResource. A bus ARN is
`...:event-bus/<name>`; a rule ARN `...:rule/<name>` (default bus) or `...:rule/<bus>/<name>`."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.events import store
from broker.services.events.errors import bus_not_found, invalid_arn, limit_exceeded, rule_not_found
from broker.services.events.store import DEFAULT_BUS
from broker.storage.db import Tx

MAX_TAGS = 50


def _resource(ctx: RequestContext, arn: str) -> tuple[str, str, str | None]:
    """(kind, bus, rule) an ARN names; ResourceNotFound for another account's or Region's."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "events" or "/" not in parts[5]:
        raise invalid_arn(arn)
    kind, _, path = parts[5].partition("/")
    if kind == "event-bus" and path:
        if (parts[3], parts[4]) != (ctx.region, ctx.account):
            raise bus_not_found(path)
        return kind, path, None
    if kind == "rule" and path:
        bus, _, rule = path.rpartition("/")
        bus = bus or DEFAULT_BUS
        if (parts[3], parts[4]) != (ctx.region, ctx.account):
            raise rule_not_found(rule, bus)
        return kind, bus, rule
    raise invalid_arn(arn)


def _not_found(bus: str, rule: str | None) -> ServiceError:
    return bus_not_found(bus) if rule is None else rule_not_found(rule, bus)


async def _tags(ctx: RequestContext, arn: str) -> dict[str, str]:
    _, bus, rule = _resource(ctx, arn)
    if rule is None:
        doc = await ctx.env.db.read(store.get_bus, ctx.account, ctx.region, bus)
        if doc is None and bus != DEFAULT_BUS:
            raise bus_not_found(bus)
    else:
        doc = await ctx.env.db.read(store.get_rule, ctx.account, ctx.region, bus, rule)
        if doc is None:
            raise rule_not_found(rule, bus)
    return dict((doc or {}).get("Tags", {}))


async def _change(ctx: RequestContext, arn: str, add: dict[str, str], remove: list[str]) -> None:
    _, bus, rule = _resource(ctx, arn)
    outcome = await ctx.env.db.write(change_tags, ctx.account, ctx.region, bus, rule, add, remove)
    if outcome == "missing":
        raise _not_found(bus, rule)
    if outcome == "too_many":
        raise limit_exceeded()


def change_tags(
    tx: Tx, account: str, region: str, bus: str, rule: str | None, add: dict[str, str], remove: list[str]
) -> str:
    """Apply a tag change in one transaction: "ok", "missing" or "too_many"."""
    if rule is None:
        doc = store.get_bus(tx.conn, account, region, bus)
        if doc is None and bus != DEFAULT_BUS:
            return "missing"
        doc = doc or {}
    else:
        doc = store.get_rule(tx.conn, account, region, bus, rule)
        if doc is None:
            return "missing"
    tags = {k: v for k, v in {**doc.get("Tags", {}), **add}.items() if k not in remove}
    if len(tags) > MAX_TAGS:
        return "too_many"
    doc["Tags"] = tags
    if rule is None:
        store.put_bus(tx, account, region, bus, doc)
    else:
        store.update_rule(tx, account, region, bus, rule, {"Tags": tags})
    return "ok"


async def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _change(ctx, p["ResourceARN"], {t["Key"]: t["Value"] for t in p["Tags"]}, [])
    return {}


async def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _change(ctx, p["ResourceARN"], {}, list(p["TagKeys"]))
    return {}


async def list_tags_for_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = await _tags(ctx, p["ResourceARN"])
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
