"""Invoking deployed REST APIs (the execute-api data plane) on the broker's port: any Host
`<api-id>.execute-api.<anything>` (`/<stage>/<path>`), and the path forms `/_aws/execute-api/<api-id>/<stage>/<path>`
and `/restapis/<api-id>/<stage>/_user_request_/<path>`. A stage serves the snapshot of the deployment it points
to. Integrations: Lambda proxy (AWS_PROXY, event format 1.0, responses mapped as API Gateway maps them) and MOCK
(the rendered request template's statusCode selects the integration response, whose rendered template is the body;
Velocity templates in templates.py), HTTP_PROXY (the request passed through to the integration's uri, the answer
passed back unchanged) and HTTP (request and response templates, integration responses chosen by the backend's
status code, response parameter mappings). An HTTP uri naming the broker itself (`*.execute-api.*`,
`*.lambda-url.*`) is sent to the broker's own port on loopback, its Host header kept, never resolved over DNS."""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
import orjson

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import api_keys, routing, store, templates
from broker.services.base import Env
from broker.services.lambda_.invoke_operations import MAX_SYNC_PAYLOAD, resolve, run

_HOST = re.compile(r"^([a-z0-9]+)\.execute-api\.", re.IGNORECASE)
AWS_PREFIX = "/_aws/execute-api/"
USER_REQUEST = "/_user_request_/"
_LAMBDA_URI = re.compile(r"^arn:aws:apigateway:[^:]+:lambda:path/2015-03-31/functions/(.+)/invocations$")

Response = tuple[int, list[tuple[bytes, bytes]], bytes]
Scope = Any
Receive = Any
Send = Any


def _json(status: int, message: str, error_type: str | None = None) -> Response:
    headers = [(b"content-type", b"application/json")]
    if error_type:
        headers.append((b"x-amzn-errortype", error_type.encode()))
    return status, headers, orjson.dumps({"message": message})


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope["headers"]:
        if k == name:
            return str(v.decode("latin-1"))
    return ""


