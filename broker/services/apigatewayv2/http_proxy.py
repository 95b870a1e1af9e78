"""HTTP_PROXY integrations of HTTP APIs: the request passed to the integration's URL (its `{var}` / `{var+}`
placeholders filled from the path parameters, `${stageVariables.x}` from the stage; the `$default` route appends
the request's whole path), with the request's query string, headers and body, changed by the request parameter
mappings; the answer passed back. The broker's own host names (`*.execute-api.*`, `*.lambda-url.*`,
own_host_names) go to its own port on loopback, Host header kept (data_plane.own_url); any other URL is reached
as it is, like REST APIs' HTTP integrations and SNS HTTP subscriptions. A timeout is 503 Service Unavailable, a
failed connection 500."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx

from broker.services.apigateway.call import MAX_BODY
from broker.services.apigatewayv2 import payloads
from broker.services.apigatewayv2.incoming import Incoming
from broker.services.apigatewayv2.mapping import Outgoing, map_request
from broker.services.data_plane import TooLarge, own_url, read_answer

if TYPE_CHECKING:
    from broker.config import Settings

Doc = dict[str, Any]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]

DEFAULT_TIMEOUT_MS = 30_000  # HTTP APIs' default (and maximum) integration timeout
_PLACEHOLDER = re.compile(r"\{([^{}/$]+?)(\+?)\}")
# Only stage variables fill an integration URI (as AWS documents): request input never picks the backend's host.
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([^}]*)\}")
# Connection-level headers (RFC 9110 7.6.1) are not forwarded either way; the framing is the sender's own.
_HOP_BY_HOP = frozenset(
    {
        b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"proxy-connection", b"te",
        b"trailer", b"trailers", b"transfer-encoding", b"upgrade", b"host", b"content-length",
    }
)  # fmt: skip


def stage_variables(uri: str, request: Incoming) -> str:
    """An integration URI with its `${stageVariables.name}` filled in from the stage."""
    return _STAGE_VARIABLE.sub(lambda m: str(request.stage_variables.get(m.group(1), "")), uri)


def timeout_s(integration: Doc) -> float:
    try:
        millis = int(integration.get("TimeoutInMillis") or DEFAULT_TIMEOUT_MS)
    except (TypeError, ValueError):
        millis = DEFAULT_TIMEOUT_MS
    return max(millis, 50) / 1000


def _url(integration: Doc, request: Incoming) -> tuple[str, str, str]:
    """(scheme://netloc, path, query) of the integration's URL for this request; raises ValueError."""
    uri = stage_variables(str(integration.get("IntegrationUri") or ""), request)

    def placeholder(m: re.Match[str]) -> str:
        value = request.path_parameters.get(m.group(1))
        if value is None:
            raise ValueError(f"no value for {m.group(0)}")
        greedy = bool(m.group(2)) or "/" in value
        return quote(value, safe="/" if greedy else "")

    parts = urlsplit(_PLACEHOLDER.sub(placeholder, uri))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an HTTP endpoint: {uri}")
    path = parts.path
    if request.route_key == "$default":
        path = path.rstrip("/") + quote(request.path, safe="/")
    return f"{parts.scheme}://{parts.netloc}", path or "/", parts.query


async def forward(client: httpx.AsyncClient, settings: Settings, integration: Doc, request: Incoming) -> Response:
    try:
        base, path, uri_query = _url(integration, request)
    except ValueError:
        return payloads.internal_error()
    out = Outgoing(
        headers=[(k, v) for k, v in request.headers if k.encode() not in _HOP_BY_HOP],
        query=list(request.query),
        path=path,
    )
    out = map_request(integration.get("RequestParameters"), request, out)
    if out.query_changed:
        query = "&".join(q for q in (uri_query, urlencode(out.query, quote_via=quote)) if q)
    else:
        query = "&".join(q for q in (uri_query, request.raw_query) if q)
    parts = urlsplit(base)
    try:
        url = httpx.URL(
            urlunsplit((parts.scheme, parts.netloc, quote(out.path, safe="/%:@!$&'()*+,;=-._~"), query, ""))
        )
    except httpx.InvalidURL:
        return payloads.internal_error()
    headers = [(b"host", url.netloc)]
    headers += [(k.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in out.headers]
    url = own_url(url, settings)
    method = str(integration.get("IntegrationMethod") or "ANY").upper()
    outgoing = httpx.Request(request.method if method == "ANY" else method, url, headers=headers, content=request.body)
    try:
        async with asyncio.timeout(timeout_s(integration)):
            answer = await client.send(outgoing, stream=True)
            try:
                content = await read_answer(answer, MAX_BODY, raw=True)  # passed on as it came (compressed too)
            finally:
                await answer.aclose()
    except TooLarge:  # over the 10 MB payload limit
        return payloads.internal_error()
    except (TimeoutError, httpx.TimeoutException):
        return payloads.message(503, "Service Unavailable")
    except httpx.HTTPError:
        return payloads.internal_error()
    kept = [(k.lower(), v) for k, v in answer.headers.raw if k.lower() not in _HOP_BY_HOP]
    return answer.status_code, kept, content
