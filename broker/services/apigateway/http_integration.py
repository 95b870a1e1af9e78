"""HTTP and HTTP_PROXY integrations: HTTP_PROXY passes the request to the integration's uri and the answer back
unchanged; HTTP maps both ways (request template and parameter mappings; the integration response the backend's
status selects, its template and response parameters). A uri naming the broker itself (`*.execute-api.*`,
`*.lambda-url.*`, the configured own_host_names) is sent to its own port on loopback (data_plane.own_url). The
parameter mappings, the integration answer's mapping, the timeout and the errors of a request that cannot be built
are shared with AWS integrations (aws_integration.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx

from broker.config import Settings
from broker.services.apigateway import routing, templates
from broker.services.apigateway.call import MAX_BODY, Call, Response
from broker.services.apigateway.gateway_errors import GatewayError
from broker.services.apigateway.integration_responses import (
    FRAMING,
    UNSAFE,
    integration_response,
    rendered,
    request_body,
    response_template,
)
from broker.services.data_plane import TooLarge, own_url, read_answer

Scope = Any


async def serve(
    call: Call, integration: dict[str, Any], request: templates.Request, client: httpx.AsyncClient
) -> Response:
    """HTTP_PROXY (the request passed through, the answer passed back) and HTTP (mapping templates both ways)."""
    proxy = integration.get("type") == "HTTP_PROXY"
    with outgoing_errors():
        outgoing = _outgoing(call.scope, integration, call.matched, request, proxy, call.env.settings)
    try:
        async with asyncio.timeout(timeout(integration)):
            answer = await client.send(outgoing, stream=True)
            try:
                # A proxy passes the bytes on as they came (still compressed); a template reads the decoded text.
                content = await read_answer(answer, MAX_BODY, raw=proxy)
            finally:
                await answer.aclose()
    except TooLarge as e:  # over API Gateway's 10 MB payload limit
        raise GatewayError("DEFAULT_5XX", "Internal server error", status=502) from e
    except (TimeoutError, httpx.TimeoutException) as e:
        raise GatewayError("INTEGRATION_TIMEOUT") from e
    except httpx.HTTPError as e:
        # Refused or reset connections are a configuration error to API Gateway (its execution log says so).
        raise GatewayError("API_CONFIGURATION_ERROR") from e
    if proxy:
        headers = [(k.lower(), v) for k, v in answer.headers.raw if k.lower() not in HOP_BY_HOP]
        return answer.status_code, headers, content
    return integration_answer(integration, request, answer.status_code, answer.headers, content)


DEFAULT_TIMEOUT_MS = 29_000
# Connection-level headers (RFC 9110 7.6.1) are not forwarded either way; the framing is the sender's own.
HOP_BY_HOP = frozenset(
    {
        b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"proxy-connection", b"te",
        b"trailer", b"trailers", b"transfer-encoding", b"upgrade", b"host", b"content-length",
    }
)  # fmt: skip
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([^}]*)\}")
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")


@contextmanager
def outgoing_errors() -> Iterator[None]:
    """The gateway error of a backend request that cannot be built: 415 when passthroughBehavior refuses the
    content type, 400 for a body the template cannot read, 500 for a bad template or uri."""
    try:
        yield
    except LookupError as e:
        raise GatewayError("UNSUPPORTED_MEDIA_TYPE") from e
    except templates.BodyError as e:
        raise GatewayError("BAD_REQUEST_BODY", str(e)) from e
    except (templates.TemplateError, ValueError, httpx.InvalidURL) as e:
        raise GatewayError("API_CONFIGURATION_ERROR") from e


def timeout(integration: dict[str, Any]) -> float:
    """The integration's timeoutInMillis in seconds (the 29 s default when unset or not a number)."""
    try:
        millis = int(integration.get("timeoutInMillis") or DEFAULT_TIMEOUT_MS)
    except (TypeError, ValueError):
        millis = DEFAULT_TIMEOUT_MS
    return max(millis, 1) / 1000


def _lookup(table: Any, name: str, fold: bool = False) -> str | None:
    if fold:
        name = name.lower()
        table = {str(k).lower(): v for k, v in table.items()}
    value = table.get(name)
    return None if value is None else str(value)


def _json_value(body: bytes, path: str | None) -> str | None:
    """A body (or what a JSONPath selects in it) as a mapping value: strings as they are, other values as JSON."""
    if path is None:
        return body.decode("utf-8", "replace")
    try:
        value = templates.select(json.loads(body), "$." + path)
    except (ValueError, RecursionError, templates.TemplateError):
        return None
    if value is templates.MISSING or value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _request_value(expression: str, request: templates.Request) -> str | None:
    """A request parameter mapping's source: 'literal', method.request.{path,querystring,header}.X,
    method.request.body[.JSONPath], stageVariables.X or context.X (None when the request has no such value)."""
    expression = expression.strip()
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    if expression == "method.request.body":
        return _json_value(request.body, None)
    if expression.startswith("method.request.body."):
        return _json_value(request.body, expression[len("method.request.body.") :])
    for prefix, table, fold in (
        ("method.request.path.", request.path, False),
        ("method.request.querystring.", request.querystring, False),
        ("method.request.multivaluequerystring.", request.querystring, False),
        ("method.request.header.", request.headers, True),
        ("method.request.multivalueheader.", request.headers, True),
        ("stageVariables.", request.stage_variables, False),
    ):
        if expression.startswith(prefix):
            return _lookup(table, expression[len(prefix) :], fold)
    if expression.startswith("context."):
        value: Any = request.context
        for part in expression[len("context.") :].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None or isinstance(value, dict | list) else str(value)
    return None


