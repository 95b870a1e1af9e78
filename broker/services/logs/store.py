"""The SQL of CloudWatch Logs groups and streams, and the append path every log event takes (PutLogEvents and
`append_events`, which other services call inside their own write transactions). Write functions take a Tx (or,
for `append_events`, the caller's connection) and run on the writer thread."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from broker.services.logs.groups import Group, Stream
from broker.storage.db import Tx
from broker.storage.helpers import bytewise, has_prefix, insert_ignore
from broker.storage.prepared import Prepared
from broker.storage.tables import logs_deleted as dl
from broker.storage.tables import logs_events as ev
from broker.storage.tables import logs_groups as g
from broker.storage.tables import logs_streams as st

# Events a deletion removes at once; a larger rest goes through the sweep, a chunk per run.
DELETE_CHUNK = 5000


# -- exact text comparisons on both backends -----------------------------------------------------------------------
# AWS matches names and messages case-sensitively and sorts names in ASCII order. SQLite's LIKE ignores ASCII case and
# PostgreSQL sorts text by the database's locale, so these spell out the exact forms per dialect.
def has_substring(conn: Connection, col: ColumnElement[str], text: str) -> ColumnElement[bool]:
    fn = func.strpos if conn.dialect.name == "postgresql" else func.instr
    return fn(col, text) > 0


# -- log groups ----------------------------------------------------------------------------------------------------
def _group(row: Row[Any]) -> Group:
    return Group(
        id=row.id,
        account=row.account,
        region=row.region,
        name=row.name,
        created_at=row.created_at,
        retention_days=row.retention_days,
        log_class=row.log_class,
        kms_key_id=row.kms_key_id,
        deletion_protection=bool(row.deletion_protection),
        tags=json.loads(row.tags),
    )


def _named(account: str, region: str, name: str) -> Any:
    return and_(g.c.account == account, g.c.region == region, g.c.name == name)


def get_group(conn: Connection, account: str, region: str, name: str) -> Group | None:
    row = conn.execute(select(g).where(_named(account, region, name))).first()
    return _group(row) if row is not None else None


def create_group(tx: Tx, values: dict[str, Any]) -> bool:
    """Insert a log group; False when the name is taken (ON CONFLICT: two nodes creating it at once get one)."""
    return bool(insert_ignore(tx.conn, g, {**values, "tags": json.dumps(values["tags"])}))


def delete_group(tx: Tx, account: str, region: str, name: str) -> str:
    """Delete a log group and its streams: "ok", "missing", or "protected" (deletion protection on). Its events go
    at once up to DELETE_CHUNK, the rest with the sweep."""
    row = tx.conn.execute(select(g.c.id, g.c.deletion_protection).where(_named(account, region, name))).first()
    if row is None:
        return "missing"
    if row.deletion_protection:
        return "protected"
    tx.conn.execute(delete(st).where(st.c.group_id == row.id))
    tx.conn.execute(delete(g).where(g.c.id == row.id))
    drop_events(tx, "group", row.id)
    return "ok"


def list_groups(
    conn: Connection,
    account: str,
    region: str,
    prefix: str | None,
    pattern: str | None,
    log_class: str | None,
    names: list[str] | None,
    after: str | None,
    limit: int,
) -> list[tuple[Group, int]]:
    """Log groups by name (ASCII order) after `after`, at most `limit`, each with its stored bytes."""
    name = bytewise(conn, g.c.name)
    cond = [g.c.account == account, g.c.region == region]
    if prefix:
        cond.append(has_prefix(g.c.name, prefix))
    if pattern:
        cond.append(has_substring(conn, g.c.name, pattern))
    if log_class:
        # AWS: asking for INFREQUENT_ACCESS or ESSENTIALS returns the groups of both classes.
        cheap = ("INFREQUENT_ACCESS", "ESSENTIALS")
        cond.append(g.c.log_class.in_(cheap if log_class in cheap else (log_class,)))
    if names is not None:
        cond.append(g.c.name.in_(names))
    if after is not None:
        cond.append(name > after)
    groups = [_group(r) for r in conn.execute(select(g).where(and_(*cond)).order_by(name).limit(limit)).all()]
    sizes = stored_bytes(conn, [grp.id for grp in groups])
    return [(grp, sizes.get(grp.id, 0)) for grp in groups]


def stored_bytes(conn: Connection, group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = conn.execute(
        select(st.c.group_id, func.sum(st.c.stored_bytes)).where(st.c.group_id.in_(group_ids)).group_by(st.c.group_id)
    ).all()
    return {gid: int(total or 0) for gid, total in rows}


def _update_group(tx: Tx, account: str, region: str, name: str, **values: Any) -> bool:
    return bool(tx.conn.execute(update(g).where(_named(account, region, name)).values(**values)).rowcount)


def set_retention(tx: Tx, account: str, region: str, name: str, days: int | None) -> bool:
    return _update_group(tx, account, region, name, retention_days=days)


def set_deletion_protection(tx: Tx, account: str, region: str, name: str, enabled: bool) -> bool:
    return _update_group(tx, account, region, name, deletion_protection=enabled)


def change_tags(
    tx: Tx, account: str, region: str, name: str, add: dict[str, str], remove: list[str], limit: int
) -> str:
    """Read-modify-write of a group's tags in one unit (the row locked on PostgreSQL, so concurrent changes do not
    lose each other's): "ok", "missing", or "too_many" (the result would hold more than `limit`)."""
    stmt = select(g.c.id, g.c.tags).where(_named(account, region, name))
    row = tx.conn.execute(stmt.with_for_update() if tx.is_pg else stmt).first()
    if row is None:
        return "missing"
    tags: dict[str, str] = json.loads(row.tags)
    removed = set(remove)
    tags = {k: v for k, v in tags.items() if k not in removed}
    tags.update(add)
    if len(tags) > limit:
        return "too_many"
    tx.conn.execute(update(g).where(g.c.id == row.id).values(tags=json.dumps(tags)))
    return "ok"


