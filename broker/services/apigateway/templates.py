"""Velocity (VTL) mapping templates of REST API integrations: `render()` evaluates a request or response template with
the variables API Gateway gives it ($input, $context, $stageVariables, $util), through airspeed, a Python
implementation of Velocity. Values behave as API Gateway's Java ones do where templates can tell: null renders as
an empty string, JSON objects and lists render as Java maps and lists (`{a=1}`, `[1, 2]`), booleans as `true`."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import operator
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed  # type: ignore[import-untyped]

# API Gateway's quota on the iterations of one #foreach loop of a mapping template; ours on all the loops of one
# evaluation (nested loops multiply) and on the output and any #set value (API Gateway's payload limit).
MAX_FOREACH = 1000
MAX_ITERATIONS = 100_000
MAX_OUTPUT = 10 * 1024 * 1024
_ITERATIONS: ContextVar[list[int]] = ContextVar("template_iterations")
# Names a template may not reach through: Velocity identifiers start with a letter; any `_` name or a format method
# would let a template walk from a value to the interpreter's internals, the padding methods (no Java String has
# them) would make strings of any size.
_FORBIDDEN = frozenset({"format", "format_map", "zfill", "center", "ljust", "rjust", "expandtabs"})


class TemplateError(Exception):
    """The template cannot be evaluated (syntax, a failing function, a quota): API Gateway answers 500."""


class BodyError(TemplateError):
    """The template reads the body as JSON and the request body is not JSON: API Gateway answers 400."""


@dataclass(frozen=True)
class Request:
    """What a template sees: the payload ($input.body), the method request's parameters, $context and
    $stageVariables."""

    body: bytes = b""
    path: Mapping[str, str] = field(default_factory=dict)
    querystring: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Rendered:
    """A template's output and what it set in $context.responseOverride (status, headers) and, in a request
    template, $context.requestOverride (header, querystring, path: by name)."""

    text: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    request_override: dict[str, dict[str, str]] = field(default_factory=dict)


# -- Java-like values -----------------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    """A value as Java's toString() writes it inside a collection."""
    if value is None:
        return "null"
    return str(value)


class JavaBool(int):
    """A JSON boolean: true to #if and ==, written `true` / `false` as Java writes a Boolean."""

    def __str__(self) -> str:
        return "true" if self else "false"

    __repr__ = __str__


TRUE, FALSE = JavaBool(1), JavaBool(0)


class JavaList(list[Any]):
    """A JSON array with java.util.List's methods (Java names, as templates call them)."""

    def __str__(self) -> str:
        return "[" + ", ".join(_text(v) for v in self) + "]"

    def size(self) -> int:
        return len(self)

    def get(self, index: int) -> Any:
        return self[index]

    def isEmpty(self) -> JavaBool:
        return TRUE if not self else FALSE

    def contains(self, value: Any) -> JavaBool:
        return TRUE if value in self else FALSE

    def add(self, value: Any) -> JavaBool:
        self.append(value)
        return TRUE


class JavaMap(dict[str, Any]):
    """A JSON object with java.util.Map's methods."""

    def __str__(self) -> str:
        return "{" + ", ".join(f"{k}={_text(v)}" for k, v in self.items()) + "}"

    def size(self) -> int:
        return len(self)

    def isEmpty(self) -> JavaBool:
        return TRUE if not self else FALSE

    def containsKey(self, key: Any) -> JavaBool:
        return TRUE if key in self else FALSE

    def keySet(self) -> JavaList:
        return JavaList(self.keys())

    def values(self) -> JavaList:  # type: ignore[override]
        return JavaList(super().values())

    def put(self, key: str, value: Any) -> Any:
        previous = self.get(key)
        self[key] = value
        return previous

    def putAll(self, other: Mapping[str, Any]) -> None:
        self.update(other)

    def remove(self, key: str) -> Any:
        return self.pop(key, None)


class _Headers(JavaMap):
    """Header names compare without case, as HTTP's do."""

    def _key(self, key: Any) -> Any:
        if isinstance(key, str):
            for k in self:
                if k.lower() == key.lower():
                    return k
        return key

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._key(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._key(key), default)

    def containsKey(self, key: Any) -> JavaBool:
        return TRUE if self._key(key) in self else FALSE


