"""The SQL of Kinesis queues: definitions, how far each queue has pulled each shard (cursors), and the delivery
state of every record a queue has handed out and not had acknowledged. Write functions run on the writer thread.

A receive first takes records of its path (normal or dead-letter) whose visibility has passed, then (normal path)
pulls records the queue has not delivered yet from the shards, moving their cursors. A record received for the
MaxReceiveCount-th time is marked dead at once: when that delivery's visibility passes it is visible on the
dead-letter path only. Acknowledged records lose their state row; records past the stream's retention are dropped.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row as DbRow

from broker.services.kinesis import store
from broker.services.kinesis.streams import Row
from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore
from broker.storage.prepared import Prepared
from broker.storage.tables import kinesis_queue_cursors as cu
from broker.storage.tables import kinesis_queue_records as qr
from broker.storage.tables import kinesis_queues as kq
from broker.storage.tables import kinesis_records as r
from broker.storage.tables import kinesis_shards as sh
from broker.storage.tables import kinesis_streams as st

WAKE_PREFIX = "kinesis:queue:"  # + queue row id: records became visible (visibility 0, restore)
SWEEP_CHUNK = 5000
MAX_CHANGING = 5  # queues of an account and Region that may be CREATING or DELETING at once, as on AWS


def wake_key(queue_id: int) -> str:
    return f"{WAKE_PREFIX}{queue_id}"


# -- definitions -------------------------------------------------------------------------------------------------
def create_queue(tx: Tx, values: dict[str, Any], at_ms: int | None, limit: int) -> str:
    """Insert a queue and its shard cursors at the starting position: "ok", "exists" (name taken), "gone" (the
    stream is being deleted), "limit" (the stream has `limit` consumers and queues already) or "busy" (too many
    queues being created or deleted)."""
    stream_id = values["stream_id"]
    store.lock_stream(tx, stream_id)  # the count and the insert as one step across nodes
    stream = store.stream_by_id(tx.conn, stream_id)
    if stream is None or stream["status"] == "DELETING":
        return "gone"
    if store.consumer_count(tx.conn, stream_id) + store.queue_count(tx.conn, stream_id) >= limit:
        return "limit"
    changing = tx.conn.execute(
        select(func.count()).where(
            and_(
                kq.c.account == values["account"],
                kq.c.region == values["region"],
                kq.c.status.in_(("CREATING", "DELETING")),
                kq.c.status_until > values["created_at"],
            )
        )
    ).scalar_one()
    if changing >= MAX_CHANGING:
        return "busy"
    # ON CONFLICT DO NOTHING: the name is unique per account and Region, whatever stream two nodes create it on.
    if not insert_ignore(tx.conn, kq, values):
        return "exists"
    queue_id = tx.conn.execute(
        select(kq.c.id).where(
            and_(kq.c.account == values["account"], kq.c.region == values["region"], kq.c.name == values["name"])
        )
    ).scalar_one()
    cursors = []
    for s in store.shards(tx.conn, stream_id):
        if values["start_type"] == "TRIM_HORIZON":
            after = s["seq_start"]
        elif values["start_type"] == "AT_TIMESTAMP" and at_ms is not None:
            first = store.first_at(tx.conn, stream_id, s["idx"], at_ms)
            after = (first if first is not None else s["next_seq"]) - 1
        else:  # LATEST
            after = s["next_seq"] - 1
        cursors.append({"queue": queue_id, "shard": s["idx"], "after": max(after, s["seq_start"])})
    if cursors:
        tx.conn.execute(insert(cu), cursors)
    return "ok"


def update_queue(tx: Tx, queue_row_id: int, values: dict[str, Any], now: int) -> bool:
    """False when the queue is gone, being deleted, or still CREATING or UPDATING (one update at a time)."""
    ready = or_(kq.c.status == "ACTIVE", and_(kq.c.status.in_(("CREATING", "UPDATING")), kq.c.status_until <= now))
    return tx.conn.execute(update(kq).where(and_(kq.c.id == queue_row_id, ready)).values(**values)).rowcount > 0


def delete_queue(tx: Tx, queue_row_id: int, until: int) -> bool:
    """The name is free at once; the delivery state goes in chunks (sweep) once `until` has passed."""
    done = tx.conn.execute(
        update(kq)
        .where(and_(kq.c.id == queue_row_id, kq.c.status != "DELETING"))
        .values(status="DELETING", status_until=until, name=f"~{queue_row_id}~" + kq.c.name)
    ).rowcount
    tx.wake(wake_key(queue_row_id))  # waiting receives end
    tx.wake(store.SWEEP_WAKE_KEY)  # its delivery state goes at `until`
    return done > 0


# -- receiving ---------------------------------------------------------------------------------------------------
# The statements every received and acknowledged record passes through run prepared on the DBAPI cursor.
_queue_row = Prepared(
    select(kq.c.id, kq.c.stream_id, kq.c.max_receive, kq.c.status).where(kq.c.id == bindparam("q")).with_for_update()
)
_stream_row = Prepared(
    select(st.c.id, st.c.status, st.c.retention_hours, st.c.attributes).where(st.c.id == bindparam("s"))
)
_visible = Prepared(
    select(
        qr.c.shard,
        qr.c.seq,
        qr.c.receive_count,
        qr.c.first_received_at,
        r.c.partition_key,
        r.c.data,
        r.c.arrived_at,
    )
    .select_from(qr.outerjoin(r, and_(r.c.stream_id == bindparam("s"), r.c.shard == qr.c.shard, r.c.seq == qr.c.seq)))
    .where(and_(qr.c.queue == bindparam("q"), qr.c.dead == bindparam("d"), qr.c.visible_at <= bindparam("now")))
    .order_by(qr.c.visible_at)
    .limit(bindparam("n"))
)
_one = and_(qr.c.queue == bindparam("q"), qr.c.shard == bindparam("sh"), qr.c.seq == bindparam("sq"))
_take = Prepared(
    update(qr)
    .where(_one)
    .values(receive_count=bindparam("rc"), visible_at=bindparam("va"), receipt=bindparam("rt"), dead=bindparam("d"))
)
_forget = Prepared(delete(qr).where(_one))
_shards = Prepared(select(sh.c.idx, sh.c.seq_start, sh.c.next_seq).where(sh.c.stream_id == bindparam("s")))
_cursors = Prepared(select(cu.c.shard, cu.c.after).where(cu.c.queue == bindparam("q")))
_records = Prepared(
    select(r.c.seq, r.c.partition_key, r.c.data, r.c.arrived_at)
    .where(
        and_(
            r.c.stream_id == bindparam("s"),
            r.c.shard == bindparam("sh"),
            r.c.seq > bindparam("after"),
            r.c.arrived_at >= bindparam("oldest"),
        )
    )
    .order_by(r.c.seq)
    .limit(bindparam("n"))
)
_add = Prepared(
    insert(qr),
    column_keys=["queue", "shard", "seq", "dead", "visible_at", "receipt", "receive_count", "first_received_at"],
)
_new_cursor = Prepared(insert(cu), column_keys=["queue", "shard", "after"])
_move_cursor = Prepared(
    update(cu).where(and_(cu.c.queue == bindparam("q"), cu.c.shard == bindparam("sh"))).values(after=bindparam("a"))
)
_ack = Prepared(delete(qr).where(and_(_one, qr.c.receipt == bindparam("rt"))))


def _live_queue(tx: Tx, queue_row_id: int) -> Row | None:
    """The queue row, locked on PostgreSQL: receives of one queue take records one at a time across nodes."""
    rows = _queue_row.fetch_dicts(tx.conn, {"q": queue_row_id})
    return rows[0] if rows and rows[0]["status"] != "DELETING" else None


def receive(tx: Tx, queue_row_id: int, n: int, vt_ms: int, now: int, token: str, dead: bool) -> list[Row] | None:
    """Up to `n` records for one receive on the normal or the dead-letter path; None when the queue or its stream
    is gone. Each returned dict has shard, seq, partition_key, data, arrived_at, receive_count, first_received_at."""
    queue = _live_queue(tx, queue_row_id)
    streams = _stream_row.fetch_dicts(tx.conn, {"s": queue["stream_id"]}) if queue else []
    if queue is None or not streams or streams[0]["status"] == "DELETING":
        return None
    stream = streams[0]
    oldest = store.oldest_kept(stream, now)
    limit = queue["max_receive"]
    while True:
        page = _visible.fetch_dicts(tx.conn, {"s": stream["id"], "q": queue_row_id, "d": dead, "now": now, "n": n})
        gone = [x for x in page if x["data"] is None or x["arrived_at"] < oldest]
        if not gone:
            break
        # Past the stream's retention: the queue stops delivering them. Look again without them (a full page
        # may have more visible records behind them).
        _forget.executemany(tx.conn, [{"q": queue_row_id, "sh": x["shard"], "sq": x["seq"]} for x in gone])
        if len(page) < n:
            page = [x for x in page if x not in gone]
            break
    out = [{**x, "receive_count": x["receive_count"] + 1} for x in page]
    if out:
        _take.executemany(
            tx.conn,
            [
                {
                    "q": queue_row_id,
                    "sh": x["shard"],
                    "sq": x["seq"],
                    "rc": x["receive_count"],
                    "va": now + vt_ms,
                    "rt": token,
                    "d": dead or (limit is not None and x["receive_count"] >= limit),
                }
                for x in out
            ],
        )
    if not dead and len(out) < n:
        out.extend(_pull(tx, queue, n - len(out), vt_ms, now, token, oldest))
    return out


def _pull(tx: Tx, queue: Row, n: int, vt_ms: int, now: int, token: str, oldest: int) -> list[Row]:
    """Records the queue has not delivered yet, from its shards' cursors on (the shards in a rotating order, so a
    busy shard does not starve the others)."""
    stream_id = queue["stream_id"]
    shards = _shards.fetch_dicts(tx.conn, {"s": stream_id})
    cursors = {c["shard"]: c["after"] for c in _cursors.fetch_dicts(tx.conn, {"q": queue["id"]})}
    if shards:
        k = random.randrange(len(shards))  # fairness, not secrecy
        shards = shards[k:] + shards[:k]
    dead = queue["max_receive"] is not None and queue["max_receive"] <= 1
    out: list[Row] = []
    for s in shards:
        if len(out) >= n:
            break
        idx, tip = s["idx"], s["next_seq"] - 1
        after = cursors.get(idx)
        new = after is None  # a shard made by a reshard after the queue was created: all of it is new
        if new:
            after = s["seq_start"]
        if after >= tip and not new:
            continue
        want = n - len(out)
        recs = _records.fetch_dicts(tx.conn, {"s": stream_id, "sh": idx, "after": after, "oldest": oldest, "n": want})
        last = recs[-1]["seq"] if recs else after
        if len(recs) < want:
            last = max(last, tip)  # what lies between was filtered out: expired records
        if recs:
            _add.executemany(
                tx.conn,
                [
                    {
                        "queue": queue["id"],
                        "shard": idx,
                        "seq": x["seq"],
                        "dead": dead,
                        "visible_at": now + vt_ms,
                        "receipt": token,
                        "receive_count": 1,
                        "first_received_at": now,
                    }
                    for x in recs
                ],
            )
            out.extend({**x, "shard": idx, "receive_count": 1, "first_received_at": now} for x in recs)
        if new:
            _new_cursor.executemany(tx.conn, [{"queue": queue["id"], "shard": idx, "after": last}])
        elif last != after:
            _move_cursor.executemany(tx.conn, [{"q": queue["id"], "sh": idx, "a": last}])
    return out


def next_visible(conn: Connection, queue_row_id: int, dead: bool, now: int) -> int | None:
    """When the next in-flight record of a path becomes visible (ms), for a long poll's timeout."""
    return conn.execute(
        select(func.min(qr.c.visible_at)).where(
            and_(qr.c.queue == queue_row_id, qr.c.dead == dead, qr.c.visible_at > now)
        )
    ).scalar()


