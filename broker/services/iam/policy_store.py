"""SQL of customer managed policies and their versions, attachments of managed policies (customer or AWS) to roles
and users, and inline policies. Functions take a Tx (writes) or a Connection (reads); a write locks the rows it
reads and then changes on PostgreSQL (FOR UPDATE), as store.py does."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from broker.errors import ServiceError
from broker.services.iam import names, policy_documents, store
from broker.services.iam.errors import (
    default_version_delete,
    inline_policy_too_large,
    no_such_policy,
    no_such_policy_version,
    policy_attached,
    policy_has_versions,
    policy_not_attachable,
    quota,
    too_many_versions,
)
from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore, upsert
from broker.storage.tables import iam_attachments as at
from broker.storage.tables import iam_groups as groups
from broker.storage.tables import iam_inline_policies as ip
from broker.storage.tables import iam_policies as pol
from broker.storage.tables import iam_policy_versions as pv
from broker.storage.tables import iam_roles as roles
from broker.storage.tables import iam_users as users

Row = dict[str, Any]
MAX_VERSIONS = 5
OWNERS: dict[str, Table] = {"role": roles, "user": users, "group": groups}  # what an owner kind's ids are rows of


# -- customer managed policies ---------------------------------------------------------------------------------------
def policy(conn: Connection, arn: names.Arn) -> Row | None:
    """The customer managed policy an ARN names (its path included), or None."""
    stmt = select(pol).where(pol.c.account == arn.account, pol.c.name_key == names.key(arn.name))
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row is not None and row["path"] == arn.path and row["name"] == arn.name else None


def _locked_policy(tx: Tx, arn: names.Arn, text: str) -> Row:
    stmt = select(pol).where(pol.c.account == arn.account, pol.c.name_key == names.key(arn.name))
    row = tx.conn.execute(stmt.with_for_update()).mappings().first()
    if row is None or row["path"] != arn.path or row["name"] != arn.name:
        raise no_such_policy(text)
    return dict(row)


def policies(conn: Connection, account: str) -> list[Row]:
    return [dict(r) for r in conn.execute(select(pol).where(pol.c.account == account)).mappings()]


def create_policy(tx: Tx, values: Row, document: str) -> Row | None:
    """Insert a policy and its version v1; None when the name is taken (in any case)."""
    pk = _insert_policy(tx, values)
    if pk is None:
        return None
    tx.conn.execute(insert(pv).values(policy_id=pk, version=1, document=document, created_at=values["created_at"]))
    return {**values, "id": pk}


def _insert_policy(tx: Tx, values: Row) -> int | None:
    if insert_ignore(tx.conn, pol, values) == 0:
        return None
    stmt = select(pol.c.id).where(pol.c.account == values["account"], pol.c.name_key == values["name_key"])
    return int(tx.conn.execute(stmt).scalar_one())


def delete_policy(tx: Tx, arn: names.Arn, text: str) -> None:
    row = _locked_policy(tx, arn, text)
    if attachment_counts(tx.conn, arn.account, [text]).get(text):
        raise policy_attached()
    count = tx.conn.execute(select(func.count()).select_from(pv).where(pv.c.policy_id == row["id"])).scalar_one()
    if count > 1:
        raise policy_has_versions()
    tx.conn.execute(delete(pv).where(pv.c.policy_id == row["id"]))
    tx.conn.execute(delete(pol).where(pol.c.id == row["id"]))


def set_policy_tags(tx: Tx, arn: names.Arn, text: str, change: Callable[[Row], str]) -> None:
    row = _locked_policy(tx, arn, text)
    tx.conn.execute(update(pol).where(pol.c.id == row["id"]).values(tags=change(row)))


# -- versions --------------------------------------------------------------------------------------------------------
def versions(conn: Connection, policy_pk: int) -> list[Row]:
    """A policy's versions, newest first."""
    stmt = select(pv).where(pv.c.policy_id == policy_pk).order_by(pv.c.version.desc())
    return [dict(r) for r in conn.execute(stmt).mappings()]


