"""The SQL of Kinesis: streams, shards, records. Write functions take a Tx and run on the writer thread."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    RowMapping,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)

from broker import clock
from broker.services.kinesis.errors import consumer_not_found, stream_gone
from broker.services.kinesis.streams import (
    Row,
    Stream,
    cache_key,
    consumer_wake_key,
    even_ranges,
    hash_text,
    shard_wake_key,
)
from broker.services.kinesis.tag_rules import TagChange
from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore, upsert
from broker.storage.prepared import Prepared
from broker.storage.tables import broker_state as bs
from broker.storage.tables import kinesis_channels as ch
from broker.storage.tables import kinesis_consumers as co
from broker.storage.tables import kinesis_queues as kq
from broker.storage.tables import kinesis_records as r
from broker.storage.tables import kinesis_shards as sh
from broker.storage.tables import kinesis_streams as st

SWEEP_CHUNK = 5000
SWEEP_WAKE_KEY = "kinesis:sweep"  # woken when work for the sweep may be due sooner than it knew (next_sweep_due)


# -- streams -----------------------------------------------------------------------------------------------------
def get_stream(conn: Connection, account: str, region: str, name: str) -> Stream | None:
    """A stream with its open shards (its routing table)."""
    row = conn.execute(
        select(st).where(and_(st.c.account == account, st.c.region == region, st.c.name == name))
    ).first()
    if row is None:
        return None
    shards = conn.execute(
        select(sh.c.hash_start, sh.c.hash_end, sh.c.idx).where(and_(sh.c.stream_id == row.id, sh.c.closed_at.is_(None)))
    ).all()
    return Stream.from_row(dict(row._mapping), [(int(a), int(b), i) for a, b, i in shards])


def create_stream(tx: Tx, values: dict[str, Any], shard_count: int, now: int) -> bool:
    """Insert a stream with `shard_count` evenly split shards; False when the name is taken."""
    # ON CONFLICT DO NOTHING: two nodes creating the same name at once get one stream and ResourceInUse.
    if not insert_ignore(tx.conn, st, {**values, "next_shard": shard_count}):
        return False
    stream_id = tx.conn.execute(
        select(st.c.id).where(
            and_(st.c.account == values["account"], st.c.region == values["region"], st.c.name == values["name"])
        )
    ).scalar_one()
    tx.conn.execute(
        insert(sh),
        [
            {
                "stream_id": stream_id,
                "idx": i,
                "parent": None,
                "adjacent_parent": None,
                "hash_start": hash_text(start),
                "hash_end": hash_text(end),
                "seq_start": 0,
                "next_seq": 1,  # counter 0 is the shard's StartingSequenceNumber, below every record
                "created_at": now,
                "closed_at": None,
            }
            for i, (start, end) in enumerate(even_ranges(shard_count))
        ],
    )
    tx.wake(cache_key(values["account"], values["region"], values["name"]))
    return True


def update_stream(tx: Tx, stream_id: int, key: str, values: dict[str, Any]) -> None:
    tx.conn.execute(update(st).where(st.c.id == stream_id).values(**values))
    tx.wake(key)
    if "retention_hours" in values:
        tx.wake(SWEEP_WAKE_KEY)  # a shorter retention makes records due sooner


def modify_stream(tx: Tx, stream_id: int, key: str, change: Callable[[Row], dict[str, Any]]) -> dict[str, Any]:
    """Read a stream's row and write what `change` makes of it, in one transaction (row locked on PostgreSQL), so
    concurrent changes of tags, metrics or settings do not overwrite each other. `change` may raise ServiceError."""
    stmt = select(st).where(st.c.id == stream_id)
    row = tx.conn.execute(stmt.with_for_update() if tx.is_pg else stmt).first()
    if row is None:
        raise stream_gone()
    values = change(dict(row._mapping))
    if values:
        update_stream(tx, stream_id, key, values)
    return values


def lock_stream(tx: Tx, stream_id: int) -> None:
    """Serialize changes of one stream's shards and consumers across PostgreSQL nodes (SQLite has one writer)."""
    if tx.is_pg:
        tx.conn.execute(select(st.c.id).where(st.c.id == stream_id).with_for_update())


