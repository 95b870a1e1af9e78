"""Database access for one process: a writer thread that group-commits, and a small reader pool.

Every write of a request runs as a *unit* (a plain function taking a Tx) on the writer thread. The thread takes
all units queued at that moment and runs them in one transaction, commits once and only then resolves the
requests' futures: a request is answered only after its data is committed, and many concurrent requests share one
commit. If one unit fails, the batch is run again with a savepoint per unit, so only that unit fails; a deadlock
or serialization failure (PostgreSQL, several nodes) re-runs the batch.

On SQLite, the units the requests of one turn of the event loop issue run instead at the end of that turn, on the
loop, in one transaction — when the writer thread is idle and no other process holds the write lock (else they go
to the writer thread, which waits for it). A local commit takes tens of microseconds, while handing units to the
writer thread and the answers back costs thread switches, a GIL hand-over each way and a wake of the loop: most of
a write at a few requests in flight, and under load the requests that arrive together still share a commit.
Reads, and every database call on PostgreSQL (a network round trip), never run on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeAlias, TypeVar, TypeVarTuple

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from broker.config import Settings
from broker.errors import ServiceError, ServiceUnavailable
from broker.metrics import instruments as metrics
from broker.storage.engine import make_engine

log = logging.getLogger("broker.db")

CHECKPOINT_INTERVAL = 0.5
RETRIES = 3


class CommitListener(Protocol):
    def before_commit(self, conn: Connection, keys: set[str]) -> None: ...
    def after_commit(self, keys: set[str]) -> None: ...


class Tx:
    """A unit's view of the write transaction."""

    __slots__ = ("conn", "wakes", "is_pg", "committed")

    def __init__(self, conn: Connection, is_pg: bool) -> None:
        self.conn = conn
        self.wakes: set[str] = set()
        self.is_pg = is_pg
        self.committed: list[Callable[[], None]] | None = None

    def wake(self, key: str) -> None:
        """Wake waiters on `key` (in every process) once this transaction has committed."""
        self.wakes.add(key)

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Call `fn` (on the thread that committed; quick, such as counting a metric) once this unit's writes committed:
        never for a unit rolled back, once for a batch run again."""
        if self.committed is None:
            self.committed = []
        self.committed.append(fn)


class _UnitFailed(Exception):
    """A unit of a multi-unit batch raised; the batch is retried with savepoints."""


class _Done(NamedTuple):
    """A batch run, to be answered: its units, their outcomes, the keys to wake, when it started, the units'
    after-commit calls and whether it changed the database."""

    batch: list[_Unit]
    outcomes: list[_Outcome]
    wakes: set[str]
    started: float
    committed: list[Callable[[], None]]
    changed: bool


class _LockTaken(Exception):
    """Another of our processes holds the write lock: the unit goes to the writer thread, which waits for it."""


def _driver_errors() -> tuple[type[Exception], ...]:
    """The DBAPI drivers' own base errors: prepared statements run on the raw cursor and raise these."""
    import sqlite3

    errors: list[type[Exception]] = [DBAPIError, sqlite3.Error]
    try:
        import psycopg

        errors.append(psycopg.Error)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return tuple(errors)


DB_ERRORS = _driver_errors()
LOCKED_PAUSE_S = 0.02  # between tries while another program holds SQLite's write lock
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")
# (ok, result or exception) of one unit.
_Outcome: TypeAlias = tuple[bool, Any]
# A batch's transaction: each unit's outcome, the keys to wake, the after-commit calls of the units committed.
_Run: TypeAlias = tuple[list[_Outcome], set[str], list[Callable[[], None]]]
_AnyFuture: TypeAlias = asyncio.Future[Any] | concurrent.futures.Future[Any]
# A queued unit: (fn, args, future, the caller's loop or None for write_sync, monotonic time queued).
_Unit: TypeAlias = tuple[Callable[..., Any], tuple[Any, ...], _AnyFuture, asyncio.AbstractEventLoop | None, float]


def _is_db_failure(e: Exception) -> bool:
    return isinstance(e, DB_ERRORS)


