"""The SQL of EventBridge Scheduler: schedule groups and schedules as JSON documents keyed by account, Region and
names; a schedule row's `next_at` is when it fires next (NULL: nothing left to fire). The `default` group has no
row until something is stored for it (its tags). Write functions take a Tx and run on the writer thread."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, select, update

from broker.storage.db import Tx
from broker.storage.helpers import bytewise, has_prefix, insert_ignore, upsert
from broker.storage.tables import scheduler_groups as g
from broker.storage.tables import scheduler_schedules as s

DEFAULT_GROUP = "default"
WAKE_KEY = "scheduler:wake"  # a schedule's next firing changed: every process's firing loop looks again

Doc = dict[str, Any]


# -- groups -------------------------------------------------------------------------------------------------------
def get_group(conn: Connection, account: str, region: str, name: str, lock: str = "") -> Doc | None:
    """The group's document; `lock` ("share" or "update", PostgreSQL only) holds its row to the transaction's end."""
    stmt = select(g.c.doc).where(g.c.account == account, g.c.region == region, g.c.name == name)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=lock == "share")
    row = conn.execute(stmt).first()
    return json.loads(row.doc) if row is not None else None


def group_exists(conn: Connection, account: str, region: str, name: str, lock: str = "") -> bool:
    return name == DEFAULT_GROUP or get_group(conn, account, region, name, lock) is not None


def ensure_default_group(tx: Tx, account: str, region: str, now: int) -> Doc:
    """The default group's document, its row created (with its dates) the first time it is asked for."""
    values = {"CreationDate": now, "LastModificationDate": now, "Tags": {}}
    insert_ignore(tx.conn, g, {"account": account, "region": region, "name": DEFAULT_GROUP, "doc": json.dumps(values)})
    doc = get_group(tx.conn, account, region, DEFAULT_GROUP)
    assert doc is not None
    return doc


def create_group(tx: Tx, account: str, region: str, name: str, doc: Doc) -> bool:
    """False when the name is taken (ON CONFLICT: two nodes creating it at once get one)."""
    values = {"account": account, "region": region, "name": name, "doc": json.dumps(doc)}
    return bool(insert_ignore(tx.conn, g, values))


def put_group(tx: Tx, account: str, region: str, name: str, doc: Doc) -> None:
    values = {"account": account, "region": region, "name": name, "doc": json.dumps(doc)}
    upsert(tx.conn, g, values, ["account", "region", "name"])


def delete_group(tx: Tx, account: str, region: str, name: str) -> bool:
    """The group and all its schedules; False when there is no such group. The group's row is locked first
    (PostgreSQL): a CreateSchedule holding it (FOR SHARE) commits before its schedules are deleted, and one that
    comes after finds no group."""
    if get_group(tx.conn, account, region, name, lock="update") is None:
        return False
    tx.conn.execute(delete(s).where(s.c.account == account, s.c.region == region, s.c.group_name == name))
    tx.conn.execute(delete(g).where(g.c.account == account, g.c.region == region, g.c.name == name))
    tx.wake(WAKE_KEY)
    return True


def list_groups(conn: Connection, account: str, region: str) -> list[tuple[str, Doc]]:
    rows = conn.execute(
        select(g.c.name, g.c.doc).where(g.c.account == account, g.c.region == region).order_by(bytewise(conn, g.c.name))
    )
    return [(row.name, json.loads(row.doc)) for row in rows]


# -- schedules ----------------------------------------------------------------------------------------------------
def _schedule(account: str, region: str, group: str, name: str) -> Any:
    return and_(s.c.account == account, s.c.region == region, s.c.group_name == group, s.c.name == name)


def get_schedule(conn: Connection, account: str, region: str, group: str, name: str, lock: bool = False) -> Doc | None:
    """The schedule's document; `lock` holds its row (FOR UPDATE) against a concurrent firing or change."""
    stmt = select(s.c.doc).where(_schedule(account, region, group, name))
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return json.loads(row.doc) if row is not None else None


def insert_schedule(tx: Tx, account: str, region: str, group: str, name: str, doc: Doc, next_at: int | None) -> str:
    """ "ok", "no_group" or "exists" (ON CONFLICT: two nodes creating it at once get one)."""
    if not group_exists(tx.conn, account, region, group, lock="share"):  # not deleted before this commits
        return "no_group"
    values = {
        "account": account,
        "region": region,
        "group_name": group,
        "name": name,
        "doc": json.dumps(doc),
        "next_at": next_at,
    }
    if not insert_ignore(tx.conn, s, values):
        return "exists"
    tx.wake(WAKE_KEY)
    return "ok"


def replace_schedule(
    tx: Tx, account: str, region: str, group: str, name: str, doc: Doc, next_at: int | None, wake: bool = True
) -> None:
    """Store a schedule's new document and next firing; `wake` the firing loops (not needed by the loop itself)."""
    tx.conn.execute(
        update(s).where(_schedule(account, region, group, name)).values(doc=json.dumps(doc), next_at=next_at)
    )
    if wake:
        tx.wake(WAKE_KEY)


def retry_later(tx: Tx, account: str, region: str, group: str, name: str, at: int) -> None:
    """Try a schedule that failed to fire again at `at` (its document unchanged)."""
    tx.conn.execute(update(s).where(_schedule(account, region, group, name)).values(next_at=at))


def delete_schedule(tx: Tx, account: str, region: str, group: str, name: str) -> bool:
    """False when there is no such schedule."""
    result = tx.conn.execute(delete(s).where(_schedule(account, region, group, name)))
    return bool(result.rowcount)


def list_schedules(
    conn: Connection,
    account: str,
    region: str,
    group: str | None,
    prefix: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[tuple[str, str, Doc]]:
    """(group, name, doc) ordered by group then name, after the (group, name) a page ended with."""
    group_col, name_col = bytewise(conn, s.c.group_name), bytewise(conn, s.c.name)
    cond: list[ColumnElement[bool]] = [s.c.account == account, s.c.region == region]
    if group is not None:
        cond.append(s.c.group_name == group)
    if prefix:
        cond.append(has_prefix(s.c.name, prefix))
    if after is not None:
        cond.append((group_col > after[0]) | ((s.c.group_name == after[0]) & (name_col > after[1])))
    rows = conn.execute(
        select(s.c.group_name, s.c.name, s.c.doc).where(*cond).order_by(group_col, name_col).limit(limit)
    )
    return [(row.group_name, row.name, json.loads(row.doc)) for row in rows]


# -- firing -------------------------------------------------------------------------------------------------------
def next_due(conn: Connection) -> int | None:
    """The earliest next firing of any schedule (one index probe): the cheap check of the firing job."""
    value = conn.execute(select(func.min(s.c.next_at))).scalar()
    return int(value) if value is not None else None


def take_due(tx: Tx, now: int, limit: int) -> list[dict[str, Any]]:
    """Due schedules, locked for this transaction on PostgreSQL (SKIP LOCKED: another node takes the others); on
    SQLite the write transaction itself is exclusive. The caller moves each one's next_at in the same transaction."""
    stmt = (
        select(s.c.account, s.c.region, s.c.group_name, s.c.name, s.c.doc, s.c.next_at)
        .where(s.c.next_at <= now)
        .order_by(s.c.next_at)
        .limit(limit)
    )
    if tx.is_pg:
        stmt = stmt.with_for_update(skip_locked=True)
    return [dict(row) for row in tx.conn.execute(stmt).mappings()]
