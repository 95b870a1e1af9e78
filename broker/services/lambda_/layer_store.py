"""SQL of layer versions (lambda_layers). Version 0 of each name is its counter row (its config holds the last
number handed out): numbers are never reused, even after a version is deleted, as in Lambda. A deleted version
that a function still refers to stays as a row marked deleted, so that the function keeps running with it (as in
Lambda); one nobody refers to is removed with its archive."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from broker.services.lambda_ import store
from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore
from broker.storage.tables import lambda_layers as ly
from broker.storage.tables import lambda_versions as vs

DELETED = "__deleted"  # config key of a deleted version kept for the functions that use it
MAX_VERSION = 2**31 - 1  # the column's range: a larger number names no version


@dataclass(frozen=True, slots=True)
class LayerVersion:
    name: str
    version: int
    config: dict[str, Any]  # GetLayerVersion's answer without Content.Location (it names the request's host)
    code_sha: str
    policy: dict[str, Any] | None  # {"RevisionId": ..., "Statement": [...]}


def _parse(arn: str) -> tuple[str, str, str, int] | None:
    parts = arn.split(":")
    if len(parts) != 8 or parts[5] != "layer" or not parts[7].isdigit():
        return None
    return parts[4], parts[3], parts[6], int(parts[7])


def _row(row: Any) -> LayerVersion:
    return LayerVersion(
        row.name, row.version, json.loads(row.config), row.code_sha, json.loads(row.policy) if row.policy else None
    )


def _live(row: Any) -> bool:
    return row is not None and DELETED not in json.loads(row.config)


def get_by_arn(conn: Connection, arn: str) -> dict[str, Any] | None:
    """GetLayerVersion's answer for a layer version ARN, or None."""
    found = version_by_arn(conn, arn)
    return found.config if found else None


def version_by_arn(conn: Connection, arn: str) -> LayerVersion | None:
    parsed = _parse(arn)
    return get(conn, *parsed) if parsed else None


def code_sha_of(conn: Connection, arn: str) -> str | None:
    """The archive of a layer version, also of a deleted one (functions that use it keep running)."""
    parsed = _parse(arn)
    if parsed is None:
        return None
    account, region, name, version = parsed
    if version > MAX_VERSION:
        return None
    row = conn.execute(
        select(ly.c.code_sha).where(
            ly.c.account == account, ly.c.region == region, ly.c.name == name, ly.c.version == version, ly.c.version > 0
        )
    ).first()
    return str(row.code_sha) if row else None


def get(conn: Connection, account: str, region: str, name: str, version: int) -> LayerVersion | None:
    if not 0 < version <= MAX_VERSION:
        return None
    row = conn.execute(
        select(ly).where(
            ly.c.account == account, ly.c.region == region, ly.c.name == name, ly.c.version == version, ly.c.version > 0
        )
    ).first()
    return _row(row) if _live(row) else None


def publish(
    tx: Tx, account: str, region: str, name: str, config: dict[str, Any], sha: str, data: bytes, arn: str
) -> dict[str, Any]:
    """Store the archive and the next version of a layer; the config gets its number and ARN."""
    store.put_code(tx, sha, data)
    key = (ly.c.account == account, ly.c.region == region, ly.c.name == name, ly.c.version == 0)
    insert_ignore(
        tx.conn,
        ly,
        {"account": account, "region": region, "name": name, "version": 0, "config": '{"last": 0}', "code_sha": ""},
    )
    # The counter row is locked on PostgreSQL, so concurrent publishes of one layer take turns.
    q = select(ly.c.config).where(*key)
    counter = tx.conn.execute(q.with_for_update() if tx.is_pg else q).scalar_one()
    number = int(json.loads(counter).get("last", 0)) + 1
    tx.conn.execute(update(ly).where(*key).values(config=json.dumps({"last": number})))
    config = {**config, "LayerVersionArn": f"{arn}:{number}", "Version": number}
    tx.conn.execute(
        insert(ly).values(
            account=account, region=region, name=name, version=number, config=json.dumps(config), code_sha=sha
        )
    )
    return config


def versions(conn: Connection, account: str, region: str, name: str) -> list[LayerVersion]:
    """A layer's live versions, newest first."""
    rows = conn.execute(
        select(ly)
        .where(ly.c.account == account, ly.c.region == region, ly.c.name == name, ly.c.version > 0)
        .order_by(ly.c.version.desc())
    ).all()
    return [_row(r) for r in rows if _live(r)]


def all_versions(conn: Connection, account: str, region: str) -> list[LayerVersion]:
    """Every live version of an account's layers in a region, by name, newest first."""
    rows = conn.execute(
        select(ly)
        .where(ly.c.account == account, ly.c.region == region, ly.c.version > 0)
        .order_by(ly.c.name, ly.c.version.desc())
    ).all()
    return [_row(r) for r in rows if _live(r)]


def delete_version(tx: Tx, account: str, region: str, name: str, version: int, arn: str) -> None:
    if not 0 < version <= MAX_VERSION:
        return
    key = (ly.c.account == account, ly.c.region == region, ly.c.name == name, ly.c.version == version)
    row = tx.conn.execute(select(ly.c.config).where(*key, ly.c.version > 0)).first()
    if row is None:
        return
    # A function version's configuration lists the layer ARNs it uses ("Arn": "...:<n>").
    used = tx.conn.execute(select(vs.c.function_id).where(vs.c.config.contains(f'"{arn}"')).limit(1)).first()
    if used is None:
        tx.conn.execute(delete(ly).where(*key))
        store.drop_unused_code(tx)
    else:
        config = {**json.loads(row.config), DELETED: True}
        tx.conn.execute(update(ly).where(*key).values(config=json.dumps(config), policy=None))


def set_policy(tx: Tx, account: str, region: str, name: str, version: int, policy: dict[str, Any] | None) -> None:
    tx.conn.execute(
        update(ly)
        .where(ly.c.account == account, ly.c.region == region, ly.c.name == name, ly.c.version == version)
        .values(policy=json.dumps(policy) if policy is not None else None)
    )


def total_size(conn: Connection, account: str, region: str) -> int:
    rows = conn.execute(
        select(ly.c.config).where(ly.c.account == account, ly.c.region == region, ly.c.version > 0)
    ).all()
    return sum(int(json.loads(r.config).get("Content", {}).get("CodeSize", 0)) for r in rows)
