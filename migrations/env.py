"""Alembic environment: runs migrations against the URL broker hands over (never a hard-coded one)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from broker.storage.tables import metadata

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")


def run() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Several nodes may start at once: one migrates, the others wait and then find nothing to do.
            conn.execute(text("SELECT pg_advisory_lock(4566001)"))
            conn.commit()
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=conn.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_unlock(4566001)"))
            conn.commit()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
