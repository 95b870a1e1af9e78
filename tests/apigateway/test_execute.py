"""Deployed REST APIs answer on the broker's port: the Host form and both path forms, resource matching (literal
before variable before greedy proxy, ANY), Lambda proxy integrations (event format 1.0 and the response mapping,
malformed answers as 502) and MOCK integrations, stages and what API Gateway answers for unknown ones."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.apigateway.helpers import mock_method
from tests.lambda_.helpers import create

PROXY = """
import json

def handler(event, context):
    if event["path"].endswith("/malformed"):
        return {"body": "no status code"}
    if event["path"].endswith("/binary"):
        binary = {"content-type": "application/octet-stream"}
        return {"statusCode": 201, "body": "AAEC", "isBase64Encoded": True, "headers": binary}
    return {
        "statusCode": 200,
        "headers": {"x-one": "1"},
        "multiValueHeaders": {"x-many": ["a", "b"]},
        "body": json.dumps(event),
    }
"""


@pytest.fixture
def api(broker):
    gw = broker.client("apigateway")
    lam = broker.client("lambda", read_timeout=60)
    fn = create(lam, "gw-proxy", source=PROXY)["FunctionArn"]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn}/invocations"
    rest = gw.create_rest_api(name="shop")
    api_id, root = rest["id"], rest["rootResourceId"]
    items = gw.create_resource(restApiId=api_id, parentId=root, pathPart="items")
    item = gw.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    proxy = gw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")
    for resource, method in ((item["id"], "GET"), (proxy["id"], "ANY")):
        gw.put_method(restApiId=api_id, resourceId=resource, httpMethod=method, authorizationType="NONE")
        gw.put_integration(
            restApiId=api_id, resourceId=resource, httpMethod=method, type="AWS_PROXY", integrationHttpMethod="POST",
            uri=uri,
        )  # fmt: skip
    mock_method(gw, api_id, root, answer='{"hello": "mock"}')
    gw.create_deployment(restApiId=api_id, stageName="prod", variables={"colour": "blue"})
    return api_id, item["id"]


def _get(broker, path: str, host: str | None = None, **kw) -> httpx.Response:
    headers = {"host": host} if host else {}
    headers.update(kw.pop("headers", {}))
    return httpx.request(kw.pop("method", "GET"), broker.url + path, headers=headers, timeout=60, **kw)


def test_lambda_proxy_event_and_response(broker, api):
    api_id, item_id = api
    r = _get(broker, "/prod/items/42?x=1&x=2&y=3", host=f"{api_id}.execute-api.localhost:4566")
    assert r.status_code == 200, r.text
    assert r.headers["x-one"] == "1" and r.headers.get_list("x-many") == ["a", "b"]
    event = r.json()
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/items/{id}", "/items/42", "GET")
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"x": "2", "y": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["3"]}
    assert event["stageVariables"] == {"colour": "blue"}
    assert event["body"] is None and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert (ctx["stage"], ctx["apiId"], ctx["resourceId"], ctx["path"]) == ("prod", api_id, item_id, "/prod/items/42")
    assert ctx["accountId"] == "000000000000" and ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert list(event) == [
        "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
        "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext", "body",
        "isBase64Encoded",
    ]  # fmt: skip


def test_path_forms_greedy_proxy_and_bodies(broker, api):
    api_id, _ = api
    for path in (f"/_aws/execute-api/{api_id}/prod/a/b/c", f"/restapis/{api_id}/prod/_user_request_/a/b/c"):
        r = _get(broker, path, method="POST", content=b'{"k": 1}')
        assert r.status_code == 200, (path, r.text)
        event = r.json()
        assert (event["resource"], event["pathParameters"]) == ("/{proxy+}", {"proxy": "a/b/c"})
        assert json.loads(event["body"]) == {"k": 1} and event["httpMethod"] == "POST"
    # Without binary media types the function's base64 text is the body, as API Gateway sends it.
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/binary")
    assert (r.status_code, r.content, r.headers["content-type"]) == (201, b"AAEC", "application/octet-stream")
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/malformed")
    assert (r.status_code, r.json()) == (502, {"message": "Internal server error"})


def test_mock_and_what_is_not_there(broker, api):
    api_id, _ = api
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/")
    assert (r.status_code, r.json()) == (200, {"hello": "mock"})
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/items", method="DELETE")
    assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})
    assert r.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    r = _get(broker, f"/_aws/execute-api/{api_id}/nostage/items/1")
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    r = _get(broker, "/_aws/execute-api/nosuchapi1/prod/items/1")
    assert r.status_code == 403


def test_binary_media_types(broker, api):
    """A body whose Content-Type is a binary media type reaches the function base64-encoded; a base64 result is
    decoded only when the request's first Accept type is one (API Gateway's rule), and only once deployed."""
    api_id, _ = api
    gw = broker.client("apigateway")
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/up", method="POST", content=b"\xff\x00",
             headers={"content-type": "image/png"})  # fmt: skip
    assert (r.json()["body"], r.json()["isBase64Encoded"]) == ("\ufffd\x00", False)
    patch = [{"op": "add", "path": "/binaryMediaTypes/image~1*"}]
    gw.update_rest_api(restApiId=api_id, patchOperations=patch)
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/up", method="POST", content=b"\xff\x00",
             headers={"content-type": "image/png"})  # fmt: skip
    assert r.json()["isBase64Encoded"] is False  # not deployed yet
    gw.create_deployment(restApiId=api_id, stageName="prod")
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/up", method="POST", content=b"\xff\x00",
             headers={"content-type": "image/png"})  # fmt: skip
    assert (r.json()["body"], r.json()["isBase64Encoded"]) == ("/wA=", True)
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/binary", headers={"accept": "image/webp, */*"})
    assert r.content == b"\x00\x01\x02"
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/binary", headers={"accept": "*/*, image/webp"})
    assert r.content == b"AAEC"


def test_encoded_slash_stays_in_its_path_parameter(broker, api):
    api_id, _ = api
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/items/a%2Fb%20c")
    event = r.json()
    assert (event["resource"], event["pathParameters"]) == ("/items/{id}", {"id": "a/b c"})
    r = _get(broker, "/prod/items/x%2Fy", host=f"{api_id}.execute-api.localhost")
    assert r.json()["pathParameters"] == {"id": "x/y"}


HEADERS = """
def handler(event, context):
    kind = event["path"].strip("/")
    if kind == "inject":
        return {"statusCode": 200, "headers": {"x-bad": "a\\r\\nx-injected: 1"}, "body": "no"}
    if kind == "multi-string":
        return {"statusCode": 200, "multiValueHeaders": {"x-m": "abc"}, "body": "no"}
    return {
        "statusCode": 200,
        "headers": {"x-one": "1", "x-both": "a", "content-length": "999", "transfer-encoding": "chunked"},
        "multiValueHeaders": {"x-both": ["a", "b"]},
        "body": str(sorted(k for k in event["headers"] if k.startswith("X-"))),
    }
