"""MD5 digests exactly as SQS computes them (the SDKs verify MD5OfMessageBody and MD5OfMessageAttributes)."""

from __future__ import annotations

import hashlib
import struct
from typing import Any


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def md5_of_attributes(attributes: dict[str, dict[str, Any]]) -> str | None:
    """Names sorted; each of name, data type and value length-prefixed (4-byte big-endian), with a transport
    byte before the value: 1 for string values, 2 for binary."""
    if not attributes:
        return None
    h = hashlib.md5()
    for name in sorted(attributes):
        attr = attributes[name]
        data_type = attr["DataType"]
        _put(h, name.encode("utf-8"))
        _put(h, data_type.encode("utf-8"))
        if "BinaryValue" in attr and attr.get("StringValue") is None:
            h.update(b"\x02")
            _put(h, attr["BinaryValue"])
        else:
            h.update(b"\x01")
            _put(h, attr["StringValue"].encode("utf-8"))
    return h.hexdigest()


def _put(h: hashlib._Hash, data: bytes) -> None:
    h.update(struct.pack(">I", len(data)))
    h.update(data)
