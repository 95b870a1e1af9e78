"""SQS event source mappings at work: batches reach the function at once, are deleted after success, come back
after the visibility timeout on failure, go to the dead-letter queue after maxReceiveCount, honour filters,
ReportBatchItemFailures, batch size and batching window (on the test clock), FIFO order, and Enabled."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.lambda_.helpers import create, json_lines, queue_counts, queue_with_arn, wait_until

RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    bodies = [r["body"] for r in event["Records"]]
    if any(b.startswith("fail") for b in bodies):
        raise Exception("asked to fail")
    partial = [r["messageId"] for r in event["Records"] if r["body"].startswith("partial")]
    if partial:
        return {"batchItemFailures": [{"itemIdentifier": i} for i in partial]}
    if any(b.startswith("bad-id") for b in bodies):
        return {"batchItemFailures": [{"itemIdentifier": "no-such-id"}]}
    return None
"""


@pytest.fixture
def out(tmp_path) -> Path:
    path = tmp_path / "events.jsonl"
    path.touch()
    return path


def _events(out: Path) -> list[dict]:
    return json_lines(out)


def _wait_events(out: Path, count: int, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = _events(out)
        if len(got) >= count:
            return got
        time.sleep(0.05)
    raise AssertionError(f"{len(_events(out))} invocations, expected {count}")


def _bodies(events: list[dict]) -> list[str]:
    return [r["body"] for e in events for r in e["Records"]]


def _mapped(lam, sqs, out: Path, queue: str, fn: str = "rec", queue_attrs: dict | None = None, **mapping) -> str:
    url, arn = queue_with_arn(sqs, queue, **(queue_attrs or {}))
    create(lam, fn, source=RECORDER, Environment={"Variables": {"OUT": str(out)}})
    lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, **mapping)
    return url


