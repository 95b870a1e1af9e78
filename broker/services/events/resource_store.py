"""The SQL of EventBridge's named documents keyed by account, Region and name: connections, API destinations,
archives (one JSON document each) and replays (a document with its state and cursor). Write functions take a Tx and
run on the writer thread; those that change a document read it locked (FOR UPDATE on PostgreSQL; SQLite has one
writer), so two processes changing one document never lose an update."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update

from broker.services.events.store import _ordered, _prefixed
from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore
from broker.storage.tables import events_api_destinations, events_archives, events_connections, events_replays

CONNECTIONS = events_connections
API_DESTINATIONS = events_api_destinations
ARCHIVES = events_archives
REPLAYS = events_replays
# The member of each table's document holding its ARN.
ARN_KEY = {
    CONNECTIONS.name: "ConnectionArn",
    API_DESTINATIONS.name: "ApiDestinationArn",
    ARCHIVES.name: "ArchiveArn",
    REPLAYS.name: "ReplayArn",
}


def _key(table: Table, account: str, region: str, name: str) -> Any:
    c = table.c
    return (c.account == account) & (c.region == region) & (c.name == name)


def get(conn: Connection, table: Table, account: str, region: str, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(table.c.doc).where(_key(table, account, region, name))).first()
    return json.loads(row.doc) if row is not None else None


def locked(tx: Tx, table: Table, account: str, region: str, name: str, share: bool = False) -> dict[str, Any] | None:
    """A document read to be changed (or, `share`, to be relied on) in this transaction: its row is locked on
    PostgreSQL until the commit, so a concurrent change waits for it (or it for that change)."""
    stmt = select(table.c.doc).where(_key(table, account, region, name))
    if tx.is_pg:
        stmt = stmt.with_for_update(read=share)
    row = tx.conn.execute(stmt).first()
    return json.loads(row.doc) if row is not None else None


def create(tx: Tx, table: Table, account: str, region: str, name: str, doc: dict[str, Any]) -> bool:
    """False when the name is taken (ON CONFLICT: two nodes creating it at once get one)."""
    values = {"account": account, "region": region, "name": name, "doc": json.dumps(doc)}
    return bool(insert_ignore(tx.conn, table, values))


def put(tx: Tx, table: Table, account: str, region: str, name: str, doc: dict[str, Any]) -> None:
    """Replace an existing document."""
    tx.conn.execute(update(table).where(_key(table, account, region, name)).values(doc=json.dumps(doc)))


def merged(old: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` over a document (a None value removes its key)."""
    return {k: v for k, v in {**old, **changes}.items() if v is not None}


def modify(
    tx: Tx,
    table: Table,
    account: str,
    region: str,
    name: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> dict[str, Any] | None:
    """Read a document locked, merge what `change(old)` returns into it (None: leave it as it is); the document
    afterwards, None when there is none. `change` may raise (a ServiceError): nothing is written then."""
    old = locked(tx, table, account, region, name)
    if old is None:
        return None
    changes = change(old)
    if changes is None:
        return old
    doc = merged(old, changes)
    put(tx, table, account, region, name, doc)
    return doc


def update_doc(
    tx: Tx, table: Table, account: str, region: str, name: str, changes: dict[str, Any]
) -> dict[str, Any] | None:
    """Merge `changes` into a document; the new document, None when there is none."""
    return modify(tx, table, account, region, name, lambda _old: changes)


def remove(tx: Tx, table: Table, account: str, region: str, name: str) -> dict[str, Any] | None:
    """Delete a document; the one deleted, None when there was none."""
    old = locked(tx, table, account, region, name)
    if old is not None:
        tx.conn.execute(delete(table).where(_key(table, account, region, name)))
    return old


def listing(
    conn: Connection,
    table: Table,
    account: str,
    region: str,
    prefix: str | None,
    after: str | None,
    extra: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every document of the account and Region in name order (code points), from after `after`, with `prefix`;
    `extra` (column, member): that column's value joins each document as that member (a replay's State)."""
    c = table.c
    name = _ordered(conn, c.name)
    cond = [c.account == account, c.region == region]
    if prefix:
        cond.append(_prefixed(c.name, prefix))
    if after is not None:
        cond.append(name > after)
    columns = [c.doc, c[extra[0]]] if extra else [c.doc]
    rows = conn.execute(select(*columns).where(*cond).order_by(name))
    if extra is None:
        return [json.loads(row.doc) for row in rows]
    return [{**json.loads(row.doc), extra[1]: row[1]} for row in rows]


def everything(conn: Connection, table: Table) -> list[tuple[str, str, dict[str, Any]]]:
    """(account, Region, document) of every row (archives, for the retention sweep)."""
    c = table.c
    return [(row.account, row.region, json.loads(row.doc)) for row in conn.execute(select(c.account, c.region, c.doc))]