# -- log streams ---------------------------------------------------------------------------------------------------
def _stream(row: Row[Any]) -> Stream:
    return Stream(
        id=row.id,
        group_id=row.group_id,
        name=row.name,
        created_at=row.created_at,
        first_event=row.first_event,
        last_event=row.last_event,
        last_ingestion=row.last_ingestion,
        appends=row.appends,
    )


def _new_stream(group_id: int, name: str, now: int) -> dict[str, Any]:
    return {"group_id": group_id, "name": name, "created_at": now, "appends": 0, "stored_bytes": 0}


def get_stream(
    conn: Connection, account: str, region: str, group: str, stream: str
) -> tuple[Group | None, Stream | None]:
    grp = get_group(conn, account, region, group)
    if grp is None:
        return None, None
    row = conn.execute(select(st).where(and_(st.c.group_id == grp.id, st.c.name == stream))).first()
    return grp, (_stream(row) if row is not None else None)


def create_stream(tx: Tx, account: str, region: str, group: str, stream: str, now: int) -> str:
    """ "ok", "no_group", or "exists"."""
    group_id = tx.conn.execute(select(g.c.id).where(_named(account, region, group))).scalar()
    if group_id is None:
        return "no_group"
    return "ok" if insert_ignore(tx.conn, st, _new_stream(group_id, stream, now)) else "exists"


def delete_stream(tx: Tx, account: str, region: str, group: str, stream: str) -> str:
    """ "ok", "no_group", "no_stream", or "protected" (its group has deletion protection on)."""
    grp = tx.conn.execute(select(g.c.id, g.c.deletion_protection).where(_named(account, region, group))).first()
    if grp is None:
        return "no_group"
    stream_id = tx.conn.execute(select(st.c.id).where(and_(st.c.group_id == grp.id, st.c.name == stream))).scalar()
    if stream_id is None:
        return "no_stream"
    if grp.deletion_protection:
        return "protected"
    tx.conn.execute(delete(st).where(st.c.id == stream_id))
    drop_events(tx, "stream", stream_id)
    return "ok"


def list_streams(
    conn: Connection,
    group_id: int,
    prefix: str | None,
    by_time: bool,
    descending: bool,
    after: tuple[int, str] | None,
    limit: int,
) -> list[Stream]:
    """A group's streams in name order, or by last event time then name (a stream without events counts as 0),
    after the (time, name) key `after`, at most `limit`."""
    name = bytewise(conn, st.c.name)
    cond = [st.c.group_id == group_id]
    if prefix:
        cond.append(has_prefix(st.c.name, prefix))
    last = func.coalesce(st.c.last_event, literal(0))
    if after is not None:
        time, after_name = after
        if not by_time:
            cond.append(name < after_name if descending else name > after_name)
        elif descending:
            cond.append((last < time) | ((last == time) & (name < after_name)))
        else:
            cond.append((last > time) | ((last == time) & (name > after_name)))
    order = [last, name] if by_time else [name]
    stmt = select(st).where(and_(*cond)).order_by(*(c.desc() if descending else c for c in order))
    return [_stream(r) for r in conn.execute(stmt.limit(limit)).all()]


def group_streams(conn: Connection, group_id: int) -> dict[int, str]:
    """Every stream of a group by id (FilterLogEvents names the stream of each event it returns)."""
    return {sid: name for sid, name in conn.execute(select(st.c.id, st.c.name).where(st.c.group_id == group_id))}


