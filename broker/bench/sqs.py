"""`broker bench sqs`: SQS throughput and latency figures against a fresh broker (durable SQLite, N workers)."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from broker.bench.wrk import report, require_wrk, run_wrk

ACCOUNT = "000000000000"
AUTH = (
    "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
)
TARGET = "AmazonSQS."

HEADERS_LUA = f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["Authorization"] = "{AUTH}"
items = 0
"""

SEND_LUA = (
    HEADERS_LUA
    + """
wrk.headers["X-Amz-Target"] = "AmazonSQS.SendMessage"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/", nil, '{"QueueUrl":"QURL","MessageBody":"benchmark message number ' .. n .. '"}')
end
response = function(status, headers, body) if status == 200 then items = items + 1 end end
"""
)

BATCH_LUA = (
    HEADERS_LUA
    + """
wrk.headers["X-Amz-Target"] = "AmazonSQS.SendMessageBatch"
local n = 0
request = function()
  local parts = {}
  for i = 1, 10 do
    n = n + 1
    parts[i] = '{"Id":"e' .. i .. '","MessageBody":"benchmark message number ' .. n .. '"}'
  end
  return wrk.format(nil, "/", nil, '{"QueueUrl":"QURL","Entries":[' .. table.concat(parts, ",") .. ']}')
end
response = function(status, headers, body)
  if status == 200 and not body:find('"Failed"') then items = items + 10 end  -- AWS leaves out an empty Failed
end
"""
)

RECEIVE_DELETE_LUA = (
    HEADERS_LUA
    + """
local handles = {}
local receive_body = '{"QueueUrl":"QURL","MaxNumberOfMessages":10,"VisibilityTimeout":120}'
request = function()
  if #handles > 0 then
    local parts = {}
    local k = 0
    while #handles > 0 and k < 10 do
      k = k + 1
      parts[k] = '{"Id":"d' .. k .. '","ReceiptHandle":"' .. table.remove(handles) .. '"}'
    end
    pending = (pending or 0) + k
    return wrk.format(nil, "/", {["X-Amz-Target"] = "AmazonSQS.DeleteMessageBatch"},
                      '{"QueueUrl":"QURL","Entries":[' .. table.concat(parts, ",") .. ']}')
  end
  return wrk.format(nil, "/", {["X-Amz-Target"] = "AmazonSQS.ReceiveMessage"}, receive_body)
end
response = function(status, headers, body)
  if status ~= 200 then return end
  if body:find('"Successful"') then
    local ok = 0
    for _ in body:gmatch('"Id":"d') do ok = ok + 1 end
    items = items + ok
    return
  end
  for h in body:gmatch('"ReceiptHandle":"([^"]+)"') do table.insert(handles, h) end
end
"""
)

RECEIVE_ONLY_LUA = (
    HEADERS_LUA
    + """
wrk.headers["X-Amz-Target"] = "AmazonSQS.ReceiveMessage"
wrk.body = '{"QueueUrl":"QURL","MaxNumberOfMessages":10,"VisibilityTimeout":0}'
response = function(status, headers, body) if status == 200 then items = items + 1 end end
"""
)

HELLO_LUA = """
items = 0
wrk.method = "POST"
wrk.body = '{"QueueUrl":"x","MessageBody":"benchmark message"}'
response = function(status) if status == 200 then items = items + 1 end end
"""


