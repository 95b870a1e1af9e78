"""SQLAlchemy engines: SQLite (WAL, BEGIN IMMEDIATE for writes) or PostgreSQL (psycopg)."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool, QueuePool

from broker.config import Settings

WRITER_BUSY_SLICE_MS = 50
WAL_SWITCH_PAUSE_S = 0.02  # between tries of the switch to WAL while another connection holds a lock


def ensure_data_dir(settings: Settings) -> None:
    if settings.is_postgres:
        return
    path = Path(settings.state_dir)
    path.mkdir(parents=True, exist_ok=True)
    if not os.access(path, os.W_OK):
        raise PermissionError(f"data dir {path} is not writable")


def make_engine(settings: Settings, *, writer: bool, pool_size: int = 1) -> Engine:
    url = settings.database_url()
    if url.startswith("sqlite"):
        return _sqlite_engine(settings, url, writer, pool_size)
    return create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=2,
        pool_pre_ping=True,
        pool_recycle=1800,
        # A lock held elsewhere (another node, a stuck session) must not stall the writer thread forever.
        connect_args={
            "connect_timeout": 10,
            "options": f"-c lock_timeout={max(settings.db_busy_timeout_ms, 1)} -c statement_timeout=60000",
        },
    )


def _sqlite_engine(settings: Settings, url: str, writer: bool, pool_size: int) -> Engine:
    # The writer waits for a lock held by another program in short slices and counts the whole wait itself
    # (db.py), releasing the workers' file lock in between; readers do not need the write lock.
    busy_ms = min(settings.db_busy_timeout_ms, WRITER_BUSY_SLICE_MS) if writer else settings.db_busy_timeout_ms
    engine = create_engine(
        url,
        poolclass=QueuePool if pool_size else NullPool,
        pool_size=max(pool_size, 1),
        max_overflow=2,
        connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
    )
    sync = "FULL" if settings.durability == "fsync" else "NORMAL"
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so writes take the lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # First, so that every statement below waits for a lock like any other (sqlite3's `timeout` sets the same).
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        _enable_wal(cur, settings.db_busy_timeout_ms)
        cur.execute(f"PRAGMA synchronous={sync}")
        cur.execute("PRAGMA temp_store=MEMORY")
        # Checkpoints run on the writer's own thread otherwise, inside a request's commit: db.py runs them
        # in the background instead.
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.execute("PRAGMA journal_size_limit=67108864")  # the WAL shrinks back to 64 MiB after checkpoints
        cur.execute("PRAGMA cache_size=-131072")  # 128 MiB per connection, so deep queues stay in memory
        cur.execute("PRAGMA mmap_size=1073741824")
        if settings.sqlite_max_page_count:
            cur.execute(f"PRAGMA max_page_count={settings.sqlite_max_page_count}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # On the driver's connection: through SQLAlchemy's statement machinery this one line cost 7% of a
        # SendMessage. A failure ("database is locked") reaches db.py as the driver's sqlite3 error, which its
        # handling knows (DB_ERRORS).
        conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

    return engine


def _enable_wal(cur: sqlite3.Cursor, wait_ms: int) -> None:
    """Put the database in WAL mode (persistent: done once per database file, by the first connection).

    The busy timeout covers a lock held while the switch waits for it, but not every case: the switch reads the
    header under a shared lock and then needs the write lock, and SQLite answers "database is locked" at once,
    without waiting, when another connection holds or is taking the write lock meanwhile (on a fresh data dir
    every worker's first connection tries the switch at the same moment). So the switch is tried again, for up to
    `wait_ms` like any other lock wait."""
    row = cur.execute("PRAGMA journal_mode").fetchone()
    if row is not None and str(row[0]).lower() == "wal":
        return
    deadline = time.monotonic() + max(wait_ms, 0) / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as e:
            text = str(e).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() >= deadline:
                raise
        time.sleep(WAL_SWITCH_PAUSE_S * random.uniform(0.5, 1.5))
