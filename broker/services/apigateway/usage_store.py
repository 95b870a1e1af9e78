"""SQL of usage plan quotas (apigateway_usage): one row per plan, API key and UTC day counting the requests admitted
that day (`used`) and what UpdateUsage granted that day (`adjust`); a quota period's remaining requests are
limit - sum(used - adjust) over the period's days. Admitting a request is ONE conditional UPDATE of today's row,
whose condition reads today's own columns (re-checked on the locked row version by PostgreSQL, so concurrent
nodes cannot overshoot the limit) plus the period's earlier days, which no request changes any more."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from broker.storage.db import Tx
from broker.storage.prepared import Prepared
from broker.storage.tables import apigateway_usage as u

_earlier = u.alias("earlier")
_EARLIER_DAYS = (
    select(func.coalesce(func.sum(_earlier.c.used - _earlier.c.adjust), 0))
    .where(
        _earlier.c.account == bindparam("account"),
        _earlier.c.region == bindparam("region"),
        _earlier.c.plan_id == bindparam("plan_id"),
        _earlier.c.key_id == bindparam("key_id"),
        _earlier.c.day >= bindparam("start"),
        _earlier.c.day < bindparam("day"),
    )
    .scalar_subquery()
)
_ROW = and_(
    u.c.account == bindparam("account"),
    u.c.region == bindparam("region"),
    u.c.plan_id == bindparam("plan_id"),
    u.c.key_id == bindparam("key_id"),
    u.c.day == bindparam("day"),
)
# Count one request on today's row while the period stays under its limit.
_COUNT = Prepared(
    update(u)
    .where(_ROW, u.c.used - u.c.adjust + _EARLIER_DAYS < bindparam("limit", type_=u.c.used.type))
    .values(used=u.c.used + 1)
)
NO_LIMIT = 2**62  # a plan without a quota still counts its keys' requests (GetUsage reports them)


def _new_row(conn: Connection, account: str, region: str, plan_id: str, key_id: str, day: str) -> None:
    mod = postgresql if conn.dialect.name == "postgresql" else sqlite
    values = {"account": account, "region": region, "plan_id": plan_id, "key_id": key_id, "day": day}
    conn.execute(mod.insert(u).values(**values, used=0, adjust=0).on_conflict_do_nothing())


def count(tx: Tx, account: str, region: str, plan_id: str, key_id: str, day: str, start: str, limit: int) -> bool:
    """Count one request of `key_id` on `day` (period starting `start`); False when the quota is used up. One
    UPDATE; the day's first request also inserts its row."""
    params = {
        "account": account, "region": region, "plan_id": plan_id, "key_id": key_id, "day": day, "start": start,
        "limit": limit,
    }  # fmt: skip
    cur = _COUNT.execute(tx.conn, params)
    done = cur.rowcount
    cur.close()
    if done:
        return True
    exists = tx.conn.execute(select(u.c.used).where(_ROW), params).first()
    if exists is not None:
        return False  # the row is there: the period is at its limit
    _new_row(tx.conn, account, region, plan_id, key_id, day)
    cur = _COUNT.execute(tx.conn, params)
    done = cur.rowcount
    cur.close()
    return bool(done)


@dataclass
class Day:
    key_id: str
    day: str
    used: int
    adjust: int


def days(
    conn: Connection, account: str, region: str, plan_id: str, key_ids: list[str] | None, first: str, last: str
) -> list[Day]:
    """The rows of a plan (of some keys, or all) from day `first` to `last`, by key and day."""
    stmt = select(u.c.key_id, u.c.day, u.c.used, u.c.adjust).where(
        u.c.account == account, u.c.region == region, u.c.plan_id == plan_id, u.c.day >= first, u.c.day <= last
    )
    if key_ids is not None:
        stmt = stmt.where(u.c.key_id.in_(key_ids))
    rows = conn.execute(stmt.order_by(u.c.key_id, u.c.day)).all()
    return [Day(r.key_id, r.day, int(r.used), int(r.adjust)) for r in rows]


def grant(tx: Tx, account: str, region: str, plan_id: str, key_id: str, day: str, amount: int) -> None:
    """Add `amount` requests (negative: take them back) to the remaining quota of the period holding `day`."""
    _new_row(tx.conn, account, region, plan_id, key_id, day)
    row = and_(u.c.account == account, u.c.region == region, u.c.plan_id == plan_id, u.c.key_id == key_id)
    tx.conn.execute(update(u).where(row, u.c.day == day).values(adjust=u.c.adjust + amount))
