"""Serving function URLs: any Host `<url-id>.lambda-url.<region>.<anything>` on the broker's port, or the path
`/_broker/lambda-url/<url-id>/...` for clients that cannot set a Host header. Requests become payload format 2.0
events; results become HTTP responses as Lambda's function URLs map them. With auth = "sigv4" an AWS_IAM URL takes
a verified signature, and the resource policy of the function (or of the alias the URL belongs to) decides as in
Lambda: its explicit Deny refuses any caller, a caller of another account needs its grant."""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson

from broker import clock, ids
from broker.auth import sigv4
from broker.auth.errors import AuthFailure
from broker.auth.resource_policy import denial
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.identity import Identity
from broker.protocol.base import parse_credential
from broker.services.base import Env
from broker.services.data_plane import FRAMING, SANDBOX, header, header_value, read_body, result_header
from broker.services.lambda_ import arns, permission_operations, store
from broker.services.lambda_.invoke_operations import MAX_SYNC_PAYLOAD, run
from broker.services.lambda_.store import LATEST, Function

_HOST = re.compile(r"^([a-z0-9]+)\.lambda-url\.([a-z]{2}(?:-[a-z]+)+-\d)\.", re.IGNORECASE)
PATH_PREFIX = "/_broker/lambda-url/"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/x-www-form")
# What an AWS_IAM function URL's caller must be granted: since October 2025 a new function URL needs both actions.
INVOKE_URL_ACTIONS = ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction")

Response = tuple[int, list[tuple[bytes, bytes]], bytes]

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
        host = header(scope, b"host")
        path = scope["path"]
        m = _HOST.match(host)
        if m is not None:
            url_id = m.group(1).lower()
        else:
            rest = path[len(PATH_PREFIX) :]
            url_id, _, tail = rest.partition("/")
            path = "/" + tail
        request_id = ids.uuid4()
        trace = header(scope, b"x-amzn-trace-id") or _trace_id()
        body = await read_body(scope, receive, MAX_SYNC_PAYLOAD)
        if body is None:
            status, headers, content = _too_large()
        else:
            status, headers, content = await self._serve(scope, url_id, path, body, request_id, trace)
        headers.append((b"x-amzn-requestid", request_id.encode()))
        headers.append((b"x-amzn-trace-id", trace.encode("latin-1", "replace")))
        if m is None:  # the path form, on the console's origin
            headers.append(SANDBOX)
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _serve(self, scope: Scope, url_id: str, path: str, body: bytes, request_id: str, trace: str) -> Response:
        found = await self.env.db.read(store.config_by_url_id, url_id) if url_id.isalnum() else None
        if found is None:
            return _message(404, "Not Found")
        function_id, qualifier, config = found
        fn = await self.env.db.read(store.function_by_id, function_id)
        if fn is None:
            return _message(403, "Forbidden")
        cors = config.get("Cors") or {}
        if scope["method"] == "OPTIONS" and cors and header(scope, b"access-control-request-method"):
            return 200, _cors_headers(cors, header(scope, b"origin")), b""
        caller = None
        if config.get("AuthType") == "AWS_IAM":
            authorization = header(scope, b"authorization")
            credential = parse_credential(authorization) if authorization.startswith("AWS4-HMAC-SHA256") else None
            if credential is None:
                return _message(403, "Forbidden")
            if self.env.settings.sigv4:  # the signature itself is checked: a bad one is just Forbidden
                try:
                    key, _ = await sigv4.authenticate(self.env, sigv4.request_of(scope, body))
                except AuthFailure:
                    return _message(403, "Forbidden")
                if not await self._permitted(fn, qualifier, key.identity):
                    return _message(403, "Forbidden")
                caller = self._caller(credential[0], key.identity)
            else:
                caller = self._caller(credential[0])
        event = _event(scope, url_id, fn.region, fn.account, path, body, config, request_id, trace, caller)
        ctx = RequestContext(
            env=self.env, account=fn.account, region=fn.region, host=header(scope, b"host"), trace_header=trace
        )
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
            headers.extend(_cors_headers(cors, header(scope, b"origin"), preflight=False))
        return status, headers, content

    async def _permitted(self, fn: Function, qualifier: str, caller: Identity) -> bool:
        """Whether the policy of the URL's function or alias lets this verified caller invoke through the URL: no
        explicit Deny of either action, and for a caller of another account a grant of both (a policy is evaluated
        with the URL's condition keys, lambda:FunctionUrlAuthType and lambda:InvokedViaFunctionUrl)."""
        named = None if qualifier in ("", LATEST) else qualifier  # the function's own policy covers $LATEST
        document = await self.env.db.read(permission_operations.load, fn, named)
        policy = json.dumps(document) if document else None
        resource = arns.function_arn(fn.account, fn.region, fn.name, named)
        ctx = RequestContext(
            env=self.env, account=fn.account, region=fn.region, host="", authenticated=True, identity=caller
        )
        keys = {"lambda:FunctionUrlAuthType": "AWS_IAM", "lambda:InvokedViaFunctionUrl": "true"}
        return all(denial(ctx, fn.account, policy, action, resource, keys) is None for action in INVOKE_URL_ACTIONS)

    def _caller(self, access_key: str, identity: Identity | None = None) -> dict[str, Any]:
        """requestContext.authorizer.iam of a signed request: who signed it (auth = "sigv4": the verified key's
        owner; else as the broker's callers are: the account of a 12-digit access key, else the default one; the
        configured user)."""
        if identity is None:
            settings = self.env.settings
            is_account = len(access_key) == 12 and access_key.isascii() and access_key.isdigit()
            identity = Identity(access_key if is_account else settings.default_account, settings.user_name)
        return {
            "accessKey": access_key,
            "accountId": identity.account,
            "callerId": identity.user_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": identity.arn,
            "userId": identity.user_id,
        }


