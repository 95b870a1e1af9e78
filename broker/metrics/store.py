"""The SQL of the gauges read from the database: one statement per kind, over every account and region (never one
round trip per resource), run together on one reader connection per refresh; and the snapshot as JSON, for the
cache the workers of a node share."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, case, func, select, text

from broker.jobs import leases
from broker.storage.tables import (
    kinesis_shards,
    kinesis_streams,
    lambda_async_invocations,
    lambda_esm_checkpoints,
    lambda_event_source_mappings,
    sqs_messages,
    sqs_queues,
)


@dataclass
class Snapshot:
    """What one refresh read. Times are milliseconds of the broker's clock (`now`), except lease expiries."""

    now: int = 0
    # (account, region, name) -> (visible, in flight, delayed, sent_at of the oldest message or None)
    queues: dict[tuple[str, str, str], tuple[int, int, int, int | None]] = field(default_factory=dict)
    # (account, region, function ARN as invoked) -> (stored invocations, received_at of the oldest)
    async_invocations: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    # (uuid, account, region, function ARN, configuration JSON)
    mappings: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    # mapping uuid -> records after its stream checkpoints
    stream_backlogs: dict[str, int] = field(default_factory=dict)
    leases: list[dict[str, Any]] = field(default_factory=list)
    database_bytes: int | None = None


def to_json(snap: Snapshot) -> dict[str, Any]:
    return {
        "now": snap.now,
        "queues": [[*key, *counts] for key, counts in snap.queues.items()],
        "async_invocations": snap.async_invocations,
        "mappings": snap.mappings,
        "stream_backlogs": snap.stream_backlogs,
        "leases": snap.leases,
        "database_bytes": snap.database_bytes,
    }


def from_json(doc: dict[str, Any]) -> Snapshot:
    return Snapshot(
        now=doc["now"],
        queues={(q[0], q[1], q[2]): (q[3], q[4], q[5], q[6]) for q in doc["queues"]},
        async_invocations=[(a[0], a[1], a[2], a[3], a[4]) for a in doc["async_invocations"]],
        mappings=[(m[0], m[1], m[2], m[3], m[4]) for m in doc["mappings"]],
        stream_backlogs=doc["stream_backlogs"],
        leases=doc["leases"],
        database_bytes=doc["database_bytes"],
    )


def read(conn: Connection, now: int, sqlite_files: list[str] | None) -> Snapshot:
    """Everything the gauges show, read at `now`; `sqlite_files` are the database's files (None on PostgreSQL)."""
    return Snapshot(
        now=now,
        queues=queue_counts(conn, now),
        async_invocations=async_backlog(conn),
        mappings=mappings(conn),
        stream_backlogs=stream_backlogs(conn),
        leases=leases.holders(conn),
        database_bytes=database_size(conn, sqlite_files),
    )


def queue_counts(conn: Connection, now: int) -> dict[tuple[str, str, str], tuple[int, int, int, int | None]]:
    """Every queue's ApproximateNumberOfMessages, ...NotVisible and ...Delayed (as sqs.message_store.counts defines
    them: in flight = hidden and received before, delayed = hidden and never received) and its oldest message.

    Per-queue subqueries on ix_sqs_messages_visible (queue_id, visible_at), so that a backlog is counted from the
    index alone: visible messages (the bulk of a backlog) are counted without reading their rows, and the expired
    ones the sweep has not removed yet are taken off from a range of ix_sqs_messages_expires. Only the hidden
    messages (in flight and delayed, usually few) are read. The oldest message is the oldest of the hidden ones and
    of the next visible one (the lowest visible_at): a message received and made visible again counts from its
    new visible_at, as on AWS a message received repeatedly stops being the "oldest"."""
    q, m = sqs_queues, sqs_messages
    shown = and_(m.c.queue_id == q.c.id, m.c.visible_at <= now)
    rows = conn.execute(
        select(
            q.c.id,
            q.c.account,
            q.c.region,
            q.c.name,
            select(func.count()).where(shown).scalar_subquery(),
            select(m.c.sent_at)
            .where(and_(shown, m.c.expires_at > now))
            .order_by(m.c.visible_at)
            .limit(1)
            .scalar_subquery(),
        )
    ).all()
    hidden = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute(  # per queue, the range visible_at > now of the same index
            select(
                q.c.id,
                func.count(case((m.c.receive_count > 0, 1))),
                func.count(case((m.c.receive_count == 0, 1))),
                func.min(m.c.sent_at),
            )
            # (expires_at + 0: not the expiry index, which SQLite would walk over every live message)
            .select_from(q.join(m, and_(m.c.queue_id == q.c.id, m.c.visible_at > now, m.c.expires_at + 0 > now)))
            .group_by(q.c.id)
        )
    }
    # A range of ix_sqs_messages_expires (what the sweep has yet to delete), counted here: grouped in SQL, SQLite
    # would rather walk a queue_id index over the whole table.
    expired = Counter(
        conn.execute(select(m.c.queue_id).where(and_(m.c.expires_at <= now, m.c.visible_at <= now))).scalars()
    )
    out: dict[tuple[str, str, str], tuple[int, int, int, int | None]] = {}
    for r in rows:
        in_flight, delayed, oldest_hidden = hidden.get(r[0], (0, 0, None))
        sent = [t for t in (oldest_hidden, r[5]) if t is not None]
        visible = max(r[4] - expired.get(r[0], 0), 0)  # (a sweep may commit between the statements)
        out[(r[1], r[2], r[3])] = (visible, in_flight, delayed, min(sent) if sent else None)
    return out


def async_backlog(conn: Connection) -> list[tuple[str, str, str, int, int]]:
    """Accepted asynchronous invocations not finished yet (waiting, running or waiting for a retry)."""
    a = lambda_async_invocations
    rows = conn.execute(
        select(a.c.account, a.c.region, a.c.function_arn, func.count(), func.min(a.c.received_at)).group_by(
            a.c.account, a.c.region, a.c.function_arn
        )
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def mappings(conn: Connection) -> list[tuple[str, str, str, str, str]]:
    e = lambda_event_source_mappings
    rows = conn.execute(select(e.c.uuid, e.c.account, e.c.region, e.c.function_arn, e.c.config)).all()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def stream_backlogs(conn: Connection) -> dict[str, int]:
    """Per mapping, the records its Kinesis pollers have not processed yet: each unfinished shard checkpoint's
    distance to the shard's last record (records past retention are counted until the sweep removes the shard)."""
    c, s, k = lambda_esm_checkpoints, kinesis_shards, kinesis_streams
    rows = conn.execute(
        select(c.c.uuid, func.sum(s.c.next_seq - 1 - c.c.after))
        .select_from(
            c.join(s, and_(s.c.stream_id == c.c.stream_id, s.c.idx == c.c.shard)).join(
                k, and_(k.c.id == c.c.stream_id, k.c.created_at == c.c.stream_created)
            )
        )
        .where(c.c.finished.is_(False))
        .group_by(c.c.uuid)
    ).all()
    return {r[0]: max(int(r[1] or 0), 0) for r in rows}


def database_size(conn: Connection, sqlite_files: list[str] | None) -> int | None:
    if sqlite_files is None:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    total = 0
    for path in sqlite_files:
        try:
            total += os.stat(path).st_size
        except FileNotFoundError:
            continue  # no WAL right now
    return total
