"""Shared by the tests of the HTTP API data plane: invoking a deployed API over the broker's port, the functions
the tests deploy, and small loopback HTTP servers (a backend for HTTP_PROXY, an OpenID issuer with its JWKS)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.lambda_.helpers import create

# Answers by the request's path: the 2.0 response rules, errors, and (by default) the event itself.
ECHO = """
import json

def handler(event, context):
    path = event.get("rawPath") or event.get("path") or ""
    if path.endswith("/plain"):
        return "hello from lambda"
    if path.endswith("/inferred"):
        return {"answer": 42}
    if path.endswith("/custom"):
        return {"statusCode": 201, "headers": {"x-one": "1", "content-type": "text/plain"},
                "cookies": ["a=1; Path=/", "b=2"], "body": "made"}
    if path.endswith("/binary"):
        return {"statusCode": 200, "body": "AAEC", "isBase64Encoded": True,
                "headers": {"content-type": "application/octet-stream"}}
    if path.endswith("/multi"):
        return {"statusCode": 200, "multiValueHeaders": {"x-many": ["a", "b"]}, "body": "multi"}
    if path.endswith("/boom"):
        raise RuntimeError("boom")
    if path.endswith("/bad-status"):
        return {"statusCode": "not a number"}
    if path.endswith("/no-status"):
        return {"body": "no status"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
"""


def invoke(broker, api_id: str, path: str, method: str = "GET", host: bool = False, **kw: Any) -> httpx.Response:
    """A request to a deployed API: the path form `/_aws/execute-api/<api>/<path>`, or the Host form."""
    if host:
        headers = {**kw.pop("headers", {}), "host": f"{api_id}.execute-api.us-east-1.amazonaws.com"}
        return httpx.request(method, broker.url + path, headers=headers, timeout=60, **kw)
    return httpx.request(method, f"{broker.url}/_aws/execute-api/{api_id}{path}", timeout=60, **kw)


def function(broker, name: str, source: str = ECHO) -> str:
    lam = broker.client("lambda", read_timeout=60)
    return create(lam, name, source=source)["FunctionArn"]


def lambda_uri(function_arn: str) -> str:
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def lambda_integration(gw2, api_id: str, function_arn: str, version: str = "2.0", **kw: Any) -> str:
    return gw2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn, PayloadFormatVersion=version, **kw
    )["IntegrationId"]


def route(gw2, api_id: str, key: str, integration_id: str, **kw: Any) -> str:
    return gw2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration_id}", **kw)["RouteId"]


def broker_now(broker) -> int:
    """The broker's clock (seconds): tokens are issued and expire by it."""
    return int(broker.admin("GET", "/_broker/clock")["now_ms"] / 1000)


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 answering with `handle(method, path, headers, body) -> (status,
    headers, body)`; it records what it was sent. Stopped by stop() (or as a context manager)."""

    def __init__(self, handle: Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]):
        self.seen: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.seen.append({"method": self.command, "path": self.path, "headers": headers, "body": body})
                status, out_headers, content = handle(self.command, self.path, headers, body)
                self.send_response(status)
                for k, v in out_headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Issuer:
    """An OpenID issuer on loopback: an RSA key, its JWKS, and tokens signed with it."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
        self.fetches = 0

        def handle(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
            if path == "/.well-known/openid-configuration":
                self.fetches += 1
                document = {"issuer": self.url, "jwks_uri": self.url + "/keys"}
                return 200, {"content-type": "application/json"}, json.dumps(document).encode()
            if path == "/keys":
                return 200, {"content-type": "application/json"}, json.dumps({"keys": [jwk]}).encode()
            return 404, {}, b""

        self.server = LoopbackServer(handle)
        self.url = self.server.url

    def token(self, claims: dict[str, Any], kid: str = "key-1", key: Any = None) -> str:
        import jwt

        return jwt.encode({"iss": self.url, **claims}, key or self.key, algorithm="RS256", headers={"kid": kid})

    def stop(self) -> None:
        self.server.stop()
