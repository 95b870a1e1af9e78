"""The schema is only ever changed by migrations: applying them gives exactly the tables of storage/tables.py."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from broker.config import Settings
from broker.storage.migrate import upgrade
from broker.storage.tables import metadata


def _diff(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    return diff


def test_sqlite_migrations_match_the_tables(tmp_path):
    settings = Settings(data_dir=str(tmp_path))
    upgrade(settings)
    upgrade(settings)  # idempotent
    assert _diff(settings.database_url()) == []


@pytest.mark.pg
def test_postgresql_migrations_match_the_tables(pg_databases):
    settings = Settings(db_url=pg_databases.create())
    upgrade(settings)
    assert _diff(settings.database_url()) == []
