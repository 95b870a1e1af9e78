"""Several worker processes (and PostgreSQL nodes) share one state safely."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest


def _consume(server, url: str, got: list, stop: threading.Event) -> None:
    client = server.client()
    while not stop.is_set():
        msgs = client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=120, WaitTimeSeconds=1
        ).get("Messages", [])
        got.extend(m["MessageId"] for m in msgs)
        if msgs:
            client.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
            )


def _no_double_delivery(servers: list, total: int = 600, consumers: int = 6) -> None:
    client = servers[0].client()
    url = client.create_queue(QueueName="shared")["QueueUrl"]
    sent = set()
    for i in range(0, total, 10):
        r = client.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(k), "MessageBody": f"m{i + k}"} for k in range(10)]
        )
        sent |= {e["MessageId"] for e in r["Successful"]}
    got: list[str] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_consume, args=(servers[n % len(servers)], url, got, stop)) for n in range(consumers)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(got) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    assert len(got) == len(set(got)), f"{len(got) - len(set(got))} messages delivered twice within visibility"
    assert set(got) == sent


@pytest.mark.slow
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_consumers_never_share_a_message(server_factory, workers):
    server = server_factory("sqlite", workers=workers).start()
    _no_double_delivery([server])


def _long_poll_wakes(servers: list, polls: int = 8) -> None:
    """Long polls parked in (probably) other processes return as soon as a send commits."""
    client = servers[0].client()
    urls = [client.create_queue(QueueName=f"lp{i}")["QueueUrl"] for i in range(polls)]
    pollers = [servers[i % len(servers)].client(read_timeout=30) for i in range(polls)]
    senders = [servers[(i + 1) % len(servers)].client() for i in range(polls)]
    returned: dict[int, float] = {}
    sent: dict[int, float] = {}

    def poll(i: int) -> None:
        msgs = pollers[i].receive_message(QueueUrl=urls[i], WaitTimeSeconds=20).get("Messages", [])
        returned[i] = time.monotonic() if msgs else float("inf")

    with ThreadPoolExecutor(polls) as pool:
        futures = [pool.submit(poll, i) for i in range(polls)]
        time.sleep(1.0)  # all polls are parked now
        for i, url in enumerate(urls):
            senders[i].send_message(QueueUrl=url, MessageBody="wake")
            sent[i] = time.monotonic()
        for f in futures:
            f.result()
    # From the send's acknowledgement to the poll's answer. The safety-net recheck is 60 s in these servers,
    # so only a real wakeup is this fast.
    late = {i: returned[i] - sent[i] for i in range(polls) if returned[i] - sent[i] > 1.5}
    assert not late, f"long polls not woken promptly after the send: {late}"


@pytest.mark.slow
def test_long_poll_wakes_across_worker_processes(server_factory):
    # The safety-net recheck is pushed past the wait time: only a real cross-process wakeup can pass.
    server = server_factory("sqlite", workers=2, env={"BROKER_LONG_POLL_RECHECK_SECONDS": "60"}).start()
    _long_poll_wakes([server])


@pytest.mark.slow
def test_sweep_lease_taken_over_when_owner_is_killed(server_factory, tmp_path):
    data = tmp_path / "shared"
    a = server_factory("sqlite", data_dir=data).start()

    def holder(server) -> str | None:
        for lease in httpx.get(server.url + "/_broker/leases").json()["leases"]:
            if lease["name"] == "job:sqs.sweep" and lease["live"]:
                return lease["owner"]
        return None

    # A process's first sweep runs at its start and takes the lease (held for its TTL, 2 s here): killed then,
    # the lease stays live a while after its owner is gone.
    deadline = time.monotonic() + 10
    while holder(a) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = holder(a)
    assert victim == httpx.get(a.url + "/_broker/leases").json()["owner"]
    a.kill()
    b = server_factory("sqlite", data_dir=data).start()
    url = b.client().create_queue(QueueName="ret", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    b.client().send_message(QueueUrl=url, MessageBody="old")
    b.advance(120)  # the message is now past its retention period: the sweep has work
    survivor = httpx.get(b.url + "/_broker/leases").json()["owner"]
    deadline = time.monotonic() + 15
    while holder(b) != survivor and time.monotonic() < deadline:
        time.sleep(0.1)
    assert holder(b) == survivor
    # The survivor's sweep now removes the expired row from disk.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with sqlite3.connect(data / "broker.db") as db:
            left = db.execute("SELECT count(*) FROM sqs_messages").fetchone()[0]
        if left == 0:
            break
        time.sleep(0.2)
    assert left == 0


@pytest.mark.slow
@pytest.mark.pg
def test_two_nodes_on_one_postgresql_behave_as_one_broker(server_factory, pg_databases):
    db_url = pg_databases.create()
    a = server_factory("pg", db_url=db_url, env={"BROKER_LONG_POLL_RECHECK_SECONDS": "60"}).start()
    b = server_factory("pg", db_url=db_url, env={"BROKER_LONG_POLL_RECHECK_SECONDS": "60"}).start()
    url = a.client().create_queue(QueueName="both")["QueueUrl"]
    assert b.client().get_queue_url(QueueName="both")["QueueUrl"].endswith("/000000000000/both")
    a.client().send_message(QueueUrl=url, MessageBody="from-a")
    assert [m["Body"] for m in b.client().receive_message(QueueUrl=url)["Messages"]] == ["from-a"]
    a.client().delete_queue(QueueUrl=url)
    _no_double_delivery([a, b], total=400, consumers=4)
    _long_poll_wakes([a, b], polls=4)


@pytest.mark.slow
@pytest.mark.pg
def test_postgresql_workers_never_share_a_message(server_factory):
    server = server_factory("pg", workers=2).start()
    _no_double_delivery([server], total=400, consumers=4)


def test_abandoned_long_polls_leave_nothing_behind(broker):
    """Clients that hang up during a long poll: their waits end at once, and a later send is not swallowed."""
    import socket

    url = broker.client().create_queue(QueueName="abandoned")["QueueUrl"]
    body = b'{"QueueUrl":"%s","WaitTimeSeconds":20}' % url.encode()
    request = (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.ReceiveMessage\r\n"
        b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    socks = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", broker.port))
        s.sendall(request)
        socks.append(s)
    deadline = time.monotonic() + 5
    while httpx.get(broker.url + "/_broker/health").json()["waiting_long_polls"] < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(broker.url + "/_broker/health").json()["waiting_long_polls"] == 20
    for s in socks:
        s.close()
    deadline = time.monotonic() + 5
    while httpx.get(broker.url + "/_broker/health").json()["waiting_long_polls"] > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(broker.url + "/_broker/health").json()["waiting_long_polls"] == 0
    sqs = broker.client()
    sqs.send_message(QueueUrl=url, MessageBody="after")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["after"]
