"""One process at a time creates the declared resources: every node of a PostgreSQL deployment and every start
of a SQLite one takes this lock first, so the second finds everything made by the first (CreateEventSourceMapping
is not idempotent). A lock dies with its holder, unlike a lease, so a crashed start never blocks the next one."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from broker.config import Settings

# migrations/env.py holds 4566001 while it migrates.
ADVISORY_KEY = 4566002


@contextmanager
def exclusive(settings: Settings) -> Iterator[None]:
    if not settings.is_postgres:
        with open(Path(settings.state_dir) / ".resources.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield
        return
    # A connection of its own, without the broker's lock_timeout: waiting for another node's start is expected.
    engine = create_engine(settings.database_url(), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                conn.commit()
    finally:
        engine.dispose()