# -- the append path -----------------------------------------------------------------------------------------------
# One UPDATE finds the stream by names and moves its figures forward; None back means the group or the stream is
# missing. Compiled once per dialect (storage/prepared.py): it runs on every Lambda invoke.
_touch = Prepared(
    update(st)
    .where(
        st.c.group_id
        == select(g.c.id)
        .where(
            and_(g.c.account == bindparam("account"), g.c.region == bindparam("region"), g.c.name == bindparam("group"))
        )
        .scalar_subquery(),
        st.c.name == bindparam("stream"),
    )
    .values(
        first_event=case(
            (st.c.first_event.is_(None) | (st.c.first_event > bindparam("lo")), bindparam("lo")), else_=st.c.first_event
        ),
        last_event=case(
            (st.c.last_event.is_(None) | (st.c.last_event < bindparam("hi")), bindparam("hi")), else_=st.c.last_event
        ),
        last_ingestion=bindparam("now"),
        appends=st.c.appends + 1,
        stored_bytes=st.c.stored_bytes + bindparam("size"),
    )
    .returning(st.c.id, st.c.group_id, st.c.appends)
)
_insert_event = Prepared(insert(ev), ["group_id", "stream_id", "event_time", "ingested_at", "message"])


def _touch_stream(
    conn: Connection, account: str, region: str, group: str, stream: str, events: list[tuple[int, str]], now: int
) -> tuple[int, int, int] | None:
    times = [t for t, _ in events]
    params = {
        "account": account,
        "region": region,
        "group": group,
        "stream": stream,
        "lo": min(times),
        "hi": max(times),
        "now": now,
        "size": sum(len(m.encode()) for _, m in events),
    }
    cur = _touch.execute(conn, params)
    row = cur.fetchone()
    cur.close()
    return (row[0], row[1], row[2]) if row is not None else None


def _insert_events(conn: Connection, group_id: int, stream_id: int, events: list[tuple[int, str]], now: int) -> None:
    _insert_event.executemany(
        conn,
        [
            {"group_id": group_id, "stream_id": stream_id, "event_time": t, "ingested_at": now, "message": m}
            for t, m in events
        ],
    )


def append(
    tx: Tx, account: str, region: str, group: str, stream: str, events: list[tuple[int, str]], now: int
) -> int | None:
    """PutLogEvents' write: the events appended to an existing stream; the stream's appends count after it, or
    None when the group or the stream is gone (deleted since the request looked)."""
    touched = _touch_stream(tx.conn, account, region, group, stream, events, now)
    if touched is None:
        return None
    stream_id, group_id, appends = touched
    _insert_events(tx.conn, group_id, stream_id, events, now)
    return appends


def append_events(
    conn: Connection,
    account: str,
    region: str,
    group: str,
    stream: str,
    events: list[tuple[int, str]],
    now_ms: int,
) -> None:
    """Append log events to `group`/`stream` of `account` and `region`, creating the log group (STANDARD class, no
    retention, no tags) and the log stream when missing, as Lambda does on a function's first invoke.

    For services that write logs (Lambda's function logs): call it inside your own write unit with `tx.conn`, so
    the events commit with the rest of your work. `events` are (timestamp in epoch ms, message) pairs; each gets
    `now_ms` as its ingestionTime. No PutLogEvents rule applies (no size, age or order checks); NUL characters,
    which PostgreSQL text cannot hold, become U+FFFD. Costs two statements when the stream exists (one UPDATE of the
    stream's figures, one batched INSERT); the first append to a new stream adds up to four more.
    """
    if not events:
        return
    events = [(t, m.replace("\x00", "\ufffd")) for t, m in events]
    touched = _touch_stream(conn, account, region, group, stream, events, now_ms)
    if touched is None:
        insert_ignore(
            conn,
            g,
            {
                "account": account,
                "region": region,
                "name": group,
                "created_at": now_ms,
                "retention_days": None,
                "log_class": "STANDARD",
                "kms_key_id": None,
                "deletion_protection": False,
                "tags": "{}",
            },
        )
        group_id = conn.execute(select(g.c.id).where(_named(account, region, group))).scalar_one()
        insert_ignore(conn, st, _new_stream(group_id, stream, now_ms))
        touched = _touch_stream(conn, account, region, group, stream, events, now_ms)
        assert touched is not None  # both rows exist now, inside this transaction
    stream_id, group_id, _ = touched
    _insert_events(conn, group_id, stream_id, events, now_ms)


# -- deleting events -----------------------------------------------------------------------------------------------
def drop_events(tx: Tx, kind: str, owner_id: int) -> int:
    """Delete up to DELETE_CHUNK events of a deleted group or stream; while some remain, the owner is listed in
    logs_deleted for the sweep. Returns how many went."""
    owner = ev.c.group_id if kind == "group" else ev.c.stream_id
    ids = select(ev.c.id).where(owner == owner_id).limit(DELETE_CHUNK).scalar_subquery()
    gone = tx.conn.execute(delete(ev).where(ev.c.id.in_(ids))).rowcount
    if gone >= DELETE_CHUNK:
        insert_ignore(tx.conn, dl, {"kind": kind, "owner_id": owner_id})
    else:
        tx.conn.execute(delete(dl).where(and_(dl.c.kind == kind, dl.c.owner_id == owner_id)))
    return int(gone)
