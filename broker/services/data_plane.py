"""Readers of a plain-HTTP ASGI request that the services' data planes (Lambda function URLs, execute-api) share."""

from __future__ import annotations

from typing import Any

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
