"""Function names, ARNs and qualifiers as Lambda accepts them: every form the model's NamespacedFunctionName
pattern allows (a name, a partial ARN such as 123456789012:function:name or us-east-1:123456789012:function:name, a
full ARN), any of them with a ":qualifier" suffix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from broker.context import RequestContext
from broker.protocol.spec import load_model
from broker.services.lambda_ import errors
from broker.services.lambda_.store import LATEST

# The model's NamespacedFunctionName pattern with its parts named (the widest of the FunctionName shapes; the
# generic validator has already held each operation's own shape against its value).
PATTERN = str(load_model("lambda").shape_for("NamespacedFunctionName").metadata["pattern"])
_NAME = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9_.-]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?",
    re.ASCII,
)
# $LATEST.PUBLISHED names the version a function's latest publish made; this broker publishes numbered versions
# only, so it is $LATEST here.
_ALIASES = {"$LATEST.PUBLISHED": LATEST}


@dataclass(frozen=True, slots=True)
class FunctionRef:
    account: str
    region: str
    name: str
    qualifier: str | None  # from the ARN or name suffix, or the Qualifier parameter
    named: bool = True  # given as a bare name (no ARN parts, no qualifier suffix)

    @property
    def arn(self) -> str:
        return function_arn(self.account, self.region, self.name)

    @property
    def qualified_arn(self) -> str:
        return self.arn + (f":{self.qualifier}" if self.qualifier else "")


def function_arn(account: str, region: str, name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def layer_arn(account: str, region: str, name: str, version: int | None = None) -> str:
    base = f"arn:aws:lambda:{region}:{account}:layer:{name}"
    return f"{base}:{version}" if version is not None else base


def parse(ctx: RequestContext, text: str, qualifier: str | None = None, shared: bool = False) -> FunctionRef:
    """The function a FunctionName parameter names. A qualifier both in the name and as a parameter must agree;
    an ARN of another account is refused (403) and one of another region is not found, as in Lambda. `shared`:
    the operation is one a function policy may grant another account; a verified caller's reference to another
    account then passes, and the operation checks the policy (`permission_operations.authorize`)."""
    m = _NAME.fullmatch(text)
    if m is None:
        raise errors.validation(
            f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy constraint: Member must "
            f"satisfy regular expression pattern: {PATTERN}"
        )
    inner = _ALIASES.get(m.group("qualifier") or "", m.group("qualifier"))
    qualifier = _ALIASES.get(qualifier or "", qualifier)
    if inner and qualifier and inner != qualifier:
        raise errors.invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    account = m.group("account") or ctx.account
    region = m.group("region") or ctx.region
    if account != ctx.account and not (shared and ctx.authenticated):
        raise errors.access_denied()
    if region != ctx.region:
        raise errors.region_unreachable(region, ctx.region)
    return FunctionRef(account, region, m.group("name"), inner or qualifier, named=m.group("name") == text)
