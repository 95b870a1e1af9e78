"""Leases: a row (name, owner, expires_at) taken and renewed atomically; a dead owner's lease simply expires.

Leases use wall-clock time, never the test clock, so moving the test clock cannot steal a live lease.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from broker import clock
from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore
from broker.storage.tables import leases


def acquire(tx: Tx, name: str, owner: str, ttl_ms: int) -> bool:
    """Take or renew `name` for `owner`; False if another live owner holds it."""
    now = clock.wall_ms()
    res = tx.conn.execute(
        update(leases)
        .where(and_(leases.c.name == name, or_(leases.c.owner == owner, leases.c.expires_at < now)))
        .values(owner=owner, expires_at=now + ttl_ms)
    )
    if res.rowcount:
        return True
    return insert_ignore(tx.conn, leases, {"name": name, "owner": owner, "expires_at": now + ttl_ms}) == 1


def holders(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(leases)).mappings().all()
    now = clock.wall_ms()
    return [dict(r, live=r["expires_at"] >= now) for r in rows]


def release(tx: Tx, name: str, owner: str) -> None:
    """Give `name` up at once (if `owner` holds it), for another process to take."""
    tx.conn.execute(update(leases).where(and_(leases.c.name == name, leases.c.owner == owner)).values(expires_at=0))


def live_count(conn: Connection, prefix: str) -> int:
    """How many live leases have names starting with `prefix`."""
    rows = conn.execute(
        select(leases.c.name).where(and_(leases.c.name.startswith(prefix), leases.c.expires_at >= clock.wall_ms()))
    ).all()
    return len(rows)
