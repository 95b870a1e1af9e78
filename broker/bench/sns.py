"""`broker bench sns`: Publish to a topic with 10 SQS subscriptions (durable fan-out in one transaction), then with
an HTTP subscriber added — a fast one, then a slow one, which must not slow publishing down."""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from broker.bench.sqs import AUTH, BATCH_LUA, Client, _depth, running_broker
from broker.bench.wrk import report, require_wrk, run_wrk

SUBSCRIPTIONS = 10

PUBLISH_LUA = f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
wrk.headers["Authorization"] = "{AUTH.replace("/sqs/", "/sns/")}"
items = 0
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/", nil, "Action=Publish&Version=2010-03-31&TopicArn=TOPIC&Message=benchmark+message+" .. n)
end
response = function(status, headers, body) if status == 200 then items = items + 1 end end
"""


class _SlowEndpoint:
    """An HTTP subscriber that takes `delay` seconds to answer each POST."""

    def __init__(self, delay: float) -> None:
        self.count = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("x-amz-sns-message-type") == "SubscriptionConfirmation":
                    outer.token = json.loads(body)["Token"]
                else:
                    time.sleep(delay)
                outer.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.token = ""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slow"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _sns(client: Client, action: str, params: dict[str, str]) -> str:
    """A query-protocol SNS call on the benchmark's keep-alive connection; returns the XML answer."""
    body = "&".join(
        f"{k}={quote(str(v), safe='')}" for k, v in {"Action": action, "Version": "2010-03-31", **params}.items()
    )
    client.conn.close()  # a fresh connection: the server drops idle keep-alive ones between phases
    client.conn.request(
        "POST",
        "/",
        body=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": AUTH.replace("/sqs/", "/sns/")},
    )
    response = client.conn.getresponse()
    text = response.read().decode()
    if response.status != 200:
        raise SystemExit(f"{action} failed: {text}")
    return text


def _between(text: str, tag: str) -> str:
    return text.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]


def main(args: argparse.Namespace) -> int:
    require_wrk()
    d, c = args.duration, args.connections
    results: dict[str, Any] = {
        "workers": args.workers,
        "connections": c,
        "duration_s": d,
        "subscriptions": SUBSCRIPTIONS,
    }
    with running_broker(args) as port:
        base = f"http://127.0.0.1:{port}/"
        admin = Client(port)
        topic = _between(_sns(admin, "CreateTopic", {"Name": "bench"}), "TopicArn")
        queues = []
        for i in range(SUBSCRIPTIONS):
            url = admin.call("CreateQueue", {"QueueName": f"fan-{i}"})["QueueUrl"]
            arn = admin.call("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]})["Attributes"][
                "QueueArn"
            ]
            _sns(admin, "Subscribe", {"TopicArn": topic, "Protocol": "sqs", "Endpoint": arn})
            queues.append(url)
        # The same-run reference: SendMessageBatch of 10 messages, the SQS request that writes as many rows.
        ref_queue = admin.call("CreateQueue", {"QueueName": "reference"})["QueueUrl"]
        results["sqs_send_batch_reference"] = ref = run_wrk(base, BATCH_LUA.replace("QURL", ref_queue), d, c)
        print(f"Reference, SQS SendMessageBatch(10): {ref['rps']:.0f} requests/s", flush=True)
        lua = PUBLISH_LUA.replace("TOPIC", quote(topic, safe=""))
        results["publish_10_sqs"] = r = run_wrk(base, lua, d, c)
        delivered = sum(_depth(port, u) for u in queues)
        r["deliveries"] = delivered
        r["deliveries_per_s"] = delivered / (r["duration_us"] / 1e6)
        print(
            f"Publish, {SUBSCRIPTIONS} SQS subscriptions: {r['items_per_s']:.0f} publishes/s, "
            f"{r['deliveries_per_s']:.0f} deliveries/s, p50 {r['p50_us'] / 1000:.2f} ms",
            flush=True,
        )
        # Light load: the latency a single publisher sees.
        results["publish_10_sqs_4_connections"] = r4 = run_wrk(base, lua, max(d / 2, 2), 4)
        print(f"  at 4 connections: {r4['items_per_s']:.0f}/s, p50 {r4['p50_us'] / 1000:.2f} ms", flush=True)

        # An HTTP subscriber added: first one that answers at once, then one that takes 2 s per POST. The
        # slow one must not slow publishing down compared with the fast one.
        for label, delay in (("publish_with_fast_http", 0.0), ("publish_with_slow_http", 2.0)):
            endpoint = _SlowEndpoint(delay)
            sub = _between(
                _sns(admin, "Subscribe", {"TopicArn": topic, "Protocol": "http", "Endpoint": endpoint.url}),
                "SubscriptionArn",
            )
            deadline = time.monotonic() + 10
            while not endpoint.token and time.monotonic() < deadline:
                time.sleep(0.05)
            sub = _between(
                _sns(admin, "ConfirmSubscription", {"TopicArn": topic, "Token": endpoint.token}), "SubscriptionArn"
            )
            results[label] = rh = run_wrk(base, lua, d, c)
            rh["http_posts_answered"] = endpoint.count
            print(
                f"  plus an HTTP subscriber answering in {delay:.0f} s: {rh['items_per_s']:.0f} publishes/s, "
                f"p50 {rh['p50_us'] / 1000:.2f} ms ({endpoint.count} POSTs answered meanwhile)",
                flush=True,
            )
            _sns(admin, "Unsubscribe", {"SubscriptionArn": sub})
            endpoint.server.shutdown()
    return report(args, results)
