"""The optional per-shard limits (kinesis_throughput_limits): writes over 1,000 records or 1 MiB per second and
shard fail per record in PutRecords and as ProvisionedThroughputExceededException in PutRecord; more than 5
GetRecords calls per second and shard are refused. Off by default (the other Kinesis tests put far more)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.kinesis.helpers import create_stream, error_400

LIMITS = {"BROKER_KINESIS_THROUGHPUT_LIMITS": "true"}


@pytest.fixture
def limited(server_factory, backend):
    server = server_factory(backend, workers=2, env=LIMITS).start()
    # No retries (the harness's clients allow one, which could land in the next second and succeed).
    return server, server.client("kinesis", retries={"max_attempts": 0, "mode": "standard"})


def _within_one_second(step: Callable[[], object]) -> object:
    """Run `step` from the start of a wall-clock second; again (up to 3 times) if it ran past that second, so a
    slow machine does not split what must share one window."""
    for _ in range(3):
        time.sleep(1 - time.time() % 1 + 0.01)
        started = int(time.time())
        result = step()
        if int(time.time()) == started:
            return result
    pytest.fail("could not run the step within one second three times")


def test_put_records_over_the_write_limit_fail_per_record(limited):
    _server, k = limited
    records = [{"Data": b"x", "PartitionKey": f"p{i}"} for i in range(500)]
    counter = iter(range(10))

    def step():
        name = f"narrow{next(counter)}"
        create_stream(k, name, shards=1)
        return [k.put_records(StreamName=name, Records=records[:n]) for n in (500, 400, 200)], name

    outs, name = _within_one_second(step)  # 1,100 records in one second and shard
    assert [o["FailedRecordCount"] for o in outs] == [0, 0, 100]
    failed = [r for r in outs[2]["Records"] if "ErrorCode" in r]
    assert {r["ErrorCode"] for r in failed} == {"ProvisionedThroughputExceededException"}
    assert all("SequenceNumber" in r for r in outs[2]["Records"][:100])  # the first 100 of them fitted
    time.sleep(1.05)
    k.put_record(StreamName=name, Data=b"x", PartitionKey="p")  # a new second, a new budget


def test_put_record_over_the_limit(limited):
    _server, k = limited
    create_stream(k, "single", shards=1)
    records = [{"Data": b"x", "PartitionKey": f"p{i}"} for i in range(500)]

    def step():
        k.put_records(StreamName="single", Records=records)
        k.put_records(StreamName="single", Records=records)
        return error_400(k.put_record, StreamName="single", Data=b"x", PartitionKey="p")

    assert _within_one_second(step)["Code"] == "ProvisionedThroughputExceededException"


def test_bytes_limit(limited):
    _server, k = limited
    create_stream(k, "bytes", shards=1)
    big = {"Data": b"x" * (300 * 1024), "PartitionKey": "p"}
    out = _within_one_second(lambda: k.put_records(StreamName="bytes", Records=[big] * 4))  # 1.2 MiB in a second
    assert out["FailedRecordCount"] == 1


def test_get_records_calls_per_second(limited):
    server, k = limited
    create_stream(k, "reads", shards=1)
    # A client of its own: one connection, so one worker process counts the calls (read limits are per process).
    reader = server.client("kinesis", retries={"max_attempts": 0, "mode": "standard"})

    def step() -> list[str]:
        it = k.get_shard_iterator(StreamName="reads", ShardId="shardId-000000000000", ShardIteratorType="LATEST")
        iterator, codes = it["ShardIterator"], []
        for _ in range(7):
            try:
                iterator = reader.get_records(ShardIterator=iterator)["NextShardIterator"]
                codes.append("ok")
            except reader.exceptions.ProvisionedThroughputExceededException:
                codes.append("throttled")
        return codes

    codes = _within_one_second(step)
    assert codes[:5] == ["ok"] * 5 and "throttled" in codes[5:]
