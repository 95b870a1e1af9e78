"""Amazon SNS subscription filter policies: checked once when set, then evaluated on every publish.

`validate()` parses a FilterPolicy attribute value and compiles it into a tree of small matcher objects, so
that `Policy.matches()` never looks at the policy text again. The rules follow the SNS Developer Guide pages
"Amazon SNS subscription filter policies", "Filter policy constraints", "AND/OR logic", "Key matching",
"String value matching" and "Numeric value matching". Error reasons reuse SNS's own wording where it is known
(SNS reports filter policy syntax errors in the words of the event-ruler JSON rule grammar, and text that is not
JSON in the words of its Jackson parser, see json_errors.py); the few limits SNS words differently or not publicly
(size, numeric range) get plain descriptions.

How messages are seen, whatever the scope: every property becomes a list of JSON-typed leaf values (a string, a
number, true/false or null). For the MessageBody scope the body is parsed as a JSON object and flattened into
dotted paths ("a.b.c"), an array contributing each of its elements to the same path. For the MessageAttributes
scope a String attribute is one string, a Number attribute one number, a String.Array attribute its elements,
and Binary attributes are ignored (as if absent). A condition on a key holds when any one of its leaf values
satisfies any one of the key's patterns, which is how arrays match "if any element matches".
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from broker.services.sns import json_errors
from broker.services.sns.errors import (
    invalid_filter_policy,
    invalid_filter_policy_scope,
    nested_filter_policy_in_attribute_scope,
)

__all__ = ["Policy", "validate", "event_pattern", "SCOPE_ATTRIBUTES", "SCOPE_BODY"]

SCOPE_ATTRIBUTES = "MessageAttributes"
SCOPE_BODY = "MessageBody"

MAX_POLICY_BYTES = 256 * 1024  # "The maximum size of a filter policy is 256 KB."
MAX_KEYS = 5  # "A filter policy can have a maximum of five keys" (parent keys only when nested).
MAX_COMBINATIONS = 150  # "The total combination of values in a filter policy must not exceed 150."
NUMERIC_LIMIT = 10**9  # "the value can range from -10^9 to 10^9 ..."
_SCALE = 10**5  # "... with five digits of accuracy after the decimal point": numbers compare as fixed point.

# Message numbers beyond this are clamped: no policy number can equal them, and order is kept.
_CLAMP = Decimal(10**12)
_CLAMP_SCALED = 10**12 * _SCALE + 1

# Field names that stop a "$or" array from being read as an OR (AND/OR logic page: reserved keywords).
_OPERATORS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr", "wildcard"}
)
_ANYTHING_BUT_OPERATORS = ("prefix", "wildcard")  # SNS refuses anything-but suffix (and exists)

_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_CACHED_VALUE_CHARS = 1024  # longer message values are parsed each time rather than kept in a cache
_MAX_IP_CHARS = 64  # longer than any textual IPv4/IPv6 address, zone index included


# ---------------------------------------------------------------------------------------------------------------
# Errors: "Invalid parameter: FilterPolicy: <reason>" (errors.invalid_filter_policy)


def _reject_constant(name: str) -> Any:
    # json accepts NaN/Infinity by default; neither SNS nor JSON does.
    raise ValueError(f"Non-standard token '{name}'")


def _text(value: Any) -> str:
    """A JSON value as the parser's error messages show it."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return "["
    if isinstance(value, dict):
        return "{"
    if isinstance(value, Decimal):
        return format(value, "f") if abs(value) < _CLAMP else str(value)
    return str(value)


# ---------------------------------------------------------------------------------------------------------------
# Numbers: fixed point with five decimals, as plain ints (fast to compare and to hash).


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _scaled(value: int | Decimal) -> int:
    number = value if isinstance(value, Decimal) else Decimal(value)
    if number > _CLAMP:
        return _CLAMP_SCALED
    if number < -_CLAMP:
        return -_CLAMP_SCALED
    return int((number * _SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))


def _policy_number(value: int | Decimal) -> int:
    if not -NUMERIC_LIMIT <= value <= NUMERIC_LIMIT:
        raise invalid_filter_policy(
            f"Numeric value {_text(value)} is out of range: values must be between -{NUMERIC_LIMIT} and {NUMERIC_LIMIT}"
        )
    return _scaled(value)


