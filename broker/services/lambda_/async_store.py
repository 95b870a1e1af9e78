"""SQL of accepted asynchronous invocations (lambda_async_invocations): claiming due rows for an attempt, and
rescheduling or removing them once it ended. Rows are added by store.enqueue_async. The logic is in
async_invoke.py."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, delete, select, update

from broker.storage import claims
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
    """Due invocations nobody holds, claimed for one attempt each (claims.claim)."""
    return claims.claim(tx, ai, now, wall, claim_ms, limit)


def still_claimed(tx: Tx, row: Row) -> bool:
    return claims.still_claimed(tx, ai, row)


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
    return claims.next_due(conn, ai)


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
