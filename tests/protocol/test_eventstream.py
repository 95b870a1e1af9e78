"""Event stream framing, decoded by botocore's own reader, and a SubscribeToShard response as boto3 consumes it.

The boto3 client runs for real (serializer, endpoint, JSON parser, EventStream); a before-send hook answers in
its place, so nothing leaves the process.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError
from botocore.parsers import ResponseParserError

from broker.errors import ServiceError
from broker.protocol import eventstream
from broker.protocol import json as json_protocol
from broker.protocol.spec import ServiceSpec, load_model


def decode(data: bytes, chunk: int | None = None) -> list:
    buffer = EventStreamBuffer()
    messages = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        buffer.add_data(data[i : i + step])
        messages.extend(buffer)
    return messages


def test_empty_message_matches_the_known_vector() -> None:
    # The empty message of the format's test suite (used by botocore's and the CRT's tests).
    assert eventstream.encode_message({}, b"") == bytes.fromhex("000000100000000005c248eb7d98c8ff")


def test_message_decodes_with_botocore() -> None:
    headers = {":message-type": "event", ":event-type": "Ünïcode", "x": ""}
    data = eventstream.encode_message(headers, b"\x00payload\xff")
    [message] = decode(data)
    assert message.headers == headers
    assert message.payload == b"\x00payload\xff"
    assert message.prelude.total_length == len(data)


def test_messages_split_across_chunks() -> None:
    data = b"".join(
        [
            eventstream.initial_response(),
            eventstream.event("SubscribeToShardEvent", b'{"Records": []}'),
            eventstream.exception("ResourceNotFoundException", b'{"message": "gone"}'),
        ]
    )
    messages = decode(data, chunk=7)
    assert [m.headers for m in messages] == [
        {":message-type": "event", ":event-type": "initial-response", ":content-type": "application/json"},
        {":message-type": "event", ":event-type": "SubscribeToShardEvent", ":content-type": "application/json"},
        {
            ":message-type": "exception",
            ":exception-type": "ResourceNotFoundException",
            ":content-type": "application/json",
        },
    ]
    assert [m.payload for m in messages] == [b"{}", b'{"Records": []}', b'{"message": "gone"}']


@pytest.mark.parametrize("where", [9, 30, -5, -1])  # prelude CRC, a header, the payload, the message CRC
def test_checksums_are_checked(where: int) -> None:
    data = bytearray(eventstream.event("SubscribeToShardEvent", b"0123456789"))
    data[where] ^= 0x01
    with pytest.raises(ChecksumMismatch):
        decode(bytes(data))


def test_limits() -> None:
    with pytest.raises(ValueError):
        eventstream.encode_message({"x": "v" * 32768}, b"")
    with pytest.raises(ValueError):
        eventstream.encode_message({"n" * 256: "v"}, b"")
    with pytest.raises(ValueError):
        eventstream.encode_message({}, b"\x00" * (16 * 1024 * 1024 + 1))


# -- SubscribeToShard through boto3 -------------------------------------------------------------------------
class Body:
    """What botocore reads a streamed body from (urllib3's response, reduced to stream())."""

    def __init__(self, data: bytes, chunk: int = 5) -> None:
        self.data, self.chunk = data, chunk

    def stream(self, amt: int = 1024, **kwargs):
        for i in range(0, len(self.data), self.chunk):
            yield self.data[i : i + self.chunk]

    def close(self) -> None:
        pass


def subscribe(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[dict, list]:
    client = boto3.client(
        "kinesis",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # never contacted: the hook below answers
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )
    requests = []

    def answer(request, **kwargs) -> AWSResponse:
        requests.append(request)
        return AWSResponse(request.url, status, {k.decode(): v.decode() for k, v in headers}, Body(body))

    client.meta.events.register("before-send.kinesis.SubscribeToShard", answer)
    response = client.subscribe_to_shard(
        ConsumerARN="arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1",
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "LATEST"},
    )
    return response, requests


OK_HEADERS = [(b"content-type", eventstream.CONTENT_TYPE), (b"x-amzn-requestid", b"req-1")]
ARRIVAL = datetime(2026, 8, 18, 7, 1, 26, 712000, tzinfo=UTC)


def shard_event(records: list, continuation: str, behind: int, **more) -> bytes:
    body = {"Records": records, "ContinuationSequenceNumber": continuation, "MillisBehindLatest": behind, **more}
    return eventstream.event("SubscribeToShardEvent", json_protocol.dumps(body))


def test_boto3_reads_subscribe_to_shard_events() -> None:
    child = {
        "ShardId": "shardId-000000000001",
        "ParentShards": ["shardId-000000000000"],
        "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "1"},
    }
    body = b"".join(
        [
            eventstream.initial_response(),
            shard_event([], "1", 0),
            shard_event(
                [
                    {
                        "SequenceNumber": "2",
                        "ApproximateArrivalTimestamp": ARRIVAL,
                        "Data": b"\x00\xffraw",
                        "PartitionKey": "pk",
                    },
                    {
                        "SequenceNumber": "3",
                        "ApproximateArrivalTimestamp": 1787036486.5,
                        "Data": b"",
                        "PartitionKey": "pk",
                    },
                ],
                "3",
                1500,
                ChildShards=[child],
            ),
        ]
    )
    response, requests = subscribe(200, OK_HEADERS, body)
    assert requests[0].headers["X-Amz-Target"] == b"Kinesis_20131202.SubscribeToShard"
    assert response["ResponseMetadata"]["RequestId"] == "req-1"
    events = list(response["EventStream"])  # ends where the body ends
    assert events == [
        {"SubscribeToShardEvent": {"Records": [], "ContinuationSequenceNumber": "1", "MillisBehindLatest": 0}},
        {
            "SubscribeToShardEvent": {
                "Records": [
                    {
                        "SequenceNumber": "2",
                        "ApproximateArrivalTimestamp": ARRIVAL,
                        "Data": b"\x00\xffraw",
                        "PartitionKey": "pk",
                    },
                    {
                        "SequenceNumber": "3",
                        "ApproximateArrivalTimestamp": ARRIVAL.replace(microsecond=500000),
                        "Data": b"",
                        "PartitionKey": "pk",
                    },
                ],
                "ContinuationSequenceNumber": "3",
                "MillisBehindLatest": 1500,
                "ChildShards": [child],
            }
        },
    ]


def test_boto3_raises_an_exception_event_from_the_iterator() -> None:
    body = b"".join(
        [
            eventstream.initial_response(),
            shard_event([], "1", 0),
            eventstream.exception("ResourceNotFoundException", b'{"message": "Consumer c is gone."}'),
        ]
    )
    response, _ = subscribe(200, OK_HEADERS, body)
    stream = iter(response["EventStream"])
    assert next(stream)["SubscribeToShardEvent"]["ContinuationSequenceNumber"] == "1"
    with pytest.raises(EventStreamError) as info:
        next(stream)
    assert info.value.response["Error"] == {"Code": "ResourceNotFoundException", "Message": "Consumer c is gone."}


def test_boto3_unknown_events_are_skipped() -> None:
    body = eventstream.initial_response() + eventstream.event("SomethingNew", b"{}") + shard_event([], "7", 0)
    response, _ = subscribe(200, OK_HEADERS, body)
    assert [e["SubscribeToShardEvent"]["ContinuationSequenceNumber"] for e in response["EventStream"]] == ["7"]


def test_boto3_requires_the_initial_response() -> None:
    with pytest.raises(ResponseParserError, match="initial-response"):
        subscribe(200, OK_HEADERS, shard_event([], "1", 0))
    with pytest.raises(ResponseParserError, match="initial-response"):
        subscribe(200, OK_HEADERS, b"")


def test_errors_before_the_stream_are_plain_json_errors() -> None:
    spec = ServiceSpec(name="kinesis", model=load_model("kinesis"), handlers={})
    err = ServiceError("ResourceInUseException", "Another subscription to this shard is active.")
    status, headers, body = json_protocol.PROTOCOL.render_error(spec, err, "req-2")
    with pytest.raises(ClientError) as info:
        subscribe(status, headers, body)
    assert info.value.response["Error"]["Code"] == "ResourceInUseException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_event_payload_is_the_json_protocol_rendering() -> None:
    payload = json.loads(json_protocol.dumps({"Data": b"\x01", "ApproximateArrivalTimestamp": ARRIVAL}))
    assert payload == {"Data": base64.b64encode(b"\x01").decode(), "ApproximateArrivalTimestamp": ARRIVAL.timestamp()}
