"""SQL of stored deliveries (events_deliveries): one row per (event, target) that a remote sender takes or whose
last attempt failed; claimed for an attempt until a wall-clock time, then rescheduled or removed. The logic is in
targets.py (what a failure leads to) and delivery.py (the dispatcher)."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from broker.storage import claims
from broker.storage.db import Tx
from broker.storage.prepared import Prepared
from broker.storage.tables import events_deliveries as ed

if TYPE_CHECKING:
    from broker.services.events.targets import Delivery

WAKE_KEY = "events:deliveries"  # woken at the commit of new (or rescheduled) deliveries, in every process
_COLUMNS = ("account", "region", "origin", "source_arn", "payload", "event_id", "accepted_at")

Row = dict[str, Any]


def add(tx: Tx, delivery: Delivery, due: int, attempts: int, last_error: str | None) -> None:
    target = {f.name: getattr(delivery, f.name) for f in fields(delivery) if f.name not in _COLUMNS}
    values = {c: getattr(delivery, c) for c in _COLUMNS}
    values.update(target=json.dumps(target), attempts=attempts, due_at=due, claimed_until=0, last_error=last_error)
    tx.conn.execute(insert(ed).values(values))
    tx.wake(WAKE_KEY)


def delivery_of(row: Row) -> Delivery:
    from broker.services.events.targets import Delivery

    return Delivery(**{c: row[c] for c in _COLUMNS}, **json.loads(row["target"]))


def claim(tx: Tx, now: int, wall: int, claim_ms: int, limit: int) -> list[Row]:
    """Due deliveries nobody holds, claimed for one attempt each (claims.claim)."""
    return claims.claim(tx, ed, now, wall, claim_ms, limit)


def still_claimed(tx: Tx, row: Row) -> bool:
    return claims.still_claimed(tx, ed, row)


def reschedule(tx: Tx, row_id: int, due: int, last_error: str) -> None:
    tx.conn.execute(update(ed).where(ed.c.id == row_id).values(due_at=due, claimed_until=0, last_error=last_error))
    tx.wake(WAKE_KEY)


def remove(tx: Tx, row_id: int) -> None:
    tx.conn.execute(delete(ed).where(ed.c.id == row_id))


def next_due(conn: Connection) -> int | None:
    return claims.next_due(conn, ed)


def pending(conn: Connection, now: int, wall: int) -> bool:
    """Whether any delivery is due and free (unclaimed, or its claim ended): what the safety-net job looks for."""
    free = and_(ed.c.due_at <= now, ed.c.claimed_until <= wall)
    return conn.execute(select(ed.c.id).where(free).limit(1)).first() is not None


# -- routing -------------------------------------------------------------------------------------------------------
def _bus_rules_stmt() -> Prepared:
    from broker.storage.tables import events_rules as r
    from broker.storage.tables import events_targets as t

    on = and_(t.c.account == r.c.account, t.c.region == r.c.region, t.c.bus == r.c.bus, t.c.rule == r.c.name)
    return Prepared(
        select(r.c.name, r.c.doc, t.c.doc.label("target"))
        .select_from(r.outerjoin(t, on))
        .where(and_(r.c.account == bindparam("a"), r.c.region == bindparam("r"), r.c.bus == bindparam("b")))
        .order_by(r.c.name, t.c.target_id)
    )


_bus_rules = _bus_rules_stmt()


def bus_rules(conn: Connection, account: str, region: str, bus: str) -> list[tuple[str, str, str | None]]:
    """(rule name, rule document, target document or None) of every rule of a bus and its targets, in one read."""
    cur = _bus_rules.execute(conn, {"a": account, "r": region, "b": bus})
    try:
        return [(name, doc, target) for name, doc, target in cur.fetchall()]
    finally:
        cur.close()
