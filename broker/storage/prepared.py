"""Hot-path statements: built with SQLAlchemy Core, compiled once per dialect, executed on the DBAPI cursor.

SQLAlchemy's per-execution bookkeeping costs several times what SQLite itself spends on a small INSERT; on the
few statements every message passes through we skip it and keep Core only for building the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias, cast

from sqlalchemy import Connection
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_ManyParams: TypeAlias = Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]


class Cursor(DBAPICursor, Protocol):
    """The raw DBAPI cursor; fetchall() gives a list, as sqlite3's and psycopg's do."""

    def fetchall(self) -> list[Any]: ...


class Prepared:
    def __init__(self, stmt: ClauseElement, column_keys: Iterable[str] | None = None) -> None:
        self.stmt = stmt
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _compiled(self, conn: Connection) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        name = conn.dialect.name
        hit = self._by_dialect.get(name)
        if hit is None:
            # Statements (DML, SELECT) compile with a SQLCompiler; Compiled lacks positiontup and _check.
            comp = cast(SQLCompiler, self.stmt.compile(dialect=conn.dialect, column_keys=self.column_keys))
            defaults = {k: v for k, v in comp.construct_params(_check=False).items() if v is not None}
            order: tuple[str, ...] | None = None
            if comp.positional:
                assert comp.positiontup is not None  # set by every positional compile
                order = tuple(comp.positiontup)
            hit = (str(comp), order, defaults)
            self._by_dialect[name] = hit
        return hit

    def _bind(
        self, order: tuple[str, ...] | None, defaults: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any] | tuple[Any, ...]:
        if order is None:
            return {**defaults, **params} if defaults else params
        return tuple(params[k] if k in params else defaults[k] for k in order)

    def execute(self, conn: Connection, params: dict[str, Any]) -> Cursor:
        sql, order, defaults = self._compiled(conn)
        cur = conn.connection.cursor()
        cur.execute(sql, self._bind(order, defaults, params))
        return cast(Cursor, cur)

    def executemany(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        sql, order, defaults = self._compiled(conn)
        cur = conn.connection.cursor()
        # One paramstyle per statement: the rows are all dicts or all tuples.
        batch = cast(_ManyParams, [self._bind(order, defaults, r) for r in rows])
        cur.executemany(sql, batch)
        n = cur.rowcount
        cur.close()
        return n

    def fetch_dicts(self, conn: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
        cur = self.execute(conn, params)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        cur.close()
        return rows