def delete_stream(tx: Tx, stream_id: int, key: str) -> str | None:
    """The name is free at once; the records go in chunks (sweep), so a big stream does not hold the writer.
    Refused ("queues" / "channels") while queues or channels use the stream."""
    lock_stream(tx, stream_id)  # against a queue or channel created on it meanwhile (PostgreSQL)
    if queue_count(tx.conn, stream_id):
        return "queues"
    if channel_count(tx.conn, stream_id):
        return "channels"
    tx.conn.execute(update(st).where(st.c.id == stream_id).values(status="DELETING", name=f"~{stream_id}"))
    tx.wake(key)
    tx.wake(SWEEP_WAKE_KEY)  # its rows go now
    for idx in tx.conn.execute(select(sh.c.idx).where(sh.c.stream_id == stream_id)).scalars():
        tx.wake(shard_wake_key(stream_id, idx))  # subscriptions end
    return None


def list_streams(conn: Connection, account: str, region: str, after: str, limit: int) -> list[Row]:
    rows = conn.execute(
        select(st)
        .where(and_(st.c.account == account, st.c.region == region, st.c.name > after, st.c.status != "DELETING"))
        .order_by(st.c.name)
        .limit(limit)
    ).mappings()
    return [dict(x) for x in rows]


def consumer_count(conn: Connection, stream_id: int) -> int:
    return _count(conn, co.c.stream_id == stream_id)


def queue_count(conn: Connection, stream_id: int) -> int:
    """Queues on a stream: they share its registered-consumer limit with enhanced fan-out consumers."""
    return _count(conn, and_(kq.c.stream_id == stream_id, kq.c.status != "DELETING"))


def _count(conn: Connection, where: ColumnElement[bool]) -> int:
    count: int = conn.execute(select(func.count()).where(where)).scalar_one()
    return count


# -- enhanced fan-out consumers ----------------------------------------------------------------------------------
def add_consumer(tx: Tx, values: dict[str, Any], limit: int) -> str | None:
    """Register a consumer; None when it exists, "limit" when the stream has `limit` consumers already."""
    lock_stream(tx, values["stream_id"])  # the count and the insert as one step across nodes
    taken = tx.conn.execute(
        select(co.c.name).where(and_(co.c.stream_id == values["stream_id"], co.c.name == values["name"]))
    ).first()
    if taken is not None:
        return None
    if consumer_count(tx.conn, values["stream_id"]) + queue_count(tx.conn, values["stream_id"]) >= limit:
        return "limit"
    tx.conn.execute(insert(co).values(**values))
    return "ok"


def consumer(conn: Connection, stream_id: int, name: str) -> Row | None:
    row = conn.execute(select(co).where(and_(co.c.stream_id == stream_id, co.c.name == name))).first()
    return dict(row._mapping) if row else None


def consumers(conn: Connection, stream_id: int, after: str, limit: int) -> list[Row]:
    rows = conn.execute(
        select(co).where(and_(co.c.stream_id == stream_id, co.c.name > after)).order_by(co.c.name).limit(limit)
    ).mappings()
    return [dict(x) for x in rows]


def modify_consumer_tags(tx: Tx, stream_id: int, name: str, change: TagChange) -> None:
    """Read-modify-write of a consumer's tags in one transaction (row locked on PostgreSQL)."""
    where = and_(co.c.stream_id == stream_id, co.c.name == name)
    stmt = select(co.c.tags).where(where)
    tags = tx.conn.execute(stmt.with_for_update() if tx.is_pg else stmt).scalar()
    if tags is None:
        raise consumer_not_found(name)
    tx.conn.execute(update(co).where(where).values(tags=dumps(change(json.loads(tags)))))


def remove_consumer(tx: Tx, stream_id: int, name: str) -> None:
    tx.conn.execute(delete(co).where(and_(co.c.stream_id == stream_id, co.c.name == name)))
    tx.wake(consumer_wake_key(stream_id, name))  # its subscriptions end


# -- channels ----------------------------------------------------------------------------------------------------
def channel_count(conn: Connection, stream_id: int) -> int:
    return _count(conn, and_(ch.c.stream_id == stream_id, ch.c.status != "DELETING"))


def add_channel(tx: Tx, values: dict[str, Any], destination: str) -> str:
    """Insert a channel: "ok", "exists" (name taken), "gone" (the stream is being deleted) or "limit" (the stream
    has a channel to that destination type)."""
    lock_stream(tx, values["stream_id"])
    stream = stream_by_id(tx.conn, values["stream_id"])
    if stream is None or stream["status"] == "DELETING":
        return "gone"
    for config in tx.conn.execute(
        select(ch.c.config).where(and_(ch.c.stream_id == values["stream_id"], ch.c.status != "DELETING"))
    ).scalars():
        if json.loads(config)["type"] == destination:
            return "limit"
    # ON CONFLICT DO NOTHING: the name is unique per account and Region, whatever stream two nodes create it on.
    return "ok" if insert_ignore(tx.conn, ch, values) else "exists"


