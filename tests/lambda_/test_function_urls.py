"""Serving function URLs over plain HTTP: the Host form and the path form, payload format 2.0, responses."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import httpx

from tests.lambda_.helpers import create

HANDLER = """
import base64, json

def handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode")
    if mode == "plain":
        return {"just": "data"}
    if mode == "fail":
        raise RuntimeError("nope")
    return {
        "statusCode": 201,
        "headers": {"X-Custom": "yes", "Content-Type": "application/json"},
        "cookies": ["a=1", "b=2; Path=/"],
        "body": json.dumps({"event": event}),
    }
"""


def test_function_url_host_and_path_forms(broker, lam):
    create(lam, "web", source=HANDLER)
    url = lam.create_function_url_config(FunctionName="web", AuthType="NONE")["FunctionUrl"]
    parts = urlsplit(url)
    assert parts.hostname.endswith(".lambda-url.us-east-1.localhost")
    url_id = parts.hostname.split(".")[0]
    host = f"{parts.hostname}:{broker.port}"

    r = httpx.post(
        f"{broker.url}/some/path?x=1&x=2&y=3",
        headers={"Host": host, "Cookie": "c1=v1; c2=v2", "Content-Type": "application/json", "X-Dup": "q"},
        content=b'{"hello": "world"}',
        timeout=30,
    )
    assert r.status_code == 201, r.text
    assert r.headers["x-custom"] == "yes"
    assert r.headers.get_list("set-cookie") == ["a=1", "b=2; Path=/"]
    event = r.json()["event"]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/some/path" and event["rawQueryString"] == "x=1&x=2&y=3"
    assert event["queryStringParameters"] == {"x": "1,2", "y": "3"}
    assert event["cookies"] == ["c1=v1", "c2=v2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-dup"] == "q"
    assert event["body"] == '{"hello": "world"}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["apiId"] == url_id and event["requestContext"]["accountId"] == "anonymous"

    # The path form, for clients that cannot set a Host header; a binary body arrives base64-encoded.
    r = httpx.put(
        f"{broker.url}/_broker/lambda-url/{url_id}/bin",
        headers={"Content-Type": "application/octet-stream"},
        content=b"\x00\x01\xff",
        timeout=30,
    )
    event = r.json()["event"]
    assert event["rawPath"] == "/bin" and event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01\xff"

    r = httpx.get(f"{broker.url}/?mode=plain", headers={"Host": host}, timeout=30)
    assert (r.status_code, r.headers["content-type"], r.json()) == (200, "application/json", {"just": "data"})
    r = httpx.get(f"{broker.url}/?mode=fail", headers={"Host": host}, timeout=30)
    assert r.status_code == 502
    r = httpx.get(f"{broker.url}/", headers={"Host": f"nosuchid123.lambda-url.us-east-1.localhost:{broker.port}"})
    assert r.status_code == 404
    assert json.loads(r.text) == {"Message": "Not Found"}


def test_function_url_auth_and_cors(broker, lam):
    create(lam, "guarded", source=HANDLER)
    url = lam.create_function_url_config(
        FunctionName="guarded",
        AuthType="AWS_IAM",
        Cors={"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET"], "MaxAge": 60},
    )["FunctionUrl"]
    host = f"{urlsplit(url).hostname}:{broker.port}"
    r = httpx.get(f"{broker.url}/?mode=plain", headers={"Host": host}, timeout=30)
    assert r.status_code == 403  # AWS_IAM: unsigned requests are refused
    r = httpx.options(
        f"{broker.url}/",
        headers={"Host": host, "Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert r.headers["access-control-max-age"] == "60"


BAD = """
def handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode")
    answers = {
        "base64": {"statusCode": 200, "isBase64Encoded": True, "body": "abc"},
        "name": {"statusCode": 200, "headers": {"x-caf\\u00e9-\\u2603": "v"}},
        "value": {"statusCode": 200, "headers": {"x-split": "a\\r\\nx-injected: 1"}},
        "low": {"statusCode": 99},
        "high": {"statusCode": 99999},
        "list": {"statusCode": 200, "headers": {"x-many": ["a", "b"], "x-flag": True}, "body": "ok"},
    }
    return answers.get(mode) or {"statusCode": 200, "body": __import__("json").dumps(event)}
"""


def test_function_url_bad_responses_limits_and_context(broker, lam):
    create(lam, "rough", source=BAD)
    url_id = urlsplit(lam.create_function_url_config(FunctionName="rough", AuthType="NONE")["FunctionUrl"]).hostname
    base = f"{broker.url}/_broker/lambda-url/{url_id.split('.')[0]}"
    with httpx.Client(timeout=30) as http:  # one connection: a bad answer must not cost it
        for mode in ("base64", "name", "value", "low", "high"):
            r = http.get(f"{base}/?mode={mode}")
            assert (r.status_code, r.json()) == (502, {"Message": "Internal Server Error"}), mode
            assert "x-injected" not in r.headers and r.headers["x-amzn-requestid"]
        r = http.get(f"{base}/?mode=list")
        assert (r.status_code, r.headers["x-many"], r.headers["x-flag"], r.text) == (200, "a,b", "true", "ok")

        r = http.get(f"{base}/path", headers={"X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793"})
        event = r.json()
        assert r.headers["x-amzn-trace-id"] == "Root=1-5759e988-bd862e3fe1be46a994272793"
        assert event["requestContext"]["requestId"] == r.headers["x-amzn-requestid"]
        assert "authorizer" not in event["requestContext"]
        headers = event["headers"]
        assert headers["x-amzn-trace-id"] == "Root=1-5759e988-bd862e3fe1be46a994272793"
        assert (headers["x-forwarded-for"], headers["x-forwarded-proto"]) == ("127.0.0.1", "http")
        assert headers["x-forwarded-port"] == str(broker.port) and "x-amzn-tls-version" not in headers

        # Over Invoke's 6 MB: refused as Lambda's front end refuses it, without reading the body.
        r = http.post(f"{base}/", content=b"x" * 6_291_457)
        assert (r.status_code, r.headers["x-amzn-errortype"]) == (413, "RequestEntityTooLargeException")
        assert r.json() == {"Message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation"}
        r = http.get(f"{broker.url}/_broker/lambda-url/nosuchurl/")
        assert r.status_code == 404 and r.headers["x-amzn-requestid"] and r.headers["x-amzn-trace-id"]

    # AWS_IAM: the event says who signed the request (the caller the broker's STS reports for that key).
    lam.update_function_url_config(FunctionName="rough", AuthType="AWS_IAM")
    signed = "AWS4-HMAC-SHA256 Credential=123456789012/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host, "
    r = httpx.get(f"{base}/", headers={"Authorization": signed + "Signature=00"}, timeout=30)
    caller = broker.client("sts", access_key="123456789012").get_caller_identity()
    assert r.json()["requestContext"]["authorizer"] == {
        "iam": {
            "accessKey": "123456789012",
            "accountId": "123456789012",
            "callerId": caller["UserId"],
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": caller["Arn"],
            "userId": caller["UserId"],
        }
    }
