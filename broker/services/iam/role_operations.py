"""IAM role operations: roles, their trust policies, descriptions, session durations, permissions boundaries and
tags."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.iam import listing, lookups, names, policy_documents, store, tagging
from broker.services.iam.errors import no_such_role, quota, role_exists
from broker.services.iam.store import Row
from broker.storage.tables import iam_roles

TRUST_POLICY_LIMIT = 2048  # ACLSizePerRole, characters other than whitespace
DEFAULT_MAX_SESSION = 3600


def role_arn(row: Row) -> str:
    return names.arn(row["account"], "role", row["path"], row["name"])


def role_output(row: Row, listed: bool = False, last_used: bool = True) -> dict[str, Any]:
    """A role as IAM returns it; listings leave out the boundary, tags and last use (as ListRoles does)."""
    out: dict[str, Any] = {
        "Path": row["path"],
        "RoleName": row["name"],
        "RoleId": row["role_id"],
        "Arn": role_arn(row),
        "CreateDate": clock.to_datetime(row["created_at"]),
        "AssumeRolePolicyDocument": policy_documents.encoded(row["trust_policy"]),
        "Description": row["description"],
        "MaxSessionDuration": row["max_session"],
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
    if last_used:
        out["RoleLastUsed"] = {}
    return out


def _trust_policy(text: str) -> str:
    document = policy_documents.trust_policy(text)
    if policy_documents.size(document) > TRUST_POLICY_LIMIT:
        raise quota("ACLSizePerRole", TRUST_POLICY_LIMIT)
    return document


async def _role(ctx: RequestContext, name: str) -> Row:
    row = await ctx.env.db.read(store.get, iam_roles, ctx.account, name)
    if row is None:
        raise no_such_role(name)
    return row


async def _modify(ctx: RequestContext, name: str, change: store.Change) -> Row:
    return await ctx.env.db.write(store.modify, iam_roles, ctx.account, name, no_such_role, change)


# -- operations ------------------------------------------------------------------------------------------------------
async def create_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["RoleName"]
    document = _trust_policy(p["AssumeRolePolicyDocument"])
    tags = tagging.from_request(p.get("Tags"))
    boundary = p.get("PermissionsBoundary")
    if boundary is not None:
        await lookups.check_boundary(ctx, boundary)
    row: Row = {
        "account": ctx.account,
        "name": name,
        "name_key": names.key(name),
        "path": p.get("Path", "/"),
        "role_id": names.unique_id("AROA"),
        "trust_policy": document,
        "description": p.get("Description"),
        "max_session": p.get("MaxSessionDuration", DEFAULT_MAX_SESSION),
        "boundary": boundary,
        "tags": tagging.dump(tags),
        "created_at": clock.now_ms(),
    }
    if not await ctx.env.db.write(store.insert_row, iam_roles, row):
        raise role_exists(name)
    return {"Role": role_output(row, last_used=False)}


async def get_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"Role": role_output(await _role(ctx, p["RoleName"]))}


async def delete_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.env.db.write(store.delete_role, ctx.account, p["RoleName"], no_such_role)
    return {}


async def list_roles(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = listing.max_items(p)
    rows = await ctx.env.db.read(store.page, iam_roles, ctx.account, p.get("PathPrefix", "/"), listing.after(p), limit)
    more = len(rows) > limit
    rows = rows[:limit]
    shown = [role_output(r, listed=True) for r in rows]
    return listing.result("Roles", shown, rows[-1]["name_key"] if more else None)


async def update_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    values: Row = {}
    if "Description" in p:
        values["description"] = p["Description"]
    if "MaxSessionDuration" in p:
        values["max_session"] = p["MaxSessionDuration"]
    await _modify(ctx, p["RoleName"], lambda row: values)
    return {}


async def update_role_description(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _modify(ctx, p["RoleName"], lambda row: {"description": p["Description"]})
    return {"Role": role_output(row)}


async def update_assume_role_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    document = _trust_policy(p["PolicyDocument"])
    await _modify(ctx, p["RoleName"], lambda row: {"trust_policy": document})
    return {}


async def put_role_permissions_boundary(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _role(ctx, p["RoleName"])
    await lookups.check_boundary(ctx, p["PermissionsBoundary"])
    await _modify(ctx, p["RoleName"], lambda row: {"boundary": p["PermissionsBoundary"]})
    return {}


async def delete_role_permissions_boundary(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _modify(ctx, p["RoleName"], lambda row: {"boundary": None})
    return {}


async def tag_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    new = tagging.from_request(p["Tags"])
    await _modify(
        ctx,
        p["RoleName"],
        lambda row: {"tags": tagging.dump(tagging.added(tagging.load(row["tags"]), new, "TagsPerRole"))},
    )
    return {}


async def untag_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    keys = p["TagKeys"]
    await _modify(
        ctx, p["RoleName"], lambda row: {"tags": tagging.dump(tagging.removed(tagging.load(row["tags"]), keys))}
    )
    return {}


async def list_role_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _role(ctx, p["RoleName"])
    return listing.positional("Tags", tagging.load(row["tags"]), p, lambda t: {"Key": t[0], "Value": t[1]})


HANDLERS = {
    "CreateRole": create_role,
    "GetRole": get_role,
    "DeleteRole": delete_role,
    "ListRoles": list_roles,
    "UpdateRole": update_role,
    "UpdateRoleDescription": update_role_description,
    "UpdateAssumeRolePolicy": update_assume_role_policy,
    "PutRolePermissionsBoundary": put_role_permissions_boundary,
    "DeleteRolePermissionsBoundary": delete_role_permissions_boundary,
    "TagRole": tag_role,
    "UntagRole": untag_role,
    "ListRoleTags": list_role_tags,
}
