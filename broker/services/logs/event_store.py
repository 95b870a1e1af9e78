"""The SQL that reads log events: a stream's in (timestamp, id) order from a position (GetLogEvents), a group's in
chunks for the filter scan (FilterLogEvents). Both walk an index whose leading column is the stream or the group,
so their cost does not grow with the rest of the table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from broker.services.logs.store import has_substring
from broker.services.logs.tokens import Position
from broker.storage.tables import logs_events as ev


class Event(NamedTuple):
    id: int
    stream_id: int
    time: int
    ingested_at: int
    message: str

    @property
    def position(self) -> Position:
        return Position(self.time, self.id)


EVENT_OVERHEAD = 26  # bytes AWS counts per event on top of its message

_COLUMNS = (ev.c.id, ev.c.stream_id, ev.c.event_time, ev.c.ingested_at, ev.c.message)


def _beyond(pos: Position, descending: bool) -> ColumnElement[bool]:
    """Events strictly after `pos` in the reading direction; the first conjunct keeps it an index range."""
    time, row_id = pos.sql()
    if descending:
        return and_(ev.c.event_time <= time, or_(ev.c.event_time < time, ev.c.id < row_id))
    return and_(ev.c.event_time >= time, or_(ev.c.event_time > time, ev.c.id > row_id))


def read_stream(
    conn: Connection, stream_id: int, lo: int, hi: int, start: Position | None, descending: bool, limit: int
) -> list[Event]:
    """Up to `limit` events of a stream with lo <= timestamp < hi, beyond `start` in the direction read (from the
    head or the tail when None), in the order read."""
    cond: list[Any] = [ev.c.stream_id == stream_id, ev.c.event_time >= lo, ev.c.event_time < hi]
    if start is not None:
        cond.append(_beyond(start, descending))
    order = (ev.c.event_time.desc(), ev.c.id.desc()) if descending else (ev.c.event_time, ev.c.id)
    rows = conn.execute(select(*_COLUMNS).where(and_(*cond)).order_by(*order).limit(limit)).all()
    return [Event(*r) for r in rows]


def scan_group(
    conn: Connection,
    group_id: int,
    lo: int,
    hi: int,
    start: Position | None,
    descending: bool,
    stream_ids: list[int] | None,
    contains: list[str],
    limit: int,
) -> list[Event]:
    """A chunk of a group's events with lo <= timestamp <= hi beyond `start`, in the direction read, of the streams
    `stream_ids` (all when None) whose message contains each of `contains` (case-sensitive)."""
    cond: list[Any] = [ev.c.group_id == group_id, ev.c.event_time >= lo, ev.c.event_time <= hi]
    if start is not None:
        cond.append(_beyond(start, descending))
    if stream_ids is not None:
        cond.append(ev.c.stream_id.in_(stream_ids))
    cond.extend(has_substring(conn, ev.c.message, text) for text in contains)
    order = (ev.c.event_time.desc(), ev.c.id.desc()) if descending else (ev.c.event_time, ev.c.id)
    rows = conn.execute(select(*_COLUMNS).where(and_(*cond)).order_by(*order).limit(limit)).all()
    return [Event(*r) for r in rows]


SCAN_CHUNK = 2000


class FilterPage(NamedTuple):
    events: list[Event]
    last: Position | None  # the last event looked at (where a next page goes on)
    exhausted: bool  # no event beyond `last` is left in the range


def filter_group(
    conn: Connection,
    group_id: int,
    lo: int,
    hi: int,
    start: Position | None,
    descending: bool,
    stream_ids: list[int] | None,
    contains: list[str],
    accept: Callable[[Event], bool],
    limit: int,
    max_bytes: int,
    budget: int,
) -> FilterPage:
    """FilterLogEvents' scan: a group's events in chunks from `start`, the ones `accept` takes, until `limit` events
    or `max_bytes` of them, or `budget` events looked at (AWS returns partial pages with a token too); runs on a
    reader thread, so matching never blocks the event loop."""
    found: list[Event] = []
    size, seen, pos = 0, 0, start
    while True:
        chunk = scan_group(conn, group_id, lo, hi, pos, descending, stream_ids, contains, SCAN_CHUNK)
        for i, event in enumerate(chunk):
            if accept(event):
                event_size = len(event.message.encode()) + EVENT_OVERHEAD
                if found and size + event_size > max_bytes:
                    return FilterPage(found, pos, False)
                found.append(event)
                size += event_size
            pos = event.position
            seen += 1
            if len(found) >= limit:
                return FilterPage(found, pos, len(chunk) < SCAN_CHUNK and i == len(chunk) - 1)
        if len(chunk) < SCAN_CHUNK:
            return FilterPage(found, pos, True)
        if seen >= budget:
            return FilterPage(found, pos, False)
