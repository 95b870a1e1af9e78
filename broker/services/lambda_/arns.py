"""Function names, ARNs and qualifiers as Lambda accepts them: a name, a partial ARN (123456789012:function:name)
or a full ARN, any of them with a ":qualifier" suffix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from broker.context import RequestContext
from broker.services.lambda_ import errors

_NAME = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9_.-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?"
)


@dataclass(frozen=True, slots=True)
class FunctionRef:
    account: str
    region: str
    name: str
    qualifier: str | None  # from the ARN or name suffix, or the Qualifier parameter

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


def parse(ctx: RequestContext, text: str, qualifier: str | None = None) -> FunctionRef:
    """The function a FunctionName parameter names. A qualifier both in the name and as a parameter must agree;
    an ARN of another region names a function that does not exist here."""
    m = _NAME.fullmatch(text)
    if m is None:
        raise errors.validation(
            f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?"
            "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )
    account = m.group("account") or ctx.account
    region = m.group("region") or ctx.region
    inner = m.group("qualifier")
    if inner and qualifier and inner != qualifier:
        raise errors.invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    if m.group("region") and m.group("region") != ctx.region:
        raise errors.invalid_parameter(
            f"Functions from '{m.group('region')}' are not reachable in this region ('{ctx.region}')"
        )
    if account != ctx.account:
        raise errors.function_not_found(function_arn(account, region, m.group("name"), inner or qualifier))
    return FunctionRef(account, region, m.group("name"), inner or qualifier)
