"""The rest-json protocol (Lambda, API Gateway, EventBridge Scheduler): operations are named by HTTP method and URI
template (`uri.py`); members come from URI labels, the query string, headers and the body, as the model's
`location` says; results go back the same way, with the operation's own status code.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel, Shape

from broker import errors
from broker.errors import ServiceError
from broker.protocol import eventstream
from broker.protocol.base import (
    Headers,
    HttpRequest,
    Response,
    Route,
    RoutingError,
    Services,
    StreamEvent,
    WireProtocol,
    parse_credential,
)
from broker.protocol.json import dumps, loads
from broker.protocol.spec import InputConverter, ServiceSpec


class RestJsonProtocol(WireProtocol):
    def route(self, req: HttpRequest, services: Services) -> Route:
        try:
            found = services.rest.find(req)
        except (UnicodeDecodeError, ValueError):
            raise RoutingError(None, errors.malformed_query_string()) from None
        if isinstance(found, ServiceSpec) or found is None:
            # A path no operation has (or another method's): what AWS's rest-json front ends answer.
            raise RoutingError(found, errors.unknown_operation("", status=404))
        template, labels = found
        spec, op = template.spec, template.op
        if op.name not in spec.handlers:
            raise RoutingError(spec, errors.not_implemented(op.name))
        return Route(spec, op, parse_credential(req.header(b"authorization")), labels)

    def decode(self, route: Route, req: HttpRequest, host: str) -> dict[str, object]:
        shape = route.op.input_shape
        if shape is None:
            return {}
        raw: dict[str, Any] = {}
        payload_name = shape.serialization.get("payload")
        body_members = False
        try:
            query = req.query_params() if req.query_string else {}
            multi = _query_multi(req) if req.query_string else {}
        except (UnicodeDecodeError, ValueError):
            raise errors.malformed_query_string() from None
        for name, member in shape.members.items():
            loc = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if loc == "uri":
                if wire in route.fields:
                    raw[name] = _from_text(member, route.fields[wire], name)
            elif loc == "querystring":
                if member.type_name == "list":
                    if wire in multi:
                        raw[name] = [_from_text(member.member, v, name) for v in multi[wire]]
                elif member.type_name == "map":
                    raw[name] = {k: v for k, v in query.items() if k not in _bound_query_keys(shape)}
                elif wire in query:
                    raw[name] = _from_text(member, query[wire], name)
            elif loc == "header":
                value = req.headers.get(wire.lower().encode())
                if value is not None:
                    raw[name] = _from_header(member, value.decode("latin-1"), name)
            elif loc == "headers":
                prefix = wire.lower().encode()
                raw[name] = {
                    k[len(prefix) :].decode("latin-1"): v.decode("latin-1")
                    for k, v in req.headers.items()
                    if k.startswith(prefix) and len(k) > len(prefix)
                }
            elif name == payload_name:
                if member.type_name in ("blob", "string"):
                    if req.body or member.type_name == "blob":
                        raw[name] = req.body if member.type_name == "blob" else req.body.decode("utf-8", "replace")
                else:
                    data = loads(req.body)
                    if req.body.strip():
                        raw[name] = data
            else:
                body_members = True
        if body_members and payload_name is None:
            data = loads(req.body)
            if not isinstance(data, dict):
                raise errors.serialization("Request body must be a JSON object.")
            for name, member in shape.members.items():
                wire = member.serialization.get("name", name)
                if member.serialization.get("location") is None and wire in data:
                    raw[name] = _from_wire(member, data[wire])
        return InputConverter(route.spec, textual=False, enums=route.op.name in route.spec.enum_checked).convert(
            shape, raw
        )

    def render_result(
        self, spec: ServiceSpec, op: OperationModel, result: dict[str, Any] | None, request_id: str
    ) -> Response:
        status = int(op.http.get("responseCode", 200))
        headers: Headers = [(b"x-amzn-requestid", request_id.encode())]
        shape = op.output_shape
        result = result or {}
        if shape is None:
            return status, headers, b""
        payload_name = shape.serialization.get("payload")
        body: dict[str, Any] = {}
        payload: bytes | None = None
        for name, value in result.items():
            member = shape.members.get(name)
            if member is None or value is None:
                continue
            loc = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if loc == "statusCode":
                status = int(value)
            elif loc == "header":
                headers.append((wire.lower().encode(), _header_text(member, value).encode("latin-1", "replace")))
            elif loc == "headers":
                headers.extend((f"{wire}{k}".lower().encode(), str(v).encode()) for k, v in value.items())
            elif name == payload_name:
                if member.type_name == "blob":
                    payload = bytes(value)
                elif member.type_name == "string":
                    payload = str(value).encode()
                else:
                    payload = dumps(_body(member, value))
            else:
                body[wire] = _body(member, value)
        if payload is not None:
            if not any(k == b"content-type" for k, _ in headers):
                headers.append((b"content-type", b"application/json"))
            return status, headers, payload
        if payload_name is not None:  # an empty payload member: no body
            return status, headers, b""
        if not body and status == 204:  # no content: no content type either
            return status, headers, b""
        headers.append((b"content-type", b"application/json"))
        return status, headers, dumps(body)

    def render_error(self, spec: ServiceSpec | None, err: ServiceError, request_id: str) -> Response:
        """The error document: "Type" where the model's error shape has that member (Lambda's), the message under
        the shape's spelling, the other fields in the body or, where the shape puts them (Lambda's Retry-After),
        in headers. A field spelled like the message replaces it (AWS sends some messages as null); a field set to
        None leaves its member out (a few of Lambda's errors carry no Type)."""
        shape = _error_shape(spec, err.code)
        headers: Headers = [
            (b"x-amzn-requestid", request_id.encode()),
            (b"x-amzn-errortype", err.code.encode()),
            (b"content-type", b"application/json"),
        ]
        document: dict[str, Any] = {}
        if spec is not None and spec.rest_error_type and shape is not None and "Type" in shape.members:
            document["Type"] = "User" if err.sender_fault else "Service"
        message_key = _message_key(spec, err.code)
        if not any(name.lower() == "message" for name in err.fields):
            document[message_key] = err.message
        for name, value in err.fields.items():
            member = shape.members.get(name) if shape is not None else None
            if member is not None and member.serialization.get("location") == "header":
                wire = member.serialization.get("name", name)
                headers.append((wire.lower().encode(), _header_text(member, value).encode("latin-1", "replace")))
            elif value is None and name.lower() != "message":
                document.pop(name, None)
            else:
                document[name] = value
        return err.status, headers, dumps(document)

    # -- event streams: no initial-response message; the output's other members travel as headers ---------------
    def open_stream(
        self, spec: ServiceSpec, op: OperationModel, request_id: str, initial: dict[str, Any] | None = None
    ) -> tuple[Headers, bytes]:
        status, headers, _ = self.render_result(spec, op, initial or {}, request_id)
        headers = [(k, v) for k, v in headers if k != b"content-type"]
        headers.append((b"content-type", eventstream.CONTENT_TYPE))
        return headers, b""

    def frame_event(self, spec: ServiceSpec, op: OperationModel, event: StreamEvent) -> bytes:
        if event.error:
            return eventstream.exception(event.type, dumps(event.payload), "application/json")
        # A member marked eventpayload is the message's whole payload (Lambda's PayloadChunk.Payload: raw bytes).
        for value in event.payload.values():
            if isinstance(value, bytes | bytearray) and len(event.payload) == 1:
                return eventstream.event(event.type, bytes(value), "application/octet-stream")
        return eventstream.event(event.type, dumps(event.payload), "application/json")


PROTOCOL = RestJsonProtocol()


def _error_shape(spec: ServiceSpec | None, code: str) -> Shape | None:
    """The model's error shape of a code, or None for errors outside the model (AWS's front-end errors)."""
    if spec is None:
        return None
    try:
        shape = spec.model.shape_for(code)
    except Exception:  # noqa: BLE001 - botocore raises NoShapeFoundError (not exported) for codes outside the model
        return None
    return shape if shape.metadata.get("exception") else None


def _message_key(spec: ServiceSpec | None, code: str) -> str:
    """The member the error document spells its message with: the error shape's own ("message" or "Message"),
    the service's usual one for a shape without either, "message" for errors outside the model."""
    shape = _error_shape(spec, code)
    if spec is None or shape is None:
        return "message"  # AWS's front-end errors (ValidationException, UnknownOperationException) spell it so
    for key in ("Message", "message"):
        if key in shape.members:
            return key
    return spec.rest_error_message_key


# -- text forms of members (URI labels, query strings, headers) -----------------------------------------------------
def _query_multi(req: HttpRequest) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in parse_qsl(req.query_string.decode("latin-1"), keep_blank_values=True, errors="strict"):
        out.setdefault(k, []).append(v)
    return out


def _bound_query_keys(shape: Shape) -> set[str]:
    return {
        m.serialization.get("name", n)
        for n, m in shape.members.items()
        if m.serialization.get("location") == "querystring" and m.type_name != "map"
    }


def _from_text(shape: Shape, text: str, name: str) -> Any:
    t = shape.type_name
    if t in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise errors.serialization(f"Value '{text}' at '{name}' could not be parsed as a number.") from None
    if t in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise errors.serialization(f"Value '{text}' at '{name}' could not be parsed as a number.") from None
    if t == "boolean":
        if text.lower() not in ("true", "false"):
            raise errors.serialization(f"Value '{text}' at '{name}' could not be parsed as a boolean.")
        return text.lower() == "true"
    if t == "timestamp":
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise errors.serialization(f"Value '{text}' at '{name}' could not be parsed as a timestamp.") from None
    return text


def _from_header(shape: Shape, text: str, name: str) -> Any:
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        try:
            return base64.b64decode(text, validate=True).decode()
        except (binascii.Error, ValueError):
            raise errors.serialization(f"Header '{name}' is not base64-encoded JSON.") from None
    if shape.type_name == "timestamp":
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return _from_text(shape, text, name)
    if shape.type_name == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return _from_text(shape, text, name)


def _header_text(shape: Shape, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value.astimezone(UTC), usegmt=True)
    if shape.serialization.get("jsonvalue"):
        return base64.b64encode(str(value).encode()).decode()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _from_wire(shape: Shape, value: Any) -> Any:
    """A body member as the model names it: structure members sent under their locationName (API Gateway v2's
    camelCase names of PascalCase members) renamed; anything else as sent, for the converter to check."""
    t = shape.type_name
    if t == "structure" and isinstance(value, dict):
        renamed = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire in value:
                renamed[name] = _from_wire(member, value[wire])
        return renamed
    if t == "list" and isinstance(value, list):
        return [_from_wire(shape.member, v) for v in value]
    if t == "map" and isinstance(value, dict):
        return {k: _from_wire(shape.value, v) for k, v in value.items()}
    return value


def _body(shape: Shape, value: Any) -> Any:
    """A body member in JSON form: timestamps by the shape's timestampFormat (epoch seconds by default)."""
    t = shape.type_name
    if t == "timestamp" and isinstance(value, datetime):
        fmt = shape.serialization.get("timestampFormat")
        if fmt == "iso8601":
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return value.timestamp()
    if t == "structure" and isinstance(value, dict):
        out = {}
        for k, v in value.items():
            member = shape.members.get(k)
            if member is None:
                out[k] = v
            elif v is not None:
                out[member.serialization.get("name", k)] = _body(member, v)
        return out
    if t == "list" and isinstance(value, list):
        return [_body(shape.member, v) for v in value]
    if t == "map" and isinstance(value, dict):
        return {k: _body(shape.value, v) for k, v in value.items()}
    return value
