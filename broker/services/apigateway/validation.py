"""Request validation on the data plane: the method's request validator (as deployed) checks that its required
request parameters are present and not blank, and that the body satisfies the model (a JSON Schema draft 4) the
method names for the request's content type. A failure is reported the way API Gateway reports it: its
validationErrorString uses the wording of the Java json-schema-validator API Gateway runs, which reports the
keywords of one instance in alphabetical order, an object's members in name order, and stops descending into
children once any error has been found."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sized
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import jsonschema  # type: ignore[import-untyped]
import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT4

from broker.services.apigateway.call import Call
from broker.services.apigateway.gateway_errors import GatewayError
from broker.services.apigateway.model_operations import DEFAULTS, DELETED, REF

Doc = dict[str, Any]
Error = Any  # jsonschema.ValidationError (the library ships no types)

_PARAMETER = re.compile(r"^method\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.(.+)$")
_CACHE_SIZE = 512  # compiled validators kept per process (deployments are immutable, so entries never go stale)


# -- parameters


def _missing(call: Call, required: dict[str, Any]) -> list[str]:
    """Names of the required parameters that are absent or blank, in the order of their keys."""
    query: dict[str, list[str]] = {}
    for k, v in parse_qsl(call.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        query.setdefault(k, []).append(v)
    headers: dict[str, list[str]] = {}
    for k, v in call.scope["headers"]:
        headers.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
    path = call.matched.path_parameters or {}
    missing = []
    for key in sorted(required):
        m = _PARAMETER.match(key)
        if not required[key] or m is None:
            continue
        kind, name = m.groups()
        if kind == "path":
            values = [path[name]] if name in path else []
        elif kind.endswith("querystring"):
            values = query.get(name, [])
        else:
            values = headers.get(name.lower(), [])
        if not any(v.strip() for v in values):
            missing.append(name)
    return missing


# -- the body: fge json-schema-validator's messages for draft 4 keywords


def _json(value: Any) -> str:
    """A value as Jackson writes a JSON node (compact; numbers as parsed)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _kind(value: Any) -> str:
    """The instance's JSON type as the validator names it (1.0 is a number, not an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Decimal | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _number(value: Any) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


def _canonical(value: Any) -> Any:
    """A hashable form under JSON equality: 1 and 1.0 are equal, true and 1 are not."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if _number(value):
        return ("n", Fraction(value))
    if isinstance(value, list):
        return ("l", tuple(_canonical(v) for v in value))
    if isinstance(value, dict):
        return ("d", frozenset((k, _canonical(v)) for k, v in value.items()))
    return ("s", value)


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)  # ECMA 262's \d and \w are ASCII only


def _search(pattern: Any, text: str) -> bool:
    """ECMA 262 `pattern` semantics: found anywhere in the string."""
    return isinstance(pattern, str) and _regex(pattern).search(text) is not None


def _error(message: str) -> Error:
    return jsonschema.ValidationError(message)


def _type(v: Any, types: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    allowed = {t for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)}
    if "number" in allowed:
        allowed.add("integer")
    found = _kind(instance)
    if found not in allowed:
        yield _error(
            f"instance type ({found}) does not match any allowed primitive type (allowed: {_json(sorted(allowed))})"
        )


