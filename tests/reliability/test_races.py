"""Races between processes and nodes: FIFO deduplication, move tasks against consumers, concurrent deletes and
creates, FIFO traffic on two PostgreSQL nodes — all without a 5xx or a duplicate."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError


def _status(e: Exception) -> int:
    return e.response["ResponseMetadata"]["HTTPStatusCode"] if isinstance(e, ClientError) else 0


@pytest.fixture
def two_pg_nodes(server_factory, pg_databases):
    db_url = pg_databases.create()
    return server_factory("pg", db_url=db_url).start(), server_factory("pg", db_url=db_url).start()


@pytest.mark.slow
@pytest.mark.pg
def test_fifo_deduplication_holds_across_postgresql_nodes(two_pg_nodes):
    a, b = two_pg_nodes
    url = a.client().create_queue(QueueName="dd.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    clients = [a.client(), b.client(), a.client(), b.client()]

    def send(i: int) -> str:
        c = clients[i % 4]
        return c.send_message(
            QueueUrl=url, MessageBody=f"m{i // 8}", MessageGroupId="g", MessageDeduplicationId=f"d{i // 8}"
        )["MessageId"]

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(send, range(8 * 30)))
    for k in range(30):
        assert len(set(ids[k * 8 : (k + 1) * 8])) == 1, "a duplicate send got a different MessageId"
    bodies = []
    sqs = a.client()
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [m["Body"] for m in msgs]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
        )
    assert sorted(bodies) == sorted(f"m{k}" for k in range(30))


@pytest.mark.slow
@pytest.mark.pg
def test_fifo_traffic_on_two_postgresql_nodes_gives_no_errors(two_pg_nodes):
    a, b = two_pg_nodes
    urls = [
        a.client().create_queue(
            QueueName=f"t{i}.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        )["QueueUrl"]
        for i in range(2)
    ]
    errors: list = []
    stop = time.monotonic() + 6

    def work(n: int) -> None:
        c = (a if n % 2 else b).client()
        i = 0
        while time.monotonic() < stop:
            url = urls[(n + i) % 2]
            try:
                c.send_message(QueueUrl=url, MessageBody=f"{n}-{i}", MessageGroupId=f"g{i % 5}")
                for m in c.receive_message(QueueUrl=url, MaxNumberOfMessages=5).get("Messages", []):
                    c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            except ClientError as e:
                if _status(e) >= 500:
                    errors.append(str(e))
            i += 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]


@pytest.mark.slow
@pytest.mark.pg
def test_move_task_never_moves_a_message_a_consumer_holds(two_pg_nodes):
    a, b = two_pg_nodes
    sqs = a.client()
    dlq = sqs.create_queue(QueueName="race-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(
        QueueName="race-src",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})},
    )
    dest = sqs.create_queue(QueueName="race-dest")["QueueUrl"]
    dest_arn = sqs.get_queue_attributes(QueueUrl=dest, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for i in range(0, 1500, 10):
        sqs.send_message_batch(QueueUrl=dlq, Entries=[{"Id": str(k), "MessageBody": f"b{i + k}"} for k in range(10)])
    held: list[str] = []
    stop = threading.Event()

    def consume(server) -> None:
        c = server.client()
        while not stop.is_set():
            held.extend(
                m["Body"]
                for m in c.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=600).get(
                    "Messages", []
                )
            )

    threads = [threading.Thread(target=consume, args=(s,)) for s in (a, b, a, b)]
    for t in threads:
        t.start()
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=dest_arn)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] != "RUNNING":
            break
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    moved = []
    while msgs := sqs.receive_message(QueueUrl=dest, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", []):
        moved += [m["Body"] for m in msgs]
    assert not set(moved) & set(held), "a message was both held by a consumer and moved"
    assert len(moved) == len(set(moved))
    assert set(moved) | set(held) == {f"b{i}" for i in range(1500)}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_concurrent_deletes_and_creates_of_one_queue(server_factory, backend):
    server = server_factory(backend, workers=2).start()
    clients = [server.client() for _ in range(8)]
    for round_ in range(3):
        name = f"contended{round_}"
        with ThreadPoolExecutor(8) as pool:
            urls = list(pool.map(lambda c, n=name: c.create_queue(QueueName=n)["QueueUrl"], clients))
        assert len(set(urls)) == 1

        def delete(c, url=urls[0]) -> str:
            try:
                c.delete_queue(QueueUrl=url)
                return "ok"
            except ClientError as e:
                return f"{_status(e)} {e.response['Error']['Code']}"

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(delete, clients))
        assert "ok" in outcomes
        assert all(o == "ok" or o.startswith("400 AWS.SimpleQueueService.NonExistentQueue") for o in outcomes), outcomes


def test_fifo_group_behind_a_deep_blocked_group_is_still_delivered(broker):
    sqs = broker.client()
    url = sqs.create_queue(
        QueueName="deep.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    for i in range(0, 6000, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(k), "MessageBody": f"a{i + k}", "MessageGroupId": "A"} for k in range(10)]
        )
    sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="B")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert [m["Body"] for m in first] == ["a0"]
    second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
    assert [m["Body"] for m in second] == ["b0"]


def test_fifo_long_poll_with_attempt_id_gets_a_message_sent_during_the_wait(broker):
    sqs = broker.client()
    url = sqs.create_queue(QueueName="lp.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})[
        "QueueUrl"
    ]
    threading.Timer(
        0.5, lambda: broker.client().send_message(QueueUrl=url, MessageBody="late", MessageGroupId="g")
    ).start()
    t0 = time.monotonic()
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, ReceiveRequestAttemptId="attempt-1").get("Messages", [])
    assert [m["Body"] for m in msgs] == ["late"]
    assert time.monotonic() - t0 < 3
