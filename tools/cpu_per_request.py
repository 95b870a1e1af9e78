"""Server CPU per request of two source trees, for refactorings that must not cost speed.

Starts `broker serve --workers 1` from TREE (put first on PYTHONPATH), drives SendMessage, SendMessageBatch(10) and
ReceiveMessage(10)+DeleteMessageBatch with wrk (4 connections, one request in flight each, 8 s each) and prints the
broker process's CPU time per request from /proc. CPU per request is far steadier than throughput on a shared,
noisy machine. Compare two trees in one run, interleaved:

    git worktree add /tmp/base <commit>
    for i in 1 2; do .venv/bin/python tools/cpu_per_request.py /tmp/base base
                     .venv/bin/python tools/cpu_per_request.py "$PWD" new; done

A third argument `fifo` runs the same on a FIFO queue (100 message groups, a deduplication id per message).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broker.bench.sqs import AUTH, BATCH_LUA, RECEIVE_DELETE_LUA, SEND_LUA
from broker.bench.sqs_fifo import FIFO_BATCH_LUA, FIFO_SEND_LUA
from broker.bench.wrk import run_wrk


def main(tree: str, label: str, kind: str = "standard") -> None:
    port = 4700 + os.getpid() % 200
    env = {**os.environ, "PYTHONPATH": tree, "BROKER_LOG_LEVEL": "warning"}
    cmd = [sys.executable, "-m", "broker", "serve", "--port", str(port), "--workers", "1"]
    cmd += ["--data-dir", tempfile.mkdtemp()]
    proc = subprocess.Popen(
        cmd, cwd="/tmp", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/_broker/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        headers = {"Content-Type": "application/x-amz-json-1.0", "Authorization": AUTH}
        headers["X-Amz-Target"] = "AmazonSQS.CreateQueue"
        fifo = kind == "fifo"
        create = {"QueueName": "q.fifo", "Attributes": {"FifoQueue": "true"}} if fifo else {"QueueName": "q"}
        queue = httpx.post(base + "/", headers=headers, content=json.dumps(create)).json()["QueueUrl"]
        out: dict[str, Any] = {}
        sends = (FIFO_SEND_LUA, FIFO_BATCH_LUA) if fifo else (SEND_LUA, BATCH_LUA)
        for name, lua in (("send", sends[0]), ("batch", sends[1]), ("receive_delete", RECEIVE_DELETE_LUA)):
            before = _cpu_seconds(proc.pid)
            r = run_wrk(base + "/", lua.replace("QURL", queue), 8, 4)
            spent = _cpu_seconds(proc.pid) - before
            out[name] = {
                "req_s": round(r["rps"]),
                "items_per_req": round(r["items"] / max(1, r["requests"]), 2),
                "cpu_ms_per_req": round(spent * 1000 / r["requests"], 3),
                "p50_us": r["p50_us"],
            }
        print(label, json.dumps(out), flush=True)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
