"""IAM inline policy operations of roles, users and groups: Put, Get, Delete and List{Role,User,Group}Policies."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext
from broker.services.iam import listing, lookups, policy_documents, policy_store
from broker.services.iam.errors import no_such_inline_policy

# Characters other than whitespace of all of an owner's inline policies together (AWS's quotas).
SIZE_LIMITS = {"role": 10240, "user": 2048, "group": 5120}


async def _put(ctx: RequestContext, kind: str, owner: str, p: dict[str, Any]) -> dict[str, Any]:
    document = policy_documents.identity_policy(p["PolicyDocument"])
    missing = lookups.OWNERS[kind][1]
    owner = await lookups.owner_name(ctx, kind, owner)
    await ctx.env.db.write(
        policy_store.put_inline, kind, ctx.account, owner, missing, p["PolicyName"], document, SIZE_LIMITS[kind]
    )
    return {}


async def _get(ctx: RequestContext, kind: str, owner_name: str, name: str) -> dict[str, Any]:
    owner = await lookups.owner(ctx, kind, owner_name)
    document = await ctx.env.db.read(policy_store.inline_document, kind, owner["id"], name)
    if document is None:
        raise no_such_inline_policy(kind, name)
    return {
        f"{kind.capitalize()}Name": owner["name"],
        "PolicyName": name,
        "PolicyDocument": policy_documents.encoded(document),
    }


async def _delete(ctx: RequestContext, kind: str, owner_name: str, name: str) -> dict[str, Any]:
    owner = await lookups.owner(ctx, kind, owner_name)
    if not await ctx.env.db.write(policy_store.delete_inline, kind, owner["id"], name):
        raise no_such_inline_policy(kind, name)
    return {}


async def _list(ctx: RequestContext, kind: str, owner_name: str, p: dict[str, Any]) -> dict[str, Any]:
    owner = await lookups.owner(ctx, kind, owner_name)
    found = await ctx.env.db.read(policy_store.inline_names, kind, owner["id"])
    return listing.page("PolicyNames", found, p, lambda n: n, lambda n: n)


async def put_role_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _put(ctx, "role", p["RoleName"], p)


async def get_role_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _get(ctx, "role", p["RoleName"], p["PolicyName"])


async def delete_role_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _delete(ctx, "role", p["RoleName"], p["PolicyName"])


async def list_role_policies(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _list(ctx, "role", p["RoleName"], p)


async def put_user_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _put(ctx, "user", p["UserName"], p)


async def get_user_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _get(ctx, "user", p["UserName"], p["PolicyName"])


async def delete_user_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _delete(ctx, "user", p["UserName"], p["PolicyName"])


async def list_user_policies(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _list(ctx, "user", p["UserName"], p)


async def put_group_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _put(ctx, "group", p["GroupName"], p)


async def get_group_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _get(ctx, "group", p["GroupName"], p["PolicyName"])


async def delete_group_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _delete(ctx, "group", p["GroupName"], p["PolicyName"])


async def list_group_policies(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _list(ctx, "group", p["GroupName"], p)


HANDLERS = {
    "PutRolePolicy": put_role_policy,
    "GetRolePolicy": get_role_policy,
    "DeleteRolePolicy": delete_role_policy,
    "ListRolePolicies": list_role_policies,
    "PutUserPolicy": put_user_policy,
    "GetUserPolicy": get_user_policy,
    "DeleteUserPolicy": delete_user_policy,
    "ListUserPolicies": list_user_policies,
    "PutGroupPolicy": put_group_policy,
    "GetGroupPolicy": get_group_policy,
    "DeleteGroupPolicy": delete_group_policy,
    "ListGroupPolicies": list_group_policies,
}
