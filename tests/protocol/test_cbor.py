"""The CBOR flavour of awsJson1_1 (what the Java SDK and KCL send to Kinesis), in process against the Kinesis model.

References independent of broker.protocol.cbor: botocore's own CBOR serializer and parser (written for
smithy-rpc-v2-cbor; the body encoding is the same, except that AWS's x-amz-cbor-1.1 carries tag 1 timestamps as
epoch milliseconds, so botocore's parser gets a millis timestamp_parser), and a GetShardIterator body fragment
captured from the AWS SDK for Java v2 (floci-io/floci#2368).
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import cbor2
import pytest
from botocore.model import OperationModel
from botocore.parsers import RpcV2CBORParser
from botocore.serialize import RpcV2CBORSerializer

from broker.errors import ServiceError
from broker.gateway import Gateway
from broker.protocol import cbor as cbor_protocol
from broker.protocol.base import HttpRequest, Route, WireProtocol
from broker.protocol.cbor import PROTOCOL as CBOR
from broker.protocol.json import PROTOCOL as JSON
from broker.protocol.spec import ServiceSpec, load_model

CT = "application/x-amz-cbor-1.1"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# tag 1 (0xc1), uint64 (0x1b) 1787036486712: "Timestamp" of GetShardIterator AT_TIMESTAMP as the Java SDK v2 sends it.
JAVA_TIMESTAMP = bytes.fromhex("6954696d657374616d70c11b000001a013accc38")
JAVA_MILLIS = 1787036486712


@pytest.fixture(scope="module")
def spec() -> ServiceSpec:
    return ServiceSpec(name="kinesis", model=load_model("kinesis"), handlers={}, json_error_prefix="")


def op(spec: ServiceSpec, name: str):
    return spec.model.operation_model(name)  # spec.operation() only knows operations with handlers


def botocore_body(spec: ServiceSpec, name: str, params: dict) -> bytes:
    return RpcV2CBORSerializer()._serialize_body_params(params, op(spec, name).input_shape)


def botocore_parse(spec: ServiceSpec, name: str, response: tuple) -> dict:
    status, headers, body = response
    parser = RpcV2CBORParser(timestamp_parser=lambda ms: EPOCH + timedelta(milliseconds=ms))
    raw = {"status_code": status, "headers": {k.decode(): v.decode() for k, v in headers}, "body": body}
    return parser.parse(raw, op(spec, name).output_shape)


def parse_input(proto: WireProtocol, spec: ServiceSpec, operation: OperationModel, body: bytes) -> dict:
    request = HttpRequest("POST", "/", b"", {}, body)
    return proto.decode(Route(spec, operation, None), request, "localhost")


def render(proto: WireProtocol, spec: ServiceSpec, result: dict | None, request_id: str, operation: OperationModel):
    return proto.render_result(spec, operation, result, request_id)


def raw_decode(body: bytes):
    """The body as sent, tag 1 kept visible."""
    return cbor2.loads(body, semantic_decoders={1: lambda value, immutable: ("tag1", value)})


def bad_request(call) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call()
    assert info.value.status == 400
    return info.value


# -- requests ------------------------------------------------------------------------------------------------
def test_put_record_blob_stays_bytes(spec: ServiceSpec) -> None:
    # Valid base64 text on purpose: a byte string must never be base64-decoded.
    data = b"aGVsbG8="
    body = botocore_body(spec, "PutRecord", {"StreamName": "s", "Data": data, "PartitionKey": "pk"})
    assert b"\x48" + data in body  # major type 2 (byte string) of length 8, not a text string
    params = parse_input(CBOR, spec, op(spec, "PutRecord"), body)
    assert params == {"StreamName": "s", "Data": data, "PartitionKey": "pk"}


def test_put_records_binary_blobs(spec: ServiceSpec) -> None:
    records = [
        {"Data": bytes(range(256)), "PartitionKey": "a"},
        {"Data": b"", "PartitionKey": "b", "ExplicitHashKey": "340282366920938463463374607431768211455"},
    ]
    body = botocore_body(spec, "PutRecords", {"StreamName": "s", "Records": records})
    params = parse_input(CBOR, spec, op(spec, "PutRecords"), body)
    assert params == {"StreamName": "s", "Records": records}
    assert all(type(r["Data"]) is bytes for r in params["Records"])


def test_indefinite_length_containers_as_jackson_writes_them(spec: ServiceSpec) -> None:
    # Jackson's CBORGenerator (under the Java SDK) writes maps and arrays of unknown size as indefinite-length.
    body = (
        b"\xbf" + cbor2.dumps("StreamName") + cbor2.dumps("s")
        + cbor2.dumps("Records") + b"\x9f"
        + b"\xbf" + cbor2.dumps("Data") + b"\x5f\x41\x01\x41\x02\xff" + cbor2.dumps("PartitionKey") + cbor2.dumps("k")
        + b"\xff\xff\xff"
    )  # fmt: skip
    params = parse_input(CBOR, spec, op(spec, "PutRecords"), body)
    assert params == {"StreamName": "s", "Records": [{"Data": b"\x01\x02", "PartitionKey": "k"}]}


def test_timestamp_is_tag1_epoch_millis_as_the_java_sdk_sends_it(spec: ServiceSpec) -> None:
    request = {"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP"}
    body = cbor2.dumps({**request, "Timestamp": cbor2.CBORTag(1, JAVA_MILLIS)})
    assert JAVA_TIMESTAMP in body
    params = parse_input(CBOR, spec, op(spec, "GetShardIterator"), body)
    assert params == {**request, "Timestamp": EPOCH + timedelta(milliseconds=JAVA_MILLIS)}
    assert params["Timestamp"] == datetime(2026, 8, 18, 7, 1, 26, 712000, tzinfo=UTC)
    # The same instant over JSON (fractional epoch seconds) parses to the same value.
    as_json = parse_input(
        JSON, spec, op(spec, "GetShardIterator"), json.dumps({**request, "Timestamp": JAVA_MILLIS / 1000}).encode()
    )
    assert as_json == params


def test_timestamp_float_millis_keeps_sub_millisecond(spec: ServiceSpec) -> None:
    body = cbor2.dumps(
        {"ShardId": "shardId-0", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": cbor2.CBORTag(1, 1500.25)}
    )
    params = parse_input(CBOR, spec, op(spec, "GetShardIterator"), body)
    assert params["Timestamp"] == EPOCH + timedelta(seconds=1, microseconds=500250)


def test_validation_is_the_json_protocols(spec: ServiceSpec) -> None:
    put = op(spec, "PutRecord")
    for body in ({"StreamName": "s", "PartitionKey": "pk"}, {"StreamName": "s", "Data": b"x", "PartitionKey": ""}):
        from_cbor = bad_request(lambda body=body: parse_input(CBOR, spec, put, cbor2.dumps(body)))
        as_json = {k: base64.b64encode(v).decode() if isinstance(v, bytes) else v for k, v in body.items()}
        from_json = bad_request(lambda j=as_json: parse_input(JSON, spec, put, json.dumps(j).encode()))
        assert (from_cbor.code, from_cbor.message) == (from_json.code, from_json.message)
        assert from_cbor.code == "ValidationException"
    wrong_type = bad_request(lambda: parse_input(CBOR, spec, put, cbor2.dumps({"Data": 5})))
    assert wrong_type.code == "SerializationException"


def test_empty_body_is_an_empty_map(spec: ServiceSpec) -> None:
    assert parse_input(CBOR, spec, op(spec, "DescribeStreamSummary"), b"") == {}


@pytest.mark.parametrize(
    "body",
    [
        b"\xff",  # a break code where an item belongs
        b"\xa1",  # truncated map
        b"\xa1\x64Data\x5a\x00\x01\x00\x00",  # byte string shorter than its length
        b"\x1c",  # reserved additional information
        b"\xa0\x00",  # data after the first item
        b"\x81" * 100_000 + b"\x00",  # nesting deeper than any request
        b"\xa1\x69Timestamp\xc1\x61x",  # tag 1 around text
        b"\xa1\x69Timestamp\xc1\x1b\x7f\xff\xff\xff\xff\xff\xff\xff",  # tag 1 beyond any datetime
        b"\xa1\x64Data\x7f\x61a\x41b\xff",  # text string with a byte-string chunk
    ],
)
def test_malformed_cbor_is_serialization_exception(spec: ServiceSpec, body: bytes) -> None:
    err = bad_request(lambda: parse_input(CBOR, spec, op(spec, "PutRecord"), body))
    assert err.code == "SerializationException"


@pytest.mark.parametrize("value", [[1, 2], "text", 7, None, cbor2.CBORTag(1, 5)])
def test_body_must_be_a_map(spec: ServiceSpec, value: object) -> None:
    err = bad_request(lambda: parse_input(CBOR, spec, op(spec, "PutRecord"), cbor2.dumps(value)))
    assert err.code == "SerializationException"


# -- responses -----------------------------------------------------------------------------------------------
ARRIVAL = datetime(2026, 8, 18, 7, 1, 26, 712999, tzinfo=UTC)  # sub-millisecond part is truncated, like Java


def get_records_result() -> dict:
    return {
        "Records": [
            {"SequenceNumber": "1", "ApproximateArrivalTimestamp": ARRIVAL, "Data": b"\x00\xff", "PartitionKey": "a"},
            {"SequenceNumber": "2", "ApproximateArrivalTimestamp": 1787036486.712, "Data": b"", "PartitionKey": "b"},
            {"SequenceNumber": "3", "ApproximateArrivalTimestamp": 1787036486, "Data": bytearray(b"ba")},
            {"SequenceNumber": "4", "Data": memoryview(b"mv"), "PartitionKey": "d"},
        ],
        "NextShardIterator": "iterator",
        "MillisBehindLatest": 0,
    }


def test_get_records_output_wire_format(spec: ServiceSpec) -> None:
    status, headers, body = render(CBOR, spec, get_records_result(), "req-1", op(spec, "GetRecords"))
    assert status == 200
    assert headers == [(b"content-type", CT.encode()), (b"x-amzn-requestid", b"req-1")]
    records = raw_decode(body)["Records"]
    # Integer epoch millis under tag 1 whether the handler gave a datetime, float or int seconds.
    assert [r.get("ApproximateArrivalTimestamp") for r in records] == [
        ("tag1", JAVA_MILLIS),
        ("tag1", JAVA_MILLIS),
        ("tag1", 1787036486000),
        None,
    ]
    assert b"\xc1\x1b" + JAVA_MILLIS.to_bytes(8, "big") in body  # tag 1, then a uint64: never a float
    assert [r["Data"] for r in records] == [b"\x00\xff", b"", b"ba", b"mv"]  # byte strings, not base64 text
    assert b"\x42\x00\xff" in body


def test_get_records_output_parsed_by_botocore(spec: ServiceSpec) -> None:
    response = render(CBOR, spec, get_records_result(), "req-1", op(spec, "GetRecords"))
    parsed = botocore_parse(spec, "GetRecords", response)
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"
    assert parsed["NextShardIterator"] == "iterator"
    assert parsed["MillisBehindLatest"] == 0
    first, second, third, fourth = parsed["Records"]
    assert first == {
        "SequenceNumber": "1",
        "ApproximateArrivalTimestamp": ARRIVAL.replace(microsecond=712000),
        "Data": b"\x00\xff",
        "PartitionKey": "a",
    }
    assert second["ApproximateArrivalTimestamp"] == ARRIVAL.replace(microsecond=712000)
    assert third["ApproximateArrivalTimestamp"] == ARRIVAL.replace(microsecond=0)
    assert (third["Data"], fourth["Data"]) == (b"ba", b"mv")


def test_nested_timestamps_in_describe_stream(spec: ServiceSpec) -> None:
    result = {
        "StreamDescription": {
            "StreamName": "s",
            "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s",
            "StreamStatus": "ACTIVE",
            "Shards": [
                {
                    "ShardId": "shardId-000000000000",
                    "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "9"},
                    "SequenceNumberRange": {"StartingSequenceNumber": "1"},
                }
            ],
            "HasMoreShards": False,
            "RetentionPeriodHours": 24,
            "StreamCreationTimestamp": 1700000000.5,
            "EnhancedMonitoring": [],
        }
    }
    response = render(CBOR, spec, result, "r", op(spec, "DescribeStream"))
    assert raw_decode(response[2])["StreamDescription"]["StreamCreationTimestamp"] == ("tag1", 1700000000500)
    parsed = botocore_parse(spec, "DescribeStream", response)["StreamDescription"]
    assert parsed["StreamCreationTimestamp"] == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)
    assert parsed["Shards"] == result["StreamDescription"]["Shards"]
    assert parsed["HasMoreShards"] is False


def test_datetimes_outside_the_output_shape_are_tagged_too(spec: ServiceSpec) -> None:
    _, _, body = render(CBOR, spec, {"When": ARRIVAL, "Number": 5.5, "Blob": b"\x01"}, "r", op(spec, "PutRecords"))
    assert raw_decode(body) == {"When": ("tag1", JAVA_MILLIS), "Number": 5.5, "Blob": b"\x01"}
    assert render(CBOR, spec, None, "r", op(spec, "PutRecords"))[2] == b"\xa0"


def test_naive_datetime_reads_as_local_time_like_the_json_protocol() -> None:
    naive = datetime(2024, 5, 1, 12, 0, 0, 250000)
    assert cbor_protocol.epoch_millis(naive) == round(naive.timestamp() * 1000)


# -- errors --------------------------------------------------------------------------------------------------
def test_error_is_a_cbor_map(spec: ServiceSpec) -> None:
    err = ServiceError("ResourceNotFoundException", "Stream s under account 000000000000 not found.")
    status, headers, body = CBOR.render_error(spec, err, "req-9")
    assert status == 400
    assert headers == [(b"content-type", CT.encode()), (b"x-amzn-requestid", b"req-9")]
    assert cbor2.loads(body) == {"__type": "ResourceNotFoundException", "message": err.message}
    parsed = botocore_parse(spec, "PutRecord", (status, headers, body))
    assert parsed["Error"] == {"Code": "ResourceNotFoundException", "Message": err.message}


def test_error_headers_match_the_json_protocol() -> None:
    # SQS is awsQueryCompatible: the JSON protocol adds x-amzn-query-error, and so must CBOR.
    sqs = ServiceSpec(
        name="sqs",
        model=load_model("sqs"),
        handlers={},
        json_error_prefix="com.amazonaws.sqs#",
        query_error_codes={"QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue"},
    )
    err = ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
    j_status, j_headers, _ = JSON.render_error(sqs, err, "r")
    c_status, c_headers, c_body = CBOR.render_error(sqs, err, "r")
    assert c_status == j_status
    assert dict(c_headers) == {**dict(j_headers), b"content-type": CT.encode()}
    assert dict(c_headers)[b"x-amzn-query-error"] == b"AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert cbor2.loads(c_body) == {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": err.message}
    assert CBOR.render_error(None, err, "r")[1][0] == (b"content-type", CT.encode())


# -- the gateway ---------------------------------------------------------------------------------------------
class App:
    """The Gateway driven in process, with Kinesis operations that record what they were given."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        handlers = {"PutRecord": self.put_record, "GetRecords": self.get_records, "ListShards": self.broken}
        spec = ServiceSpec(name="kinesis", model=load_model("kinesis"), handlers=handlers)
        settings = SimpleNamespace(
            sigv4=False, default_account="000000000000", default_region="us-east-1", host="127.0.0.1", port=1
        )
        self.gateway = Gateway(SimpleNamespace(settings=settings), [spec])

    async def put_record(self, ctx, params: dict) -> dict:
        self.calls.append(params)
        return {"ShardId": "shardId-000000000000", "SequenceNumber": "49"}

    async def get_records(self, ctx, params: dict) -> dict:
        return get_records_result()

    async def broken(self, ctx, params: dict) -> dict:
        raise RuntimeError("a bug")

    def post(self, operation: str, body: bytes, content_type: str) -> tuple[int, dict, bytes]:
        headers = [
            (b"x-amz-target", f"Kinesis_20131202.{operation}".encode()),
            (b"content-type", content_type.encode()),
        ]
        scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": headers}
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict] = []

        async def receive() -> dict:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        asyncio.run(self.gateway(scope, receive, send))
        return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