def _required(v: Any, required: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if isinstance(instance, dict) and isinstance(required, list):
        missing = sorted({r for r in required if isinstance(r, str)} - set(instance))
        if missing:
            yield _error(f"object has missing required properties ({_json(missing)})")


def _enum(v: Any, values: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if isinstance(values, list) and _canonical(instance) not in {_canonical(e) for e in values}:
        yield _error(f"instance value ({_json(instance)}) not found in enum (possible values: {_json(values)})")


def _minimum(v: Any, minimum: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if not (_number(instance) and _number(minimum)):
        return
    if Fraction(instance) < Fraction(minimum):
        yield _error(
            f"numeric instance is lower than the required minimum (minimum: {_json(minimum)}, found: {_json(instance)})"
        )
    elif Fraction(instance) == Fraction(minimum) and schema.get("exclusiveMinimum") is True:
        yield _error(f"numeric instance is not strictly greater than the required minimum {_json(minimum)}")


def _maximum(v: Any, maximum: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if not (_number(instance) and _number(maximum)):
        return
    if Fraction(instance) > Fraction(maximum):
        yield _error(
            f"numeric instance is greater than the required maximum (maximum: {_json(maximum)}, "
            f"found: {_json(instance)})"
        )
    elif Fraction(instance) == Fraction(maximum) and schema.get("exclusiveMaximum") is True:
        yield _error(f"numeric instance is not strictly lower than the required maximum {_json(maximum)}")


def _multiple_of(v: Any, divisor: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if _number(instance) and _number(divisor) and divisor > 0 and Fraction(instance) % Fraction(divisor) != 0:
        yield _error(f"remainder of division is not zero ({_json(instance)} / {_json(divisor)})")


def _pattern(v: Any, pattern: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if isinstance(instance, str) and isinstance(pattern, str) and not _search(pattern, instance):
        yield _error(f'ECMA 262 regex "{pattern}" does not match input string "{instance}"')


def _size(kind: type[Sized], at_least: bool, message: str) -> Callable[[Any, Any, Any, Doc], Iterator[Error]]:
    """The validator of a size keyword (minLength, maxItems, ...): `message` with the instance, its size (`found`)
    and the `limit` when an instance of `kind` is shorter (at_least) or longer than the limit."""

    def check(v: Any, limit: Any, instance: Any, schema: Doc) -> Iterator[Error]:
        if isinstance(instance, kind) and isinstance(limit, int):
            found = len(instance)
            if (found < limit) if at_least else (found > limit):
                yield _error(message.format(instance=instance, found=found, limit=limit))

    return check


_min_length = _size(str, True, 'string "{instance}" is too short (length: {found}, required minimum: {limit})')
_max_length = _size(str, False, 'string "{instance}" is too long (length: {found}, maximum allowed: {limit})')
_min_items = _size(
    list, True, "array is too short: must have at least {limit} elements but instance has {found} elements"
)
_max_items = _size(
    list, False, "array is too long: must have at most {limit} elements but instance has {found} elements"
)
_min_properties = _size(
    dict, True, "object has too few properties (found {found} but schema requires at least {limit})"
)
_max_properties = _size(
    dict, False, "object has too many properties (found {found} but schema requires at most {limit})"
)


def _unique_items(v: Any, unique: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if unique is True and isinstance(instance, list) and len({_canonical(x) for x in instance}) < len(instance):
        yield _error("array must not contain duplicate elements")


def _additional_properties(v: Any, extra: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if not isinstance(instance, dict):
        return
    properties: Any = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    patterns: Any = schema.get("patternProperties")
    patterns = patterns if isinstance(patterns, dict) else {}
    names = sorted(k for k in instance if k not in properties and not any(_search(p, k) for p in patterns))
    if extra is False and names:
        yield _error(f"object instance has properties which are not allowed by the schema: {_json(names)}")
    elif isinstance(extra, dict):
        for name in names:
            yield from v.descend(instance[name], extra, path=name)


def _pattern_properties(v: Any, patterns: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if not isinstance(instance, dict) or not isinstance(patterns, dict):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if _search(pattern, name):
                yield from v.descend(value, subschema, path=name, schema_path=pattern)


def _additional_items(v: Any, extra: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    items = schema.get("items")
    if not isinstance(instance, list) or not isinstance(items, list) or len(instance) <= len(items):
        return
    if extra is False:
        yield _error(f"schema only allows {len(items)} elements in array but instance has {len(instance)} elements")
    elif isinstance(extra, dict):
        for index in range(len(items), len(instance)):
            yield from v.descend(instance[index], extra, path=index)


def _dependencies(v: Any, dependencies: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if not isinstance(instance, dict) or not isinstance(dependencies, dict):
        return
    for name in sorted(dependencies):
        needed = dependencies[name]
        if name not in instance:
            continue
        if isinstance(needed, list):
            missing = sorted(set(needed) - set(instance))
            if missing:
                yield _error(
                    f'property "{name}" of object has missing property dependencies '
                    f"(schema requires {_json(sorted(set(needed)))}; missing: {_json(missing)})"
                )
        elif isinstance(needed, dict):
            yield from v.descend(instance, needed)


def _matched(v: Any, instance: Any, schemas: Any) -> tuple[int, int]:
    """(how many of `schemas` the instance satisfies, how many there are)."""
    subschemas = schemas if isinstance(schemas, list) else []
    return sum(next(v.descend(instance, s), None) is None for s in subschemas), len(subschemas)


def _all_of(v: Any, schemas: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    matched, total = _matched(v, instance, schemas)
    if matched < total:
        yield _error(f"instance failed to match all required schemas (matched only {matched} out of {total})")


def _any_of(v: Any, schemas: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    matched, total = _matched(v, instance, schemas)
    if matched == 0:
        yield _error(f"instance failed to match at least one required schema among {total}")


def _one_of(v: Any, schemas: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    matched, total = _matched(v, instance, schemas)
    if matched != 1:
        yield _error(f"instance failed to match exactly one schema (matched {matched} out of {total})")


def _not(v: Any, not_schema: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    if isinstance(not_schema, dict) and next(v.descend(instance, not_schema), None) is None:
        yield _error("instance matched a schema which it should not have")


def _unchecked(v: Any, value: Any, instance: Any, schema: Doc) -> Iterator[Error]:
    return iter(())


# Draft 4's $ref, properties and items (which descend into children) are the library's own.
_Validator = jsonschema.validators.extend(
    jsonschema.Draft4Validator,
    {
        "additionalItems": _additional_items,
        "additionalProperties": _additional_properties,
        "allOf": _all_of,
        "anyOf": _any_of,
        "dependencies": _dependencies,
        "enum": _enum,
        "format": _unchecked,
        "maxItems": _max_items,
        "maxLength": _max_length,
        "maxProperties": _max_properties,
        "maximum": _maximum,
        "minItems": _min_items,
        "minLength": _min_length,
        "minProperties": _min_properties,
        "minimum": _minimum,
        "multipleOf": _multiple_of,
        "not": _not,
        "oneOf": _one_of,
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "required": _required,
        "type": _type,
    },
)


def _path_key(path: Any) -> tuple[tuple[int, Any], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in path)


def report(errors: list[Error]) -> str:
    """The validationErrorString of `errors`: what the Java validator reports, in its order. It checks an instance's
    keywords before its children and descends no further once the report holds an error, so an error is reported
    only at the first failing instance or at an instance whose parent was entered before that failure."""
    ordered = sorted((_path_key(e.absolute_path), str(e.validator), e.message) for e in errors)
    if not ordered:
        return "[]"
    first = ordered[0][0]
    kept = [
        message
        for path, _, message in ordered
        if path == first or (len(path) - 1 < len(first) and first[: len(path) - 1] == path[:-1])
    ]
    return "[" + ", ".join(kept) + "]"


# -- models of the deployment


class ConfigurationError(Exception):
    """A model that cannot be used: not a schema, a reference that does not resolve."""


def _parse(text: str | bytes) -> Any:
    def constant(name: str) -> Any:
        raise ValueError(name)  # NaN and Infinity are not JSON

    return json.loads(text, parse_float=Decimal, parse_constant=constant)


def _models(call: Call) -> dict[str, Doc]:
    models = {name: dict(doc) for name, doc in DEFAULTS.items()}
    for m in call.deployed("_models"):
        if m.get(DELETED):
            models.pop(str(m.get("name")), None)
        else:
            models[str(m.get("name"))] = m
    return models


def _schema(model: Doc) -> Doc:
    try:
        schema = _parse(model.get("schema") or "{}")
    except (ValueError, RecursionError) as e:
        raise ConfigurationError(str(model.get("name"))) from e
    if not isinstance(schema, dict):
        raise ConfigurationError(str(model.get("name")))
    try:
        jsonschema.Draft4Validator.check_schema(schema)
    except (jsonschema.SchemaError, RecursionError) as e:
        raise ConfigurationError(str(model.get("name"))) from e
    return schema


_compiled: OrderedDict[tuple[str, ...], Any] = OrderedDict()


def _validator(call: Call, name: str) -> Any:
    """The compiled validator of model `name` as the stage's deployment has it (None: no such model)."""
    key = (call.account, call.region, call.api_id, str(call.deployment.get("id")), name)
    if key in _compiled:
        _compiled.move_to_end(key)
        return _compiled[key]
    models = _models(call)
    model = models.get(name)
    if model is None:
        return None

    def retrieve(uri: str) -> referencing.Resource[Any]:
        # Other models of the API, named by their URL; nothing else is fetched.
        m = REF.match(uri)
        if m is None or m.group(1) not in models:
            raise referencing.exceptions.NoSuchResource(uri)
        return DRAFT4.create_resource(_schema(models[m.group(1)]))

    compiled = _Validator(_schema(model), registry=referencing.Registry(retrieve=retrieve))  # type: ignore[call-arg]
    _compiled[key] = compiled
    while len(_compiled) > _CACHE_SIZE:
        _compiled.popitem(last=False)
    return compiled


def _model_name(call: Call, models: dict[str, Any]) -> str | None:
    """The model of the request's content type (absent: application/json), else the $default one, else none: the
    body is then not validated."""
    content_type = call.header(b"content-type").split(";")[0].strip().lower() or "application/json"
    by_type = {str(k).lower(): v for k, v in models.items()}
    name = by_type.get(content_type) or by_type.get("$default")
    return str(name) if name else None


def _check_body(call: Call, method: Doc) -> None:
    name = _model_name(call, method.get("requestModels") or {})
    if name is None:
        return
    try:
        validator = _validator(call, name)
    except ConfigurationError as e:
        raise GatewayError("API_CONFIGURATION_ERROR") from e
    if validator is None:
        return
    try:
        body = _parse(call.body or b"{}")  # an empty body is validated as an empty object
    except (ValueError, RecursionError) as e:
        raise GatewayError("BAD_REQUEST_BODY") from e
    try:
        errors = list(validator.iter_errors(body))
    except (referencing.exceptions.Unresolvable, ConfigurationError, re.error) as e:
        raise GatewayError("API_CONFIGURATION_ERROR") from e
    except RecursionError as e:  # a body nested deeper than the schema walk can follow
        raise GatewayError("BAD_REQUEST_BODY") from e
    if errors:
        raise GatewayError("BAD_REQUEST_BODY", validation=report(errors))


def validate(call: Call) -> None:
    """Apply the method's request validator: required parameters, the body against its model's JSON Schema."""
    method = call.matched.method
    validator_id = method.get("requestValidatorId")
    if not validator_id:
        return
    validator = next((v for v in call.deployed("_validators") if v.get("id") == validator_id), None)
    if validator is None:
        return
    if validator.get("validateRequestParameters"):
        missing = _missing(call, method.get("requestParameters") or {})
        if missing:
            raise GatewayError("BAD_REQUEST_PARAMETERS", f"Missing required request parameters: [{', '.join(missing)}]")
    if validator.get("validateRequestBody"):
        _check_body(call, method)