class ExecuteApi:
    """The data plane of REST APIs (one per worker process)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self._http: httpx.AsyncClient | None = None

    def claims(self, host: str, path: str) -> bool:
        return (
            ".execute-api." in host
            or path.startswith(AWS_PREFIX)
            or (path.startswith("/restapis/") and USER_REQUEST in path)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = ids.uuid4()
        body = await _body(scope, receive)
        if body is None:
            status, headers, content = _json(413, "Request Too Long", "RequestTooLongException")
        else:
            status, headers, content = await self._serve(scope, body, request_id)
        headers.append((b"x-amzn-requestid", request_id.encode()))
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _target(self, scope: Scope) -> tuple[str, str, str] | None:
        """(api id, stage, path) of a request."""
        path: str = scope["path"]
        m = _HOST.match(_header(scope, b"host"))
        if m is not None:
            stage, _, rest = path.lstrip("/").partition("/")
            return m.group(1).lower(), stage, "/" + rest
        if path.startswith(AWS_PREFIX):
            api_id, _, rest = path[len(AWS_PREFIX) :].partition("/")
            stage, _, rest = rest.partition("/")
            return api_id, stage, "/" + rest
        head, _, rest = path[len("/restapis/") :].partition(USER_REQUEST)
        api_id, _, stage = head.partition("/")
        return (api_id, stage, "/" + rest) if api_id and stage else None

    async def _serve(self, scope: Scope, body: bytes, request_id: str) -> Response:
        target = self._target(scope)
        if target is None:
            return _json(403, "Forbidden", "ForbiddenException")
        api_id, stage_name, path = target
        db = self.env.db
        found = await db.read(store.find_api, api_id) if api_id.isalnum() else None
        if found is None:
            return _json(403, "Forbidden", "ForbiddenException")
        account, region, api = found
        stage = await db.read(store.get, account, region, store.STAGE, api_id, stage_name)
        deployment = (
            await db.read(store.get, account, region, store.DEPLOYMENT, api_id, stage["deploymentId"])
            if stage is not None
            else None
        )
        if stage is None or deployment is None:
            return _json(403, "Forbidden", "ForbiddenException")
        method = scope["method"]
        matched = routing.match(deployment.get("_resources") or [], method, path)
        if matched is None:
            return _json(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        if matched.method.get("apiKeyRequired") and api.get("apiKeySource", "HEADER") == "HEADER":
            value = _header(scope, b"x-api-key")
            if not await db.read(api_keys.allows, account, region, api_id, stage_name, value):
                return _json(403, "Forbidden", "ForbiddenException")
        integration = matched.method.get("methodIntegration")
        if integration is None:
            return _json(500, "Internal server error")
        kind = integration.get("type")
        if kind == "MOCK":
            event = _proxy_event(scope, api_id, account, stage, matched, path, body, request_id)
            return _mock(integration, _template_request(event, body))
        if kind == "AWS_PROXY":
            ctx = RequestContext(
                env=self.env, account=account, region=region, host=_header(scope, b"host"), trace_header=""
            )
            event = _proxy_event(scope, api_id, account, stage, matched, path, body, request_id)
            return await _lambda_proxy(ctx, integration, event)
        if kind in ("HTTP", "HTTP_PROXY"):
            event = _proxy_event(scope, api_id, account, stage, matched, path, body, request_id)
            return await self._http_integration(scope, integration, matched, event, body)
        return _json(500, "Internal server error")  # AWS integrations are not served yet

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # No proxies from the environment and no redirects followed: the backend's own answer is what counts.
            self._http = httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=None)
        return self._http

    async def _http_integration(
        self, scope: Scope, integration: dict[str, Any], matched: routing.Match, event: dict[str, Any], body: bytes
    ) -> Response:
        """HTTP_PROXY (the request passed through, the answer passed back) and HTTP (mapping templates both ways)."""
        request = _template_request(event, body)
        proxy = integration.get("type") == "HTTP_PROXY"
        try:
            outgoing = _http_request(scope, integration, matched, request, proxy, self.env.settings.port)
        except LookupError:
            return _json(415, "Unsupported Media Type", "UnsupportedMediaTypeException")
        except templates.BodyError as e:
            return _json(400, str(e), "BadRequestException")
        except (templates.TemplateError, ValueError, httpx.InvalidURL):
            return _json(500, "Internal server error")  # API Gateway's API_CONFIGURATION_ERROR
        try:
            millis = int(integration.get("timeoutInMillis") or DEFAULT_TIMEOUT_MS)
        except (TypeError, ValueError):
            millis = DEFAULT_TIMEOUT_MS
        try:
            async with asyncio.timeout(max(millis, 1) / 1000):
                answer = await self._client().send(outgoing, stream=True)
                try:
                    # A proxy passes the bytes on as they came (still compressed); a template reads the decoded text.
                    content = b"".join([c async for c in answer.aiter_raw()]) if proxy else await answer.aread()
                finally:
                    await answer.aclose()
        except (TimeoutError, httpx.TimeoutException):
            return _json(504, "Endpoint request timed out")
        except httpx.HTTPError:
            # Refused or reset connections are a configuration error to API Gateway (its execution log says so).
            return _json(500, "Internal server error")
        if proxy:
            headers = [(k.lower(), v) for k, v in answer.headers.raw if k.lower() not in _HOP_BY_HOP]
            return answer.status_code, headers, content
        return _http_response(integration, request, answer.status_code, answer.headers, content)


async def _body(scope: Scope, receive: Receive) -> bytes | None:
    """The request body, or None once it is over API Gateway's 10 MB payload limit."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > 10 * 1024 * 1024:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


# -- MOCK -----------------------------------------------------------------------------------------------------------
def _template_request(event: dict[str, Any], body: bytes) -> templates.Request:
    """What mapping templates see of a request: its payload, parameters (the last value of a repeated one),
    $context and $stageVariables (taken from the proxy event, so both agree)."""
    return templates.Request(
        body=body,
        path=event["pathParameters"] or {},
        querystring=event["queryStringParameters"] or {},
        headers=event["headers"] or {},
        context=event["requestContext"],
        stage_variables=event["stageVariables"] or {},
    )


_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _media_type(value: str) -> str:
    return value.partition(";")[0].strip().lower()


def _request_template(integration: dict[str, Any], content_type: str) -> str | None:
    """The request template for the request's content type (application/json when it names none); None for a
    passthrough; raises LookupError when passthroughBehavior refuses the request (415)."""
    templates_ = integration.get("requestTemplates") or {}
    wanted = _media_type(content_type) or "application/json"
    for key, template in templates_.items():
        if _media_type(key) == wanted:
            return str(template or "")
    behavior = integration.get("passthroughBehavior") or "WHEN_NO_MATCH"
    if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates_):
        raise LookupError(wanted)
    return None


