"""SQL of who belongs where: users in groups, roles in instance profiles (one role each, as AWS allows). A write
locks both rows it joins on PostgreSQL, as store.py does."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from broker.services.iam import store
from broker.services.iam.errors import no_such_group, no_such_instance_profile, no_such_role, no_such_user, quota
from broker.storage.db import Tx
from broker.storage.tables import iam_group_members as gm
from broker.storage.tables import iam_groups as groups
from broker.storage.tables import iam_instance_profile_roles as ipr
from broker.storage.tables import iam_instance_profiles as profiles
from broker.storage.tables import iam_roles as roles
from broker.storage.tables import iam_users as users

Row = dict[str, Any]
GROUPS_PER_USER = 10
ROLES_PER_PROFILE = 1


# -- groups ----------------------------------------------------------------------------------------------------------
def add_user(tx: Tx, account: str, group: str, user: str, now: int) -> None:
    g = store.locked(tx, groups, account, group, no_such_group)
    u = store.locked(tx, users, account, user, no_such_user)
    member_of = select(gm.c.group_pk).where(gm.c.user_pk == u["id"])
    joined = list(tx.conn.execute(member_of).scalars())
    if g["id"] in joined:
        return
    if len(joined) >= GROUPS_PER_USER:
        raise quota("GroupsPerUser", GROUPS_PER_USER)
    tx.conn.execute(insert(gm).values(group_pk=g["id"], user_pk=u["id"], added_at=now))


def remove_user(tx: Tx, account: str, group: str, user: str) -> None:
    g = store.locked(tx, groups, account, group, no_such_group)
    u = store.locked(tx, users, account, user, no_such_user)
    if tx.conn.execute(delete(gm).where(gm.c.group_pk == g["id"], gm.c.user_pk == u["id"])).rowcount == 0:
        raise no_such_user(user)


def members(conn: Connection, group_pk: int) -> list[Row]:
    """A group's users, in name order."""
    stmt = select(users).join(gm, gm.c.user_pk == users.c.id).where(gm.c.group_pk == group_pk)
    return [dict(r) for r in conn.execute(stmt.order_by(users.c.name_key)).mappings()]


def groups_of(conn: Connection, user_pk: int) -> list[Row]:
    """A user's groups, in name order."""
    stmt = select(groups).join(gm, gm.c.group_pk == groups.c.id).where(gm.c.user_pk == user_pk)
    return [dict(r) for r in conn.execute(stmt.order_by(groups.c.name_key)).mappings()]


# -- instance profiles -----------------------------------------------------------------------------------------------
def add_role(tx: Tx, account: str, profile: str, role: str) -> None:
    p = store.locked(tx, profiles, account, profile, no_such_instance_profile)
    r = store.locked(tx, roles, account, role, no_such_role)
    count = tx.conn.execute(select(func.count()).select_from(ipr).where(ipr.c.profile_pk == p["id"])).scalar_one()
    if count >= ROLES_PER_PROFILE:
        raise quota("InstanceSessionsPerInstanceProfile", ROLES_PER_PROFILE)
    tx.conn.execute(insert(ipr).values(profile_pk=p["id"], role_pk=r["id"]))


def remove_role(tx: Tx, account: str, profile: str, role: str) -> None:
    p = store.locked(tx, profiles, account, profile, no_such_instance_profile)
    r = store.locked(tx, roles, account, role, no_such_role)
    if tx.conn.execute(delete(ipr).where(ipr.c.profile_pk == p["id"], ipr.c.role_pk == r["id"])).rowcount == 0:
        raise no_such_role(role)


def profile_roles(conn: Connection, profile_pks: list[int]) -> dict[int, list[Row]]:
    """The roles of each instance profile."""
    out: dict[int, list[Row]] = {pk: [] for pk in profile_pks}
    if not profile_pks:
        return out
    stmt = select(ipr.c.profile_pk, roles).join(roles, roles.c.id == ipr.c.role_pk)
    for row in conn.execute(stmt.where(ipr.c.profile_pk.in_(profile_pks)).order_by(roles.c.name_key)).mappings():
        values = dict(row)
        out[values.pop("profile_pk")].append(values)
    return out


def profiles_of(conn: Connection, role_pk: int) -> list[Row]:
    stmt = select(profiles).join(ipr, ipr.c.profile_pk == profiles.c.id).where(ipr.c.role_pk == role_pk)
    return [dict(r) for r in conn.execute(stmt.order_by(profiles.c.name_key)).mappings()]
