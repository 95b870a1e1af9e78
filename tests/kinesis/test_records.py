"""Kinesis Data Streams records: PutRecord / PutRecords routing and limits, shard iterators, GetRecords, expiry of
iterators and retention of records, through unchanged boto3.

AWS behaviour is the contract (Kinesis Data Streams API Reference: PutRecord, PutRecords, GetShardIterator,
GetRecords, IncreaseStreamRetentionPeriod, DecreaseStreamRetentionPeriod; Developer Guide: key concepts).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from tests.kinesis.helpers import (
    HASH_SPACE,
    create_stream,
    error_400,
    list_shards,
    read_from,
    read_shard,
    read_stream,
    shard_for,
)
from tests.kinesis.helpers import client as _client
from tests.kinesis.helpers import outcome as _outcome
from tests.server import BrokerServer

MiB = 1024 * 1024


@pytest.fixture
def kinesis(broker):
    return _client(broker)


@pytest.fixture(scope="module")
def unswept_server(backend, tmp_path_factory, request):
    """A broker whose scheduled sweep practically never runs: what readers see before the sweep is deterministic."""
    db_url = request.getfixturevalue("pg_databases").create() if backend == "pg" else None
    data = tmp_path_factory.mktemp(f"unswept-{backend}") / "data"
    server = BrokerServer(data, db_url=db_url, env={"BROKER_SWEEP_INTERVAL_SECONDS": "86400"}).start()
    yield server
    server.stop()


@pytest.fixture
def unswept(unswept_server):
    unswept_server.reset()
    return unswept_server


def _md5(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big")


def _now(broker) -> datetime:
    return datetime.fromtimestamp(broker.admin("GET", "/_broker/clock")["now_ms"] / 1000, UTC)


def _iterator(kinesis, name: str, shard: str, kind: str, **kw) -> str:
    return kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=kind, **kw)["ShardIterator"]


def _data(records: list[dict]) -> list[bytes]:
    return [r["Data"] for r in records]


SHARD0 = "shardId-000000000000"


# -- PutRecord -----------------------------------------------------------------------------------------------
def test_put_record_returns_shard_id_and_sequence_number(kinesis):
    create_stream(kinesis, "s", shards=1)
    r = kinesis.put_record(StreamName="s", Data=b"hello", PartitionKey="k")
    assert r["ShardId"] == SHARD0
    assert r["SequenceNumber"].isdigit()
    records = read_shard(kinesis, "s", SHARD0)
    assert [(x["SequenceNumber"], x["Data"], x["PartitionKey"]) for x in records] == [
        (r["SequenceNumber"], b"hello", "k")
    ]


def test_records_land_in_the_shard_holding_md5_of_the_partition_key(kinesis):
    create_stream(kinesis, "routed", shards=4)
    shards = list_shards(kinesis, "routed")
    landed: dict[str, set[str]] = {}
    for i in range(60):
        key = f"customer-{i}"
        got = kinesis.put_record(StreamName="routed", Data=key.encode(), PartitionKey=key)["ShardId"]
        assert got == shard_for(shards, _md5(key)), key
        landed.setdefault(got, set()).add(key)
    assert len(landed) == 4  # 60 keys spread over every shard
    for shard, keys in landed.items():
        assert {r["PartitionKey"] for r in read_shard(kinesis, "routed", shard)} == keys


def test_unicode_partition_keys_hash_their_utf8_bytes(kinesis):
    create_stream(kinesis, "routed", shards=4)
    shards = list_shards(kinesis, "routed")
    for key in ["ünïcödé", "日本語キー", "emoji-🙂", "x" * 256]:
        got = kinesis.put_record(StreamName="routed", Data=b"d", PartitionKey=key)["ShardId"]
        assert got == shard_for(shards, _md5(key)), key


def test_explicit_hash_key_overrides_the_partition_key(kinesis):
    create_stream(kinesis, "routed", shards=3)
    shards = list_shards(kinesis, "routed")
    key = "always-the-same-key"
    for shard in shards:
        for edge in ("StartingHashKey", "EndingHashKey"):
            explicit = shard["HashKeyRange"][edge]
            got = kinesis.put_record(StreamName="routed", Data=b"d", PartitionKey=key, ExplicitHashKey=explicit)
            assert got["ShardId"] == shard["ShardId"], (edge, explicit)
    for shard in shards:
        assert len(read_shard(kinesis, "routed", shard["ShardId"])) == 2


def test_sequence_numbers_strictly_increase_within_a_shard(kinesis):
    create_stream(kinesis, "ordered", shards=2)
    by_shard: dict[str, list[int]] = {}
    for i in range(40):
        r = kinesis.put_record(StreamName="ordered", Data=str(i).encode(), PartitionKey=f"k{i % 7}")
        by_shard.setdefault(r["ShardId"], []).append(int(r["SequenceNumber"]))
    for seqs in by_shard.values():
        assert all(a < b for a, b in zip(seqs, seqs[1:], strict=False))
    for shard, seqs in by_shard.items():
        assert [int(r["SequenceNumber"]) for r in read_shard(kinesis, "ordered", shard)] == seqs


@pytest.mark.parametrize("operation", ["put_record", "put_records"])
def test_explicit_hash_key_of_2_pow_128_or_more_is_invalid_argument(kinesis, operation):
    create_stream(kinesis, "routed", shards=2)
    for explicit in (str(HASH_SPACE), str(HASH_SPACE + 12345)):
        entry = {"Data": b"d", "PartitionKey": "k", "ExplicitHashKey": explicit}
        if operation == "put_record":
            err = error_400(kinesis.put_record, StreamName="routed", **entry)
        else:
            err = error_400(kinesis.put_records, StreamName="routed", Records=[entry])
        assert err["Code"] == "InvalidArgumentException", explicit
    assert all(records == [] for records in read_stream(kinesis, "routed").values())


def test_highest_explicit_hash_key_goes_to_the_last_shard(kinesis):
    create_stream(kinesis, "routed", shards=2)
    got = kinesis.put_record(StreamName="routed", Data=b"d", PartitionKey="k", ExplicitHashKey=str(HASH_SPACE - 1))
    assert got["ShardId"] == list_shards(kinesis, "routed")[-1]["ShardId"]


@pytest.mark.parametrize("operation", ["put_record", "put_records"])
def test_record_data_over_1_mib_is_validation_exception(kinesis, operation):
    create_stream(kinesis, "big", shards=1)
    entry = {"Data": b"x" * (MiB + 1), "PartitionKey": "k"}
    if operation == "put_record":
        err = error_400(kinesis.put_record, StreamName="big", **entry)
    else:
        err = error_400(kinesis.put_records, StreamName="big", Records=[{"Data": b"small", "PartitionKey": "k"}, entry])
    assert err["Code"] == "ValidationException"
    assert read_shard(kinesis, "big", SHARD0) == []


# -- PutRecords ----------------------------------------------------------------------------------------------
def test_put_records_500_records(kinesis):
    create_stream(kinesis, "batch", shards=3)
    shards = list_shards(kinesis, "batch")
    entries = [{"Data": f"record-{i}".encode(), "PartitionKey": f"key-{i % 37}"} for i in range(500)]
    resp = kinesis.put_records(StreamName="batch", Records=entries)
    assert resp["FailedRecordCount"] == 0
    assert len(resp["Records"]) == 500
    acked: dict[str, list[tuple[int, bytes]]] = {}
    for entry, result in zip(entries, resp["Records"], strict=True):
        assert "ErrorCode" not in result
        assert result["ShardId"] == shard_for(shards, _md5(entry["PartitionKey"]))
        acked.setdefault(result["ShardId"], []).append((int(result["SequenceNumber"]), entry["Data"]))
    stored = read_stream(kinesis, "batch")
    assert sum(len(v) for v in stored.values()) == 500
    for shard, pairs in acked.items():
        # In request order within a shard, with increasing sequence numbers.
        assert [s for s, _ in pairs] == sorted(s for s, _ in pairs)
        assert [(int(r["SequenceNumber"]), r["Data"]) for r in stored[shard]] == pairs


def test_put_records_501_records_is_validation_exception(kinesis):
    create_stream(kinesis, "batch", shards=1)
    entries = [{"Data": b"d", "PartitionKey": "k"} for _ in range(501)]
    assert error_400(kinesis.put_records, StreamName="batch", Records=entries)["Code"] == "ValidationException"
    assert read_shard(kinesis, "batch", SHARD0) == []


def test_put_records_over_10_mib_in_total_is_invalid_argument(kinesis):
    create_stream(kinesis, "batch", shards=2)
    # Eleven records of 1,000,000 bytes: each one is within 1 MiB, together they exceed 10 MiB (the request limit
    # the current API reference gives; it was 5 MiB before records of up to 10 MiB came).
    entries = [{"Data": bytes([i]) * 1_000_000, "PartitionKey": f"k{i}"} for i in range(11)]
    err = error_400(kinesis.put_records, StreamName="batch", Records=entries)
    assert err["Code"] == "InvalidArgumentException"
    assert all(records == [] for records in read_stream(kinesis, "batch").values())


def test_put_records_of_5_mib_in_total_are_accepted(kinesis):
    create_stream(kinesis, "batch", shards=5)
    # Five records of 1,000,000 bytes, one per shard (within each shard's 1 MiB per second).
    starts = [s["HashKeyRange"]["StartingHashKey"] for s in list_shards(kinesis, "batch")]
    entries = [
        {"Data": bytes([i]) * 1_000_000, "PartitionKey": f"k{i}", "ExplicitHashKey": start}
        for i, start in enumerate(starts)
    ]
    resp = kinesis.put_records(StreamName="batch", Records=entries)
    assert resp["FailedRecordCount"] == 0
    assert len({r["ShardId"] for r in resp["Records"]}) == 5
    stored = sorted(r["Data"] for records in read_stream(kinesis, "batch").values() for r in records)
    assert stored == sorted(e["Data"] for e in entries)


# -- GetShardIterator ----------------------------------------------------------------------------------------
def _put_many(kinesis, name: str, n: int, key: str = "k") -> list[dict]:
    return [kinesis.put_record(StreamName=name, Data=f"r{i}".encode(), PartitionKey=key) for i in range(n)]


def test_trim_horizon_reads_everything_in_order(kinesis):
    create_stream(kinesis, "s", shards=1)
    _put_many(kinesis, "s", 6)
    assert _data(read_from(kinesis, _iterator(kinesis, "s", SHARD0, "TRIM_HORIZON"))) == [
        f"r{i}".encode() for i in range(6)
    ]


def test_latest_reads_only_records_put_after_it(kinesis):
    create_stream(kinesis, "s", shards=1)
    _put_many(kinesis, "s", 3)
    it = _iterator(kinesis, "s", SHARD0, "LATEST")
    first = kinesis.get_records(ShardIterator=it)
    assert first["Records"] == []
    kinesis.put_record(StreamName="s", Data=b"after", PartitionKey="k")
    assert _data(read_from(kinesis, first["NextShardIterator"])) == [b"after"]


@pytest.mark.parametrize(("kind", "first"), [("AT_SEQUENCE_NUMBER", 3), ("AFTER_SEQUENCE_NUMBER", 4)])
def test_at_and_after_sequence_number(kinesis, kind, first):
    create_stream(kinesis, "s", shards=1)
    puts = _put_many(kinesis, "s", 7)
    it = _iterator(kinesis, "s", SHARD0, kind, StartingSequenceNumber=puts[3]["SequenceNumber"])
    records = read_from(kinesis, it)
    assert _data(records) == [f"r{i}".encode() for i in range(first, 7)]
    assert [r["SequenceNumber"] for r in records] == [p["SequenceNumber"] for p in puts[first:]]


def test_at_timestamp_reads_records_at_or_after_the_time(broker, kinesis):
    create_stream(kinesis, "s", shards=1)
    _put_many(kinesis, "s", 3)
    broker.advance(10)
    cut = _now(broker)
    broker.advance(1)
    later = [kinesis.put_record(StreamName="s", Data=f"late{i}".encode(), PartitionKey="k") for i in range(2)]
    records = read_from(kinesis, _iterator(kinesis, "s", SHARD0, "AT_TIMESTAMP", Timestamp=cut))
    assert _data(records) == [b"late0", b"late1"]
    assert [r["SequenceNumber"] for r in records] == [p["SequenceNumber"] for p in later]
    for r in records:
        assert r["ApproximateArrivalTimestamp"] >= cut
    # A time before the first record reads everything.
    early = read_from(kinesis, _iterator(kinesis, "s", SHARD0, "AT_TIMESTAMP", Timestamp=cut - timedelta(hours=1)))
    assert _data(early) == [b"r0", b"r1", b"r2", b"late0", b"late1"]


def test_sequence_number_of_another_shard_is_invalid_argument(kinesis):
    create_stream(kinesis, "s", shards=2)
    shards = list_shards(kinesis, "s")
    lower = shards[0]["HashKeyRange"]["StartingHashKey"]
    other = kinesis.put_record(StreamName="s", Data=b"d", PartitionKey="k", ExplicitHashKey=lower)
    assert other["ShardId"] == shards[0]["ShardId"]
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        err = error_400(
            kinesis.get_shard_iterator,
            StreamName="s",
            ShardId=shards[1]["ShardId"],
            ShardIteratorType=kind,
            StartingSequenceNumber=other["SequenceNumber"],
        )
        assert err["Code"] == "InvalidArgumentException", kind


def test_unknown_shard_is_resource_not_found(kinesis):
    create_stream(kinesis, "s", shards=2)
    err = error_400(
        kinesis.get_shard_iterator, StreamName="s", ShardId="shardId-000000000099", ShardIteratorType="TRIM_HORIZON"
    )
    assert err["Code"] == "ResourceNotFoundException"


# -- GetRecords ----------------------------------------------------------------------------------------------
def test_get_records_accepts_an_iterator_in_double_quotes(kinesis):
    # As AWS does: shell scripts often pass the iterator on with the JSON quotes `aws kinesis` printed around it.
    create_stream(kinesis, "s", shards=1)
    kinesis.put_record(StreamName="s", Data=b"one", PartitionKey="k")
    it = _iterator(kinesis, "s", SHARD0, "TRIM_HORIZON")
    assert _data(kinesis.get_records(ShardIterator=f'"{it}"')["Records"]) == [b"one"]
    assert _outcome(lambda: kinesis.get_records(ShardIterator=f'"{it}')) == (400, "InvalidArgumentException")


def test_get_records_limit_and_next_shard_iterator_have_no_gaps_or_duplicates(kinesis):
    create_stream(kinesis, "s", shards=1)
    puts = _put_many(kinesis, "s", 10)
    it = _iterator(kinesis, "s", SHARD0, "TRIM_HORIZON")
    calls, seen = 0, []
    for _ in range(20):
        resp = kinesis.get_records(ShardIterator=it, Limit=3)
        assert len(resp["Records"]) <= 3
        calls += 1
        seen.extend(resp["Records"])
        it = resp["NextShardIterator"]
        if not resp["Records"] and resp["MillisBehindLatest"] == 0:
            break
    assert calls >= 4
    assert [r["SequenceNumber"] for r in seen] == [p["SequenceNumber"] for p in puts]
    # At the tip: no records, caught up, and an iterator for what comes next.
    tip = kinesis.get_records(ShardIterator=it)
    assert tip["Records"] == []
    assert tip["MillisBehindLatest"] == 0
    kinesis.put_record(StreamName="s", Data=b"next", PartitionKey="k")
    assert _data(kinesis.get_records(ShardIterator=tip["NextShardIterator"])["Records"]) == [b"next"]


PAYLOADS = {
    "binary": bytes(range(256)),
    "empty": b"",
    "nul-bytes": b"\x00\x00\x00",
    "not-utf8": b"\xff\xfe\xfd" + "é".encode("latin-1"),
    "json": b'{"a": [1, 2, 3], "b": "\\u00e9"}',
    "large": bytes(range(256)) * 256,  # 64 KiB
}


def test_data_comes_back_as_the_same_bytes(kinesis):
    create_stream(kinesis, "bytes", shards=1)
    for key, payload in PAYLOADS.items():
        kinesis.put_record(StreamName="bytes", Data=payload, PartitionKey=key)
    kinesis.put_records(StreamName="bytes", Records=[{"Data": p, "PartitionKey": k} for k, p in PAYLOADS.items()])
    records = read_shard(kinesis, "bytes", SHARD0)
    expected = list(PAYLOADS.items()) * 2
    assert [(r["PartitionKey"], r["Data"]) for r in records] == expected


def test_record_fields_arrival_timestamp_and_millis_behind_latest(broker, kinesis):
    create_stream(kinesis, "s", shards=1)
    put = kinesis.put_record(StreamName="s", Data=b"stamped", PartitionKey="pk")
    resp = kinesis.get_records(ShardIterator=_iterator(kinesis, "s", SHARD0, "TRIM_HORIZON"))
    (record,) = resp["Records"]
    assert record["SequenceNumber"] == put["SequenceNumber"]
    assert record["PartitionKey"] == "pk"
    assert record["Data"] == b"stamped"
    arrived = record["ApproximateArrivalTimestamp"]
    assert isinstance(arrived, datetime)
    assert abs((arrived - _now(broker)).total_seconds()) < 10
    assert resp["MillisBehindLatest"] == 0  # that record was the tip


def test_iterator_older_than_5_minutes_is_expired(broker, kinesis):
    create_stream(kinesis, "s", shards=1)
    _put_many(kinesis, "s", 2)
    it = _iterator(kinesis, "s", SHARD0, "TRIM_HORIZON")
    resp = kinesis.get_records(ShardIterator=it, Limit=1)
    broker.advance(301)
    for stale in (it, resp["NextShardIterator"]):
        assert error_400(kinesis.get_records, ShardIterator=stale)["Code"] == "ExpiredIteratorException"
    # A fresh iterator reads on.
    assert _data(read_from(kinesis, _iterator(kinesis, "s", SHARD0, "TRIM_HORIZON"))) == [b"r0", b"r1"]


def test_iterator_younger_than_5_minutes_still_works(broker, kinesis):
    create_stream(kinesis, "s", shards=1)
    _put_many(kinesis, "s", 2)
    it = _iterator(kinesis, "s", SHARD0, "TRIM_HORIZON")
    broker.advance(280)
    assert _data(kinesis.get_records(ShardIterator=it)["Records"]) == [b"r0", b"r1"]


def test_malformed_iterator_is_invalid_argument(kinesis):
    create_stream(kinesis, "s", shards=1)
    wrong = []
    for iterator in ["garbage", "AAAAAAAAAAE", "!!!!not-base64!!!!", "x" * 300]:
        got = _outcome(kinesis.get_records, ShardIterator=iterator)
        if got != (400, "InvalidArgumentException"):
            wrong.append((iterator, got))
    assert wrong == []


# -- retention -----------------------------------------------------------------------------------------------
def test_records_past_retention_are_gone_after_the_sweep(broker, kinesis):
    create_stream(kinesis, "s", shards=1)
    _put_many(kinesis, "s", 3)
    broker.advance(25 * 3600)
    kinesis.put_record(StreamName="s", Data=b"fresh", PartitionKey="k")
    assert _data(read_shard(kinesis, "s", SHARD0)) == [b"fresh"]
    broker.run_job("kinesis.sweep")
    assert _data(read_shard(kinesis, "s", SHARD0)) == [b"fresh"]
    # Gone for good: a longer retention does not bring them back.
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=72)
    assert _data(read_shard(kinesis, "s", SHARD0)) == [b"fresh"]


def test_records_within_retention_stay_after_the_sweep(broker, kinesis):
    create_stream(kinesis, "s", shards=1)
    _put_many(kinesis, "s", 3)
    broker.advance(23 * 3600)
    broker.run_job("kinesis.sweep")
    assert _data(read_shard(kinesis, "s", SHARD0)) == [b"r0", b"r1", b"r2"]


def test_records_past_retention_are_not_returned_before_the_sweep(unswept):
    kinesis = _client(unswept)
    create_stream(kinesis, "s", shards=2)
    for i in range(6):
        kinesis.put_record(StreamName="s", Data=f"old{i}".encode(), PartitionKey=f"k{i}")
    unswept.advance(25 * 3600)
    assert all(records == [] for records in read_stream(kinesis, "s").values())
    # Nor through an AT_TIMESTAMP iterator from before they expired.
    past = _now(unswept) - timedelta(hours=30)
    assert read_from(kinesis, _iterator(kinesis, "s", SHARD0, "AT_TIMESTAMP", Timestamp=past)) == []


def test_increasing_retention_does_not_bring_back_expired_records(unswept):
    # IncreaseStreamRetentionPeriod: "it does not make previous, expired data (older than the stream's previous
    # retention period) accessible after the operation has been called."
    kinesis = _client(unswept)
    create_stream(kinesis, "s", shards=1)
    _put_many(kinesis, "s", 3)
    unswept.advance(25 * 3600)
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=168)
    assert read_shard(kinesis, "s", SHARD0) == []


def test_decreasing_retention_hides_records_older_than_the_new_period(unswept):
    # DecreaseStreamRetentionPeriod: from 48 to 24 hours, "any data already in the stream that is older than 24 hours
    # is inaccessible."
    kinesis = _client(unswept)
    create_stream(kinesis, "s", shards=1)
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    _put_many(kinesis, "s", 2)
    unswept.advance(30 * 3600)
    kinesis.put_record(StreamName="s", Data=b"young", PartitionKey="k")
    assert _data(read_shard(kinesis, "s", SHARD0)) == [b"r0", b"r1", b"young"]
    kinesis.decrease_stream_retention_period(StreamName="s", RetentionPeriodHours=24)
    assert _data(read_shard(kinesis, "s", SHARD0)) == [b"young"]