# -- acknowledge, visibility, restore ----------------------------------------------------------------------------
def _row(conn: Connection, queue_row_id: int, shard: int, seq: int) -> DbRow[tuple[str, bool, int]] | None:
    return conn.execute(
        select(qr.c.receipt, qr.c.dead, qr.c.visible_at).where(
            and_(qr.c.queue == queue_row_id, qr.c.shard == shard, qr.c.seq == seq)
        )
    ).first()


def _mine(queue_row_id: int, shard: int, seq: int, token: str) -> ColumnElement[bool]:
    return and_(qr.c.queue == queue_row_id, qr.c.shard == shard, qr.c.seq == seq, qr.c.receipt == token)


def acknowledge(tx: Tx, queue_row_id: int, items: list[tuple[int, int, str]]) -> list[bool]:
    """Forget the records of these deliveries (shard, seq, receipt); False for a delivery that is not the record's
    latest. A record already acknowledged (or past retention) counts as done."""
    if _live_queue(tx, queue_row_id) is None:
        return [False] * len(items)
    rows = [{"q": queue_row_id, "sh": shard, "sq": seq, "rt": token} for shard, seq, token in items]
    if _ack.executemany(tx.conn, rows) == len(items):
        return [True] * len(items)  # the usual case: every handle was the latest
    # Some were not: which ones (the rows of those that were are gone now, and count as done).
    return [_row(tx.conn, queue_row_id, shard, seq) is None for shard, seq, _ in items]


