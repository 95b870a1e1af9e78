"""SQL of accepted asynchronous invocations (lambda_async_invocations): claiming due rows for an attempt, and
rescheduling or removing them once it ended. Rows are added by store.enqueue_async. The logic is in
async_invoke.py."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update

from broker.storage.db import Tx
from broker.storage.tables import lambda_async_invocations as ai

WAKE_KEY = "lambda:async"  # woken at the commit of new (or rescheduled) invocations, in every process


class Intake:
    """How many invocations this process accepted in the current and the previous wall-clock second."""

    def __init__(self) -> None:
        self.second = 0
        self.current = 0
        self.previous = 0

    def accepted(self, n: int = 1) -> None:
        now = int(time.monotonic())
        if now != self.second:
            self.previous = self.current if now == self.second + 1 else 0
            self.second, self.current = now, 0
        self.current += n

    def per_second(self) -> int:
        self.accepted(0)
        return max(self.current, self.previous)


INTAKE = Intake()

Row = dict[str, Any]


def claim(tx: Tx, now: int, wall: int, claim_ms: int, limit: int) -> list[Row]:
    """Due invocations nobody holds (a claim past its wall-clock end is free again), claimed for one attempt each:
    the attempt is counted as it starts, so an attempt cut short by a crash still counts."""
    stmt = (
        select(ai)
        .where(and_(ai.c.due_at <= now, ai.c.claimed_until <= wall))
        .order_by(ai.c.due_at, ai.c.id)
        .limit(limit)
    )
    if tx.is_pg:
        stmt = stmt.with_for_update(skip_locked=True)
    rows = [dict(r) for r in tx.conn.execute(stmt).mappings()]
    for r in rows:
        r["attempts"] += 1
        r["claimed_until"] = wall + claim_ms
        tx.conn.execute(
            update(ai).where(ai.c.id == r["id"]).values(attempts=r["attempts"], claimed_until=r["claimed_until"])
        )
    return rows


def still_claimed(tx: Tx, row: Row) -> bool:
    """Whether the row is still there under this claim (not claimed again after the claim expired)."""
    mine = and_(ai.c.id == row["id"], ai.c.claimed_until == row["claimed_until"], ai.c.attempts == row["attempts"])
    return tx.conn.execute(select(ai.c.id).where(mine)).first() is not None


def reschedule(tx: Tx, row_id: int, due_at: int, function_errors: int, throttles: int, outcome: str | None) -> None:
    tx.conn.execute(
        update(ai)
        .where(ai.c.id == row_id)
        .values(
            due_at=due_at, claimed_until=0, function_errors=function_errors, throttles=throttles, last_outcome=outcome
        )
    )
    tx.wake(WAKE_KEY)


def remove(tx: Tx, row_id: int) -> None:
    tx.conn.execute(delete(ai).where(ai.c.id == row_id))


def next_due(conn: Connection) -> int | None:
    """When the earliest unclaimed invocation is due (test-clock ms), or None."""
    due: int | None = conn.execute(select(func.min(ai.c.due_at)).where(ai.c.claimed_until == 0)).scalar()
    return due


def pending(conn: Connection, wall: int) -> bool:
    """Whether any invocation waits or holds an expired claim (what the safety-net job looks for)."""
    free = ai.c.claimed_until <= wall
    return conn.execute(select(ai.c.id).where(free).limit(1)).first() is not None


def extend(tx: Tx, row: Row, until: int) -> bool:
    """Lengthen the row's claim to cover the attempt (the function's timeout); False if the claim is gone."""
    if not still_claimed(tx, row):
        return False
    tx.conn.execute(update(ai).where(ai.c.id == row["id"]).values(claimed_until=until))
    row["claimed_until"] = until
    return True
