"""Who a caller is. With auth = "none" every caller is the IAM user `settings.user_name` of the request's account;
with auth = "sigv4" the verified key's owner (a configured key's user, an IAM user, an assumed-role session)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    account: str
    user_name: str
    # Set when the caller is not a plain user of the account (an assumed-role session:
    # arn:aws:sts::<account>:assumed-role/<role>/<session>) or when its id is stored (an IAM user's UserId, a role
    # session's "AROA...:<session>"); empty means derived from the user name.
    principal_arn: str = ""
    principal_id: str = ""

    @property
    def arn(self) -> str:
        return self.principal_arn or f"arn:aws:iam::{self.account}:user/{self.user_name}"

    @property
    def user_id(self) -> str:
        """An IAM user's unique id as AWS spells them ("AIDA" and 17 more of A-Z2-7), stable for the user."""
        if self.principal_id:
            return self.principal_id
        digest = hashlib.sha256(self.arn.encode()).digest()
        return "AIDA" + base64.b32encode(digest).decode()[:17]


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A key pair requests may be signed with (auth = "sigv4"), and who signing with it makes the caller."""

    access_key_id: str
    secret: str
    identity: Identity
    # A key from the configuration: a bootstrap administrator, who may also use /_broker/* and the console.
    admin: bool = False
