"""Small SQL helpers that differ per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; returns the number of rows inserted."""
    mod = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = mod.insert(table).values(**values).on_conflict_do_nothing()
    # Count the rows RETURNING gives back: with an autoincrement key psycopg reports rowcount -1.
    return len(conn.execute(stmt.returning(*table.primary_key.columns)).all())


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    mod = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = mod.insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={k: v for k, v in values.items() if k not in keys})
    conn.execute(stmt)


def bytewise(conn: Connection, col: ColumnElement[str]) -> ColumnElement[str]:
    """`col` compared and sorted in code point order, as AWS lists names (PostgreSQL's "C" collation; SQLite's
    default: PostgreSQL sorts text by the database's locale otherwise)."""
    return col.collate("C") if conn.dialect.name == "postgresql" else col


def has_prefix(col: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """`col` starts with `prefix`, case-sensitively on both backends (SQLite's LIKE ignores ASCII case)."""
    return func.substr(col, 1, len(prefix)) == prefix
