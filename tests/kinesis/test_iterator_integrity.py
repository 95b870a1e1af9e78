"""Shard iterators cannot be forged or altered: each carries an HMAC with the broker's server key, so a caller who
reads the visible layout of an iterator it was given (stream row id, creation time, shard, position, issue time)
still cannot make one for another position or another stream. AWS answers such an iterator with
InvalidArgumentException "Invalid ShardIterator.", as it answers a malformed one."""

from __future__ import annotations

import base64

import pytest

from tests.kinesis.helpers import client, create_stream, error_400

PREFIX = "AAAAAAAAAAE"
SHARD0 = "shardId-000000000000"


@pytest.fixture
def kinesis(broker):
    return client(broker)


def _stream_with_records(kinesis) -> str:
    """A stream with three records; a LATEST iterator of its shard (it reads nothing of them)."""
    create_stream(kinesis, "s", shards=1)
    kinesis.put_records(StreamName="s", Records=[{"Data": b"r%d" % i, "PartitionKey": "k"} for i in range(3)])
    it = kinesis.get_shard_iterator(StreamName="s", ShardId=SHARD0, ShardIteratorType="LATEST")["ShardIterator"]
    assert kinesis.get_records(ShardIterator=it)["Records"] == []
    return it


def _refused(kinesis, iterator: str) -> None:
    err = error_400(kinesis.get_records, ShardIterator=iterator)
    assert (err["Code"], err["Message"]) == ("InvalidArgumentException", "Invalid ShardIterator.")


def test_an_iterator_built_from_the_visible_fields_is_refused(kinesis) -> None:
    """Without the key, an iterator rebuilt to the start of the shard (from the fields a real one shows) reads
    nothing: before the MAC it read every record, also another account's."""
    raw = base64.urlsafe_b64decode(_stream_with_records(kinesis)[len(PREFIX) :])
    stream_id, created_at, shard, _after, issued = raw.split(b":")[:5]
    forged = b":".join([stream_id, created_at, shard, b"-1", issued])
    _refused(kinesis, PREFIX + base64.urlsafe_b64encode(forged).decode())


def test_an_altered_iterator_is_refused(kinesis) -> None:
    """Moving a real iterator's position back (keeping everything else, its MAC included) is refused, as is a
    changed MAC, or a real iterator under another prefix."""
    it = _stream_with_records(kinesis)
    raw = base64.urlsafe_b64decode(it[len(PREFIX) :])
    fields = raw.split(b":")
    head = b":".join(fields[:4])  # stream row id, creation time, shard, position
    moved = b":".join([*fields[:3], b"-1"]) + raw[len(head) :]
    _refused(kinesis, PREFIX + base64.urlsafe_b64encode(moved).decode())
    flipped = raw[:-1] + bytes([raw[-1] ^ 1])
    _refused(kinesis, PREFIX + base64.urlsafe_b64encode(flipped).decode())
    _refused(kinesis, "AAAAAAAAAAH" + it[len(PREFIX) :])
    # The genuine iterator still reads (from LATEST: nothing), and its successor too.
    got = kinesis.get_records(ShardIterator=it)
    assert got["Records"] == []
    kinesis.put_record(StreamName="s", Data=b"after", PartitionKey="k")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=got["NextShardIterator"])["Records"]] == [b"after"]


def test_iterators_stay_within_awss_length(kinesis) -> None:
    """AWS's model caps ShardIterator at 512 characters; the longest stream name still fits."""
    name = "n" * 128
    create_stream(kinesis, name, shards=1)
    it = kinesis.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert it.startswith(PREFIX) and len(it) <= 512
    assert kinesis.get_records(ShardIterator=it)["Records"] == []
