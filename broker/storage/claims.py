"""Rows claimed for one attempt at a time (due_at test-clock ms, claimed_until wall-clock ms, attempts): the
durable dispatchers' tables (events_deliveries, lambda_async_invocations) share this SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, and_, func, select, update

from broker.storage.db import Tx

Row = dict[str, Any]


def claim(tx: Tx, table: Table, now: int, wall: int, claim_ms: int, limit: int) -> list[Row]:
    """Due rows nobody holds (a claim past its wall-clock end is free again), claimed for one attempt each: the
    attempt is counted as it starts, so an attempt cut short by a crash still counts."""
    c = table.c
    stmt = select(table).where(and_(c.due_at <= now, c.claimed_until <= wall)).order_by(c.due_at, c.id).limit(limit)
    if tx.is_pg:
        stmt = stmt.with_for_update(skip_locked=True)
    rows = [dict(r) for r in tx.conn.execute(stmt).mappings()]
    for r in rows:
        r["attempts"] += 1
        r["claimed_until"] = wall + claim_ms
        tx.conn.execute(
            update(table).where(c.id == r["id"]).values(attempts=r["attempts"], claimed_until=r["claimed_until"])
        )
    return rows


def still_claimed(tx: Tx, table: Table, row: Row) -> bool:
    """Whether the row is still there under this claim (not claimed again after the claim expired)."""
    c = table.c
    mine = and_(c.id == row["id"], c.claimed_until == row["claimed_until"], c.attempts == row["attempts"])
    return tx.conn.execute(select(c.id).where(mine)).first() is not None


def next_due(conn: Connection, table: Table) -> int | None:
    """When the earliest unclaimed row is due (test-clock ms), or None."""
    due: int | None = conn.execute(select(func.min(table.c.due_at)).where(table.c.claimed_until == 0)).scalar()
    return due
