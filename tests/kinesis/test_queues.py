"""Kinesis queues through boto3: definitions (create, describe, list, update, delete), starting positions, receive and
acknowledge, visibility timeouts on the test clock, built-in dead-letter handling, long polls, limits shared with
enhanced fan-out consumers, retention, and what a queue blocks on its stream."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.kinesis.helpers import client, create_stream, error_400


@pytest.fixture
def kinesis(broker):
    return client(broker)


def _stream(k, name: str = "s") -> str:
    return create_stream(k, name, shards=None)["StreamARN"]


def _queue(k, stream_arn: str, name: str = "q", position: dict | None = None, **attrs) -> str:
    config: dict = {"StreamARN": stream_arn}
    if position:
        config["StartingPosition"] = position
    kw = {"QueueAttributes": attrs} if attrs else {}
    return k.create_queue(QueueName=name, StreamConfigurationList=[config], **kw)["QueueDescription"]["QueueARN"]


def _put(k, stream: str, *datas: bytes) -> list[str]:
    return [k.put_record(StreamName=stream, Data=d, PartitionKey=d.decode())["SequenceNumber"] for d in datas]


def _receive(k, queue: str, limit: int = 10, **kw) -> list[dict]:
    return k.receive_queue_records(QueueARN=queue, Limit=limit, WaitTimeSeconds=kw.pop("wait", 1), **kw)["QueueRecords"]


def _drain(k, queue: str, ack: bool = True) -> list[dict]:
    """Receive (and acknowledge) until a receive comes back empty."""
    got: list[dict] = []
    while batch := _receive(k, queue):
        got += batch
        if ack:
            done = k.acknowledge_queue_records(
                QueueARN=queue, Entries=[{"ReceiptHandle": r["ReceiptHandle"]} for r in batch]
            )
            assert not done["Failed"], done
    return got


def _ack(k, queue: str, records: list[dict], dead: bool = False) -> dict:
    fn = k.acknowledge_dead_letter_queue_records if dead else k.acknowledge_queue_records
    return fn(QueueARN=queue, Entries=[{"ReceiptHandle": r["ReceiptHandle"]} for r in records])


# -- definitions -------------------------------------------------------------------------------------------------
def test_create_describe_list_update_delete(kinesis):
    arn = _stream(kinesis)
    created = kinesis.create_queue(
        QueueName="orders", StreamConfigurationList=[{"StreamARN": arn}], Tags={"team": "a"}
    )["QueueDescription"]
    assert created["QueueStatus"] == "CREATING"
    assert created["QueueARN"].startswith("arn:aws:kinesis:us-east-1:000000000000:queue/")
    assert "orders" not in created["QueueARN"]  # the resource id is generated, not the name
    assert created["StreamConfigurationList"] == [{"StreamARN": arn, "StartingPosition": {"Type": "LATEST"}}]
    assert created["QueueAttributes"] == {
        "VisibilityTimeoutSeconds": 30,
        "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 6},
    }
    q = created["QueueARN"]
    described = kinesis.describe_queue(QueueARN=q)["QueueDescription"]
    assert described["QueueStatus"] == "ACTIVE"
    assert "Timestamp" in described["StreamConfigurationList"][0]["StartingPosition"]  # effective once ACTIVE
    assert kinesis.list_tags_for_resource(ResourceARN=q)["Tags"] == [{"Key": "team", "Value": "a"}]

    assert (
        error_400(kinesis.create_queue, QueueName="orders", StreamConfigurationList=[{"StreamARN": arn}])["Code"]
        == "ResourceInUseException"
    )

    updated = kinesis.update_queue(QueueARN=q, QueueAttributes={"VisibilityTimeoutSeconds": 5})["QueueDescription"]
    assert updated["QueueStatus"] == "UPDATING"
    assert updated["QueueAttributes"]["VisibilityTimeoutSeconds"] == 5
    assert updated["QueueAttributes"]["DeadLetterConfiguration"]["MaxReceiveCount"] == 6  # left unchanged
    off = kinesis.update_queue(QueueARN=q, QueueAttributes={"DeadLetterConfiguration": {"TargetType": "NONE"}})
    assert off["QueueDescription"]["QueueAttributes"] == {
        "VisibilityTimeoutSeconds": 5,
        "DeadLetterConfiguration": {"TargetType": "NONE"},
    }
    (summary,) = kinesis.list_queues()["QueueSummaries"]
    assert summary["QueueName"] == "orders" and summary["QueueARN"] == q and summary["Streams"][0]["StreamARN"] == arn

    kinesis.delete_queue(QueueARN=q)
    assert error_400(kinesis.describe_queue, QueueARN=q)["Code"] == "ResourceNotFoundException"
    assert kinesis.list_queues()["QueueSummaries"] == []
    again = _queue(kinesis, arn, "orders")  # the name is free again, under a new ARN
    assert again != q


def test_list_queues_filters_and_pages(kinesis):
    a, b = _stream(kinesis, "a"), _stream(kinesis, "b")
    for name, arn in (("q1", a), ("q2", b), ("q3", a)):
        _queue(kinesis, arn, name)
    names, token = [], None
    while True:
        page = kinesis.list_queues(MaxResults=1, **({"NextToken": token} if token else {}))
        names += [s["QueueName"] for s in page["QueueSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == ["q1", "q2", "q3"]
    on_a = kinesis.list_queues(StreamFilter=[{"StreamARN": a}])["QueueSummaries"]
    assert [s["QueueName"] for s in on_a] == ["q1", "q3"]
    created = kinesis.describe_stream_summary(StreamName="b")["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    exact = kinesis.list_queues(StreamFilter=[{"StreamARN": b, "StreamCreationTimestamp": created}])
    assert [s["QueueName"] for s in exact["QueueSummaries"]] == ["q2"]
    other_time = created - timedelta(days=1)  # a stream of that name created at another time: none
    assert (
        kinesis.list_queues(StreamFilter=[{"StreamARN": b, "StreamCreationTimestamp": other_time}])["QueueSummaries"]
        == []
    )


@pytest.mark.parametrize(
    ("config", "attrs"),
    [
        ({"StartingPosition": {"Type": "LATEST", "Timestamp": datetime(2026, 1, 1, tzinfo=UTC)}}, {}),
        ({"StartingPosition": {"Type": "AT_TIMESTAMP"}}, {}),
        ({}, {"DeadLetterConfiguration": {"TargetType": "BUILT_IN"}}),
        ({}, {"DeadLetterConfiguration": {"TargetType": "NONE", "MaxReceiveCount": 3}}),
        ({}, {"VisibilityTimeoutSeconds": 43201}),
        ({}, {"DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 1001}}),
    ],
)
def test_create_queue_validation(kinesis, config, attrs):
    arn = _stream(kinesis)
    err = error_400(
        kinesis.create_queue,
        QueueName="q",
        StreamConfigurationList=[{"StreamARN": arn, **config}],
        QueueAttributes=attrs,
    )
    assert err["Code"] == "ValidationException", err


def test_queue_needs_one_on_demand_stream(kinesis):
    arn = _stream(kinesis)
    two = [{"StreamARN": arn}, {"StreamARN": arn}]
    assert error_400(kinesis.create_queue, QueueName="q", StreamConfigurationList=two)["Code"] == "ValidationException"
    provisioned = create_stream(kinesis, "p", shards=1)["StreamARN"]
    err = error_400(kinesis.create_queue, QueueName="q", StreamConfigurationList=[{"StreamARN": provisioned}])
    assert err["Code"] == "ValidationException"
    missing = arn.replace(":stream/s", ":stream/nope")
    err = error_400(kinesis.create_queue, QueueName="q", StreamConfigurationList=[{"StreamARN": missing}])
    assert err["Code"] == "ResourceNotFoundException"
    gone = "arn:aws:kinesis:us-east-1:000000000000:queue/doesnotexist"
    for call in (kinesis.describe_queue, kinesis.delete_queue, kinesis.receive_queue_records):
        assert error_400(call, QueueARN=gone)["Code"] == "ResourceNotFoundException"


def test_queue_blocks_stream_deletion_and_provisioned_mode(kinesis):
    arn = _stream(kinesis)
    q = _queue(kinesis, arn)
    assert error_400(kinesis.delete_stream, StreamName="s")["Code"] == "ResourceInUseException"
    err = error_400(kinesis.update_stream_mode, StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert err["Code"] == "ResourceInUseException"
    kinesis.delete_queue(QueueARN=q)
    kinesis.delete_stream(StreamName="s")


def test_queues_share_the_consumer_limit(kinesis):
    arn = _stream(kinesis)
    for i in range(15):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{i}")
    for i in range(5):
        _queue(kinesis, arn, f"q{i}")
    assert (
        error_400(kinesis.create_queue, QueueName="q5", StreamConfigurationList=[{"StreamARN": arn}])["Code"]
        == "LimitExceededException"
    )
    err = error_400(kinesis.register_stream_consumer, StreamARN=arn, ConsumerName="c15")
    assert err["Code"] == "LimitExceededException"


# -- receiving ---------------------------------------------------------------------------------------------------
def test_starting_positions(broker, kinesis):
    arn = _stream(kinesis)
    _put(kinesis, "s", b"old")
    broker.advance(60)
    cut = datetime.fromtimestamp(broker.admin("GET", "/_broker/clock")["now_ms"] / 1000, UTC)
    _put(kinesis, "s", b"mid")
    latest = _queue(kinesis, arn, "latest")
    horizon = _queue(kinesis, arn, "horizon", {"Type": "TRIM_HORIZON"})
    at = _queue(kinesis, arn, "at", {"Type": "AT_TIMESTAMP", "Timestamp": cut})
    _put(kinesis, "s", b"new")
    assert sorted(r["Data"] for r in _drain(kinesis, latest)) == [b"new"]
    assert sorted(r["Data"] for r in _drain(kinesis, horizon)) == [b"mid", b"new", b"old"]
    assert sorted(r["Data"] for r in _drain(kinesis, at)) == [b"mid", b"new"]
    position = kinesis.describe_queue(QueueARN=at)["QueueDescription"]["StreamConfigurationList"][0]
    assert position["StartingPosition"] == {"Type": "AT_TIMESTAMP", "Timestamp": cut}


def test_every_record_once_with_its_stream_identity(kinesis):
    arn = _stream(kinesis)
    q = _queue(kinesis, arn)
    entries = [{"Data": f"r{i}".encode(), "PartitionKey": f"key-{i}"} for i in range(57)]
    put = kinesis.put_records(StreamName="s", Records=entries)["Records"]
    got = _drain(kinesis, q)
    assert len(got) == 57
    by_data = {r["Data"]: r for r in got}
    for entry, result in zip(entries, put, strict=True):
        record = by_data[entry["Data"]]
        assert record["RecordId"] == result["SequenceNumber"]  # the same in every queue on the stream
        assert record["PartitionKey"] == entry["PartitionKey"]
        assert record["ReceiveCount"] == 1
        assert record["FirstReceiveTimestamp"] >= record["ApproximateArrivalTimestamp"] - timedelta(seconds=1)
    assert len({r["ReceiptHandle"] for r in got}) == 57
    assert _receive(kinesis, q) == []


def test_limit_and_empty_receive(kinesis):
    q = _queue(kinesis, _stream(kinesis))
    _put(kinesis, "s", *[f"r{i}".encode() for i in range(5)])
    assert len(_receive(kinesis, q, limit=3)) == 3
    assert len(_receive(kinesis, q, limit=3)) == 2
    started = time.monotonic()
    assert _receive(kinesis, q, wait=1) == []
    assert time.monotonic() - started >= 0.9  # it waited for records before answering


def test_visibility_timeout_redelivers_on_the_test_clock(broker, kinesis):
    q = _queue(kinesis, _stream(kinesis), VisibilityTimeoutSeconds=60)
    _put(kinesis, "s", b"a")
    (first,) = _receive(kinesis, q)
    broker.advance(55)
    assert _receive(kinesis, q) == []  # still in flight (the 1 s long poll ends before the 60 s do)
    broker.advance(6)
    (second,) = _receive(kinesis, q)
    assert second["RecordId"] == first["RecordId"] and second["ReceiveCount"] == 2
    assert second["FirstReceiveTimestamp"] == first["FirstReceiveTimestamp"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    stale = _ack(kinesis, q, [first])  # an older delivery's handle no longer acknowledges
    assert stale["Successful"] == [] and stale["Failed"][0]["ErrorCode"] == "InvalidArgumentException"
    assert _ack(kinesis, q, [second])["Successful"] == [{"ReceiptHandle": second["ReceiptHandle"]}]
    broker.advance(120)
    assert _receive(kinesis, q) == []  # acknowledged: never again


def test_change_visibility(broker, kinesis):
    q = _queue(kinesis, _stream(kinesis), VisibilityTimeoutSeconds=10)
    _put(kinesis, "s", b"a", b"b")
    a, b = sorted(_receive(kinesis, q, VisibilityTimeoutSeconds=10), key=lambda r: r["Data"])
    out = kinesis.update_queue_records_visibility(
        QueueARN=q,
        Entries=[
            {"ReceiptHandle": a["ReceiptHandle"], "VisibilityTimeoutSeconds": 600},
            {"ReceiptHandle": b["ReceiptHandle"], "VisibilityTimeoutSeconds": 0},
            {"ReceiptHandle": "not-a-handle", "VisibilityTimeoutSeconds": 5},
        ],
    )
    assert len(out["Successful"]) == 2
    assert out["Failed"] == [
        {
            "ReceiptHandle": "not-a-handle",
            "ErrorCode": "InvalidArgumentException",
            "ErrorMessage": out["Failed"][0]["ErrorMessage"],
        }
    ]
    (again,) = _receive(kinesis, q)  # b at once, a extended
    assert again["Data"] == b"b"
    assert _ack(kinesis, q, [again])["Failed"] == []
    broker.advance(300)
    assert _receive(kinesis, q) == []
    broker.advance(301)
    assert [r["Data"] for r in _receive(kinesis, q)] == [b"a"]
    # A record no longer in flight cannot have its visibility changed.
    late = kinesis.update_queue_records_visibility(
        QueueARN=q, Entries=[{"ReceiptHandle": a["ReceiptHandle"], "VisibilityTimeoutSeconds": 5}]
    )
    assert late["Failed"][0]["ErrorCode"] == "InvalidArgumentException"


def test_dead_letter_path(broker, kinesis):
    dead = {"TargetType": "BUILT_IN", "MaxReceiveCount": 2}
    q = _queue(kinesis, _stream(kinesis), VisibilityTimeoutSeconds=10, DeadLetterConfiguration=dead)
    _put(kinesis, "s", b"poison", b"fine")
    first = _receive(kinesis, q)
    assert _ack(kinesis, q, [r for r in first if r["Data"] == b"fine"])["Failed"] == []
    broker.advance(11)
    (second,) = _receive(kinesis, q)
    assert second["ReceiveCount"] == 2
    assert kinesis.receive_dead_letter_queue_records(QueueARN=q, WaitTimeSeconds=1)["QueueRecords"] == []  # in flight
    broker.advance(11)
    assert _receive(kinesis, q) == []  # received twice without an acknowledgement: dead
    (letter,) = kinesis.receive_dead_letter_queue_records(QueueARN=q, WaitTimeSeconds=1)["QueueRecords"]
    assert letter["Data"] == b"poison" and letter["RecordId"] == second["RecordId"]
    # Handles of one path are refused by the other path's operations.
    assert _ack(kinesis, q, [letter])["Failed"][0]["ErrorCode"] == "InvalidArgumentException"
    assert _ack(kinesis, q, [second], dead=True)["Failed"][0]["ErrorCode"] == "InvalidArgumentException"
    restored = kinesis.restore_dead_letter_queue_records(
        QueueARN=q, Entries=[{"ReceiptHandle": letter["ReceiptHandle"]}]
    )
    assert restored["Successful"] == [{"ReceiptHandle": letter["ReceiptHandle"]}]
    (back,) = _receive(kinesis, q)  # on the normal path again, its receive count reset
    assert back["Data"] == b"poison" and back["ReceiveCount"] == 1
    broker.advance(11)
    _receive(kinesis, q)
    broker.advance(11)
    (letter,) = kinesis.receive_dead_letter_queue_records(QueueARN=q, WaitTimeSeconds=1)["QueueRecords"]
    moved = kinesis.update_dead_letter_queue_records_visibility(
        QueueARN=q, Entries=[{"ReceiptHandle": letter["ReceiptHandle"], "VisibilityTimeoutSeconds": 0}]
    )
    assert moved["Failed"] == []
    (letter,) = kinesis.receive_dead_letter_queue_records(QueueARN=q, WaitTimeSeconds=1)["QueueRecords"]
    assert _ack(kinesis, q, [letter], dead=True)["Failed"] == []
    broker.advance(3600)
    assert _receive(kinesis, q) == []
    assert kinesis.receive_dead_letter_queue_records(QueueARN=q, WaitTimeSeconds=1)["QueueRecords"] == []


def test_without_dead_letter_handling_records_come_back(broker, kinesis):
    q = _queue(kinesis, _stream(kinesis), VisibilityTimeoutSeconds=0, DeadLetterConfiguration={"TargetType": "NONE"})
    _put(kinesis, "s", b"a")
    counts = [_receive(kinesis, q)[0]["ReceiveCount"] for _ in range(8)]
    assert counts == list(range(1, 9))
    assert kinesis.receive_dead_letter_queue_records(QueueARN=q, WaitTimeSeconds=1)["QueueRecords"] == []


def test_long_poll_wakes_on_put(kinesis):
    q = _queue(kinesis, _stream(kinesis))
    result: dict = {}

    def poll() -> None:
        started = time.monotonic()
        result["records"] = _receive(kinesis, q, wait=15)
        result["took"] = time.monotonic() - started

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    _put(kinesis, "s", b"wake")
    t.join()
    assert [r["Data"] for r in result["records"]] == [b"wake"]
    assert result["took"] < 10


def test_records_past_retention_are_not_delivered(broker, kinesis):
    q = _queue(kinesis, _stream(kinesis), VisibilityTimeoutSeconds=3600)
    _put(kinesis, "s", b"in-flight", b"never-received")
    (taken,) = _receive(kinesis, q, limit=1)
    broker.advance(25 * 3600)  # past the default 24 h retention
    assert _receive(kinesis, q) == []
    assert taken["Data"] in (b"in-flight", b"never-received")
    _put(kinesis, "s", b"fresh")
    assert [r["Data"] for r in _receive(kinesis, q)] == [b"fresh"]


def test_deleted_queue_handles_stop_working(kinesis):
    arn = _stream(kinesis)
    q = _queue(kinesis, arn)
    _put(kinesis, "s", b"a")
    (record,) = _receive(kinesis, q)
    kinesis.delete_queue(QueueARN=q)
    assert (
        error_400(kinesis.acknowledge_queue_records, QueueARN=q, Entries=[{"ReceiptHandle": record["ReceiptHandle"]}])[
            "Code"
        ]
        == "ResourceNotFoundException"
    )
    # A new queue of the same name does not take the old handles.
    q2 = _queue(kinesis, arn)
    out = _ack(kinesis, q2, [record])
    assert out["Failed"][0]["ErrorCode"] == "InvalidArgumentException"


# -- regressions from review --------------------------------------------------------------------------------------
def test_expired_records_in_a_full_page_do_not_repeat_others(broker, kinesis):
    q = _queue(kinesis, _stream(kinesis), VisibilityTimeoutSeconds=0)
    _put(kinesis, "s", b"old1", b"old2", b"old3")
    assert len(_receive(kinesis, q)) == 3  # in the queue's state now, visible again at once
    broker.advance(23 * 3600)
    _put(kinesis, "s", b"new1", b"new2", b"new3")
    assert len(_receive(kinesis, q)) == 6
    broker.advance(2 * 3600)  # the old ones are past the 24 h retention
    got = _receive(kinesis, q, limit=5)
    assert sorted(r["Data"] for r in got) == [b"new1", b"new2", b"new3"]


def test_forged_handles_and_enums_are_client_errors(kinesis):
    arn = _stream(kinesis)
    q = _queue(kinesis, arn)
    for raw in (b"n:1:2147483648:1:abc", b"n:99999999999:0:1:abc", b"n:1:0:99999999999999999999999:abc", b"x"):
        handle = "AQEB" + base64.urlsafe_b64encode(raw).decode()
        out = kinesis.acknowledge_queue_records(QueueARN=q, Entries=[{"ReceiptHandle": handle}])
        assert out["Failed"][0]["ErrorCode"] == "InvalidArgumentException", raw
    bad_type = [{"StreamARN": arn, "StartingPosition": {"Type": "FOO"}}]
    assert error_400(kinesis.create_queue, QueueName="x", StreamConfigurationList=bad_type)["Code"] == (
        "ValidationException"
    )
    bad_target = {"DeadLetterConfiguration": {"TargetType": "ELSEWHERE"}}
    err = error_400(kinesis.update_queue, QueueARN=q, QueueAttributes=bad_target)
    assert err["Code"] == "ValidationException"


def test_abandoned_queue_long_polls_end_with_their_clients(broker, kinesis):
    q = _queue(kinesis, _stream(kinesis))
    body = json.dumps({"QueueARN": q, "WaitTimeSeconds": 20}).encode()
    request = (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: Kinesis_20131202.ReceiveQueueRecords\r\n"
        b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )

    def waiting() -> int:
        return broker.admin("GET", "/_broker/resources")["waiting"]

    socks = [socket.create_connection(("127.0.0.1", broker.port)) for _ in range(5)]
    for s in socks:
        s.sendall(request)
    deadline = time.monotonic() + 5
    while waiting() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert waiting() >= 5
    for s in socks:
        s.close()
    deadline = time.monotonic() + 2
    while waiting() > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert waiting() == 0, "abandoned receives kept waiting"
