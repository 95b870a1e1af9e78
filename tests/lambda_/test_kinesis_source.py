"""Kinesis event source mappings at work: starting positions, batch size and window, the event shape, retries with
MaximumRetryAttempts and MaximumRecordAgeInSeconds (on the test clock), bisection, ReportBatchItemFailures,
OnFailure records with KinesisBatchInfo, ParallelizationFactor keeping per-key order, tumbling windows with state,
filters, LastProcessingResult and resharding (children after parents)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.lambda_.helpers import ROLE, create, json_lines, queue_with_arn, receive_json, wait_until

RECORDER = """
import base64, json, os

def handler(event, context):
    datas = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event.get("Records", [])]
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps({"event": event, "datas": datas}) + "\\n")
    if any(d.startswith("fail") for d in datas):
        raise Exception("asked to fail")
    partial = [r["kinesis"]["sequenceNumber"] for r, d in zip(event["Records"], datas) if d.startswith("partial")]
    if partial and not os.path.exists(os.environ["OUT"] + ".partial-done"):
        open(os.environ["OUT"] + ".partial-done", "w").close()
        return {"batchItemFailures": [{"itemIdentifier": s} for s in partial]}
    if "window" in event:
        state = dict(event["state"])
        state["count"] = state.get("count", 0) + len(datas)
        return {"state": state}
    return {}
