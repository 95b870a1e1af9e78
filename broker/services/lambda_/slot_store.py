"""Running invocations as rows (lambda_slots), so that concurrency limits hold across every worker and node: a
function with reserved concurrency runs at most that many at once; the others share what the account's limit leaves
(AWS's unreserved pool). A crashed worker's rows expire by wall-clock time."""

from __future__ import annotations

import zlib

from sqlalchemy import delete, func, insert, select, text

from broker.storage.db import Tx
from broker.storage.tables import lambda_functions as fn
from broker.storage.tables import lambda_slots as sl


def acquire(
    tx: Tx, account: str, region: str, function_id: int, reserved: int | None, account_limit: int, now: int, ttl: int
) -> int | None:
    """A slot for one invocation, or None when the function's (or the shared pool's) limit is reached."""
    if tx.is_pg:  # serialize the count-then-insert of one account's region (SQLite's writes already are serial)
        tx.conn.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"lambda:{account}:{region}".encode())}
        )
    tx.conn.execute(delete(sl).where(sl.c.account == account, sl.c.region == region, sl.c.expires_at < now))
    if reserved is not None:
        running = tx.conn.execute(
            select(func.count()).select_from(sl).where(sl.c.function_id == function_id)
        ).scalar_one()
        if running >= reserved:
            return None
    else:
        reserved_sum = tx.conn.execute(
            select(func.coalesce(func.sum(fn.c.reserved_concurrency), 0)).where(
                fn.c.account == account, fn.c.region == region
            )
        ).scalar_one()
        running = tx.conn.execute(
            select(func.count())
            .select_from(sl)
            .where(sl.c.account == account, sl.c.region == region, sl.c.reserved.is_(False))
        ).scalar_one()
        if running >= account_limit - reserved_sum:
            return None
    row = tx.conn.execute(
        insert(sl)
        .values(
            account=account,
            region=region,
            function_id=function_id,
            reserved=reserved is not None,
            expires_at=now + ttl,
        )
        .returning(sl.c.id)
    ).first()
    assert row is not None
    return int(row[0])


def release(tx: Tx, slot_id: int) -> None:
    tx.conn.execute(delete(sl).where(sl.c.id == slot_id))