def _message(status: int, text: str) -> Response:
    return status, [(b"content-type", b"application/json")], orjson.dumps({"Message": text})


def _too_large() -> Response:
    status, headers, content = _message(
        413, f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"
    )
    return status, [(b"x-amzn-errortype", b"RequestEntityTooLargeException"), *headers], content


def _bad_gateway() -> Response:
    """What a function URL answers for a result it cannot turn into an HTTP response."""
    return _message(502, "Internal Server Error")


def _trace_id() -> str:
    return f"Root=1-{clock.now_ms() // 1000:08x}-{ids.token(12)}"


def _event(
    scope: Scope,
    url_id: str,
    region: str,
    account: str,
    path: str,
    body: bytes,
    config: dict[str, Any],
    request_id: str,
    trace: str,
    caller: dict[str, Any] | None,
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for k, v in scope["headers"]:
        name, value = k.decode("latin-1").lower(), v.decode("latin-1")
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    client = scope.get("client") or ("127.0.0.1", 0)
    server = scope.get("server") or ("127.0.0.1", 80)
    scheme = str(scope.get("scheme", "http"))
    # What Lambda's front end adds (it terminates TLS; here only an https listener would).
    headers["x-amzn-trace-id"] = trace
    headers["x-forwarded-for"] = str(client[0])
    headers["x-forwarded-proto"] = scheme
    headers["x-forwarded-port"] = str(server[1])
    if scheme == "https":
        headers["x-amzn-tls-version"] = "TLSv1.3"
        headers["x-amzn-tls-cipher-suite"] = "TLS_AES_128_GCM_SHA256"
    raw_query = scope.get("query_string", b"").decode("latin-1")
    params: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        params[k] = f"{params[k]},{v}" if k in params else v
    now = clock.now_ms()
    ctype = headers.get("content-type", "")
    textual = not body or ctype.startswith(_TEXT_TYPES)
    domain = f"{url_id}.lambda-url.{region}.on.aws"
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
        **({"authorizer": {"iam": caller}} if caller is not None else {}),
        "domainName": domain,
        "domainPrefix": url_id,
        "http": {
            "method": scope["method"],
            "path": path,
            "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
            "sourceIp": client[0],
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
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


def _response(payload: bytes) -> Response:
    """A function's result as an HTTP response: a document with statusCode is taken apart; anything else is the
    JSON body of a 200 (Lambda infers the format). A document that makes no valid response (a status outside
    100-599, a header name or value HTTP cannot carry, a body that is not base64 although it says so) is a 502."""
    try:
        result = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return 200, [(b"content-type", b"application/json")], payload
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, [(b"content-type", b"application/json")], payload
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError, OverflowError):
        return _bad_gateway()
    raw_headers = result.get("headers") or {}
    cookies = result.get("cookies") or []
    if not 100 <= status <= 599 or not isinstance(raw_headers, dict) or not isinstance(cookies, list):
        return _bad_gateway()
    headers: list[tuple[bytes, bytes]] = []
    for k, v in [*raw_headers.items(), *(("set-cookie", c) for c in cookies)]:
        header = result_header(str(k), header_value(v))
        if header is None:
            return _bad_gateway()
        if header[0] not in FRAMING:
            headers.append(header)
    body = result.get("body")
    if body is None:
        content = b""
    elif result.get("isBase64Encoded"):
        if not isinstance(body, str):
            return _bad_gateway()
        try:
            content = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return _bad_gateway()
    else:
        content = body.encode() if isinstance(body, str) else orjson.dumps(body)
    if not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"application/json"))
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
