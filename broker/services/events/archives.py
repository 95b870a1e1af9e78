"""Archives: which archived events a bus keeps (capture, in the transaction that accepted the event), and the sweep
that removes events past their archive's retention (RetentionDays; 0 keeps them forever).

Capture runs for every event put on a bus, so the archives of an account and Region are kept compiled per process
(CACHE, dropped at every change of an archive in any process, see `changed`): an account without archives costs
no statement per event. An archive an event goes to is read again, share-locked, in the capturing transaction, so
an event is never kept for an archive deleted meanwhile (DeleteArchive deletes the archived events of its Id)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from broker import clock
from broker.cache import TtlCache
from broker.services.events import archive_store, resource_store, routing
from broker.services.events.resource_store import ARCHIVES
from broker.storage.db import Database, Tx

DAY_MS = 86_400_000
SWEEP_CHUNK = 500
CACHE_PREFIX = "events.archives:"


@dataclass(frozen=True)
class Archive:
    name: str
    id: str
    source: str  # the bus ARN
    matches: Callable[[dict[str, Any]], bool] | None  # None: no EventPattern, every event


class _Cache(TtlCache[list[Archive]]):
    """The enabled archives of an account and Region by notifier key; `generation` moves at every drop, so a list
    read before a change is not kept after it."""

    generation = 0

    def on_notify(self, key: str) -> None:
        self.generation += 1
        super().on_notify(key)


CACHE = _Cache(CACHE_PREFIX)


def _key(account: str, region: str) -> str:
    return f"{CACHE_PREFIX}{account}:{region}"


def archive_id(doc: dict[str, Any]) -> str:
    """The identity an archive's events are stored under."""
    return str(doc.get("Id") or doc["ArchiveName"])


def changed(tx: Tx, account: str, region: str) -> None:
    """An archive of the account and Region was created, changed or deleted: every process forgets the list."""
    tx.wake(_key(account, region))
    CACHE.on_notify(_key(account, region))


def _archives(tx: Tx, account: str, region: str) -> list[Archive]:
    key = _key(account, region)
    found = CACHE.get(key)
    if found is not None:
        return found
    generation = CACHE.generation
    found = []
    for doc in resource_store.listing(tx.conn, ARCHIVES, account, region, None, None):
        if doc.get("State", "ENABLED") == "ENABLED":
            pattern = doc.get("EventPattern")
            matches = routing._matcher(pattern) if pattern else None
            found.append(Archive(doc["ArchiveName"], archive_id(doc), doc["EventSourceArn"], matches))
    if CACHE.generation == generation:
        CACHE.put(key, found)
    return found


def event_time(event: dict[str, Any], now: int) -> int:
    """An event's `time` as epoch ms (what a replay's window selects on); `now` when it has none we can read."""
    try:
        return clock.to_ms(datetime.fromisoformat(str(event["time"])))
    except (KeyError, ValueError):
        return now


def capture(tx: Tx, account: str, region: str, bus_arn: str, event: dict[str, Any], now: int) -> None:
    """Store the event in every enabled archive of the bus whose event pattern (if any) matches it."""
    if "replay-name" in event:  # replayed events are never archived again
        return
    text: str | None = None
    view: dict[str, Any] | None = None
    for archive in _archives(tx, account, region):
        if archive.source != bus_arn:
            continue
        if archive.matches is not None:
            view = view or {**event, "detail": routing._numbers(event.get("detail"))}
            if not archive.matches(view):
                continue
        doc = resource_store.locked(tx, ARCHIVES, account, region, archive.name, share=True)
        if doc is None or archive_id(doc) != archive.id or doc.get("State", "ENABLED") != "ENABLED":
            continue  # deleted or disabled since the list was read
        text = text or json.dumps(event)
        archive_store.add_event(tx, account, region, archive.id, event_time(event, now), now, text)


def _retained(db: Database) -> list[tuple[str, str, str, int]]:
    """(account, Region, archive Id, retention ms) of every archive with a retention."""
    out = []
    for account, region, doc in db.read_sync(resource_store.everything, ARCHIVES):
        days = int(doc.get("RetentionDays") or 0)
        if days > 0:
            out.append((account, region, archive_id(doc), days * DAY_MS))
    return out


def sweep(db: Database) -> None:
    """The retention sweep (a leased job): each archive's expired events, chunk by chunk."""
    for account, region, archive, keep_ms in _retained(db):
        while db.write_sync(archive_store.expire, account, region, archive, clock.now_ms() - keep_ms, SWEEP_CHUNK):
            pass


def has_expired(db: Database) -> bool:
    """The sweep's precheck: whether an archive with a retention holds an event past it."""
    now = clock.now_ms()
    return any(
        db.read_sync(archive_store.any_before, account, region, archive, now - keep_ms)
        for account, region, archive, keep_ms in _retained(db)
    )
