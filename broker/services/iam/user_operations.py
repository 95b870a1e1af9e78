"""IAM user operations: users (the caller among them, whether created or not), their permissions boundaries, tags
and access keys."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.iam import listing, lookups, names, store, tagging
from broker.services.iam.errors import no_such_access_key, no_such_user, user_exists
from broker.services.iam.store import Row
from broker.storage.tables import iam_users

ACCESS_KEYS_PER_USER = 2


def user_arn(row: Row) -> str:
    return names.arn(row["account"], "user", row["path"], row["name"])


def user_output(row: Row, listed: bool = False) -> dict[str, Any]:
    """A user as IAM returns it; listings leave out the boundary and tags (as ListUsers does)."""
    out: dict[str, Any] = {
        "Path": row["path"],
        "UserName": row["name"],
        "UserId": row["user_id"],
        "Arn": user_arn(row),
        "CreateDate": clock.to_datetime(row["created_at"]),
    }
    if listed:
        return out
    if row["boundary"]:
        out["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": row["boundary"],
        }
    tags = tagging.load(row["tags"])
    if tags:
        out["Tags"] = tagging.output(tags)
    return out


async def user(ctx: RequestContext, name: str | None) -> Row:
    """The user an operation names (the caller without a name), or NoSuchEntity."""
    name = await lookups.user_name(ctx, name)
    row = await ctx.env.db.read(store.get, iam_users, ctx.account, name)
    if row is None:
        raise no_such_user(name)
    return row


async def _modify(ctx: RequestContext, name: str, change: store.Change) -> Row:
    name = await lookups.user_name(ctx, name)
    return await ctx.env.db.write(store.modify, iam_users, ctx.account, name, no_such_user, change)


# -- users -----------------------------------------------------------------------------------------------------------
async def create_user(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["UserName"]
    tags = tagging.from_request(p.get("Tags"))
    boundary = p.get("PermissionsBoundary")
    if boundary is not None:
        await lookups.check_boundary(ctx, boundary)
    caller = ctx.caller
    row: Row = {
        "account": ctx.account,
        "name": name,
        "name_key": names.key(name),
        "path": p.get("Path", "/"),
        # The caller's user keeps the UserId STS reports for it.
        "user_id": caller.user_id if names.key(name) == names.key(caller.user_name) else names.unique_id("AIDA"),
        "boundary": boundary,
        "tags": tagging.dump(tags),
        "created_at": clock.now_ms(),
    }
    if not await ctx.env.db.write(store.insert_row, iam_users, row):
        raise user_exists(name)
    return {"User": user_output(row)}


async def get_user(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"User": user_output(await user(ctx, p.get("UserName")))}


async def delete_user(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = await lookups.user_name(ctx, p["UserName"])
    await ctx.env.db.write(store.delete_user, ctx.account, name)
    return {}


async def list_users(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await lookups.ensure_caller(ctx)
    limit = listing.max_items(p)
    rows = await ctx.env.db.read(store.page, iam_users, ctx.account, p.get("PathPrefix", "/"), listing.after(p), limit)
    more = len(rows) > limit
    rows = rows[:limit]
    shown = [user_output(r, listed=True) for r in rows]
    return listing.result("Users", shown, rows[-1]["name_key"] if more else None)


async def update_user(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = await lookups.user_name(ctx, p["UserName"])
    new_name, new_path = p.get("NewUserName"), p.get("NewPath")
    await ctx.env.db.write(store.rename, iam_users, ctx.account, name, new_name, new_path, no_such_user, user_exists)
    return {}


async def put_user_permissions_boundary(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await user(ctx, p["UserName"])
    await lookups.check_boundary(ctx, p["PermissionsBoundary"])
    await _modify(ctx, p["UserName"], lambda row: {"boundary": p["PermissionsBoundary"]})
    return {}


async def delete_user_permissions_boundary(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _modify(ctx, p["UserName"], lambda row: {"boundary": None})
    return {}


async def tag_user(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    new = tagging.from_request(p["Tags"])
    await _modify(
        ctx,
        p["UserName"],
        lambda row: {"tags": tagging.dump(tagging.added(tagging.load(row["tags"]), new, "TagsPerUser"))},
    )
    return {}


async def untag_user(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    keys = p["TagKeys"]
    await _modify(
        ctx, p["UserName"], lambda row: {"tags": tagging.dump(tagging.removed(tagging.load(row["tags"]), keys))}
    )
    return {}


async def list_user_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await user(ctx, p["UserName"])
    return listing.positional("Tags", tagging.load(row["tags"]), p, lambda t: {"Key": t[0], "Value": t[1]})


# -- access keys -----------------------------------------------------------------------------------------------------
async def create_access_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = await lookups.user_name(ctx, p.get("UserName"))
    values: Row = {
        "key_id": names.unique_id("AKIA", 16),
        "secret": names.secret_access_key(),
        "status": "Active",
        "created_at": clock.now_ms(),
    }
    owner = await ctx.env.db.write(store.create_access_key, ctx.account, name, values, ACCESS_KEYS_PER_USER)
    key = {
        "UserName": owner["name"],
        "AccessKeyId": values["key_id"],
        "Status": values["status"],
        "SecretAccessKey": values["secret"],
        "CreateDate": clock.to_datetime(values["created_at"]),
    }
    return {"AccessKey": key}


async def list_access_keys(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    owner = await user(ctx, p.get("UserName"))
    keys = await ctx.env.db.read(store.access_keys, owner["id"])

    def shown(k: Row) -> dict[str, Any]:
        created = clock.to_datetime(k["created_at"])
        return {"UserName": owner["name"], "AccessKeyId": k["key_id"], "Status": k["status"], "CreateDate": created}

    return listing.positional("AccessKeyMetadata", keys, p, shown)


async def update_access_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    owner = await user(ctx, p.get("UserName"))
    await ctx.env.db.write(store.set_access_key_status, owner["id"], p["AccessKeyId"], p["Status"])
    return {}


async def delete_access_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    owner = await user(ctx, p.get("UserName"))
    await ctx.env.db.write(store.delete_access_key, owner["id"], p["AccessKeyId"])
    return {}


async def get_access_key_last_used(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    """Keys are never used against the broker (its requests are not authenticated): AWS's answer for an unused
    key."""
    owner = await ctx.env.db.read(store.access_key_owner, ctx.account, p["AccessKeyId"])
    if owner is None:
        raise no_such_access_key(p["AccessKeyId"])
    return {"UserName": owner, "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}


HANDLERS = {
    "CreateUser": create_user,
    "GetUser": get_user,
    "DeleteUser": delete_user,
    "ListUsers": list_users,
    "UpdateUser": update_user,
    "PutUserPermissionsBoundary": put_user_permissions_boundary,
    "DeleteUserPermissionsBoundary": delete_user_permissions_boundary,
    "TagUser": tag_user,
    "UntagUser": untag_user,
    "ListUserTags": list_user_tags,
    "CreateAccessKey": create_access_key,
    "ListAccessKeys": list_access_keys,
    "UpdateAccessKey": update_access_key,
    "DeleteAccessKey": delete_access_key,
    "GetAccessKeyLastUsed": get_access_key_last_used,
}
