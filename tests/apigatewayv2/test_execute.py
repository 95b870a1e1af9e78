"""Deployed HTTP APIs answer on the broker's port: quick create served at `$default` without a stage segment,
named stages, route selection (most specific first, `$default` last, 404 otherwise), Lambda proxy integrations
with payload format 2.0 (the event, the inferred and explicit responses, failures as 500) and 1.0, CORS preflight
and CORS headers, and what is not there."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tests.apigatewayv2.execute_helpers import function, invoke, lambda_integration, lambda_uri, route


@pytest.fixture
def echo(broker) -> str:
    return function(broker, "v2-echo")


def test_quick_create_serves_default_stage_without_segment(broker, gw2, echo):
    api_id = gw2.create_api(Name="quick", ProtocolType="HTTP", Target=echo)["ApiId"]
    r = invoke(broker, api_id, "/some/path?x=1&x=2&y=3", headers={"Cookie": "c1=v1; c2=v2", "X-Multi": "a"})
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/some/path" and event["rawQueryString"] == "x=1&x=2&y=3"
    assert event["queryStringParameters"] == {"x": "1,2", "y": "3"}
    assert event["cookies"] == ["c1=v1", "c2=v2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "a" and event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["headers"]["x-forwarded-proto"] == "http" and event["headers"]["x-amzn-trace-id"].startswith("Root=1-")
    assert "pathParameters" not in event and "stageVariables" not in event and "body" not in event
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert (ctx["apiId"], ctx["accountId"], ctx["stage"], ctx["routeKey"]) == (
        api_id,
        "000000000000",
        "$default",
        "$default",
    )
    assert ctx["http"]["method"] == "GET" and ctx["http"]["path"] == "/some/path"
    assert ctx["http"]["sourceIp"] == "127.0.0.1" and ctx["http"]["protocol"] == "HTTP/1.1"
    assert ctx["domainName"] == f"{api_id}.execute-api.us-east-1.amazonaws.com" and ctx["domainPrefix"] == api_id
    assert isinstance(ctx["timeEpoch"], int) and ctx["time"].endswith("+0000") and ctx["requestId"]
    assert r.headers["apigw-requestid"]
    assert list(event) == [
        "version", "routeKey", "rawPath", "rawQueryString", "cookies", "headers", "queryStringParameters",
        "requestContext", "isBase64Encoded",
    ]  # fmt: skip
    # The Host form answers the same, and a body reaches the function (binary ones base64-encoded).
    r = invoke(broker, api_id, "/post", method="POST", host=True, json={"k": 1})
    assert r.status_code == 200 and json.loads(r.json()["body"]) == {"k": 1}
    r = invoke(broker, api_id, "/bin", method="POST", content=b"\xff\x00", headers={"content-type": "image/png"})
    event = r.json()
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"


def test_response_rules_of_format_2(broker, gw2, echo):
    api_id = gw2.create_api(Name="rules", ProtocolType="HTTP", Target=echo)["ApiId"]
    r = invoke(broker, api_id, "/plain")
    assert (r.status_code, r.text, r.headers["content-type"]) == (200, "hello from lambda", "application/json")
    r = invoke(broker, api_id, "/inferred")
    assert (r.status_code, r.json(), r.headers["content-type"]) == (200, {"answer": 42}, "application/json")
    r = invoke(broker, api_id, "/custom")
    assert (r.status_code, r.text, r.headers["x-one"]) == (201, "made", "1")
    assert r.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    r = invoke(broker, api_id, "/binary")
    assert (r.status_code, r.content) == (200, b"\x00\x01\x02")
    for path in ("/boom", "/bad-status"):
        r = invoke(broker, api_id, path)
        assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"}), path


SLOW = """
import time

def handler(event, context):
    time.sleep(float(event["queryStringParameters"]["s"]))
    return {"statusCode": 200, "body": "done"}
