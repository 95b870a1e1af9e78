"""The SQL of the retention sweep: events older than their group's retention, and the events of deleted groups and
streams, go a chunk at a time, so one run never holds the writer long."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, and_, delete, exists, select, update

from broker.services.logs.groups import DAY_MS
from broker.services.logs.store import drop_events
from broker.storage.db import Tx
from broker.storage.tables import logs_deleted as dl
from broker.storage.tables import logs_events as ev
from broker.storage.tables import logs_groups as g
from broker.storage.tables import logs_streams as st

SWEEP_CHUNK = 5000  # events per write unit (a little more when the last chunk overshoots)


def has_work(conn: Connection) -> bool:
    """Anything to sweep: a group with a retention period, or a deleted group or stream with events left."""
    retained = exists().where(g.c.retention_days.is_not(None))
    deleted = exists().where(dl.c.kind.is_not(None))
    return bool(conn.execute(select(retained | deleted)).scalar())


def sweep(tx: Tx, now: int) -> int:
    """One write unit: chunks of the events of deleted groups and streams, then of each group's events past its
    retention period, oldest first (their streams' stored bytes shrink with them), until about SWEEP_CHUNK events
    went. Returns how many went (0: nothing is left to do)."""
    done = 0
    for kind, owner_id in tx.conn.execute(select(dl.c.kind, dl.c.owner_id)).all():
        done += drop_events(tx, kind, owner_id)
        if done >= SWEEP_CHUNK:
            return done
    groups = tx.conn.execute(select(g.c.id, g.c.retention_days).where(g.c.retention_days.is_not(None))).all()
    for group_id, days in groups:
        done += _expire(tx, group_id, now - days * DAY_MS)
        if done >= SWEEP_CHUNK:  # the next unit goes on; the writer is not held longer
            break
    return done


def _expire(tx: Tx, group_id: int, cutoff: int) -> int:
    rows = tx.conn.execute(
        select(ev.c.id, ev.c.stream_id, ev.c.message)
        .where(and_(ev.c.group_id == group_id, ev.c.event_time < cutoff))
        .order_by(ev.c.event_time, ev.c.id)
        .limit(SWEEP_CHUNK)
    ).all()
    if not rows:
        return 0
    freed: dict[int, int] = defaultdict(int)
    for _, stream_id, message in rows:
        freed[stream_id] += len(message.encode())
    tx.conn.execute(delete(ev).where(ev.c.id.in_([r.id for r in rows])))
    for stream_id, size in freed.items():
        tx.conn.execute(update(st).where(st.c.id == stream_id).values(stored_bytes=st.c.stored_bytes - size))
    return len(rows)
