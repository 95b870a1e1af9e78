"""HTTP_PROXY and HTTP integrations of deployed REST APIs: the request passed through (method, path parameters in the
uri, query string, headers without hop-by-hop ones, body) and the answer passed back unchanged; non-proxy mapping
(request templates and passthroughBehavior, integration responses selected by the upstream's status code, response
templates and parameter mappings); timeouts (504), refused connections (500), and uris naming the broker itself
served on its own port. Every upstream is a tiny HTTP server on 127.0.0.1 the test starts."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest


class Upstream:
    """A loopback HTTP server that records each request and answers by path: /gzip (a compressed body), /slow
    (waits until released), /status/<code> (that status), anything else echoes the request as JSON."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("latin-1"),
                }
                upstream.requests.append(seen)
                status, headers, content = 200, {"content-type": "application/json"}, json.dumps(seen).encode()
                if "/gzip" in self.path:
                    headers = {"content-type": "text/plain", "content-encoding": "gzip"}
                    content = gzip.compress(b"squeezed")
                elif "/slow" in self.path:
                    upstream.release.wait(20)
                elif "/status/" in self.path:
                    status = int(self.path.split("/status/")[1].split("?")[0])
                headers["x-upstream"] = "yes"
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def last(self) -> dict[str, Any]:
        assert self.requests, "the upstream saw no request"
        return self.requests[-1]


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    b = Upstream()
    b.thread.start()
    yield b
    b.release.set()
    b.server.shutdown()
    b.server.server_close()
    b.thread.join(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _method(gw, api_id: str, resource_id: str, method: str, **integration: Any) -> None:
    gw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=method, authorizationType="NONE")
    gw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method, **integration)