"""


def test_integration_timeout_is_503(broker, gw2):
    slow = function(broker, "v2-slow", SLOW)
    api_id = gw2.create_api(Name="slow", ProtocolType="HTTP")["ApiId"]
    route(gw2, api_id, "GET /slow", lambda_integration(gw2, api_id, slow, TimeoutInMillis=1000))
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    assert invoke(broker, api_id, "/slow?s=0").text == "done"
    started = time.monotonic()
    r = invoke(broker, api_id, "/slow?s=3")
    assert (r.status_code, r.json()) == (503, {"message": "Service Unavailable"})
    assert time.monotonic() - started < 2.5


def test_routes_most_specific_first_then_default(broker, gw2, echo):
    api_id = gw2.create_api(Name="routes", ProtocolType="HTTP")["ApiId"]
    integration = lambda_integration(gw2, api_id, echo)
    keys = ["GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "ANY /cats", "GET /cats"]
    for key in keys:
        route(gw2, api_id, key, integration)
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)

    def key_of(method: str, path: str):
        r = invoke(broker, api_id, path, method=method)
        return r.status_code, (r.json().get("routeKey") if r.status_code == 200 else r.json())

    assert key_of("GET", "/pets/dog/1") == (200, "GET /pets/dog/1")
    assert key_of("GET", "/pets/dog/2") == (200, "GET /pets/dog/{id}")
    assert key_of("GET", "/pets/cat/1") == (200, "GET /pets/{proxy+}")
    assert key_of("POST", "/pets/dog/1") == (200, "ANY /{proxy+}")
    assert key_of("GET", "/cats") == (200, "GET /cats")
    assert key_of("DELETE", "/cats") == (200, "ANY /cats")
    assert key_of("GET", "/") == (404, {"message": "Not Found"})  # a greedy variable needs a segment
    event = invoke(broker, api_id, "/pets/dog/a%20b").json()
    assert event["pathParameters"] == {"id": "a b"}
    assert invoke(broker, api_id, "/pets/x/y/z").json()["pathParameters"] == {"proxy": "x/y/z"}
    route(gw2, api_id, "$default", integration)
    assert key_of("GET", "/") == (200, "$default")


def test_named_stage_variables_and_unknown_stage(broker, gw2, echo):
    api_id = gw2.create_api(Name="staged", ProtocolType="HTTP")["ApiId"]
    route(gw2, api_id, "GET /items/{id}", lambda_integration(gw2, api_id, echo))
    gw2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True, StageVariables={"colour": "blue"})
    r = invoke(broker, api_id, "/prod/items/7")
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["rawPath"] == "/prod/items/7" and event["requestContext"]["http"]["path"] == "/prod/items/7"
    assert event["requestContext"]["stage"] == "prod" and event["stageVariables"] == {"colour": "blue"}
    assert event["pathParameters"] == {"id": "7"} and event["routeKey"] == "GET /items/{id}"
    # No such stage and no $default stage: 404; the stage without a segment neither.
    assert (invoke(broker, api_id, "/test/items/7").status_code, invoke(broker, api_id, "/items/7").status_code) == (
        404,
        404,
    )
    assert invoke(broker, api_id, "/test/items/7").json() == {"message": "Not Found"}
    # A stage deployed by hand serves the deployment it points to, not later changes.
    gw2.create_stage(ApiId=api_id, StageName="fixed")
    r = invoke(broker, api_id, "/fixed/items/7")
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})  # nothing deployed yet
    deployment = gw2.create_deployment(ApiId=api_id, StageName="fixed")["DeploymentId"]
    assert gw2.get_stage(ApiId=api_id, StageName="fixed")["DeploymentId"] == deployment
    assert invoke(broker, api_id, "/fixed/items/7").status_code == 200
    route(gw2, api_id, "GET /later", lambda_integration(gw2, api_id, echo))
    assert invoke(broker, api_id, "/fixed/later").status_code == 404
    assert invoke(broker, api_id, "/prod/later").status_code == 200  # auto-deployed
    # With a $default stage, a first segment that names no stage is part of the $default stage's path.
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    event = invoke(broker, api_id, "/items/8").json()
    assert (event["requestContext"]["stage"], event["rawPath"]) == ("$default", "/items/8")
    assert invoke(broker, api_id, "/prod/items/8").json()["requestContext"]["stage"] == "prod"
    assert invoke(broker, api_id, "/test/items/8").json() == {"message": "Not Found"}


def test_payload_format_1(broker, gw2, echo):
    api_id = gw2.create_api(Name="v1", ProtocolType="HTTP")["ApiId"]
    integration = lambda_integration(gw2, api_id, echo, version="1.0")
    route(gw2, api_id, "GET /things/{id}", integration)
    route(gw2, api_id, "GET /multi", integration)
    route(gw2, api_id, "GET /no-status", integration)
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, StageVariables={"v": "1"})
    r = invoke(broker, api_id, "/things/9?a=1&a=2")
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["version"] == "1.0" and event["resource"] == "/things/{id}" and event["path"] == "/things/9"
    assert event["httpMethod"] == "GET" and event["pathParameters"] == {"id": "9"}
    assert event["queryStringParameters"] == {"a": "2"} and event["multiValueQueryStringParameters"] == {
        "a": ["1", "2"]
    }
    assert event["stageVariables"] == {"v": "1"} and event["body"] is None and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert (ctx["stage"], ctx["apiId"], ctx["path"], ctx["resourcePath"]) == (
        "$default",
        api_id,
        "/things/9",
        "/things/{id}",
    )
    r = invoke(broker, api_id, "/multi")
    assert r.status_code == 200 and r.headers.get_list("x-many") == ["a", "b"]
    r = invoke(broker, api_id, "/no-status")  # format 1.0 needs a statusCode
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})


def test_cors_preflight_and_headers(broker, gw2, echo):
    cors = {
        "AllowOrigins": ["https://app.example.com"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-token"],
        "ExposeHeaders": ["x-one"], "MaxAge": 300, "AllowCredentials": True,
    }  # fmt: skip
    api_id = gw2.create_api(Name="cors", ProtocolType="HTTP", Target=echo, CorsConfiguration=cors)["ApiId"]
    asked = {"origin": "https://app.example.com", "access-control-request-method": "POST"}
    r = invoke(
        broker, api_id, "/anything", method="OPTIONS", headers={**asked, "access-control-request-headers": "X-Token"}
    )
    assert r.status_code == 204 and r.content == b""
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
    assert r.headers["access-control-allow-methods"] == "GET,POST"
    assert r.headers["access-control-allow-headers"] == "x-token"
    assert (r.headers["access-control-max-age"], r.headers["access-control-allow-credentials"]) == ("300", "true")
    # Not allowed: an other origin, method or header gets no CORS headers.
    for change in (
        {"origin": "https://evil.example"},
        {"access-control-request-method": "DELETE"},
        {"access-control-request-headers": "x-other"},
    ):
        r = invoke(broker, api_id, "/anything", method="OPTIONS", headers={**asked, **change})
        assert r.status_code == 204 and "access-control-allow-origin" not in r.headers, change
    # Without an Origin it is no preflight: the request goes to the routes.
    r = invoke(broker, api_id, "/anything", method="OPTIONS", headers={"access-control-request-method": "POST"})
    assert r.status_code == 200 and r.json()["requestContext"]["http"]["method"] == "OPTIONS"
    # An actual request from an allowed origin gets the CORS headers; others do not.
    r = invoke(broker, api_id, "/custom", headers={"origin": "https://app.example.com"})
    assert r.status_code == 201 and r.headers["access-control-allow-origin"] == "https://app.example.com"
    assert r.headers["access-control-expose-headers"] == "x-one"
    r = invoke(broker, api_id, "/custom", headers={"origin": "https://evil.example"})
    assert r.status_code == 201 and "access-control-allow-origin" not in r.headers


def test_what_is_not_there(broker, gw2, echo):
    r = invoke(broker, "nosuchapi1", "/x")
    assert r.status_code in (403, 404)
    api_id = gw2.create_api(Name="bare", ProtocolType="HTTP")["ApiId"]
    assert invoke(broker, api_id, "/x").json() == {"message": "Not Found"}  # no stage at all
    ws = gw2.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")["ApiId"]
    r = invoke(broker, ws, "/x")
    assert r.status_code == 501 and "WebSocket" in r.json()["message"]


def test_disabled_execute_api_endpoint(broker, gw2, echo):
    """DisableExecuteApiEndpoint takes effect when deployed (the auto-deploy stage deploys it at once): 403."""
    api_id = gw2.create_api(Name="closing", ProtocolType="HTTP", Target=echo)["ApiId"]
    assert invoke(broker, api_id, "/a").status_code == 200
    gw2.update_api(ApiId=api_id, DisableExecuteApiEndpoint=True)
    r = invoke(broker, api_id, "/a")
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    gw2.update_api(ApiId=api_id, DisableExecuteApiEndpoint=False)
    assert invoke(broker, api_id, "/a").status_code == 200


def test_stage_variable_in_the_function_uri_and_format_1_headers(broker, gw2, echo):
    """A Lambda integration may name its function by a stage variable; format 1.0 events carry the headers the
    gateway adds, as format 2.0 does; a path parameter is decoded once."""
    api_id = gw2.create_api(Name="by-stage", ProtocolType="HTTP")["ApiId"]
    name = echo.rsplit(":", 1)[1]
    uri = lambda_uri(echo.replace(f":function:{name}", ":function:${stageVariables.fn}"))
    integration = lambda_integration(gw2, api_id, uri, "1.0")
    route(gw2, api_id, "GET /items/{id}", integration)
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, StageVariables={"fn": name})
    r = invoke(broker, api_id, "/items/a%2541")
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["pathParameters"] == {"id": "a%41"}
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["multiValueHeaders"]["x-amzn-trace-id"][0].startswith("Root=1-")
