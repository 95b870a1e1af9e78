"""Streaming (aws-chunked) payloads: the body comes in chunks, each signed in a chain that starts at the request's
seed signature (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, optionally with a signed trailer), or unsigned with a trailing
checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER). `decode` checks every signature and checksum and hands back the
request with its plain body, as if it had been sent whole."""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from collections.abc import Callable
from dataclasses import replace

from broker.auth.errors import AuthFailure
from broker.protocol.base import HttpRequest

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_STREAMING = frozenset({SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER})
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def is_streaming(payload_hash: str) -> bool:
    return payload_hash in _STREAMING


def _malformed() -> AuthFailure:
    # AWS's (S3's) answer to a broken chunk frame is IncompleteBody, a code these services do not send.
    return AuthFailure("mismatch", "The aws-chunked body is malformed.")


def decode(req: HttpRequest, mode: str, amz_date: str, scope: str, seed: str, signing_key: bytes) -> HttpRequest:
    body = req.body
    pos = 0
    previous = seed
    out: list[bytes] = []
    signed = mode != UNSIGNED_TRAILER
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise _malformed()
        size_text, _, extension = body[pos:end].decode("latin-1").partition(";")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _malformed() from None
        data = body[end + 2 : end + 2 + size]
        if len(data) != size:
            raise _malformed()
        pos = end + 2 + size
        if signed:
            name, _, chunk_sig = extension.partition("=")
            if name != "chunk-signature":
                raise _malformed()
            to_sign = "\n".join(
                ("AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, _EMPTY_SHA256, hashlib.sha256(data).hexdigest())
            )
            expected = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected.encode(), chunk_sig.encode()):  # bytes: the text may not be ASCII
                raise AuthFailure("mismatch")
            previous = expected
        if size == 0:
            break
        if body[pos : pos + 2] != b"\r\n":
            raise _malformed()
        pos += 2
        out.append(data)
    decoded = b"".join(out)
    if mode == SIGNED:
        if body[pos:] not in (b"\r\n", b""):
            raise _malformed()
    else:
        _check_trailer(req, body[pos:], decoded, mode == SIGNED_TRAILER, amz_date, scope, previous, signing_key)
    declared = req.header(b"x-amz-decoded-content-length")
    if declared and declared != str(len(decoded)):
        raise _malformed()
    headers = dict(req.headers)
    encodings = [e.strip() for e in req.header(b"content-encoding").split(",") if e.strip() not in ("", "aws-chunked")]
    if encodings:
        headers[b"content-encoding"] = ", ".join(encodings).encode("latin-1")
    else:
        headers.pop(b"content-encoding", None)
    headers[b"content-length"] = str(len(decoded)).encode()
    return replace(req, body=decoded, headers=headers)


def _check_trailer(
    req: HttpRequest,
    tail: bytes,
    decoded: bytes,
    signed: bool,
    amz_date: str,
    scope: str,
    previous: str,
    signing_key: bytes,
) -> None:
    lines = [line for line in tail.decode("latin-1").split("\r\n") if line]
    fields: dict[str, str] = {}
    signature = None
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise _malformed()
        if name.strip().lower() == "x-amz-trailer-signature":
            signature = value.strip()
        else:
            fields[name.strip().lower()] = value.strip()
    if signed:
        canonical = "".join(f"{name}:{value}\n" for name, value in fields.items())
        to_sign = "\n".join(
            ("AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous, hashlib.sha256(canonical.encode()).hexdigest())
        )
        expected = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        if signature is None or not hmac.compare_digest(expected.encode(), signature.encode()):
            raise AuthFailure("mismatch")
    announced = req.header(b"x-amz-trailer").strip().lower()
    if announced and announced not in fields:
        raise _malformed()
    for name, value in fields.items():
        algorithm = name.removeprefix("x-amz-checksum-")
        compute = _CHECKSUMS.get(algorithm)
        if compute is None:
            if name.startswith("x-amz-checksum-"):
                raise AuthFailure("mismatch", f"The algorithm type you specified in {name} header is invalid.")
            continue
        if base64.b64encode(compute(decoded)).decode() != value:
            raise AuthFailure("mismatch", f"Value for {name} trailing header is invalid.")


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def _crc32c(data: bytes) -> bytes:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return (crc ^ 0xFFFFFFFF).to_bytes(4, "big")


_CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "crc32c": _crc32c,
    "sha1": lambda data: hashlib.sha1(data).digest(),
    "sha256": lambda data: hashlib.sha256(data).digest(),
}
