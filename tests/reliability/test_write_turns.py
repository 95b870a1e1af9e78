"""The writes of one turn of a worker's event loop commit together on the loop (SQLite, `write_inline`), with the
same guarantees as the writer thread's group commit: a unit that fails is undone alone, every write is committed
before it is answered, and a write that finds the lock taken goes to the writer thread instead."""

import asyncio
import fcntl
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from broker.config import Settings
from broker.errors import ServiceError
from broker.storage.db import Database, Tx


def _settings(tmp_path: Path, inline: bool) -> Settings:
    return Settings(data_dir=str(tmp_path), write_inline=inline)


def _insert(tx: Tx, value: str) -> str:
    tx.conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
    return threading.current_thread().name


def _refuse(tx: Tx, value: str) -> None:
    tx.conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
    raise ServiceError("InvalidParameterValue", "refused")


def _rows(db: Database) -> list[str]:
    return db.read_sync(lambda conn: [r[0] for r in conn.execute(text("SELECT v FROM t ORDER BY v"))])


def _run(tmp_path: Path, inline: bool, body: Any) -> Any:
    async def main() -> Any:
        db = Database(_settings(tmp_path, inline))
        db.start()
        try:
            await db.write(lambda tx: tx.conn.execute(text("CREATE TABLE t (v TEXT PRIMARY KEY)")))
            return await body(db)
        finally:
            db.stop()

    return asyncio.run(main())


@pytest.mark.parametrize("inline", [True, False])
def test_a_failing_unit_is_undone_alone(tmp_path: Path, inline: bool) -> None:
    async def body(db: Database) -> tuple[list[Any], list[str], list[str]]:
        # gather starts every write in one turn of the loop: one batch (inline) or one queue burst (thread).
        outcomes = await asyncio.gather(
            db.write(_insert, "a"),
            db.write(_refuse, "b"),
            db.write(_insert, "c"),
            db.write(_refuse, "e"),
            db.write(_insert, "d"),
            return_exceptions=True,
        )
        threads = [o for o in outcomes if isinstance(o, str)]
        return outcomes, threads, _rows(db)

    outcomes, threads, rows = _run(tmp_path, inline, body)
    assert [type(o) for o in outcomes] == [str, ServiceError, str, ServiceError, str]
    assert rows == ["a", "c", "d"]
    # Inline, the turn's writes ran on the event loop's thread; otherwise on the writer thread.
    assert set(threads) == ({"MainThread"} if inline else {"broker-writer"})


def test_a_write_finding_the_lock_taken_goes_to_the_writer_thread(tmp_path: Path) -> None:
    async def body(db: Database) -> tuple[str, str, list[str]]:
        # Another worker process holds the write lock (its file lock) for a moment.
        fd = os.open(tmp_path / "write.lock", os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, lambda: (fcntl.flock(fd, fcntl.LOCK_UN), os.close(fd)))
        waited = await db.write(_insert, "x")  # the loop is not blocked: it releases the lock itself
        # The lock is free again: writes run on the loop once the writer thread has let go of the connection
        # (it answers before it does, so the very next write may still find it busy).
        after = [await db.write(_insert, f"y{i}") for i in range(5)]
        return waited, after[-1], _rows(db)

    waited, after, rows = _run(tmp_path, True, body)
    assert (waited, after, rows) == ("broker-writer", "MainThread", ["x", "y0", "y1", "y2", "y3", "y4"])


def test_writes_from_another_thread_use_the_writer_thread(tmp_path: Path) -> None:
    async def body(db: Database) -> tuple[str, list[str]]:
        name = await asyncio.to_thread(db.write_sync, _insert, "z")
        return name, _rows(db)

    assert _run(tmp_path, True, body) == ("broker-writer", ["z"])


def test_a_write_after_stop_is_answered_not_left_waiting(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(_settings(tmp_path, True))
        db.start()
        await db.write(lambda tx: tx.conn.execute(text("CREATE TABLE t (v TEXT PRIMARY KEY)")))
        await asyncio.get_running_loop().run_in_executor(None, db.stop)  # as the runtime stops it
        with pytest.raises(ServiceError) as e:
            await asyncio.wait_for(db.write(_insert, "late"), 5)
        assert e.value.code == "ServiceUnavailable"

    asyncio.run(main())