def change_visibility(tx: Tx, queue_row_id: int, items: list[tuple[int, int, str, int]], now: int) -> list[bool]:
    """New visibility timeouts (seconds, from now) for records in flight under these deliveries."""
    if _live_queue(tx, queue_row_id) is None:
        return [False] * len(items)
    done = []
    for shard, seq, token, seconds in items:
        changed = tx.conn.execute(
            update(qr)
            .where(and_(_mine(queue_row_id, shard, seq, token), qr.c.visible_at > now))
            .values(visible_at=now + seconds * 1000)
        ).rowcount
        done.append(changed > 0)
        if changed and seconds == 0:
            tx.wake(wake_key(queue_row_id))
    return done


def restore(tx: Tx, queue_row_id: int, items: list[tuple[int, int, str]], now: int) -> list[bool]:
    """Dead-letter records back to the normal path, visible at once, their receive count reset."""
    if _live_queue(tx, queue_row_id) is None:
        return [False] * len(items)
    done = []
    for shard, seq, token in items:
        changed = tx.conn.execute(
            update(qr)
            .where(and_(_mine(queue_row_id, shard, seq, token), qr.c.dead.is_(True)))
            .values(dead=False, receive_count=0, visible_at=now, receipt="")
        ).rowcount
        done.append(changed > 0)
    if any(done):
        tx.wake(wake_key(queue_row_id))
    return done