def test_message_reaches_function_at_once_and_is_deleted(broker, lam, out):
    sqs = broker.client("sqs")
    url = _mapped(lam, sqs, out, "jobs")
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={
            "colour": {"DataType": "String", "StringValue": "blue"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    (event,) = _wait_events(out, 1)
    (r,) = event["Records"]
    assert list(r) == [
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfMessageAttributes",
        "md5OfBody", "eventSource", "eventSourceARN", "awsRegion",
    ]  # fmt: skip
    assert r["messageId"] == sent["MessageId"] and r["body"] == "hello"
    assert r["md5OfBody"] == sent["MD5OfMessageBody"]
    assert r["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert list(r["attributes"]) == [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    ]
    assert r["attributes"]["ApproximateReceiveCount"] == "1"
    assert r["messageAttributes"] == {
        "colour": {"stringValue": "blue", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "raw": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    assert (r["eventSource"], r["eventSourceARN"], r["awsRegion"]) == (
        "aws:sqs", "arn:aws:sqs:us-east-1:000000000000:jobs", "us-east-1",
    )  # fmt: skip
    wait_until(lambda: queue_counts(sqs, url) == (0, 0))


def test_failed_batch_returns_after_visibility_timeout_then_dead_letters(broker, lam, out):
    sqs = broker.client("sqs")
    dlq_url, dlq_arn = queue_with_arn(sqs, "jobs-dlq")
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url = _mapped(lam, sqs, out, "jobs", queue_attrs={"VisibilityTimeout": 30, "RedrivePolicy": policy})
    sqs.send_message(QueueUrl=url, MessageBody="fail-1")
    _wait_events(out, 1)
    assert queue_counts(sqs, url) == (0, 1)  # hidden for the visibility timeout
    time.sleep(0.3)
    assert len(_events(out)) == 1
    broker.advance(31)
    events = _wait_events(out, 2)
    assert events[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    broker.advance(31)  # received twice: the next receive moves it to the dead-letter queue
    wait_until(lambda: queue_counts(sqs, dlq_url)[0] == 1)
    assert len(_events(out)) == 2


def test_report_batch_item_failures_keeps_only_listed(broker, lam, out):
    sqs = broker.client("sqs")
    url = _mapped(
        lam, sqs, out, "jobs", queue_attrs={"VisibilityTimeout": 30}, BatchSize=10, MaximumBatchingWindowInSeconds=5,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )  # fmt: skip
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(["a", "partial-b", "c"])]
    )
    broker.advance(6)  # the batching window ends
    _wait_events(out, 1)
    wait_until(lambda: queue_counts(sqs, url) == (0, 1))
    broker.advance(31)
    events = _wait_events(out, 2)
    assert _bodies(events[1:]) == ["partial-b"]


def test_unknown_item_identifier_fails_whole_batch(broker, lam, out):
    sqs = broker.client("sqs")
    url = _mapped(
        lam, sqs, out, "jobs", queue_attrs={"VisibilityTimeout": 30}, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    sqs.send_message(QueueUrl=url, MessageBody="bad-id")
    _wait_events(out, 1)
    wait_until(lambda: queue_counts(sqs, url) == (0, 1))


def test_filter_criteria_deletes_non_matching(broker, lam, out):
    sqs = broker.client("sqs")
    pattern = {"body": {"kind": ["order"], "amount": [{"numeric": [">", 10]}]}}
    url = _mapped(lam, sqs, out, "jobs", FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    for body in [{"kind": "order", "amount": 5}, "plain text", {"kind": "order", "amount": 50}]:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body) if isinstance(body, dict) else body)
    events = _wait_events(out, 1)
    wait_until(lambda: queue_counts(sqs, url) == (0, 0))
    assert [json.loads(b) for b in _bodies(_events(out))] == [{"kind": "order", "amount": 50}]
    assert len(events) == 1


def test_batching_window_waits_on_the_test_clock(broker, lam, out):
    sqs = broker.client("sqs")
    url = _mapped(lam, sqs, out, "jobs", BatchSize=50, MaximumBatchingWindowInSeconds=20)
    for i in range(3):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": f"{i}-{j}"} for j in range(10)])
    time.sleep(0.5)
    assert _events(out) == []  # the window (20 s on the broker's clock) is still open
    broker.advance(21)
    events = _wait_events(out, 1)
    assert len(events) == 1 and len(events[0]["Records"]) == 30


def test_full_batch_does_not_wait_for_the_window(broker, lam, out):
    sqs = broker.client("sqs")
    url = _mapped(lam, sqs, out, "jobs", BatchSize=20, MaximumBatchingWindowInSeconds=300)
    for i in range(2):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": f"{i}-{j}"} for j in range(10)])
    events = _wait_events(out, 1)
    assert len(events[0]["Records"]) == 20


def test_fifo_order_per_group(broker, lam, out):
    sqs = broker.client("sqs")
    url = _mapped(lam, sqs, out, "jobs.fifo", queue_attrs={"FifoQueue": "true"}, BatchSize=3)
    for i in range(12):
        sqs.send_message(
            QueueUrl=url, MessageBody=f"g{i % 2}-{i}", MessageGroupId=f"g{i % 2}", MessageDeduplicationId=str(i)
        )
    wait_until(lambda: len(_bodies(_events(out))) == 12)
    bodies = _bodies(_events(out))
    for g in ("g0", "g1"):
        mine = [b for b in bodies if b.startswith(g)]
        assert mine == sorted(mine, key=lambda b: int(b.split("-")[1]))
    r = _events(out)[0]["Records"][0]
    assert list(r["attributes"]) == [
        "ApproximateReceiveCount", "SentTimestamp", "SequenceNumber", "MessageGroupId", "SenderId",
        "MessageDeduplicationId", "ApproximateFirstReceiveTimestamp",
    ]  # fmt: skip


def test_disabled_mapping_does_not_poll(broker, lam, out):
    sqs = broker.client("sqs")
    url = _mapped(lam, sqs, out, "jobs", Enabled=False)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    time.sleep(1.0)
    assert _events(out) == [] and queue_counts(sqs, url) == (1, 0)
    (m,) = lam.list_event_source_mappings(FunctionName="rec")["EventSourceMappings"]
    lam.update_event_source_mapping(UUID=m["UUID"], Enabled=True)
    _wait_events(out, 1)
    wait_until(lambda: queue_counts(sqs, url) == (0, 0))


SLOW = """
import json, os, time

def handler(event, context):
    start = time.time()
    time.sleep(0.4)
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps({"start": start, "end": time.time(), "n": len(event["Records"])}) + "\\n")
"""


def test_maximum_concurrency_caps_batches_in_flight(broker, lam, out):
    sqs = broker.client("sqs")
    url, arn = queue_with_arn(sqs, "jobs")
    create(lam, "slow", source=SLOW, Environment={"Variables": {"OUT": str(out)}})
    uuid = lam.create_event_source_mapping(
        FunctionName="slow", EventSourceArn=arn, BatchSize=1, ScalingConfig={"MaximumConcurrency": 2}, Enabled=False
    )["UUID"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(8)])
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    runs = _wait_events(out, 8, timeout=30)
    edges = sorted([(r["start"], 1) for r in runs] + [(r["end"], -1) for r in runs], key=lambda e: (e[0], e[1]))
    in_flight = peak = 0
    for _, step in edges:
        in_flight += step
        peak = max(peak, in_flight)
    assert peak <= 2
    assert sum(r["n"] for r in runs) == 8
