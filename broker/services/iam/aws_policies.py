"""AWS managed policies as the operations see them: looked up by ARN, listed, with their one (default) version."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from broker import clock
from broker.services.iam import names
from broker.services.iam.aws_managed import POLICIES, AwsPolicy


@dataclass(frozen=True, slots=True)
class AwsManagedPolicy:
    name: str
    path: str
    arn: str
    policy_id: str
    version: int  # the default version's number
    created_ms: int
    updated_ms: int
    description: str
    document: str


def _ms(text: str) -> int:
    return clock.to_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _policy(data: AwsPolicy) -> AwsManagedPolicy:
    digest = hashlib.sha256(f"aws-managed-policy:{data['name']}".encode()).digest()
    return AwsManagedPolicy(
        name=data["name"],
        path=data["path"],
        arn=names.arn(names.AWS_ACCOUNT, "policy", data["path"], data["name"]),
        policy_id="ANPA" + base64.b32encode(digest).decode()[:17],
        version=int(data["version"][1:]),
        created_ms=_ms(data["created"]),
        updated_ms=_ms(data["updated"]),
        description=data["description"],
        document=json.dumps(data["document"], indent=4),
    )


@cache
def by_arn() -> dict[str, AwsManagedPolicy]:
    return {p.arn: p for p in map(_policy, POLICIES)}


def get(arn: str) -> AwsManagedPolicy | None:
    return by_arn().get(arn)


def all_policies() -> list[AwsManagedPolicy]:
    return list(by_arn().values())
