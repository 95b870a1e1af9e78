"""IAM managed policy operations: customer managed policies and their versions, AWS managed policies (read-only,
from the data table), attaching both to roles and users, and policy tags."""

from __future__ import annotations

import re
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.iam import aws_policies, listing, lookups, names, policy_documents, policy_store, tagging
from broker.services.iam.aws_policies import AwsManagedPolicy
from broker.services.iam.errors import (
    aws_managed_policy,
    no_such_policy,
    no_such_policy_version,
    policy_exists,
    quota,
)
from broker.services.iam.store import Row

POLICY_SIZE_LIMIT = 6144  # PolicySize, characters other than whitespace
ATTACHED_PER_OWNER = 10  # PoliciesPerRole / PoliciesPerUser (AWS's default quota)
_VERSION = re.compile(r"v([1-9][0-9]*)")
MAX_VERSION_NUMBER = 2**31 - 1  # the column's range: larger numbers name no version


def _document(text: str) -> str:
    document = policy_documents.identity_policy(text)
    if policy_documents.size(document) > POLICY_SIZE_LIMIT:
        raise quota("PolicySize", POLICY_SIZE_LIMIT)
    return document


def _version_number(label: str) -> int | None:
    """The number of "v3" (None for versions IAM never hands out, such as "v1.a")."""
    m = _VERSION.fullmatch(label)
    number = int(m.group(1)) if m else None
    return number if number is not None and number <= MAX_VERSION_NUMBER else None


def _customer_output(row: Row, attachments: int, boundaries: int, listed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": row["name"],
        "PolicyId": row["policy_id"],
        "Arn": names.arn(row["account"], "policy", row["path"], row["name"]),
        "Path": row["path"],
        "DefaultVersionId": f"v{row['default_version']}",
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundaries,
        "IsAttachable": True,
        "CreateDate": clock.to_datetime(row["created_at"]),
        "UpdateDate": clock.to_datetime(row["updated_at"]),
    }
    if not listed:
        out["Description"] = row["description"]
        tags = tagging.load(row["tags"])
        if tags:
            out["Tags"] = tagging.output(tags)
    return out


def _aws_output(policy: AwsManagedPolicy, attachments: int, boundaries: int, listed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": f"v{policy.version}",
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundaries,
        "IsAttachable": True,
        "CreateDate": clock.to_datetime(policy.created_ms),
        "UpdateDate": clock.to_datetime(policy.updated_ms),
    }
    if not listed:
        out["Description"] = policy.description
    return out


async def _customer_policy(ctx: RequestContext, text: str) -> tuple[names.Arn, Row]:
    """The account's own policy an ARN names (NoSuchEntity "was not found"; AWS managed ones cannot be changed)."""
    arn = lookups.policy_arn(text)
    if arn.account == names.AWS_ACCOUNT:
        if aws_policies.get(text) is None:
            raise no_such_policy(text)
        raise aws_managed_policy(text)
    row = await ctx.env.db.read(policy_store.policy, arn) if arn.account == ctx.account else None
    if row is None:
        raise no_such_policy(text)
    return arn, row


def _version_output(document: str, number: int, default: int, created_ms: int) -> dict[str, Any]:
    return {
        "Document": policy_documents.encoded(document),
        "VersionId": f"v{number}",
        "IsDefaultVersion": number == default,
        "CreateDate": clock.to_datetime(created_ms),
    }


# -- policies --------------------------------------------------------------------------------------------------------
async def create_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["PolicyName"]
    document = _document(p["PolicyDocument"])
    tags = tagging.from_request(p.get("Tags"))
    now = clock.now_ms()
    values: Row = {
        "account": ctx.account,
        "name": name,
        "name_key": names.key(name),
        "path": p.get("Path", "/"),
        "policy_id": names.unique_id("ANPA"),
        "description": p.get("Description"),
        "default_version": 1,
        "next_version": 2,
        "tags": tagging.dump(tags),
        "created_at": now,
        "updated_at": now,
    }
    row = await ctx.env.db.write(policy_store.create_policy, values, document)
    if row is None:
        raise policy_exists(name)
    out = _customer_output(row, 0, 0, listed=True)  # CreatePolicy answers without the description
    if tags:
        out["Tags"] = tagging.output(tags)
    return {"Policy": out}