def modify_channel(tx: Tx, row_id: int, change: Callable[[Row], dict[str, Any]]) -> Row | None:
    """Read-modify-write of a channel row (locked on PostgreSQL); None when it is gone. `change` may raise."""
    stmt = select(ch).where(and_(ch.c.id == row_id, ch.c.status != "DELETING"))
    row = tx.conn.execute(stmt.with_for_update() if tx.is_pg else stmt).first()
    if row is None:
        return None
    values = change(dict(row._mapping))
    if values:
        tx.conn.execute(update(ch).where(ch.c.id == row_id).values(**values))
        if values.get("status") == "DELETING":
            tx.wake(SWEEP_WAKE_KEY)
    return {**row._mapping, **values}


def drop_deleted_channels(tx: Tx, now: int) -> int:
    return tx.conn.execute(delete(ch).where(and_(ch.c.status == "DELETING", ch.c.status_until <= now))).rowcount


# -- queues and channels alike: rows on a stream, named by account, Region and id ----------------------------------
_ATTACHED: dict[str, tuple[Table, Column[str]]] = {"queue": (kq, kq.c.queue_id), "channel": (ch, ch.c.channel_id)}


def get_attached(conn: Connection, kind: str, account: str, region: str, resource_id: str) -> Row | None:
    """The row of a queue or channel (`kind`) by the id its ARN ends with."""
    table, id_column = _ATTACHED[kind]
    row = conn.execute(
        select(table).where(and_(table.c.account == account, table.c.region == region, id_column == resource_id))
    ).first()
    return dict(row._mapping) if row else None


def list_attached(
    conn: Connection, kind: str, account: str, region: str, after: str, limit: int, streams: list[int] | None
) -> list[Row]:
    """Queues or channels (`kind`) of an account and Region by name after `after`; only those on `streams` (stream
    row ids) when given."""
    table, _ = _ATTACHED[kind]
    where = [table.c.account == account, table.c.region == region, table.c.name > after, table.c.status != "DELETING"]
    if streams is not None:
        where.append(table.c.stream_id.in_(streams))
    rows = conn.execute(select(table).where(and_(*where)).order_by(table.c.name).limit(limit)).mappings()
    return [dict(x) for x in rows]


def modify_tags(tx: Tx, kind: str, row_id: int, change: TagChange) -> bool:
    """Read-modify-write of the tags of a queue or channel (`kind`), row locked on PostgreSQL; False when it is gone
    or being deleted."""
    table, _ = _ATTACHED[kind]
    stmt = select(table.c.tags).where(and_(table.c.id == row_id, table.c.status != "DELETING"))
    tags = tx.conn.execute(stmt.with_for_update() if tx.is_pg else stmt).scalar()
    if tags is None:
        return False
    tx.conn.execute(update(table).where(table.c.id == row_id).values(tags=dumps(change(json.loads(tags)))))
    return True


def open_shard_count(conn: Connection, account: str, region: str) -> tuple[int, int]:
    """(open shards, on-demand streams) of an account in a region (DescribeLimits)."""
    shards = conn.execute(
        select(func.count())
        .select_from(sh.join(st, st.c.id == sh.c.stream_id))
        .where(
            and_(st.c.account == account, st.c.region == region, st.c.status != "DELETING", sh.c.closed_at.is_(None))
        )
    ).scalar_one()
    on_demand = conn.execute(
        select(func.count()).where(
            and_(st.c.account == account, st.c.region == region, st.c.status != "DELETING", st.c.mode == "ON_DEMAND")
        )
    ).scalar_one()
    return shards, on_demand


def stream_by_id(conn: Connection, stream_id: int) -> Row | None:
    row = conn.execute(select(st).where(st.c.id == stream_id)).first()
    return dict(row._mapping) if row else None


# -- account settings (broker_state) -----------------------------------------------------------------------------
def account_settings(conn: Connection, account: str) -> dict[str, Any]:
    value = conn.execute(select(bs.c.value).where(bs.c.key == f"kinesis.account.{account}")).scalar()
    state: dict[str, Any] = json.loads(value) if value else {}
    return state


