"""Kinesis under concurrency and crashes: several worker processes appending to the same shards, and kill -9 while
producers write. Every acknowledged record is stored exactly once, per shard in one order of increasing sequence
numbers, and records of one producer with the same partition key stay in the order they were put (Kinesis Data
Streams Developer Guide: a shard is an ordered sequence of records; PutRecords: records with the same partition key
go to the same shard).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from tests.kinesis.helpers import create_stream, read_stream
from tests.server import BrokerServer

THREADS, REQUESTS, PER_REQUEST, KEYS = 4, 50, 20, 4


@pytest.fixture(scope="module")
def two_workers(backend, tmp_path_factory, request):
    """One broker with two worker processes per backend for this module (the kill test restarts it)."""
    db_url = request.getfixturevalue("pg_databases").create() if backend == "pg" else None
    server = BrokerServer(tmp_path_factory.mktemp(f"workers-{backend}") / "data", db_url=db_url, workers=2).start()
    yield server
    server.kill()


@pytest.fixture
def server(two_workers):
    if two_workers.proc is None:
        two_workers.start()
    two_workers.reset()
    return two_workers


def _check_shards(stored: dict[str, list[dict]]) -> None:
    for shard, records in stored.items():
        seqs = [int(r["SequenceNumber"]) for r in records]
        assert all(a < b for a, b in zip(seqs, seqs[1:], strict=False)), f"{shard}: sequence numbers not increasing"


def _producer(server, name: str, thread: int, acked: list, failures: list) -> None:
    kinesis = server.client("kinesis")
    for j in range(REQUESTS):
        entries = [
            {"Data": f"t{thread}-{j:03d}-{i:02d}".encode(), "PartitionKey": f"t{thread}-k{i % KEYS}"}
            for i in range(PER_REQUEST)
        ]
        try:
            resp = kinesis.put_records(StreamName=name, Records=entries)
        except Exception as e:  # noqa: BLE001 - reported by the test
            failures.append(repr(e))
            continue
        for entry, result in zip(entries, resp["Records"], strict=True):
            if "ErrorCode" in result:
                failures.append(result["ErrorCode"])
            else:
                acked.append((entry["Data"], entry["PartitionKey"], result["ShardId"], result["SequenceNumber"]))


def test_concurrent_put_records_across_workers(server):
    kinesis = server.client("kinesis")
    create_stream(kinesis, "busy", shards=4)
    acked: list[tuple[bytes, str, str, str]] = []
    failures: list[str] = []
    threads = [threading.Thread(target=_producer, args=(server, "busy", n, acked, failures)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(acked) == THREADS * REQUESTS * PER_REQUEST

    stored = read_stream(kinesis, "busy")
    _check_shards(stored)
    where = {r["Data"]: (r["PartitionKey"], shard, r["SequenceNumber"]) for shard, rs in stored.items() for r in rs}
    counts = Counter(r["Data"] for rs in stored.values() for r in rs)
    assert [d for d, c in counts.items() if c > 1] == [], "a record is stored more than once"
    missing = [a for a in acked if a[0] not in where]
    assert missing == [], f"{len(missing)} acknowledged records lost"
    assert sum(counts.values()) == len(acked)
    for data, key, shard, seq in acked:
        assert where[data] == (key, shard, seq), data  # where PutRecords said it went
    # Records of one producer with one partition key come back in the order they were put.
    for rs in stored.values():
        by_key: dict[str, list[bytes]] = {}
        for r in rs:
            by_key.setdefault(r["PartitionKey"], []).append(r["Data"])
        for key, datas in by_key.items():
            assert datas == sorted(datas), f"{key}: out of order"
    assert {r["PartitionKey"] for rs in stored.values() for r in rs} == {
        f"t{n}-k{i}" for n in range(THREADS) for i in range(KEYS)
    }


def _writer(kinesis, name: str, prefix: str, acked: list, errors: list, stop: threading.Event) -> None:
    i = 0
    while not stop.is_set():
        try:
            if i % 2 == 0:
                entries = [{"Data": f"{prefix}-{i}-{k}".encode(), "PartitionKey": f"{prefix}-{k}"} for k in range(10)]
                resp = kinesis.put_records(StreamName=name, Records=entries)
                acked.extend(e["Data"] for e, r in zip(entries, resp["Records"], strict=True) if "ErrorCode" not in r)
            else:
                data = f"{prefix}-{i}".encode()
                kinesis.put_record(StreamName=name, Data=data, PartitionKey=prefix)
                acked.append(data)
        except Exception as exc:  # noqa: BLE001 - the server is being killed; unacknowledged records may be lost
            if stop.is_set():
                return
            errors.append(exc)
            time.sleep(0.01)
        i += 1


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_record(server):
    create_stream(server.client("kinesis"), "durable", shards=3)
    acked: list[bytes] = []
    errors: list[Exception] = []
    stop = threading.Event()
    # Clients first, then a warm-up measured in acknowledged records rather than seconds (a busy CI machine).
    clients = [server.client("kinesis") for _ in range(2)]
    threads = [
        threading.Thread(target=_writer, args=(c, "durable", f"w{n}", acked, errors, stop))
        for n, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL to the whole process group, mid-load
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 300, f"the load did not get going: {errors[-3:]}"

    server.restart()
    kinesis = server.client("kinesis")
    stored = read_stream(kinesis, "durable")
    _check_shards(stored)
    datas = [r["Data"] for rs in stored.values() for r in rs]
    assert len(datas) == len(set(datas)), "a record came back twice"
    missing = set(acked) - set(datas)
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {sorted(missing)[:5]}"
    # The stream goes on after the restart: new records follow the old ones in their shard.
    put = kinesis.put_record(StreamName="durable", Data=b"after restart", PartitionKey="w0")
    before = [int(r["SequenceNumber"]) for r in stored[put["ShardId"]]]
    assert int(put["SequenceNumber"]) > max(before, default=-1)
