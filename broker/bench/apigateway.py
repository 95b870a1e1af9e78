"""`broker bench apigateway`: what API Gateway adds to a request. In one run, against one fresh broker: a direct
Lambda Invoke of a warm no-op function (the baseline), the same function behind a REST API Lambda proxy integration
and behind an HTTP API (payload 2.0), and a REST API MOCK integration — p50/p99 with one client, requests/s with 4
clients (one request in flight each), and wrk at saturation."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from broker.bench.lambda_ import Conn, concurrent, create_function, percentiles, timed, zip_file
from broker.bench.sqs import AUTH, running_broker
from broker.bench.wrk import report, require_wrk, run_wrk

GW_AUTH = AUTH.replace("/sqs/", "/apigateway/")
HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'
COUNT_LUA = """
items = 0
response = function(status, headers, body) if status == 200 then items = items + 1 end end
"""
INVOKE_LUA = (
    f"""
wrk.method = "POST"
wrk.headers["Authorization"] = "{AUTH.replace("/sqs/", "/lambda/")}"
wrk.body = '{{}}'
"""
    + COUNT_LUA
)


def _call(conn: Conn, method: str, path: str, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    status, body = conn.call(method, path, json.dumps(doc or {}).encode(), {"Authorization": GW_AUTH})
    if status >= 300:
        raise SystemExit(f"{method} {path} answered {status}: {body[:300]!r}")
    return json.loads(body) if body else {}


def _rest_api(conn: Conn, function_arn: str) -> str:
    """A REST API with GET /mock (MOCK) and GET /fn (Lambda proxy), deployed to stage `bench`."""
    api = _call(conn, "POST", "/restapis", {"name": "bench"})
    api_id, root = api["id"], api["rootResourceId"]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    for part, integration in (
        ("mock", {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}}),
        ("fn", {"type": "AWS_PROXY", "httpMethod": "POST", "uri": uri}),
    ):
        resource = _call(conn, "POST", f"/restapis/{api_id}/resources/{root}", {"pathPart": part})["id"]
        method = f"/restapis/{api_id}/resources/{resource}/methods/GET"
        _call(conn, "PUT", method, {"authorizationType": "NONE"})
        _call(conn, "PUT", f"{method}/integration", integration)
        if part == "mock":
            _call(conn, "PUT", f"{method}/responses/200", {})
            template = {"responseTemplates": {"application/json": '{"ok": true}'}}
            _call(conn, "PUT", f"{method}/integration/responses/200", template)
    _call(conn, "POST", f"/restapis/{api_id}/deployments", {"stageName": "bench"})
    return str(api_id)


def _http_api(conn: Conn, function_arn: str) -> str:
    """An HTTP API quick-created with the function as its target (route and stage `$default`)."""
    return str(
        _call(conn, "POST", "/v2/apis", {"name": "bench", "protocolType": "HTTP", "target": function_arn})["apiId"]
    )


def _get(conn: Conn, path: str) -> Callable[[], None]:
    def call() -> None:
        status, body = conn.call("GET", path, b"", {})
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")

    return call


def _invoke(conn: Conn) -> Callable[[], None]:
    def call() -> None:
        conn.invoke("gw-noop")

    return call


def main(args: argparse.Namespace) -> int:
    require_wrk()
    results: dict[str, Any] = {"workers": args.workers}
    rounds = max(100, int(args.duration * 50))
    with running_broker(args) as port:
        conn = Conn(port)
        create_function(conn, "gw-noop", "python3.12", "handler.handler", zip_file("handler.py", HANDLER))
        arn = "arn:aws:lambda:us-east-1:000000000000:function:gw-noop"
        rest = _rest_api(conn, arn)
        http = _http_api(conn, arn)
        paths = {
            "direct_invoke": None,
            "rest_mock": f"/_aws/execute-api/{rest}/bench/mock",
            "rest_lambda_proxy": f"/_aws/execute-api/{rest}/bench/fn",
            "http_api_lambda_proxy": f"/_aws/execute-api/{http}/anything",
        }

        def make(label: str) -> Callable[[Conn], Callable[[], None]]:
            path = paths[label]
            return _invoke if path is None else lambda c: _get(c, path)

        for label in paths:  # warm environments, caches and the connection
            for _ in range(30):
                make(label)(conn)()
        # Interleaved rounds, so drift on a noisy machine touches every variant alike.
        samples: dict[str, list[float]] = {label: [] for label in paths}
        for _ in range(5):
            for label in paths:
                samples[label] += timed(make(label)(conn), rounds // 5)
        base = percentiles(samples["direct_invoke"])
        for label in paths:
            p = percentiles(samples[label])
            if label != "direct_invoke":
                p["over_direct_invoke_p50_ms"] = round(p["p50_ms"] - base["p50_ms"], 3)
            p["requests_per_s_4_clients"] = round(concurrent(port, make(label), 4, args.duration / 2)[1], 1)
            results[label] = p
        for label, path in paths.items():
            url = f"http://127.0.0.1:{port}" + (path or "/2015-03-31/functions/gw-noop/invocations")
            r = run_wrk(url, INVOKE_LUA if path is None else COUNT_LUA, args.duration / 2, args.connections)
            results[label]["wrk"] = {
                "connections": args.connections,
                "requests_per_s": round(r["items_per_s"], 1),
                "p50_ms": r["p50_us"] / 1000,
                "p99_ms": r["p99_us"] / 1000,
            }
    return report(args, results)
