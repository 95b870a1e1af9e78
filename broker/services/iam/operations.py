"""The handler table of IAM: every served operation by its model name (the rest answer NotImplemented)."""

from __future__ import annotations

from broker.protocol.spec import Handler
from broker.services.iam import (
    group_operations,
    inline_operations,
    instance_profile_operations,
    policy_operations,
    role_operations,
    user_operations,
)

HANDLERS: dict[str, Handler] = {
    **role_operations.HANDLERS,
    **instance_profile_operations.HANDLERS,
    **group_operations.HANDLERS,
    **inline_operations.HANDLERS,
    **policy_operations.HANDLERS,
    **user_operations.HANDLERS,
}