def _mock(integration: dict[str, Any], request: templates.Request) -> Response:
    """A MOCK integration: its request template (rendered) names the statusCode that selects the integration
    response (by its selectionPattern, else the default one); that response's template, rendered with MOCK's empty
    result as $input, is the body, and $context.responseOverride may change the status and headers."""
    try:
        template = _request_template(integration, request.headers.get("content-type", ""))
    except LookupError:
        return _json(415, "Unsupported Media Type", "UnsupportedMediaTypeException")
    try:
        mapped = (
            request.body.decode("utf-8", "replace") if template is None else templates.render(template, request).text
        )
    except templates.BodyError as e:
        return _json(400, str(e), "BadRequestException")
    except templates.TemplateError:
        return _json(500, "Internal server error")
    status = 200
    if mapped.strip():
        try:
            status = int(json.loads(mapped).get("statusCode", 200))
        except (ValueError, AttributeError, TypeError):
            if template is not None:  # a passed-through body that names no statusCode is a plain 200
                return _json(500, "Internal server error")
    chosen = _integration_response(integration, status)
    if chosen is None:
        return _json(500, "Internal server error")
    status, response = chosen
    content_type, template = _response_template(response)
    headers = [(b"content-type", content_type.encode("latin-1", "replace"))]
    for name, value in (response.get("responseParameters") or {}).items():
        if name.startswith("method.response.header.") and value.startswith("'") and value.endswith("'"):
            headers.append((name[len("method.response.header.") :].lower().encode(), value[1:-1].encode()))
    if not template:
        return status, headers, b""
    return _rendered(template, dataclasses.replace(request, body=b""), status, headers)


def _integration_response(integration: dict[str, Any], status: int) -> tuple[int, dict[str, Any]] | None:
    """(status code, integration response) whose selectionPattern matches `status`, else the default one (no
    pattern); None when neither exists or the code is not a number (a configuration error: 500)."""
    responses = integration.get("integrationResponses") or {}
    chosen = None
    for code, response in responses.items():
        pattern = response.get("selectionPattern")
        try:
            if pattern and re.fullmatch(pattern, str(status)):
                chosen = (code, response)
                break
        except re.error:
            continue
    if chosen is None:
        chosen = next(((c, r) for c, r in responses.items() if not r.get("selectionPattern")), None)
    if chosen is None:
        return None
    try:
        return int(chosen[0]), chosen[1]
    except ValueError:
        return None


def _response_template(response: dict[str, Any]) -> tuple[str, str | None]:
    """(content type, template) of an integration response: application/json's, else the first one."""
    response_templates = response.get("responseTemplates") or {}
    content_type = "application/json"
    template = response_templates.get(content_type)
    if template is None and response_templates:
        content_type, template = next(iter(response_templates.items()))
    return content_type, template


def _rendered(template: str, request: templates.Request, status: int, headers: list[tuple[bytes, bytes]]) -> Response:
    """A response template rendered: its text the body, $context.responseOverride's status and headers applied
    (framing headers and values with line breaks dropped: a value may carry request input)."""
    try:
        rendered = templates.render(template, request)
    except templates.TemplateError:
        return _json(500, "Internal server error")
    if rendered.status is not None:
        if not 100 <= rendered.status <= 599:
            return _json(500, "Internal server error")
        status = rendered.status
    for name, value in rendered.headers.items():
        key = name.lower().encode("latin-1", "replace")
        if key in _FRAMING or _UNSAFE.search(value):
            continue
        headers = [h for h in headers if h[0] != key] + [(key, value.encode("latin-1", "replace"))]
    return status, headers, rendered.text.encode()


