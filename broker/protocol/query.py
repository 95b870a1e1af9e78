"""The AWS query protocol: form-encoded `Action=` requests, XML responses.

Request members are located by the model's shapes; list and map element names that today's models no longer
carry come from the service spec's QueryNames table.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree

from botocore.model import OperationModel, Shape

from broker import errors
from broker.errors import ServiceError
from broker.protocol.base import (
    HttpRequest,
    Response,
    Result,
    Route,
    RoutingError,
    Services,
    WireProtocol,
    unknown_operation,
)
from broker.protocol.spec import InputConverter, ServiceSpec

_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;", '"': "&quot;"})


# Characters XML 1.0 cannot carry at all (not even as references): an error message that echoes such input would
# make the whole document unparseable, so they are sent as U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def escape(text: str) -> str:
    escaped = text.translate(_XML_ESCAPES)
    return _NOT_XML.sub("\ufffd", escaped) if _NOT_XML.search(escaped) else escaped


class QueryProtocol(WireProtocol):
    """Form-encoded `Action=` requests (in the body or the URL), XML answers (or, with `json_answers`, the same
    document as JSON: what AWS sends a GET that accepts application/json)."""

    def __init__(self, json_answers: bool = False) -> None:
        self.json_answers = json_answers

    def route(self, req: HttpRequest, services: Services) -> Route:
        try:
            params = req.query_params()
            ctype = req.header(b"content-type").lower()
            if req.body and (not ctype or "x-www-form-urlencoded" in ctype):
                params.update(parse_qsl(req.body.decode("utf-8"), keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            raise RoutingError(None, errors.malformed_query_string()) from None
        action = params.get("Action")
        cred = req.credential(params)
        spec = (
            (services.by_name.get(cred[2]) if cred else None)
            or services.by_version.get(params.get("Version", ""))
            or services.by_action.get(action or "")
        )
        resource_path = bool(req.path.strip("/"))
        if not action:
            if req.method == "GET" and resource_path:
                # A browser-style GET of a resource URL (a queue URL): AWS answers 404 <UnknownOperationException/>.
                raise RoutingError(None, errors.unknown_operation("", status=404))
            raise RoutingError(spec, errors.missing_action())
        if spec is None:
            raise RoutingError(None, errors.invalid_action(action))
        op = spec.operation(action)
        if op is None:
            raise RoutingError(spec, unknown_operation(spec, action, query=True))
        if resource_path and action in spec.account_operations:
            raise RoutingError(spec, errors.invalid_action(action))
        return Route(spec, op, cred, params)

    def decode(self, route: Route, req: HttpRequest, host: str) -> dict[str, object]:
        spec, params = route.spec, route.fields
        if spec.path_member and spec.path_member not in params and req.path.strip("/"):
            params[spec.path_member] = f"http://{host}{req.path}"
        shape = route.op.input_shape
        if shape is None:
            return {}
        return InputConverter(spec, textual=True).convert(shape, _structure(spec, shape, params, ""))

    def render_result(
        self, spec: ServiceSpec, op: OperationModel, result: dict[str, Any] | None, request_id: str
    ) -> Response:
        response = render_result(spec, op, result, request_id)
        return as_json(response) if self.json_answers else response

    def render_error(self, spec: ServiceSpec | None, err: ServiceError, request_id: str) -> Response:
        response = render_error(spec, err, request_id)
        return as_json(response) if self.json_answers else response


PROTOCOL = QueryProtocol()
JSON_ANSWERS = QueryProtocol(json_answers=True)


def protocol_for(method: str, headers: dict[bytes, bytes]) -> QueryProtocol:
    """The query protocol for a request: answers in JSON for a GET that accepts application/json (as AWS does)."""
    if method == "GET" and b"application/json" in headers.get(b"accept", b"").lower():
        return JSON_ANSWERS
    return PROTOCOL


# -- parsing -----------------------------------------------------------------------------------------------


def _indices(params: dict[str, str], prefix: str) -> list[int]:
    found = set()
    plen = len(prefix)
    for key in params:
        if key.startswith(prefix):
            rest = key[plen:].split(".", 1)[0]
            if rest.isascii() and rest.isdigit():
                found.add(int(rest))
    return sorted(found)


def _structure(spec: ServiceSpec, shape: Shape, params: dict[str, str], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, mshape in shape.members.items():
        value = _member(spec, shape, name, mshape, params, prefix)
        if value is not None:
            out[name] = value
    return out


def _member(spec: ServiceSpec, parent: Shape, name: str, shape: Shape, params: dict[str, str], prefix: str) -> Any:
    t = shape.type_name
    wire = spec.query_names.member_name(parent.name, name, shape)
    key = prefix + wire
    if t == "structure":
        sub = key + "."
        if not any(k.startswith(sub) for k in params):
            return None
        return _structure(spec, shape, params, sub)
    if t == "list":
        flat = shape.serialization.get("flattened")
        base = key + "." if flat else key + ".member."
        items = [_element(spec, shape.member, params, f"{base}{i}") for i in _indices(params, base)]
        if not items and flat and params.get(key):
            items = [_element(spec, shape.member, params, key)]  # a single entry may omit its index
        if not items and name in parent.required_members:
            return []  # the query protocol cannot spell an empty list: absent means empty
        return items or None
    if t == "map":
        kname, vname = spec.query_names.map_names(parent.name, name, shape)
        flat = shape.serialization.get("flattened")
        base = key + "." if flat else key + ".entry."
        result = {}
        entries = [f"{base}{i}" for i in _indices(params, base)]
        if not entries and flat and f"{key}.{kname}" in params:
            entries = [key]  # a single entry may omit its index: Attribute.Name=...&Attribute.Value=...
        for entry in entries:
            k = params.get(f"{entry}.{kname}")
            if k is None:
                raise errors.missing_parameter(f"{entry}.{kname}")
            result[k] = _element(spec, shape.value, params, f"{entry}.{vname}")
        return result or None
    return params.get(key)


def _element(spec: ServiceSpec, shape: Shape, params: dict[str, str], key: str) -> Any:
    if shape.type_name == "structure":
        return _structure(spec, shape, params, key + ".")
    if shape.type_name == "list":
        base = key + ".member." if not shape.serialization.get("flattened") else key + "."
        return [_element(spec, shape.member, params, f"{base}{i}") for i in _indices(params, base)]
    return params.get(key)


# -- serializing -------------------------------------------------------------------------------------------
def render_result(spec: ServiceSpec, op: OperationModel, result: Result | None, request_id: str) -> Response:
    parts = [f'<?xml version="1.0"?><{op.name}Response xmlns="{spec.xmlns}">']
    shape = op.output_shape
    if shape is not None:
        start = len(parts)
        _write_structure(spec, shape, result or {}, parts)
        if len(parts) == start and spec.query_self_closing_result:
            parts.append(f"<{op.name}Result/>")
        else:
            parts.insert(start, f"<{op.name}Result>")
            parts.append(f"</{op.name}Result>")
    parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op.name}Response>")
    return 200, _headers(request_id), "".join(parts).encode()


def render_error(spec: ServiceSpec | None, err: ServiceError, request_id: str) -> Response:
    if err.code == "UnknownOperationException" and err.status == 404:  # a GET of a resource URL, no Action
        return err.status, _headers(request_id), b"<UnknownOperationException/>"
    code = spec.error_wire_code(err.code) if spec else err.code
    message = spec.query_error_messages.get(err.code, err.message) if spec else err.message
    xmlns = (spec.query_error_xmlns or spec.xmlns) if spec else ""
    kind = "Sender" if err.sender_fault else "Receiver"
    detail = "<Detail/>" if spec is None or spec.query_error_detail else ""
    body = (
        f'<?xml version="1.0"?><ErrorResponse xmlns="{xmlns}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>{detail}</Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return err.status, _headers(request_id), body.encode()


def as_json(response: Response) -> Response:
    """An XML answer as the JSON document that mirrors it: {"<Root>": {...}}, an element with children an object
    (a repeated child a list), a leaf its text, an empty element null."""
    status, headers, body = response
    root = ElementTree.fromstring(body)
    doc = {_local(root.tag): _element_json(root)}
    headers = [(k, v) for k, v in headers if k != b"content-type"]
    headers.insert(0, (b"content-type", b"application/json"))
    return status, headers, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _element_json(el: ElementTree.Element) -> object:
    children = list(el)
    if not children:
        return el.text or None
    out: dict[str, Any] = {}
    for child in children:
        name = _local(child.tag)
        value = _element_json(child)  # a string, null or an object: never a list
        if name not in out:
            out[name] = value
        elif isinstance(out[name], list):
            out[name].append(value)
        else:
            out[name] = [out[name], value]
    return out


def _headers(request_id: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"text/xml"), (b"x-amzn-requestid", request_id.encode())]


def _write_structure(spec: ServiceSpec, shape: Shape, value: dict[str, Any], parts: list[str]) -> None:
    for name, mshape in shape.members.items():
        v = value.get(name)
        if v is None:
            continue
        t = mshape.type_name
        wire = spec.query_names.member_name(shape.name, name, mshape)
        if t == "list":
            if mshape.serialization.get("flattened"):
                for item in v:
                    _write_value(spec, mshape.member, wire, item, parts)
            else:
                parts.append(f"<{wire}>")
                for item in v:
                    _write_value(spec, mshape.member, "member", item, parts)
                parts.append(f"</{wire}>")
        elif t == "map":
            kname, vname = spec.query_names.map_names(shape.name, name, mshape)
            flat = mshape.serialization.get("flattened")
            if not flat:
                parts.append(f"<{wire}>")
            for k, item in v.items():
                parts.append(f"<{wire if flat else 'entry'}><{kname}>{escape(str(k))}</{kname}>")
                _write_value(spec, mshape.value, vname, item, parts)
                parts.append(f"</{wire if flat else 'entry'}>")
            if not flat:
                parts.append(f"</{wire}>")
        else:
            _write_value(spec, mshape, wire, v, parts)


def _write_value(spec: ServiceSpec, shape: Shape, tag: str, v: Any, parts: list[str]) -> None:
    t = shape.type_name
    if t == "structure":
        parts.append(f"<{tag}>")
        _write_structure(spec, shape, v, parts)
        parts.append(f"</{tag}>")
        return
    if t == "boolean":
        text = "true" if v else "false"
    elif t == "blob":
        text = base64.b64encode(v).decode()
    elif t == "timestamp":
        if isinstance(v, int | float):
            v = datetime.fromtimestamp(v, UTC)
        text = v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    elif t == "list":
        parts.append(f"<{tag}>")
        for item in v:
            _write_value(spec, shape.member, "member", item, parts)
        parts.append(f"</{tag}>")
        return
    else:
        text = escape(str(v))
    parts.append(f"<{tag}>{text}</{tag}>")
