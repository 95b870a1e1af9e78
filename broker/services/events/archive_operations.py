"""EventBridge archives: CreateArchive, DescribeArchive, UpdateArchive, DeleteArchive, ListArchives. An archive keeps
the events its bus receives (those its EventPattern matches, when it has one) for RetentionDays (0: forever); what
it holds is counted from the archived rows (EventCount, SizeBytes)."""

from __future__ import annotations

from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.services.events import archive_store, archives, resource_store, store
from broker.services.events.errors import archive_exists, archive_not_found, bus_not_found
from broker.services.events.names import page_after
from broker.services.events.patterns import compile_pattern
from broker.services.events.resource_store import ARCHIVES
from broker.services.events.resources import arn, bus_in, page
from broker.storage.db import Tx

_ECHOED = ("Description", "EventPattern", "KmsKeyIdentifier")
_DESCRIBED = (
    "ArchiveArn",
    "ArchiveName",
    "EventSourceArn",
    "Description",
    "EventPattern",
    "State",
    "StateReason",
    "KmsKeyIdentifier",
    "RetentionDays",
)
_LISTED = ("ArchiveName", "EventSourceArn", "State", "StateReason", "RetentionDays")


async def _check_bus(ctx: RequestContext, source_arn: str) -> None:
    """The bus an EventSourceArn names must exist here (ResourceNotFoundException)."""
    name = bus_in(ctx.account, ctx.region, source_arn)
    if name is None or not await ctx.env.db.read(store.bus_exists, ctx.account, ctx.region, name):
        raise bus_not_found(name or source_arn.rsplit("/", 1)[-1])


def _create(tx: Tx, account: str, region: str, name: str, doc: dict[str, Any]) -> bool:
    if not resource_store.create(tx, ARCHIVES, account, region, name, doc):
        return False
    archives.changed(tx, account, region)
    return True


async def create_archive(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["ArchiveName"]
    if await ctx.env.db.read(resource_store.get, ARCHIVES, ctx.account, ctx.region, name) is not None:
        raise archive_exists(name)
    await _check_bus(ctx, p["EventSourceArn"])
    if p.get("EventPattern"):
        compile_pattern(p["EventPattern"])
    now = clock.now_ms()
    doc: dict[str, Any] = {
        "ArchiveArn": arn(ctx, "archive", name),
        "ArchiveName": name,
        "Id": ids.uuid4(),
        "EventSourceArn": p["EventSourceArn"],
        **{k: p[k] for k in _ECHOED if p.get(k)},
        "State": "ENABLED",
        "RetentionDays": p.get("RetentionDays") or 0,
        "CreationTime": now,
    }
    if not await ctx.env.db.write(_create, ctx.account, ctx.region, name, doc):
        raise archive_exists(name)
    return _answer(doc)


def _answer(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "ArchiveArn": doc["ArchiveArn"],
        "State": doc["State"],
        "CreationTime": clock.to_datetime(doc["CreationTime"]),
    }


def _view(doc: dict[str, Any], count: int, size: int, members: tuple[str, ...]) -> dict[str, Any]:
    out = {k: doc[k] for k in members if k in doc}
    return {**out, "SizeBytes": size, "EventCount": count, "CreationTime": clock.to_datetime(doc["CreationTime"])}


async def describe_archive(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["ArchiveName"]
    doc = await ctx.env.db.read(resource_store.get, ARCHIVES, ctx.account, ctx.region, name)
    if doc is None:
        raise archive_not_found(name)
    count, size = await ctx.env.db.read(archive_store.stats, ctx.account, ctx.region, archives.archive_id(doc))
    return _view(doc, count, size, _DESCRIBED)


def _update(tx: Tx, account: str, region: str, name: str, changes: dict[str, Any]) -> dict[str, Any] | None:
    doc = resource_store.update_doc(tx, ARCHIVES, account, region, name, changes)
    if doc is not None:
        archives.changed(tx, account, region)
    return doc


async def update_archive(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["ArchiveName"]
    if p.get("EventPattern"):
        compile_pattern(p["EventPattern"])
    changes = {k: p[k] for k in (*_ECHOED, "RetentionDays") if p.get(k) is not None}
    if changes.get("EventPattern") == "":
        changes["EventPattern"] = None  # an empty pattern: the archive keeps every event again
    doc = await ctx.env.db.write(_update, ctx.account, ctx.region, name, changes)
    if doc is None:
        raise archive_not_found(name)
    return _answer(doc)


def _delete(tx: Tx, account: str, region: str, name: str) -> bool:
    """The archive with the events it holds."""
    doc = resource_store.remove(tx, ARCHIVES, account, region, name)
    if doc is None:
        return False
    archive_store.drop_events(tx, account, region, archives.archive_id(doc))
    archives.changed(tx, account, region)
    return True


async def delete_archive(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    if not await ctx.env.db.write(_delete, ctx.account, ctx.region, p["ArchiveName"]):
        raise archive_not_found(p["ArchiveName"])
    return {}


async def list_archives(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    source, state = p.get("EventSourceArn"), p.get("State")
    if source:
        await _check_bus(ctx, source)
    docs = await ctx.env.db.read(
        resource_store.listing, ARCHIVES, ctx.account, ctx.region, p.get("NamePrefix"), page_after(p)
    )

    def keep(d: dict[str, Any]) -> bool:
        return (source is None or d["EventSourceArn"] == source) and (state is None or d["State"] == state)

    items, token = page(p, docs, keep, "ArchiveName")
    out: dict[str, Any] = {"Archives": []}
    for doc in items:
        count, size = await ctx.env.db.read(archive_store.stats, ctx.account, ctx.region, archives.archive_id(doc))
        out["Archives"].append(_view(doc, count, size, _LISTED))
    if token:
        out["NextToken"] = token
    return out


HANDLERS = {
    "CreateArchive": create_archive,
    "DescribeArchive": describe_archive,
    "UpdateArchive": update_archive,
    "DeleteArchive": delete_archive,
    "ListArchives": list_archives,
}
