"""The CBOR flavour of awsJson1_1 (`application/x-amz-cbor-1.1`): X-Amz-Target dispatch, CBOR bodies.

It is what the AWS SDK for Java (v1 and v2) and the KCL send to Kinesis by default. Dispatch, validation and
errors are the JSON protocol's; only the body encoding differs:

- blobs are CBOR byte strings, never base64;
- timestamps are CBOR tag 1 holding an integer count of epoch *milliseconds*. RFC 8949 says seconds, but the AWS
  SDKs write `Instant.toEpochMilli()` and parse the number with `Long.parseLong` as millis
  (aws/aws-sdk-java-v2 #4661, AwsCborProtocolFactory's UNIX_TIMESTAMP_MILLIS), and Kinesis answers the same way.
  Epoch seconds would decode as January 1970 on the client, and a float would not parse at all.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
from botocore.model import OperationModel, Shape

from broker import errors
from broker.protocol.json import JsonProtocol
from broker.protocol.spec import ServiceSpec, needs_output_conversion

CONTENT_TYPE = b"application/x-amz-cbor-1.1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def is_cbor(content_type: bytes) -> bool:
    """True for a request body in this protocol (the value of its Content-Type header)."""
    return content_type.strip().lower().startswith(CONTENT_TYPE)


# -- decoding -------------------------------------------------------------------------------------------------
def _tag1_millis(value: Any, immutable: bool) -> datetime:
    # Replaces cbor2's RFC reading of tag 1 (seconds), which fails on AWS's millis with "year out of range".
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("tag 1 must hold a number")
    return _EPOCH + timedelta(milliseconds=value)


_SEMANTIC = {1: _tag1_millis}


def loads(body: bytes) -> Any:
    """One CBOR data item, AWS's tag 1 read as epoch millis; anything else in `body` is malformed input."""
    fp = io.BytesIO(body)
    decoder = cbor2.CBORDecoder(fp, semantic_decoders=_SEMANTIC)
    try:
        value = decoder.decode()
    except Exception:  # noqa: BLE001 - any failure to decode (bad bytes, EOF, overflow, nesting) is the client's
        raise errors.serialization("Malformed CBOR request body.") from None
    try:
        decoder.read(1)
    except cbor2.CBORDecodeEOF:
        return value
    raise errors.serialization("Malformed CBOR request body: data after the first item.")


# -- encoding -------------------------------------------------------------------------------------------------
def epoch_millis(value: datetime | int | float) -> int:
    """A timestamp as the wire's integer epoch millis; numbers are epoch seconds, as handlers give them for JSON."""
    if isinstance(value, datetime):
        # Naive datetimes are local time, as datetime.timestamp() (and so the JSON protocol) reads them.
        return (value.astimezone(UTC) - _EPOCH) // _MS
    return round(value * 1000)


def _encode_datetime(encoder: cbor2.CBOREncoder, value: datetime) -> None:
    encoder.encode_semantic(1, epoch_millis(value))


def _encode_memoryview(encoder: cbor2.CBOREncoder, value: memoryview) -> None:
    encoder.encode_bytes(value.tobytes())  # cbor2 would otherwise write it as an array of ints


_ENCODERS: dict[type, Callable[[cbor2.CBOREncoder, Any], None]] = {
    datetime: _encode_datetime,
    memoryview: _encode_memoryview,
}


def dumps(value: Any) -> bytes:
    return cbor2.dumps(value, encoders=_ENCODERS)


def _wire(shape: Shape, value: Any) -> Any:
    """Timestamp members given as epoch-seconds numbers become tag 1 millis; only the shape tells they are times."""
    t = shape.type_name
    if t == "timestamp":
        if isinstance(value, datetime) or (isinstance(value, int | float) and not isinstance(value, bool)):
            return cbor2.CBORTag(1, epoch_millis(value))
        return value
    if t == "structure" and isinstance(value, dict):
        members = shape.members
        out = {}
        for name, v in value.items():
            mshape = members.get(name)
            out[name] = _wire(mshape, v) if mshape is not None and needs_output_conversion(mshape) else v
        return out
    if t == "list" and isinstance(value, list | tuple):
        return [_wire(shape.member, v) for v in value]
    if t == "map" and isinstance(value, dict):
        return {k: _wire(shape.value, v) for k, v in value.items()}
    return value


class CborProtocol(JsonProtocol):
    """awsJson's routing, validation and errors, with CBOR bodies (and CBOR event payloads)."""

    not_an_object = "Request body must be a CBOR map."
    event_content_type = CONTENT_TYPE.decode()

    def loads(self, body: bytes) -> object:
        return loads(body) if body else {}

    def dumps(self, value: object) -> bytes:
        return dumps(value)

    def content_type(self, spec: ServiceSpec | None) -> bytes:
        return CONTENT_TYPE

    def output(self, op: OperationModel, result: dict[str, Any]) -> object:
        # Only the output shape tells which numbers are timestamps, which CBOR must tag.
        shape = op.output_shape
        if shape is not None and needs_output_conversion(shape):
            return _wire(shape, result)
        return result


PROTOCOL = CborProtocol()
