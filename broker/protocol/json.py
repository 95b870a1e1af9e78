"""The awsJson1_0 / awsJson1_1 protocol: POST, X-Amz-Target dispatch, JSON bodies."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson
from botocore.model import OperationModel

from broker.errors import ServiceError
from broker.protocol.spec import InputConverter, ServiceSpec

Response = tuple[int, list[tuple[bytes, bytes]], bytes]


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def content_type(spec: ServiceSpec) -> bytes:
    return f"application/x-amz-json-{spec.model.metadata.get('jsonVersion', '1.0')}".encode()


def parse_input(spec: ServiceSpec, op: OperationModel, body: bytes) -> dict:
    if body.strip():
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ServiceError("SerializationException", "Malformed JSON request body.") from None
    else:
        data = {}
    if not isinstance(data, dict):
        raise ServiceError("SerializationException", "Request body must be a JSON object.")
    return InputConverter(spec, textual=False, enums=op.name in spec.enum_checked).convert(op.input_shape, data)


def render_result(spec: ServiceSpec, result: dict | None, request_id: str) -> Response:
    body = dumps(result or {})
    return 200, [(b"content-type", content_type(spec)), (b"x-amzn-requestid", request_id.encode())], body


def render_error(spec: ServiceSpec | None, err: ServiceError, request_id: str) -> Response:
    prefix = spec.json_error_prefix if spec else ""
    body = orjson.dumps({"__type": prefix + err.code, "message": err.message})
    headers = [
        (b"content-type", content_type(spec) if spec else b"application/x-amz-json-1.0"),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    if spec is not None and spec.query_compatible:
        fault = "Sender" if err.sender_fault else "Receiver"
        headers.append((b"x-amzn-query-error", f"{spec.error_wire_code(err.code)};{fault}".encode()))
    return err.status, headers, body
