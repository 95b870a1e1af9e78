"""Gateway responses end to end: what API Gateway answers when a request ends before (or instead of) the
integration — AWS's defaults (status, body, x-amzn-ErrorType), a type's own customisation (status code,
gatewayresponse.header.* from literals and method request headers, templates seeing $context.error.*), the
DEFAULT_4XX / DEFAULT_5XX fallbacks for types without their own, and customisations applying only once deployed."""

from __future__ import annotations

import socket

import httpx


def _api(gw) -> tuple[str, str]:
    """An API with GET /pets (MOCK 200) requiring a query parameter, POST /pets (MOCK, only JSON accepted),
    and GET /broken (no integration)."""
    api = gw.create_rest_api(name="responses")
    api_id, root = api["id"], api["rootResourceId"]
    pets = gw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")["id"]
    validator = gw.create_request_validator(restApiId=api_id, validateRequestParameters=True)["id"]
    gw.put_method(
        restApiId=api_id, resourceId=pets, httpMethod="GET", authorizationType="NONE", requestValidatorId=validator,
        requestParameters={"method.request.querystring.page": True},
    )  # fmt: skip
    gw.put_method(restApiId=api_id, resourceId=pets, httpMethod="POST", authorizationType="NONE")
    for method, behavior in (("GET", "WHEN_NO_MATCH"), ("POST", "NEVER")):
        gw.put_integration(
            restApiId=api_id, resourceId=pets, httpMethod=method, type="MOCK", passthroughBehavior=behavior,
            requestTemplates={"application/json": '{"statusCode": 200}'},
        )  # fmt: skip
        gw.put_method_response(restApiId=api_id, resourceId=pets, httpMethod=method, statusCode="200")
        gw.put_integration_response(
            restApiId=api_id, resourceId=pets, httpMethod=method, statusCode="200",
            responseTemplates={"application/json": '{"ok": true}'},
        )  # fmt: skip
    broken = gw.create_resource(restApiId=api_id, parentId=root, pathPart="broken")["id"]
    gw.put_method(restApiId=api_id, resourceId=broken, httpMethod="GET", authorizationType="NONE")
    gw.create_deployment(restApiId=api_id, stageName="prod")
    return api_id, f"/_aws/execute-api/{api_id}/prod"


def _call(broker, path: str, method: str = "GET", **kw) -> httpx.Response:
    return httpx.request(method, broker.url + path, timeout=30, **kw)


def test_defaults(broker, gw):
    _, base = _api(gw)
    assert _call(broker, base + "/pets?page=1").json() == {"ok": True}
    cases = [
        # path, method, content type -> status, exact body, x-amzn-ErrorType
        (
            "/nowhere",
            "GET",
            None,
            403,
            b'{"message":"Missing Authentication Token"}',
            "MissingAuthenticationTokenException",
        ),
        (
            "/pets",
            "GET",
            None,
            400,
            b'{"message": "Missing required request parameters: [page]"}',
            "BadRequestException",
        ),
        ("/pets", "POST", "text/plain", 415, b'{"message":"Unsupported Media Type"}', "UnsupportedMediaTypeException"),
        ("/broken", "GET", None, 500, b'{"message": "Internal server error"}', "InternalServerErrorException"),
    ]
    for path, method, content_type, status, body, error_type in cases:
        headers = {"content-type": content_type} if content_type else {}
        r = _call(broker, base + path, method, content=b"x" if content_type else None, headers=headers)
        assert (r.status_code, r.content, r.headers["x-amzn-errortype"]) == (status, body, error_type), path
        assert r.headers["content-type"] == "application/json" and r.headers["x-amzn-requestid"]


