"""What the services' plain-HTTP data planes (Lambda function URLs, execute-api) share: readers of an ASGI request,
and where a request the broker makes to a URL goes (`own_url`: its own host names are served on loopback)."""

from __future__ import annotations

import re
from typing import Any

import httpx

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


_OWN_HOST = re.compile(r"^[^.]+\.(?:execute-api|lambda-url)\.", re.IGNORECASE)


def own_url(url: httpx.URL, settings: Settings) -> httpx.URL:
    """The URL to connect to for `url`: one whose host is the broker's own (`<id>.execute-api.*`,
    `<id>.lambda-url.*`, or a name in `own_host_names`) goes to the broker's port on 127.0.0.1 over plain HTTP — the
    caller keeps the Host header, which tells the broker what was asked — and needs no DNS; any other is unchanged."""
    host = url.host.lower()
    if _OWN_HOST.match(host) or host in settings.own_host_names:
        return url.copy_with(scheme="http", host="127.0.0.1", port=settings.port)
    return url
