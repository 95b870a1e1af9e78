"""Database access for one process: a writer thread that group-commits, and a small reader pool.

Every write of a request runs as a *unit* (a plain function taking a Tx) on the writer thread. The thread takes
all units queued at that moment and runs them in one transaction, each inside a savepoint, then commits once
and only then resolves the requests' futures: a request is answered only after its data is committed, and many
concurrent requests share one commit. Database calls never run on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from broker.config import Settings
from broker.errors import ServiceError, ServiceUnavailable
from broker.storage.engine import make_engine

log = logging.getLogger("broker.db")


class CommitListener(Protocol):
    def before_commit(self, conn: Connection, keys: set[str]) -> None: ...
    def after_commit(self, keys: set[str]) -> None: ...


class Tx:
    """A unit's view of the write transaction."""

    __slots__ = ("conn", "wakes", "is_pg")

    def __init__(self, conn: Connection, is_pg: bool) -> None:
        self.conn = conn
        self.wakes: set[str] = set()
        self.is_pg = is_pg

    def wake(self, key: str) -> None:
        """Wake waiters on `key` (in every process) once this transaction has committed."""
        self.wakes.add(key)


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, OperationalError | DBAPIError):
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
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._readers = concurrent.futures.ThreadPoolExecutor(settings.read_threads, thread_name_prefix="broker-read")
        self._conn: Connection | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="broker-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        self._readers.shutdown(wait=False, cancel_futures=True)
        self.write_engine.dispose()
        self.read_engine.dispose()

    # -- API -----------------------------------------------------------------------------------------------
    async def write(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._queue.put((fn, args, fut, loop))
        return await fut

    def write_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        """For threads outside the event loop (scheduler jobs)."""
        cf: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((fn, args, cf, None))
        return cf.result()

    async def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, fn, *args)

    def read_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            with self.read_engine.connect() as conn:
                return fn(conn, *args)
        except Exception as e:  # noqa: BLE001
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
            self._run_batch(batch)
            if stop:
                break
        if self._conn is not None:
            self._conn.close()

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.write_engine.connect()
        return self._conn

    def _run_batch(self, batch: list) -> None:
        outcomes: list[tuple[bool, Any]] = []
        wakes: set[str] = set()
        try:
            conn = self._connection()
            with conn.begin():
                single = len(batch) == 1
                for fn, args, _fut, _loop in batch:
                    tx = Tx(conn, self.is_pg)
                    if single:
                        outcomes.append((True, fn(tx, *args)))
                    else:
                        sp = conn.begin_nested()
                        try:
                            res = fn(tx, *args)
                        except Exception as e:  # noqa: BLE001 - belongs to this unit only
                            sp.rollback()
                            outcomes.append((False, e))
                            continue
                        sp.commit()
                        outcomes.append((True, res))
                    wakes |= tx.wakes
                if wakes and self.listener is not None:
                    self.listener.before_commit(conn, wakes)
        except Exception as e:  # noqa: BLE001 - the whole transaction failed
            if not isinstance(e, ServiceError):
                log.warning("write transaction failed: %s", e)
                if self._conn is not None and isinstance(e, DBAPIError) and e.connection_invalidated:
                    self._conn = None
            err = _translate(e)
            outcomes = [(False, err)] * len(batch)  # nothing of the batch was committed
            wakes = set()
        if wakes and self.listener is not None:
            try:
                self.listener.after_commit(wakes)
            except Exception:  # noqa: BLE001
                log.exception("after-commit notification failed")
        self._deliver(batch, outcomes)

    @staticmethod
    def _deliver(batch: list, outcomes: list[tuple[bool, Any]]) -> None:
        by_loop: dict[Any, list] = {}
        for (_fn, _args, fut, loop), outcome in zip(batch, outcomes, strict=True):
            if loop is None:
                ok, value = outcome
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


def _resolve_all(items: list) -> None:
    for fut, (ok, value) in items:
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)
