"""`broker bench lambda`: warm invoke latency and its overhead over a trivial broker call (same run, same client),
cold starts of a Python and a Node function, and synchronous invoke throughput with 8 keep-alive clients."""

from __future__ import annotations

import argparse
import http.client
import io
import json
import statistics
import threading
import time
import zipfile
from collections.abc import Callable
from typing import Any

from broker.bench.sqs import AUTH, running_broker
from broker.bench.wrk import report, require_wrk, run_wrk

ROLE = "arn:aws:iam::000000000000:role/bench"
LAMBDA_AUTH = AUTH.replace("/sqs/", "/lambda/")
STS_AUTH = AUTH.replace("/sqs/", "/sts/")
PY_HANDLER = "def handler(event, context):\n    return event\n"
NODE_HANDLER = "exports.handler = async (event) => event;\n"

INVOKE_LUA = f"""
items = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "{LAMBDA_AUTH}"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{{"bench": true}}'
response = function(status, headers, body) if status == 200 then items = items + 1 end end
"""


def zip_file(name: str, source: str) -> bytes:
    """A deployment package holding one file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, source)
    return buf.getvalue()


class Conn:
    """One keep-alive connection, one request in flight."""

    def __init__(self, port: int) -> None:
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        self.c.request(method, path, body=body, headers=headers)
        r = self.c.getresponse()
        return r.status, r.read()

    def invoke(self, name: str, payload: bytes = b'{"bench": true}') -> bytes:
        status, body = self.call(
            "POST", f"/2015-03-31/functions/{name}/invocations", payload, {"Authorization": LAMBDA_AUTH}
        )
        if status != 200:
            raise SystemExit(f"invoke {name} answered {status}: {body[:300]!r}")
        return body

    def trivial(self) -> None:
        status, body = self.call(
            "POST",
            "/",
            b"Action=GetCallerIdentity&Version=2011-06-15",
            {"Authorization": STS_AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200:
            raise SystemExit(f"GetCallerIdentity answered {status}")


def create_function(conn: Conn, name: str, runtime: str, handler: str, code: bytes) -> None:
    """CreateFunction (Timeout 30 s); any answer but 201 ends the benchmark."""
    import base64

    doc = {
        "FunctionName": name,
        "Runtime": runtime,
        "Role": ROLE,
        "Handler": handler,
        "Code": {"ZipFile": base64.b64encode(code).decode()},
        "Timeout": 30,
    }
    status, body = conn.call("POST", "/2015-03-31/functions", json.dumps(doc).encode(), {"Authorization": LAMBDA_AUTH})
    if status != 201:
        raise SystemExit(f"CreateFunction answered {status}: {body[:300]!r}")


def percentiles(samples: list[float]) -> dict[str, float]:
    """Median and p99 of durations in seconds, as milliseconds, and the sample count."""
    s = sorted(samples)
    return {
        "p50_ms": round(statistics.median(s) * 1000, 3),
        "p99_ms": round(s[min(len(s) - 1, int(len(s) * 0.99))] * 1000, 3),
        "n": len(s),
    }


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    """Durations (s) of `rounds` calls of `fn`, one after another."""
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _cold(conn: Conn, runtime: str, handler: str, code: bytes, prefix: str, rounds: int) -> dict[str, float]:
    samples = []
    for i in range(rounds):
        name = f"{prefix}-{i}"
        create_function(conn, name, runtime, handler, code)
        t0 = time.perf_counter()
        conn.invoke(name)
        samples.append(time.perf_counter() - t0)
    return percentiles(samples)


def concurrent(
    port: int, make: Callable[[Conn], Callable[[], object]], clients: int, seconds: float
) -> tuple[int, float]:
    """(calls, calls per second) of `clients` keep-alive connections, one request in flight each, for `seconds`;
    `make` turns a connection into the call each one repeats."""
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def work(i: int) -> None:
        call = make(Conn(port))
        while time.monotonic() < stop:
            call()
            counts[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), sum(counts) / (time.perf_counter() - t0)


def _throughput(port: int, name: str, clients: int, seconds: float) -> dict[str, Any]:
    calls, rate = concurrent(port, lambda conn: lambda: conn.invoke(name), clients, seconds)
    return {"clients": clients, "invokes": calls, "invokes_per_s": round(rate, 1)}


def main(args: argparse.Namespace) -> int:
    require_wrk()
    results: dict[str, Any] = {"workers": args.workers}
    rounds = max(50, int(args.duration * 30))
    with running_broker(args) as port:
        conn = Conn(port)
        create_function(conn, "warm-py", "python3.12", "handler.handler", zip_file("handler.py", PY_HANDLER))
        create_function(conn, "warm-node", "nodejs20.x", "index.handler", zip_file("index.js", NODE_HANDLER))
        for _ in range(20):  # warm the environments and the connection
            conn.invoke("warm-py")
            conn.invoke("warm-node")
            conn.trivial()
        trivial = timed(conn.trivial, rounds)
        warm_py = timed(lambda: conn.invoke("warm-py"), rounds)
        warm_node = timed(lambda: conn.invoke("warm-node"), rounds)
        base = percentiles(trivial)
        results["trivial_call_sts"] = base
        for label, samples in (("warm_invoke_python", warm_py), ("warm_invoke_node", warm_node)):
            p = percentiles(samples)
            p["overhead_p50_ms"] = round(p["p50_ms"] - base["p50_ms"], 3)
            results[label] = p
        results["cold_start_python"] = _cold(
            conn, "python3.12", "handler.handler", zip_file("handler.py", PY_HANDLER), "cold-py", 10
        )
        results["cold_start_node"] = _cold(
            conn, "nodejs20.x", "index.handler", zip_file("index.js", NODE_HANDLER), "cold-node", 10
        )
        results["sync_throughput_python_8_clients"] = _throughput(port, "warm-py", 8, args.duration)
        r = run_wrk(f"http://127.0.0.1:{port}/2015-03-31/functions/warm-py/invocations", INVOKE_LUA, args.duration, 8)
        results["wrk_8_connections_python"] = {
            "invokes_per_s": round(r["items_per_s"], 1),
            "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000,
        }
    return report(args, results)
