"""SQL of stream checkpoints (lambda_esm_checkpoints): where a mapping's poller of one shard stands, written in the
transaction that records a batch's outcome, so processing resumes right after the last completed batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, select

from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.tables import lambda_esm_checkpoints as cp


@dataclass
class Checkpoint:
    uuid: str
    shard: int
    stream_id: int
    stream_created: int
    after: int  # the counter of the last record done
    window_start: int | None = None
    state: str | None = None  # JSON
    finished: bool = False


def get(conn: Connection, uuid: str, shard: int) -> Checkpoint | None:
    row = conn.execute(select(cp).where(and_(cp.c.uuid == uuid, cp.c.shard == shard))).mappings().first()
    return Checkpoint(**row) if row else None


def finished_shards(conn: Connection, uuid: str, stream_id: int, created: int) -> set[int]:
    rows = conn.execute(
        select(cp.c.shard).where(
            and_(cp.c.uuid == uuid, cp.c.stream_id == stream_id, cp.c.stream_created == created, cp.c.finished)
        )
    )
    return set(rows.scalars())


def put(tx: Tx, c: Checkpoint) -> None:
    values: dict[str, Any] = dict(c.__dict__)
    upsert(tx.conn, cp, values, ["uuid", "shard"])


def remove_mapping(tx: Tx, uuid: str) -> None:
    tx.conn.execute(delete(cp).where(cp.c.uuid == uuid))
