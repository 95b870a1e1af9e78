"""What several operations resolve alike: policy ARNs (AWS managed or the account's own), permissions boundaries,
user names (the caller's by default), and the owners of policies (roles, users, groups)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Table

from broker import clock
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.iam import aws_policies, names, policy_store, store
from broker.services.iam.errors import (
    boundary_not_attachable,
    invalid_arn,
    no_such_group,
    no_such_role,
    no_such_user,
    policy_not_attachable,
)
from broker.services.iam.store import Row
from broker.storage.tables import iam_groups, iam_roles, iam_users

# What owns inline policies and attachments: kind -> (its table, its NoSuchEntity).
OWNERS: dict[str, tuple[Table, Callable[[str], ServiceError]]] = {
    "role": (iam_roles, no_such_role),
    "user": (iam_users, no_such_user),
    "group": (iam_groups, no_such_group),
}


def policy_arn(text: str) -> names.Arn:
    """The parts of a managed policy's ARN (InvalidInput when it is not one)."""
    parsed = names.parse(text)
    if parsed is None or parsed.kind != "policy":
        raise invalid_arn(text)
    return parsed


def attachable(ctx: RequestContext, text: str) -> names.Arn:
    """A policy ARN that may be attached from this account: AWS's (one the broker knows) or the account's own.
    Whether the account's own exists is checked where it is attached, in the same transaction."""
    arn = policy_arn(text)
    if arn.account == names.AWS_ACCOUNT:
        if aws_policies.get(text) is None:
            raise policy_not_attachable(text)
    elif arn.account != ctx.account:
        raise policy_not_attachable(text)
    return arn


async def check_boundary(ctx: RequestContext, text: str) -> None:
    """A permissions boundary must be an existing managed policy."""
    arn = policy_arn(text)
    if arn.account == names.AWS_ACCOUNT:
        found = aws_policies.get(text) is not None
    else:
        found = arn.account == ctx.account and await ctx.env.db.read(policy_store.policy, arn) is not None
    if not found:
        raise boundary_not_attachable(text)


async def user_name(ctx: RequestContext, name: str | None) -> str:
    """The user an operation names, by default the caller. The caller exists whether created or not (STS reports
    it): its row is made on first use, with the UserId STS reports."""
    caller = ctx.caller
    if name is None:
        name = caller.user_name
    if names.key(name) == names.key(caller.user_name):
        await ensure_caller(ctx)
    return name


async def ensure_caller(ctx: RequestContext) -> None:
    caller = ctx.caller
    if await ctx.env.db.read(store.get, iam_users, ctx.account, caller.user_name) is not None:
        return
    values = {
        "account": ctx.account,
        "name": caller.user_name,
        "name_key": names.key(caller.user_name),
        "path": "/",
        "user_id": caller.user_id,
        "boundary": None,
        "tags": "[]",
        "created_at": clock.now_ms(),
    }
    await ctx.env.db.write(store.ensure_user, values)


async def owner_name(ctx: RequestContext, kind: str, name: str) -> str:
    """The name of a policy owner, the caller's user made on first use."""
    return await user_name(ctx, name) if kind == "user" else name


async def owner(ctx: RequestContext, kind: str, name: str) -> Row:
    """The role, user or group an operation names (NoSuchEntity when there is none)."""
    name = await owner_name(ctx, kind, name)
    table, missing = OWNERS[kind]
    row = await ctx.env.db.read(store.get, table, ctx.account, name)
    if row is None:
        raise missing(name)
    return row
