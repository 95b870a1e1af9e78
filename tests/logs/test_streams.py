"""CloudWatch Logs log streams through boto3: CreateLogStream, DeleteLogStream and DescribeLogStreams (orders,
prefix, paging, the figures AWS reports), and how reads name a log group (logGroupName or logGroupIdentifier)."""

from __future__ import annotations

import pytest

from tests.logs.helpers import client, error_400, group_arn, now_ms, put

GROUP_MISSING = {"Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."}
STREAM_MISSING = {"Code": "ResourceNotFoundException", "Message": "The specified log stream does not exist."}


@pytest.fixture
def logs(broker):
    logs = client(broker)
    logs.create_log_group(logGroupName="g")
    return logs


def _names(page: dict) -> list[str]:
    return [s["logStreamName"] for s in page["logStreams"]]


def test_create_and_describe_streams(broker, logs):
    before = now_ms(broker)
    logs.create_log_stream(logGroupName="g", logStreamName="2024/01/01/[$LATEST]abc")
    (fresh,) = logs.describe_log_streams(logGroupName="g")["logStreams"]
    assert list(fresh) == ["logStreamName", "creationTime", "arn", "storedBytes"]
    assert fresh["arn"] == group_arn("g") + ":log-stream:2024/01/01/[$LATEST]abc"
    assert before <= fresh["creationTime"] <= now_ms(broker) and fresh["storedBytes"] == 0
    t = now_ms(broker)
    put(logs, "g", "2024/01/01/[$LATEST]abc", [(t - 5000, "a"), (t - 10, "b")])
    ingested = now_ms(broker)
    put(logs, "g", "2024/01/01/[$LATEST]abc", [(t - 7000, "older, in another batch")])
    (used,) = logs.describe_log_streams(logGroupName="g")["logStreams"]
    assert list(used) == [
        "logStreamName",
        "creationTime",
        "firstEventTimestamp",
        "lastEventTimestamp",
        "lastIngestionTime",
        "uploadSequenceToken",
        "arn",
        "storedBytes",
    ]
    assert (used["firstEventTimestamp"], used["lastEventTimestamp"]) == (t - 7000, t - 10)
    assert ingested <= used["lastIngestionTime"] <= now_ms(broker)
    assert used["storedBytes"] == 0  # AWS reports 0 for streams since 2019
    assert len(used["uploadSequenceToken"]) == 56 and used["uploadSequenceToken"].isdigit()

    err = error_400(logs.create_log_stream, logGroupName="g", logStreamName="2024/01/01/[$LATEST]abc")
    assert err == {"Code": "ResourceAlreadyExistsException", "Message": "The specified log stream already exists"}
    assert error_400(logs.create_log_stream, logGroupName="nope", logStreamName="s") == GROUP_MISSING
    err = error_400(logs.create_log_stream, logGroupName="g", logStreamName="a:b")
    assert err["Code"] == "InvalidParameterException"
    assert "Member must satisfy regular expression pattern: [^:*]*" in err["Message"]


def test_describe_orders_prefix_and_pages(broker, logs):
    names = ["b", "a2", "a1", "B", "c"]
    for name in names:
        logs.create_log_stream(logGroupName="g", logStreamName=name)
    assert _names(logs.describe_log_streams(logGroupName="g")) == sorted(names)
    assert _names(logs.describe_log_streams(logGroupName="g", descending=True)) == sorted(names, reverse=True)
    assert _names(logs.describe_log_streams(logGroupName="g", logStreamNamePrefix="a")) == ["a1", "a2"]
    # by last event time: streams without events count as oldest
    t = now_ms(broker)
    put(logs, "g", "c", [(t - 3000, "x")])
    put(logs, "g", "a1", [(t - 2000, "x")])
    put(logs, "g", "b", [(t - 1000, "x")])
    by_time = logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime")
    assert _names(by_time) == ["B", "a2", "c", "a1", "b"]
    latest_first = logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime", descending=True)
    assert _names(latest_first) == ["b", "a1", "c", "a2", "B"]
    for kw in (
        {},
        {"descending": True},
        {"orderBy": "LastEventTime"},
        {"orderBy": "LastEventTime", "descending": True},
    ):
        seen, token = [], None
        while True:
            page = logs.describe_log_streams(logGroupName="g", limit=2, **kw, **({"nextToken": token} if token else {}))
            seen += _names(page)
            token = page.get("nextToken")
            if not token:
                break
        assert seen == _names(logs.describe_log_streams(logGroupName="g", **kw))
    err = error_400(logs.describe_log_streams, logGroupName="g", orderBy="LastEventTime", logStreamNamePrefix="a")
    assert err == {
        "Code": "InvalidParameterException",
        "Message": "Cannot order by LastEventTime with a logStreamNamePrefix.",
    }
    err = error_400(logs.describe_log_streams, logGroupName="g", orderBy="Size")
    assert err["Code"] == "InvalidParameterException"
    assert "Member must satisfy enum value set: [LogStreamName, LastEventTime]" in err["Message"]
    err = error_400(logs.describe_log_streams, logGroupName="g", nextToken="bogus")
    assert err == {"Code": "InvalidParameterException", "Message": "The specified nextToken is invalid."}


def test_reads_name_the_group_by_name_or_identifier(logs):
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    for identifier in ("g", group_arn("g")):
        assert _names(logs.describe_log_streams(logGroupIdentifier=identifier)) == ["s"]
        assert logs.get_log_events(logGroupIdentifier=identifier, logStreamName="s")["events"] == []
        assert logs.filter_log_events(logGroupIdentifier=identifier)["events"] == []
    # the ARN with the trailing :* is not an identifier (its pattern has no *)
    assert error_400(logs.describe_log_streams, logGroupIdentifier=group_arn("g") + ":*")["Code"] == (
        "InvalidParameterException"
    )
    err = error_400(logs.describe_log_streams, logGroupName="g", logGroupIdentifier="g")
    assert err == {
        "Code": "ValidationException",
        "Message": "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
    }
    for call, kw in (
        (logs.describe_log_streams, {}),
        (logs.get_log_events, {"logStreamName": "s"}),
        (logs.filter_log_events, {}),
    ):
        assert error_400(call, **kw)["Code"] == "InvalidParameterException"
        assert error_400(call, logGroupIdentifier="nope", **kw) == GROUP_MISSING
        assert error_400(call, logGroupIdentifier=group_arn("g", account="111111111111"), **kw) == GROUP_MISSING
    assert error_400(logs.get_log_events, logGroupName="g", logStreamName="nope") == STREAM_MISSING


def test_delete_log_stream(broker, logs):
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    logs.create_log_stream(logGroupName="g", logStreamName="t")
    put(logs, "g", "s", [(now_ms(broker), "gone with its stream")])
    put(logs, "g", "t", [(now_ms(broker), "kept")])
    logs.delete_log_stream(logGroupName="g", logStreamName="s")
    assert _names(logs.describe_log_streams(logGroupName="g")) == ["t"]
    assert [e["message"] for e in logs.filter_log_events(logGroupName="g")["events"]] == ["kept"]
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    assert logs.get_log_events(logGroupName="g", logStreamName="s")["events"] == []
    assert error_400(logs.delete_log_stream, logGroupName="g", logStreamName="nope") == STREAM_MISSING
    assert error_400(logs.delete_log_stream, logGroupName="nope", logStreamName="s") == GROUP_MISSING