def set_commitment(tx: Tx, account: str, status: str, now: int) -> dict[str, Any]:
    state = account_settings(tx.conn, account)
    if status != state.get("Status", "DISABLED"):
        state = (
            {"Status": status, "StartedAt": now} if status == "ENABLED" else {**state, "Status": status, "EndedAt": now}
        )
    upsert(tx.conn, bs, {"key": f"kinesis.account.{account}", "value": json.dumps(state)}, ["key"])
    return state


# -- shards ------------------------------------------------------------------------------------------------------
def shards(conn: Connection, stream_id: int) -> list[Row]:
    return [dict(x) for x in conn.execute(select(sh).where(sh.c.stream_id == stream_id).order_by(sh.c.idx)).mappings()]


def shard(conn: Connection, stream_id: int, idx: int) -> Row | None:
    row = conn.execute(select(sh).where(and_(sh.c.stream_id == stream_id, sh.c.idx == idx))).first()
    return dict(row._mapping) if row else None


def next_shard(conn: Connection, stream_id: int) -> int:
    idx: int = conn.execute(select(st.c.next_shard).where(st.c.id == stream_id)).scalar_one()
    return idx


def stream_scope(conn: Connection, stream_id: int) -> tuple[str, str]:
    row = conn.execute(select(st.c.account, st.c.region).where(st.c.id == stream_id)).one()
    return row.account, row.region


def apply_reshard(
    tx: Tx, stream_id: int, new: list[Row], close: list[int], next_idx: int, now: int, until: int
) -> None:
    """Insert the children of a reshard and close their parents; the stream is UPDATING until `until`."""
    closing = set(close)
    created = {n["idx"] for n in new}
    if new:
        tx.conn.execute(
            insert(sh),
            [
                {
                    "stream_id": stream_id,
                    "idx": n["idx"],
                    "parent": n["parent"],
                    "adjacent_parent": n["adjacent_parent"],
                    "hash_start": hash_text(n["start"]),
                    "hash_end": hash_text(n["end"]),
                    "seq_start": 0,
                    "next_seq": 1,  # counter 0 is the shard's StartingSequenceNumber, below every record
                    "created_at": now,
                    "closed_at": now if n["idx"] in closing else None,
                }
                for n in new
            ],
        )
    old = sorted(closing - created)
    for idx in old:
        tx.wake(shard_wake_key(stream_id, idx))  # its subscriptions read to its end and name the children
    if old:
        tx.conn.execute(update(sh).where(and_(sh.c.stream_id == stream_id, sh.c.idx.in_(old))).values(closed_at=now))
    row = tx.conn.execute(select(st.c.account, st.c.region, st.c.name).where(st.c.id == stream_id)).one()
    tx.conn.execute(
        update(st).where(st.c.id == stream_id).values(next_shard=next_idx, status="UPDATING", status_until=until)
    )
    tx.wake(cache_key(row.account, row.region, row.name))


def children(conn: Connection, stream_id: int, idx: int) -> list[Row]:
    rows = conn.execute(
        select(sh)
        .where(and_(sh.c.stream_id == stream_id, (sh.c.parent == idx) | (sh.c.adjacent_parent == idx)))
        .order_by(sh.c.idx)
    ).mappings()
    return [dict(x) for x in rows]


# -- records -----------------------------------------------------------------------------------------------------
_advance = Prepared(
    update(sh)
    .where(and_(sh.c.stream_id == bindparam("s"), sh.c.idx == bindparam("i"), sh.c.closed_at.is_(None)))
    .values(
        next_seq=sh.c.next_seq + bindparam("n"),
        # Arrival times never go back within a shard, whatever the clocks of the nodes writing to it.
        last_arrival=case((sh.c.last_arrival > bindparam("now"), sh.c.last_arrival), else_=bindparam("now")),
    )
    .returning(sh.c.next_seq, sh.c.last_arrival)
)
_insert_record = Prepared(insert(r), column_keys=["stream_id", "shard", "seq", "partition_key", "data", "arrived_at"])


WRITE_RECORDS_PER_S, WRITE_BYTES_PER_S = 1000, 1024 * 1024


