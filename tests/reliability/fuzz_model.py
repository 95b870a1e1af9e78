"""Hypothesis strategies built from botocore's service models, and the raw HTTP requests they become on each wire
protocol (JSON 1.0/1.1, CBOR, query, rest-json): mostly well-typed values within or just outside the model's limits,
sometimes values of the wrong type, missing required members, malformed or huge bodies, bad headers, and (for every
protocol, though rest-json is where they name the operation and its resources) bad URI labels, query strings and
methods."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlencode

import cbor2
import httpx
from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.serialize import create_serializer
from botocore.utils import percent_encode_sequence
from hypothesis import strategies as st

MAX_DEPTH = 4
QUERY = create_serializer("query", include_validation=False)
REST_JSON = create_serializer("rest-json", include_validation=False)
AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{svc}/aws4_request, SignedHeaders=host, Signature=0"
# Members that would make one request wait (long polls, streams) get short values only.
# Likewise Lambda's provisioned concurrency: each unit is a runtime process kept running.
SHORT = {
    "WaitTimeSeconds": st.sampled_from([0, 1, -1, 21, "x"]),
    "ProvisionedConcurrentExecutions": st.sampled_from([0, 1, -1, 2**31, "x"]),
}

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "\u0000", "\ufffe", "A" * 70_000, "-1", "1e999", "%ZZ", "arn:aws:x:::y"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=3),
)


def model(service: str) -> ServiceModel:
    return ServiceModel(Loader().load_service_model(service, "service-2"), service)


def _regex(pattern: str) -> st.SearchStrategy | None:
    try:
        re.compile(pattern)
        return st.from_regex(pattern, fullmatch=True)
    except (re.error, ValueError, TypeError):  # a pattern hypothesis cannot generate from
        return None


def _string(shape: Shape, wild: bool) -> st.SearchStrategy:
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 256)
    if shape.enum:
        return st.one_of(st.sampled_from(shape.enum), st.text(max_size=12)) if wild else st.sampled_from(shape.enum)
    pattern = shape.metadata.get("pattern")
    if not wild:
        fitting = _regex(pattern) if pattern else None
        text = fitting if fitting is not None else st.text(min_size=low, max_size=max(low, min(high, 32)))
        return text.filter(lambda v: low <= len(v) <= high)
    sizes = st.one_of(st.just(low), st.just(max(low - 1, 0)), st.integers(low, min(high, 64)), st.just(high + 1))
    return sizes.flatmap(lambda n: st.text(min_size=n, max_size=n) if n <= 2048 else st.just("a" * n))


def value(
    shape: Shape, known: dict[str, st.SearchStrategy], wild: bool, depth: int = 0, name: str = ""
) -> st.SearchStrategy:
    """Values for a member. Tame: of its type and within the model's limits (known names get real resource
    identifiers). Wild: also just outside the limits, and one time in four of any type at all."""
    if name in SHORT:
        return SHORT[name]
    t = shape.type_name
    if depth > MAX_DEPTH:  # deep enough: empty containers (tame) or junk (wild)
        return JUNK if wild else st.just({} if t in ("structure", "map") else [] if t == "list" else None)
    if name in known:
        good = known[name]
    elif t == "structure":
        good = structure(shape, known, wild, depth + 1)
    elif t == "list":
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 4)
        size = {} if wild else {"min_size": min(low, 4), "max_size": max(min(high, 4), min(low, 4))}
        good = st.lists(value(shape.member, known, wild, depth + 1), **({"max_size": 4} if wild else size))
    elif t == "map":
        good = st.dictionaries(st.text(min_size=1, max_size=12), value(shape.value, known, wild, depth + 1), max_size=3)
    elif t == "string":
        good = _string(shape, wild)
    elif t in ("integer", "long"):
        low, high = shape.metadata.get("min", -(2**31)), shape.metadata.get("max", 2**31)
        good = st.integers(low, high)
        if wild:
            good = st.one_of(good, st.sampled_from([low - 1, high + 1, 0, -1]))
    elif t in ("float", "double"):
        good = st.floats(allow_nan=False)
    elif t == "boolean":
        good = st.booleans()
    elif t == "timestamp":
        good = st.integers(0, 2**33)
        if wild:
            good = st.one_of(good, st.floats(-1e12, 1e12), st.text(max_size=25))
    elif t == "blob":
        good = st.binary(max_size=64)
    else:
        good = JUNK
    return st.one_of(good, good, good, JUNK) if wild else good


# Members whose made-up values always fail (tokens the broker issued): tame inputs leave them out.
ISSUED = {"NextToken", "ShardIterator", "ReceiptHandle", "ExclusiveStartShardId", "TaskHandle"}


def structure(shape: Shape, known: dict[str, st.SearchStrategy], wild: bool, depth: int = 0) -> st.SearchStrategy:
    members = {
        m: value(s, known, wild, depth, m)
        for m, s in shape.members.items()
        if wild or m not in ISSUED or m in shape.required_members
    }
    required = {m: v for m, v in members.items() if m in shape.required_members}
    optional = {m: v for m, v in members.items() if m not in shape.required_members}
    full = st.fixed_dictionaries(required, optional=optional)
    if not wild:
        return full
    # Required members are usually there; sometimes any may be left out (AWS's "must not be null").
    return st.one_of(full, full, full, st.fixed_dictionaries({}, optional=members))


def operation_inputs(service: ServiceModel, names: list[str], known: dict[str, st.SearchStrategy]):
    """(operation name, params, tame) over the given operations: tame and wild inputs, half each."""

    def of(name: str) -> st.SearchStrategy:
        shape = service.operation_model(name).input_shape
        if shape is None:
            return st.tuples(st.just(name), st.just({}), st.just(True))
        tame = st.tuples(st.just(name), structure(shape, known, wild=False), st.just(True))
        wild = st.tuples(st.just(name), structure(shape, known, wild=True), st.just(False))
        return st.one_of(tame, wild)

    by_op = {n: of(n) for n in names}
    return st.sampled_from(names).flatmap(lambda n: by_op[n])


def plausible(shape: Shape, name: str, known: dict[str, Any]) -> Any:
    """One fixed, well-formed value for a member: `known[name]` when given (real resource identifiers), else the
    smallest value of its type (required members only, one list entry, one map key, the first enum value)."""
    if name in known:
        return known[name]
    t = shape.type_name
    if t == "structure":
        return {m: plausible(s, m, known) for m, s in shape.members.items() if m in shape.required_members}
    if t == "list":
        return [plausible(shape.member, "", known)]
    if t == "map":
        return {"k": plausible(shape.value, "", known)}
    if t in ("integer", "long"):
        return 1
    if t == "boolean":
        return True
    if t == "blob":
        return b"x"
    if t == "timestamp":
        return 1_700_000_000
    if t in ("float", "double"):
        return 1.0
    if shape.enum:
        return shape.enum[0]
    return "x"


# -- wire encodings ----------------------------------------------------------------------------------------------
def _jsonable(v: Any) -> Any:
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return str(v)
    return v


def _flatten(prefix: str, v: Any, out: dict[str, str]) -> None:
    """Query-protocol keys for any value: structures by member name, lists and maps numbered from 1."""
    if isinstance(v, dict):
        for i, (k, x) in enumerate(v.items(), 1):
            if prefix.endswith(("Attributes", "Attribute", "Tags", "tags")) or not str(k).isidentifier():
                _flatten(f"{prefix}.entry.{i}.key" if prefix else str(k), k, out)
                _flatten(f"{prefix}.entry.{i}.value" if prefix else str(k), x, out)
            else:
                _flatten(f"{prefix}.{k}" if prefix else str(k), x, out)
    elif isinstance(v, list):
        for i, x in enumerate(v, 1):
            _flatten(f"{prefix}.member.{i}", x, out)
    elif isinstance(v, bytes):
        out[prefix] = base64.b64encode(v).decode()
    elif v is not None:
        out[prefix] = str(v).lower() if isinstance(v, bool) else str(v)


def body_for(protocol: str, service: ServiceModel, op: OperationModel, params: dict) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a well-formed request of `protocol` carrying `params` (whatever their types)."""
    sig = service.signing_name or service.endpoint_prefix
    headers = {"Authorization": AUTH.format(svc=sig)}
    if protocol == "query":
        try:  # botocore's own query serializer: the model's member names and list and map layouts
            form = dict(QUERY.serialize_to_request(params, op)["body"])
        except Exception:  # noqa: BLE001 - values of the wrong type: written out key by key instead
            form = {}
            _flatten("", params, form)
        form["Action"], form["Version"] = op.name, service.api_version
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return urlencode(form).encode(), headers
    headers["X-Amz-Target"] = f"{service.metadata['targetPrefix']}.{op.name}"
    if protocol == "cbor":
        headers["Content-Type"] = "application/x-amz-cbor-1.1"
        return cbor2.dumps(params, default=lambda enc, v: enc.encode(str(v))), headers
    headers["Content-Type"] = f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.0')}"
    return json.dumps(_jsonable(params)).encode(), headers