# -- sweep -------------------------------------------------------------------------------------------------------
def sweep(tx: Tx, now: int) -> int:
    """Drop the state of records past retention and of deleted queues (a chunk at a time)."""
    done = 0
    for row in tx.conn.execute(select(kq.c.id, kq.c.stream_id, kq.c.status, kq.c.status_until)).all():
        if row.status == "DELETING":
            if now >= row.status_until:
                done += _drop_queue(tx, row.id)
            continue
        if _live_queue(tx, row.id) is None:  # locks the queue row: no receive adds state meanwhile
            continue
        cursors = tx.conn.execute(select(cu.c.shard).where(cu.c.queue == row.id)).scalars().all()
        live = set(tx.conn.execute(select(sh.c.idx).where(sh.c.stream_id == row.stream_id)).scalars())
        for shard in cursors:
            here = and_(qr.c.queue == row.id, qr.c.shard == shard)
            if shard not in live:  # the shard itself expired
                gone = _delete_chunk(tx, here, None)
                done += gone
                if gone < SWEEP_CHUNK:
                    tx.conn.execute(delete(cu).where(and_(cu.c.queue == row.id, cu.c.shard == shard)))
                continue
            first = tx.conn.execute(
                select(func.min(r.c.seq)).where(and_(r.c.stream_id == row.stream_id, r.c.shard == shard))
            ).scalar()
            done += _delete_chunk(tx, here, first)  # no record left in the shard (None): all its state
    return done


def _delete_chunk(tx: Tx, where: ColumnElement[bool], below: int | None) -> int:
    """Delete at most SWEEP_CHUNK state rows matching `where` with seq below `below` (None: any), lowest first."""
    bound = and_(where, qr.c.seq < below) if below is not None else where
    upto = tx.conn.execute(select(qr.c.seq).where(bound).order_by(qr.c.seq).offset(SWEEP_CHUNK - 1).limit(1)).scalar()
    return tx.conn.execute(delete(qr).where(and_(bound, qr.c.seq <= upto) if upto is not None else bound)).rowcount


def _drop_queue(tx: Tx, queue_row_id: int) -> int:
    gone = store.drop_chunk(tx, qr, qr.c.queue, queue_row_id, qr.c.shard, qr.c.seq)
    if gone == 0:
        tx.conn.execute(delete(cu).where(cu.c.queue == queue_row_id))
        tx.conn.execute(delete(kq).where(kq.c.id == queue_row_id))
    return gone