def put_records(
    tx: Tx, stream_id: int, items: list[tuple[int, str, bytes]], limited: bool = False
) -> list[tuple[int, int] | None]:
    """Append records (shard idx, partition key, data) in order; returns (shard idx, counter) for each, or None for
    a record over its shard's write limit (only when `limited`).

    Counters are taken from the shard rows inside this transaction, so concurrent writers (processes, nodes)
    append to a shard in one order with no gaps. Raises ShardClosed when a reshard closed a shard meanwhile.
    Arrival times grow with the sequence numbers of a shard (the shard row keeps the last one)."""
    now = clock.now_ms()
    admitted = _admit(tx, stream_id, items) if limited else None
    accepted = items if admitted is None else [it for it, ok in zip(items, admitted, strict=True) if ok]
    counts: dict[int, int] = {}
    for idx, _, _ in accepted:
        counts[idx] = counts.get(idx, 0) + 1
    first: dict[int, int] = {}
    arrival: dict[int, int] = {}
    for idx in sorted(counts):  # one order of row locks for every writer (PostgreSQL)
        cur = _advance.execute(tx.conn, {"s": stream_id, "i": idx, "n": counts[idx], "now": now})
        found = cur.fetchone()
        cur.close()
        if found is None:
            raise ShardClosed(idx)
        first[idx], arrival[idx] = found[0] - counts[idx], found[1]
    placed: list[tuple[int, int]] = []
    rows = []
    for idx, key, data in accepted:
        seq = first[idx]
        first[idx] = seq + 1
        placed.append((idx, seq))
        rows.append(
            {
                "stream_id": stream_id,
                "shard": idx,
                "seq": seq,
                "partition_key": key,
                "data": data,
                "arrived_at": arrival[idx],
            }
        )
    if rows:
        _insert_record.executemany(tx.conn, rows)
        for idx in counts:
            tx.wake(shard_wake_key(stream_id, idx))
    if admitted is None:
        return list(placed)
    it = iter(placed)
    return [next(it) if ok else None for ok in admitted]


def _admit(tx: Tx, stream_id: int, items: list[tuple[int, str, bytes]]) -> list[bool]:
    """Which records fit their shard's per-second write limit; the shard rows keep the count for every process."""
    second = clock.wall_ms() // 1000
    used: dict[int, list[int]] = {}
    for idx in sorted({i for i, _, _ in items}):
        stmt = select(sh.c.window, sh.c.window_records, sh.c.window_bytes).where(
            and_(sh.c.stream_id == stream_id, sh.c.idx == idx)
        )
        row = tx.conn.execute(stmt.with_for_update() if tx.is_pg else stmt).first()
        used[idx] = [row.window_records, row.window_bytes] if row is not None and row.window == second else [0, 0]
    admitted = []
    for idx, key, data in items:
        u, size = used[idx], len(data) + len(key.encode())
        ok = u[0] + 1 <= WRITE_RECORDS_PER_S and u[1] + size <= WRITE_BYTES_PER_S
        if ok:
            u[0], u[1] = u[0] + 1, u[1] + size
        admitted.append(ok)
    for idx, (records, size) in used.items():
        tx.conn.execute(
            update(sh)
            .where(and_(sh.c.stream_id == stream_id, sh.c.idx == idx))
            .values(window=second, window_records=records, window_bytes=size)
        )
    return admitted


class ShardClosed(Exception):
    """A record was routed to a shard that a reshard closed after the routing table was read."""


def read_records(conn: Connection, stream_id: int, idx: int, after: int, limit: int, oldest: int) -> list[Row]:
    """Records of a shard after counter `after`, oldest first, none older than `oldest` (ms, retention)."""
    rows = conn.execute(
        select(r.c.seq, r.c.partition_key, r.c.data, r.c.arrived_at)
        .where(and_(r.c.stream_id == stream_id, r.c.shard == idx, r.c.seq > after, r.c.arrived_at >= oldest))
        .order_by(r.c.seq)
        .limit(limit)
    ).mappings()
    return [dict(x) for x in rows]


def first_at(conn: Connection, stream_id: int, idx: int, ms: int) -> int | None:
    """The counter of a shard's first record that arrived at or after `ms` (found through the arrival index)."""
    return conn.execute(
        select(r.c.seq)
        .where(and_(r.c.stream_id == stream_id, r.c.shard == idx, r.c.arrived_at >= ms))
        .order_by(r.c.arrived_at, r.c.seq)
        .limit(1)
    ).scalar()