# Ways a request can be broken beyond its values.
MANGLE = st.sampled_from(
    ["none"] * 12
    + ["garbage-body", "truncated-body", "huge-body", "no-auth", "bad-auth", "wrong-target", "wrong-content-type"]
)


def mangle(kind: str, body: bytes, headers: dict[str, str], noise: bytes) -> tuple[bytes, dict[str, str]]:
    headers = dict(headers)
    if kind == "garbage-body":
        body = noise
    elif kind == "truncated-body":
        body = body[: len(body) // 2]
    elif kind == "huge-body":
        body = body + b" " * (3 * 1024 * 1024)
    elif kind == "no-auth":
        headers.pop("Authorization", None)
    elif kind == "bad-auth":
        printable = "".join(c for c in noise.decode("latin-1") if " " <= c <= "~")  # what HTTP lets through
        headers["Authorization"] = printable[:200].strip() or "x"
    elif kind == "wrong-target" and "X-Amz-Target" in headers:
        headers["X-Amz-Target"] = headers["X-Amz-Target"] + "Nope"
    elif kind == "wrong-content-type":
        headers["Content-Type"] = "text/plain"
    return body, headers


# -- whole requests (method, path, query string, headers, body), for every protocol ---------------------------------
MAX_URI = 60_000


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-encoded, as sent
    query: str  # percent-encoded, as sent ("" for none)
    headers: dict[str, str]
    body: bytes
    template: str = ""  # rest-json: the operation's URI path, labels {Name} and {Name+}
    labels: dict[str, str] = field(default_factory=dict)  # rest-json: label -> its value, percent-encoded

    @property
    def raw_path(self) -> bytes:
        """Path and query string as sent, cut to what httpx sends (URLs of at most 64 KiB)."""
        return (self.path + ("?" + self.query if self.query else "")).encode("ascii")[:MAX_URI]

    def header_bytes(self) -> dict[str, bytes]:
        """Header values as bytes: what HTTP lets through (no control characters, no surrounding blanks), the
        rest of a value's text sent as UTF-8, as clients send what they were given."""
        return {k: _header_safe(v) for k, v in self.headers.items()}


def _header_safe(value: str) -> bytes:
    kept = "".join(c for c in value if c >= " " and c != "\x7f")
    return kept.strip().encode("utf-8", "replace") or b"x"


def request_for(protocol: str, service: ServiceModel, op: OperationModel, params: dict) -> Request:
    """The HTTP request of `protocol` carrying `params` (whatever their types)."""
    if protocol == "rest-json":
        return _rest_json(service, op, params)
    body, headers = body_for(protocol, service, op, params)
    return Request("POST", "/", "", headers, body)


def _label_pattern(template: str) -> re.Pattern[str]:
    parts = []
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{"):
            parts.append("(.*)" if piece.endswith("+}") else "([^/]*)")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def _rest_json(service: ServiceModel, op: OperationModel, params: dict) -> Request:
    """botocore's own rest-json serializer where the values allow it (the model's labels, query keys, headers and
    payload); otherwise the same layout written out by hand, so values of the wrong type still reach the server."""
    sig = service.signing_name or service.endpoint_prefix
    template, _, literal = str(op.http.get("requestUri", "/")).partition("?")
    headers = {"Authorization": AUTH.format(svc=sig)}
    try:
        wire = REST_JSON.serialize_to_request(params, op)
        body = wire["body"] if isinstance(wire["body"], bytes) else str(wire["body"]).encode()
        path = wire["url_path"].partition("?")[0]
        qs = wire["query_string"]
        query = qs if isinstance(qs, str) else percent_encode_sequence(qs)
        headers.update({k: str(v) for k, v in wire["headers"].items()})
    except Exception:  # noqa: BLE001 - values botocore cannot write (wrong types, missing labels): by hand
        path, query, body, more = _rest_by_hand(op, template, params)
        headers.update(more)
    query = "&".join(q for q in (literal, query) if q)
    m = _label_pattern(template).fullmatch(path)
    labels = {}
    if m is not None:
        names = [n[1:-1] for n in re.findall(r"\{[^}]+\}", template)]
        labels = dict(zip(names, m.groups(), strict=True))
    return Request(str(op.http.get("method", "POST")), path, query, headers, body, template, labels)


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return str(v)


def _rest_by_hand(op: OperationModel, template: str, params: dict) -> tuple[str, str, bytes, dict[str, str]]:
    shape = op.input_shape
    members = shape.members if shape is not None else {}
    payload = shape.serialization.get("payload") if shape is not None else None
    labels: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    body: dict[str, Any] = {}
    raw: bytes | None = None
    for name, v in params.items():
        member = members.get(name)
        if member is None or v is None:
            continue
        loc, wire = member.serialization.get("location"), member.serialization.get("name", name)
        if loc == "uri":
            labels[wire] = _text(v)
        elif loc == "querystring":
            if isinstance(v, dict):
                query.extend((str(k), _text(x)) for k, x in v.items())
            elif isinstance(v, list):
                query.extend((wire, _text(x)) for x in v)
            else:
                query.append((wire, _text(v)))
        elif loc == "header":
            headers[wire] = _text(v)
        elif loc == "headers":
            headers.update({f"{wire}{k}": _text(x) for k, x in (v.items() if isinstance(v, dict) else [])})
        elif name == payload:
            raw = v if isinstance(v, bytes) else v.encode() if isinstance(v, str) else json.dumps(_jsonable(v)).encode()
        else:
            body[name] = v
    if raw is None and (body or op.http.get("method") in ("POST", "PUT")):
        raw = json.dumps(_jsonable(body)).encode()
        headers["Content-Type"] = "application/json"

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        greedy = name.endswith("+")
        return quote(labels.get(name.rstrip("+"), ""), safe="/~" if greedy else "~")

    path = re.sub(r"\{([^}]+)\}", fill, template)
    return path, "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in query), raw or b"", headers


# Ways a whole request can be broken: MANGLE's, and the URI's (a label, the query string, the method).
MANGLE_REQUEST = st.sampled_from(
    ["none"] * 16
    + ["garbage-body", "truncated-body", "huge-body", "no-auth", "bad-auth", "wrong-target", "wrong-content-type"]
    + ["bad-label", "bad-query", "wrong-method"]
)
# Path segments and query pieces that are broken as URI text: bad escapes, escapes of bytes that are no UTF-8, NUL,
# encoded slashes and dots, empty and very long ones.
BAD_URI_TEXT = ["%ZZ", "%", "%C3%28", "%FF%FE", "%00", "%2F", "%2F..%2F", "..", ".", "", "a" * 5000, "%E2%82"]
# No DELETE: on a rest-json path with a real resource's name it would be that resource's Delete operation, which
# the fuzzer sends with made-up names only (so the resources stay for the other examples).
METHODS = ["GET", "POST", "PUT", "PATCH", "HEAD", "OPTIONS"]


def mangle_request(kind: str, req: Request, noise: bytes) -> Request:
    """`req` broken the `kind` way (the body and header kinds as `mangle` does)."""
    pick = noise[0] if noise else 0
    if kind == "bad-label":
        bad = BAD_URI_TEXT[pick % len(BAD_URI_TEXT)] if pick % 3 else quote(noise.decode("latin-1"), safe="")
        if not req.labels:
            return replace(req, path=req.path.rstrip("/") + "/" + bad)
        victim = sorted(req.labels)[pick % len(req.labels)]
        labels = {**req.labels, victim: bad}
        return replace(req, path=re.sub(r"\{([^}]+)\}", lambda m: labels[m.group(1)], req.template), labels=labels)
    if kind == "bad-query":
        bad = BAD_URI_TEXT[pick % len(BAD_URI_TEXT)]
        keys = [kv.partition("=")[0] for kv in req.query.split("&") if kv]
        pieces = [bad, f"{bad}=1", f"x={bad}", "=", "&&", f"{quote(noise.decode('latin-1'), safe='=&')}"]
        pieces += [f"{k}={bad}" for k in keys]  # a second value for a key the request has, or a broken one
        return replace(req, query="&".join(q for q in (req.query, pieces[pick % len(pieces)]) if q))
    if kind == "wrong-method":
        others = [m for m in METHODS if m != req.method]
        return replace(req, method=others[pick % len(others)])
    if kind == "wrong-target" and "X-Amz-Target" not in req.headers:
        # A target on a query or rest-json request: the JSON protocol's dispatch takes it over.
        return replace(req, headers={**req.headers, "X-Amz-Target": f"Nope.{req.method}"})
    body, headers = mangle(kind, req.body, req.headers, noise)
    return replace(req, body=body, headers=headers)


def send(http: httpx.Client, base: str, req: Request) -> httpx.Response:
    """`req` sent as it is (its raw path unnormalised) to the server at `base`."""
    target = httpx.URL(base)
    url = httpx.URL(scheme="http", host=target.host, port=target.port, raw_path=req.raw_path)
    return http.request(req.method, url, content=req.body, headers=req.header_bytes())