def version(conn: Connection, policy_pk: int, number: int) -> Row | None:
    row = conn.execute(select(pv).where(pv.c.policy_id == policy_pk, pv.c.version == number)).mappings().first()
    return dict(row) if row else None


def create_version(tx: Tx, arn: names.Arn, text: str, document: str, set_default: bool, now: int) -> tuple[Row, int]:
    """Add a version (at most 5 per policy); (the policy as it is now, the new version's number)."""
    row = _locked_policy(tx, arn, text)
    count = tx.conn.execute(select(func.count()).select_from(pv).where(pv.c.policy_id == row["id"])).scalar_one()
    if count >= MAX_VERSIONS:
        raise too_many_versions()
    number = row["next_version"]
    tx.conn.execute(insert(pv).values(policy_id=row["id"], version=number, document=document, created_at=now))
    values: Row = {"next_version": number + 1, "updated_at": now}
    if set_default:
        values["default_version"] = number
    tx.conn.execute(update(pol).where(pol.c.id == row["id"]).values(**values))
    return {**row, **values}, number


def delete_version(tx: Tx, arn: names.Arn, text: str, number: int, label: str) -> None:
    row = _locked_policy(tx, arn, text)
    if number == row["default_version"]:
        raise default_version_delete()
    done = tx.conn.execute(delete(pv).where(pv.c.policy_id == row["id"], pv.c.version == number))
    if done.rowcount == 0:
        raise no_such_policy_version(text, label)
    newest = select(func.max(pv.c.created_at)).where(pv.c.policy_id == row["id"]).scalar_subquery()
    tx.conn.execute(update(pol).where(pol.c.id == row["id"]).values(updated_at=newest))


def set_default_version(tx: Tx, arn: names.Arn, text: str, number: int, label: str) -> None:
    row = _locked_policy(tx, arn, text)
    if version(tx.conn, row["id"], number) is None:
        raise no_such_policy_version(text, label)
    tx.conn.execute(update(pol).where(pol.c.id == row["id"]).values(default_version=number))


# -- attachments -----------------------------------------------------------------------------------------------------
def attachment_counts(conn: Connection, account: str, arns: Iterable[str]) -> dict[str, int]:
    wanted = list(arns)
    if not wanted:
        return {}
    stmt = select(at.c.policy_arn, func.count()).where(at.c.account == account, at.c.policy_arn.in_(wanted))
    return {arn: n for arn, n in conn.execute(stmt.group_by(at.c.policy_arn))}


def boundary_counts(conn: Connection, account: str, arns: Iterable[str]) -> dict[str, int]:
    wanted = list(arns)
    counts: dict[str, int] = {}
    if not wanted:
        return counts
    for table in (roles, users):
        stmt = select(table.c.boundary, func.count()).where(table.c.account == account, table.c.boundary.in_(wanted))
        for arn, n in conn.execute(stmt.group_by(table.c.boundary)):
            counts[arn] = counts.get(arn, 0) + n
    return counts


def entities(conn: Connection, account: str, arn: str, usage: str | None) -> list[tuple[str, Row]]:
    """(kind, row) of the groups, users and roles using a policy: as a permissions policy (attached) and/or as a
    permissions boundary, by `usage` (None: either); each kind in name order."""
    out: list[tuple[str, Row]] = []
    for kind in ("group", "user", "role"):
        table = OWNERS[kind]
        found: dict[int, Row] = {}
        if usage in (None, "PermissionsPolicy"):
            stmt = select(table).join(at, (at.c.owner_id == table.c.id) & (at.c.kind == kind))
            for row in conn.execute(stmt.where(at.c.account == account, at.c.policy_arn == arn)).mappings():
                found[row["id"]] = dict(row)
        if usage in (None, "PermissionsBoundary") and kind != "group":
            stmt = select(table).where(table.c.account == account, table.c.boundary == arn)
            for row in conn.execute(stmt).mappings():
                found[row["id"]] = dict(row)
        out += [(kind, row) for row in sorted(found.values(), key=lambda r: r["name_key"])]
    return out


