"""SQL of event source mappings (lambda_event_source_mappings): one row per mapping, its configuration as JSON
(with its tags under "Tags", which the configuration's shape does not answer)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from broker.storage.db import Tx
from broker.storage.tables import lambda_event_source_mappings as esm


def get(conn: Connection, account: str, region: str, uuid: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(esm.c.config).where(esm.c.uuid == uuid, esm.c.account == account, esm.c.region == region)
    ).first()
    return json.loads(row.config) if row else None


def add(tx: Tx, account: str, region: str, uuid: str, config: dict[str, Any]) -> None:
    tx.conn.execute(
        insert(esm).values(
            uuid=uuid, account=account, region=region, function_arn=config["FunctionArn"], config=json.dumps(config)
        )
    )


def put(tx: Tx, uuid: str, config: dict[str, Any]) -> None:
    tx.conn.execute(
        update(esm).where(esm.c.uuid == uuid).values(function_arn=config["FunctionArn"], config=json.dumps(config))
    )


def remove(tx: Tx, uuid: str) -> None:
    tx.conn.execute(delete(esm).where(esm.c.uuid == uuid))


def listing(conn: Connection, account: str, region: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(esm.c.config).where(esm.c.account == account, esm.c.region == region).order_by(esm.c.uuid)
    ).all()
    return [json.loads(r.config) for r in rows]


def enabled(conn: Connection) -> list[dict[str, Any]]:
    """Every mapping whose poller should run, in every account and region."""
    rows = conn.execute(select(esm.c.config).order_by(esm.c.uuid)).all()
    return [c for c in (json.loads(r.config) for r in rows) if c.get("State") == "Enabled"]
