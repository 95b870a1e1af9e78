"""SQL of SQS messages: inserting rows, deleting them by receipt handle, changing their visibility, counting them.

Functions take a Tx (writes, run on the writer thread) or a Connection (reads). The receives are in
`receive_store.py`, FIFO sequence numbers and deduplication in `fifo_store.py`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, bindparam, case, delete, func, insert, or_, select, update

from broker.storage.db import Tx
from broker.storage.prepared import Prepared
from broker.storage.tables import sqs_messages as m

VISIBILITY_LIMIT_MS = 43_200_000


def waiters_key(queue_id: int) -> str:
    """The notifier key of a queue's receivers: woken by new or freed messages and by changes of its settings."""
    return f"sqs:{queue_id}"


def fetch_all(prepared: Prepared, tx: Tx, params: dict[str, Any]) -> list[Any]:
    """The rows (DBAPI tuples) of a prepared statement run in this transaction."""
    cur = prepared.execute(tx.conn, params)
    rows = cur.fetchall()
    cur.close()
    return rows


def fetch_one(prepared: Prepared, tx: Tx, params: dict[str, Any]) -> Any | None:
    """The first row (a DBAPI tuple) of a prepared statement run in this transaction, or None."""
    cur = prepared.execute(tx.conn, params)
    row = cur.fetchone()
    cur.close()
    return row


# -- inserting ---------------------------------------------------------------------------------------------------
MESSAGE_COLUMNS = [c.name for c in m.columns if c.name != "id"]
_insert = Prepared(insert(m), column_keys=MESSAGE_COLUMNS)


def insert_messages(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Insert complete message rows (every column but the id); the caller wakes the queues' waiters."""
    _insert.executemany(tx.conn, rows)


def insert_rows(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Insert messages of any number of (standard) queues at once; wakes each queue's waiters."""
    insert_messages(tx, rows)
    for queue_id in {r["queue_id"] for r in rows}:
        tx.wake(waiters_key(queue_id))


class Handle(NamedTuple):
    """What a receipt handle names: the row, the token of the receive that handed it out, and the MessageId (None
    in handles of older versions)."""

    row_id: int
    token: str
    message_id: str | None


# -- deleting ----------------------------------------------------------------------------------------------------
_delete = Prepared(
    delete(m).where(
        and_(
            m.c.id == bindparam("id"),
            m.c.queue_id == bindparam("q"),
            or_(m.c.message_id == bindparam("mid"), m.c.receipt == bindparam("token")),
        )
    )
)


def delete_messages(tx: Tx, queue_id: int, handles: list[Handle]) -> None:
    """Standard queues: delete the message a handle names, also with an older handle of a message received again
    since (as AWS does). The MessageId check keeps a handle from deleting a later message that reused the row id."""
    _delete.executemany(
        tx.conn, [{"id": h.row_id, "q": queue_id, "mid": h.message_id, "token": h.token} for h in handles]
    )


_delete_in_flight = Prepared(
    delete(m).where(
        and_(
            m.c.id == bindparam("id"),
            m.c.queue_id == bindparam("q"),
            m.c.receipt == bindparam("token"),
            m.c.visible_at > bindparam("now"),
        )
    )
)
_exists = Prepared(select(m.c.message_id).where(and_(m.c.id == bindparam("id"), m.c.queue_id == bindparam("q"))))


def delete_fifo(tx: Tx, queue_id: int, handles: list[Handle], now: int) -> list[bool]:
    """FIFO delete: a handle whose visibility ran out (or that was superseded) has expired and deletes nothing.
    Per handle True if expired. A delete frees the message's group for waiting receivers."""
    deleted = _delete_in_flight.executemany(
        tx.conn, [{"id": h.row_id, "q": queue_id, "token": h.token, "now": now} for h in handles]
    )
    tx.wake(waiters_key(queue_id))
    if deleted == len(handles):
        return [False] * len(handles)
    # Some were not deleted: those still present have an expired handle; absent ones were deleted (now or
    # before, which succeeds on AWS too: e.g. a client's retry of a delete that was done). A row that reused the id
    # of a deleted one (SQLite reuses the highest id) is another message: its MessageId tells.
    return [_still_there(tx, queue_id, h) for h in handles]


def _still_there(tx: Tx, queue_id: int, handle: Handle) -> bool:
    rows = fetch_all(_exists, tx, {"id": handle.row_id, "q": queue_id})
    return bool(rows) and (handle.message_id is None or rows[0][0] == handle.message_id)


# -- visibility --------------------------------------------------------------------------------------------------
def change_visibility(
    tx: Tx, queue_id: int, fifo: bool, entries: list[tuple[Handle, int]], now: int
) -> list[str | None]:
    """Set visible_at = now + timeout for in-flight messages; per entry None or an error code. A standard queue's
    message no longer in flight is left as it is, with success (AWS answers 200); a FIFO queue's is refused."""
    results: list[str | None] = []
    woke = False
    for handle, timeout_s in entries:
        row_id = handle.row_id
        # By message, not by the latest receipt token: AWS accepts an older handle of a message in flight.
        row = tx.conn.execute(
            select(m.c.visible_at, m.c.received_at, m.c.message_id).where(
                and_(m.c.id == row_id, m.c.queue_id == queue_id)
            )
        ).first()
        if row is None or (handle.message_id is not None and row[2] != handle.message_id):
            results.append("gone")
            continue
        visible_at, received_at, _mid = row
        if visible_at <= now:
            results.append("not-inflight" if fifo else None)
            continue
        if received_at is not None and now + timeout_s * 1000 - received_at > VISIBILITY_LIMIT_MS:
            results.append("too-long")
            continue
        changed = tx.conn.execute(
            update(m).where(and_(m.c.id == row_id, m.c.visible_at > now)).values(visible_at=now + timeout_s * 1000)
        ).rowcount
        if not changed:
            results.append("not-inflight")
            continue
        woke = woke or now + timeout_s * 1000 < visible_at
        results.append(None)
    if woke:
        tx.wake(waiters_key(queue_id))
    return results


# -- counting ----------------------------------------------------------------------------------------------------
def counts(conn: Connection, queue_id: int, now: int) -> dict[str, int]:
    """ApproximateNumberOfMessages(+NotVisible, +Delayed) from the visible_at model, in one pass."""
    hidden = m.c.visible_at > now
    row = conn.execute(
        select(
            func.count(case((~hidden, 1))),
            func.count(case((and_(hidden, m.c.receive_count > 0), 1))),
            func.count(case((and_(hidden, m.c.receive_count == 0), 1))),
        ).where(and_(m.c.queue_id == queue_id, m.c.expires_at > now))
    ).one()
    return {
        "ApproximateNumberOfMessages": row[0],
        "ApproximateNumberOfMessagesNotVisible": row[1],
        "ApproximateNumberOfMessagesDelayed": row[2],
    }
