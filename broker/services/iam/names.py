"""IAM's identifiers: ARNs (global, no region: arn:aws:iam::<account>:role/<path><name>), unique ids ("AROA" and 17
more characters for a role, "AIDA" a user, "ANPA" a managed policy, "AKIA" and 16 an access key), and names, which
IAM compares without regard to case."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass

AWS_ACCOUNT = "aws"  # the owner of AWS managed policies: arn:aws:iam::aws:policy/...
_ID_CHARS = string.ascii_uppercase + string.digits
_SECRET_CHARS = string.ascii_letters + string.digits + "+/"
_ARN = re.compile(r"arn:aws:iam::(\d{12}|aws):(role|user|policy|group|instance-profile)(/(?:.*/)?)([^/]+)")


def unique_id(prefix: str, length: int = 17) -> str:
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(length))


def secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_CHARS) for _ in range(40))


def key(name: str) -> str:
    """The form a name is unique in: IAM names differ only if they differ in more than case."""
    return name.lower()


def arn(account: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


@dataclass(frozen=True, slots=True)
class Arn:
    account: str
    kind: str
    path: str
    name: str


def parse(text: str) -> Arn | None:
    """The parts of an IAM ARN (role, user, policy, ...), or None when it is not one."""
    m = _ARN.fullmatch(text)
    if m is None:
        return None
    return Arn(m.group(1), m.group(2), m.group(3), m.group(4))
