"""Kinesis queues across processes and restarts: consumers on two worker processes share a queue without receiving
a record twice, and the delivery state (acknowledged, in flight) survives kill -9."""

from __future__ import annotations

import threading

import pytest

from tests.kinesis.helpers import create_stream

BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]
RECORDS = 600


def _consume(k, queue: str, seen: list, stop: threading.Event) -> None:
    while not stop.is_set():
        batch = k.receive_queue_records(QueueARN=queue, WaitTimeSeconds=1)["QueueRecords"]
        if not batch:
            continue
        seen.extend(r["Data"] for r in batch)
        done = k.acknowledge_queue_records(
            QueueARN=queue, Entries=[{"ReceiptHandle": r["ReceiptHandle"]} for r in batch]
        )
        assert not done["Failed"], done


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_consumers_on_two_workers_share_a_queue(server_factory, backend):
    server = server_factory(backend, workers=2).start()
    k = server.client("kinesis")
    arn = create_stream(k, "s", shards=None)["StreamARN"]
    queue = k.create_queue(QueueName="q", StreamConfigurationList=[{"StreamARN": arn}])["QueueDescription"]["QueueARN"]
    seen: list[bytes] = []
    stop = threading.Event()
    consumers = [server.client("kinesis") for _ in range(4)]  # connections spread over both workers
    threads = [threading.Thread(target=_consume, args=(c, queue, seen, stop)) for c in consumers]
    for t in threads:
        t.start()
    sent = []
    for i in range(0, RECORDS, 50):
        entries = [{"Data": f"r{j}".encode(), "PartitionKey": f"k{j}"} for j in range(i, i + 50)]
        k.put_records(StreamName="s", Records=entries)
        sent += [e["Data"] for e in entries]
    for _ in range(600):
        if len(seen) >= RECORDS:
            break
        threading.Event().wait(0.05)
    stop.set()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(sent), "every record once, none twice"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_delivery_state_survives_kill_9(server_factory, backend):
    server = server_factory(backend).start()
    k = server.client("kinesis")
    arn = create_stream(k, "s", shards=None)["StreamARN"]
    queue = k.create_queue(
        QueueName="q", StreamConfigurationList=[{"StreamARN": arn}], QueueAttributes={"VisibilityTimeoutSeconds": 120}
    )["QueueDescription"]["QueueARN"]
    k.put_records(StreamName="s", Records=[{"Data": f"r{i}".encode(), "PartitionKey": f"k{i}"} for i in range(30)])
    acked = k.receive_queue_records(QueueARN=queue, WaitTimeSeconds=1)["QueueRecords"]
    k.acknowledge_queue_records(QueueARN=queue, Entries=[{"ReceiptHandle": r["ReceiptHandle"]} for r in acked])
    in_flight = k.receive_queue_records(QueueARN=queue, WaitTimeSeconds=1)["QueueRecords"]
    assert len(acked) == len(in_flight) == 10
    server.kill()

    server.start()
    k = server.client("kinesis")
    rest = k.receive_queue_records(QueueARN=queue, WaitTimeSeconds=1)["QueueRecords"]
    assert len(rest) == 10 and all(r["ReceiveCount"] == 1 for r in rest)  # neither acked nor in flight before
    k.acknowledge_queue_records(QueueARN=queue, Entries=[{"ReceiptHandle": r["ReceiptHandle"]} for r in rest])
    # The in-flight handles still work after the restart; the records come back once their visibility passes.
    out = k.update_queue_records_visibility(
        QueueARN=queue, Entries=[{"ReceiptHandle": in_flight[0]["ReceiptHandle"], "VisibilityTimeoutSeconds": 0}]
    )
    assert out["Failed"] == []
    server.advance(121)
    back = k.receive_queue_records(QueueARN=queue, WaitTimeSeconds=1)["QueueRecords"]
    assert sorted(r["Data"] for r in back) == sorted(r["Data"] for r in in_flight)
    assert all(r["ReceiveCount"] == 2 for r in back)
    assert not {r["Data"] for r in back} & {r["Data"] for r in acked + rest}
