"""Replays run: a leased job takes each replay with work (STARTING, RUNNING, CANCELLING) and sends the archived
events of its window to its bus's rules (only those of its FilterArns, when given) in event-time order, a chunk per
transaction that also moves the replay's cursor forward, so a replay cut short by a crash resumes where its last
chunk ended. The replay's row is read locked and saved only as it was read (state and cursor), so a cancel or
another process's run in between rolls the chunk back instead of sending it twice. One run does a bounded amount of
work (well inside the job's lease) and the next run continues. Each event carries "replay-name" (and so is never
archived again). A cancelled replay stops at its next chunk; a replay whose archive was deleted (or deleted and
created again: another Id) fails."""

from __future__ import annotations

import json
import time
from typing import Any

from broker import clock
from broker.services.events import archive_store, archives, resource_store, routing
from broker.services.events.archive_store import ReplayMoved
from broker.services.events.resource_store import ARCHIVES
from broker.storage.db import Database, Tx

CHUNK = 100
MAX_CHUNKS_PER_RUN = 10  # of one replay in one run: replays share the job
MAX_RUN_S = 3.0  # of work in one run, at most a quarter of the job's lease


def _finish(doc: dict[str, Any], now: int, reason: str | None = None) -> dict[str, Any]:
    doc = {**doc, "ReplayEndTime": now}
    if reason:
        doc["StateReason"] = reason
    return doc


def step(tx: Tx, account: str, region: str, name: str) -> bool:
    """One chunk of a replay, or its end; True while more is left."""
    found = archive_store.lock_replay(tx, account, region, name)
    if found is None or found[1] not in archive_store.ACTIVE:
        return False
    doc, state, cursor = found
    was, now = (state, cursor), clock.now_ms()
    if state == "CANCELLING":
        archive_store.save_replay(tx, account, region, name, was, _finish(doc, now), "CANCELLED", cursor)
        return False
    archive = resource_store.get(tx.conn, ARCHIVES, account, region, doc["Archive"])
    if archive is None or archives.archive_id(archive) != doc.get("ArchiveId", archives.archive_id(archive)):
        reason = f"Archive {doc['Archive']} does not exist."
        archive_store.save_replay(tx, account, region, name, was, _finish(doc, now, reason), "FAILED", cursor)
        return False
    start, end = doc["EventStartTime"], doc["EventEndTime"]
    after = (int(doc.get("CursorTime", start - 1)), cursor)
    chunk = archive_store.window(tx.conn, account, region, archives.archive_id(archive), start, end, after, CHUNK)
    filters = doc.get("Rules")
    rules = set(filters) if filters else None
    for row_id, event_time, text in chunk:
        event = json.loads(text)
        event["replay-name"] = name
        routing.route(tx, account, region, doc["Bus"], event, now, rules)
        doc["CursorTime"], doc["EventLastReplayedTime"], cursor = event_time, event_time, row_id
    if len(chunk) < CHUNK:
        archive_store.save_replay(tx, account, region, name, was, _finish(doc, now), "COMPLETED", cursor)
        return False
    archive_store.save_replay(tx, account, region, name, was, doc, "RUNNING", cursor)
    return True


def run(db: Database, lease_s: float) -> None:
    """The replay job (leased): a bounded share of every replay with work; what is left waits for the next run."""
    deadline = time.monotonic() + min(MAX_RUN_S, lease_s / 4)
    for account, region, name in db.read_sync(archive_store.due_replays, clock.now_ms()):
        for _ in range(MAX_CHUNKS_PER_RUN):
            if time.monotonic() > deadline:
                return
            try:
                if not db.write_sync(step, account, region, name):
                    break
            except ReplayMoved:  # changed by someone else meanwhile: the next run takes it as it is then
                break


def has_work(db: Database) -> bool:
    return bool(db.read_sync(archive_store.due_replays, clock.now_ms()))
