"""SQL of Lambda functions, versions, aliases, code, per-qualifier configurations and asynchronous invocations.
Functions take a Tx (writes, on the writer thread) or a Connection (reads). Concurrency slots: slot_store.py;
layers: layer_store.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore, upsert
from broker.storage.prepared import Prepared
from broker.storage.tables import lambda_aliases as al
from broker.storage.tables import lambda_async_invocations as ai
from broker.storage.tables import lambda_code as cd
from broker.storage.tables import lambda_configs as cf
from broker.storage.tables import lambda_functions as fn
from broker.storage.tables import lambda_layers as ly
from broker.storage.tables import lambda_slots as sl
from broker.storage.tables import lambda_versions as vs

LATEST = "$LATEST"


@dataclass(frozen=True, slots=True)
class Function:
    id: int
    account: str
    region: str
    name: str
    arn: str
    tags: dict[str, str]
    policy: dict[str, Any] | None
    reserved_concurrency: int | None
    settings: dict[str, Any]
    next_version: int


@dataclass(frozen=True, slots=True)
class Version:
    function: Function
    version: str
    config: dict[str, Any]  # FunctionConfiguration as answered
    code_sha: str


def _function(row: Any) -> Function:
    return Function(
        row.id,
        row.account,
        row.region,
        row.name,
        row.arn,
        json.loads(row.tags),
        json.loads(row.policy) if row.policy else None,
        row.reserved_concurrency,
        json.loads(row.settings),
        row.next_version,
    )


# -- functions ------------------------------------------------------------------------------------------------------
def get_function(conn: Connection, account: str, region: str, name: str) -> Function | None:
    row = conn.execute(select(fn).where(fn.c.account == account, fn.c.region == region, fn.c.name == name)).first()
    return _function(row) if row else None


def get_version(conn: Connection, account: str, region: str, name: str, version: str) -> Version | None:
    """A function's version ($LATEST or a number), with the function, in one read."""
    row = conn.execute(
        select(fn, vs.c.version, vs.c.config, vs.c.code_sha)
        .join(vs, vs.c.function_id == fn.c.id)
        .where(fn.c.account == account, fn.c.region == region, fn.c.name == name, vs.c.version == version)
    ).first()
    if row is None:
        return None
    return Version(_function(row), row.version, json.loads(row.config), row.code_sha)


def create_function(
    tx: Tx,
    account: str,
    region: str,
    name: str,
    arn: str,
    tags: dict[str, str],
    config: dict[str, Any],
    sha: str,
    now: int,
) -> int | None:
    """Insert a function with its $LATEST version; None if the name is taken."""
    mod = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
    values = {"account": account, "region": region, "name": name, "arn": arn, "tags": json.dumps(tags)}
    stmt = mod.insert(fn).values(**values, settings="{}", next_version=1, created_at=now)
    row = tx.conn.execute(stmt.on_conflict_do_nothing().returning(fn.c.id)).first()
    if row is None:
        return None
    fid = int(row[0])
    tx.conn.execute(
        insert(vs).values(function_id=fid, version=LATEST, number=0, config=json.dumps(config), code_sha=sha)
    )
    return fid


def put_version_config(tx: Tx, function_id: int, version: str, config: dict[str, Any], sha: str) -> bool:
    """Replace a version's configuration; False if the version (or its function) is gone."""
    return (
        tx.conn.execute(
            update(vs)
            .where(vs.c.function_id == function_id, vs.c.version == version)
            .values(config=json.dumps(config), code_sha=sha)
        ).rowcount
        > 0
    )


def version_of(conn: Connection, function_id: int, version: str) -> tuple[dict[str, Any], str] | None:
    """A version's configuration and code key by function id (inside a write, to act on what is stored)."""
    row = conn.execute(
        select(vs.c.config, vs.c.code_sha).where(vs.c.function_id == function_id, vs.c.version == version)
    ).first()
    return (json.loads(row.config), row.code_sha) if row else None


def publish_version(tx: Tx, function_id: int, config: dict[str, Any], sha: str) -> str | None:
    """Add the next numbered version (from config, the unqualified $LATEST one) and advance the counter; None if
    the function is gone. The counter moves in one UPDATE, which also orders concurrent publishes on PostgreSQL."""
    row = tx.conn.execute(
        update(fn).where(fn.c.id == function_id).values(next_version=fn.c.next_version + 1).returning(fn.c.next_version)
    ).first()
    if row is None:
        return None
    number = int(row[0]) - 1
    config = {**config, "Version": str(number), "FunctionArn": f"{config['FunctionArn']}:{number}"}
    tx.conn.execute(
        insert(vs).values(
            function_id=function_id, version=str(number), number=number, config=json.dumps(config), code_sha=sha
        )
    )
    return str(number)