def _resource(gw, api_id: str, parent: str, part: str) -> str:
    return str(gw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"])


def _call(broker, api_id: str, path: str, method: str = "GET", **kw: Any) -> httpx.Response:
    url = f"{broker.url}/_aws/execute-api/{api_id}/prod{path}"
    return httpx.request(method, url, timeout=30, **kw)


def test_http_proxy_passes_the_request_and_the_answer(broker, upstream):
    gw = broker.client("apigateway")
    rest = gw.create_rest_api(name="http-proxy")
    api_id, root = rest["id"], rest["rootResourceId"]
    proxy = _resource(gw, api_id, root, "{proxy+}")
    _method(
        gw, api_id, proxy, "ANY", type="HTTP_PROXY", integrationHttpMethod="ANY", uri=f"{upstream.url}/up/{{proxy}}"
    )
    items = _resource(gw, api_id, root, "items")
    item = _resource(gw, api_id, items, "{id}")
    _method(
        gw, api_id, item, "DELETE", type="HTTP_PROXY", integrationHttpMethod="PUT",
        uri=f"{upstream.url}/things/{{id}}/x?fixed=1",
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod")

    r = _call(
        broker, api_id, "/a/b%20c?x=1&x=2&y=", method="POST", content=b"\x00raw body",
        headers={"x-custom": "kept", "content-type": "application/octet-stream", "connection": "keep-alive",
                 "te": "trailers"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["method"] == "POST"
    assert seen["path"] == "/up/a/b%20c?x=1&x=2&y="
    assert seen["body"] == "\x00raw body"
    assert seen["headers"]["x-custom"] == "kept"
    assert seen["headers"]["content-type"] == "application/octet-stream"
    assert seen["headers"]["host"] == upstream.url.removeprefix("http://")
    assert "te" not in seen["headers"] and seen["headers"].get("connection") != "keep-alive"
    assert r.headers["x-upstream"] == "yes" and r.headers["content-type"] == "application/json"
    assert r.headers["x-amzn-requestid"]

    # The integration's own method; a path parameter in the uri; the uri's own query string kept.
    r = _call(broker, api_id, "/items/4%20two", method="DELETE")
    assert r.status_code == 200, r.text
    assert (r.json()["method"], r.json()["path"]) == ("PUT", "/things/4%20two/x?fixed=1")

    # Status, headers and body come back unchanged, a compressed body still compressed.
    r = _call(broker, api_id, "/status/418")
    assert r.status_code == 418 and r.json()["path"] == "/up/status/418"
    with httpx.stream("GET", f"{broker.url}/_aws/execute-api/{api_id}/prod/gzip", timeout=30) as r:
        raw = b"".join(r.iter_raw())
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b"squeezed"


def _http_api(gw, upstream: Upstream, **integration: Any) -> tuple[str, str]:
    rest = gw.create_rest_api(name="http")
    api_id, root = rest["id"], rest["rootResourceId"]
    convert = _resource(gw, api_id, root, "convert")
    thing = _resource(gw, api_id, convert, "{thing}")
    params = {"method.request.path.thing": True, "method.request.querystring.q": False}
    gw.put_method(
        restApiId=api_id, resourceId=thing, httpMethod="POST", authorizationType="NONE", requestParameters=params
    )
    gw.put_integration(
        restApiId=api_id, resourceId=thing, httpMethod="POST", type="HTTP", integrationHttpMethod="POST",
        uri=upstream.url + "/{target}",
        requestParameters={
            "integration.request.path.target": "method.request.path.thing",
            "integration.request.querystring.query": "method.request.querystring.q",
            "integration.request.header.x-stage": "stageVariables.colour",
            "integration.request.header.x-fixed": "'literal'",
        },
        **integration,
    )  # fmt: skip
    for code in ("200", "400"):
        gw.put_method_response(
            restApiId=api_id, resourceId=thing, httpMethod="POST", statusCode=code,
            responseParameters={"method.response.header.x-copied": False, "method.response.header.x-static": False,
                                "method.response.header.x-path": False},
        )  # fmt: skip
    gw.put_integration_response(
        restApiId=api_id, resourceId=thing, httpMethod="POST", statusCode="200",
        responseTemplates={"application/json": '{"sent": $input.json(\'$.body\'), "path": "$input.path(\'$.path\')"}'},
        responseParameters={"method.response.header.x-copied": "integration.response.header.X-Upstream",
                            "method.response.header.x-static": "'fixed'",
                            "method.response.header.x-path": "integration.response.body.method"},
    )  # fmt: skip
    gw.put_integration_response(
        restApiId=api_id, resourceId=thing, httpMethod="POST", statusCode="400", selectionPattern="4\\d{2}",
        responseTemplates={"application/json": '{"failed": true}'},
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod", variables={"colour": "blue"})
    return api_id, thing


def test_http_maps_the_request_and_the_answer(broker, upstream):
    gw = broker.client("apigateway")
    api_id, _ = _http_api(
        gw,
        upstream,
        requestTemplates={"application/json": '{"wrapped": $input.json(\'$\'), "q": "$input.params(\'q\')"}'},
    )
    r = _call(
        broker, api_id, "/convert/echo?q=hi&other=dropped", method="POST", json={"n": 1},
        headers={"x-not-mapped": "1"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    seen = upstream.last()
    assert seen["method"] == "POST" and seen["path"] == "/echo?query=hi"
    assert json.loads(seen["body"]) == {"wrapped": {"n": 1}, "q": "hi"}
    assert seen["headers"]["x-stage"] == "blue" and seen["headers"]["x-fixed"] == "literal"
    assert seen["headers"]["content-type"] == "application/json"
    assert "x-not-mapped" not in seen["headers"]
    # The default integration response: its template over the upstream's body, its header mappings.
    assert json.loads(r.json()["sent"]) == {"wrapped": {"n": 1}, "q": "hi"}
    assert r.json()["path"] == "/echo?query=hi"
    assert r.headers["content-type"] == "application/json"
    assert (r.headers["x-copied"], r.headers["x-static"], r.headers["x-path"]) == ("yes", "fixed", "POST")

    # A mapped path parameter is encoded again in the uri.
    r = _call(broker, api_id, "/convert/a%20b", method="POST", json={})
    assert r.status_code == 200, r.text
    assert upstream.last()["path"] == "/a%20b"


def test_http_selects_the_integration_response_by_status(broker, upstream):
    gw = broker.client("apigateway")
    rest = gw.create_rest_api(name="http-status")
    api_id, root = rest["id"], rest["rootResourceId"]
    code = _resource(gw, api_id, root, "{code}")
    gw.put_method(
        restApiId=api_id, resourceId=code, httpMethod="GET", authorizationType="NONE",
        requestParameters={"method.request.path.code": True},
    )  # fmt: skip
    gw.put_integration(
        restApiId=api_id, resourceId=code, httpMethod="GET", type="HTTP", integrationHttpMethod="GET",
        uri=upstream.url + "/status/{code}",
        requestParameters={"integration.request.path.code": "method.request.path.code"},
    )  # fmt: skip
    for status in ("200", "404", "500"):
        gw.put_method_response(restApiId=api_id, resourceId=code, httpMethod="GET", statusCode=status)
    gw.put_integration_response(restApiId=api_id, resourceId=code, httpMethod="GET", statusCode="200")
    gw.put_integration_response(
        restApiId=api_id, resourceId=code, httpMethod="GET", statusCode="404", selectionPattern="4\\d{2}",
        responseTemplates={"application/json": '{"missing": "$input.path(\'$.method\')"}'},
    )  # fmt: skip
    gw.put_integration_response(
        restApiId=api_id, resourceId=code, httpMethod="GET", statusCode="500", selectionPattern="5\\d{2}",
        responseTemplates={"application/json": '#set($context.responseOverride.status = 503){"down": true}'},
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod")

    r = _call(broker, api_id, "/201")
    # The default response passes the upstream's body through (no template), as application/json.
    assert r.status_code == 200 and r.json()["path"] == "/status/201"
    assert r.headers["content-type"] == "application/json"
    r = _call(broker, api_id, "/410")
    assert (r.status_code, r.json()) == (404, {"missing": "GET"})
    r = _call(broker, api_id, "/502")
    assert (r.status_code, r.json()) == (503, {"down": True})


def test_http_passthrough_behavior(broker, upstream):
    gw = broker.client("apigateway")
    api_id, _ = _http_api(
        gw, upstream, requestTemplates={"application/json": '{"t": 1}'}, passthroughBehavior="WHEN_NO_TEMPLATES"
    )
    r = _call(broker, api_id, "/convert/echo", method="POST", content=b"plain", headers={"content-type": "text/plain"})
    assert (r.status_code, r.json()) == (415, {"message": "Unsupported Media Type"})
    assert upstream.requests == []  # refused before reaching the upstream

    api_id, _ = _http_api(gw, upstream)  # no templates: the body passes through with its content type
    r = _call(broker, api_id, "/convert/echo", method="POST", content=b"plain", headers={"content-type": "text/plain"})
    assert r.status_code == 200, r.text
    assert upstream.last()["body"] == "plain" and upstream.last()["headers"]["content-type"] == "text/plain"


def test_timeouts_and_refused_connections(broker, upstream):
    gw = broker.client("apigateway")
    rest = gw.create_rest_api(name="http-failures")
    api_id, root = rest["id"], rest["rootResourceId"]
    slow = _resource(gw, api_id, root, "slow")
    _method(
        gw, api_id, slow, "GET", type="HTTP_PROXY", integrationHttpMethod="GET", uri=upstream.url + "/slow",
        timeoutInMillis=300,
    )  # fmt: skip
    refused = _resource(gw, api_id, root, "refused")
    _method(
        gw,
        api_id,
        refused,
        "GET",
        type="HTTP_PROXY",
        integrationHttpMethod="GET",
        uri=f"http://127.0.0.1:{_free_port()}/",
    )
    gw.create_deployment(restApiId=api_id, stageName="prod")

    r = _call(broker, api_id, "/slow")
    assert (r.status_code, r.json()) == (504, {"message": "Endpoint request timed out"})
    upstream.release.set()
    r = _call(broker, api_id, "/refused")
    assert (r.status_code, r.json()) == (500, {"message": "Internal server error"})


def test_uri_naming_the_broker_is_served_on_its_own_port(broker, upstream):
    gw = broker.client("apigateway")
    inner = gw.create_rest_api(name="inner")
    gw.put_method(restApiId=inner["id"], resourceId=inner["rootResourceId"], httpMethod="GET", authorizationType="NONE")
    gw.put_integration(
        restApiId=inner["id"], resourceId=inner["rootResourceId"], httpMethod="GET", type="HTTP_PROXY",
        integrationHttpMethod="GET", uri=upstream.url + "/inner",
    )  # fmt: skip
    gw.create_deployment(restApiId=inner["id"], stageName="live")

    outer = gw.create_rest_api(name="outer")
    # `.invalid` never resolves (RFC 2606): only the broker's own routing can answer this.
    host = f"{inner['id']}.execute-api.broker.invalid:{broker.port}"
    _method(
        gw, outer["id"], outer["rootResourceId"], "GET", type="HTTP_PROXY", integrationHttpMethod="GET",
        uri=f"http://{host}/live/",
    )  # fmt: skip
    gw.create_deployment(restApiId=outer["id"], stageName="prod")

    r = _call(broker, outer["id"], "/")
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["path"] == "/inner"
    assert seen["headers"]["host"] == upstream.url.removeprefix("http://")
    assert len(upstream.requests) == 1


def test_request_override_and_more_mapping_sources(broker, upstream):
    """A request template's $context.requestOverride changes the path, query string and headers sent; request
    mappings read the body (method.request.body.<JSONPath>); response mappings read stage variables and $context."""
    gw = broker.client("apigateway")
    override = (
        '#set($context.requestOverride.path.target = "overridden")'
        '#set($context.requestOverride.querystring.query = "from-template")'
        '#set($context.requestOverride.header.xover = "changed")'
        "{\"n\": $input.json('$.n')}"
    )
    api_id, thing = _http_api(gw, upstream, requestTemplates={"application/json": override})
    gw.update_integration(
        restApiId=api_id, resourceId=thing, httpMethod="POST",
        patchOperations=[{"op": "add", "path": "/requestParameters/integration.request.header.x-name",
                          "value": "method.request.body.user.name"}],
    )  # fmt: skip
    gw.update_integration_response(
        restApiId=api_id, resourceId=thing, httpMethod="POST", statusCode="200",
        patchOperations=[
            {"op": "replace", "path": f"/responseParameters/method.response.header.{name}", "value": value}
            for name, value in (("x-static", "stageVariables.colour"), ("x-path", "context.stage"))
        ],
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod")
    r = _call(broker, api_id, "/convert/echo?q=hi", method="POST", json={"n": 1, "user": {"name": "ann"}})
    assert r.status_code == 200, r.text
    seen = upstream.last()
    assert seen["path"] == "/overridden?query=from-template"
    assert (seen["headers"]["xover"], seen["headers"]["x-name"]) == ("changed", "ann")
    assert json.loads(seen["body"]) == {"n": 1}
    assert (r.headers["x-static"], r.headers["x-path"]) == ("blue", "prod")


def test_an_answer_over_the_payload_limit_is_refused(broker):
    """A backend answer over API Gateway's 10 MB is not buffered whatever its size: 502."""
    big = b"x" * (11 * 1024 * 1024)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", str(len(big)))
            self.end_headers()
            try:
                self.wfile.write(big)
            except OSError:
                pass  # the broker stopped reading

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        gw = broker.client("apigateway")
        rest = gw.create_rest_api(name="big")
        api_id = rest["id"]
        _method(gw, api_id, rest["rootResourceId"], "GET", type="HTTP_PROXY", integrationHttpMethod="GET",
                uri=f"http://127.0.0.1:{server.server_address[1]}/")  # fmt: skip
        gw.create_deployment(restApiId=api_id, stageName="prod")
        r = _call(broker, api_id, "/")
        assert (r.status_code, r.json()) == (502, {"message": "Internal server error"})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
