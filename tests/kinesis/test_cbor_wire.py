"""Kinesis over CBOR (application/x-amz-cbor-1.1, the Java SDK's and KCL's default) against a real server: raw
requests built from the model's member names, answers decoded with cbor2 — blobs as byte strings, timestamps as
tag 1 epoch milliseconds, errors as CBOR maps."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import cbor2
import httpx
import pytest
from botocore.eventstream import EventStreamBuffer

from tests.kinesis.helpers import client, create_stream

CT = "application/x-amz-cbor-1.1"


def _call(broker, op: str, body: dict) -> tuple[int, dict, httpx.Headers]:
    r = httpx.post(
        broker.url + "/",
        content=cbor2.dumps(body),
        headers={
            "Content-Type": CT,
            "X-Amz-Target": f"Kinesis_20131202.{op}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
        timeout=10,
    )
    return r.status_code, cbor2.loads(r.content), r.headers


def test_put_and_get_records_over_cbor(broker):
    create_stream(client(broker), "cbor", shards=1)
    before = datetime.now(UTC)
    status, out, headers = _call(
        broker, "PutRecord", {"StreamName": "cbor", "Data": b"\x00\xffbinary", "PartitionKey": "k"}
    )
    assert status == 200 and headers["content-type"] == CT
    assert out["ShardId"] == "shardId-000000000000"
    status, out, _ = _call(
        broker,
        "PutRecords",
        {"StreamName": "cbor", "Records": [{"Data": bytes([i]) * 3, "PartitionKey": f"p{i}"} for i in range(3)]},
    )
    assert status == 200 and out["FailedRecordCount"] == 0
    # AT_TIMESTAMP with the Java SDK's encoding: tag 1, integer milliseconds.
    millis = int(before.timestamp() * 1000) - 1000
    status, it, _ = _call(
        broker,
        "GetShardIterator",
        {
            "StreamName": "cbor",
            "ShardId": "shardId-000000000000",
            "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": cbor2.CBORTag(1, millis),
        },
    )
    assert status == 200
    raw = httpx.post(
        broker.url + "/",
        content=cbor2.dumps({"ShardIterator": it["ShardIterator"]}),
        headers={"Content-Type": CT, "X-Amz-Target": "Kinesis_20131202.GetRecords"},
        timeout=10,
    )
    raw_tag1 = {1: lambda value, immutable: cbor2.CBORTag(1, value)}  # keep tag 1 as sent
    records = cbor2.CBORDecoder(io.BytesIO(raw.content), semantic_decoders=raw_tag1).decode()["Records"]
    assert [r["Data"] for r in records] == [b"\x00\xffbinary", b"\x00" * 3, b"\x01" * 3, b"\x02" * 3]
    stamp = records[0]["ApproximateArrivalTimestamp"]
    assert isinstance(stamp, cbor2.CBORTag) and stamp.tag == 1 and isinstance(stamp.value, int)
    assert abs(stamp.value - before.timestamp() * 1000) < 60_000  # milliseconds, not seconds


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"\xff\x00not cbor", "SerializationException"),
        (cbor2.dumps({"StreamName": "missing", "Data": b"x", "PartitionKey": "k"}), "ResourceNotFoundException"),
        (cbor2.dumps({"StreamName": "cbor", "Data": "not bytes", "PartitionKey": "k"}), None),
    ],
)
def test_cbor_errors_are_cbor_maps(broker, body, code):
    create_stream(client(broker), "cbor", shards=1)
    r = httpx.post(
        broker.url + "/",
        content=body,
        headers={"Content-Type": CT, "X-Amz-Target": "Kinesis_20131202.PutRecord"},
        timeout=10,
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == CT
    error = cbor2.loads(r.content)
    assert error["__type"] and error["message"]
    if code:
        assert error["__type"] == code


def test_subscribe_to_shard_events_are_cbor(broker):
    """A CBOR request gets CBOR event payloads (what the Java SDK decodes), blobs and tag 1 times included."""
    k = client(broker)
    arn = create_stream(k, "cbor-sub", shards=1)["StreamARN"]
    consumer = k.register_stream_consumer(StreamARN=arn, ConsumerName="java")["Consumer"]["ConsumerARN"]
    k.put_record(StreamName="cbor-sub", Data=b"\x00\x01payload", PartitionKey="k")
    body = {
        "ConsumerARN": consumer,
        "ShardId": "shardId-000000000000",
        "StartingPosition": {"Type": "TRIM_HORIZON"},
    }
    headers = {
        "Content-Type": CT,
        "X-Amz-Target": "Kinesis_20131202.SubscribeToShard",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    buffer = EventStreamBuffer()
    messages = []
    with httpx.stream("POST", broker.url + "/", content=cbor2.dumps(body), headers=headers, timeout=10) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.amazon.eventstream"
        for chunk in r.iter_bytes():
            buffer.add_data(chunk)
            messages.extend(buffer)
            if len(messages) >= 2:
                break
    initial, first = messages[:2]
    assert initial.headers[":event-type"] == "initial-response" and initial.headers[":content-type"] == CT
    assert cbor2.loads(initial.payload) == {}
    assert first.headers[":event-type"] == "SubscribeToShardEvent" and first.headers[":content-type"] == CT
    raw_tag1 = {1: lambda value, immutable: cbor2.CBORTag(1, value)}  # keep tag 1 as sent
    event = cbor2.CBORDecoder(io.BytesIO(first.payload), semantic_decoders=raw_tag1).decode()
    (record,) = event["Records"]
    assert record["Data"] == b"\x00\x01payload" and record["PartitionKey"] == "k"
    stamp = record["ApproximateArrivalTimestamp"]
    assert isinstance(stamp, cbor2.CBORTag) and stamp.tag == 1  # epoch milliseconds, as in the other answers
    assert abs(stamp.value - datetime.now(UTC).timestamp() * 1000) < 60_000
    assert event["ContinuationSequenceNumber"] == record["SequenceNumber"]