def test_gateway_serves_cbor() -> None:
    app = App()
    status, headers, body = app.post(
        "PutRecord", cbor2.dumps({"StreamName": "s", "Data": b"\x00", "PartitionKey": "k"}), CT
    )
    assert (status, headers[b"content-type"]) == (200, CT.encode())
    assert cbor2.loads(body) == {"ShardId": "shardId-000000000000", "SequenceNumber": "49"}
    assert app.calls == [{"StreamName": "s", "Data": b"\x00", "PartitionKey": "k"}]
    status, _, body = app.post("GetRecords", cbor2.dumps({"ShardIterator": "it"}), CT)
    assert raw_decode(body)["Records"][1]["ApproximateArrivalTimestamp"] == ("tag1", JAVA_MILLIS)


def test_gateway_cbor_errors_are_cbor() -> None:
    app = App()
    for operation, body, code, want in [
        ("PutRecord", b"\xa1", "SerializationException", 400),
        ("PutRecord", cbor2.dumps({"StreamName": "s"}), "ValidationException", 400),
        ("NoSuchThing", cbor2.dumps({}), "UnknownOperationException", 400),
        ("ListShards", cbor2.dumps({}), "InternalFailure", 500),
    ]:
        status, headers, raw = app.post(operation, body, CT)
        assert (status, headers[b"content-type"], cbor2.loads(raw)["__type"]) == (want, CT.encode(), code)


def test_gateway_json_unchanged() -> None:
    app = App()
    status, headers, body = app.post("GetRecords", b'{"ShardIterator": "it"}', "application/x-amz-json-1.1")
    assert (status, headers[b"content-type"]) == (200, b"application/x-amz-json-1.1")
    first = json.loads(body)["Records"][0]
    assert first["Data"] == base64.b64encode(b"\x00\xff").decode()
    assert first["ApproximateArrivalTimestamp"] == ARRIVAL.timestamp()
    status, headers, body = app.post("PutRecord", b"{", "application/x-amz-json-1.1")
    assert (status, json.loads(body)["__type"]) == (400, "SerializationException")
