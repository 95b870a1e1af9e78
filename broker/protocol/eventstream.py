"""Encodes `application/vnd.amazon.eventstream` messages, the framing of Kinesis SubscribeToShard responses.

A message is: prelude (total length, headers length: big-endian uint32 each; CRC32 of those 8 bytes), headers,
payload, then the CRC32 of everything before it. Each header is a 1-byte name length, the name, a type byte and
a value; only type 7 (UTF-8 string, 2-byte length) is needed here.

On the awsJson protocol boto3 requires the stream's first message to be an `initial-response` event carrying the
operation's non-stream output members (none for SubscribeToShard, so `{}`); without it the call fails with
"First event was not of type initial-response". Event payloads are rendered like JSON protocol bodies (blobs
base64, timestamps epoch seconds): `json_protocol.dumps(...)`.
"""

from __future__ import annotations

import struct
import zlib

CONTENT_TYPE = b"application/vnd.amazon.eventstream"

_STRING = 7
_MAX_NAME = 255  # the name length is one byte
_MAX_STRING = 32767  # the format's limit for string values (the length field is 2 bytes)
_MAX_HEADERS = 128 * 1024  # what botocore's reader accepts
_MAX_PAYLOAD = 16 * 1024 * 1024  # the format's limit; botocore's reader allows 24 MiB


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One complete message; ValueError for values the format (or botocore's reader) cannot carry."""
    encoded = bytearray()
    for name, value in headers.items():
        n = name.encode()
        v = value.encode()
        if not 0 < len(n) <= _MAX_NAME:
            raise ValueError(f"event stream header name must be 1 to {_MAX_NAME} bytes: {name!r}")
        if len(v) > _MAX_STRING:
            raise ValueError(f"event stream header {name!r} is longer than {_MAX_STRING} bytes")
        encoded += struct.pack(">B", len(n)) + n + struct.pack(">BH", _STRING, len(v)) + v
    if len(encoded) > _MAX_HEADERS:
        raise ValueError("event stream headers are too long")
    if len(payload) > _MAX_PAYLOAD:
        raise ValueError(f"event stream payload of {len(payload)} bytes exceeds {_MAX_PAYLOAD}")
    lengths = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    message = b"".join((lengths, struct.pack(">I", zlib.crc32(lengths)), encoded, payload))
    return message + struct.pack(">I", zlib.crc32(message))


def event(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """An event; `event_type` is the member name of the stream union, e.g. "SubscribeToShardEvent"."""
    return encode_message({":message-type": "event", ":event-type": event_type, ":content-type": content_type}, payload)


def initial_response(payload: bytes = b"{}", content_type: str = "application/json") -> bytes:
    """The first message of an awsJson event stream: the output's members other than the stream itself."""
    return event("initial-response", payload, content_type)


def exception(error_code: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """A modeled error that ends the stream, e.g. ("ResourceNotFoundException", b'{"message": "..."}').

    boto3 raises it from the event iterator as EventStreamError with Error.Code = `error_code` and Error.Message
    from the payload's "message" (or "Message"); `error_code` must be a member of the stream union to be parsed.
    """
    return encode_message(
        {":message-type": "exception", ":exception-type": error_code, ":content-type": content_type}, payload
    )