async def get_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    text = p["PolicyArn"]
    arn = lookups.policy_arn(text)
    db = ctx.env.db
    aws = aws_policies.get(text) if arn.account == names.AWS_ACCOUNT else None
    row = await db.read(policy_store.policy, arn) if arn.account == ctx.account else None
    if aws is None and row is None:
        raise no_such_policy(text)
    attached = (await db.read(policy_store.attachment_counts, ctx.account, [text])).get(text, 0)
    bounded = (await db.read(policy_store.boundary_counts, ctx.account, [text])).get(text, 0)
    if aws is not None:
        return {"Policy": _aws_output(aws, attached, bounded, listed=False)}
    assert row is not None
    return {"Policy": _customer_output(row, attached, bounded, listed=False)}


async def delete_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn, _ = await _customer_policy(ctx, p["PolicyArn"])
    await ctx.env.db.write(policy_store.delete_policy, arn, p["PolicyArn"])
    return {}


async def list_policies(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    scope = p.get("Scope", "All")
    prefix = p.get("PathPrefix", "/")
    db = ctx.env.db
    entries: list[tuple[str, str, AwsManagedPolicy | Row]] = []  # (sort key, arn, policy)
    if scope in ("All", "AWS"):
        entries += [(f"{a.name.lower()}\0{a.arn}", a.arn, a) for a in aws_policies.all_policies()]
    if scope in ("All", "Local"):
        for row in await db.read(policy_store.policies, ctx.account):
            arn = names.arn(row["account"], "policy", row["path"], row["name"])
            entries.append((f"{row['name_key']}\0{arn}", arn, row))
    entries = [e for e in entries if _path(e[2]).startswith(prefix)]
    arns = [e[1] for e in entries]
    attached = await db.read(policy_store.attachment_counts, ctx.account, arns)
    bounded = await db.read(policy_store.boundary_counts, ctx.account, arns)
    if p.get("OnlyAttached"):
        entries = [e for e in entries if attached.get(e[1])]
    entries.sort(key=lambda e: e[0])

    def shown(entry: tuple[str, str, AwsManagedPolicy | Row]) -> dict[str, Any]:
        _, arn, policy = entry
        counts = (attached.get(arn, 0), bounded.get(arn, 0))
        if isinstance(policy, AwsManagedPolicy):
            return _aws_output(policy, *counts, listed=True)
        return _customer_output(policy, *counts, listed=True)

    return listing.page("Policies", entries, p, lambda e: e[0], shown)


def _path(policy: AwsManagedPolicy | Row) -> str:
    return policy.path if isinstance(policy, AwsManagedPolicy) else str(policy["path"])


# -- versions --------------------------------------------------------------------------------------------------------
async def create_policy_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    text = p["PolicyArn"]
    arn, _ = await _customer_policy(ctx, text)
    document = _document(p["PolicyDocument"])
    now = clock.now_ms()
    row, number = await ctx.env.db.write(
        policy_store.create_version, arn, text, document, bool(p.get("SetAsDefault")), now
    )
    out = _version_output(document, number, row["default_version"], now)
    del out["Document"]  # CreatePolicyVersion answers without the document
    return {"PolicyVersion": out}


async def get_policy_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    text, label = p["PolicyArn"], p["VersionId"]
    arn = lookups.policy_arn(text)
    number = _version_number(label)
    if arn.account == names.AWS_ACCOUNT:
        aws = aws_policies.get(text)
        if aws is None:
            raise no_such_policy(text)
        if number != aws.version:
            raise no_such_policy_version(text, label)
        return {"PolicyVersion": _version_output(aws.document, aws.version, aws.version, aws.updated_ms)}
    _, row = await _customer_policy(ctx, text)
    found = await ctx.env.db.read(policy_store.version, row["id"], number) if number is not None else None
    if found is None:
        raise no_such_policy_version(text, label)
    return {
        "PolicyVersion": _version_output(found["document"], number or 0, row["default_version"], found["created_at"])
    }


async def list_policy_versions(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    text = p["PolicyArn"]
    arn = lookups.policy_arn(text)
    if arn.account == names.AWS_ACCOUNT:
        aws = aws_policies.get(text)
        if aws is None:
            raise no_such_policy(text)
        only = {
            "VersionId": f"v{aws.version}",
            "IsDefaultVersion": True,
            "CreateDate": clock.to_datetime(aws.updated_ms),
        }
        return listing.positional("Versions", [only], p, lambda v: v)
    _, row = await _customer_policy(ctx, text)
    found = await ctx.env.db.read(policy_store.versions, row["id"])

    def shown(v: Row) -> dict[str, Any]:
        out = _version_output(v["document"], v["version"], row["default_version"], v["created_at"])
        del out["Document"]  # listed without their documents, as AWS does
        return out

    return listing.positional("Versions", found, p, shown)


async def delete_policy_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    text, label = p["PolicyArn"], p["VersionId"]
    arn, _ = await _customer_policy(ctx, text)
    number = _version_number(label)
    if number is None:
        raise no_such_policy_version(text, label)
    await ctx.env.db.write(policy_store.delete_version, arn, text, number, label)
    return {}


async def set_default_policy_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    text, label = p["PolicyArn"], p["VersionId"]
    arn, _ = await _customer_policy(ctx, text)
    number = _version_number(label)
    if number is None:
        raise no_such_policy_version(text, label)
    await ctx.env.db.write(policy_store.set_default_version, arn, text, number, label)
    return {}


async def list_entities_for_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    text = p["PolicyArn"]
    arn = lookups.policy_arn(text)
    aws = arn.account == names.AWS_ACCOUNT
    if aws:
        found = aws_policies.get(text) is not None
    else:
        found = arn.account == ctx.account and await ctx.env.db.read(policy_store.policy, arn) is not None
    if not found:
        raise no_such_policy(text)
    kinds = {"Group": {"group"}, "User": {"user"}, "Role": {"role"}, "LocalManagedPolicy": set() if aws else None}
    kinds["AWSManagedPolicy"] = None if aws else set()
    wanted = kinds.get(p.get("EntityFilter", ""))  # None: every kind
    prefix = p.get("PathPrefix", "/")
    rows = await ctx.env.db.read(policy_store.entities, ctx.account, text, p.get("PolicyUsageFilter"))
    rows = [(k, r) for k, r in rows if (wanted is None or k in wanted) and r["path"].startswith(prefix)]
    page = listing.positional("Entities", rows, p, lambda e: e)
    out: dict[str, Any] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
    for kind, row in page.pop("Entities"):
        ident = {"group": "group_id", "user": "user_id", "role": "role_id"}[kind]
        title = kind.capitalize()
        out[f"Policy{title}s"].append({f"{title}Name": row["name"], f"{title}Id": row[ident]})
    return {**out, **page}


# -- tags ------------------------------------------------------------------------------------------------------------
async def tag_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    text = p["PolicyArn"]
    arn, _ = await _customer_policy(ctx, text)
    new = tagging.from_request(p["Tags"])
    change = lambda row: tagging.dump(tagging.added(tagging.load(row["tags"]), new, "TagsPerPolicy"))  # noqa: E731
    await ctx.env.db.write(policy_store.set_policy_tags, arn, text, change)
    return {}


async def untag_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    text = p["PolicyArn"]
    arn, _ = await _customer_policy(ctx, text)
    keys = p["TagKeys"]
    change = lambda row: tagging.dump(tagging.removed(tagging.load(row["tags"]), keys))  # noqa: E731
    await ctx.env.db.write(policy_store.set_policy_tags, arn, text, change)
    return {}


async def list_policy_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _, row = await _customer_policy(ctx, p["PolicyArn"])
    return listing.positional("Tags", tagging.load(row["tags"]), p, lambda t: {"Key": t[0], "Value": t[1]})


# -- attachments -----------------------------------------------------------------------------------------------------
async def _attach(ctx: RequestContext, kind: str, owner: str, text: str) -> dict[str, Any]:
    arn = lookups.attachable(ctx, text)
    owner = await lookups.owner_name(ctx, kind, owner)
    missing = lookups.OWNERS[kind][1]
    await ctx.env.db.write(
        policy_store.attach, kind, ctx.account, owner, missing, arn, text, ATTACHED_PER_OWNER, clock.now_ms()
    )
    return {}


async def _detach(ctx: RequestContext, kind: str, owner: str, text: str) -> dict[str, Any]:
    lookups.policy_arn(text)
    owner = await lookups.owner_name(ctx, kind, owner)
    await ctx.env.db.write(policy_store.detach, kind, ctx.account, owner, lookups.OWNERS[kind][1], text)
    return {}


async def _list_attached(ctx: RequestContext, kind: str, owner_name: str, p: dict[str, Any]) -> dict[str, Any]:
    owner = await lookups.owner(ctx, kind, owner_name)
    prefix = p.get("PathPrefix", "/")
    arns = await ctx.env.db.read(policy_store.attachments, kind, owner["id"])
    arns = [a for a in arns if _arn_path(a).startswith(prefix)]
    return listing.positional(
        "AttachedPolicies", arns, p, lambda a: {"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a}
    )


def _arn_path(text: str) -> str:
    parsed = names.parse(text)
    return parsed.path if parsed else "/"


async def attach_role_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _attach(ctx, "role", p["RoleName"], p["PolicyArn"])


async def detach_role_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _detach(ctx, "role", p["RoleName"], p["PolicyArn"])


async def list_attached_role_policies(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _list_attached(ctx, "role", p["RoleName"], p)


async def attach_user_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _attach(ctx, "user", p["UserName"], p["PolicyArn"])


async def detach_user_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _detach(ctx, "user", p["UserName"], p["PolicyArn"])


async def list_attached_user_policies(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _list_attached(ctx, "user", p["UserName"], p)


async def attach_group_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _attach(ctx, "group", p["GroupName"], p["PolicyArn"])


async def detach_group_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _detach(ctx, "group", p["GroupName"], p["PolicyArn"])


async def list_attached_group_policies(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _list_attached(ctx, "group", p["GroupName"], p)


HANDLERS = {
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "DeletePolicy": delete_policy,
    "ListPolicies": list_policies,
    "CreatePolicyVersion": create_policy_version,
    "GetPolicyVersion": get_policy_version,
    "ListPolicyVersions": list_policy_versions,
    "DeletePolicyVersion": delete_policy_version,
    "SetDefaultPolicyVersion": set_default_policy_version,
    "ListEntitiesForPolicy": list_entities_for_policy,
    "TagPolicy": tag_policy,
    "UntagPolicy": untag_policy,
    "ListPolicyTags": list_policy_tags,
    "AttachRolePolicy": attach_role_policy,
    "DetachRolePolicy": detach_role_policy,
    "ListAttachedRolePolicies": list_attached_role_policies,
    "AttachUserPolicy": attach_user_policy,
    "DetachUserPolicy": detach_user_policy,
    "ListAttachedUserPolicies": list_attached_user_policies,
    "AttachGroupPolicy": attach_group_policy,
    "DetachGroupPolicy": detach_group_policy,
    "ListAttachedGroupPolicies": list_attached_group_policies,
}
