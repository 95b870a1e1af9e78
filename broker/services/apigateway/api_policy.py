"""A REST API's resource policy (its `policy`, as deployed) on the data plane. With auth = "sigv4" API Gateway's
authorization flow applies ("How API Gateway resource policies affect authorization workflow"): with no
authorization the policy must allow the (anonymous) caller; a Lambda authorizer's request is refused by the
policy's explicit Deny before the authorizer runs, and passes when the authorizer's policy or the resource policy
allows (table A); an AWS_IAM caller of the API's account passes unless explicitly denied (its identity policies,
which the broker does not evaluate, are taken to allow), one of another account only when the policy allows it
(table B). With auth = "none" the policy is kept but not enforced, as every resource policy of the broker."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from broker.auth.resource_policy import Decision, caller_keys, decide, time_keys
from broker.identity import Identity
from broker.services.apigateway.call import Call
from broker.services.apigateway.gateway_errors import GatewayError

INVOKE = "execute-api:Invoke"
SHORTHAND = "execute-api:"  # "execute-api:/<stage>/<verb>/<path>": a method of the API the policy is attached to
ANONYMOUS = Identity(account="", user_name="anonymous", principal_arn="anonymous")
# API Gateway's own answer to a request the resource policy refuses (capitalised, unlike its gateway responses),
# unless the API customised its ACCESS_DENIED (or DEFAULT_4XX) response.
TEMPLATE = {"application/json": '{"Message":$context.error.messageString}'}


def decision(call: Call, caller: Identity | None, arn: str) -> Decision | None:
    """What the deployed API's policy says of `caller` (None: an unsigned caller) invoking the method `arn`; None
    when no policy is enforced (auth = "none", or the API has none)."""
    if not call.env.settings.sigv4:
        return None
    policy = call.api.get("policy")
    text = _expanded(str(policy), f"arn:aws:execute-api:{call.region}:{call.account}:{call.api_id}") if policy else None
    if text is None:
        return None
    return decide(text, caller or ANONYMOUS, INVOKE, arn, _context(call, caller))


def check_iam(call: Call, caller: Identity, arn: str) -> None:
    """An AWS_IAM method's verified caller: refused by an explicit Deny, and, from another account, unless the
    policy allows it (an API without a policy grants other accounts nothing)."""
    verdict = decision(call, caller, arn)
    if verdict is Decision.DENY:
        raise refusal(caller, arn, explicit=True)
    if caller.account != call.account and verdict is not Decision.ALLOW:
        raise refusal(caller, arn, explicit=False)


def refusal(caller: Identity | None, arn: str, explicit: bool) -> GatewayError:
    """403 AccessDeniedException, as API Gateway words it: the method ARN with the account masked but its last
    four digits."""
    user = (caller or ANONYMOUS).arn
    text = f"User: {user} is not authorized to perform: {INVOKE} on resource: {_masked(arn)}"
    return GatewayError("ACCESS_DENIED", text + (" with an explicit deny" if explicit else ""), template=TEMPLATE)


def _masked(arn: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) == 6:
        parts[4] = "********" + parts[4][-4:]
    return ":".join(parts)


def _context(call: Call, caller: Identity | None) -> dict[str, str]:
    """The request's condition keys: the client's address, transport, agent and referer, the time, and for a
    signed caller who it is."""
    client = call.scope.get("client") or ("127.0.0.1", 0)
    keys = {
        "aws:SourceIp": str(client[0]),
        "aws:SecureTransport": "true" if call.scope.get("scheme") == "https" else "false",
        **time_keys(),
    }
    for key, name in (("aws:UserAgent", b"user-agent"), ("aws:Referer", b"referer")):
        if value := call.header(name):
            keys[key] = value
    if caller is not None:
        keys.update(caller_keys(caller))
    return keys


@lru_cache(maxsize=256)
def _expanded(policy: str, api_arn: str) -> str | None:
    """The policy with its shorthand resources ("execute-api:/*") as ARNs of this API (API Gateway stores them as
    written); None when it is no policy document."""
    try:
        doc = json.loads(policy)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    statements = doc.get("Statement")
    listed = statements if isinstance(statements, list) else [statements]
    for st in listed:
        if not isinstance(st, dict):
            continue
        for key in ("Resource", "NotResource"):
            if key in st:
                st[key] = _expand(st[key], api_arn)
    return json.dumps(doc)


def _expand(value: Any, api_arn: str) -> Any:
    if isinstance(value, str) and value.startswith(SHORTHAND):
        return api_arn + value[len(SHORTHAND) :]
    if isinstance(value, list):
        return [_expand(v, api_arn) for v in value]
    return value
