"""`broker bench events`: EventBridge routing figures against a fresh broker. A rule on the default bus sends events
of source "bench" to an SQS queue. Reported: PutEvents entries/s with batches of 10 (4 clients with one request in
flight each, and wrk at saturation), and the put -> target latency of single events (PutEvents answered, then the
message received from the queue: p50/p99 with one client)."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from broker.bench.lambda_ import Conn, concurrent, percentiles, timed
from broker.bench.sqs import ACCOUNT, AUTH, running_broker
from broker.bench.wrk import report, require_wrk, run_wrk

EVENTS_AUTH = AUTH.replace("/sqs/", "/events/")
QUEUE = "bench-events"
QUEUE_URL = f"http://localhost/{ACCOUNT}/{QUEUE}"
PUT_LUA = f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "AWSEvents.PutEvents"
wrk.headers["Authorization"] = "{EVENTS_AUTH}"
items = 0
local n = 0
request = function()
  local parts = {{}}
  for i = 1, 10 do
    n = n + 1
    parts[i] = '{{"Source":"bench","DetailType":"bench","Detail":"{{\\\\"n\\\\":' .. n .. '}}"}}'
  end
  return wrk.format(nil, "/", nil, '{{"Entries":[' .. table.concat(parts, ",") .. ']}}')
end
response = function(status, headers, body)
  if status == 200 and body:find('"FailedEntryCount":0') then items = items + 10 end
end
"""


def _json(conn: Conn, service: str, target: str, doc: dict[str, Any]) -> dict[str, Any]:
    content = "application/x-amz-json-1.1" if service == "events" else "application/x-amz-json-1.0"
    headers = {"Content-Type": content, "X-Amz-Target": target, "Authorization": AUTH.replace("/sqs/", f"/{service}/")}
    status, body = conn.call("POST", "/", json.dumps(doc).encode(), headers)
    if status != 200:
        raise SystemExit(f"{target} answered {status}: {body[:300]!r}")
    out: dict[str, Any] = json.loads(body) if body else {}
    return out


def _entries(k: int, n: int) -> dict[str, Any]:
    return {
        "Entries": [{"Source": "bench", "DetailType": "bench", "Detail": json.dumps({"n": n + i})} for i in range(k)]
    }


def _put(conn: Conn, k: int) -> Any:
    sent = [0]

    def call() -> None:
        out = _json(conn, "events", "AWSEvents.PutEvents", _entries(k, sent[0]))
        if out.get("FailedEntryCount"):
            raise SystemExit(f"PutEvents failed entries: {out}")
        sent[0] += k

    return call


def _put_to_target(conn: Conn, rounds: int) -> list[float]:
    """Seconds from sending PutEvents (one entry) until the queue's ReceiveMessage returned that event."""
    out = []
    for n in range(rounds):
        t0 = time.perf_counter()
        _json(conn, "events", "AWSEvents.PutEvents", _entries(1, -n - 1))
        got = _json(
            conn,
            "sqs",
            "AmazonSQS.ReceiveMessage",
            {"QueueUrl": QUEUE_URL, "WaitTimeSeconds": 5, "MaxNumberOfMessages": 1},
        ).get("Messages", [])
        out.append(time.perf_counter() - t0)
        if not got or json.loads(got[0]["Body"])["detail"]["n"] != -n - 1:
            raise SystemExit(f"the event did not reach the queue in order: {got}")
        _json(conn, "sqs", "AmazonSQS.DeleteMessage", {"QueueUrl": QUEUE_URL, "ReceiptHandle": got[0]["ReceiptHandle"]})
    return out


def main(args: argparse.Namespace) -> int:
    require_wrk()
    results: dict[str, Any] = {"workers": args.workers}
    with running_broker(args) as port:
        conn = Conn(port)
        _json(conn, "sqs", "AmazonSQS.CreateQueue", {"QueueName": QUEUE})
        _json(conn, "events", "AWSEvents.PutRule", {"Name": "bench", "EventPattern": json.dumps({"source": ["bench"]})})
        target = {"Id": "q", "Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{QUEUE}"}
        _json(conn, "events", "AWSEvents.PutTargets", {"Rule": "bench", "Targets": [target]})
        for _ in range(20):  # warm caches and the connection
            _put(conn, 1)()
        _json(conn, "sqs", "AmazonSQS.PurgeQueue", {"QueueUrl": QUEUE_URL})
        rounds = max(100, int(args.duration * 40))
        results["put_to_target"] = percentiles(_put_to_target(conn, rounds))
        results["put_1_entry"] = percentiles(timed(_put(conn, 1), rounds))
        calls, per_s = concurrent(port, lambda c: _put(c, 10), 4, args.duration)
        results["put_events_batch10_4_clients"] = {"entries_per_s": round(per_s * 10, 1), "calls": calls}
        r = run_wrk(f"http://127.0.0.1:{port}/", PUT_LUA, args.duration, args.connections)
        results["put_events_batch10_wrk"] = {
            "connections": args.connections,
            "entries_per_s": round(r["items_per_s"], 1),
            "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000,
        }
        conn = Conn(port)  # the first one idled out while wrk ran
        attrs = _json(conn, "sqs", "AmazonSQS.GetQueueAttributes", {"QueueUrl": QUEUE_URL, "AttributeNames": ["All"]})[
            "Attributes"
        ]
        results["queue_messages_after"] = int(attrs["ApproximateNumberOfMessages"])
    return report(args, results)
