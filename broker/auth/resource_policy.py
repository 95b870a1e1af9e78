"""AWS's evaluation of a resource-based policy (an SQS queue policy, an SNS topic policy, a Lambda function policy,
an EventBridge bus policy) for one request: does it explicitly deny, allow, or say nothing?

What IAM's policy-evaluation logic says of resource policies: an explicit Deny in any matching statement wins; else
an Allow grants; else the request is implicitly denied. Across accounts, the resource policy must allow; within
the owner's account, only its explicit Deny matters here (the broker evaluates no identity policies). The policy
grammar follows the IAM JSON policy reference: Principal/NotPrincipal, Action/NotAction (case-insensitive, with *
and ? wildcards), Resource/NotResource (case-sensitive wildcards), and Condition blocks over the context keys the
service passes (key names case-insensitive), with ...IfExists, ForAnyValue:/ForAllValues: and Null.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.identity import Identity

# A context value: one string, or several for a multi-valued key (aws:TagKeys); one string is never split.
ContextValue = str | Sequence[str]
Context = Mapping[str, ContextValue]


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"  # an explicit Deny statement matched
    NONE = "none"  # no statement matched: implicitly denied


def allows(
    policy_json: str | None,
    caller: Identity,
    action: str,
    resource_arn: str,
    context: Context | None = None,
) -> bool:
    """Whether the policy grants `caller` the `action` ("sqs:SendMessage") on `resource_arn`: some Allow statement
    matches and no Deny statement does. No policy, or one that does not parse, allows nothing."""
    return decide(policy_json, caller, action, resource_arn, context) is Decision.ALLOW


def decide(
    policy_json: str | None,
    caller: Identity,
    action: str,
    resource_arn: str,
    context: Context | None = None,
) -> Decision:
    statements = _statements(policy_json) if policy_json else ()
    keys = {k.lower(): v for k, v in (context or {}).items()}
    allowed = False
    for st in statements:
        if not _applies(st, caller, action, resource_arn, keys):
            continue
        if st.get("Effect") == "Deny":
            return Decision.DENY
        if st.get("Effect") == "Allow":
            allowed = True
    return Decision.ALLOW if allowed else Decision.NONE


def denial(
    ctx: RequestContext,
    owner: str,
    policy_json: str | None,
    action: str,
    resource_arn: str,
    context: Context | None = None,
) -> str | None:
    """Why this request may not act on a resource of account `owner` with this resource policy (IAM's reason
    clause), or None when it may. With auth = "none" it always may (any caller names any account); a verified caller
    of the owner's account may unless the policy explicitly denies it, one of another account only when the policy
    allows it."""
    if not ctx.authenticated:
        return None
    caller = ctx.caller
    if not policy_json:
        return no_grant(action) if caller.account != owner else None
    full = {**caller_keys(caller), **time_keys(), **(context or {})}
    decision = decide(policy_json, caller, action, resource_arn, full)
    if decision is Decision.DENY:
        return "with an explicit deny in a resource-based policy"
    if decision is Decision.NONE and caller.account != owner:
        return no_grant(action)
    return None


def no_grant(action: str) -> str:
    """IAM's reason when no statement allows a caller of another account."""
    return f"because no resource-based policy allows the {action} action"


def not_authorized(caller: Identity, action: str, resource_arn: str, reason: str) -> str:
    """IAM's access-denied message, as SNS, SQS and Lambda send it."""
    return f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource_arn} {reason}"


def crosses(ctx: RequestContext, owner: str) -> bool:
    """Whether a verified caller names a resource of another account (what needs a resource policy's grant)."""
    return ctx.authenticated and ctx.caller.account != owner


# --- statements -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _statements(policy_json: str) -> tuple[dict[str, Any], ...]:
    """The statements of a policy document, parsed once per distinct text (policies are read on every request)."""
    try:
        doc = json.loads(policy_json)
    except ValueError:
        return ()
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return ()
    return tuple(st for st in statements if isinstance(st, dict))