def java(value: Any) -> Any:
    """Decoded JSON (or any plain structure) as the Java-like values templates handle."""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, dict):
        return JavaMap((str(k), java(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return JavaList(java(v) for v in value)
    return value


# -- JSONPath -------------------------------------------------------------------------------------------------------
_STEP = re.compile(
    r"""\.(?P<name>[^.\[\]\s]+)|\[\s*(?:(?P<index>-?\d+)|'(?P<sq>(?:[^'\\]|\\.)*)'|"(?P<dq>(?:[^"\\]|\\.)*)"|(?P<all>\*))\s*\]"""
)
MISSING = object()


def select(document: Any, path: str) -> Any:
    """The value at a JSONPath (`$`, `$.a.b`, `$.a[0]`, `$['a']`, `*` wildcards) in a decoded JSON document; a list
    once a wildcard was used; `MISSING` when nothing is there."""
    path = path.strip()
    if not path.startswith("$"):
        path = "$." + path  # Jayway's JSONPath, which API Gateway uses, reads `a.b` as `$.a.b`
    nodes, many, pos = [document], False, 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise TemplateError(f"Invalid JSONPath expression: {path}")
        pos = m.end()
        name = m.group("name")
        key = name if name is not None else m.group("sq") if m.group("sq") is not None else m.group("dq")
        found: list[Any] = []
        for node in nodes:
            if name == "*" or m.group("all"):
                many = True
                found.extend(node.values() if isinstance(node, dict) else node if isinstance(node, list) else [])
            elif key is not None:
                if isinstance(node, dict) and key in node:
                    found.append(node[key])
            else:
                i = int(m.group("index"))
                if isinstance(node, list) and -len(node) <= i < len(node):
                    found.append(node[i])
        nodes = found
    if many:
        return nodes
    return nodes[0] if nodes else MISSING


# -- $input, $util ----------------------------------------------------------------------------------------------------
class _Input:
    """$input: the payload and the method request's parameters."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self._document: Any = MISSING

    @property
    def body(self) -> str:
        return self._request.body.decode("utf-8", "replace")

    def _json(self) -> Any:
        if self._document is MISSING:
            text = self._request.body.decode("utf-8", "replace")
            try:
                # An empty payload is the empty object to JSONPath, as in API Gateway.
                self._document = json.loads(text) if text.strip() else {}
            except (ValueError, RecursionError) as e:
                raise BodyError(f"Could not parse request body into json: {e}") from e
        return self._document

    def json(self, path: str) -> str:
        value = select(self._json(), str(path))
        if value is MISSING:
            return '""'
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def path(self, path: str) -> Any:
        value = select(self._json(), str(path))
        return None if value is MISSING else java(value)

    def params(self, name: str | None = None) -> Any:
        r = self._request
        if name is None:
            return JavaMap(
                path=JavaMap(r.path), querystring=JavaMap(r.querystring), header=_Headers(r.headers)
            )  # fmt: skip
        name = str(name)
        if name in r.path:
            return r.path[name]
        if name in r.querystring:
            return r.querystring[name]
        return _Headers(r.headers).get(name, "")


def _escape_javascript(value: Any) -> str:
    """Java's StringEscapeUtils.escapeJavaScript, which API Gateway uses: quotes, backslash and slash escaped,
    control characters as \\b \\t \\n \\f \\r or \\uXXXX, and everything beyond ASCII as UTF-16 \\uXXXX units."""
    out: list[str] = []
    for ch in _text(value):
        code = ord(ch)
        if ch in "'\"\\/":
            out.append("\\" + ch)
        elif ch in _CONTROL:
            out.append(_CONTROL[ch])
        elif code < 32 or 0x7F < code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        elif code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}")
        else:
            out.append(ch)
    return "".join(out)


_CONTROL = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class _Util:
    """$util: API Gateway's helper functions."""

    def escapeJavaScript(self, value: Any) -> str:
        return _escape_javascript(value)

    def parseJson(self, value: Any) -> Any:
        try:
            return java(json.loads(str(value)))
        except (ValueError, RecursionError) as e:
            raise TemplateError(f"Invalid JSON: {e}") from e

    def urlEncode(self, value: Any) -> str:
        # java.net.URLEncoder: letters, digits and `.-*_` kept, space as `+`, everything else %XX of UTF-8.
        return quote_plus(str(value), safe="*").replace("~", "%7E")

    def urlDecode(self, value: Any) -> str:
        return unquote_plus(str(value))

    def base64Encode(self, value: Any) -> str:
        return base64.b64encode(str(value).encode()).decode()

    def base64Decode(self, value: Any) -> str:
        try:
            return base64.b64decode(str(value), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as e:
            raise TemplateError(f"Invalid base64: {e}") from e


_UTIL = _Util()


# -- compiling and rendering ----------------------------------------------------------------------------------------
class _Capped:
    """The iterable of a #foreach, refused past API Gateway's iteration quota."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def calculate(self, namespace: Any, loader: Any) -> Any:
        iterable = self.value.calculate(namespace, loader)
        if iterable is not None and hasattr(iterable, "__len__"):
            if len(iterable) > MAX_FOREACH:
                raise TemplateError(f"#foreach over more than {MAX_FOREACH} items")
            budget = _ITERATIONS.get()
            budget[0] -= len(iterable)
            if budget[0] < 0:  # nested loops: 1,000 items each would multiply
                raise TemplateError(f"more than {MAX_ITERATIONS} #foreach iterations")
        return iterable


class _Output(airspeed.StoppableStream):  # type: ignore[misc]
    """A template's output, refused past MAX_OUTPUT characters."""

    def write(self, s: str) -> None:
        if self.tell() + len(s) > MAX_OUTPUT:
            raise TemplateError(f"the template's output is over {MAX_OUTPUT} characters")
        super().write(s)


def _guarded_name(self: Any, current_object: Any, loader: Any, top_namespace: Any) -> Any:
    """Every name a template evaluates — wherever it was written: a map literal, #evaluate — is checked when it
    is evaluated, not only when the template is compiled: no `_` name or format method reaches Python objects."""
    if self.name.startswith("_") or self.name in _FORBIDDEN:
        raise TemplateError(f"Invalid reference: {self.name}")
    return _NAME_OR_CALL(self, current_object, loader, top_namespace)


def _bounded_operator(op: Any) -> Any:
    """`*` and `%` of numbers only: on strings and lists they repeat or format without bound."""

    def apply(a: Any, b: Any) -> Any:
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)):
            raise TemplateError("arithmetic on a value that is not a number")
        return op(a, b)

    return apply


def _bounded_set(self: Any, stream: Any, namespace: Any, loader: Any) -> None:
    """airspeed's #set, refusing a value over MAX_OUTPUT (a string doubled in a loop grows without bound)."""
    value = self.value.calculate(namespace, loader)
    if isinstance(value, str | list | dict) and len(value) > MAX_OUTPUT:
        raise TemplateError(f"a #set value over {MAX_OUTPUT} characters")
    if len(self.terms) == 1:
        namespace.set_inherited(self.terms[0], value)
        return
    target = namespace
    for term in self.terms[:-1]:
        target = target[term]
    target[self.terms[-1]] = value


# The guards are airspeed's own classes patched once: templates are the only airspeed users in the process.
_NAME_OR_CALL = airspeed.NameOrCall.calculate
airspeed.NameOrCall.calculate = _guarded_name
airspeed.BinaryOperator.OPERATORS["*"] = _bounded_operator(operator.mul)
airspeed.BinaryOperator.OPERATORS["%"] = _bounded_operator(operator.mod)
airspeed.SetDirective.evaluate_raw = _bounded_set


def _elements(root: Any) -> Iterable[Any]:
    seen: set[int] = set()
    stack = [root]
    while stack:
        element = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        yield element
        for value in vars(element).values():
            if isinstance(value, dict):  # a map literal keeps its entries in a dict
                items: Any = [*value.keys(), *value.values()]
            else:
                items = value if isinstance(value, list | tuple) else [value]
            stack.extend(v for v in items if isinstance(v, airspeed._Element))


@functools.lru_cache(maxsize=512)
def _compile(template: str) -> Any:
    compiled = airspeed.Template(template)
    try:
        compiled.ensure_compiled()
    except (airspeed.TemplateError, RecursionError) as e:
        raise TemplateError(str(e)) from e
    for element in list(_elements(compiled.root_element)):
        if isinstance(element, airspeed.NameOrCall) and (element.name.startswith("_") or element.name in _FORBIDDEN):
            raise TemplateError(f"Invalid reference: {element.name}")
        if isinstance(element, airspeed.FormalReference):
            element.silent = "!"  # API Gateway writes a null reference as nothing, not as its own text
        elif isinstance(element, airspeed.ForeachDirective) and not isinstance(element.value, _Capped):
            element.value = _Capped(element.value)
    return compiled


def render(template: str, request: Request) -> Rendered:
    """`template` evaluated for `request`; raises TemplateError (BodyError when the body is not JSON)."""
    override: JavaMap = JavaMap(header=JavaMap())
    context = java(dict(request.context))
    context["responseOverride"] = override
    request_override = JavaMap(header=JavaMap(), querystring=JavaMap(), path=JavaMap())
    context["requestOverride"] = request_override
    namespace = {
        "input": _Input(request),
        "context": context,
        "stageVariables": JavaMap(request.stage_variables),
        "util": _UTIL,
    }
    compiled = _compile(template)
    _ITERATIONS.set([MAX_ITERATIONS])
    output = _Output()
    try:
        compiled.merge_to(namespace, output)
        text = output.getvalue()
    except airspeed.TemplateExecutionError as e:
        # airspeed wraps whatever an element raised; our own errors (a body that is not JSON) keep their kind.
        if isinstance(e.__cause__, TemplateError):
            raise e.__cause__ from None
        raise TemplateError(str(e)) from e
    except (airspeed.TemplateError, RecursionError) as e:
        raise TemplateError(str(e)) from e
    result = Rendered(text)
    status = override.get("status")
    if status is not None:
        try:
            result.status = int(status)
        except (TypeError, ValueError):
            raise TemplateError(f"Invalid status override: {status}") from None
    headers = override.get("header")
    if isinstance(headers, dict):
        result.headers = {str(k): _text(v) for k, v in headers.items() if v is not None}
    for where, values in request_override.items():
        if isinstance(values, dict):
            result.request_override[str(where)] = {str(k): _text(v) for k, v in values.items() if v is not None}
    return result
