"""SQL of STS: the server key temporary credentials are authenticated with (one broker_state row, created by the
first process that starts; every other reads it)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore
from broker.storage.tables import broker_state as bs

SERVER_KEY = "sts.server_key"  # kept by /_broker/reset: every process holds it in memory


def server_key(conn: Connection) -> str | None:
    value: str | None = conn.execute(select(bs.c.value).where(bs.c.key == SERVER_KEY)).scalar()
    return value


def keep_server_key(tx: Tx, value: str) -> None:
    insert_ignore(tx.conn, bs, {"key": SERVER_KEY, "value": value})  # the first process's key wins
