"""Who a caller is. Until requests are authenticated against configured users, every caller is the IAM user
`settings.user_name` of the request's account: STS GetCallerIdentity and SNS's SubscriptionPrincipal say so alike."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    account: str
    user_name: str

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:user/{self.user_name}"

    @property
    def user_id(self) -> str:
        """An IAM user's unique id as AWS spells them ("AIDA" and 17 more of A-Z2-7), stable for the user."""
        digest = hashlib.sha256(self.arn.encode()).digest()
        return "AIDA" + base64.b32encode(digest).decode()[:17]
