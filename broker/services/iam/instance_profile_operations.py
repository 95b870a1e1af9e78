"""IAM instance profile operations: profiles, the role each carries (at most one), tags."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.iam import listing, lookups, membership_store, names, store, tagging
from broker.services.iam.errors import instance_profile_exists, no_such_instance_profile
from broker.services.iam.role_operations import role_output
from broker.services.iam.store import Row
from broker.storage.tables import iam_instance_profiles


def profile_output(row: Row, roles: list[Row]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": row["path"],
        "InstanceProfileName": row["name"],
        "InstanceProfileId": row["profile_id"],
        "Arn": names.arn(row["account"], "instance-profile", row["path"], row["name"]),
        "CreateDate": clock.to_datetime(row["created_at"]),
        "Roles": [role_output(r, listed=True) for r in roles],
    }
    tags = tagging.load(row["tags"])
    if tags:
        out["Tags"] = tagging.output(tags)
    return out


async def _profile(ctx: RequestContext, name: str) -> Row:
    row = await ctx.env.db.read(store.get, iam_instance_profiles, ctx.account, name)
    if row is None:
        raise no_such_instance_profile(name)
    return row


async def _listed(ctx: RequestContext, rows: list[Row]) -> list[dict[str, Any]]:
    roles = await ctx.env.db.read(membership_store.profile_roles, [r["id"] for r in rows])
    return [profile_output(r, roles[r["id"]]) for r in rows]


async def _modify(ctx: RequestContext, name: str, change: store.Change) -> Row:
    return await ctx.env.db.write(
        store.modify, iam_instance_profiles, ctx.account, name, no_such_instance_profile, change
    )


async def create_instance_profile(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["InstanceProfileName"]
    row: Row = {
        "account": ctx.account,
        "name": name,
        "name_key": names.key(name),
        "path": p.get("Path", "/"),
        "profile_id": names.unique_id("AIPA"),
        "tags": tagging.dump(tagging.from_request(p.get("Tags"))),
        "created_at": clock.now_ms(),
    }
    if not await ctx.env.db.write(store.insert_row, iam_instance_profiles, row):
        raise instance_profile_exists(name)
    return {"InstanceProfile": profile_output(row, [])}


async def get_instance_profile(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _profile(ctx, p["InstanceProfileName"])
    return {"InstanceProfile": (await _listed(ctx, [row]))[0]}


async def delete_instance_profile(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["InstanceProfileName"]
    await ctx.env.db.write(store.delete_instance_profile, ctx.account, name, no_such_instance_profile)
    return {}


async def list_instance_profiles(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = listing.max_items(p)
    prefix, start = p.get("PathPrefix", "/"), listing.after(p)
    rows = await ctx.env.db.read(store.page, iam_instance_profiles, ctx.account, prefix, start, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return listing.result("InstanceProfiles", await _listed(ctx, rows), rows[-1]["name_key"] if more else None)


async def list_instance_profiles_for_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    role = await lookups.owner(ctx, "role", p["RoleName"])
    rows = await ctx.env.db.read(membership_store.profiles_of, role["id"])
    shown = await _listed(ctx, rows)
    return listing.positional("InstanceProfiles", shown, p, lambda r: r)


async def add_role_to_instance_profile(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.env.db.write(membership_store.add_role, ctx.account, p["InstanceProfileName"], p["RoleName"])
    return {}


async def remove_role_from_instance_profile(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.env.db.write(membership_store.remove_role, ctx.account, p["InstanceProfileName"], p["RoleName"])
    return {}


async def tag_instance_profile(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    new = tagging.from_request(p["Tags"])
    quota_name = "TagsPerInstanceProfile"
    await _modify(
        ctx,
        p["InstanceProfileName"],
        lambda row: {"tags": tagging.dump(tagging.added(tagging.load(row["tags"]), new, quota_name))},
    )
    return {}


async def untag_instance_profile(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    keys = p["TagKeys"]
    await _modify(
        ctx,
        p["InstanceProfileName"],
        lambda row: {"tags": tagging.dump(tagging.removed(tagging.load(row["tags"]), keys))},
    )
    return {}


async def list_instance_profile_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _profile(ctx, p["InstanceProfileName"])
    return listing.positional("Tags", tagging.load(row["tags"]), p, lambda t: {"Key": t[0], "Value": t[1]})


HANDLERS = {
    "CreateInstanceProfile": create_instance_profile,
    "GetInstanceProfile": get_instance_profile,
    "DeleteInstanceProfile": delete_instance_profile,
    "ListInstanceProfiles": list_instance_profiles,
    "ListInstanceProfilesForRole": list_instance_profiles_for_role,
    "AddRoleToInstanceProfile": add_role_to_instance_profile,
    "RemoveRoleFromInstanceProfile": remove_role_from_instance_profile,
    "TagInstanceProfile": tag_instance_profile,
    "UntagInstanceProfile": untag_instance_profile,
    "ListInstanceProfileTags": list_instance_profile_tags,
}