def _is_retryable(e: Exception) -> bool:
    orig = getattr(e, "orig", e)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, DB_ERRORS):
        text = str(getattr(exc, "orig", exc)).lower()
        if "locked" in text or "busy" in text:
            return ServiceUnavailable("The database is busy. Please retry.")
        if "full" in text:
            return ServiceUnavailable("The broker's storage is full. Please retry later.")
        return ServiceUnavailable(f"Database error: {text[:200]}")
    return exc


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.is_pg = settings.is_postgres
        self.write_engine = make_engine(settings, writer=True, pool_size=1)
        self.read_engine = make_engine(settings, writer=False, pool_size=settings.read_threads)
        self.listener: CommitListener | None = None
        self._queue: queue.SimpleQueue[_Unit | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._readers = concurrent.futures.ThreadPoolExecutor(settings.read_threads, thread_name_prefix="broker-read")
        self._conn: Connection | None = None
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wrote = threading.Event()  # set at commits: the checkpointer sleeps while nothing is written
        self._changes = -1  # the write connection's total_changes when _changed last looked
        # SQLite's own busy handler sleeps and polls (waits of up to 100 ms, unfair): between our processes a
        # kernel file lock hands the write lock over the moment it is released. Foreign lockers still meet
        # busy_timeout.
        self._lock_fd: int | None = None
        if not self.is_pg:
            self._lock_fd = os.open(Path(settings.state_dir) / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
        # Held while a transaction runs on the write connection: by the writer thread, or by the event loop
        # running a unit inline (which only tries it).
        self._busy = threading.Lock()
        # Not with durability = "fsync": each commit's fsync would stall the event loop.
        self._inline = not self.is_pg and settings.write_inline and settings.durability != "fsync"
        self._turn: list[_Unit] = []  # writes issued during this turn of the event loop (inline mode)
        self._home: asyncio.AbstractEventLoop | None = None  # that loop: the one running when the database started

    @contextlib.contextmanager
    def _write_lock(self, wait: bool = True) -> Iterator[None]:
        if self._lock_fd is None:
            yield
            return
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _LockTaken from None
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._home = asyncio.get_running_loop()
        if self._stopping.is_set():
            # Started again after a stop (a worker's failed start is undone and tried again): a fresh stop flag
            # for the new checkpointer (the old one ends on the old flag) and a fresh reader pool.
            self._stopping = threading.Event()
            self._readers = concurrent.futures.ThreadPoolExecutor(
                self.settings.read_threads, thread_name_prefix="broker-read"
            )
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="broker-writer", daemon=True)
            self._thread.start()
        if not self.is_pg and self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, args=(self._stopping,), name="broker-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self, stopping: threading.Event) -> None:
        """Copy the WAL back into the database file off the request path (PASSIVE: never blocks writers), at most
        every CHECKPOINT_INTERVAL after this process wrote (other processes checkpoint after their own writes)."""
        import sqlite3

        path = self.write_engine.url.database
        assert path is not None  # a SQLite engine's URL always names a file (Settings requires sqlite:///path)
        conn = sqlite3.connect(path, timeout=0, check_same_thread=False)
        try:
            while True:
                self._wrote.wait()
                if stopping.wait(CHECKPOINT_INTERVAL):
                    break
                self._wrote.clear()  # before: a commit during the checkpoint is checkpointed next time
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._wrote.set()
        self._checkpointer = None  # it ends by itself within CHECKPOINT_INTERVAL
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        # Units queued after the writer's end (a task still writing during shutdown) get an answer, not a hang.
        late: list[_Unit] = []
        with contextlib.suppress(queue.Empty):
            while True:
                if (unit := self._queue.get_nowait()) is not None:
                    late.append(unit)
        self._deliver(late, [(False, _stopping_error())] * len(late))
        self._readers.shutdown(wait=False, cancel_futures=True)
        self.write_engine.dispose()
        self.read_engine.dispose()

    # -- API -----------------------------------------------------------------------------------------------
    async def write(self, fn: Callable[[Tx, *_Ts], _T], *args: *_Ts) -> _T:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[_T] = loop.create_future()
        unit = (fn, args, fut, loop, time.monotonic())
        if self._stopping.is_set():
            raise _stopping_error()
        if self._inline and loop is self._home:
            if not self._turn:
                loop.call_soon(self._run_turn)
            self._turn.append(unit)
        else:
            self._queue.put(unit)
        return await fut

    def write_sync(self, fn: Callable[[Tx, *_Ts], _T], *args: *_Ts) -> _T:
        """For threads outside the event loop (scheduler jobs)."""
        cf: concurrent.futures.Future[_T] = concurrent.futures.Future()
        self._queue.put((fn, args, cf, None, time.monotonic()))
        return cf.result()

    async def read(self, fn: Callable[[Connection, *_Ts], _T], *args: *_Ts) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, fn, *args)

    def read_sync(self, fn: Callable[[Connection, *_Ts], _T], *args: *_Ts) -> _T:
        try:
            with self.read_engine.connect() as conn:
                return fn(conn, *args)
        except Exception as e:
            raise _translate(e) from e

    # -- writer thread -------------------------------------------------------------------------------------
    def _run(self) -> None:
        limit = self.settings.write_batch_max
        while True:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            stop = False
            while len(batch) < limit:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                with self._busy:
                    done = self._run_batch(batch)
            except Exception as e:  # the writer thread must outlive any failure: requests wait on it
                log.exception("writer: a batch failed unexpectedly")
                self._drop_connection()
                self._deliver(batch, [(False, _translate(e))] * len(batch))
                done = None
            if done is not None:
                # Answered after the connection is let go: a request's next write may then run on the loop.
                self._finish(done, on_loop=False)
            if stop:
                break
        with self._busy:  # not while the event loop runs a turn on it
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _changed(self) -> bool:
        """Whether the write connection changed anything since the last call (most idle sweeps delete nothing:
        no WAL for the checkpointer)."""
        if self.is_pg:
            return False
        try:
            changes = self._conn.connection.driver_connection.total_changes  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - no connection (dropped after a failure): checkpoint to be safe
            return True
        if changes == self._changes:
            return False
        self._changes = changes
        return True

    def _drop_connection(self) -> None:
        with contextlib.suppress(Exception):
            if self._conn is not None:
                self._conn.invalidate()
        self._conn = None

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.write_engine.connect()
        return self._conn

    def _run_batch(self, batch: list[_Unit], on_loop: bool = False) -> _Done | None:
        """Run `batch` (holding _busy); what to answer, for _finish once _busy is let go. None: nothing to answer —
        on the event loop (`on_loop`, which must not wait for a lock), nothing was done because another of our
        processes holds the write lock, or a program outside the broker SQLite's lock; on the writer thread,
        every request was answered already (busy past its time)."""
        started = time.perf_counter()
        while True:
            try:
                outcomes, wakes, committed = self._transaction_retrying(batch, isolate=False, wait=not on_loop)
            except _UnitFailed:
                # A unit failed after others had written: run the batch again, each unit inside its own savepoint,
                # so only the failing unit's writes are undone. Units are plain functions of the database state.
                try:
                    outcomes, wakes, committed = self._transaction_retrying(batch, isolate=True, wait=not on_loop)
                except _LockTaken:
                    return None
                except Exception as e:  # noqa: BLE001 - the batch's requests get it as their answer
                    if on_loop and self._locked_elsewhere(e):
                        return None
                    outcomes, wakes, committed = self._failed(batch, e)
            except _LockTaken:
                return None
            except Exception as e:  # noqa: BLE001 - the whole transaction failed
                if self._locked_elsewhere(e):
                    if on_loop:
                        return None
                    batch = self._answer_late(batch)
                    if not batch:
                        return None
                    time.sleep(LOCKED_PAUSE_S)  # the other workers get the file lock between our tries
                    continue
                outcomes, wakes, committed = self._failed(batch, e)
            break
        return _Done(batch, outcomes, wakes, started, committed, self._changed())

    def _run_turn(self) -> None:
        """The writes this turn of the event loop issued, run together right here when the writer thread is idle
        and the write lock free; otherwise (or when the lock is taken meanwhile) queued to the writer thread."""
        batch, self._turn = self._turn, []
        if self._stopping.is_set():  # the writer is ending or gone: its connection is not ours to use
            _resolve_all([(u[2], (False, _stopping_error())) for u in batch])
            return
        if self._queue.empty() and self._busy.acquire(blocking=False):
            try:
                done = self._run_batch(batch, on_loop=True)
            except Exception as e:  # as on the writer thread: the requests must get an answer
                log.exception("a batch failed unexpectedly")
                self._drop_connection()
                done = _Done(batch, [(False, _translate(e))] * len(batch), set(), time.perf_counter(), [], True)
            finally:
                self._busy.release()
            if done is not None:
                self._finish(done, on_loop=True)
                return
        for unit in batch:
            self._queue.put(unit)

    def _finish(self, done: _Done, on_loop: bool) -> None:
        """Answer a batch run by _run_batch (not holding _busy), then its after-commit work."""
        batch, outcomes, wakes, started, committed, changed = done
        elapsed = time.perf_counter() - started
        if wakes and self.listener is not None:
            try:
                self.listener.after_commit(wakes)
            except Exception:
                log.exception("after-commit notification failed")
        if on_loop:
            _resolve_all([(u[2], outcome) for u, outcome in zip(batch, outcomes, strict=True)])
        else:
            self._deliver(batch, outcomes)
        metrics.write_batch(len(batch), elapsed)  # after the answers: they never wait for it
        if changed and not self._wrote.is_set():
            self._wrote.set()
        for fn in committed:
            try:
                fn()
            except Exception:
                log.exception("an after-commit call failed")

    def _locked_elsewhere(self, e: Exception) -> bool:
        """SQLite's write lock is held by another program: our processes take turns by the file lock first."""
        return not self.is_pg and _is_db_failure(e) and "locked" in str(getattr(e, "orig", e)).lower()

    def _answer_late(self, batch: list[_Unit]) -> list[_Unit]:
        """While another program holds SQLite's write lock, the writer tries again in short slices (the busy
        timeout of its connection), so each request waits at most db_busy_timeout_ms from when it was queued —
        not that long again behind every write queued before it, here or in another worker. Requests whose time
        is up are answered busy (retryable 503); the others are returned to try again."""
        now, limit = time.monotonic(), self.settings.db_busy_timeout_ms
        late = [u for u in batch if (now - u[4]) * 1000 >= limit]
        if late:
            self._deliver(late, [(False, ServiceUnavailable("The database is busy. Please retry."))] * len(late))
        return [u for u in batch if (now - u[4]) * 1000 < limit]

    def _transaction_retrying(self, batch: list[_Unit], isolate: bool, wait: bool) -> _Run:
        for attempt in range(RETRIES):
            try:
                return self._transaction(batch, isolate, wait)
            except Exception as e:
                if attempt + 1 == RETRIES or not _is_retryable(e):
                    raise
                log.info("write transaction hit %s; running it again", e)
        raise AssertionError("unreachable")

    def _transaction(self, batch: list[_Unit], isolate: bool, wait: bool) -> _Run:
        """Run the units in one transaction: their outcomes, the keys to wake and the after-commit calls of the
        units that committed. Without `isolate` (the fast path: no savepoints) a failing unit aborts the whole
        transaction, unless it is alone in the batch. Without `wait`, _LockTaken if another of our processes
        holds the write lock."""
        outcomes: list[_Outcome] = []
        wakes: set[str] = set()
        committed: list[Callable[[], None]] = []
        conn = self._connection()
        with self._write_lock(wait), conn.begin():
            for fn, args, _fut, _loop, _queued in batch:
                tx = Tx(conn, self.is_pg)
                if isolate:
                    sp = conn.begin_nested()
                    try:
                        res = fn(tx, *args)
                    except Exception as e:  # belongs to this unit only
                        if _is_retryable(e):
                            raise  # the whole transaction is void: run the batch again
                        sp.rollback()
                        if not isinstance(e, ServiceError):
                            log.warning("write unit failed: %s", e)
                        outcomes.append((False, _translate(e)))
                        continue
                    sp.commit()
                else:
                    try:
                        res = fn(tx, *args)
                    except Exception as e:
                        if len(batch) > 1 and not _is_db_failure(e):
                            raise _UnitFailed from e
                        raise
                outcomes.append((True, res))
                wakes |= tx.wakes
                if tx.committed:
                    committed += tx.committed
            if wakes and self.listener is not None:
                self.listener.before_commit(conn, wakes)
        return outcomes, wakes, committed

    def _failed(self, batch: list[_Unit], e: Exception) -> _Run:
        if not isinstance(e, ServiceError):
            log.warning("write transaction failed: %s", e)
            if isinstance(e, DB_ERRORS) and self._conn is not None and self._connection_lost(e):
                # PostgreSQL restarted, or the network went: start the next batch on a fresh connection.
                self._drop_connection()
        return [(False, _translate(e))] * len(batch), set(), []  # nothing of the batch was committed

    def _connection_lost(self, e: Exception) -> bool:
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return True
        conn = self._conn
        if conn is None:
            return True
        try:  # a connection whose server went away can refuse even this
            raw = getattr(conn.connection, "driver_connection", None)
        except Exception:  # noqa: BLE001 - any failure here means the connection is gone
            return True
        return raw is None or bool(getattr(raw, "closed", False))

    @staticmethod
    def _deliver(batch: list[_Unit], outcomes: list[_Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_AnyFuture, _Outcome]]] = {}
        for (_fn, _args, fut, loop, _queued), outcome in zip(batch, outcomes, strict=True):
            if loop is None:
                ok, value = outcome
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)
            else:
                by_loop.setdefault(loop, []).append((fut, outcome))
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve_all, items)
            except RuntimeError:
                pass  # loop closed during shutdown


def _stopping_error() -> ServiceUnavailable:
    return ServiceUnavailable("The broker is stopping. Please retry.")


def _resolve_all(items: list[tuple[_AnyFuture, _Outcome]]) -> None:
    for fut, (ok, value) in items:
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)
