"""Scheduled rules fire: every enabled rule with a ScheduleExpression has a row of events_rule_schedules saying when
it fires next, kept in step by PutRule, EnableRule, DisableRule and DeleteRule in their own transactions (`sync`).
Every process waits on its event loop for the earliest firing (woken when a row changes and when the test clock
moves); a leased job is the safety net. A firing hands the rule's "Scheduled Event" to its targets and moves the
row to the next firing in one transaction that holds the row, so it runs once cluster-wide; firings missed while the
broker was down run once, then the schedule goes on (a rate keeps its cadence, a cron its wall times; UTC)."""

from __future__ import annotations

import logging
from typing import Any

from broker import clock
from broker.jobs.wake_loop import WakeLoop, until_due
from broker.services.base import Env
from broker.services.events import routing, schedule_store, store
from broker.services.events.schedule import first_fire, next_fire
from broker.storage.db import DB_ERRORS, Tx

log = logging.getLogger("broker.events.schedules")

BATCH = 50  # firings per transaction
IDLE_WAIT_S = 60.0  # longest wait between looks (a change or a clock move wakes the loop before)
RETRY_S = 5.0  # after a failed run


def _schedule_of(doc: dict[str, Any] | None) -> str | None:
    """The expression a rule fires on, None when it does not fire (no schedule, disabled, gone)."""
    if doc is None or doc.get("State") == "DISABLED":
        return None
    expression: str | None = doc.get("ScheduleExpression")
    return expression


def sync(
    tx: Tx,
    account: str,
    region: str,
    bus: str,
    name: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    now: int,
) -> None:
    """After a rule changed from `old` to `new` (None: absent): start, keep, restart or end its schedule. A rule
    whose expression and enabled state are unchanged keeps its next firing; a new or re-enabled one starts now."""
    expression = _schedule_of(new)
    if expression is None:
        schedule_store.remove(tx, account, region, bus, name)
        return
    if _schedule_of(old) == expression and schedule_store.get(tx.conn, account, region, bus, name) is not None:
        return
    first = first_fire(expression, now)
    if first is None:
        schedule_store.remove(tx, account, region, bus, name)
    else:
        schedule_store.put(tx, account, region, bus, name, first)


def scheduled_event(account: str, region: str, rule_arn: str, at: int) -> dict[str, Any]:
    """The event a scheduled rule sends its targets (`time`: when it was scheduled)."""
    return routing.new_event(account, region, "aws.events", "Scheduled Event", [rule_arn], {}, at)


def fire_due(tx: Tx, now: int, limit: int = BATCH) -> int:
    """Fire up to `limit` due rules and move each to its next firing; how many rows were due. A row that fails
    (e.g. an expression stored before the grammar got stricter) is dropped, in its own savepoint, so that it
    cannot hold up every other schedule by failing the batch again and again."""
    rows = schedule_store.claim_due(tx, now, limit)
    for row in rows:
        savepoint = tx.conn.begin_nested()
        try:
            _fire(tx, row, now)
            savepoint.commit()
        except DB_ERRORS:
            raise
        except Exception:
            savepoint.rollback()
            log.exception("Scheduled rule %s/%s could not fire: its schedule is dropped", row["bus"], row["name"])
            schedule_store.remove(tx, row["account"], row["region"], row["bus"], row["name"])
    return len(rows)


def _fire(tx: Tx, row: dict[str, Any], now: int) -> None:
    account, region, bus, name = row["account"], row["region"], row["bus"], row["name"]
    doc = store.get_rule(tx.conn, account, region, bus, name)
    expression = _schedule_of(doc)
    if doc is None or expression is None:  # out of step (cannot happen through the API): drop the row
        schedule_store.remove(tx, account, region, bus, name)
        return
    following = next_fire(expression, row["next_at"], now)  # first: a bad expression raises before anything fires
    event = scheduled_event(account, region, doc["Arn"], row["next_at"])
    routing.fire_rule(tx, account, region, bus, name, event, now)
    if following is None:
        schedule_store.remove(tx, account, region, bus, name)
    else:
        schedule_store.move(tx, row, following)


class RuleScheduler(WakeLoop):
    """This process's runner of scheduled rules."""

    def __init__(self, env: Env) -> None:
        keys = (schedule_store.WAKE_KEY, "clock:")
        super().__init__(env.notifier, keys, log, "firing scheduled rules failed", RETRY_S)
        self.env = env

    # -- the safety-net job (scheduler thread) ------------------------------------------------------------------
    def has_work(self) -> bool:
        return bool(self.env.db.read_sync(schedule_store.has_due, clock.now_ms()))

    def run_due(self) -> int:
        total = 0
        while (n := self.env.db.write_sync(fire_due, clock.now_ms())) > 0:
            total += n
        return total

    # -- the loop (event loop) ------------------------------------------------------------------------------------
    async def run_pass(self) -> float | None:
        db = self.env.db
        due = await db.read(schedule_store.next_due)
        if due is not None and due <= clock.now_ms():
            if await db.write(fire_due, clock.now_ms()):
                return None
            return 0.1  # another node holds them (PostgreSQL): it is moving them on
        return IDLE_WAIT_S if due is None else until_due(due, IDLE_WAIT_S)