def attached_arns(conn: Connection, account: str) -> set[str]:
    return set(conn.execute(select(at.c.policy_arn).where(at.c.account == account).distinct()).scalars())


def attachments(conn: Connection, kind: str, owner_pk: int) -> list[str]:
    """The policy ARNs attached to a role or user, in the order they were attached."""
    stmt = select(at.c.policy_arn).where(at.c.kind == kind, at.c.owner_id == owner_pk)
    return list(conn.execute(stmt.order_by(at.c.attached_at, at.c.policy_arn)).scalars())


def attach(
    tx: Tx,
    kind: str,
    account: str,
    owner_name: str,
    missing: Callable[[str], ServiceError],
    arn: names.Arn,
    text: str,
    limit: int,
    now: int,
) -> None:
    """Attach a managed policy to a role or user (idempotent; at most `limit` per owner). A customer policy must
    exist in the same transaction, so a concurrent DeletePolicy cannot leave a dangling attachment."""
    owner = store.locked(tx, OWNERS[kind], account, owner_name, missing)
    if arn.account != names.AWS_ACCOUNT and policy(tx.conn, arn) is None:
        raise policy_not_attachable(text)
    attached = attachments(tx.conn, kind, owner["id"])
    if text in attached:
        return
    if len(attached) >= limit:
        raise quota(f"PoliciesPer{kind.capitalize()}", limit)
    values = {"kind": kind, "owner_id": owner["id"], "policy_arn": text, "account": account, "attached_at": now}
    tx.conn.execute(insert(at).values(**values))


def detach(tx: Tx, kind: str, account: str, owner_name: str, missing: Callable[[str], ServiceError], text: str) -> None:
    owner = store.locked(tx, OWNERS[kind], account, owner_name, missing)
    stmt = delete(at).where(at.c.kind == kind, at.c.owner_id == owner["id"], at.c.policy_arn == text)
    if tx.conn.execute(stmt).rowcount == 0:
        raise no_such_policy(text)


# -- inline policies -------------------------------------------------------------------------------------------------
def inline_names(conn: Connection, kind: str, owner_pk: int) -> list[str]:
    stmt = select(ip.c.name).where(ip.c.kind == kind, ip.c.owner_id == owner_pk).order_by(ip.c.name)
    return list(conn.execute(stmt).scalars())


def inline_document(conn: Connection, kind: str, owner_pk: int, name: str) -> str | None:
    stmt = select(ip.c.document).where(ip.c.kind == kind, ip.c.owner_id == owner_pk, ip.c.name == name)
    return conn.execute(stmt).scalar()


def put_inline(
    tx: Tx,
    kind: str,
    account: str,
    owner_name: str,
    missing: Callable[[str], ServiceError],
    name: str,
    document: str,
    limit: int,
) -> None:
    """Add or replace an inline policy; the sizes of all of an owner's inline policies count against `limit`."""
    owner = store.locked(tx, OWNERS[kind], account, owner_name, missing)
    stmt = select(ip.c.document).where(ip.c.kind == kind, ip.c.owner_id == owner["id"], ip.c.name != name)
    total = policy_documents.size(document) + sum(policy_documents.size(d) for d in tx.conn.execute(stmt).scalars())
    if total > limit:
        raise inline_policy_too_large(limit, kind, owner["name"])
    values = {"kind": kind, "owner_id": owner["id"], "name": name, "document": document}
    upsert(tx.conn, ip, values, ["kind", "owner_id", "name"])


def delete_inline(tx: Tx, kind: str, owner_pk: int, name: str) -> bool:
    stmt = delete(ip).where(ip.c.kind == kind, ip.c.owner_id == owner_pk, ip.c.name == name)
    return bool(tx.conn.execute(stmt).rowcount)
