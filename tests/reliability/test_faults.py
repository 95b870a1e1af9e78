"""Faults: another program holding SQLite's write lock, a full database, and clients or subscribers that hang up or
hang — the broker answers retryable AWS errors (never a 500), keeps serving reads, recovers at once, loses nothing
acknowledged, and leaks no tasks, descriptors or waiters."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.server import drain


def _fails_with(fn, **kw) -> tuple[int, str]:  # noqa: ANN001
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    raise AssertionError(f"{fn.__name__} succeeded")


@pytest.mark.slow
def test_write_lock_held_by_another_program(server_factory):  # noqa: ANN001
    server = server_factory("sqlite", env={"BROKER_DB_BUSY_TIMEOUT_MS": "3000"}).start()
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="locked")["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"before-{i}")
    other = sqlite3.connect(server.data_dir / "broker.db", timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock, as a backup tool or a stray sqlite3 shell might
    held_at = time.monotonic()
    try:
        started = time.monotonic()
        assert _fails_with(sqs.send_message, QueueUrl=url, MessageBody="during") == (503, "ServiceUnavailable")
        waited = time.monotonic() - started
        assert 2.5 <= waited <= 8, f"a write waited {waited:.1f} s, not about the 3 s bound"
        started = time.monotonic()  # reads do not need the lock
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "5"
        assert time.monotonic() - started < 1.5
        time.sleep(max(0.0, 10 - (time.monotonic() - held_at)))  # the lock is held for 10 s in all
    finally:
        other.rollback()
        other.close()
    started = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="after")
    assert time.monotonic() - started < 1.5, "the broker did not recover at once"
    assert sorted(drain(sqs, url)) == ["after", *[f"before-{i}" for i in range(5)]]
    server.stop()
    check = sqlite3.connect(server.data_dir / "broker.db")
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def _pages(server) -> int:  # noqa: ANN001
    conn = sqlite3.connect(server.data_dir / "broker.db")
    try:
        return conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_full_database(server_factory, tmp_path):  # noqa: ANN001
    probe = server_factory("sqlite", data_dir=tmp_path / "full").start()
    probe.client("sqs").create_queue(QueueName="full")
    probe.stop()
    cap = _pages(probe) + 150  # about 600 KiB more
    server = server_factory("sqlite", data_dir=tmp_path / "full", env={"BROKER_SQLITE_MAX_PAGE_COUNT": str(cap)})
    server.start()
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName="full")["QueueUrl"]
    body = "x" * 4000
    acked: list[str] = []
    failure = None
    for n in range(2000):
        try:
            out = sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"{n}-{i}-{body}"} for i in range(10)]
            )
        except ClientError as e:
            failure = (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
            break
        acked += [f"{n}-{e['Id']}-{body}" for e in out["Successful"]]
    assert failure == (503, "ServiceUnavailable"), failure
    assert len(acked) >= 50
    # Reads go on while writes cannot.
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert int(attrs["Attributes"]["ApproximateNumberOfMessages"]) == len(acked)
    assert sqs.list_queues()["QueueUrls"] == [url]
    # Consuming frees pages: writes work again without a restart.
    consumed: list[str] = []
    for _ in range(len(acked) // 20 + 1):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )
        consumed += [m["Body"] for m in got]
    sqs.send_message(QueueUrl=url, MessageBody="after")
    left = drain(sqs, url)
    assert sorted(consumed + left) == sorted([*acked, "after"]), "an acknowledged message was lost"


class _Slow(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(2)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def _resources(server) -> dict:  # noqa: ANN001
    return httpx.get(server.url + "/_broker/resources", timeout=10).json()


def _abandon_long_polls(server, url: str, n: int = 20) -> None:  # noqa: ANN001
    body = b'{"QueueUrl":"%s","WaitTimeSeconds":20}' % url.encode()
    request = (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.ReceiveMessage\r\n"
        b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(n)]
    for s in socks:
        s.sendall(request)
    time.sleep(0.5)
    for s in socks:
        s.close()


def _abandon_subscriptions(server, consumer: str, n: int = 5) -> None:  # noqa: ANN001
    for _ in range(n):
        kinesis = server.client("kinesis")
        events = kinesis.subscribe_to_shard(
            ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"}
        )["EventStream"]
        next(iter(events))
        events.close()
        time.sleep(5.1)  # AWS refuses a new subscription of the same consumer and shard within 5 s


@pytest.mark.slow
def test_no_leaks_from_hangups_and_bad_subscribers(server_factory):  # noqa: ANN001
    slow = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    dead_port = slow.server_address[1] + 1 if slow.server_address[1] < 65535 else 1
    server = server_factory("sqlite").start()
    sqs, sns, kinesis = server.client("sqs"), server.client("sns"), server.client("kinesis")
    url = sqs.create_queue(QueueName="polls")["QueueUrl"]
    topic = sns.create_topic(Name="t")["TopicArn"]
    for endpoint in (f"http://127.0.0.1:{slow.server_address[1]}/", f"http://127.0.0.1:{dead_port}/"):
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint, ReturnSubscriptionArn=True)
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="s", WaiterConfig={"Delay": 0.2})
    arn = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]["ConsumerARN"]

    def cycle() -> None:
        _abandon_long_polls(server, url)
        for i in range(10):
            sns.publish(TopicArn=topic, Message=f"m{i}")
        _abandon_subscriptions(server, consumer, 1)
        time.sleep(3)  # the slow subscriber's POSTs finish, the dead one's fail and wait for their retry

    cycle()  # warms pools and caches
    before = _resources(server)
    for _ in range(3):
        cycle()
    deadline = time.monotonic() + 15
    while True:
        after = _resources(server)
        grown = {k: after[k] - before[k] for k in ("tasks", "fds", "threads")}
        if (all(v <= 3 for v in grown.values()) and after["waiting"] == 0) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    slow.shutdown()
    assert after["waiting"] == 0, after
    assert all(v <= 3 for v in grown.values()), f"grew over 3 cycles: {grown} (before {before}, after {after})"
