"""What the services' plain-HTTP data planes (Lambda function URLs, execute-api) share: readers of an ASGI request,
and where a request the broker makes to a URL goes (`own_url`: its own host names are served on loopback)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson

from broker import clock, ids
from broker.config import Settings

Scope = Any
Receive = Any


def header(scope: Scope, name: bytes) -> str:
    """A request header's value (the first one; `name` in lower case), '' when absent."""
    for k, v in scope["headers"]:
        if k == name:
            return str(v.decode("latin-1"))
    return ""


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The request body, or None once it is (or its Content-Length says it will be) over `limit` bytes; the rest is
    not read."""
    length = header(scope, b"content-length")
    if length.isdigit() and int(length) > limit:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


# Added to what the data planes answer on their path forms (`/_aws/execute-api/...`, `/restapis/.../_user_request_/`,
# `/_broker/lambda-url/...`): those pages come from the broker's own origin, where the console lives. Sandboxed, a
# page gets an opaque origin (no scripts; its requests say `Origin: null` and carry no SameSite cookie), so an API's
# HTML cannot drive the console. The host forms (`<id>.execute-api.<host>`) are another origin already.
SANDBOX = (b"content-security-policy", b"sandbox")

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # what HTTP/1.1 forbids in a header value (a tab is fine)
# The framing of an answer is the broker's own: a function's result never sets these (they are dropped).
FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection", b"keep-alive", b"upgrade", b"te"})


def header_value(value: object) -> str:
    """A header value from a function's JSON result: a list is its items joined with commas, other non-strings
    their JSON text."""
    if isinstance(value, list):
        return ",".join(header_value(v) for v in value)
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def result_header(name: str, value: str) -> tuple[bytes, bytes] | None:
    """A header a function's result sets, as it goes on the wire (name in lower case); None when it cannot (a name
    that is not an HTTP token, a value with control characters or outside Latin-1): a malformed result."""
    if not _TOKEN.fullmatch(name) or _UNSAFE.search(value):
        return None
    try:
        return name.lower().encode("ascii"), value.encode("latin-1")
    except UnicodeEncodeError:
        return None


_FORWARDING = frozenset({"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})


def forwarded_headers(scope: Scope, trace: str = "") -> list[tuple[str, str]]:
    """A request's headers as API Gateway's front end passes them on: the client's own (names in lower case, as the
    ASGI server gives them), then the caller's address after any X-Forwarded-For it sent, the port and scheme it
    reached, and its trace id (`trace`, else a new one) — those four under their canonical names."""
    raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    forwarded = [v for k, v in raw if k == "x-forwarded-for"]
    trace = trace or header(scope, b"x-amzn-trace-id") or f"Root=1-{clock.now_ms() // 1000:08x}-{ids.token(12)}"
    client = scope.get("client") or ("127.0.0.1", 0)
    server = scope.get("server") or ("127.0.0.1", 80)
    return [(k, v) for k, v in raw if k not in _FORWARDING] + [
        ("X-Amzn-Trace-Id", trace),
        ("X-Forwarded-For", ", ".join([*forwarded, str(client[0])])),
        ("X-Forwarded-Port", str(server[1])),
        ("X-Forwarded-Proto", str(scope.get("scheme", "http"))),
    ]


_OWN_HOST = re.compile(r"^[^.]+\.(?:execute-api|lambda-url)\.", re.IGNORECASE)


def own_url(url: httpx.URL, settings: Settings) -> httpx.URL:
    """The URL to connect to for `url`: one whose host is the broker's own (`<id>.execute-api.*`,
    `<id>.lambda-url.*`, or a name in `own_host_names`) goes to the broker's port on 127.0.0.1 over plain HTTP — the
    caller keeps the Host header, which tells the broker what was asked — and needs no DNS; any other is unchanged."""
    host = url.host.lower()
    if _OWN_HOST.match(host) or host in settings.own_host_names:
        return url.copy_with(scheme="http", host="127.0.0.1", port=settings.port)
    return url


class TooLarge(Exception):
    """A backend's answer is over the payload limit."""


async def read_answer(answer: httpx.Response, limit: int, raw: bool) -> bytes:
    """A streamed backend answer's body — `raw`: as it came (still content-encoded), else decoded — refused past
    `limit` bytes (TooLarge) instead of held in memory whatever its size."""
    chunks, size = [], 0
    async for chunk in answer.aiter_raw() if raw else answer.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)