# -- retention and deletion (sweep) ------------------------------------------------------------------------------
def sweep(tx: Tx, now: int) -> int:
    """Drop records past their stream's retention, shards closed for longer than it, deleted streams (a chunk at a
    time) and deleted channels. Returns how many rows went."""
    done = drop_deleted_channels(tx, now)
    for row in tx.conn.execute(select(st.c.id, st.c.status, st.c.retention_hours, st.c.attributes)).all():
        if row.status == "DELETING":
            done += _drop_deleted(tx, row.id)
            continue
        cutoff = oldest_kept(row._mapping, now)
        for idx in tx.conn.execute(select(sh.c.idx).where(sh.c.stream_id == row.id)).scalars().all():
            done += _expire(tx, row.id, idx, cutoff)
        done += tx.conn.execute(
            delete(sh).where(and_(sh.c.stream_id == row.id, sh.c.closed_at.is_not(None), sh.c.closed_at < cutoff))
        ).rowcount
    return done


def next_sweep_due(conn: Connection, now: int) -> int | None:
    """When the sweep next has work (ms; None: none pending): a deleted stream (now), the end of a deleted queue's
    or channel's grace, the first record or closed shard past its stream's retention. Deletions and shorter
    retention periods wake the sweep; records and shards come due hours after they are written or closed, so the
    scheduler's recheck sees them in time. The delivery state of removed records goes in the runs that follow a
    run that did work."""
    deleting = [
        conn.execute(select(func.min(t.c.status_until)).where(t.c.status == "DELETING")).scalar() for t in (ch, kq)
    ]
    times = [x for x in deleting if x is not None]
    for row in conn.execute(select(st.c.id, st.c.status, st.c.retention_hours, st.c.attributes)).all():
        if row.status == "DELETING":
            return now
        cutoff = oldest_kept(row._mapping, now)
        keep = row.retention_hours * 3_600_000
        for idx, closed_at in conn.execute(select(sh.c.idx, sh.c.closed_at).where(sh.c.stream_id == row.id)).all():
            first = conn.execute(
                select(func.min(r.c.arrived_at)).where(and_(r.c.stream_id == row.id, r.c.shard == idx))
            ).scalar()
            # Gone once arrived (closed) before the stream's oldest kept time: now, or once its retention passed.
            times += [now if t < cutoff else t + keep + 1 for t in (first, closed_at) if t is not None]
    return min(times, default=None)


def _expire(tx: Tx, stream_id: int, idx: int, cutoff: int) -> int:
    """Delete at most SWEEP_CHUNK of a shard's records that arrived before `cutoff`, oldest first, through the
    arrival index (the rest go in later runs, so a big expiry does not hold the writer)."""
    old = and_(r.c.stream_id == stream_id, r.c.shard == idx, r.c.arrived_at < cutoff)
    upto = tx.conn.execute(
        select(r.c.seq).where(old).order_by(r.c.arrived_at, r.c.seq).offset(SWEEP_CHUNK - 1).limit(1)
    ).scalar()
    bound = and_(old, r.c.seq <= upto) if upto is not None else old
    return tx.conn.execute(delete(r).where(bound)).rowcount


def oldest_kept(stream: Row | RowMapping, now: int) -> int:
    """Arrival time (ms) of the oldest record a stream still holds: its retention period back from now, but never
    before what had expired when the period was last increased."""
    floor = int(json.loads(stream["attributes"]).get("ExpiredBefore", 0))
    hours: int = stream["retention_hours"]
    return max(now - hours * 3_600_000, floor)


def _drop_deleted(tx: Tx, stream_id: int) -> int:
    gone = drop_chunk(tx, r, r.c.stream_id, stream_id, r.c.shard, r.c.seq)
    if gone == 0:
        tx.conn.execute(delete(co).where(co.c.stream_id == stream_id))
        tx.conn.execute(delete(sh).where(sh.c.stream_id == stream_id))
        tx.conn.execute(delete(st).where(st.c.id == stream_id))
    return gone


def drop_chunk(tx: Tx, table: Table, owner: Column[int], owner_id: int, shard: Column[int], seq: Column[int]) -> int:
    """Delete the first SWEEP_CHUNK rows of one owner (a deleted stream or queue) from a table keyed by (owner,
    shard, seq), as one range per shard through the primary key. Returns how many went (0: none was left)."""
    first = select(shard, seq).where(owner == owner_id).order_by(shard, seq).limit(SWEEP_CHUNK).subquery()
    gone = 0
    for idx, upto in tx.conn.execute(select(first.c[0], func.max(first.c[1])).group_by(first.c[0])).all():
        gone += tx.conn.execute(delete(table).where(and_(owner == owner_id, shard == idx, seq <= upto))).rowcount
    return gone


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
