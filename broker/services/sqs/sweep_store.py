"""SQL of removing and rewriting messages in chunks: retention expiry, messages of deleted queues, PurgeQueue and
retention changes (the first chunk in the request, the rest by the `sqs.sweep` job), so that no request holds the
writer for a whole queue. AWS allows itself 60 s to purge and up to 15 minutes to apply a new retention period."""

from __future__ import annotations

import json

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from broker.services.sqs.errors import purge_queue_in_progress
from broker.services.sqs.fifo_store import give_all_heads_turns, give_heads_turns
from broker.services.sqs.validation import DEFAULTS
from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.tables import broker_state as bs
from broker.storage.tables import sqs_fifo_dedup as dd
from broker.storage.tables import sqs_messages as m
from broker.storage.tables import sqs_queue_tombstones as tomb
from broker.storage.tables import sqs_queues as q
from broker.storage.tables import sqs_receive_attempts as ra

DELETED_RECENTLY_MS = 60_000  # a deleted queue's tombstone answers QueueDeletedRecently this long
PURGE_INTERVAL_MS = 60_000
REWRITE_CHUNK = 5000
_PURGING = "sqs.purging."  # broker_state key + queue id -> the purge time: messages sent before it go
_RETENTION = "sqs.retention."  # broker_state key + queue id -> the last message id already given the new expiry
WAKE_KEY = "sqs:sweep"  # woken at the commit of work for the sweep that is due at once (see next_due)


# -- purges and retention changes --------------------------------------------------------------------------------
def purge(tx: Tx, queue_id: int, now: int) -> None:
    last = tx.conn.execute(select(q.c.purged_at).where(q.c.id == queue_id)).scalar()
    if last is not None and now - last < PURGE_INTERVAL_MS:
        raise purge_queue_in_progress()
    tx.conn.execute(update(q).where(q.c.id == queue_id).values(purged_at=now))
    tx.conn.execute(delete(dd).where(dd.c.queue_id == queue_id))  # a purge also forgets FIFO deduplication
    if _purge_chunk(tx, queue_id, now + 1, REWRITE_CHUNK) == REWRITE_CHUNK:
        # The rest goes in the background: all sent before this millisecond. Those sent within it go now (they
        # are all visible from now on, a short range of the visibility index), so that a message sent right
        # after the purge, in the same millisecond, is never taken for one sent before it.
        tx.conn.execute(delete(m).where(and_(m.c.queue_id == queue_id, m.c.visible_at >= now, m.c.sent_at == now)))
        upsert(tx.conn, bs, {"key": f"{_PURGING}{queue_id}", "value": str(now)}, ["key"])
        tx.wake(WAKE_KEY)


def change_retention(tx: Tx, queue_id: int, retention_s: int) -> None:
    """AWS applies a changed retention period to the messages already in the queue: the first chunk now, the
    rest by the sweep job."""
    last = _retention_chunk(tx, queue_id, retention_s, -1, REWRITE_CHUNK)
    if last is not None:
        upsert(tx.conn, bs, {"key": f"{_RETENTION}{queue_id}", "value": str(last)}, ["key"])
        tx.wake(WAKE_KEY)


def _purge_chunk(tx: Tx, queue_id: int, before: int, limit: int) -> int:
    ids = select(m.c.id).where(and_(m.c.queue_id == queue_id, m.c.sent_at < before)).limit(limit).scalar_subquery()
    return tx.conn.execute(delete(m).where(m.c.id.in_(ids))).rowcount


def _retention_chunk(tx: Tx, queue_id: int, retention_s: int, after: int, limit: int) -> int | None:
    """Give the next `limit` messages (by id) the queue's retention; returns the last id done, None at the end."""
    ids = list(
        tx.conn.execute(
            select(m.c.id).where(and_(m.c.queue_id == queue_id, m.c.id > after)).order_by(m.c.id).limit(limit)
        ).scalars()
    )
    if ids:
        tx.conn.execute(
            update(m)
            .where(and_(m.c.queue_id == queue_id, m.c.id > after, m.c.id <= ids[-1]))
            .values(expires_at=m.c.sent_at + retention_s * 1000)
        )
    return ids[-1] if len(ids) == limit else None