def mapped_parameters(integration: dict[str, Any], request: templates.Request) -> dict[str, dict[str, str]]:
    """The integration's requestParameters, evaluated: {"path": ..., "querystring": ..., "header": ...}."""
    out: dict[str, dict[str, str]] = {"path": {}, "querystring": {}, "header": {}}
    for target, source in (integration.get("requestParameters") or {}).items():
        where, _, name = str(target).removeprefix("integration.request.").partition(".")
        value = _request_value(str(source), request)
        if where in out and name and value is not None:
            out[where][name] = value
    return out


def _outgoing(
    scope: Scope,
    integration: dict[str, Any],
    matched: routing.Match,
    request: templates.Request,
    proxy: bool,
    settings: Settings,
) -> httpx.Request:
    """The request to the backend; raises LookupError (415), TemplateError, ValueError (a bad uri)."""
    uri = STAGE_VARIABLE.sub(lambda m: request.stage_variables.get(m.group(1), ""), integration.get("uri") or "")
    mapped = mapped_parameters(integration, request)
    content_type = request.headers.get("content-type") or _lookup(request.headers, "content-type", True) or ""
    if proxy:
        body = request.body
    else:  # rendered first: its $context.requestOverride may change the path, query string and headers
        body, content_type = request_body(integration, request, content_type, mapped)
    greedy = set(re.findall(r"\{([^{}/]+)\+\}", matched.resource["path"]))

    def placeholder(m: re.Match[str]) -> str:
        name = m.group(1).removesuffix("+")
        value = mapped["path"].get(name, request.path.get(name))
        if value is None:
            raise ValueError(f"no value for {{{name}}}")
        return quote(value, safe="/" if name in greedy else "")

    parts = urlsplit(_PLACEHOLDER.sub(placeholder, uri))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an HTTP endpoint: {uri}")
    query = [q for q in (parts.query,) if q]
    if proxy and scope.get("query_string"):
        query.append(scope["query_string"].decode("latin-1"))
    if mapped["querystring"]:
        query.append(urlencode(mapped["querystring"]))
    headers: list[tuple[bytes, bytes]] = []
    if proxy:
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP]
    elif content_type:
        headers.append((b"content-type", content_type.encode("latin-1", "replace")))
    for name, value in mapped["header"].items():
        key = name.lower().encode("latin-1", "replace")
        if key in HOP_BY_HOP or UNSAFE.search(value):
            continue
        headers = [h for h in headers if h[0].lower() != key] + [(key, value.encode("latin-1", "replace"))]
    url = httpx.URL(urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "&".join(query), "")))
    headers.insert(0, (b"host", url.netloc))
    url = own_url(url, settings)
    method = str(integration.get("httpMethod") or "ANY").upper()  # the stored integrationHttpMethod
    return httpx.Request(scope["method"] if method == "ANY" else method, url, headers=headers, content=body)


def response_value(expression: str, headers: httpx.Headers, body: bytes, request: templates.Request) -> str | None:
    """A response parameter mapping's source: 'literal', integration.response.header.X (or multivalueheader.X),
    integration.response.body, integration.response.body.<JSONPath>, stageVariables.X or context.X."""
    expression = expression.strip()
    for prefix in ("integration.response.header.", "integration.response.multivalueheader."):
        if expression.startswith(prefix):
            values = headers.get_list(expression[len(prefix) :])
            return ",".join(values) if values else None
    if expression == "integration.response.body":
        return _json_value(body, None)
    if expression.startswith("integration.response.body."):
        return _json_value(body, expression[len("integration.response.body.") :])
    if expression.startswith(("stageVariables.", "context.")) or expression[:1] == "'":
        return _request_value(expression, request)
    return None


def integration_answer(
    integration: dict[str, Any], request: templates.Request, status: int | str, backend: httpx.Headers, body: bytes
) -> Response:
    """A non-proxy HTTP answer mapped: the integration response whose selectionPattern matches the backend's status
    code (else the default one) gives the status, its template (with the backend's body as $input; none: the body
    passed through) the body, and its responseParameters the headers."""
    chosen = integration_response(integration, status)
    if chosen is None:  # no match and no default: a configuration error
        raise GatewayError("API_CONFIGURATION_ERROR")
    out_status, response = chosen
    content_type, template = response_template(response)
    headers = [(b"content-type", content_type.encode("latin-1", "replace"))]
    for name, source in (response.get("responseParameters") or {}).items():
        if not name.startswith("method.response.header."):
            continue
        value = response_value(str(source), backend, body, request)
        key = name[len("method.response.header.") :].lower().encode("latin-1", "replace")
        if value is None or key in FRAMING or UNSAFE.search(value):
            continue
        headers = [h for h in headers if h[0] != key] + [(key, value.encode("latin-1", "replace"))]
    if not template:
        return out_status, headers, body
    return rendered(template, dataclasses.replace(request, body=body), out_status, headers)
