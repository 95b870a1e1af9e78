"""STS operations that answer who a caller or a key is; the handler table of every served operation."""

from __future__ import annotations

from typing import Any

from broker.auth import keys, temporary
from broker.context import RequestContext
from broker.protocol.spec import Handler
from broker.services.sts import session_operations


async def get_caller_identity(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.caller
    return {"UserId": caller.user_id, "Account": caller.account, "Arn": caller.arn}


async def get_access_key_info(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    """The account of a key: temporary credentials' from the key id (as AWS decodes it); a configured or IAM key's
    from its owner; any other key acts in the default account (auth = "none")."""
    key_id = p["AccessKeyId"]
    account = temporary.key_account(key_id) if key_id.startswith(temporary.PREFIX) else None
    if account is None:
        key = await keys.find_key(ctx.env, key_id, None)
        account = key.identity.account if key is not None else ctx.env.settings.default_account
    return {"Account": account}


HANDLERS: dict[str, Handler] = {
    "AssumeRole": session_operations.assume_role,
    "GetAccessKeyInfo": get_access_key_info,
    "GetCallerIdentity": get_caller_identity,
    "GetSessionToken": session_operations.get_session_token,
}
