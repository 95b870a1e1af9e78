"""SQL of SNS mobile push (platform applications, endpoints) and SMS (account settings, opted-out numbers, sandbox
numbers). Functions take a Tx (writes, on the writer thread) or a Connection (reads). Their outbox entries go
through store.py."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, insert, select, update

from broker.services.sns.errors import app_not_found, endpoint_not_found, endpoint_token_taken
from broker.services.sns.store import Row
from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.tables import sns_endpoints as ep
from broker.storage.tables import sns_platform_applications as pa
from broker.storage.tables import sns_sms as sms

PAGE = 100

# kinds of sns_sms rows
ATTRIBUTE = "attribute"  # SetSMSAttributes: name -> value
OPTED_OUT = "opted-out"  # phone -> "{}"
SANDBOX = "sandbox"  # phone -> {"status", "otp", "language", ...}
ACCOUNT = "account"  # account-level state: SANDBOX_KEY -> "true" | "false"
SANDBOX_KEY = "IsInSandbox"


# -- platform applications ---------------------------------------------------------------------------------------
def get_app(conn: Connection, arn: str) -> Row | None:
    row = conn.execute(select(pa).where(pa.c.arn == arn)).mappings().first()
    return dict(row) if row else None


def create_app(
    tx: Tx, arn: str, account: str, region: str, name: str, platform: str, attrs: dict[str, str], now: int
) -> None:
    """Create a platform application; for an existing one (same name and platform) the given attributes replace
    those it had."""
    row = get_app(tx.conn, arn)
    if row is None:
        tx.conn.execute(
            insert(pa).values(
                arn=arn,
                account=account,
                region=region,
                name=name,
                platform=platform,
                attributes=json.dumps({"Enabled": "true", **attrs}),
                created_at=now,
            )
        )
        return
    stored = json.loads(row["attributes"])
    stored.update(attrs)
    tx.conn.execute(update(pa).where(pa.c.arn == arn).values(attributes=json.dumps(stored)))


def set_app_attributes(tx: Tx, arn: str, changes: dict[str, str]) -> None:
    row = get_app(tx.conn, arn)
    if row is None:
        raise app_not_found()
    stored = json.loads(row["attributes"])
    for name, value in changes.items():
        if value == "" and name not in ("PlatformCredential", "PlatformPrincipal", "Enabled"):
            stored.pop(name, None)  # an empty value clears an optional attribute
        else:
            stored[name] = value
    tx.conn.execute(update(pa).where(pa.c.arn == arn).values(attributes=json.dumps(stored)))


def delete_app(tx: Tx, arn: str) -> None:
    """Delete a platform application and its endpoints (deleting one that does not exist succeeds)."""
    tx.conn.execute(delete(ep).where(ep.c.application_arn == arn))
    tx.conn.execute(delete(pa).where(pa.c.arn == arn))


def list_apps(conn: Connection, account: str, region: str, after: str | None) -> list[Row]:
    stmt = select(pa).where(and_(pa.c.account == account, pa.c.region == region))
    if after is not None:
        stmt = stmt.where(pa.c.arn > after)
    return [dict(r) for r in conn.execute(stmt.order_by(pa.c.arn).limit(PAGE + 1)).mappings()]


# -- endpoints -----------------------------------------------------------------------------------------------------
def get_endpoint(conn: Connection, arn: str) -> Row | None:
    row = conn.execute(select(ep).where(ep.c.arn == arn)).mappings().first()
    return dict(row) if row else None


def endpoint_and_app(conn: Connection, arn: str) -> tuple[Row, Row] | None:
    """An endpoint with its platform application, or None."""
    endpoint = get_endpoint(conn, arn)
    if endpoint is None:
        return None
    app = get_app(conn, endpoint["application_arn"])
    if app is None:
        return None
    return endpoint, app


def create_endpoint(tx: Tx, app_arn: str, token: str, attrs: dict[str, str], new_arn: str, now: int) -> str:
    """The ARN of the application's endpoint for `token`: the existing one if its attributes are the same (an error
    if they differ), else a new endpoint named `new_arn`."""
    stmt = select(pa.c.arn).where(pa.c.arn == app_arn)
    if tx.is_pg:
        stmt = stmt.with_for_update()  # serializes endpoint creation per application across processes
    if tx.conn.execute(stmt).first() is None:
        raise app_not_found()
    existing = (
        tx.conn.execute(select(ep).where(and_(ep.c.application_arn == app_arn, ep.c.token == token)).limit(1))
        .mappings()
        .first()
    )
    if existing is not None:
        if json.loads(existing["attributes"]) != attrs:
            raise endpoint_token_taken(existing["arn"])
        arn: str = existing["arn"]
        return arn
    tx.conn.execute(
        insert(ep).values(
            arn=new_arn, application_arn=app_arn, token=token, attributes=json.dumps(attrs), created_at=now
        )
    )
    return new_arn


def set_endpoint_attributes(tx: Tx, arn: str, token: str | None, changes: dict[str, str]) -> None:
    row = get_endpoint(tx.conn, arn)
    if row is None:
        raise endpoint_not_found()
    stored = json.loads(row["attributes"])
    stored.update(changes)
    values: dict[str, Any] = {"attributes": json.dumps(stored)}
    if token is not None:
        values["token"] = token
    tx.conn.execute(update(ep).where(ep.c.arn == arn).values(**values))


def delete_endpoint(tx: Tx, arn: str) -> None:
    tx.conn.execute(delete(ep).where(ep.c.arn == arn))


def list_endpoints(conn: Connection, app_arn: str, after: str | None) -> list[Row]:
    stmt = select(ep).where(ep.c.application_arn == app_arn)
    if after is not None:
        stmt = stmt.where(ep.c.arn > after)
    return [dict(r) for r in conn.execute(stmt.order_by(ep.c.arn).limit(PAGE + 1)).mappings()]


# -- SMS account state ---------------------------------------------------------------------------------------------
def _key(account: str, region: str, kind: str, key: str) -> ColumnElement[bool]:
    return and_(sms.c.account == account, sms.c.region == region, sms.c.kind == kind, sms.c.key == key)


def get_sms(conn: Connection, account: str, region: str, kind: str, key: str) -> str | None:
    value: str | None = conn.execute(select(sms.c.value).where(_key(account, region, kind, key))).scalar()
    return value


def put_sms(tx: Tx, account: str, region: str, kind: str, key: str, value: str) -> None:
    upsert(
        tx.conn,
        sms,
        {"account": account, "region": region, "kind": kind, "key": key, "value": value},
        ["account", "region", "kind", "key"],
    )


def delete_sms(tx: Tx, account: str, region: str, kind: str, key: str) -> int:
    return tx.conn.execute(delete(sms).where(_key(account, region, kind, key))).rowcount


def sms_rows(
    conn: Connection, account: str, region: str, kind: str, after: str | None = None, limit: int | None = None
) -> list[tuple[str, str]]:
    """(key, value) of one kind of rows, in key order."""
    stmt = select(sms.c.key, sms.c.value).where(
        and_(sms.c.account == account, sms.c.region == region, sms.c.kind == kind)
    )
    if after is not None:
        stmt = stmt.where(sms.c.key > after)
    stmt = stmt.order_by(sms.c.key)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(r[0], r[1]) for r in conn.execute(stmt)]


def count_sms(conn: Connection, account: str, region: str, kind: str) -> int:
    count: int = conn.execute(
        select(func.count()).where(and_(sms.c.account == account, sms.c.region == region, sms.c.kind == kind))
    ).scalar_one()
    return count


def sms_attributes(conn: Connection, account: str, region: str) -> dict[str, str]:
    return dict(sms_rows(conn, account, region, ATTRIBUTE))


def put_sms_attributes(tx: Tx, account: str, region: str, attrs: dict[str, str]) -> None:
    for name, value in attrs.items():
        if value == "":
            delete_sms(tx, account, region, ATTRIBUTE, name)
        else:
            put_sms(tx, account, region, ATTRIBUTE, name, value)


def is_opted_out(conn: Connection, account: str, region: str, phone: str) -> bool:
    return get_sms(conn, account, region, OPTED_OUT, phone) is not None


def in_sandbox(conn: Connection, account: str, region: str) -> bool:
    return get_sms(conn, account, region, ACCOUNT, SANDBOX_KEY) == "true"