"""


@pytest.fixture
def out(tmp_path) -> Path:
    path = tmp_path / "events.jsonl"
    path.touch()
    return path


def _calls(out: Path) -> list[dict]:
    return json_lines(out)


def _wait_calls(out: Path, count: int, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = _calls(out)
        if len(got) >= count:
            return got
        time.sleep(0.05)
    raise AssertionError(f"{len(_calls(out))} invocations, expected {count}: {_calls(out)}")


def _datas(calls: list[dict]) -> list[str]:
    return [d for c in calls for d in c["datas"]]


def _stream(kinesis, name: str, shards: int = 1) -> str:
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def _put(kinesis, name: str, datas: list[str], key: str = "k") -> list[str]:
    out = kinesis.put_records(StreamName=name, Records=[{"Data": d.encode(), "PartitionKey": key} for d in datas])
    return [r["SequenceNumber"] for r in out["Records"]]


def _mapped(lam, out: Path, arn: str, fn: str = "rec", **mapping) -> str:
    create(lam, fn, source=RECORDER, Environment={"Variables": {"OUT": str(out)}})
    mapping.setdefault("StartingPosition", "TRIM_HORIZON")
    return lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, **mapping)["UUID"]


def test_event_shape_and_trim_horizon(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    seqs = _put(kinesis, "events", ["one", "two"], key="pk-1")
    uuid = _mapped(lam, out, arn)
    (call,) = _wait_calls(out, 1)
    assert call["datas"] == ["one", "two"]
    first = call["event"]["Records"][0]
    assert list(call["event"]) == ["Records"]
    assert list(first) == [
        "kinesis", "eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn", "awsRegion",
        "eventSourceARN",
    ]  # fmt: skip
    assert list(first["kinesis"]) == [
        "kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data", "approximateArrivalTimestamp",
    ]  # fmt: skip
    assert first["kinesis"]["partitionKey"] == "pk-1" and first["kinesis"]["sequenceNumber"] == seqs[0]
    assert first["kinesis"]["data"] == base64.b64encode(b"one").decode()
    assert abs(first["kinesis"]["approximateArrivalTimestamp"] - time.time()) < 60
    assert first["eventID"] == f"shardId-000000000000:{seqs[0]}"
    assert (first["eventSource"], first["eventName"], first["eventVersion"]) == (
        "aws:kinesis",
        "aws:kinesis:record",
        "1.0",
    )
    assert (first["invokeIdentityArn"], first["awsRegion"], first["eventSourceARN"]) == (ROLE, "us-east-1", arn)
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK")
    _put(kinesis, "events", ["three"])  # a later record wakes the poller at once
    assert _wait_calls(out, 2)[1]["datas"] == ["three"]


def test_latest_skips_what_was_there_and_batch_size(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    _put(kinesis, "events", ["old"])
    uuid = _mapped(lam, out, arn, StartingPosition="LATEST", BatchSize=3)
    # LATEST starts where the shard's end is when the poller starts: probe until a record arrives.
    deadline = time.monotonic() + 20
    while not _calls(out) and time.monotonic() < deadline:
        _put(kinesis, "events", ["probe"])
        time.sleep(0.2)
    wait_until(lambda: len(_calls(out)) >= 1)
    _put(kinesis, "events", [f"n{i}" for i in range(7)])
    wait_until(lambda: len([d for d in _datas(_calls(out)) if d.startswith("n")]) == 7)
    calls = _calls(out)
    assert "old" not in _datas(calls)
    assert [d for d in _datas(calls) if d != "probe"] == [f"n{i}" for i in range(7)]
    assert all(len(c["datas"]) <= 3 for c in calls)
    assert lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK"


def test_retries_exhausted_go_to_on_failure_with_batch_info(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    url, queue_arn = queue_with_arn(broker.client("sqs"), "failures")
    seqs = _put(kinesis, "events", ["fail-a", "fail-b"])
    uuid = _mapped(lam, out, arn, MaximumRetryAttempts=2, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    record = receive_json(broker.client("sqs"), url)
    assert len(_calls(out)) == 3  # the first attempt and two retries
    assert list(record) == ["requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:rec"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    info = record["KinesisBatchInfo"]
    assert list(info) == [
        "shardId", "startSequenceNumber", "endSequenceNumber", "approximateArrivalOfFirstRecord",
        "approximateArrivalOfLastRecord", "batchSize", "streamArn",
    ]  # fmt: skip
    assert (info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"]) == (
        "shardId-000000000000", seqs[0], seqs[1],
    )  # fmt: skip
    assert (info["batchSize"], info["streamArn"]) == (2, arn)
    wait_until(
        lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "PROBLEM: Function call failed"
    )
    _put(kinesis, "events", ["fine"])  # processing went on past the failed batch
    wait_until(lambda: _calls(out)[-1]["datas"] == ["fine"])


def test_record_age_limit_on_the_test_clock(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    url, queue_arn = queue_with_arn(broker.client("sqs"), "failures")
    _put(kinesis, "events", ["fail-old"])
    _mapped(lam, out, arn, MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    _wait_calls(out, 2)  # retried while young
    broker.advance(61)
    record = receive_json(broker.client("sqs"), url)
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"


def test_bisect_isolates_the_bad_record(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    url, queue_arn = queue_with_arn(broker.client("sqs"), "failures")
    _put(kinesis, "events", ["a", "b", "c", "fail-d"])
    _mapped(
        lam, out, arn, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )  # fmt: skip
    record = receive_json(broker.client("sqs"), url)
    assert record["KinesisBatchInfo"]["batchSize"] == 1
    batches = [c["datas"] for c in _calls(out)]
    assert batches[:3] == [["a", "b", "c", "fail-d"], ["a", "b"], ["c", "fail-d"]]
    assert ["c"] in batches and ["fail-d"] in batches


def test_report_batch_item_failures_retries_from_lowest_failure(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    _put(kinesis, "events", ["a", "partial-b", "c"])
    _mapped(lam, out, arn, FunctionResponseTypes=["ReportBatchItemFailures"])
    calls = _wait_calls(out, 2)
    assert [c["datas"] for c in calls] == [["a", "partial-b", "c"], ["partial-b", "c"]]
    time.sleep(0.5)
    assert len(_calls(out)) == 2


def test_parallelization_keeps_order_per_key(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    for key in ("a", "b", "c", "d"):
        _put(kinesis, "events", [f"{key}-{i}" for i in range(25)], key=key)
    _mapped(lam, out, arn, ParallelizationFactor=4, BatchSize=10)
    wait_until(lambda: len(_datas(_calls(out))) == 100)
    seen = _datas(_calls(out))
    for key in ("a", "b", "c", "d"):
        assert [d for d in seen if d.startswith(key)] == [f"{key}-{i}" for i in range(25)]


def test_filter_criteria_on_data(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    _put(kinesis, "events", [json.dumps({"t": 5}), "plain", json.dumps({"t": 50})])
    pattern = {"data": {"t": [{"numeric": [">", 10]}]}}
    _mapped(lam, out, arn, FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    _wait_calls(out, 1)
    time.sleep(0.5)
    assert _datas(_calls(out)) == [json.dumps({"t": 50})]


def test_tumbling_window_carries_state_and_closes(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    _mapped(lam, out, arn, TumblingWindowInSeconds=60, BatchSize=2)
    _put(kinesis, "events", ["a", "b", "c"])
    calls = _wait_calls(out, 2)
    windows = [c["event"] for c in calls]
    assert windows[0]["state"] == {} and windows[1]["state"] == {"count": 2}
    assert windows[0]["window"] == windows[1]["window"]
    assert (windows[0]["shardId"], windows[0]["eventSourceARN"]) == ("shardId-000000000000", arn)
    assert windows[0]["isFinalInvokeForWindow"] is False and windows[0]["isWindowTerminatedEarly"] is False
    broker.advance(61)  # the window ends: a final invocation with its state
    final = _wait_calls(out, 3)[2]["event"]
    assert final["isFinalInvokeForWindow"] is True and final["state"] == {"count": 3} and final["Records"] == []


def test_children_after_parent_on_reshard(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    uuid = _mapped(lam, out, arn)
    _put(kinesis, "events", ["before-1", "before-2"])
    wait_until(lambda: len(_datas(_calls(out))) == 2)
    kinesis.update_shard_count(StreamName="events", TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    kinesis.get_waiter("stream_exists").wait(StreamName="events", WaiterConfig={"Delay": 0.2})
    wait_until(
        lambda: (
            kinesis.describe_stream_summary(StreamName="events")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
        )
    )
    for i in range(10):
        _put(kinesis, "events", [f"after-{i}"], key=f"key-{i}")
    wait_until(lambda: len(_datas(_calls(out))) == 12)
    assert _datas(_calls(out))[:2] == ["before-1", "before-2"]
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"


def test_at_timestamp_starts_at_the_first_record_after_it(broker, lam, out):
    kinesis = broker.client("kinesis")
    arn = _stream(kinesis, "events")
    _put(kinesis, "events", ["early"])
    broker.advance(10)  # records put from now on arrived at least 10 s after "early"
    cut = datetime.now(UTC) + timedelta(seconds=5)
    _put(kinesis, "events", ["late-1", "late-2"])
    _mapped(lam, out, arn, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=cut)
    wait_until(lambda: len(_datas(_calls(out))) == 2)
    assert _datas(_calls(out)) == ["late-1", "late-2"]