# -- Lambda proxy ---------------------------------------------------------------------------------------------------
def _multi(
    pairs: list[tuple[str, str]], lower: bool = False
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for k, v in pairs:
        key = k.lower() if lower else k
        single[key] = v
        multi.setdefault(key, []).append(v)
    return single, multi


def _proxy_event(
    scope: Scope,
    api_id: str,
    account: str,
    stage: dict[str, Any],
    matched: routing.Match,
    path: str,
    body: bytes,
    request_id: str,
) -> dict[str, Any]:
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    single_h, multi_h = _multi(headers)
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    single_q, multi_q = _multi(query)
    now = clock.now_ms()
    text_body: str | None = None
    is_b64 = False
    if body:
        try:
            text_body = body.decode()
        except UnicodeDecodeError:
            text_body, is_b64 = base64.b64encode(body).decode(), True
    host = _header(scope, b"host")
    client = scope.get("client") or ("127.0.0.1", 0)
    return {
        "resource": matched.resource["path"],
        "path": path,
        "httpMethod": scope["method"],
        "headers": single_h,
        "multiValueHeaders": multi_h,
        "queryStringParameters": single_q,
        "multiValueQueryStringParameters": multi_q,
        "pathParameters": matched.path_parameters or None,
        "stageVariables": stage.get("variables") or None,
        "requestContext": {
            "resourceId": matched.resource["id"],
            "resourcePath": matched.resource["path"],
            "httpMethod": scope["method"],
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(now / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage['stageName']}{path}",
            "accountId": account,
            "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
            "stage": stage["stageName"],
            "domainPrefix": host.split(".")[0] if host else api_id,
            "requestTimeEpoch": now,
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": client[0],
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": _header(scope, b"user-agent") or None,
                "user": None,
            },  # fmt: skip
            "domainName": host,
            "apiId": api_id,
        },
        "body": text_body,
        "isBase64Encoded": is_b64,
    }


async def _lambda_proxy(ctx: RequestContext, integration: dict[str, Any], event: dict[str, Any]) -> Response:
    m = _LAMBDA_URI.match(integration.get("uri") or "")
    if m is None:
        return _json(500, "Internal server error")
    try:
        ref, version = await resolve(ctx, {"FunctionName": m.group(1)})
        payload = orjson.dumps(event)
        if len(payload) > MAX_SYNC_PAYLOAD:
            return _json(413, "Request Too Long", "RequestTooLongException")
        outcome = await run(ctx, ref, version, payload, None)
    except ServiceError as e:
        if e.status == 429:
            return _json(429, "Too Many Requests")
        return _json(500, "Internal server error")
    if outcome.function_error:
        return _json(502, "Internal server error")
    return _proxy_response(outcome.payload)


def _proxy_response(payload: bytes) -> Response:
    """A Lambda proxy result as API Gateway maps it: statusCode (required), headers and multiValueHeaders (both
    sent), body (base64-decoded when isBase64Encoded); anything else is a malformed response: 502."""
    try:
        result = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _json(502, "Internal server error")
    if not isinstance(result, dict):
        return _json(502, "Internal server error")
    raw_status: Any = result.get("statusCode")
    try:
        status = int(raw_status)
    except (TypeError, ValueError):
        return _json(502, "Internal server error")
    if not 100 <= status <= 599:
        return _json(502, "Internal server error")
    headers: list[tuple[bytes, bytes]] = []
    try:
        for k, v in (result.get("headers") or {}).items():
            headers.append((str(k).lower().encode("latin-1"), str(v).encode("latin-1")))
        for k, values in (result.get("multiValueHeaders") or {}).items():
            for v in values:
                headers.append((str(k).lower().encode("latin-1"), str(v).encode("latin-1")))
    except (AttributeError, TypeError, UnicodeEncodeError):
        return _json(502, "Internal server error")
    body = result.get("body")
    if body is None:
        content = b""
    elif not isinstance(body, str):
        return _json(502, "Internal server error")
    elif result.get("isBase64Encoded"):
        try:
            content = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return _json(502, "Internal server error")
    else:
        content = body.encode()
    if not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"application/json"))
    return status, headers, content


# -- HTTP and HTTP_PROXY --------------------------------------------------------------------------------------------
DEFAULT_TIMEOUT_MS = 29_000
# Connection-level headers (RFC 9110 7.6.1) are not forwarded either way; the framing is the sender's own.
_HOP_BY_HOP = frozenset(
    {
        b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"proxy-connection", b"te",
        b"trailer", b"trailers", b"transfer-encoding", b"upgrade", b"host", b"content-length",
    }
)  # fmt: skip
_OWN_HOST = re.compile(r"^[^.]+\.(?:execute-api|lambda-url)\.", re.IGNORECASE)
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([^}]*)\}")
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")


def _lookup(table: Any, name: str, fold: bool = False) -> str | None:
    if fold:
        name = name.lower()
        table = {str(k).lower(): v for k, v in table.items()}
    value = table.get(name)
    return None if value is None else str(value)


