"""A person's browser opening the broker's root is sent to the console; AWS clients never are (they sign, or name
an Action, and do not ask for HTML)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl

CONSOLE = b"/_broker/console/"


def is_browser_visit(scope: MutableMapping[str, Any]) -> bool:
    """An unsigned GET of `/` without an Action that accepts text/html."""
    if scope["method"] != "GET" or scope["path"] != "/":
        return False
    headers = dict(scope["headers"])
    if b"authorization" in headers or b"text/html" not in headers.get(b"accept", b""):
        return False
    query = scope.get("query_string", b"")
    if query:
        keys = {k.lower() for k, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)}
        if "action" in keys or any(k.startswith("x-amz-") for k in keys):
            return False
    return True


async def redirect(send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 302,
            "headers": [(b"location", CONSOLE), (b"content-length", b"0"), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": b""})
