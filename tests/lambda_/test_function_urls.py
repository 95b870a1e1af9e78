"""Serving function URLs over plain HTTP: the Host form and the path form, payload format 2.0, responses."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import httpx
import pytest

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


@pytest.fixture
def lam(broker):
    return broker.client("lambda", read_timeout=60)


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