def list_versions(conn: Connection, function_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(vs.c.config)
        .where(vs.c.function_id == function_id, vs.c.number > after)
        .order_by(vs.c.number)
        .limit(limit)
    ).all()
    return [json.loads(r.config) for r in rows]


def latest_published(conn: Connection, function_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        select(vs.c.config)
        .where(vs.c.function_id == function_id, vs.c.number > 0)
        .order_by(vs.c.number.desc())
        .limit(1)
    ).first()
    return json.loads(row.config) if row else None


def list_all_versions(
    conn: Connection, account: str, region: str, after: tuple[str, int] | None, limit: int
) -> list[tuple[str, int, dict[str, Any]]]:
    """(name, number, configuration) of every version of the region's functions, by name then number ($LATEST
    first), after the (name, number) a Marker names."""
    q = (
        select(fn.c.name, vs.c.number, vs.c.config)
        .join(fn, vs.c.function_id == fn.c.id)
        .where(fn.c.account == account, fn.c.region == region)
        .order_by(fn.c.name, vs.c.number)
        .limit(limit)
    )
    if after is not None:
        name, number = after
        q = q.where(or_(fn.c.name > name, and_(fn.c.name == name, vs.c.number > number)))
    return [(r.name, int(r.number), json.loads(r.config)) for r in conn.execute(q)]


def list_functions(conn: Connection, account: str, region: str, after: str | None, limit: int) -> list[dict[str, Any]]:
    q = (
        select(vs.c.config)
        .join(fn, vs.c.function_id == fn.c.id)
        .where(fn.c.account == account, fn.c.region == region, vs.c.version == LATEST)
        .order_by(fn.c.name)
        .limit(limit)
    )
    if after is not None:
        q = q.where(fn.c.name > after)
    return [json.loads(r.config) for r in conn.execute(q)]


def delete_function(tx: Tx, function_id: int) -> None:
    for table in (vs, al, cf, sl):
        tx.conn.execute(delete(table).where(table.c.function_id == function_id))
    tx.conn.execute(delete(fn).where(fn.c.id == function_id))
    drop_unused_code(tx)


def delete_version(tx: Tx, function_id: int, version: str) -> None:
    tx.conn.execute(delete(vs).where(vs.c.function_id == function_id, vs.c.version == version))
    tx.conn.execute(delete(cf).where(cf.c.function_id == function_id, cf.c.qualifier == version))
    drop_unused_code(tx)


def set_function_fields(tx: Tx, function_id: int, **values: Any) -> None:
    """Update function-level columns; dict values (tags, policy, settings) are stored as JSON."""
    encoded = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in values.items()}
    tx.conn.execute(update(fn).where(fn.c.id == function_id).values(**encoded))


def merge_settings(tx: Tx, function_id: int, **values: Any) -> None:
    """Set members of a function's settings document, read and written in the same transaction."""
    row = tx.conn.execute(select(fn.c.settings).where(fn.c.id == function_id)).first()
    if row is not None:
        set_function_fields(tx, function_id, settings={**json.loads(row.settings), **values})


def function_count(conn: Connection, account: str, region: str) -> tuple[int, int]:
    """(functions, total code bytes of their versions) of an account's region."""
    count = conn.execute(
        select(func.count()).select_from(fn).where(fn.c.account == account, fn.c.region == region)
    ).scalar_one()
    size = conn.execute(
        select(func.coalesce(func.sum(cd.c.size), 0))
        .select_from(vs.join(fn, vs.c.function_id == fn.c.id).join(cd, cd.c.sha == vs.c.code_sha))
        .where(fn.c.account == account, fn.c.region == region)
    ).scalar_one()
    return int(count), int(size)


def reserved_total(conn: Connection, account: str, region: str, excluding: int | None = None) -> int:
    q = select(func.coalesce(func.sum(fn.c.reserved_concurrency), 0)).where(
        fn.c.account == account, fn.c.region == region
    )
    if excluding is not None:
        q = q.where(fn.c.id != excluding)
    return int(conn.execute(q).scalar_one())


# -- code -----------------------------------------------------------------------------------------------------------
def put_code(tx: Tx, sha: str, data: bytes) -> None:
    insert_ignore(tx.conn, cd, {"sha": sha, "data": data, "size": len(data)})


