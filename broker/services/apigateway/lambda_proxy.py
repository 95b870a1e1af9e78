"""Lambda proxy integrations (AWS_PROXY) of REST APIs: the request as event format 1.0, the function's result mapped
to the answer as API Gateway maps it (a malformed result is 502 "Internal server error")."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from broker import clock
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway.call import Call, Response
from broker.services.apigateway.gateway_errors import GatewayError
from broker.services.apigateway.http_integration import STAGE_VARIABLE
from broker.services.data_plane import FRAMING, forwarded_headers, header, result_header
from broker.services.lambda_.invoke_operations import MAX_SYNC_PAYLOAD, resolve, run

LAMBDA_URI = re.compile(r"^arn:aws:apigateway:[^:]+:lambda:path/2015-03-31/functions/(.+)/invocations$")


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


def _gateway_headers(call: Call) -> list[tuple[str, str]]:
    """The request's headers as API Gateway passes them on, with one trace id for the whole request."""
    headers = forwarded_headers(call.scope, call.extras.get("trace", ""))
    call.extras["trace"] = next(v for k, v in headers if k == "X-Amzn-Trace-Id")
    return headers


def proxy_event(call: Call) -> dict[str, Any]:
    """The Lambda proxy event (format 1.0) of a request; also what mapping templates see as $context and
    parameters."""
    scope, stage, matched, path, body = call.scope, call.stage, call.matched, call.path, call.body
    api_id, request_id = call.api_id, call.request_id
    headers = _gateway_headers(call)
    single_h, multi_h = _multi(headers)
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    single_q, multi_q = _multi(query)
    now = clock.now_ms()
    text_body: str | None = None
    is_b64 = False
    if body:
        # A body whose Content-Type is one of the API's binary media types travels base64-encoded; any other is
        # text to API Gateway (bytes that are not UTF-8 come out replaced, as they do there).
        if is_binary(call.api, header(scope, b"content-type")):
            text_body, is_b64 = base64.b64encode(body).decode(), True
        else:
            text_body = body.decode("utf-8", "replace")
    host = header(scope, b"host")
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
            "accountId": call.account,
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
                **(
                    {"apiKey": call.api_key["value"], "apiKeyId": call.api_key["id"]}
                    if call.api_key is not None
                    else {}
                ),
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": header(scope, b"user-agent") or None,
                "user": None,
                **call.extras.get("identity", {}),  # the signer of an AWS_IAM method's request (authorize.py)
            },  # fmt: skip
            "domainName": host,
            "apiId": api_id,
            **({"authorizer": call.authorizer} if call.authorizer is not None else {}),
        },
        "body": text_body,
        "isBase64Encoded": is_b64,
    }


async def invoke(call: Call, uri: str, payload: bytes) -> tuple[bytes, bool]:
    """A synchronous invocation of the function an integration (or authorizer) uri names, in the API's account:
    (result payload, whether it is a function error). A uri that names no function, a missing function or
    a failed invocation is a GatewayError (`API_CONFIGURATION_ERROR`; a throttled one 429)."""
    variables = call.stage.get("variables") or {}
    m = LAMBDA_URI.match(STAGE_VARIABLE.sub(lambda v: str(variables.get(v.group(1), "")), uri or ""))
    if m is None:
        raise GatewayError("API_CONFIGURATION_ERROR")
    ctx = RequestContext(
        env=call.env, account=call.account, region=call.region, host=call.header(b"host"), trace_header=""
    )
    try:
        ref, version = await resolve(ctx, {"FunctionName": m.group(1)})
        if len(payload) > MAX_SYNC_PAYLOAD:
            raise GatewayError("REQUEST_TOO_LARGE")
        outcome = await run(ctx, ref, version, payload, None)
    except ServiceError as e:
        if e.status == 429:
            raise GatewayError("THROTTLED") from e
        raise GatewayError("API_CONFIGURATION_ERROR") from e
    return outcome.payload, bool(outcome.function_error)


async def lambda_proxy(call: Call, integration: dict[str, Any]) -> Response:
    payload, failed = await invoke(call, integration.get("uri") or "", orjson.dumps(proxy_event(call)))
    if failed:
        raise _malformed()
    return proxy_response(payload, is_binary(call.api, call.header(b"accept").split(",")[0]))


def _malformed() -> GatewayError:
    return GatewayError("DEFAULT_5XX", "Internal server error", status=502)


def is_binary(api: dict[str, Any], content_type: str) -> bool:
    """Whether a media type is one of the API's binaryMediaTypes (which may hold wildcards, `image/*`, `*/*`)."""
    media = content_type.partition(";")[0].strip().lower()
    return bool(media) and any(fnmatch.fnmatchcase(media, str(t).lower()) for t in api.get("binaryMediaTypes") or [])


def proxy_response(payload: bytes, binary: bool) -> Response:
    """A Lambda proxy result as API Gateway maps it: statusCode (required), headers and multiValueHeaders (both
    sent), body (base64-decoded when isBase64Encoded and `binary`: the request's first Accept type is one of the
    API's binary media types; otherwise the base64 text is the body, as API Gateway sends it); anything else is a
    malformed response: 502."""
    try:
        result = orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise _malformed() from e
    if not isinstance(result, dict):
        raise _malformed()
    raw_status: Any = result.get("statusCode")
    try:
        status = int(raw_status)
    except (TypeError, ValueError) as e:
        raise _malformed() from e
    if not 100 <= status <= 599:
        raise _malformed()
    single, multi = result.get("headers") or {}, result.get("multiValueHeaders") or {}
    if (
        not isinstance(single, dict)
        or not isinstance(multi, dict)
        or not all(isinstance(v, list) for v in multi.values())
    ):
        raise _malformed()
    # Both maps merge into one list; a pair given in both is sent once (multiValueHeaders' values win).
    pairs = [(str(k), str(v)) for k, values in multi.items() for v in values]
    pairs += [(str(k), str(v)) for k, v in single.items() if str(v) not in {str(x) for x in multi.get(k, [])}]
    headers: list[tuple[bytes, bytes]] = []
    for name, value in pairs:
        header = result_header(name, value)
        if header is None:
            raise _malformed()
        if header[0] not in FRAMING:  # the framing is the gateway's own
            headers.append(header)
    body = result.get("body")
    if body is None:
        content = b""
    elif not isinstance(body, str):
        raise _malformed()
    elif result.get("isBase64Encoded") and binary:
        try:
            content = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as e:
            raise _malformed() from e
    else:
        content = body.encode()
    if not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"application/json"))
    return status, headers, content
