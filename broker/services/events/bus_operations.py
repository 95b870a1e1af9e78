"""EventBridge operations on event buses: CreateEventBus, DescribeEventBus, ListEventBuses, DeleteEventBus. The
`default` bus exists in every account and Region without being created and cannot be deleted."""

from __future__ import annotations

from typing import Any

from broker import clock, paging
from broker.context import RequestContext
from broker.services.events import store
from broker.services.events.errors import bus_exists, bus_not_found, default_bus_undeletable
from broker.services.events.names import bus_arn, bus_name, page_after
from broker.services.events.store import DEFAULT_BUS

LIST_LIMIT = 100

# CreateEventBus members answered back as given.
_ECHOED = ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig")


async def create_event_bus(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    if name == DEFAULT_BUS:
        raise bus_exists(name)
    now = clock.now_ms()
    doc: dict[str, Any] = {k: p[k] for k in _ECHOED if p.get(k) is not None}
    doc.update(CreationTime=now, LastModifiedTime=now, Tags={t["Key"]: t["Value"] for t in p.get("Tags") or []})
    if not await ctx.env.db.write(store.create_bus, ctx.account, ctx.region, name, doc):
        raise bus_exists(name)
    return {"EventBusArn": bus_arn(ctx, name), **{k: p[k] for k in _ECHOED if p.get(k) is not None}}


def _describe(ctx: RequestContext, name: str, doc: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": name, "Arn": bus_arn(ctx, name)}
    for key in _ECHOED:
        if doc and key in doc:
            out[key] = doc[key]
    if doc and doc.get("Policy"):
        out["Policy"] = doc["Policy"]
    if doc and "CreationTime" in doc:
        out["CreationTime"] = clock.to_datetime(doc["CreationTime"])
        out["LastModifiedTime"] = clock.to_datetime(doc["LastModifiedTime"])
    return out


async def describe_event_bus(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = bus_name(p, "Name")
    doc = await ctx.env.db.read(store.get_bus, ctx.account, ctx.region, name)
    if doc is None and name != DEFAULT_BUS:
        raise bus_not_found(name)
    return _describe(ctx, name, doc)


async def list_event_buses(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    prefix = p.get("NamePrefix") or ""
    limit = p.get("Limit") or LIST_LIMIT
    after = page_after(p)
    stored = dict(await ctx.env.db.read(store.list_buses, ctx.account, ctx.region))
    names = sorted({DEFAULT_BUS, *stored})
    names = [n for n in names if n.startswith(prefix) and (after is None or n > after)]
    page = names[:limit]
    out: dict[str, Any] = {"EventBuses": [_describe(ctx, n, stored.get(n)) for n in page]}
    if len(names) > limit:
        out["NextToken"] = paging.after_token(page[-1])
    return out


async def delete_event_bus(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    if name == DEFAULT_BUS:
        raise default_bus_undeletable()
    # Idempotent at AWS: deleting a bus that does not exist succeeds.
    await ctx.env.db.write(store.delete_bus, ctx.account, ctx.region, name)
    return {}


HANDLERS = {
    "CreateEventBus": create_event_bus,
    "DescribeEventBus": describe_event_bus,
    "ListEventBuses": list_event_buses,
    "DeleteEventBus": delete_event_bus,
}
