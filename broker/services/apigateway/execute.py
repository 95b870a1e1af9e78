"""Invoking deployed REST APIs (the execute-api data plane) on the broker's port: any Host
`<api-id>.execute-api.<anything>` (`/<stage>/<path>`), and the path forms `/_aws/execute-api/<api-id>/<stage>/<path>`
and `/restapis/<api-id>/<stage>/_user_request_/<path>`. A stage serves the snapshot of the deployment it points
to. Integrations: Lambda proxy (AWS_PROXY, event format 1.0, responses mapped as API Gateway maps them) and MOCK
(the rendered request template's statusCode selects the integration response, whose rendered template is the body;
Velocity templates in templates.py)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import routing, store, templates
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
        account, region, _api = found
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
        return _json(500, "Internal server error")  # HTTP, HTTP_PROXY and AWS integrations are not served yet


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
    responses = integration.get("integrationResponses") or {}
    chosen = None
    for code, response in responses.items():
        pattern = response.get("selectionPattern")
        if pattern and re.fullmatch(pattern, str(status)):
            chosen = (code, response)
            break
    if chosen is None:
        chosen = next(((c, r) for c, r in responses.items() if not r.get("selectionPattern")), None)
    if chosen is None:
        return _json(500, "Internal server error")
    code, response = chosen
    response_templates = response.get("responseTemplates") or {}
    content_type = "application/json"
    template = response_templates.get(content_type)
    if template is None and response_templates:
        content_type, template = next(iter(response_templates.items()))
    status = int(code)
    headers = [(b"content-type", content_type.encode("latin-1", "replace"))]
    for name, value in (response.get("responseParameters") or {}).items():
        if name.startswith("method.response.header.") and value.startswith("'") and value.endswith("'"):
            headers.append((name[len("method.response.header.") :].lower().encode(), value[1:-1].encode()))
    body = b""
    if template:
        try:
            rendered = templates.render(template, dataclasses.replace(request, body=b""))
        except templates.TemplateError:
            return _json(500, "Internal server error")
        body = rendered.text.encode()
        if rendered.status is not None:
            if not 100 <= rendered.status <= 599:
                return _json(500, "Internal server error")
            status = rendered.status
        for name, value in rendered.headers.items():
            key = name.lower().encode("latin-1", "replace")
            if key in _FRAMING or _UNSAFE.search(value):
                continue  # the broker frames the response; a value may carry request input, never a line break
            headers = [h for h in headers if h[0] != key] + [(key, value.encode("latin-1", "replace"))]
    return status, headers, body


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
