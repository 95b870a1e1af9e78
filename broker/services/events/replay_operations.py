"""EventBridge replays: StartReplay, DescribeReplay, ListReplays, CancelReplay. A replay sends an archive's events
of a time window back to the archive's own bus (to the rules of its FilterArns, when given); replays.py runs it."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.events import archive_store, archives, resource_store, store
from broker.services.events.errors import (
    bus_not_found,
    invalid_arn,
    invalid_parameter,
    replay_exists,
    replay_not_cancellable,
    replay_not_found,
    rule_not_found,
)
from broker.services.events.names import page_after, rule_arn
from broker.services.events.resource_store import ARCHIVES, REPLAYS
from broker.services.events.resources import arn, bus_in, by_arn, name_in, page, times
from broker.storage.db import Tx

# A replay is STARTING for this long before its events go out (AWS takes a while too), which leaves the moment
# to cancel it before it sends anything.
START_DELAY_MS = 2_000
_TIMES = ("EventStartTime", "EventEndTime", "EventLastReplayedTime", "ReplayStartTime", "ReplayEndTime")
_LISTED = ("ReplayName", "EventSourceArn", "State", "StateReason")


async def _archive(ctx: RequestContext, source_arn: str) -> dict[str, Any]:
    doc = await ctx.env.db.read(by_arn, ARCHIVES, ctx.account, ctx.region, source_arn, "archive")
    if doc is None:
        name = name_in(source_arn, "archive") or source_arn
        raise invalid_parameter("EventSourceArn", f"Archive {name} does not exist.")
    return doc


async def _filter_rules(ctx: RequestContext, bus: str, arns: list[str]) -> list[str]:
    """The names of the rules FilterArns names: rules of the archive's bus."""
    prefix = rule_arn(ctx, bus, "")
    names = []
    for text in arns:
        name = text.removeprefix(prefix)
        if ":rule/" not in text:
            raise invalid_arn(text)
        if not text.startswith(prefix) or not name or "/" in name:
            raise invalid_parameter("Destination.FilterArns", "Cross event bus replay is not permitted.")
        if await ctx.env.db.read(store.get_rule, ctx.account, ctx.region, bus, name) is None:
            raise rule_not_found(name, bus)
        names.append(name)
    return names


async def start_replay(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["ReplayName"]
    if await ctx.env.db.read(archive_store.get_replay, ctx.account, ctx.region, name) is not None:
        raise replay_exists(name)
    start, end = clock.to_ms(p["EventStartTime"]), clock.to_ms(p["EventEndTime"])
    now = clock.now_ms()
    if start >= end:
        raise invalid_parameter("EventEndTime", "EventStartTime must be before EventEndTime.")
    if end > now:
        raise invalid_parameter("EventEndTime", "EventEndTime must be in the past.")
    archive = await _archive(ctx, p["EventSourceArn"])
    source, destination = archive["EventSourceArn"], p["Destination"]
    bus = bus_in(ctx.account, ctx.region, source) or ""
    if destination["Arn"] != source:
        other = bus_in(ctx.account, ctx.region, destination["Arn"])
        if other is None or not await ctx.env.db.read(store.bus_exists, ctx.account, ctx.region, other):
            raise bus_not_found(other or destination["Arn"])
        raise invalid_parameter("Destination.Arn", "Cross event bus replay is not permitted.")
    rules = await _filter_rules(ctx, bus, list(destination.get("FilterArns") or []))
    doc: dict[str, Any] = {
        "ReplayName": name,
        "ReplayArn": arn(ctx, "replay", name),
        "EventSourceArn": p["EventSourceArn"],
        "Destination": destination,
        "EventStartTime": start,
        "EventEndTime": end,
        "ReplayStartTime": now,
        "Archive": archive["ArchiveName"],
        "ArchiveId": archives.archive_id(archive),
        "Bus": bus,
        "Rules": rules,
    }
    if p.get("Description") is not None:
        doc["Description"] = p["Description"]
    if not await ctx.env.db.write(
        archive_store.create_replay, ctx.account, ctx.region, name, doc, now + START_DELAY_MS
    ):
        raise replay_exists(name)
    return {"ReplayArn": doc["ReplayArn"], "State": "STARTING", "ReplayStartTime": clock.to_datetime(now)}


async def describe_replay(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["ReplayName"]
    found = await ctx.env.db.read(archive_store.get_replay, ctx.account, ctx.region, name)
    if found is None:
        raise replay_not_found(name)
    doc, state, _ = found
    out: dict[str, Any] = {k: doc[k] for k in ("ReplayName", "ReplayArn", "Description") if k in doc}
    out["State"] = state
    if "StateReason" in doc:
        out["StateReason"] = doc["StateReason"]
    out.update(EventSourceArn=doc["EventSourceArn"], Destination=doc["Destination"])
    return {**out, **times(doc, _TIMES)}


async def list_replays(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    state, source = p.get("State"), p.get("EventSourceArn")
    docs = await ctx.env.db.read(
        resource_store.listing, REPLAYS, ctx.account, ctx.region, p.get("NamePrefix"), page_after(p), ("state", "State")
    )

    def keep(d: dict[str, Any]) -> bool:
        return (state is None or d["State"] == state) and (source is None or d["EventSourceArn"] == source)

    items, token = page(p, docs, keep, "ReplayName")
    out: dict[str, Any] = {"Replays": [{**{k: d[k] for k in _LISTED if k in d}, **times(d, _TIMES)} for d in items]}
    if token:
        out["NextToken"] = token
    return out


def _cancel(tx: Tx, account: str, region: str, name: str, now: int) -> tuple[str, str] | None:
    """(ARN, the replay's state afterwards) of a replay asked to cancel; None when there is no such replay."""
    found = archive_store.lock_replay(tx, account, region, name)
    if found is None:
        return None
    doc, state, cursor = found
    if state in ("STARTING", "RUNNING"):
        archive_store.save_replay(tx, account, region, name, (state, cursor), doc, "CANCELLING", cursor, due=now)
        state = "CANCELLING"
    return doc["ReplayArn"], state


async def cancel_replay(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["ReplayName"]
    outcome = await ctx.env.db.write(_cancel, ctx.account, ctx.region, name, clock.now_ms())
    if outcome is None:
        raise replay_not_found(name)
    replay_arn, state = outcome
    if state != "CANCELLING":
        raise replay_not_cancellable(name)
    return {"ReplayArn": replay_arn, "State": state}


HANDLERS = {
    "StartReplay": start_replay,
    "DescribeReplay": describe_replay,
    "ListReplays": list_replays,
    "CancelReplay": cancel_replay,
}
