"""Service specs built from botocore's service models, and shape-driven input conversion/validation.

The botocore model is the contract: operation names, members, required members, types and constraints all come
from it. A service module only adds its operation functions and the few facts the model no longer carries.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias

from botocore.loaders import Loader
from botocore.model import OperationModel, OperationNotFoundError, ServiceModel, Shape

from broker import errors
from broker.errors import ServiceError

if TYPE_CHECKING:
    from broker.context import RequestContext
    from broker.protocol.base import EventStream

# An operation: the request's context and its decoded parameters in; a result dict (None for an empty one) or an
# event stream out.
Handler: TypeAlias = "Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any] | EventStream | None]]"

_loader = Loader()


@cache
def load_model(name: str) -> ServiceModel:
    return ServiceModel(_loader.load_service_model(name, "service-2"), service_name=name)


@dataclass
class QueryNames:
    """Query-protocol member names that today's JSON-only models no longer carry (from AWS's API reference).

    `members` maps "StructureShape.Member" to the serialized name of a flattened list/map member;
    `map_keys` maps the same key to the (key, value) element names of a map.
    """

    members: dict[str, str] = field(default_factory=dict)
    map_keys: dict[str, tuple[str, str]] = field(default_factory=dict)

    def member_name(self, struct: str, member: str, shape: Shape) -> str:
        key = f"{struct}.{member}"
        if key in self.members:
            return self.members[key]
        return str(shape.serialization.get("name", member))

    def map_names(self, struct: str, member: str, shape: Shape) -> tuple[str, str]:
        key = f"{struct}.{member}"
        if key in self.map_keys:
            return self.map_keys[key]
        return (
            shape.key.serialization.get("name", "key"),
            shape.value.serialization.get("name", "value"),
        )


@dataclass
class ServiceSpec:
    name: str  # SigV4 signing name, e.g. "sqs"
    model: ServiceModel
    handlers: Mapping[str, Handler]
    json_error_prefix: str = ""
    # Error shape name -> code spelled by the query protocol (and x-amzn-query-error on JSON).
    query_error_codes: dict[str, str] = field(default_factory=dict)
    query_names: QueryNames = field(default_factory=QueryNames)
    xmlns: str = ""
    # The namespace of query error documents when it differs from `xmlns` (SNS: https://sns.amazonaws.com/...).
    query_error_xmlns: str = ""
    # Query errors carry an empty <Detail/> element (SQS's do; SNS's and STS's do not).
    query_error_detail: bool = False
    # Code -> the exception name the JSON protocol sends in __type when it differs from the code (SQS:
    # InvalidParameterValue is sent as InvalidParameterValueException; x-amzn-query-error keeps the code).
    json_error_types: dict[str, str] = field(default_factory=dict)
    # Code -> the message the query protocol sends instead of the error's own (SQS's NonExistentQueue).
    query_error_messages: dict[str, str] = field(default_factory=dict)
    # Query operations refused with InvalidAction when sent to a resource's URL path instead of "/" (SQS:
    # CreateQueue and ListQueues posted to a queue URL).
    account_operations: frozenset[str] = frozenset()
    # An empty query <ActionResult> is written self-closing (<ReceiveMessageResult/>), as SQS does.
    query_self_closing_result: bool = False
    # How a missing required member is reported: (code, message template with {name}).
    missing_error: tuple[str, str] = (
        "ValidationException",
        "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null",
    )
    # Code for min/max/pattern violations found by the generic validator.
    constraint_error: str = "ValidationException"
    # X-Amz-Target prefix when the model has none (a query service that also answers JSON).
    json_target: str = ""
    # A query request that omits this member means the request URL (SQS: QueueUrl posted to the queue's URL).
    path_member: str = ""
    # Operations that may wait (long polls): cancelled when their client disconnects.
    waiting_operations: frozenset[str] = frozenset()
    # Operations whose enum members are checked against the model here (the rest check their own, with the
    # error AWS gives for them).
    enum_checked: frozenset[str] = frozenset()
    # How validation messages name members: "model" (as the model spells them) or "camel" (Lambda: 'functionName').
    validation_names: str = "model"
    # rest-json error documents: Lambda writes {"Type": "User", "Message": ...}; API Gateway {"message": ...}.
    rest_error_type: bool = False
    rest_error_message_key: str = "message"
    # Refuse strings containing NUL (constraint_error) where the service has no rule of its own for them:
    # PostgreSQL text columns cannot hold the character.
    refuse_nul: bool = False

    @property
    def target_prefix(self) -> str:
        return self.json_target or str(self.model.metadata.get("targetPrefix", ""))

    @property
    def api_version(self) -> str:
        return str(self.model.api_version)

    @property
    def query_compatible(self) -> bool:
        return "awsQueryCompatible" in self.model.metadata

    def operation(self, name: str) -> OperationModel | None:
        if name not in self.handlers:
            return None
        try:
            return self.model.operation_model(name)
        except OperationNotFoundError:
            return None

    def error_wire_code(self, code: str) -> str:
        return self.query_error_codes.get(code, code)

    def json_error_type(self, code: str) -> str:
        """The __type of an error on the JSON protocol (with the service's prefix)."""
        return self.json_error_prefix + self.json_error_types.get(code, code)


class InputConverter:
    """Turns protocol-decoded input into Python values of the model's types, checking as AWS does.

    `textual=True` is for the query protocol, where every scalar arrives as a string.
    """

    def __init__(self, spec: ServiceSpec, textual: bool, enums: bool = False) -> None:
        self.spec = spec
        self.textual = textual
        self.enums = enums

    def convert(self, shape: Shape | None, value: Any) -> dict[str, Any]:
        if shape is None:
            return {}
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self._type_error("", "structure")
        return self._structure(shape, value, "")

    # -- errors --------------------------------------------------------------------------------------------
    def _type_error(self, path: str, expected: str) -> ServiceError:
        if self.textual:
            return errors.invalid_parameter_value(
                f"Value for parameter {path} is invalid. Reason: must be a {expected}."
            )
        return errors.serialization(f"Expected a {expected} at '{path or '$'}'.")

    def _constraint(self, path: str, value: Any, what: str) -> ServiceError:
        shown = value if not isinstance(value, bytes | list | dict) else "..."
        return ServiceError(
            self.spec.constraint_error,
            f"1 validation error detected: Value '{shown}' at '{path}' failed to satisfy constraint: {what}",
        )

    # -- shapes --------------------------------------------------------------------------------------------
    def _value(self, shape: Shape, value: Any, path: str) -> Any:
        t = shape.type_name
        if t == "structure":
            if not isinstance(value, dict):
                raise self._type_error(path, "structure")
            return self._structure(shape, value, path)
        if t == "list":
            if not isinstance(value, list):
                raise self._type_error(path, "list")
            out = [self._value(shape.member, v, f"{path}.{i + 1}") for i, v in enumerate(value)]
            self._check_length(shape, out, path)
            return out
        if t == "map":
            if not isinstance(value, dict):
                raise self._type_error(path, "map")
            entries = {
                self._value(shape.key, k, f"{path}.key"): self._value(shape.value, v, f"{path}.{k}")
                for k, v in value.items()
            }
            self._check_length(shape, entries, path)
            return entries
        return self._scalar(shape, t, value, path)

    def _shown(self, name: str) -> str:
        return name[:1].lower() + name[1:] if self.spec.validation_names == "camel" else name

    def _structure(self, shape: Shape, value: dict[str, Any], path: str) -> dict[str, Any]:
        out = {}
        members = shape.members
        for name, v in value.items():
            mshape = members.get(name)
            if mshape is None or v is None:
                continue  # unknown members are ignored, as AWS's JSON and query frontends do
            shown = self._shown(name)
            out[name] = self._value(mshape, v, f"{path}.{shown}" if path else shown)
        for req in shape.required_members:
            if req not in out:
                code, template = self.spec.missing_error
                full = f"{path}.{self._shown(req)}" if path else self._shown(req)
                raise ServiceError(code, template.format(name=full))
        return out

    def _scalar(self, shape: Shape, t: str, value: Any, path: str) -> Any:
        if t == "string":
            if not isinstance(value, str):
                raise self._type_error(path, "string")
            self._check_length(shape, value, path)
            pattern = shape.metadata.get("pattern")
            if pattern and not _regex(pattern).fullmatch(value):  # AWS validates the whole value
                raise self._constraint(path, value, f"Member must satisfy regular expression pattern: {pattern}")
            if self.spec.refuse_nul and "\x00" in value:
                raise self._constraint(path, "\\u0000", "Member must not contain the NUL character")
            if self.enums and shape.enum and value not in shape.enum:
                raise self._constraint(path, value, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
            return value
        if t in ("integer", "long"):
            if self.textual and isinstance(value, str):
                try:
                    value = int(value.strip())
                except ValueError:
                    raise self._type_error(path, "number") from None
            if not isinstance(value, int) or isinstance(value, bool):
                raise self._type_error(path, "number")
            self._check_range(shape, value, path)
            return value
        if t in ("float", "double"):
            if self.textual and isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise self._type_error(path, "number") from None
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise self._type_error(path, "number")
            self._check_range(shape, value, path)
            return float(value)
        if t == "boolean":
            if self.textual and isinstance(value, str):
                low = value.lower()
                if low in ("true", "false"):
                    return low == "true"
                raise self._type_error(path, "boolean")
            if not isinstance(value, bool):
                raise self._type_error(path, "boolean")
            return value
        if t == "blob":
            if isinstance(value, bytes):
                out = value
            elif isinstance(value, str):
                try:
                    out = base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    raise self._type_error(path, "base64-encoded blob") from None
            else:
                raise self._type_error(path, "blob")
            self._check_length(shape, out, path)
            return out
        if t == "timestamp":
            return _timestamp(value, path, self)
        return value

    def _check_length(self, shape: Shape, value: Any, path: str) -> None:
        lo = shape.metadata.get("min")
        hi = shape.metadata.get("max")
        if lo is None and hi is None:
            return
        n = len(value)
        if lo is not None and n < lo:
            raise self._constraint(path, value, f"Member must have length greater than or equal to {lo}")
        if hi is not None and n > hi:
            raise self._constraint(path, value, f"Member must have length less than or equal to {hi}")

    def _check_range(self, shape: Shape, value: float, path: str) -> None:
        lo = shape.metadata.get("min")
        hi = shape.metadata.get("max")
        if lo is not None and value < lo:
            raise self._constraint(path, value, f"Member must have value greater than or equal to {lo}")
        if hi is not None and value > hi:
            raise self._constraint(path, value, f"Member must have value less than or equal to {hi}")


# Java's Unicode classes, which some models use (Lambda's tag keys: [\p{L}\p{Z}\p{N}_.:/=+\-@]), in terms Python's re
# knows inside a character class.
_UNICODE_CLASSES = {
    r"\p{L}": "a-zA-Z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u2fff\u3040-\ud7ff\uf900-\ufdcf\ufdf0-\uffef",
    r"\p{Z}": " \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
    r"\p{N}": "0-9\u00b2\u00b3\u00b9\u00bc-\u00be\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\uff10-\uff19",
}


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    # The models' patterns are Java's: \d, \w and \s are ASCII there (Unicode letters are spelt \p{L}).
    try:
        return re.compile(pattern, re.ASCII)
    except re.error:
        translated = pattern
        for java, python in _UNICODE_CLASSES.items():
            translated = translated.replace(java, python)
        try:
            return re.compile(translated, re.ASCII)
        except re.error:
            return re.compile(r"(?s:.*)")  # a Java-only construct we cannot check: accept, never answer 500


def _timestamp(value: Any, path: str, conv: InputConverter) -> datetime:
    if isinstance(value, bool):
        raise conv._type_error(path, "timestamp")
    if isinstance(value, datetime):  # binary protocols (CBOR tag 1) decode timestamps themselves
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):  # out of datetime's range (or NaN)
            raise conv._type_error(path, "timestamp") from None
    if isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            pass
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        except ValueError:
            pass
    raise conv._type_error(path, "timestamp")


@cache
def needs_output_conversion(shape: Shape) -> bool:
    """True if values of this shape contain blobs or timestamps (which JSON must encode)."""
    return _needs(shape, set())


def _needs(shape: Shape, seen: set[str]) -> bool:
    if shape.name in seen:
        return False
    seen.add(shape.name)
    t = shape.type_name
    if t in ("blob", "timestamp"):
        return True
    if t == "structure":
        return any(_needs(m, seen) for m in shape.members.values())
    if t == "list":
        return _needs(shape.member, seen)
    if t == "map":
        return _needs(shape.value, seen)
    return False