def test_customised_type_applies_after_deployment(broker, gw):
    api_id, base = _api(gw)
    gw.put_gateway_response(
        restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404",
        responseParameters={
            "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
            "gatewayresponse.header.x-asked-by": "method.request.header.x-client",
        },
        responseTemplates={
            "application/json": '{"error": $context.error.messageString, "type": "$context.error.responseType"}'
        },
    )  # fmt: skip
    r = _call(broker, base + "/nowhere", headers={"x-client": "c-1"})
    assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})  # not deployed yet
    assert "access-control-allow-origin" not in r.headers
    gw.create_deployment(restApiId=api_id, stageName="prod")
    r = _call(broker, base + "/nowhere", headers={"x-client": "c-1"})
    assert r.status_code == 404
    assert r.json() == {"error": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN"}
    assert r.headers["access-control-allow-origin"] == "*" and r.headers["x-asked-by"] == "c-1"
    assert r.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    # A header the request lacks is left out; other types keep their defaults.
    r = _call(broker, base + "/nowhere")
    assert r.status_code == 404 and "x-asked-by" not in r.headers
    assert _call(broker, base + "/pets").status_code == 400
    # Deleting the customisation brings the default back, again with the next deployment.
    gw.delete_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert _call(broker, base + "/nowhere").status_code == 404
    gw.create_deployment(restApiId=api_id, stageName="prod")
    assert _call(broker, base + "/nowhere").status_code == 403


def test_default_4xx_and_5xx_cover_types_without_their_own(broker, gw):
    api_id, base = _api(gw)
    gw.put_gateway_response(
        restApiId=api_id, responseType="DEFAULT_4XX", statusCode="418",
        responseParameters={"gatewayresponse.header.x-trace": "method.request.header.x-trace"},
        responseTemplates={"application/json": '{"oops": "$context.error.responseType: $context.error.message"}'},
    )  # fmt: skip
    gw.put_gateway_response(
        restApiId=api_id, responseType="UNSUPPORTED_MEDIA_TYPE",
        responseTemplates={"application/json": '{"own": "$context.error.responseType"}'},
    )  # fmt: skip
    gw.put_gateway_response(
        restApiId=api_id, responseType="DEFAULT_5XX",
        responseTemplates={"application/json": '{"five": $context.error.messageString}'},
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod")
    r = _call(broker, base + "/pets", headers={"x-trace": "t-9"})
    assert r.status_code == 418 and r.headers["x-trace"] == "t-9"
    assert r.json() == {"oops": "BAD_REQUEST_PARAMETERS: Missing required request parameters: [page]"}
    assert r.headers["x-amzn-errortype"] == "BadRequestException"
    r = _call(broker, base + "/nowhere")
    assert (r.status_code, r.json()) == (418, {"oops": "MISSING_AUTHENTICATION_TOKEN: Missing Authentication Token"})
    # A type with its own customisation keeps its own status code and template.
    r = _call(broker, base + "/pets", "POST", content=b"x", headers={"content-type": "text/plain"})
    assert (r.status_code, r.json()) == (415, {"own": "UNSUPPORTED_MEDIA_TYPE"})
    # DEFAULT_5XX without a status code keeps each type's own.
    r = _call(broker, base + "/broken")
    assert (r.status_code, r.json()) == (500, {"five": "Internal server error"})
    assert r.headers["x-amzn-errortype"] == "InternalServerErrorException"


def test_bad_request_body_validation_error_string(broker, gw):
    api = gw.create_rest_api(name="bodies")
    api_id, root = api["id"], api["rootResourceId"]
    schema = '{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}'
    gw.create_model(restApiId=api_id, name="Thing", contentType="application/json", schema=schema)
    validator = gw.create_request_validator(restApiId=api_id, validateRequestBody=True)["id"]
    gw.put_method(
        restApiId=api_id, resourceId=root, httpMethod="POST", authorizationType="NONE", requestValidatorId=validator,
        requestModels={"application/json": "Thing"},
    )  # fmt: skip
    gw.put_integration(restApiId=api_id, resourceId=root, httpMethod="POST", type="MOCK")
    gw.put_gateway_response(
        restApiId=api_id, responseType="BAD_REQUEST_BODY", statusCode="422",
        responseTemplates={
            "application/json": '{"message": $context.error.messageString, '
            '"detail": "$util.escapeJavaScript($context.error.validationErrorString)"}'
        },
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod")
    url = f"{broker.url}/_aws/execute-api/{api_id}/prod/"
    r = httpx.post(url, content=b'{"name": 7}', headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 422
    assert r.json() == {
        "message": "Invalid request body",
        "detail": '[instance type (integer) does not match any allowed primitive type (allowed: ["string"])]',
    }
    r = httpx.post(url, content=b"{}", headers={"content-type": "application/json"}, timeout=30)
    assert r.json()["detail"] == '[object has missing required properties (["name"])]'


def test_payload_over_ten_megabytes(broker, gw):
    _, base = _api(gw)
    # The Content-Length alone decides: the answer comes before any API is looked at.
    with socket.create_connection(("127.0.0.1", broker.port), timeout=30) as s:
        s.sendall(f"POST {base}/pets HTTP/1.1\r\nHost: x\r\nContent-Length: 10485761\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.endswith(b"bytes."):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"content-type: text; charset=utf-8" in head.lower()
    assert body == b"HTTP content length exceeded 10485760 bytes."
