"""SQL of Lambda's account-level configuration objects and cross-function questions about per-function ones.

Code signing configurations belong to no function: they are lambda_configs rows of function_id 0, kind "csc",
qualifier "<account>:<region>:<csc id>" (the schema has no table of their own). A function's link to one is its
kind "code-signing" row; provisioned concurrency is kind "provisioned" per qualifier."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, select

from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore, upsert
from broker.storage.tables import lambda_configs as cf
from broker.storage.tables import lambda_functions as fn

ACCOUNT_LEVEL = 0  # function_id of configuration objects that belong to no function
CSC = "csc"
CODE_SIGNING = "code-signing"
PROVISIONED = "provisioned"


# -- code signing configurations -------------------------------------------------------------------------------
def _csc_key(account: str, region: str, csc_id: str) -> str:
    return f"{account}:{region}:{csc_id}"


def add_csc(tx: Tx, account: str, region: str, csc_id: str, config: dict[str, Any]) -> bool:
    values = {
        "function_id": ACCOUNT_LEVEL,
        "kind": CSC,
        "qualifier": _csc_key(account, region, csc_id),
        "config": json.dumps(config),
    }
    return insert_ignore(tx.conn, cf, values) == 1


def get_csc(conn: Connection, account: str, region: str, csc_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(cf.c.config).where(
            cf.c.function_id == ACCOUNT_LEVEL, cf.c.kind == CSC, cf.c.qualifier == _csc_key(account, region, csc_id)
        )
    ).first()
    return json.loads(row.config) if row else None


def put_csc(tx: Tx, account: str, region: str, csc_id: str, config: dict[str, Any]) -> None:
    values = {
        "function_id": ACCOUNT_LEVEL,
        "kind": CSC,
        "qualifier": _csc_key(account, region, csc_id),
        "config": json.dumps(config),
    }
    upsert(tx.conn, cf, values, ["function_id", "kind", "qualifier"])


def delete_csc(tx: Tx, account: str, region: str, csc_id: str) -> None:
    tx.conn.execute(
        delete(cf).where(
            cf.c.function_id == ACCOUNT_LEVEL, cf.c.kind == CSC, cf.c.qualifier == _csc_key(account, region, csc_id)
        )
    )


def list_cscs(conn: Connection, account: str, region: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(cf.c.config)
        .where(
            cf.c.function_id == ACCOUNT_LEVEL,
            cf.c.kind == CSC,
            cf.c.qualifier.startswith(f"{account}:{region}:", autoescape=True),
        )
        .order_by(cf.c.qualifier)
    ).all()
    return [json.loads(r.config) for r in rows]


def functions_using_csc(conn: Connection, account: str, region: str, csc_arn: str) -> list[str]:
    """ARNs of the functions linked to a code signing configuration, by ARN."""
    rows = conn.execute(
        select(fn.c.arn, cf.c.config)
        .join(cf, cf.c.function_id == fn.c.id)
        .where(fn.c.account == account, fn.c.region == region, cf.c.kind == CODE_SIGNING)
        .order_by(fn.c.arn)
    ).all()
    return [r.arn for r in rows if json.loads(r.config).get("CodeSigningConfigArn") == csc_arn]


# -- provisioned concurrency -----------------------------------------------------------------------------------
def provisioned_outside_reservations(conn: Connection, account: str, region: str, excluding: int | None = None) -> int:
    """Provisioned concurrency of functions without a reservation: it comes out of the unreserved pool."""
    q = (
        select(cf.c.config)
        .join(fn, cf.c.function_id == fn.c.id)
        .where(
            fn.c.account == account,
            fn.c.region == region,
            fn.c.reserved_concurrency.is_(None),
            cf.c.kind == PROVISIONED,
        )
    )
    if excluding is not None:
        q = q.where(fn.c.id != excluding)
    return sum(int(json.loads(r.config)["RequestedProvisionedConcurrentExecutions"]) for r in conn.execute(q))


def provisioned_targets(
    conn: Connection, account: str | None = None, region: str | None = None
) -> list[tuple[int, str, str, int]]:
    """(function id, function ARN, qualifier, requested environments) of every provisioned concurrency
    configuration (of one account's region when given): what the engine keeps warm. An alias qualifier names the
    alias; its version is the alias's FunctionVersion."""
    q = select(fn.c.id, fn.c.arn, cf.c.qualifier, cf.c.config).join(fn, cf.c.function_id == fn.c.id)
    q = q.where(cf.c.kind == PROVISIONED)
    if account is not None:
        q = q.where(fn.c.account == account)
    if region is not None:
        q = q.where(fn.c.region == region)
    return [
        (r.id, r.arn, r.qualifier, int(json.loads(r.config)["RequestedProvisionedConcurrentExecutions"]))
        for r in conn.execute(q.order_by(fn.c.id, cf.c.qualifier))
    ]
