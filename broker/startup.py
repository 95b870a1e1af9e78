"""A worker's start, tried again when the database was briefly unavailable.

uvicorn ends the whole broker when one worker's lifespan fails ("Child process failed to start"). Several workers
starting at once on a busy machine can meet a locked SQLite database (another worker switching it to WAL, writing
the SNS signing key) or a PostgreSQL server that is still starting: such a start is undone and tried again after a
short pause. Any other failure (bad settings, a broken schema) ends the start at once, as before.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError

from broker.errors import ServiceUnavailable

log = logging.getLogger("broker")

_TRANSIENT_WORDS = ("locked", "busy")


def _psycopg_operational() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return ()
    return (psycopg.OperationalError,)


_PG_OPERATIONAL = _psycopg_operational()


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (SQLAlchemy's .orig) and its causes/contexts, each once."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def _transient_one(e: BaseException) -> bool:
    if isinstance(e, sqlite3.OperationalError):
        text = str(e).lower()
        return any(w in text for w in _TRANSIENT_WORDS)
    if _PG_OPERATIONAL and isinstance(e, _PG_OPERATIONAL):
        return True  # the server is starting, restarting or unreachable for the moment; a lock wait timed out
    if isinstance(e, ServiceUnavailable):  # Database's own "busy" answer (a write that waited out its time)
        return any(w in e.message.lower() for w in _TRANSIENT_WORDS)
    return False


def is_transient(exc: BaseException) -> bool:
    """A database error that may well not happen again in a moment: SQLite locked/busy, PostgreSQL operational
    errors, or either of them wrapped by SQLAlchemy or translated by the broker's Database."""
    for e in _chain(exc):
        if isinstance(e, DBAPIError) and e.orig is not None and _transient_one(e.orig):
            return True
        if _transient_one(e):
            return True
    return False


async def start_with_retries(
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    attempts: int = 5,
    backoff: float = 0.2,
    max_backoff: float = 3.0,
) -> None:
    """Run `start`; if it fails with a transient database error, run `stop` to release what the failed attempt
    took, wait (`backoff`, doubling up to `max_backoff`, with some jitter so that workers spread out) and try
    again, at most `attempts` times in all. The last failure, or any non-transient one, propagates."""
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            await start()
            if attempt > 1:
                log.warning("worker start succeeded on attempt %d of %d", attempt, attempts)
            return
        except Exception as e:
            if attempt >= attempts or not is_transient(e):
                raise
            log.warning(
                "worker start failed (%s: %s); trying again in %.2f s (attempt %d of %d)",
                type(e).__name__,
                str(e).splitlines()[0] if str(e) else "",
                delay,
                attempt + 1,
                attempts,
            )
            try:
                await stop()
            except Exception:
                log.warning("stopping the failed start raised", exc_info=True)
            await asyncio.sleep(delay * random.uniform(0.75, 1.25))
            delay = min(delay * 2, max_backoff)