def _parse_number(text: str) -> int | None:
    return _cached_number(text) if len(text) <= _CACHED_VALUE_CHARS else _read_number(text)


def _read_number(text: str) -> int | None:
    if not _NUMBER_TEXT.fullmatch(text):
        return None
    try:
        return _scaled(Decimal(text))
    except InvalidOperation:
        return None


_cached_number = lru_cache(maxsize=4096)(_read_number)


# ---------------------------------------------------------------------------------------------------------------
# Message side: leaf values per key. Numbers are scaled ints, so `type(v) is int` tells a number from a bool.


def _leaf(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    return _scaled(value)


def _flatten(document: dict[str, Any]) -> dict[str, list[Any]]:
    index: dict[str, list[Any]] = {}
    stack: list[tuple[str, Any]] = [(key, value) for key, value in document.items()]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{path}.{key}", child) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((path, item) for item in value)
        else:
            index.setdefault(path, []).append(_leaf(value))
    return index


@lru_cache(maxsize=4)  # a few bodies in flight at once; each may be up to 256 KB
def _body_index(body: str) -> dict[str, list[Any]] | None:
    """The body as {dotted path: leaf values}, or None when it is not a JSON object.

    Cached because one publish evaluates the same body against every subscription of the topic; callers only
    read the result.
    """
    try:
        document = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    return _flatten(document)


def _attribute_values(data_type: str, value: str) -> tuple[Any, ...] | None:
    # Only short values are cached, so the cache stays small however large the attributes published.
    if len(value) <= _CACHED_VALUE_CHARS:
        return _cached_attribute_values(data_type, value)
    return _read_attribute(data_type, value)


def _read_attribute(data_type: str, value: str) -> tuple[Any, ...] | None:
    """Leaf values of one message attribute; None when SNS would not compare it (Binary, malformed)."""
    if data_type == "String.Array" or data_type.startswith("String.Array."):
        try:
            items = json.loads(value, parse_float=Decimal, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return None
        if not isinstance(items, list):
            return None
        leaves = tuple(_leaf(item) for item in items if not isinstance(item, dict | list))
        return leaves or None
    base = data_type.split(".", 1)[0]
    if base == "String":
        return (value,)
    if base == "Number":
        number = _parse_number(value.strip())
        return None if number is None else (number,)
    return None  # Binary: "Amazon SNS ignores message attributes with the Binary data type."


_cached_attribute_values = lru_cache(maxsize=4096)(_read_attribute)


def _attribute_lookup(attribute: Any) -> tuple[Any, ...] | None:
    if not isinstance(attribute, dict):
        return None
    data_type = attribute.get("DataType") or attribute.get("Type")
    value = attribute.get("StringValue")
    if value is None:
        value = attribute.get("Value")
    if not isinstance(data_type, str) or not isinstance(value, str):
        return None
    return _attribute_values(data_type, value)


# ---------------------------------------------------------------------------------------------------------------
# Compiled conditions


def _wildcard_parts(pattern: str) -> tuple[str, ...]:
    """Split a wildcard pattern on its unescaped '*' into literal segments (escapes: \\* and \\\\)."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    previous_star = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 < len(pattern) and pattern[index + 1] in "*\\":
                current.append(pattern[index + 1])
                index += 2
                previous_star = False
                continue
            raise invalid_filter_policy(f"Invalid escape character at pos {index}")
        if char == "*":
            if previous_star:
                raise invalid_filter_policy(f"Consecutive wildcard characters at pos {index}")
            parts.append("".join(current))
            current = []
            previous_star = True
        else:
            current.append(char)
            previous_star = False
        index += 1
    parts.append("".join(current))
    return tuple(parts)


def _wildcard_matcher(pattern: str) -> Callable[[str], bool]:
    parts = _wildcard_parts(pattern)
    if len(parts) == 1:
        literal = parts[0]
        return lambda value: value == literal
    head, middle, tail = parts[0], parts[1:-1], parts[-1]
    minimum = sum(map(len, parts))

    # Greedy left-to-right search: linear in the value, unlike a backtracking regular expression.
    def match(value: str) -> bool:
        if len(value) < minimum or not value.startswith(head) or not value.endswith(tail):
            return False
        position, end = len(head), len(value) - len(tail)
        for segment in middle:
            found = value.find(segment, position, end)
            if found < 0:
                return False
            position = found + len(segment)
        return True

    return match


def _cidr_network(spec: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(spec, str):
        raise invalid_filter_policy("prefix match pattern must be a string")  # SNS answers cidr with the prefix wording
    if spec.count("/") != 1:
        raise invalid_filter_policy("Malformed CIDR, one '/' required")
    address, bits = spec.split("/")
    if not _ASCII_DIGITS.fullmatch(bits):
        raise invalid_filter_policy("Malformed CIDR, mask bits must be an integer")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise invalid_filter_policy(f"Nonstandard IP address: {address}") from None
    if int(bits) > ip.max_prefixlen:
        raise invalid_filter_policy(f"Malformed CIDR, mask bits must be between 0 and {ip.max_prefixlen}")
    try:
        return ipaddress.ip_network(f"{address}/{int(bits)}", strict=False)
    except ValueError:  # e.g. an IPv6 zone index, which an address may carry but a network may not
        raise invalid_filter_policy(f"Nonstandard IP address: {address}") from None


@lru_cache(maxsize=4096)
def _cached_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    return _cached_ip(value) if len(value) <= _MAX_IP_CHARS else None


def _cidr_matcher(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Callable[[str], bool]:
    def match(value: str) -> bool:
        ip = _ip(value)
        return ip is not None and ip.version == network.version and ip in network

    return match


def _range_matcher(low: int | None, low_open: bool, high: int | None, high_open: bool) -> Callable[[int], bool]:
    def match(value: int) -> bool:
        if low is not None and (value <= low if low_open else value < low):
            return False
        return not (high is not None and (value >= high if high_open else value > high))

    return match


_SLOTS = (
    "strings",
    "numbers",
    "match_true",
    "match_false",
    "match_null",
    "string_tests",
    "number_tests",
    "value_tests",
    "exists_true",
    "exists_false",
)


class _Patterns:
    """The patterns listed for one key, as the compiler collects them."""

    __slots__ = _SLOTS

    def __init__(self) -> None:
        self.strings: set[str] = set()
        self.numbers: set[int] = set()
        self.match_true = self.match_false = self.match_null = False
        self.string_tests: list[Callable[[str], bool]] = []
        self.number_tests: list[Callable[[int], bool]] = []
        self.value_tests: list[Callable[[Any], bool]] = []  # anything-but: any JSON type
        self.exists_true = self.exists_false = False


class _Condition:
    """The patterns listed for one key, OR-ed together (frozen for matching)."""

    __slots__ = _SLOTS

    def __init__(self, patterns: _Patterns) -> None:
        self.strings = frozenset(patterns.strings)
        self.numbers = frozenset(patterns.numbers)
        self.match_true, self.match_false, self.match_null = (
            patterns.match_true,
            patterns.match_false,
            patterns.match_null,
        )
        self.string_tests = tuple(patterns.string_tests)
        self.number_tests = tuple(patterns.number_tests)
        self.value_tests = tuple(patterns.value_tests)
        self.exists_true, self.exists_false = patterns.exists_true, patterns.exists_false

    def check(self, values: Sequence[Any]) -> bool:
        """`values` are the key's leaf values; the key is present."""
        for value in values:
            kind = type(value)
            if kind is str:
                if value in self.strings or any(test(value) for test in self.string_tests):
                    return True
            elif kind is int:
                if value in self.numbers or any(test(value) for test in self.number_tests):
                    return True
            elif value is None:
                if self.match_null:
                    return True
            elif value is True:
                if self.match_true:
                    return True
            elif value is False and self.match_false:
                return True
            if self.value_tests and any(test(value) for test in self.value_tests):
                return True
        # Key matching: "The key must have a non-null and non-empty value."
        return self.exists_true and any(value is not None and value != "" for value in values)


class _Node:
    """An AND of (path, condition) pairs and of OR groups (each a tuple of alternative nodes)."""

    __slots__ = ("leaves", "ors")

    def __init__(self, leaves: tuple[tuple[str, _Condition], ...], ors: tuple[tuple[_Node, ...], ...]) -> None:
        self.leaves = leaves
        self.ors = ors

    def test(self, lookup: Callable[[str], Any], nonempty: bool) -> bool:
        for path, condition in self.leaves:
            values = lookup(path)
            if values is None:
                # "exists": false only matches if at least one attribute is present.
                if not (condition.exists_false and nonempty):
                    return False
            elif not condition.check(values):
                return False
        return all(any(node.test(lookup, nonempty) for node in group) for group in self.ors)


# ---------------------------------------------------------------------------------------------------------------
# Compilation


class _Compiler:
    def __init__(self) -> None:
        self.nested = False  # a key whose value is an object (only the MessageBody scope allows it)
        self.uses_absence = False  # some key says "exists": false

    def object(self, document: dict[str, Any], prefix: str) -> _Node:
        if not document:
            raise invalid_filter_policy("Empty objects are not allowed")
        leaves: list[tuple[str, _Condition]] = []
        ors: list[tuple[_Node, ...]] = []
        for key, value in document.items():
            if key == "$or" and _is_or(value):
                ors.append(tuple(self.object(alternative, prefix) for alternative in value))
                continue
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                self.nested = True
                child = self.object(value, path)
                leaves.extend(child.leaves)
                ors.extend(child.ors)
            elif isinstance(value, list):
                leaves.append((path, self.values(value)))
            else:
                raise invalid_filter_policy(f'"{key}" must be an object or an array')
        return _Node(tuple(leaves), tuple(ors))

    def values(self, items: list[Any]) -> _Condition:
        if not items:
            raise invalid_filter_policy("Empty arrays are not allowed")
        condition = _Patterns()
        for item in items:
            if isinstance(item, dict):
                self.expression(item, condition)
            elif item is None:
                condition.match_null = True
            elif item is True:
                condition.match_true = True
            elif item is False:
                condition.match_false = True
            elif isinstance(item, str):
                condition.strings.add(item)
            elif _is_number(item):
                condition.numbers.add(_policy_number(item))
            else:
                raise invalid_filter_policy("Match value must be String, number, true, false, or null")
        if condition.exists_false:
            self.uses_absence = True
        return _Condition(condition)

    def expression(self, expression: dict[str, Any], condition: _Patterns) -> None:
        if not expression:
            raise invalid_filter_policy("Match expression name not found")
        operator, operand = next(iter(expression.items()))
        # The parser reads the first operator before noticing extra keys, so its own errors come first.
        if operator in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            if not isinstance(operand, str):
                raise invalid_filter_policy(f"{operator} match pattern must be a string")
            pattern: str = operand
            if operator == "prefix":
                condition.string_tests.append(lambda value: value.startswith(pattern))
            elif operator == "suffix":
                condition.string_tests.append(lambda value: value.endswith(pattern))
            elif operator == "equals-ignore-case":
                lowered = pattern.lower()
                condition.string_tests.append(lambda value: value.lower() == lowered)
            else:
                condition.string_tests.append(_wildcard_matcher(operand))
        elif operator == "cidr":
            condition.string_tests.append(_cidr_matcher(_cidr_network(operand)))
        elif operator == "exists":
            if not isinstance(operand, bool):
                raise invalid_filter_policy("exists match pattern must be either true or false.")
            if operand:
                condition.exists_true = True
            else:
                condition.exists_false = True
        elif operator == "numeric":
            condition.number_tests.append(_numeric(operand))
            if len(expression) > 1:
                raise invalid_filter_policy("Too many elements in numeric expression")
            return
        elif operator == "anything-but":
            condition.value_tests.append(_anything_but(operand))
            if len(expression) > 1:
                raise invalid_filter_policy("Too many elements in numeric expression")
            return
        else:
            raise invalid_filter_policy(f"Unrecognized match type {operator}")
        if len(expression) > 1:
            raise invalid_filter_policy("Only one key allowed in match expression")


def _is_or(value: Any) -> bool:
    """AND/OR logic page: "$or" is an OR only for an array of at least two objects without reserved field names;
    otherwise it is an ordinary property name."""
    return (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(item, dict) and _OPERATORS.isdisjoint(item) for item in value)
    )


def _numeric(operand: Any) -> Callable[[int], bool]:
    if not isinstance(operand, list):
        raise invalid_filter_policy("Value of numeric must be an array.")
    if not operand:
        raise invalid_filter_policy("Invalid member in numeric match: ]")
    operator = operand[0]
    if not isinstance(operator, str):
        raise invalid_filter_policy(f"Invalid member in numeric match: {_text(operator)}")
    if operator not in ("=", "<", "<=", ">", ">="):
        raise invalid_filter_policy(f"Unrecognized numeric range operator: {operator}")
    if len(operand) < 2 or not _is_number(operand[1]):
        raise invalid_filter_policy(f"Value of {'equals' if operator == '=' else operator} must be numeric")
    first = _policy_number(operand[1])
    if operator == "=":
        if len(operand) > 2:
            raise invalid_filter_policy("Too many elements in numeric expression")
        return lambda value: value == first
    if operator in ("<", "<="):
        if len(operand) > 2:
            raise invalid_filter_policy("Too many elements in numeric expression")
        return _range_matcher(None, False, first, operator == "<")
    if len(operand) == 2:
        return _range_matcher(first, operator == ">", None, False)
    upper = operand[2]
    if not isinstance(upper, str):
        raise invalid_filter_policy(f"Bad value in numeric range: {_text(upper)}")
    if upper not in ("<", "<="):
        raise invalid_filter_policy(f"Bad numeric range operator: {upper}")
    if len(operand) < 4 or not _is_number(operand[3]):
        raise invalid_filter_policy(f"Value of {upper} must be numeric")
    second = _policy_number(operand[3])
    if second <= first:
        raise invalid_filter_policy("Bottom must be less than top")
    if len(operand) > 4:
        raise invalid_filter_policy("Too many terms in numeric range expression")
    return _range_matcher(first, operator == ">", second, upper == "<")


def _anything_but(operand: Any) -> Callable[[Any], bool]:
    """anything-but matches a present value that is not excluded (a missing key never matches)."""
    if isinstance(operand, dict):
        if not operand:
            raise invalid_filter_policy("Anything-But expression name not found")
        operator, pattern = next(iter(operand.items()))
        if operator not in _ANYTHING_BUT_OPERATORS:
            raise invalid_filter_policy(f"Unsupported anything-but pattern: {operator}")
        if not isinstance(pattern, str):
            raise invalid_filter_policy(f"{operator} match pattern must be a string")
        if operator != "wildcard" and not pattern:
            raise invalid_filter_policy("Null prefix/suffix not allowed")
        if len(operand) > 1:
            raise invalid_filter_policy("Only one key allowed in match expression")
        if operator == "prefix":
            return lambda value: not (type(value) is str and value.startswith(pattern))
        wildcard = _wildcard_matcher(pattern)
        return lambda value: not (type(value) is str and wildcard(value))
    if isinstance(operand, list):
        if not operand:
            raise invalid_filter_policy("Empty arrays are not allowed")
        excluded = operand
    elif isinstance(operand, str) or _is_number(operand):
        excluded = [operand]
    else:
        raise invalid_filter_policy("Value of anything-but must be an array or single string/number value.")
    strings: set[str] = set()
    numbers: set[int] = set()
    for item in excluded:
        if isinstance(item, str):
            strings.add(item)
        elif _is_number(item):
            numbers.add(_policy_number(item))
        else:
            raise invalid_filter_policy("Inside anything but list, start|null|boolean is not supported.")
    frozen_strings, frozen_numbers = frozenset(strings), frozenset(numbers)

    def match(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value not in frozen_strings
        if kind is int:
            return value not in frozen_numbers
        return True  # true/false/null are never in the excluded set

    return match


def _complexity(document: dict[str, Any], depth: int) -> int:
    """Constraints page: multiply, per array, its number of values by its key's nesting level; an "$or" adds up
    its alternatives (AND/OR logic page: "the sum of the combination complexities for each OR statement")."""
    total = 1
    for key, value in document.items():
        if key == "$or" and _is_or(value):
            total *= sum(_complexity(alternative, depth) for alternative in value)
        elif isinstance(value, dict):
            total *= _complexity(value, depth + 1)
        else:
            total *= depth * len(value)
        total = min(total, MAX_COMBINATIONS + 1)  # only "over the limit" matters; keep the numbers small
    return total


def _top_level_key_sets(document: dict[str, Any]) -> list[frozenset[str]]:
    """The top-level keys of each AND branch once "$or"s are expanded (nested keys count as their parent)."""
    branches: list[frozenset[str]] = [frozenset()]
    for key, value in document.items():
        if key == "$or" and _is_or(value):
            alternatives = [keys for alternative in value for keys in _top_level_key_sets(alternative)]
            branches = [branch | keys for branch in branches for keys in alternatives]
        else:
            branches = [branch | {key} for branch in branches]
    return branches


# ---------------------------------------------------------------------------------------------------------------
# Public API


class Policy:
    """A compiled subscription filter policy."""

    __slots__ = ("scope", "_root", "_uses_absence")

    def __init__(self, scope: str, root: _Node, uses_absence: bool) -> None:
        self.scope = scope
        self._root = root
        self._uses_absence = uses_absence

    def matches(self, attributes: dict[str, dict[str, Any]], body: str | None) -> bool:
        """Whether a message passes the policy: attributes for the MessageAttributes scope, the raw body for the
        MessageBody scope (a body that is not a JSON object never matches)."""
        if self.scope == SCOPE_BODY:
            index = _body_index(body) if isinstance(body, str) else None
            if index is None:
                return False
            return self._root.test(index.get, bool(index))
        attributes = attributes or {}

        def lookup(name: str) -> tuple[Any, ...] | None:
            attribute = attributes.get(name)
            return None if attribute is None else _attribute_lookup(attribute)

        nonempty = self._uses_absence and any(_attribute_lookup(a) is not None for a in attributes.values())
        return self._root.test(lookup, nonempty)


def validate(policy_text: str, scope: str) -> Policy:
    """Parse and check a FilterPolicy attribute value for `scope` ("MessageAttributes" or "MessageBody").

    Raises InvalidParameter ("Invalid parameter: FilterPolicy: <reason>") on any violation (the nested-policy
    refusal for the MessageAttributes scope keeps SNS's own wording, which has no "FilterPolicy:" part). Returns
    the compiled Policy.
    """
    if scope not in (SCOPE_ATTRIBUTES, SCOPE_BODY):
        raise invalid_filter_policy_scope(scope)
    if not isinstance(policy_text, str):
        raise invalid_filter_policy("Filter policy must be a JSON string")
    try:
        size = len(policy_text.encode("utf-8"))
    except UnicodeEncodeError:
        raise invalid_filter_policy("Filter policy must be a valid UTF-8 string") from None
    if size > MAX_POLICY_BYTES:
        raise invalid_filter_policy(
            f"Filter policy is too large: {size} bytes, the maximum is {MAX_POLICY_BYTES} bytes"
        )
    try:
        document = json.loads(policy_text, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError:  # not JSON (NaN and Infinity included): Jackson's words, as SNS gives them
        raise invalid_filter_policy(json_errors.failed_to_parse(policy_text)) from None
    except RecursionError:
        raise invalid_filter_policy("Filter policy is too complex") from None
    if not isinstance(document, dict):
        raise invalid_filter_policy("Filter is not an object")

    compiler = _Compiler()
    try:
        root = compiler.object(document, "")
        if compiler.nested and scope == SCOPE_ATTRIBUTES:
            raise nested_filter_policy_in_attribute_scope()
        plain_keys = sum(1 for key, value in document.items() if not (key == "$or" and _is_or(value)))
        if plain_keys > MAX_KEYS:
            raise invalid_filter_policy(f"Filter policy can not have more than {MAX_KEYS} keys")
        if _complexity(document, 1) > MAX_COMBINATIONS:
            raise invalid_filter_policy("Filter policy is too complex")
        # Bounded: each AND branch adds at least 1 to the complexity, which is at most 150 here.
        if any(len(keys) > MAX_KEYS for keys in _top_level_key_sets(document)):
            raise invalid_filter_policy(f"Filter policy can not have more than {MAX_KEYS} keys")
    except RecursionError:
        raise invalid_filter_policy("Filter policy is too complex") from None
    return Policy(scope, root, compiler.uses_absence)


def event_pattern(document: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """An event pattern (Lambda event filtering and EventBridge share this grammar with body-scope filter policies,
    without SNS's key and combination limits) as a test of an event document whose numbers are ints or Decimals.
    Raises InvalidParameter on a pattern the grammar refuses."""
    root = _Compiler().object(document, "")

    def matches(event: dict[str, Any]) -> bool:
        index = _flatten(event)
        return root.test(index.get, True)  # an absent field satisfies "exists": false

    return matches