def start_broker(
    args: argparse.Namespace, tmp: str, port: int, env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    """A fresh broker for one benchmark run, with the run's worker count and storage."""
    cmd = [sys.executable, "-m", "broker", "serve", "--port", str(port), "--workers", str(args.workers)]
    return start_server(cmd + storage_args(args, tmp), port, env, "/_broker/health", log)


@contextlib.contextmanager
def running_broker(args: argparse.Namespace) -> Iterator[int]:
    """A fresh broker for one benchmark run (its own temporary data dir, or the given database); yields its port
    and stops it afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_broker(args, tmp, port, {**os.environ, "BROKER_LOG_LEVEL": "warning"})
        try:
            yield port
        finally:
            stop_server(proc)


def storage_args(args: argparse.Namespace, tmp: str) -> list[str]:
    """Where the benchmarked broker keeps its state: a fresh SQLite data dir, or the given PostgreSQL database."""
    if getattr(args, "db_url", None):
        return ["--db-url", args.db_url]
    return ["--data-dir", str(Path(tmp) / "data")]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_up(
    port: int, path: str = "/_broker/health", timeout: float = 120, proc: subprocess.Popen[bytes] | None = None
) -> None:
    # A loaded machine can take most of a minute to start a broker; a server that exits is not waited for.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with status {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            if c.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not come up")


class Client:
    """A keep-alive JSON-protocol client on one connection (so it stays with one worker process)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._call(op, body)
        except (ConnectionError, http.client.HTTPException):
            # The server closes idle keep-alive connections (between phases): reconnect once.
            self.conn.close()
            return self._call(op, body)

    def _call(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        self.conn.request(
            "POST",
            "/",
            json.dumps(body),
            {"X-Amz-Target": TARGET + op, "Content-Type": "application/x-amz-json-1.0", "Authorization": AUTH},
        )
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"{op}: {r.status} {data[:200]!r}")
        out: dict[str, Any] = json.loads(data)
        return out

    def pid(self) -> int:
        self.conn.request("GET", "/_broker/health")
        pid: int = json.loads(self.conn.getresponse().read())["pid"]
        return pid


def start_server(
    cmd: list[str], port: int, env: dict[str, str], health: str, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a server in its own process group (so stop_server ends all its processes), output to `log` or
    nowhere; return once `health` answers on `port` (a server that never does is stopped)."""
    with open(log or os.devnull, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_up(port, health, proc=proc)
    except BaseException:
        stop_server(proc)
        raise
    time.sleep(1.0)  # let every worker finish starting
    return proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):  # its group may be gone already (a server that crashed)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _fill(port: int, url: str, count: int) -> None:
    def worker(n: int) -> None:
        c = Client(port)
        for i in range(n):
            c.call(
                "SendMessageBatch",
                {"QueueUrl": url, "Entries": [{"Id": str(k), "MessageBody": f"filler {i} {k}"} for k in range(10)]},
            )

    per = count // 10 // 4
    threads = [threading.Thread(target=worker, args=(per,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _depth(port: int, url: str) -> int:
    attrs = Client(port).call("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _long_poll_wake(port: int, rounds: int) -> dict[str, Any]:
    """Park a long poll on one worker, send from a connection on another worker, time the wakeup."""
    sender = Client(port)
    sender_pid = sender.pid()
    pollers: list[Client] = []
    for _ in range(40):
        c = Client(port)
        if c.pid() != sender_pid:
            pollers.append(c)
        if len(pollers) >= 2:
            break
    if not pollers:
        raise SystemExit("could not get a connection on another worker process")
    url = sender.call("CreateQueue", {"QueueName": "bench-longpoll"})["QueueUrl"]
    wakes, e2e = [], []
    for i in range(rounds):
        poller = pollers[i % len(pollers)]
        done: dict[str, Any] = {}

        def poll(p: Client = poller, out: dict[str, Any] = done) -> None:
            r = p.call("ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 10})
            out["t"] = time.perf_counter()
            out["n"] = len(r.get("Messages", []))
            for m in r.get("Messages", []):
                p.call("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]})

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.15)  # parked
        t0 = time.perf_counter()
        sender.call("SendMessage", {"QueueUrl": url, "MessageBody": f"wake {i}"})
        t_ack = time.perf_counter()
        t.join()
        if done.get("n"):
            wakes.append(max(0.0, done["t"] - t_ack))
            e2e.append(done["t"] - t0)
    return {
        "rounds": len(wakes),
        "wake_after_ack_p50_ms": statistics.median(wakes) * 1000,
        "send_to_receive_p50_ms": statistics.median(e2e) * 1000,
        "send_to_receive_p90_ms": statistics.quantiles(e2e, n=10)[-1] * 1000,
    }


def main(args: argparse.Namespace) -> int:
    require_wrk()
    d = args.duration
    c = args.connections
    results: dict[str, Any] = {
        "backend": "postgresql" if args.db_url else "sqlite",
        "workers": args.workers,
        "connections": c,
        "duration_s": d,
        "durability": "postgresql commit (synchronous_commit as configured)"
        if args.db_url
        else "sqlite WAL, synchronous=NORMAL (survives kill -9)",
        "cpus": os.cpu_count(),
    }
    env = {**os.environ, "BROKER_LOG_LEVEL": "warning"}

    # 1. The ceiling: a hello-world ASGI app under the same server settings.
    port = free_port()
    hello = start_server(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "broker.bench.hello:app",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--backlog",
            "4096",
        ],
        port,
        env,
        "/",
    )
    try:
        results["hello"] = run_wrk(f"http://127.0.0.1:{port}/", HELLO_LUA, d, c)
    finally:
        stop_server(hello)
    print(f"hello ceiling: {results['hello']['rps']:.0f} req/s", flush=True)

    with running_broker(args) as port:
        base = f"http://127.0.0.1:{port}/"
        admin = Client(port)
        q = {
            n: admin.call("CreateQueue", {"QueueName": f"bench-{n}"})["QueueUrl"]
            for n in ("send", "batch", "empty", "small")
        }

        results["send"] = run_wrk(base, SEND_LUA.replace("QURL", q["send"]), d, c)
        print(f"SendMessage: {results['send']['items_per_s']:.0f} msg/s", flush=True)
        results["send_batch"] = run_wrk(base, BATCH_LUA.replace("QURL", q["batch"]), d, c)
        print(f"SendMessageBatch(10): {results['send_batch']['items_per_s']:.0f} msg/s", flush=True)
        deep = _depth(port, q["batch"])
        if deep < 110_000:
            _fill(port, q["batch"], 110_000 - deep)
        deep = _depth(port, q["batch"])

        # Latency against queue depth, at light load (4 connections), alternating the two queues so that
        # drift of a noisy machine does not favour either; medians of the rounds.
        _fill(port, q["small"], 40)
        pairs = {"send": (SEND_LUA, q["empty"], q["batch"]), "receive": (RECEIVE_ONLY_LUA, q["small"], q["batch"])}
        lat: dict[str, dict[str, float]] = {}
        for name, (lua, shallow, deepq) in pairs.items():
            p50s: dict[str, list[float]] = {"shallow": [], "deep": []}
            for _ in range(3):
                for label, url in (("shallow", shallow), ("deep", deepq)):
                    p50s[label].append(run_wrk(base, lua.replace("QURL", url), max(d / 4, 2), 4)["p50_us"])
            lat[name] = {k: statistics.median(v) for k, v in p50s.items()}
            lat[name]["ratio"] = lat[name]["deep"] / lat[name]["shallow"]
        results["depth_latency"] = {"deep_queue_messages": deep, **lat}
        print(f"depth {deep}: {lat}", flush=True)

        # Send p99 at a load just above the target rate (fewer connections than the throughput run).
        results["send_8_connections"] = run_wrk(base, SEND_LUA.replace("QURL", q["send"]), d, 8)
        r8 = results["send_8_connections"]
        print(f"SendMessage, 8 connections: {r8['items_per_s']:.0f} msg/s, p99 {r8['p99_us']} us", flush=True)

        results["receive_delete"] = run_wrk(base, RECEIVE_DELETE_LUA.replace("QURL", q["batch"]), d, c)
        # A queue drained before the end would make the figure a measure of empty receives.
        results["receive_delete"]["left_in_queue"] = _depth(port, q["batch"])
        print(
            f"Receive(10)+DeleteBatch: {results['receive_delete']['items_per_s']:.0f} msg/s "
            f"({results['receive_delete']['left_in_queue']} messages left)",
            flush=True,
        )

        if args.workers > 1:
            results["long_poll_wake"] = _long_poll_wake(port, rounds=60)
            print(f"long-poll wake across workers: {results['long_poll_wake']}", flush=True)

    ceiling = results["hello"]["rps"]
    for key in ("send", "send_batch", "receive_delete"):
        results[key]["ratio_to_hello_rps"] = results[key]["rps"] / ceiling
    return report(args, results)
