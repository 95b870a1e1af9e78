"""Who temporary credentials act as: an assumed-role session (arn:aws:sts::<account>:assumed-role/<role>/<session>,
id "<RoleId>:<session>", as AWS names them), or an account's root. Used by AssumeRole, by Lambda for a function's
execution role (the session is the function's name) and by the broker's loopback calls (API Gateway credentials
roles, Scheduler target roles)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from broker.identity import Identity
from broker.services.base import Env
from broker.services.iam import names
from broker.services.iam import store as iam_store


def root(account: str) -> Identity:
    """The account's root user (GetCallerIdentity: UserId = the account id)."""
    return Identity(account, "root", principal_arn=f"arn:aws:iam::{account}:root", principal_id=account)


def assumed_role(account: str, role_name: str, role_id: str, session: str) -> Identity:
    # The ARN names the role without its path, as AWS's do.
    arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}"
    return Identity(account, session, principal_arn=arn, principal_id=f"{role_id}:{session}")


def of_role(row: dict[str, Any], session: str) -> Identity:
    """A session of the role of IAM row `row`."""
    return assumed_role(row["account"], row["name"], row["role_id"], session)


def is_role_session(identity: Identity) -> bool:
    return ":assumed-role/" in identity.principal_arn


def is_root(identity: Identity) -> bool:
    return identity.principal_arn == f"arn:aws:iam::{identity.account}:root"


async def role_session(env: Env, role_arn: str, session: str) -> Identity | None:
    """A session of the role `role_arn` names; a role IAM does not hold (Lambda and integrations do not require it
    unless configured to) gets a role id derived from its ARN. None: not a role ARN."""
    row = await env.db.read(iam_store.role_by_arn, role_arn)
    if row is not None:
        return of_role(row, session)
    parsed = names.parse(role_arn)
    if parsed is None or parsed.kind != "role" or not parsed.account.isdigit():
        return None
    digest = hashlib.sha256(role_arn.encode()).digest()
    return assumed_role(parsed.account, parsed.name, "AROA" + base64.b32encode(digest).decode()[:17], session)
