"""SQL of IAM roles, users, groups, instance profiles and access keys (managed and inline policies:
policy_store.py; group members and instance profile roles: membership_store.py). Functions take a Tx
(writes, on the writer thread) or a Connection (reads). Rows a write reads and then changes are locked on
PostgreSQL (FOR UPDATE; SQLite has one writer), so concurrent changes to one role or user never lose each other.

`role_exists` and `role_by_arn` are what other services (Lambda's optional strict role check, STS's role
sessions) call through `db.read`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from broker.auth.keys import key_changed
from broker.errors import ServiceError
from broker.services.iam import names
from broker.services.iam.errors import (
    must_delete_access_keys,
    must_delete_inline_policies,
    must_detach_policies,
    must_remove_roles,
    must_remove_users,
    no_such_access_key,
    no_such_user,
    quota,
)
from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore
from broker.storage.tables import iam_access_keys as ak
from broker.storage.tables import iam_attachments as at
from broker.storage.tables import iam_group_members as gm
from broker.storage.tables import iam_groups as groups
from broker.storage.tables import iam_inline_policies as ip
from broker.storage.tables import iam_instance_profile_roles as ipr
from broker.storage.tables import iam_instance_profiles as profiles
from broker.storage.tables import iam_roles as roles
from broker.storage.tables import iam_users as users

Row = dict[str, Any]  # a table row as a plain dict (column name -> value)
Change = Callable[[Row], Row]  # the column values to change, from the locked row


def role_exists(conn: Connection, account: str, role_arn: str) -> bool:
    """True if `role_arn` names an existing role. The role is looked up in the account its ARN names, which need
    not be the caller's `account` (a role of another account exists all the same)."""
    return role_by_arn(conn, role_arn) is not None


def role_by_arn(conn: Connection, role_arn: str) -> Row | None:
    """The role `role_arn` names, in the account the ARN names (STS AssumeRole, role sessions)."""
    parsed = names.parse(role_arn)
    if parsed is None or parsed.kind != "role":
        return None
    row = get(conn, roles, parsed.account, parsed.name)
    return row if row is not None and row["path"] == parsed.path else None


# -- roles, users, groups and instance profiles alike ---------------------------------------------------------
def get(conn: Connection, table: Table, account: str, name: str) -> Row | None:
    stmt = select(table).where(table.c.account == account, table.c.name_key == names.key(name))
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def locked(tx: Tx, table: Table, account: str, name: str, missing: Callable[[str], ServiceError]) -> Row:
    stmt = select(table).where(table.c.account == account, table.c.name_key == names.key(name)).with_for_update()
    row = tx.conn.execute(stmt).mappings().first()
    if row is None:
        raise missing(name)
    return dict(row)


def insert_row(tx: Tx, table: Table, values: Row) -> bool:
    """Insert a role or user; False when the name is taken (in any case)."""
    return insert_ignore(tx.conn, table, values) == 1


def modify(
    tx: Tx, table: Table, account: str, name: str, missing: Callable[[str], ServiceError], change: Change
) -> Row:
    """Apply `change` to the locked row of a role or user; the row as it is afterwards."""
    row = locked(tx, table, account, name, missing)
    values = change(row)
    if values:
        tx.conn.execute(update(table).where(table.c.id == row["id"]).values(**values))
    return {**row, **values}


def page(conn: Connection, table: Table, account: str, path_prefix: str, after: str | None, limit: int) -> list[Row]:
    """Up to limit + 1 roles or users in name order (case-insensitive), after the name key `after`."""
    stmt = select(table).where(table.c.account == account)
    if path_prefix != "/":
        stmt = stmt.where(table.c.path.startswith(path_prefix, autoescape=True))
    if after is not None:
        stmt = stmt.where(table.c.name_key > after)
    return [dict(r) for r in conn.execute(stmt.order_by(table.c.name_key).limit(limit + 1)).mappings()]


def delete_role(tx: Tx, account: str, name: str, missing: Callable[[str], ServiceError]) -> None:
    row = locked(tx, roles, account, name, missing)
    _check_unattached(tx.conn, "role", row["id"])
    if tx.conn.execute(select(ipr.c.profile_pk).where(ipr.c.role_pk == row["id"]).limit(1)).first():
        raise must_remove_roles()
    tx.conn.execute(delete(roles).where(roles.c.id == row["id"]))


def delete_group(tx: Tx, account: str, name: str, missing: Callable[[str], ServiceError]) -> None:
    row = locked(tx, groups, account, name, missing)
    if tx.conn.execute(select(gm.c.user_pk).where(gm.c.group_pk == row["id"]).limit(1)).first():
        raise must_remove_users()
    _check_unattached(tx.conn, "group", row["id"])
    tx.conn.execute(delete(groups).where(groups.c.id == row["id"]))