"""


def test_proxy_result_headers_and_stage_variable_uri(broker):
    """Result headers: framing ones are the gateway's own (dropped), `headers` and `multiValueHeaders` merge with a
    pair given in both sent once, a value that cannot be a header or a multi-value that is no list is a malformed
    result (502). The function is named by a stage variable in the uri; the event has the headers API Gateway
    adds (X-Forwarded-*, X-Amzn-Trace-Id)."""
    gw = broker.client("apigateway")
    create(broker.client("lambda", read_timeout=60), "gw-headers", source=HEADERS)
    rest = gw.create_rest_api(name="headers")
    api_id = rest["id"]
    proxy = gw.create_resource(restApiId=api_id, parentId=rest["rootResourceId"], pathPart="{proxy+}")["id"]
    gw.put_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
    uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}/invocations"  # noqa: E501
    gw.put_integration(restApiId=api_id, resourceId=proxy, httpMethod="ANY", type="AWS_PROXY",
                       integrationHttpMethod="POST", uri=uri)  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod", variables={"fn": "gw-headers"})
    r = _get(broker, f"/_aws/execute-api/{api_id}/prod/plain", headers={"x-forwarded-for": "10.0.0.1"})
    assert r.status_code == 200, r.text
    assert r.headers.get_list("x-both") == ["a", "b"] and r.headers["x-one"] == "1"
    assert r.headers["content-length"] == str(len(r.content)) and "transfer-encoding" not in r.headers
    assert r.text == str(["X-Amzn-Trace-Id", "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"])
    for path in ("inject", "multi-string"):
        r = _get(broker, f"/_aws/execute-api/{api_id}/prod/{path}")
        assert (r.status_code, r.json(), "x-injected" in r.headers) == (
            502,
            {"message": "Internal server error"},
            False,
        )
