"""HTTP_PROXY integrations of HTTP APIs against a backend on loopback: the request passed through (the `$default`
route appending the whole path, placeholders filled from path variables), request parameter mappings (headers,
query strings, the path, from `$request.*`, `$context.*`, `$stageVariables.*` and `${...}` parts), response
parameter mappings by status code, the integration timeout (503) and a backend that is not there (500)."""

from __future__ import annotations

import json
import time

import pytest

from tests.apigatewayv2.execute_helpers import LoopbackServer, invoke
from tests.server import free_port


def _echo(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    if path.startswith("/slow"):
        time.sleep(2)
    status = 500 if "/fail" in path else 200
    seen = {"method": method, "path": path, "headers": headers, "body": body.decode()}
    return status, {"content-type": "application/json", "x-backend": "yes"}, json.dumps(seen).encode()


@pytest.fixture
def upstream():
    with LoopbackServer(_echo) as server:
        yield server


def test_quick_create_passes_the_whole_request(broker, gw2, upstream):
    api_id = gw2.create_api(Name="proxy", ProtocolType="HTTP", Target=upstream.url + "/base")["ApiId"]
    r = invoke(broker, api_id, "/a/b?x=1&x=2", method="POST", content=b"payload", headers={"x-custom": "c"})
    assert r.status_code == 200, r.text
    seen = r.json()
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/base/a/b?x=1&x=2", "payload")
    assert seen["headers"]["x-custom"] == "c" and r.headers["x-backend"] == "yes"
    assert seen["headers"]["host"] == upstream.url.removeprefix("http://")


def test_request_and_response_parameter_mapping(broker, gw2, upstream):
    api_id = gw2.create_api(Name="mapped", ProtocolType="HTTP")["ApiId"]
    integration = gw2.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", PayloadFormatVersion="1.0",
        IntegrationUri=upstream.url + "/inner/{proxy}",
        RequestParameters={
            "append:querystring.extra": "$request.header.x-src",
            "overwrite:header.x-stage": "$stageVariables.colour",
            "overwrite:header.x-combined": "id=${request.path.proxy};m=${context.httpMethod}",
            "remove:header.x-drop": "''",
        },
        ResponseParameters={
            "500": {"overwrite:statuscode": "418", "append:header.x-mapped": "$response.header.x-backend"},
            "200": {"overwrite:header.x-request-id": "$context.requestId"},
        },
    )["IntegrationId"]  # fmt: skip
    gw2.create_route(ApiId=api_id, RouteKey="ANY /api/{proxy+}", Target=f"integrations/{integration}")
    renamed = gw2.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET", PayloadFormatVersion="1.0",
        IntegrationUri=upstream.url + "/ignored",
        RequestParameters={"overwrite:path": "/elsewhere/${request.querystring.n}"},
    )["IntegrationId"]  # fmt: skip
    gw2.create_route(ApiId=api_id, RouteKey="POST /renamed", Target=f"integrations/{renamed}")
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, StageVariables={"colour": "green"})
    r = invoke(broker, api_id, "/api/x/y?q=1", headers={"x-src": "s", "x-drop": "d", "x-keep": "k"})
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["path"] == "/inner/x/y?q=1&extra=s"
    headers = seen["headers"]
    assert (headers["x-stage"], headers["x-combined"], headers["x-keep"]) == ("green", "id=x/y;m=GET", "k")
    assert "x-drop" not in headers
    assert r.headers["x-request-id"] == r.headers["apigw-requestid"]
    r = invoke(broker, api_id, "/api/fail")
    assert r.status_code == 418 and r.headers.get_list("x-backend") == ["yes"] and r.headers["x-mapped"] == "yes"
    r = invoke(broker, api_id, "/renamed?n=7", method="POST")
    assert (r.json()["method"], r.json()["path"]) == ("GET", "/elsewhere/7?n=7")


def test_timeout_and_unreachable_backends(broker, gw2, upstream):
    api_id = gw2.create_api(Name="slow", ProtocolType="HTTP")["ApiId"]
    slow = gw2.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", PayloadFormatVersion="1.0",
        IntegrationUri=upstream.url + "/slow", TimeoutInMillis=500,
    )["IntegrationId"]  # fmt: skip
    gw2.create_route(ApiId=api_id, RouteKey="GET /slow", Target=f"integrations/{slow}")
    closed = gw2.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", PayloadFormatVersion="1.0",
        IntegrationUri=f"http://127.0.0.1:{free_port()}/",
    )["IntegrationId"]  # fmt: skip
    gw2.create_route(ApiId=api_id, RouteKey="GET /closed", Target=f"integrations/{closed}")
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    started = time.monotonic()
    r = invoke(broker, api_id, "/slow")
    assert (r.status_code, r.json()) == (503, {"message": "Service Unavailable"})
    assert time.monotonic() - started < 1.8
    r = invoke(broker, api_id, "/closed")
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})


def test_only_stage_variables_fill_the_integration_uri(broker, gw2, upstream):
    """`${stageVariables.x}` fills an integration URI; request input does not (it would let a caller pick the host
    the broker connects to): such a URI is a configuration error (500) and nothing is contacted."""
    api_id = gw2.create_api(Name="uri-vars", ProtocolType="HTTP")["ApiId"]
    for key, uri in (
        ("GET /staged", "http://${stageVariables.backend}/staged"),
        ("GET /chosen", "http://${request.header.x-host}/chosen"),
    ):
        integration = gw2.create_integration(
            ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET", IntegrationUri=uri,
            PayloadFormatVersion="1.0",
        )["IntegrationId"]  # fmt: skip
        gw2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration}")
    backend = upstream.url.removeprefix("http://")
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, StageVariables={"backend": backend})
    assert invoke(broker, api_id, "/staged").json()["path"] == "/staged"
    r = invoke(broker, api_id, "/chosen", headers={"x-host": backend})
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    assert [s["path"] for s in upstream.seen] == ["/staged"]
