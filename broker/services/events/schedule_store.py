"""The SQL of scheduled rules' next firings (events_rule_schedules): a row per enabled rule with a
ScheduleExpression, holding when it fires next. Write functions take a Tx and run on the writer thread."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update

from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.tables import events_rule_schedules as s

WAKE_KEY = "events:schedules"  # woken when a rule's next firing is set, in every process


def _key(account: str, region: str, bus: str, name: str) -> Any:
    return and_(s.c.account == account, s.c.region == region, s.c.bus == bus, s.c.name == name)


def get(conn: Connection, account: str, region: str, bus: str, name: str) -> int | None:
    next_at: int | None = conn.execute(select(s.c.next_at).where(_key(account, region, bus, name))).scalar()
    return next_at


def put(tx: Tx, account: str, region: str, bus: str, name: str, next_at: int) -> None:
    values = {"account": account, "region": region, "bus": bus, "name": name, "next_at": next_at}
    upsert(tx.conn, s, values, ["account", "region", "bus", "name"])
    tx.wake(WAKE_KEY)


def remove(tx: Tx, account: str, region: str, bus: str, name: str) -> None:
    tx.conn.execute(delete(s).where(_key(account, region, bus, name)))


def remove_bus(tx: Tx, account: str, region: str, bus: str) -> None:
    tx.conn.execute(delete(s).where(s.c.account == account, s.c.region == region, s.c.bus == bus))


def move(tx: Tx, row: dict[str, Any], next_at: int) -> None:
    tx.conn.execute(
        update(s).where(_key(row["account"], row["region"], row["bus"], row["name"])).values(next_at=next_at)
    )


def claim_due(tx: Tx, now: int, limit: int) -> list[dict[str, Any]]:
    """Rules whose firing is due, locked for this transaction (another node's run skips them on PostgreSQL; SQLite
    serializes writers): the caller fires each and moves or removes its row before committing."""
    stmt = select(s).where(s.c.next_at <= now).order_by(s.c.next_at).limit(limit)
    if tx.is_pg:
        stmt = stmt.with_for_update(skip_locked=True)
    return [dict(r) for r in tx.conn.execute(stmt).mappings()]


def next_due(conn: Connection) -> int | None:
    due: int | None = conn.execute(select(func.min(s.c.next_at))).scalar()
    return due


def has_due(conn: Connection, now: int) -> bool:
    return conn.execute(select(s.c.name).where(s.c.next_at <= now).limit(1)).first() is not None
