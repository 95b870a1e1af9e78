"""The SQL of archived events (events_archived) and replays (events_replays). Archives' own documents are in
resource_store. An archived event's `archive` is its archive's identity (the Id in its document, a new one each
time the name is created), so nothing of an archive deleted survives into one created again with its name. Write
functions take a Tx and run on the writer thread."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore
from broker.storage.tables import events_archived as e
from broker.storage.tables import events_replays as r

ACTIVE = ("STARTING", "RUNNING", "CANCELLING")  # states the replay job works on


# -- archived events -----------------------------------------------------------------------------------------------
def add_event(tx: Tx, account: str, region: str, archive: str, event_time: int, now: int, text: str) -> None:
    size = len(text.encode())
    tx.conn.execute(
        e.insert().values(
            account=account,
            region=region,
            archive=archive,
            event_time=event_time,
            archived_at=now,
            size=size,
            event=text,
        )
    )


def _of(account: str, region: str, archive: str) -> Any:
    return and_(e.c.account == account, e.c.region == region, e.c.archive == archive)


def stats(conn: Connection, account: str, region: str, archive: str) -> tuple[int, int]:
    """(EventCount, SizeBytes) of an archive."""
    row = conn.execute(select(func.count(), func.coalesce(func.sum(e.c.size), 0)).where(_of(account, region, archive)))
    count, size = row.one()
    return int(count), int(size)


def drop_events(tx: Tx, account: str, region: str, archive: str) -> None:
    tx.conn.execute(delete(e).where(_of(account, region, archive)))


def expire(tx: Tx, account: str, region: str, archive: str, before: int, limit: int) -> int:
    """Delete up to `limit` events archived before `before`; how many went."""
    ids = select(e.c.id).where(_of(account, region, archive), e.c.archived_at < before).limit(limit)
    return int(tx.conn.execute(delete(e).where(e.c.id.in_(ids.scalar_subquery()))).rowcount or 0)


def any_before(conn: Connection, account: str, region: str, archive: str, before: int) -> bool:
    """Whether an archive holds an event archived before `before`."""
    stmt = select(e.c.id).where(_of(account, region, archive), e.c.archived_at < before).limit(1)
    return conn.execute(stmt).first() is not None


def window(
    conn: Connection, account: str, region: str, archive: str, start: int, end: int, after: tuple[int, int], limit: int
) -> list[tuple[int, int, str]]:
    """(id, event_time, event) of the archived events with start <= time <= end after `after` (time, id), in
    event-time order."""
    at, aid = after
    rows = conn.execute(
        select(e.c.id, e.c.event_time, e.c.event)
        .where(
            _of(account, region, archive),
            e.c.event_time >= start,
            e.c.event_time <= end,
            or_(e.c.event_time > at, and_(e.c.event_time == at, e.c.id > aid)),
        )
        .order_by(e.c.event_time, e.c.id)
        .limit(limit)
    )
    return [(row.id, row.event_time, row.event) for row in rows]


# -- replays -------------------------------------------------------------------------------------------------------
class ReplayMoved(Exception):
    """A replay's state or cursor changed since this transaction read it: its work is rolled back."""


def _replay(account: str, region: str, name: str) -> Any:
    return and_(r.c.account == account, r.c.region == region, r.c.name == name)


def create_replay(tx: Tx, account: str, region: str, name: str, doc: dict[str, Any], due: int) -> bool:
    """False when the name is taken; the replay job takes it from `due` on."""
    values = {
        "account": account,
        "region": region,
        "name": name,
        "doc": json.dumps(doc),
        "state": "STARTING",
        "cursor": 0,
        "due_at": due,
    }
    return bool(insert_ignore(tx.conn, r, values))


def get_replay(conn: Connection, account: str, region: str, name: str) -> tuple[dict[str, Any], str, int] | None:
    """(document, state, cursor id) of a replay."""
    row = conn.execute(select(r.c.doc, r.c.state, r.c.cursor).where(_replay(account, region, name))).first()
    return (json.loads(row.doc), row.state, int(row.cursor)) if row is not None else None


def lock_replay(tx: Tx, account: str, region: str, name: str) -> tuple[dict[str, Any], str, int] | None:
    """get_replay() to change it: its row locked on PostgreSQL until the commit (a cancel, another process's
    replay job wait for this one)."""
    stmt = select(r.c.doc, r.c.state, r.c.cursor).where(_replay(account, region, name))
    row = tx.conn.execute(stmt.with_for_update() if tx.is_pg else stmt).first()
    return (json.loads(row.doc), row.state, int(row.cursor)) if row is not None else None


def save_replay(
    tx: Tx,
    account: str,
    region: str,
    name: str,
    was: tuple[str, int],
    doc: dict[str, Any],
    state: str,
    cursor: int,
    due: int | None = None,
) -> None:
    """Save a replay read with state and cursor `was`; ReplayMoved (rolling the transaction back) when it is no
    longer so."""
    values: dict[str, Any] = {"doc": json.dumps(doc), "state": state, "cursor": cursor}
    if due is not None:
        values["due_at"] = due
    cond = _replay(account, region, name), r.c.state == was[0], r.c.cursor == was[1]
    if not tx.conn.execute(update(r).where(*cond).values(**values)).rowcount:
        raise ReplayMoved(name)


def due_replays(conn: Connection, now: int) -> list[tuple[str, str, str]]:
    """(account, region, name) of the replays the replay job has work on."""
    rows = conn.execute(
        select(r.c.account, r.c.region, r.c.name).where(r.c.state.in_(ACTIVE), r.c.due_at <= now).order_by(r.c.due_at)
    )
    return [(row.account, row.region, row.name) for row in rows]