def delete_instance_profile(tx: Tx, account: str, name: str, missing: Callable[[str], ServiceError]) -> None:
    row = locked(tx, profiles, account, name, missing)
    if tx.conn.execute(select(ipr.c.role_pk).where(ipr.c.profile_pk == row["id"]).limit(1)).first():
        raise must_remove_roles()
    tx.conn.execute(delete(profiles).where(profiles.c.id == row["id"]))


def _check_unattached(conn: Connection, kind: str, owner: int) -> None:
    if conn.execute(select(ip.c.name).where(ip.c.kind == kind, ip.c.owner_id == owner).limit(1)).first():
        raise must_delete_inline_policies()
    if conn.execute(select(at.c.policy_arn).where(at.c.kind == kind, at.c.owner_id == owner).limit(1)).first():
        raise must_detach_policies()


# -- users -----------------------------------------------------------------------------------------------------------
def ensure_user(tx: Tx, values: Row) -> None:
    """Create a user unless one of its name exists (the caller, whom STS reports whether created or not)."""
    insert_ignore(tx.conn, users, values)


def delete_user(tx: Tx, account: str, name: str) -> None:
    row = locked(tx, users, account, name, no_such_user)
    if tx.conn.execute(select(ak.c.key_id).where(ak.c.user_pk == row["id"]).limit(1)).first():
        raise must_delete_access_keys()
    _check_unattached(tx.conn, "user", row["id"])
    if tx.conn.execute(select(gm.c.group_pk).where(gm.c.user_pk == row["id"]).limit(1)).first():
        raise must_remove_users()
    tx.conn.execute(delete(users).where(users.c.id == row["id"]))


def rename(
    tx: Tx,
    table: Table,
    account: str,
    name: str,
    new_name: str | None,
    new_path: str | None,
    missing: Callable[[str], ServiceError],
    taken: Callable[[str], ServiceError],
) -> None:
    """UpdateUser / UpdateGroup: a new name (free in any case, or the same in another case) and path."""
    row = locked(tx, table, account, name, missing)
    values: Row = {}
    if new_name is not None:
        other = get(tx.conn, table, account, new_name)
        if other is not None and other["id"] != row["id"]:
            raise taken(new_name)
        values.update(name=new_name, name_key=names.key(new_name))
    if new_path is not None:
        values["path"] = new_path
    if values:
        tx.conn.execute(update(table).where(table.c.id == row["id"]).values(**values))
        if table is users:  # the user's keys now sign as another name or ARN
            _user_keys_changed(tx, row["id"])


# -- access keys -----------------------------------------------------------------------------------------------------
def create_access_key(tx: Tx, account: str, user_name: str, values: Row, limit: int) -> Row:
    """Add an access key to a user (at most `limit` each); the user's row."""
    user = locked(tx, users, account, user_name, no_such_user)
    count = tx.conn.execute(select(func.count()).select_from(ak).where(ak.c.user_pk == user["id"])).scalar_one()
    if count >= limit:
        raise quota("AccessKeysPerUser", limit)
    tx.conn.execute(insert(ak).values(**values, account=account, user_pk=user["id"]))
    tx.wake(key_changed(values["key_id"]))  # a worker that just found it missing forgets that
    return user


def access_keys(conn: Connection, user_pk: int) -> list[Row]:
    stmt = select(ak).where(ak.c.user_pk == user_pk).order_by(ak.c.created_at, ak.c.key_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def set_access_key_status(tx: Tx, user_pk: int, key_id: str, status: str) -> None:
    done = tx.conn.execute(update(ak).where(ak.c.key_id == key_id, ak.c.user_pk == user_pk).values(status=status))
    if done.rowcount == 0:
        raise no_such_access_key(key_id)
    tx.wake(key_changed(key_id))  # an Inactive key fails on the next request, in every process and node


def delete_access_key(tx: Tx, user_pk: int, key_id: str) -> None:
    done = tx.conn.execute(delete(ak).where(ak.c.key_id == key_id, ak.c.user_pk == user_pk))
    if done.rowcount == 0:
        raise no_such_access_key(key_id)
    tx.wake(key_changed(key_id))


def _user_keys_changed(tx: Tx, user_pk: int) -> None:
    for key_id in tx.conn.execute(select(ak.c.key_id).where(ak.c.user_pk == user_pk)).scalars():
        tx.wake(key_changed(key_id))


def signing_key(conn: Connection, key_id: str) -> Row | None:
    """An access key with its user's account, name, path and id (auth = "sigv4"), by the key's primary key."""
    stmt = (
        select(ak.c.secret, ak.c.status, ak.c.account, users.c.name.label("user_name"), users.c.path, users.c.user_id)
        .join(users, users.c.id == ak.c.user_pk)
        .where(ak.c.key_id == key_id)
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def access_key_owner(conn: Connection, account: str, key_id: str) -> str | None:
    """The name of the user an access key of this account belongs to."""
    stmt = select(users.c.name).join(ak, ak.c.user_pk == users.c.id).where(ak.c.key_id == key_id)
    return conn.execute(stmt.where(ak.c.account == account)).scalar()
