"""The SQL of EventBridge buses, rules and targets: each a JSON document keyed by account, Region and names. The
`default` bus has no row until something is stored for it (its tags). Write functions take a Tx and run on the
writer thread."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select

from broker.services.events import schedule_store
from broker.storage.db import Tx
from broker.storage.helpers import bytewise, has_prefix, insert_ignore, upsert
from broker.storage.tables import events_buses as b
from broker.storage.tables import events_rules as r
from broker.storage.tables import events_targets as t

DEFAULT_BUS = "default"
_ordered, _prefixed = bytewise, has_prefix  # the names this module and resource_store.py use


# -- buses ---------------------------------------------------------------------------------------------------------
def get_bus(conn: Connection, account: str, region: str, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(b.c.doc).where(b.c.account == account, b.c.region == region, b.c.name == name)).first()
    return json.loads(row.doc) if row is not None else None


def bus_exists(conn: Connection, account: str, region: str, name: str) -> bool:
    return name == DEFAULT_BUS or get_bus(conn, account, region, name) is not None


def create_bus(tx: Tx, account: str, region: str, name: str, doc: dict[str, Any]) -> bool:
    """False when the name is taken (ON CONFLICT: two nodes creating it at once get one)."""
    values = {"account": account, "region": region, "name": name, "doc": json.dumps(doc)}
    return bool(insert_ignore(tx.conn, b, values))


def put_bus(tx: Tx, account: str, region: str, name: str, doc: dict[str, Any]) -> None:
    values = {"account": account, "region": region, "name": name, "doc": json.dumps(doc)}
    upsert(tx.conn, b, values, ["account", "region", "name"])


def delete_bus(tx: Tx, account: str, region: str, name: str) -> None:
    """The bus with its rules and their targets (nothing when it does not exist)."""
    tx.conn.execute(delete(t).where(t.c.account == account, t.c.region == region, t.c.bus == name))
    tx.conn.execute(delete(r).where(r.c.account == account, r.c.region == region, r.c.bus == name))
    tx.conn.execute(delete(b).where(b.c.account == account, b.c.region == region, b.c.name == name))
    schedule_store.remove_bus(tx, account, region, name)


def list_buses(conn: Connection, account: str, region: str) -> list[tuple[str, dict[str, Any]]]:
    rows = conn.execute(
        select(b.c.name, b.c.doc).where(b.c.account == account, b.c.region == region).order_by(_ordered(conn, b.c.name))
    )
    return [(row.name, json.loads(row.doc)) for row in rows]


# -- rules ---------------------------------------------------------------------------------------------------------
def _rule(account: str, region: str, bus: str, name: str) -> Any:
    return and_(r.c.account == account, r.c.region == region, r.c.bus == bus, r.c.name == name)


def get_rule(conn: Connection, account: str, region: str, bus: str, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(r.c.doc).where(_rule(account, region, bus, name))).first()
    return json.loads(row.doc) if row is not None else None


def put_rule(tx: Tx, account: str, region: str, bus: str, name: str, doc: dict[str, Any]) -> str:
    """Create or replace a rule ("ok"); "no_bus" when its bus does not exist. Replacing keeps the rule's tags: AWS
    ignores the Tags of a PutRule that updates an existing rule."""
    if not bus_exists(tx.conn, account, region, bus):
        return "no_bus"
    old = get_rule(tx.conn, account, region, bus, name)
    if old is not None:
        doc = {**doc, "Tags": old.get("Tags", {})}
    values = {"account": account, "region": region, "bus": bus, "name": name, "doc": json.dumps(doc)}
    upsert(tx.conn, r, values, ["account", "region", "bus", "name"])
    return "ok"


def update_rule(tx: Tx, account: str, region: str, bus: str, name: str, changes: dict[str, Any]) -> bool:
    """Merge `changes` into a rule's document; False when there is no such rule."""
    old = get_rule(tx.conn, account, region, bus, name)
    if old is None:
        return False
    values = {"account": account, "region": region, "bus": bus, "name": name, "doc": json.dumps({**old, **changes})}
    upsert(tx.conn, r, values, ["account", "region", "bus", "name"])
    return True


def delete_rule(tx: Tx, account: str, region: str, bus: str, name: str) -> str:
    """ "ok" (also when there is no such rule: AWS's DeleteRule is idempotent) or "targets"."""
    count = tx.conn.execute(
        select(func.count()).where(t.c.account == account, t.c.region == region, t.c.bus == bus, t.c.rule == name)
    ).scalar_one()
    if count:
        return "targets"
    tx.conn.execute(delete(r).where(_rule(account, region, bus, name)))
    schedule_store.remove(tx, account, region, bus, name)
    return "ok"


def list_rules(
    conn: Connection, account: str, region: str, bus: str, prefix: str | None, after: str | None, limit: int
) -> list[dict[str, Any]]:
    name = _ordered(conn, r.c.name)
    cond = [r.c.account == account, r.c.region == region, r.c.bus == bus]
    if prefix:
        cond.append(_prefixed(r.c.name, prefix))
    if after is not None:
        cond.append(name > after)
    rows = conn.execute(select(r.c.doc).where(*cond).order_by(name).limit(limit))
    return [json.loads(row.doc) for row in rows]


# -- targets -------------------------------------------------------------------------------------------------------
def _targets_of(account: str, region: str, bus: str, rule: str) -> Any:
    return and_(t.c.account == account, t.c.region == region, t.c.bus == bus, t.c.rule == rule)


def list_targets(conn: Connection, account: str, region: str, bus: str, rule: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(t.c.doc).where(_targets_of(account, region, bus, rule)).order_by(_ordered(conn, t.c.target_id))
    )
    return [json.loads(row.doc) for row in rows]


def put_targets(
    tx: Tx, account: str, region: str, bus: str, rule: str, targets: list[dict[str, Any]], limit: int
) -> str:
    """Add or replace targets by Id: "ok", "missing" (no such rule) or "limit" (more than `limit` afterwards)."""
    if get_rule(tx.conn, account, region, bus, rule) is None:
        return "missing"
    have = {d["Id"] for d in list_targets(tx.conn, account, region, bus, rule)}
    if len(have | {d["Id"] for d in targets}) > limit:
        return "limit"
    for doc in targets:
        values = {
            "account": account,
            "region": region,
            "bus": bus,
            "rule": rule,
            "target_id": doc["Id"],
            "doc": json.dumps(doc),
        }
        upsert(tx.conn, t, values, ["account", "region", "bus", "rule", "target_id"])
    return "ok"


def remove_targets(tx: Tx, account: str, region: str, bus: str, rule: str, ids: list[str]) -> bool:
    """False when there is no such rule; ids it does not have are ignored."""
    if get_rule(tx.conn, account, region, bus, rule) is None:
        return False
    tx.conn.execute(delete(t).where(_targets_of(account, region, bus, rule), t.c.target_id.in_(ids)))
    return True


def rule_names_by_target(conn: Connection, account: str, region: str, bus: str, arn: str) -> list[str]:
    rows = conn.execute(
        select(t.c.rule, t.c.doc)
        .where(t.c.account == account, t.c.region == region, t.c.bus == bus)
        .order_by(_ordered(conn, t.c.rule))
    )
    return sorted({row.rule for row in rows if json.loads(row.doc).get("Arn") == arn})