def sweep_rewrites(tx: Tx, now: int, limit: int) -> int:
    """One chunk of a pending purge or retention change; returns the rows touched (0: nothing pending)."""
    row = tx.conn.execute(
        select(bs.c.key, bs.c.value).where(or_(bs.c.key.startswith(_PURGING), bs.c.key.startswith(_RETENTION))).limit(1)
    ).first()
    if row is None:
        return 0
    key, value = row
    queue_id = int(key.rsplit(".", 1)[1])
    attrs = tx.conn.execute(select(q.c.attributes).where(q.c.id == queue_id)).scalar()
    done, touched = True, 0
    if attrs is not None and key.startswith(_PURGING):
        touched = _purge_chunk(tx, queue_id, int(value), limit)
        done = touched < limit
    elif attrs is not None:
        retention = int(json.loads(attrs).get("MessageRetentionPeriod", DEFAULTS["MessageRetentionPeriod"]))
        last = _retention_chunk(tx, queue_id, retention, int(value), limit)
        if last is not None:
            tx.conn.execute(update(bs).where(bs.c.key == key).values(value=str(last)))
        touched, done = limit, last is None
    if done:
        tx.conn.execute(delete(bs).where(bs.c.key == key))
        if attrs is not None and key.startswith(_PURGING):
            give_all_heads_turns(tx, queue_id)  # FIFO messages sent during the purge head their groups now
    return max(touched, 1)


def next_due(conn: Connection, now: int) -> int | None:
    """When the sweep next has work (ms; None: none pending), from the indexes: a pending purge or retention
    change, messages of a deleted queue (now), the first expiry of a message, a deduplication id or a receive
    attempt, a tombstone's end. A message sent later expires at least 60 s after it (the shortest retention), so
    the scheduler's recheck sees it in time."""
    pending = or_(bs.c.key.startswith(_PURGING), bs.c.key.startswith(_RETENTION))
    if conn.execute(select(bs.c.key).where(pending).limit(1)).first() is not None:
        return now
    times = [conn.execute(select(func.min(t.c.expires_at))).scalar() for t in (m, dd, ra)]
    for qid, deleted_at in conn.execute(select(tomb.c.queue_id, tomb.c.deleted_at)).all():
        if conn.execute(select(m.c.id).where(m.c.queue_id == qid).limit(1)).first() is not None:
            return now
        times.append(deleted_at + DELETED_RECENTLY_MS)
    return min((t for t in times if t is not None), default=None)


# -- expiry and deleted queues -----------------------------------------------------------------------------------
def sweep_expired(tx: Tx, now: int, limit: int) -> int:
    ids = select(m.c.id).where(m.c.expires_at <= now).limit(limit).scalar_subquery()
    gone = tx.conn.execute(delete(m).where(m.c.id.in_(ids)).returning(m.c.queue_id, m.c.group_id, m.c.seq)).all()
    # FIFO groups whose first messages expired: their next messages head them now.
    give_heads_turns(tx, {(q_id, g) for q_id, g, seq in gone if seq is not None and g is not None}, now)
    tx.conn.execute(delete(dd).where(dd.c.expires_at <= now))
    tx.conn.execute(delete(ra).where(ra.c.expires_at <= now))
    return len(gone)


def sweep_deleted_queues(tx: Tx, now: int, limit: int) -> int:
    """Remove messages of deleted queues in chunks; forget tombstones once empty and older than 60 s."""
    removed = 0
    for (qid,) in tx.conn.execute(select(tomb.c.queue_id)).all():
        ids = select(m.c.id).where(m.c.queue_id == qid).limit(limit).scalar_subquery()
        n = tx.conn.execute(delete(m).where(m.c.id.in_(ids))).rowcount
        removed += n
        if n < limit:
            tx.conn.execute(
                delete(tomb).where(and_(tomb.c.queue_id == qid, tomb.c.deleted_at <= now - DELETED_RECENTLY_MS))
            )
        if removed >= limit:
            break
    return removed
