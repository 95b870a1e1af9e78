"""Policy documents: how IAM reads them (JSON, also accepted URL-encoded), checks them (MalformedPolicyDocument with
AWS's messages, in the order AWS checks), sizes them against quotas and hands them back (URL-encoded, as IAM's query
API returns every policy document; SDKs decode it).

Two grammars: identity policies (inline and managed: Resource required, no Principal) and trust policies (a role's
AssumeRolePolicyDocument: Principal required, no Resource)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, unquote

from broker.services.iam import errors

SYNTAX = "Syntax errors in policy."
INVALID_JSON = "This policy contains invalid Json"
TOP_ELEMENTS = frozenset({"Version", "Id", "Statement"})
VERSIONS = frozenset({"2008-10-17", "2012-10-17"})
STATEMENT_ELEMENTS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}
)
PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "*"})
_VENDOR = re.compile(r"[A-Za-z0-9.\-]+")
_WHITESPACE = re.compile(r"\s+")

Statement = dict[str, Any]


def identity_policy(text: str) -> str:
    """The document to store for an inline or managed policy (MalformedPolicyDocument when AWS refuses it)."""
    text, statements = _parse(text, SYNTAX)
    for st in statements:
        if "Principal" in st or "NotPrincipal" in st:
            raise errors.malformed_policy("Policy document should not specify a principal.")
    _common_checks(statements)
    for st in statements:
        if not _present(st, "Resource") and not _present(st, "NotResource"):
            raise errors.malformed_policy("Policy statement must contain resources.")
    for st in statements:
        for key in ("Resource", "NotResource"):
            for resource in _strings(st.get(key)):
                _check_resource(resource)
    _check_actions(statements)
    return text


def trust_policy(text: str) -> str:
    """The document to store as a role's AssumeRolePolicyDocument."""
    text, statements = _parse(text, INVALID_JSON, need_version=False)
    _common_checks(statements)
    for st in statements:
        if "Resource" in st or "NotResource" in st:
            raise errors.malformed_policy("Has prohibited field Resource")
    for st in statements:
        if "Principal" not in st and "NotPrincipal" not in st:
            raise errors.malformed_policy(
                "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has"
                " a statement with no principals!"
            )
    _check_actions(statements)
    return text


def encoded(text: str) -> str:
    """A stored document as IAM returns it: URL-encoded (RFC 3986)."""
    return quote(text, safe="")


def size(text: str) -> int:
    """A document's size as IAM counts it against its quotas: whitespace does not count."""
    return len(_WHITESPACE.sub("", text))


# -- parsing -------------------------------------------------------------------------------------------------------
def _parse(text: str, bad_json: str, need_version: bool = True) -> tuple[str, list[Statement]]:
    doc = _load(text)
    if doc is None and "%" in text:  # the URL-encoded form IAM hands out is accepted back
        decoded = unquote(text)
        doc = _load(decoded)
        if doc is not None:
            text = decoded
    if doc is None:
        raise errors.malformed_policy(bad_json)
    statements = _syntax(doc)
    if need_version and doc.get("Version") != "2012-10-17":
        raise errors.malformed_policy("Policy document must be version 2012-10-17 or greater.")
    return text, statements


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _syntax(doc: Any) -> list[Statement]:
    """The statements of a document whose grammar is right ("Syntax errors in policy." otherwise)."""
    ok = isinstance(doc, dict) and set(doc) <= TOP_ELEMENTS and "Statement" in doc
    ok = ok and ("Version" not in doc or doc["Version"] in VERSIONS)
    ok = ok and isinstance(doc.get("Id", ""), str)
    raw = doc.get("Statement") if ok else None
    statements = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    if not ok or not statements or not all(_statement_syntax(st) for st in statements):
        raise errors.malformed_policy(SYNTAX)
    return statements


def _statement_syntax(st: Any) -> bool:
    if not isinstance(st, dict) or not set(st) <= STATEMENT_ELEMENTS:
        return False
    if ("Action" in st and "NotAction" in st) or ("Resource" in st and "NotResource" in st):
        return False
    effect = st.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        return False
    if not isinstance(st.get("Sid", ""), str):
        return False
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in st and not _string_or_strings(st[key]):
            return False
    for key in ("Principal", "NotPrincipal"):
        if key in st and not _principal_syntax(st[key]):
            return False
    return "Condition" not in st or _condition_syntax(st["Condition"])


def _string_or_strings(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _principal_syntax(value: Any) -> bool:
    if value == "*":
        return True
    return isinstance(value, dict) and bool(value) and all(_string_or_strings(v) for v in value.values())


def _condition_syntax(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    scalar = (str, bool, int, float)
    for block in value.values():
        if not isinstance(block, dict):
            return False
        for v in block.values():
            values = v if isinstance(v, list) else [v]
            if not all(isinstance(x, scalar) for x in values):
                return False
    return True


# -- semantic checks -----------------------------------------------------------------------------------------------
def _common_checks(statements: list[Statement]) -> None:
    if any(st["Effect"] not in ("Allow", "Deny") for st in statements):  # the grammar took any case
        raise errors.malformed_policy("The policy failed legacy parsing")
    sids = [st["Sid"] for st in statements if st.get("Sid")]
    if len(sids) != len(set(sids)):
        raise errors.malformed_policy("Statement IDs (SID) in a single policy must be unique.")
    for st in statements:
        if not _present(st, "Action") and not _present(st, "NotAction"):
            raise errors.malformed_policy("Policy statement must contain actions.")


def _present(st: Statement, key: str) -> bool:
    value = st.get(key)
    return value is not None and value != []


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check_actions(statements: list[Statement]) -> None:
    for st in statements:
        for key in ("Action", "NotAction"):
            for action in _strings(st.get(key)):
                _check_action(action)


def _check_action(action: str) -> None:
    if action == "*":
        return
    parts = action.split(":")
    if len(parts) == 1:
        raise errors.malformed_policy("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    if len(parts) > 2:
        raise errors.malformed_policy("Actions/Condition can contain only one colon.")
    if parts[0] != "*" and not _VENDOR.fullmatch(parts[0]):
        raise errors.malformed_policy(f"Vendor {parts[0]} is not valid")


def _check_resource(resource: str) -> None:
    if resource == "*":
        return
    parts = resource.split(":")
    if len(parts) == 1:
        raise errors.malformed_policy(f'Resource {resource} must be in ARN format or "*".')
    partition = parts[1] if len(parts) > 1 else ""
    if partition not in PARTITIONS:
        rest = parts[2:]
        fields = [rest[0] if rest and (rest[0] or len(rest) > 1) else "*"]
        fields += [rest[i] if len(rest) > i else "*" for i in (1, 2)]
        fields.append(":".join(rest[3:]) if len(rest) > 3 else "*")
        shown = ":".join(["arn", partition, *fields])
        raise errors.malformed_policy(f'Partition "{partition}" is not valid for resource "{shown}".')
    if len(parts) < 3 or not parts[2]:
        raise errors.malformed_policy("Resource vendor must be fully qualified and cannot contain regexes.")