def _applies(st: dict[str, Any], caller: Identity, action: str, resource: str, keys: Mapping[str, Any]) -> bool:
    if "Principal" in st:
        if not _principal_matches(st["Principal"], caller, keys):
            return False
    elif "NotPrincipal" in st and _principal_matches(st["NotPrincipal"], caller, keys):
        return False
    if "Action" in st:
        if not any(_action_matches(a, action) for a in _strings(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(_action_matches(a, action) for a in _strings(st["NotAction"])):
            return False
    else:
        return False  # a statement must name its actions
    if "Resource" in st:
        if not any(_wildcard(r).fullmatch(resource) for r in _strings(st["Resource"])):
            return False
    elif "NotResource" in st and any(_wildcard(r).fullmatch(resource) for r in _strings(st["NotResource"])):
        return False
    condition = st.get("Condition")
    return condition is None or _conditions_hold(condition, keys)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


# --- principals -------------------------------------------------------------------------------------------------

_ASSUMED = re.compile(r"^arn:aws:sts::(\d{12}):assumed-role/([^/]+)/[^/]+$")


def principal_arn(caller: Identity) -> str:
    """aws:PrincipalArn: for an assumed-role session, the role's ARN (as IAM puts it in the request context; the
    session ARN does not keep the role's path)."""
    m = _ASSUMED.match(caller.arn)
    return f"arn:aws:iam::{m.group(1)}:role/{m.group(2)}" if m else caller.arn


def caller_keys(caller: Identity) -> dict[str, str]:
    """The condition keys of a verified caller: aws:PrincipalAccount, aws:PrincipalArn, aws:username, aws:userid."""
    return {
        "aws:PrincipalAccount": caller.account,
        "aws:PrincipalArn": principal_arn(caller),
        "aws:username": caller.user_name,
        "aws:userid": caller.user_id,
    }


def time_keys() -> dict[str, str]:
    """aws:CurrentTime and aws:EpochTime, by the broker's clock."""
    now = clock.now_ms()
    return {"aws:CurrentTime": clock.to_datetime(now).strftime("%Y-%m-%dT%H:%M:%SZ"), "aws:EpochTime": str(now // 1000)}


def _principal_matches(principal: Any, caller: Identity, keys: Mapping[str, Any]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if any(_aws_principal_matches(p, caller) for p in _strings(principal.get("AWS"))):
        return True
    service = keys.get("aws:principalservicename")
    return isinstance(service, str) and service in _strings(principal.get("Service"))


def _aws_principal_matches(name: str, caller: Identity) -> bool:
    """An "AWS" principal: "*", an account id or its root ARN (any principal of that account), a user or role ARN
    (that user; that role's sessions), or an assumed-role session ARN."""
    if name == "*":
        return True
    if name in (caller.account, f"arn:aws:iam::{caller.account}:root"):
        return True
    return name in (caller.arn, principal_arn(caller))


# --- actions and resources --------------------------------------------------------------------------------------


@lru_cache(maxsize=2048)
def _wildcard(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A policy pattern with * (any run) and ? (one character) as a regular expression."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _action_matches(pattern: str, action: str) -> bool:
    # IAM action names (service prefix and operation) are case-insensitive.
    return _wildcard(pattern, True).fullmatch(action) is not None


# --- conditions -------------------------------------------------------------------------------------------------


def _conditions_hold(condition: Any, keys: Mapping[str, Any]) -> bool:
    """Every operator block holds (AND); within one, every key (AND); a key holds when any policy value matches
    (OR) — for a negated operator, when none does (NOR)."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if not isinstance(block, dict):
            return False
        for key, expected in block.items():
            values = [
                v if isinstance(v, str) else json.dumps(v)
                for v in (expected if isinstance(expected, list) else [expected])
            ]
            if not _key_holds(str(operator), str(key).lower(), values, keys):
                return False
    return True


def _key_holds(operator: str, key: str, expected: list[str], keys: Mapping[str, Any]) -> bool:
    present = key in keys
    raw = keys.get(key)
    actual: list[str] = [raw] if isinstance(raw, str) else list(raw) if raw is not None else []
    if operator == "Null":
        # "true": the key must be absent; "false": present.
        return any((v.lower() == "true") == (not present) for v in expected)
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    test = _OPERATORS.get(operator)
    if test is None:
        return False  # an operator IAM does not know never holds
    negated = operator in _NEGATED
    if qualifier == "ForAllValues":
        return all(_one_holds(test, negated, a, expected) for a in actual)  # an absent key holds vacuously
    if qualifier == "ForAnyValue":
        return any(_one_holds(test, negated, a, expected) for a in actual)
    if qualifier:
        return False
    if not present:
        return if_exists or negated
    return all(_one_holds(test, negated, a, expected) for a in actual) if actual else negated


def _one_holds(test: Callable[[str, str], bool], negated: bool, actual: str, expected: list[str]) -> bool:
    matches = any(test(actual, e) for e in expected)
    return not matches if negated else matches


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _compare_numbers(op: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def test(actual: str, expected: str) -> bool:
        a, e = _number(actual), _number(expected)
        return a is not None and e is not None and op(a, e)

    return test


def _compare_dates(op: Callable[[datetime, datetime], bool]) -> Callable[[str, str], bool]:
    def test(actual: str, expected: str) -> bool:
        a, e = _date(actual), _date(expected)
        return a is not None and e is not None and op(a, e)

    return test


def _ip_in(actual: str, expected: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


def _arn_like(actual: str, expected: str) -> bool:
    """ARNs match part by part (arn:partition:service:region:account:resource), each with wildcards."""
    a_parts, e_parts = actual.split(":", 5), expected.split(":", 5)
    if len(a_parts) != 6 or len(e_parts) != 6:
        return False
    return all(_wildcard(e).fullmatch(a) is not None for a, e in zip(a_parts, e_parts, strict=True))


def _equals(actual: str, expected: str) -> bool:
    return actual == expected


def _equals_ignore_case(actual: str, expected: str) -> bool:
    return actual.lower() == expected.lower()


def _like(actual: str, expected: str) -> bool:
    return _wildcard(expected).fullmatch(actual) is not None


def _bool(actual: str, expected: str) -> bool:
    return actual.lower() == expected.lower()


# Each operator as a positive test; the negated ones hold when their positive test holds for no policy value.
_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": _equals,
    "StringNotEquals": _equals,
    "StringEqualsIgnoreCase": _equals_ignore_case,
    "StringNotEqualsIgnoreCase": _equals_ignore_case,
    "StringLike": _like,
    "StringNotLike": _like,
    "NumericEquals": _compare_numbers(lambda a, e: a == e),
    "NumericNotEquals": _compare_numbers(lambda a, e: a == e),
    "NumericLessThan": _compare_numbers(lambda a, e: a < e),
    "NumericLessThanEquals": _compare_numbers(lambda a, e: a <= e),
    "NumericGreaterThan": _compare_numbers(lambda a, e: a > e),
    "NumericGreaterThanEquals": _compare_numbers(lambda a, e: a >= e),
    "DateEquals": _compare_dates(lambda a, e: a == e),
    "DateNotEquals": _compare_dates(lambda a, e: a == e),
    "DateLessThan": _compare_dates(lambda a, e: a < e),
    "DateLessThanEquals": _compare_dates(lambda a, e: a <= e),
    "DateGreaterThan": _compare_dates(lambda a, e: a > e),
    "DateGreaterThanEquals": _compare_dates(lambda a, e: a >= e),
    "Bool": _bool,
    "BinaryEquals": _equals,
    "IpAddress": _ip_in,
    "NotIpAddress": _ip_in,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "ArnNotEquals": _arn_like,
    "ArnNotLike": _arn_like,
}
_NEGATED = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "DateNotEquals",
        "NotIpAddress",
        "ArnNotEquals",
        "ArnNotLike",
    }
)
