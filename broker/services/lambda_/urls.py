"""Serving function URLs: any Host `<url-id>.lambda-url.<region>.<anything>` on the broker's port, or the path
`/_broker/lambda-url/<url-id>/...` for clients that cannot set a Host header. Requests become payload format 2.0
events; results become HTTP responses as Lambda's function URLs map them."""

from __future__ import annotations

import base64
import re
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.base import Env
from broker.services.lambda_ import arns, store
from broker.services.lambda_.invoke_operations import run
from broker.services.lambda_.store import LATEST

_HOST = re.compile(r"^([a-z0-9]+)\.lambda-url\.([a-z]{2}(?:-[a-z]+)+-\d)\.", re.IGNORECASE)
PATH_PREFIX = "/_broker/lambda-url/"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/x-www-form")

Scope = Any
Receive = Any
Send = Any


class FunctionUrls:
    """The data plane of function URLs (one per worker process)."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def claims(self, host: str, path: str) -> bool:
        return ".lambda-url." in host or path.startswith(PATH_PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = _header(scope, b"host")
        path = scope["path"]
        m = _HOST.match(host)
        if m is not None:
            url_id = m.group(1).lower()
        else:
            rest = path[len(PATH_PREFIX) :]
            url_id, _, tail = rest.partition("/")
            path = "/" + tail
        body = await _body(receive)
        status, headers, content = await self._serve(scope, url_id, path, body)
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _serve(
        self, scope: Scope, url_id: str, path: str, body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        found = await self.env.db.read(store.config_by_url_id, url_id) if url_id.isalnum() else None
        if found is None:
            return _message(404, "Not Found")
        function_id, qualifier, config = found
        fn = await self.env.db.read(store.function_by_id, function_id)
        if fn is None:
            return _message(403, "Forbidden")
        cors = config.get("Cors") or {}
        if scope["method"] == "OPTIONS" and cors and _header(scope, b"access-control-request-method"):
            return 200, _cors_headers(cors, _header(scope, b"origin")), b""
        if config.get("AuthType") == "AWS_IAM" and not _header(scope, b"authorization").startswith("AWS4-HMAC-SHA256"):
            return _message(403, "Forbidden")
        event = _event(scope, url_id, fn.region, fn.account, path, body, config)
        ctx = RequestContext(env=self.env, account=fn.account, region=fn.region, host=_header(scope, b"host"))
        ref = arns.FunctionRef(fn.account, fn.region, fn.name, qualifier or None)
        version_name = qualifier or LATEST
        if qualifier and not qualifier.isdigit() and qualifier != LATEST:
            alias = await self.env.db.read(store.get_alias, fn.id, qualifier)
            version_name = alias["FunctionVersion"] if alias else LATEST
        version = await self.env.db.read(store.get_version, fn.account, fn.region, fn.name, version_name)
        if version is None:
            return _message(403, "Forbidden")
        try:
            outcome = await run(ctx, ref, version, orjson.dumps(event), None)
        except ServiceError as e:
            if e.status == 429:
                return _message(429, "Rate Exceeded.")
            return _message(502, "Internal Server Error")
        if outcome.function_error:
            return _message(502, "Internal Server Error")
        status, headers, content = _response(outcome.payload)
        if cors:
            headers.extend(_cors_headers(cors, _header(scope, b"origin"), preflight=False))
        headers.append((b"x-amzn-requestid", ids.uuid4().encode()))
        return status, headers, content


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope["headers"]:
        if k == name:
            return str(v.decode("latin-1"))
    return ""


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _message(status: int, text: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return status, [(b"content-type", b"application/json")], orjson.dumps({"Message": text})


def _event(
    scope: Scope, url_id: str, region: str, account: str, path: str, body: bytes, config: dict[str, Any]
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for k, v in scope["headers"]:
        name, value = k.decode("latin-1").lower(), v.decode("latin-1")
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_query = scope.get("query_string", b"").decode("latin-1")
    params: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        params[k] = f"{params[k]},{v}" if k in params else v
    now = clock.now_ms()
    ctype = headers.get("content-type", "")
    textual = not body or ctype.startswith(_TEXT_TYPES)
    domain = f"{url_id}.lambda-url.{region}.on.aws"
    client = scope.get("client") or ("127.0.0.1", 0)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if params:
        event["queryStringParameters"] = params
    request_context: dict[str, Any] = {
        "accountId": "anonymous" if config.get("AuthType") == "NONE" else account,
        "apiId": url_id,
        "domainName": domain,
        "domainPrefix": url_id,
        "http": {
            "method": scope["method"],
            "path": path,
            "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
            "sourceIp": client[0],
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": ids.uuid4(),
        "routeKey": "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now / 1000)),
        "timeEpoch": now,
    }
    event["requestContext"] = request_context
    if body:
        event["body"] = body.decode("utf-8", "replace") if textual else base64.b64encode(body).decode()
    event["isBase64Encoded"] = not textual
    return event


def _response(payload: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A function's result as an HTTP response: a document with statusCode is taken apart; anything else is the
    JSON body of a 200 (Lambda infers the format)."""
    try:
        result = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return 200, [(b"content-type", b"application/json")], payload
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, [(b"content-type", b"application/json")], payload
    headers: list[tuple[bytes, bytes]] = []
    for k, v in (result.get("headers") or {}).items():
        headers.append((str(k).lower().encode("latin-1"), str(v).encode("latin-1", "replace")))
    for cookie in result.get("cookies") or []:
        headers.append((b"set-cookie", str(cookie).encode("latin-1", "replace")))
    body = result.get("body")
    if body is None:
        content = b""
    elif result.get("isBase64Encoded"):
        content = base64.b64decode(str(body))
    else:
        content = body.encode() if isinstance(body, str) else orjson.dumps(body)
    if not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"application/json"))
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return _message(502, "Internal Server Error")
    return status, headers, content


def _cors_headers(cors: dict[str, Any], origin: str, preflight: bool = True) -> list[tuple[bytes, bytes]]:
    allowed = cors.get("AllowOrigins") or []
    if not origin or not ("*" in allowed or origin in allowed):
        return []
    out = [(b"access-control-allow-origin", ("*" if "*" in allowed else origin).encode())]
    if cors.get("AllowCredentials"):
        out.append((b"access-control-allow-credentials", b"true"))
    if cors.get("ExposeHeaders") and not preflight:
        out.append((b"access-control-expose-headers", ",".join(cors["ExposeHeaders"]).encode()))
    if preflight:
        if cors.get("AllowMethods"):
            out.append((b"access-control-allow-methods", ",".join(cors["AllowMethods"]).encode()))
        if cors.get("AllowHeaders"):
            out.append((b"access-control-allow-headers", ",".join(cors["AllowHeaders"]).encode()))
        if cors.get("MaxAge") is not None:
            out.append((b"access-control-max-age", str(cors["MaxAge"]).encode()))
    return out
