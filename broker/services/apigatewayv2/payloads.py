"""What HTTP APIs send a Lambda function (payload format 2.0, and 1.0 as REST APIs send it) and how they turn its
result into the HTTP response: 2.0 infers a response (no statusCode: 200, the result as the JSON body; a string:
the body) and maps headers, cookies (each a set-cookie) and base64 bodies; 1.0 needs statusCode and maps headers
and multiValueHeaders. A result that makes no response is API Gateway's 500 Internal Server Error."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from broker.services.apigateway import routing as v1_routing
from broker.services.apigateway.call import Call
from broker.services.apigateway.lambda_proxy import proxy_event
from broker.services.apigatewayv2.incoming import Incoming
from broker.services.base import Env
from broker.services.data_plane import FRAMING, header_value, result_header

Response = tuple[int, list[tuple[bytes, bytes]], bytes]
Scope = Any

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_SUFFIXES = ("+json", "+xml")


class Malformed(Exception):
    """A Lambda result HTTP APIs cannot turn into a response."""


def message(status: int, text: str) -> Response:
    """API Gateway's own JSON answers of HTTP APIs: {"message": "..."}."""
    return status, [(b"content-type", b"application/json")], orjson.dumps({"message": text})


def internal_error() -> Response:
    return message(500, "Internal Server Error")


def _textual(request: Incoming) -> bool:
    """Whether HTTP APIs pass the body as text (else base64): textual media types, or no content type and UTF-8."""
    media = (request.header("content-type") or "").partition(";")[0].strip().lower()
    if not media:
        try:
            request.body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return media.startswith(_TEXT_TYPES) or media.endswith(_TEXT_SUFFIXES)


def _body(request: Incoming) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if _textual(request):
        return request.body.decode("utf-8", "replace"), False
    return base64.b64encode(request.body).decode(), True


def _headers_and_cookies(request: Incoming) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers, cookies


def _query(request: Incoming) -> dict[str, str]:
    params: dict[str, str] = {}
    for k, v in request.query:
        params[k] = f"{params[k]},{v}" if k in params else v
    return params


def request_context_v2(request: Incoming) -> dict[str, Any]:
    context: dict[str, Any] = {"accountId": request.account, "apiId": request.api_id}
    if request.authorizer is not None:
        context["authorizer"] = request.authorizer
    context.update(
        {
            "domainName": request.domain_name,
            "domainPrefix": request.domain_prefix,
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": request.user_agent,
            },
            "requestId": request.request_id,
            "routeKey": request.route_key,
            "stage": request.stage,
            "time": request.request_time,
            "timeEpoch": request.time_ms,
        }
    )
    return context


def common_v2(request: Incoming) -> dict[str, Any]:
    """The members format 2.0 events of integrations and authorizers share, in AWS's order."""
    headers, cookies = _headers_and_cookies(request)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": request.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _query(request)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request_context_v2(request)
    return event


def event_v2(request: Incoming) -> dict[str, Any]:
    """The payload format 2.0 event of an integration; members without a value are left out, as AWS does."""
    event = common_v2(request)
    body, is_base64 = _body(request)
    if body is not None:
        event["body"] = body
    if request.path_parameters:
        event["pathParameters"] = request.path_parameters
    event["isBase64Encoded"] = is_base64
    if request.stage_variables:
        event["stageVariables"] = request.stage_variables
    return event


def event_v1(env: Env, scope: Scope, request: Incoming) -> dict[str, Any]:
    """The payload format 1.0 event: REST API's Lambda proxy event (v1's builder) with what HTTP APIs differ in —
    a version member, the route as the resource, the stage's own path, and the authorizer's results."""
    resource = request.route_key.partition(" ")[2] or request.route_key
    call = Call(
        env=env, scope=scope, body=b"", request_id=request.request_id, account=request.account,
        region=request.region, api={"id": request.api_id}, stage={"stageName": request.stage,
        "variables": request.stage_variables}, deployment={},
        matched=v1_routing.Match({"path": resource, "id": request.route_id}, {}, request.path_parameters),
        path=request.raw_path,
    )  # fmt: skip
    base = proxy_event(call)
    # The headers as the gateway passes them on (x-forwarded-*, x-amzn-trace-id added), as in format 2.0.
    headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers.setdefault(name, []).append(value)
    base["headers"] = {k: v[-1] for k, v in headers.items()} or None
    base["multiValueHeaders"] = headers or None
    body, is_base64 = _body(request)
    base["body"], base["isBase64Encoded"] = body, is_base64
    context = base["requestContext"]
    context["path"] = request.raw_path
    context["domainName"], context["domainPrefix"] = request.domain_name, request.domain_prefix
    context["requestTimeEpoch"], context["requestTime"] = request.time_ms, request.request_time
    auth = request.authorizer or {}
    if "jwt" in auth:
        context["authorizer"] = {"claims": auth["jwt"].get("claims"), "scopes": auth["jwt"].get("scopes")}
    elif auth:
        context["authorizer"] = auth
    return {"version": "1.0", **base}


def _headers(raw: Any) -> list[tuple[bytes, bytes]]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise Malformed("headers is not an object")
    return [h for k, v in raw.items() if (h := _header(str(k), header_value(v)))[0] not in FRAMING]


def _header(name: str, value: str) -> tuple[bytes, bytes]:
    header = result_header(name, value)
    if header is None:
        raise Malformed(f"bad header {name!r}")
    return header


def _content(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise Malformed("body is not a string")
    if result.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise Malformed("body is not base64") from None
    return body.encode()


def _status(result: dict[str, Any]) -> int:
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError, OverflowError):
        raise Malformed("statusCode is not a number") from None
    if not 100 <= status <= 599:
        raise Malformed("statusCode out of range")
    return status


def _with_type(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    if not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"application/json"))
    return headers


def response_v2(payload: bytes) -> Response:
    """A format 2.0 result as the HTTP response; raises Malformed."""
    try:
        result = orjson.loads(payload) if payload.strip() else None
    except orjson.JSONDecodeError:
        raise Malformed("result is not JSON") from None
    if isinstance(result, str):
        return 200, [(b"content-type", b"application/json")], result.encode()
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, [(b"content-type", b"application/json")], payload.strip()
    status = _status(result)
    headers = _headers(result.get("headers"))
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list):
        raise Malformed("cookies is not a list")
    for cookie in cookies:
        headers.append(_header("set-cookie", header_value(cookie)))
    return status, _with_type(headers), _content(result)


def response_v1(payload: bytes) -> Response:
    """A format 1.0 result (statusCode required) as the HTTP response; raises Malformed."""
    try:
        result = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise Malformed("result is not JSON") from None
    if not isinstance(result, dict) or "statusCode" not in result:
        raise Malformed("no statusCode")
    status = _status(result)
    headers = _headers(result.get("headers"))
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(multi, dict):
        raise Malformed("multiValueHeaders is not an object")
    for k, values in multi.items():
        if not isinstance(values, list):
            raise Malformed("multiValueHeaders value is not a list")
        name = str(k).lower().encode("latin-1", "replace")
        headers = [h for h in headers if h[0] != name]
        for v in values:
            header = _header(str(k), header_value(v))
            if header[0] not in FRAMING:
                headers.append(header)
    return status, _with_type(headers), _content(result)