def get_code(conn: Connection, sha: str) -> bytes | None:
    row = conn.execute(select(cd.c.data).where(cd.c.sha == sha)).first()
    return bytes(row.data) if row else None


def drop_unused_code(tx: Tx) -> None:
    """Remove archives no version and no layer refers to any more."""
    used = select(vs.c.code_sha).union(select(ly.c.code_sha))
    tx.conn.execute(delete(cd).where(cd.c.sha.not_in(used)))


# -- aliases --------------------------------------------------------------------------------------------------------
def get_alias(conn: Connection, function_id: int, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(al.c.config).where(al.c.function_id == function_id, al.c.name == name)).first()
    return json.loads(row.config) if row else None


def put_alias(tx: Tx, function_id: int, name: str, config: dict[str, Any]) -> None:
    upsert(
        tx.conn, al, {"function_id": function_id, "name": name, "config": json.dumps(config)}, ["function_id", "name"]
    )


def add_alias(tx: Tx, function_id: int, name: str, config: dict[str, Any]) -> bool:
    return insert_ignore(tx.conn, al, {"function_id": function_id, "name": name, "config": json.dumps(config)}) == 1


def delete_alias(tx: Tx, function_id: int, name: str) -> None:
    tx.conn.execute(delete(al).where(al.c.function_id == function_id, al.c.name == name))
    tx.conn.execute(delete(cf).where(cf.c.function_id == function_id, cf.c.qualifier == name))


def list_aliases(conn: Connection, function_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(al.c.config).where(al.c.function_id == function_id).order_by(al.c.name)).all()
    return [json.loads(r.config) for r in rows]


# -- per-qualifier configurations (URL, event-invoke, provisioned concurrency, ...) ----------------------------------
def get_config(conn: Connection, function_id: int, kind: str, qualifier: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(cf.c.config).where(cf.c.function_id == function_id, cf.c.kind == kind, cf.c.qualifier == qualifier)
    ).first()
    return json.loads(row.config) if row else None


def put_config(
    tx: Tx, function_id: int, kind: str, qualifier: str, config: dict[str, Any], url_id: str | None = None
) -> None:
    values = {"function_id": function_id, "kind": kind, "qualifier": qualifier, "config": json.dumps(config)}
    if url_id is not None:
        values["url_id"] = url_id
    upsert(tx.conn, cf, values, ["function_id", "kind", "qualifier"])


def delete_config(tx: Tx, function_id: int, kind: str, qualifier: str) -> int:
    return tx.conn.execute(
        delete(cf).where(cf.c.function_id == function_id, cf.c.kind == kind, cf.c.qualifier == qualifier)
    ).rowcount


def list_configs(conn: Connection, function_id: int, kind: str) -> list[tuple[str, dict[str, Any]]]:
    rows = conn.execute(
        select(cf.c.qualifier, cf.c.config)
        .where(cf.c.function_id == function_id, cf.c.kind == kind)
        .order_by(cf.c.qualifier)
    ).all()
    return [(r.qualifier, json.loads(r.config)) for r in rows]


def config_by_url_id(conn: Connection, url_id: str) -> tuple[int, str, dict[str, Any]] | None:
    row = conn.execute(select(cf.c.function_id, cf.c.qualifier, cf.c.config).where(cf.c.url_id == url_id)).first()
    return (row.function_id, row.qualifier, json.loads(row.config)) if row else None


def function_by_id(conn: Connection, function_id: int) -> Function | None:
    row = conn.execute(select(fn).where(fn.c.id == function_id)).first()
    return _function(row) if row else None


# -- asynchronous invocations ---------------------------------------------------------------------------------------
_insert_async = Prepared(
    insert(ai),
    column_keys=[
        "request_id", "account", "region", "function_arn", "payload", "client_context", "trace_id", "received_at",
        "attempts", "due_at",
    ],
)  # fmt: skip


def enqueue_async(
    tx: Tx,
    request_id: str,
    account: str,
    region: str,
    function_arn: str,
    payload: bytes,
    client_context: str | None,
    trace_id: str,
    now: int,
) -> None:
    values = {
        "request_id": request_id,
        "account": account,
        "region": region,
        "function_arn": function_arn,
        "payload": payload,
        "client_context": client_context,
        "trace_id": trace_id,
        "received_at": now,
        "attempts": 0,
        "due_at": now,
    }
    _insert_async.execute(tx.conn, values).close()
    tx.wake("lambda:async")
