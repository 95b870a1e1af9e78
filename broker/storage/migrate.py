"""Applying alembic migrations (broker db upgrade, and broker serve before any worker starts)."""

from __future__ import annotations

import fcntl
import logging
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from broker.config import Settings
from broker.storage.engine import ensure_data_dir, make_engine


def migrations_dir() -> Path:
    """The alembic folder: the checkout's migrations/, or the copy a regular install puts under share/."""
    for candidate in (
        Path(__file__).resolve().parent.parent.parent / "migrations",
        Path(sys.prefix) / "share" / "broker" / "migrations",
    ):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("broker's migrations folder is missing from this installation")


def upgrade(settings: Settings) -> None:
    ensure_data_dir(settings)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["url"] = settings.database_url()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if settings.is_postgres:
        command.upgrade(cfg, "head")  # serialized by an advisory lock in migrations/env.py
        return
    with open(Path(settings.state_dir) / ".migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        command.upgrade(cfg, "head")
        # WAL is a property of the file: set it once here, before any worker opens the database, so that workers
        # starting together do not all try to switch it at the same moment.
        engine = make_engine(settings, writer=False)
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
