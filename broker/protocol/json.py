"""The awsJson1_0 / awsJson1_1 protocol: POST, X-Amz-Target dispatch, JSON bodies."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson
from botocore.model import OperationModel

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
    unknown_operation,
)
from broker.protocol.spec import InputConverter, ServiceSpec


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def content_type(spec: ServiceSpec | None) -> bytes:
    version = spec.model.metadata.get("jsonVersion", "1.0") if spec is not None else "1.0"
    return f"application/x-amz-json-{version}".encode()


def loads(body: bytes) -> object:
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise errors.serialization("Malformed JSON request body.") from None


class JsonProtocol(WireProtocol):
    """awsJson: the operation is named by X-Amz-Target ("<targetPrefix>.<Operation>"), members are the body's."""

    def route(self, req: HttpRequest, services: Services) -> Route:
        target = req.header(b"x-amz-target")
        prefix, _, op_name = target.rpartition(".")
        spec = services.by_target.get(prefix)
        if spec is None:
            raise RoutingError(None, errors.unknown_operation(f"Unknown target {target}."))
        op = spec.operation(op_name)
        if op is None:
            raise RoutingError(spec, unknown_operation(spec, op_name))
        return Route(spec, op, parse_credential(req.header(b"authorization")))

    def decode(self, route: Route, req: HttpRequest, host: str) -> dict[str, object]:
        return self.convert(route, self.loads(req.body))

    def loads(self, body: bytes) -> object:
        return loads(body)

    def convert(self, route: Route, data: object) -> dict[str, object]:
        if not isinstance(data, dict):
            raise errors.serialization(self.not_an_object)
        op = route.op
        return InputConverter(route.spec, textual=False, enums=op.name in route.spec.enum_checked).convert(
            op.input_shape, data
        )

    not_an_object = "Request body must be a JSON object."

    def render_result(
        self, spec: ServiceSpec, op: OperationModel, result: dict[str, Any] | None, request_id: str
    ) -> Response:
        body = self.dumps(self.output(op, result or {}))
        return 200, [(b"content-type", self.content_type(spec)), (b"x-amzn-requestid", request_id.encode())], body

    def output(self, op: OperationModel, result: dict[str, Any]) -> object:
        return result  # blobs and timestamps are encoded by dumps() from their Python types

    def dumps(self, value: object) -> bytes:
        return dumps(value)

    def content_type(self, spec: ServiceSpec | None) -> bytes:
        return content_type(spec)

    def render_error(self, spec: ServiceSpec | None, err: ServiceError, request_id: str) -> Response:
        body = self.dumps({"__type": spec.json_error_type(err.code) if spec else err.code, "message": err.message})
        headers = [(b"content-type", self.content_type(spec)), (b"x-amzn-requestid", request_id.encode())]
        if spec is not None and spec.query_compatible:
            fault = "Sender" if err.sender_fault else "Receiver"
            headers.append((b"x-amzn-query-error", f"{spec.error_wire_code(err.code)};{fault}".encode()))
        return err.status, headers, body

    # -- event streams (application/vnd.amazon.eventstream) --------------------------------------------------
    def open_stream(
        self, spec: ServiceSpec, op: OperationModel, request_id: str, initial: dict[str, Any] | None = None
    ) -> tuple[Headers, bytes]:
        # awsJson streams begin with an initial-response carrying the output's other members.
        headers = [(b"content-type", eventstream.CONTENT_TYPE), (b"x-amzn-requestid", request_id.encode())]
        return headers, eventstream.initial_response(self.dumps(initial or {}), self.event_content_type)

    def frame_event(self, spec: ServiceSpec, op: OperationModel, event: StreamEvent) -> bytes:
        payload = self.dumps(event.payload)
        if event.error:
            return eventstream.exception(event.type, payload, self.event_content_type)
        return eventstream.event(event.type, payload, self.event_content_type)

    event_content_type = "application/json"


PROTOCOL = JsonProtocol()
