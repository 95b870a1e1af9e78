"""AssumeRole and GetSessionToken: temporary credentials (broker/auth/temporary.py) for a role session or for the
caller itself.

AssumeRole needs the role in IAM (of the account its ARN names). With verified callers (auth = "sigv4") the role's
trust policy must allow the caller sts:AssumeRole (and sts:TagSession with session tags, sts:SetSourceIdentity
with a source identity), evaluated as a resource policy with the request's sts:ExternalId, sts:RoleSessionName,
sts:SourceIdentity and aws:RequestTag keys; a missing role and a refusal answer alike, as AWS does. With auth =
"none" any caller may name any account, so the trust policy is not evaluated. Session policies are checked and
sized but grant or restrict nothing (the broker evaluates no identity policies)."""

from __future__ import annotations

import math
import re
import zlib
from typing import Any

from broker.auth import resource_policy, temporary
from broker.context import RequestContext
from broker.identity import Identity
from broker.services.iam import errors as iam_errors
from broker.services.iam import policy_documents
from broker.services.iam import store as iam_store
from broker.services.sts import errors, sessions

ASSUME_ROLE_DEFAULT_S = 3600
CHAINED_MAX_S = 3600  # role chaining: a role session assuming a role
SESSION_TOKEN_DEFAULT_S = 43200
ROOT_SESSION_MAX_S = 3600  # GetSessionToken of an account's root: longer asks get one hour
POLICY_PLAINTEXT_MAX = 2048  # inline and managed session policies together (AssumeRole's Policy parameter)
# The packed form's capacity: AWS compresses session policies, policy ARNs and tags into a binary form whose limit
# it does not publish; this is the broker's estimate (zlib-compressed bytes), so PackedPolicySize is indicative.
PACKED_CAPACITY = 2048
_ARN = re.compile(r"arn:[^:]+:[^:]+:[^:]*:[^:]*:[^:]+")


async def assume_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    role_arn, session = p["RoleArn"], p["RoleSessionName"]
    if not _ARN.fullmatch(role_arn):
        raise errors.invalid_arn(role_arn)
    tags = p.get("Tags") or []
    _check_tags(tags, p.get("TransitiveTagKeys") or [])
    packed = _packed_size(p)
    caller = ctx.caller
    row = await ctx.env.db.read(iam_store.role_by_arn, role_arn)
    if row is None:
        raise errors.not_authorized(caller.arn, "sts:AssumeRole", role_arn)
    if ctx.authenticated:
        _check_trust(row["trust_policy"], caller, role_arn, p)
    duration = p.get("DurationSeconds", ASSUME_ROLE_DEFAULT_S)
    if sessions.is_role_session(caller) and duration > CHAINED_MAX_S:
        raise errors.exceeds_chaining_limit()
    if duration > row["max_session"]:
        raise errors.exceeds_max_session()
    identity = sessions.of_role(row, session)
    credentials = temporary.issue(ctx.env, identity, duration)
    out: dict[str, Any] = {
        "Credentials": credentials.output(),
        "AssumedRoleUser": {"AssumedRoleId": identity.principal_id, "Arn": identity.principal_arn},
    }
    if packed is not None:
        out["PackedPolicySize"] = packed
    if "SourceIdentity" in p:
        out["SourceIdentity"] = p["SourceIdentity"]
    return out


async def get_session_token(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.caller
    # Any temporary credentials, a role session's or GetSessionToken's own, cannot ask for more.
    if ctx.temporary or sessions.is_role_session(caller):
        raise errors.session_credentials("GetSessionToken")
    duration = p.get("DurationSeconds", SESSION_TOKEN_DEFAULT_S)
    if sessions.is_root(caller):
        duration = min(duration, ROOT_SESSION_MAX_S)
    return {"Credentials": temporary.issue(ctx.env, caller, duration).output()}


def _check_tags(tags: list[dict[str, str]], transitive: list[str]) -> None:
    keys = {tag["Key"].lower() for tag in tags}
    if len(keys) < len(tags):
        raise errors.duplicate_tag_keys()
    if any(key.lower() not in keys for key in transitive):
        raise errors.transitive_key_not_tagged()


def _packed_size(p: dict[str, Any]) -> int | None:
    """The percentage of the packed form the session policies and tags take (None: none passed); refuses a
    plaintext policy over 2,048 characters (MalformedPolicyDocument for one that is not a policy) and a packed
    form over 100%."""
    policy, arns, tags = p.get("Policy"), [a.get("arn", "") for a in p.get("PolicyArns") or []], p.get("Tags") or []
    if policy is None and not arns and not tags:
        return None
    plaintext = ""
    if policy is not None:
        if len(policy) > POLICY_PLAINTEXT_MAX:
            raise iam_errors.validation(
                [
                    f"Value '{iam_errors.shown(policy)}' at 'policy' failed to satisfy constraint: Member must have "
                    f"length less than or equal to {POLICY_PLAINTEXT_MAX}"
                ]
            )
        plaintext = policy_documents.identity_policy(policy)
    material = "\n".join([plaintext, *arns, *(f"{t['Key']}={t['Value']}" for t in tags)])
    percent = math.ceil(100 * len(zlib.compress(material.encode())) / PACKED_CAPACITY)
    if percent > 100:
        raise errors.packed_policy_too_large(percent)
    return percent


def _check_trust(policy: str, caller: Identity, role_arn: str, p: dict[str, Any]) -> None:
    """AccessDenied unless the trust policy allows the caller every action this request takes."""
    tags = p.get("Tags") or []
    context: dict[str, str | list[str]] = {
        "aws:PrincipalAccount": caller.account,
        "aws:PrincipalArn": resource_policy.principal_arn(caller),
        "aws:userid": caller.user_id,
        "sts:RoleSessionName": p["RoleSessionName"],
    }
    if not sessions.is_role_session(caller):
        context["aws:username"] = caller.user_name
    for key, name in (("ExternalId", "sts:ExternalId"), ("SourceIdentity", "sts:SourceIdentity")):
        if key in p:
            context[name] = p[key]
    if tags:
        context["aws:TagKeys"] = [t["Key"] for t in tags]
        context.update({f"aws:RequestTag/{t['Key']}": t["Value"] for t in tags})
    actions = ["sts:AssumeRole"]
    if tags:
        actions.append("sts:TagSession")
    if "SourceIdentity" in p:
        actions.append("sts:SetSourceIdentity")
    for action in actions:
        if not resource_policy.allows(policy, caller, action, role_arn, context):
            raise errors.not_authorized(caller.arn, action, role_arn)