def _request_value(expression: str, request: templates.Request) -> str | None:
    """A request parameter mapping's source: 'literal', method.request.{path,querystring,header}.X,
    stageVariables.X or context.X (None when the request has no such value)."""
    expression = expression.strip()
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
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


def _mapped(integration: dict[str, Any], request: templates.Request) -> dict[str, dict[str, str]]:
    """The integration's requestParameters, evaluated: {"path": ..., "querystring": ..., "header": ...}."""
    out: dict[str, dict[str, str]] = {"path": {}, "querystring": {}, "header": {}}
    for target, source in (integration.get("requestParameters") or {}).items():
        where, _, name = str(target).removeprefix("integration.request.").partition(".")
        value = _request_value(str(source), request)
        if where in out and name and value is not None:
            out[where][name] = value
    return out


def _http_request(
    scope: Scope,
    integration: dict[str, Any],
    matched: routing.Match,
    request: templates.Request,
    proxy: bool,
    own_port: int,
) -> httpx.Request:
    """The request to the backend; raises LookupError (415), TemplateError, ValueError (a bad uri)."""
    uri = _STAGE_VARIABLE.sub(lambda m: request.stage_variables.get(m.group(1), ""), integration.get("uri") or "")
    mapped = _mapped(integration, request)
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
    content_type = request.headers.get("content-type") or _lookup(request.headers, "content-type", True) or ""
    if proxy:
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        body = request.body
    else:
        template = _request_template(integration, content_type)
        if template is None:
            body = request.body
        else:
            body = templates.render(template, request).text.encode()
            content_type = _media_type(content_type) or "application/json"
        if content_type:
            headers.append((b"content-type", content_type.encode("latin-1", "replace")))
    for name, value in mapped["header"].items():
        key = name.lower().encode("latin-1", "replace")
        if key in _HOP_BY_HOP or _UNSAFE.search(value):
            continue
        headers = [h for h in headers if h[0].lower() != key] + [(key, value.encode("latin-1", "replace"))]
    url = httpx.URL(urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "&".join(query), "")))
    headers.insert(0, (b"host", url.netloc))
    if _OWN_HOST.match(parts.hostname):
        # The broker's own host names need no DNS: the same port on loopback, the Host header telling which.
        url = url.copy_with(scheme="http", host="127.0.0.1", port=own_port)
    method = str(integration.get("httpMethod") or "ANY").upper()  # the stored integrationHttpMethod
    return httpx.Request(scope["method"] if method == "ANY" else method, url, headers=headers, content=body)


def _response_value(expression: str, headers: httpx.Headers, body: bytes) -> str | None:
    """A response parameter mapping's source: 'literal', integration.response.header.X (or multivalueheader.X),
    integration.response.body, integration.response.body.<JSONPath>."""
    expression = expression.strip()
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    for prefix in ("integration.response.header.", "integration.response.multivalueheader."):
        if expression.startswith(prefix):
            values = headers.get_list(expression[len(prefix) :])
            return ",".join(values) if values else None
    if expression == "integration.response.body":
        return body.decode("utf-8", "replace")
    if expression.startswith("integration.response.body."):
        try:
            value = templates.select(json.loads(body), "$." + expression[len("integration.response.body.") :])
        except (ValueError, templates.TemplateError):
            return None
        if value is templates._MISSING or value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return None


def _http_response(
    integration: dict[str, Any], request: templates.Request, status: int, backend: httpx.Headers, body: bytes
) -> Response:
    """A non-proxy HTTP answer mapped: the integration response whose selectionPattern matches the backend's status
    code (else the default one) gives the status, its template (with the backend's body as $input; none: the body
    passed through) the body, and its responseParameters the headers."""
    chosen = _integration_response(integration, status)
    if chosen is None:
        return _json(500, "Internal server error")  # no match and no default: a configuration error
    out_status, response = chosen
    content_type, template = _response_template(response)
    headers = [(b"content-type", content_type.encode("latin-1", "replace"))]
    for name, source in (response.get("responseParameters") or {}).items():
        if not name.startswith("method.response.header."):
            continue
        value = _response_value(str(source), backend, body)
        key = name[len("method.response.header.") :].lower().encode("latin-1", "replace")
        if value is None or key in _FRAMING or _UNSAFE.search(value):
            continue
        headers = [h for h in headers if h[0] != key] + [(key, value.encode("latin-1", "replace"))]
    if not template:
        return out_status, headers, body
    return _rendered(template, dataclasses.replace(request, body=body), out_status, headers)
