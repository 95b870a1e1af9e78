"""Shared by the SNS tests: cached clients, a topic wired to a queue, and a local HTTP endpoint that records
what SNS POSTs to it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.exceptions import ClientError

from tests.sqs.clients import client as sqs_client

_clients: dict[tuple, object] = {}


def sns_client(broker, region: str = "us-east-1", access_key: str = "test"):
    key = (broker.url, region, access_key)
    if key not in _clients:
        _clients[key] = broker.client("sns", region=region, access_key=access_key)
    return _clients[key]


def queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def topic_with_queue(
    broker, name: str = "t", raw: bool = False, fifo: bool = False, **sub_attrs
) -> tuple[str, str, str]:
    """(topic ARN, queue URL, subscription ARN): a topic with one SQS subscription."""
    sns, sqs = sns_client(broker), sqs_client(broker)
    suffix = ".fifo" if fifo else ""
    topic_attrs = {"FifoTopic": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    topic = sns.create_topic(Name=name + suffix, Attributes=topic_attrs)["TopicArn"]
    queue_attrs = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=f"{name}-q{suffix}", Attributes=queue_attrs)["QueueUrl"]
    attrs = {"RawMessageDelivery": "true"} if raw else {}
    attrs.update(sub_attrs)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url), Attributes=attrs)
    return topic, url, sub["SubscriptionArn"]


def receive_all(sqs, url: str, expect: int | None = None, wait: float = 0) -> list[dict]:
    """Receive (and delete) everything in a queue, all attributes included."""
    out: list[dict] = []
    deadline = time.monotonic() + wait
    while True:
        msgs = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        out.extend(msgs)
        if not msgs and (expect is None or len(out) >= expect or time.monotonic() > deadline):
            return out


def bodies(msgs: list[dict]) -> list[dict]:
    return [json.loads(m["Body"]) for m in msgs]


class Endpoint:
    """A loopback HTTP server standing in for an HTTP/S subscriber."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.requests: list[dict] = []
        self._cond = threading.Condition()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if endpoint.delay:
                    time.sleep(endpoint.delay)
                with endpoint._cond:
                    endpoint.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body, "at": time.monotonic()}
                    )
                    endpoint._cond.notify_all()
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
                self._cond.wait(left)
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def error_of(fn, **kw) -> tuple[int, str, str]:
    """(HTTP status, code, message) of a call that must fail."""
    try:
        fn(**kw)
    except ClientError as e:
        return (
            e.response["ResponseMetadata"]["HTTPStatusCode"],
            e.response["Error"]["Code"],
            e.response["Error"]["Message"],
        )
    raise AssertionError(f"{fn.__name__} did not fail")
