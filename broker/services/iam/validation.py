"""IAM's request validation, as AWS words it: every violated constraint of the model's input shape is reported at
once, with the member's path in AWS's lowerCamelCase spelling ("Value 'x' at 'roleName' failed to satisfy
constraint: ..."; list elements as 'tags.1.member.key').

The generic layer (protocol/spec.py) converts types; the spec gives it a copy of the model without constraints, so
the constraints are checked here, against botocore's model as it is. Patterns are Java regular expressions: `\\w`
and `\\d` are ASCII, and the tag patterns' Unicode classes (`\\p{L}`) are checked by category."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Any

from botocore.model import Shape

from broker.services.iam import errors

Matcher = Callable[[str], bool]


def check(shape: Shape, params: dict[str, Any]) -> None:
    """Raise AWS's ValidationError listing every violation in `params` (fills required lists left out: the query
    protocol cannot spell an empty list)."""
    problems: list[str] = []
    _structure(shape, params, "", problems)
    if problems:
        raise errors.validation(problems)


def camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _structure(shape: Shape, value: dict[str, Any], path: str, problems: list[str]) -> None:
    required = set(shape.required_members)
    for name, member in shape.members.items():
        where = f"{path}.{camel(name)}" if path else camel(name)
        v = value.get(name)
        if v is None:
            if name in required:
                if member.type_name == "list":
                    value[name] = []
                    _value(member, [], where, problems)
                else:
                    problems.append(f"Value null at '{where}' failed to satisfy constraint: Member must not be null")
            continue
        _value(member, v, where, problems)


def _value(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    t = shape.type_name
    if t == "structure":
        if isinstance(value, dict):
            _structure(shape, value, path, problems)
        return
    if t == "list":
        if not isinstance(value, list):
            return
        _length(shape, value, path, problems)
        for i, item in enumerate(value, 1):
            _value(shape.member, item, f"{path}.{i}.member", problems)
        return
    if t == "map":
        if isinstance(value, dict):
            _length(shape, value, path, problems)
            for k, item in value.items():
                _value(shape.value, item, f"{path}.{k}", problems)
        return
    if t == "string" and isinstance(value, str):
        # AWS reports a pattern violation before a length violation of the same member.
        pattern = shape.metadata.get("pattern")
        if pattern and not matcher(pattern)(value):
            problems.append(_failed(value, path, f"Member must satisfy regular expression pattern: {pattern}"))
        elif not pattern and "\x00" in value:  # PostgreSQL's text cannot hold it (patterned members exclude it)
            problems.append(_failed("\\u0000", path, "Member must not contain the NUL character"))
        _length(shape, value, path, problems)
        if shape.enum and value not in shape.enum:
            problems.append(_failed(value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"))
        return
    if t in ("integer", "long", "float", "double") and isinstance(value, int | float):
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if lo is not None and value < lo:
            problems.append(_failed(value, path, f"Member must have value greater than or equal to {lo}"))
        if hi is not None and value > hi:
            problems.append(_failed(value, path, f"Member must have value less than or equal to {hi}"))


def _length(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    if lo is not None and len(value) < lo:
        problems.append(_failed(value, path, f"Member must have length greater than or equal to {lo}"))
    if hi is not None and len(value) > hi:
        problems.append(_failed(value, path, f"Member must have length less than or equal to {hi}"))


def _failed(value: Any, path: str, what: str) -> str:
    return f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: {what}"


def _shown(value: Any) -> str:
    """A value as AWS's (Java) messages print it: lists as [a, b], structures as {k=v}."""
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{camel(str(k))}={_shown(v)}" for k, v in value.items()) + "}"
    return errors.shown(str(value))


# -- Java patterns ---------------------------------------------------------------------------------------------------
_UNICODE_CLASS = re.compile(r"\[((?:\\p\{\w+\}|\\.|[^\]\\])*)\]([*+])")
_CATEGORY = re.compile(r"\\p\{(\w+)\}")


@cache
def matcher(pattern: str) -> Matcher:
    """A full-match test of a model pattern with Java's semantics."""
    if "\\p{" in pattern:
        return _category_class(pattern)
    compiled = re.compile(pattern, re.ASCII)
    return lambda value: compiled.fullmatch(value) is not None


def _category_class(pattern: str) -> Matcher:
    """`[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`: one character class of Unicode categories and literal characters."""
    m = _UNICODE_CLASS.fullmatch(pattern)
    if m is None:
        raise ValueError(f"unsupported pattern {pattern!r}")
    body, quantifier = m.groups()
    categories = tuple(_CATEGORY.findall(body))
    literals = frozenset(re.sub(r"\\(.)", r"\1", _CATEGORY.sub("", body)))
    allow_empty = quantifier == "*"

    def test(value: str) -> bool:
        if not value:
            return allow_empty
        return all(c in literals or unicodedata.category(c).startswith(categories) for c in value)

    return test
