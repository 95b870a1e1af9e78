"""IAM group operations: groups and their members (inline and attached policies of groups are with those of roles
and users)."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.iam import listing, lookups, membership_store, names, store
from broker.services.iam.errors import group_exists, no_such_group
from broker.services.iam.store import Row
from broker.services.iam.user_operations import user, user_output
from broker.storage.tables import iam_groups


def group_output(row: Row) -> dict[str, Any]:
    return {
        "Path": row["path"],
        "GroupName": row["name"],
        "GroupId": row["group_id"],
        "Arn": names.arn(row["account"], "group", row["path"], row["name"]),
        "CreateDate": clock.to_datetime(row["created_at"]),
    }


async def create_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["GroupName"]
    row: Row = {
        "account": ctx.account,
        "name": name,
        "name_key": names.key(name),
        "path": p.get("Path", "/"),
        "group_id": names.unique_id("AGPA"),
        "created_at": clock.now_ms(),
    }
    if not await ctx.env.db.write(store.insert_row, iam_groups, row):
        raise group_exists(name)
    return {"Group": group_output(row)}


async def get_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    """The group and a page of its users."""
    group = await lookups.owner(ctx, "group", p["GroupName"])
    found = await ctx.env.db.read(membership_store.members, group["id"])
    page = listing.positional("Users", found, p, lambda u: user_output(u, listed=True))
    return {"Group": group_output(group), **page}


async def delete_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.env.db.write(store.delete_group, ctx.account, p["GroupName"], no_such_group)
    return {}


async def list_groups(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = listing.max_items(p)
    rows = await ctx.env.db.read(store.page, iam_groups, ctx.account, p.get("PathPrefix", "/"), listing.after(p), limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return listing.result("Groups", [group_output(r) for r in rows], rows[-1]["name_key"] if more else None)


async def update_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    new_name, new_path = p.get("NewGroupName"), p.get("NewPath")
    await ctx.env.db.write(
        store.rename, iam_groups, ctx.account, p["GroupName"], new_name, new_path, no_such_group, group_exists
    )
    return {}


async def add_user_to_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = await lookups.user_name(ctx, p["UserName"])
    await ctx.env.db.write(membership_store.add_user, ctx.account, p["GroupName"], name, clock.now_ms())
    return {}


async def remove_user_from_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = await lookups.user_name(ctx, p["UserName"])
    await ctx.env.db.write(membership_store.remove_user, ctx.account, p["GroupName"], name)
    return {}


async def list_groups_for_user(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    owner = await user(ctx, p["UserName"])
    found = await ctx.env.db.read(membership_store.groups_of, owner["id"])
    return listing.positional("Groups", found, p, group_output)


HANDLERS = {
    "CreateGroup": create_group,
    "GetGroup": get_group,
    "DeleteGroup": delete_group,
    "ListGroups": list_groups,
    "UpdateGroup": update_group,
    "AddUserToGroup": add_user_to_group,
    "RemoveUserFromGroup": remove_user_from_group,
    "ListGroupsForUser": list_groups_for_user,
}
