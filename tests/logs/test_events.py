"""CloudWatch Logs log events through boto3: PutLogEvents (batch rules, rejected events, the ignored sequence
token), GetLogEvents (head, tail, time range, f/ and b/ tokens that come back unchanged at the ends, 1 MB pages),
FilterLogEvents (streams, patterns, time range, paging, direction), TestMetricFilter, and the retention sweep
(the test clock moved, the leased job run)."""

from __future__ import annotations

import pytest

from tests.logs.helpers import client, error_400, make_stream, messages, now_ms, put

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@pytest.fixture
def logs(broker):
    logs = client(broker)
    make_stream(logs, "g", "s")
    return logs


def _group(logs) -> dict:
    return logs.describe_log_groups(logGroupNamePrefix="g")["logGroups"][0]


# -- PutLogEvents --------------------------------------------------------------------------------------------------
def test_put_log_events_and_read_them_back(broker, logs):
    t = now_ms(broker)
    first = put(logs, "g", "s", [(t - 3, "one"), (t - 2, "two"), (t - 2, "two again")])
    assert set(first) == {"nextSequenceToken", "ResponseMetadata"}
    # sequence tokens are ignored, a wrong one included, and the next one still grows
    second = put(logs, "g", "s", [(t - 1, "three")], sequenceToken="1234")
    assert int(second["nextSequenceToken"]) > int(first["nextSequenceToken"])
    events = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)["events"]
    assert messages(events) == ["one", "two", "two again", "three"]
    assert list(events[0]) == ["timestamp", "message", "ingestionTime"]
    assert [e["timestamp"] for e in events] == [t - 3, t - 2, t - 2, t - 1]
    assert all(t <= e["ingestionTime"] <= now_ms(broker) for e in events)
    # a later batch with older events is read in timestamp order
    put(logs, "g", "s", [(t - 10, "earliest")])
    assert messages(logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)["events"])[0] == (
        "earliest"
    )


def test_put_log_events_rejects_old_expired_and_future_events(broker, logs):
    logs.put_retention_policy(logGroupName="g", retentionInDays=1)
    t = now_ms(broker)
    batch = [
        (t - 15 * DAY, "too old"),
        (t - DAY - 30 * MINUTE, "expired"),
        (t - 2 * HOUR, "kept 1"),
        (t - HOUR, "kept 2"),
        (t + 3 * HOUR, "too new"),
        (t + 4 * HOUR, "too new too"),
    ]
    resp = put(logs, "g", "s", batch)
    # end indexes are exclusive: events [0, end) were refused
    assert resp["rejectedLogEventsInfo"] == {
        "tooNewLogEventStartIndex": 4,
        "tooOldLogEventEndIndex": 1,
        "expiredLogEventEndIndex": 2,
    }
    assert messages(logs.get_log_events(logGroupName="g", logStreamName="s")["events"]) == ["kept 1", "kept 2"]
    # a batch refused entirely stores nothing and still answers
    resp = put(logs, "g", "s", [(t + 3 * HOUR, "future")])
    assert resp["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 0}
    assert len(logs.get_log_events(logGroupName="g", logStreamName="s")["events"]) == 2
    # up to 2 hours ahead and 14 days back are accepted (without retention)
    logs.delete_retention_policy(logGroupName="g")
    assert "rejectedLogEventsInfo" not in put(logs, "g", "s", [(t + 2 * HOUR - MINUTE, "soon")])
    assert "rejectedLogEventsInfo" not in put(logs, "g", "s", [(t - 14 * DAY + HOUR, "two weeks ago")])


def test_put_log_events_batch_rules(broker, logs):
    t = now_ms(broker)
    cases = [
        (
            [(t, "b"), (t - 1, "a")],
            "Log events in a single PutLogEvents request must be in chronological order.",
        ),
        (
            [(t - 24 * HOUR - 1, "a"), (t, "b")],
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ),
        ([(t, "x" * 1_048_551)], "Log event too large: 1048577 bytes exceeds limit of 1048576"),
        ([(t, "x" * 600_000), (t, "y" * 600_000)], "Upload too large: 1200052 bytes exceeds limit of 1048576"),
    ]
    for events, message in cases:
        assert error_400(put, logs, "g", "s", events) == {"Code": "InvalidParameterException", "Message": message}
    # exactly 24 hours, exactly 1 MiB with the 26 bytes per event, and 10,000 events pass
    put(logs, "g", "s", [(t - 24 * HOUR, "a"), (t, "b")])
    put(logs, "g", "s", [(t, "x" * (524_288 - 26)), (t, "y" * (524_288 - 26))])
    put(logs, "g", "s", [(t, "e") for _ in range(10_000)])
    err = error_400(put, logs, "g", "s", [(t, "e") for _ in range(10_001)])
    assert err["Code"] == "InvalidParameterException"
    assert "Member must have length less than or equal to 10000" in err["Message"]
    # the span rule counts only events that are not refused as too old or too new
    resp = put(logs, "g", "s", [(t - 20 * DAY, "old"), (t - HOUR, "ok"), (t + 5 * HOUR, "new")])
    assert resp["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2}
    missing = {"Code": "ResourceNotFoundException"}
    assert error_400(put, logs, "nope", "s", [(t, "a")]) == {
        **missing,
        "Message": "The specified log group does not exist.",
    }
    assert error_400(put, logs, "g", "nope", [(t, "a")]) == {
        **missing,
        "Message": "The specified log stream does not exist.",
    }
    err = error_400(put, logs, "g", "s", [(t, "nul \u0000 here")])
    assert err["Code"] == "InvalidParameterException"


# -- GetLogEvents --------------------------------------------------------------------------------------------------
def _walk(logs, direction: str, token: str, limit: int) -> tuple[list[str], str]:
    """Follow one direction's tokens until the same token comes back: the messages in stream order, the last token."""
    key = "nextForwardToken" if direction == "f" else "nextBackwardToken"
    seen: list[str] = []
    for _ in range(100):
        page = logs.get_log_events(logGroupName="g", logStreamName="s", nextToken=token, limit=limit)
        assert page[key].startswith(f"{direction}/")
        if page[key] == token:
            assert page["events"] == []
            return seen, token
        seen = seen + messages(page["events"]) if direction == "f" else messages(page["events"]) + seen
        token = page[key]
    raise AssertionError("the tokens never came back unchanged")


def test_get_log_events_pages_both_ways(broker, logs):
    t = now_ms(broker)
    put(logs, "g", "s", [(t - 100 + i, f"m{i}") for i in range(10)])
    # default: the newest events (startFromHead false), in timestamp order
    tail = logs.get_log_events(logGroupName="g", logStreamName="s", limit=3)
    assert messages(tail["events"]) == ["m7", "m8", "m9"]
    for token in (tail["nextForwardToken"], tail["nextBackwardToken"]):
        digits = token.split("/")[1]
        assert token.endswith("/s") and len(digits) == 56 and digits.isdigit()
    older, _ = _walk(logs, "b", tail["nextBackwardToken"], 4)
    assert older == [f"m{i}" for i in range(7)]
    head = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True, limit=4)
    assert messages(head["events"]) == ["m0", "m1", "m2", "m3"]
    rest, end = _walk(logs, "f", head["nextForwardToken"], 4)
    assert rest == [f"m{i}" for i in range(4, 10)]
    # the forward token at the end picks up events appended later
    put(logs, "g", "s", [(t, "new")])
    assert messages(logs.get_log_events(logGroupName="g", logStreamName="s", nextToken=end)["events"]) == ["new"]
    # time range: startTime inclusive, endTime exclusive
    ranged = logs.get_log_events(
        logGroupName="g", logStreamName="s", startTime=t - 98, endTime=t - 95, startFromHead=True
    )
    assert messages(ranged["events"]) == ["m2", "m3", "m4"]
    nothing = logs.get_log_events(logGroupName="g", logStreamName="s", startTime=t + HOUR)
    assert nothing["events"] == [] and nothing["nextForwardToken"].startswith("f/")
    for bad in ("x", "f/1a", "q/" + "1" * 56 + "/s", "f/" + "9" * 70 + "/s", "f/12/x"):
        err = error_400(logs.get_log_events, logGroupName="g", logStreamName="s", nextToken=bad)
        assert err == {"Code": "InvalidParameterException", "Message": "The specified nextToken is invalid."}


def test_get_log_events_pages_hold_at_most_1_mib(broker, logs):
    t = now_ms(broker)
    big = "x" * 100_000
    put(logs, "g", "s", [(t - 30 + i, f"{i:02d}{big}") for i in range(10)])
    put(logs, "g", "s", [(t - 20 + i, f"{10 + i:02d}{big}") for i in range(10)])
    page = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)
    assert [m[:2] for m in messages(page["events"])] == [f"{i:02d}" for i in range(10)]  # 11 would pass 1 MiB
    page = logs.get_log_events(logGroupName="g", logStreamName="s", nextToken=page["nextForwardToken"])
    assert [m[:2] for m in messages(page["events"])] == [f"{i:02d}" for i in range(10, 20)]


# -- FilterLogEvents -----------------------------------------------------------------------------------------------
@pytest.fixture
def three_streams(broker, logs):
    """Streams a, b, c with interleaved events; returns the base time."""
    for name in ("a", "b", "c"):
        logs.create_log_stream(logGroupName="g", logStreamName=name)
    t = now_ms(broker) - HOUR
    put(logs, "g", "a", [(t + 1, "ERROR disk full"), (t + 4, '{"level": "info", "ms": 12}')])
    put(logs, "g", "b", [(t + 2, "INFO started"), (t + 5, '{"level": "error", "ms": 950}')])
    put(logs, "g", "c", [(t + 3, "WARN slow"), (t + 6, "ERROR timeout")])
    return t


def test_filter_log_events_across_streams(logs, three_streams):
    t = three_streams
    resp = logs.filter_log_events(logGroupName="g", interleaved=False)
    events = resp["events"]
    assert [(e["logStreamName"], e["timestamp"]) for e in events] == [
        ("a", t + 1),
        ("b", t + 2),
        ("c", t + 3),
        ("a", t + 4),
        ("b", t + 5),
        ("c", t + 6),
    ]
    assert list(events[0]) == ["logStreamName", "timestamp", "message", "ingestionTime", "eventId"]
    ids = [e["eventId"] for e in events]
    assert all(len(i) == 56 and i.isdigit() for i in ids) and ids == sorted(ids) and len(set(ids)) == 6
    assert resp["searchedLogStreams"] == [] and "nextToken" not in resp
    by_names = logs.filter_log_events(logGroupName="g", logStreamNames=["a", "c", "missing"])["events"]
    assert [e["logStreamName"] for e in by_names] == ["a", "c", "a", "c"]
    assert [
        e["logStreamName"] for e in logs.filter_log_events(logGroupName="g", logStreamNamePrefix="b")["events"]
    ] == [
        "b",
        "b",
    ]
    assert logs.filter_log_events(logGroupName="g", logStreamNames=["missing"])["events"] == []
    ranged = logs.filter_log_events(logGroupName="g", startTime=t + 2, endTime=t + 4)["events"]
    assert [e["timestamp"] for e in ranged] == [t + 2, t + 3, t + 4]  # both ends inclusive
    err = error_400(logs.filter_log_events, logGroupName="g", logStreamNames=["a"], logStreamNamePrefix="a")
    assert err["Code"] == "InvalidParameterException"


def test_filter_log_events_patterns(logs, three_streams):
    def found(pattern: str) -> list[str]:
        return messages(logs.filter_log_events(logGroupName="g", filterPattern=pattern)["events"])

    assert found("ERROR") == ["ERROR disk full", "ERROR timeout"]
    assert found("error") == ['{"level": "error", "ms": 950}']
    assert found('"disk full"') == ["ERROR disk full"]
    assert found("?WARN ?INFO") == ["INFO started", "WARN slow"]
    assert found("ERROR -disk") == ["ERROR timeout"]
    assert found("%^[A-Z]{4}\\s%") == ["INFO started", "WARN slow"]
    assert found('{ $.level = "error" }') == ['{"level": "error", "ms": 950}']
    assert found("{ $.ms > 10 && $.ms < 100 }") == ['{"level": "info", "ms": 12}']
    assert found('{ $.level = "err*" || $.ms = 12 }') == [
        '{"level": "info", "ms": 12}',
        '{"level": "error", "ms": 950}',
    ]
    assert found("[level, word = full]") == []
    assert found("[level = ERROR, what]") == ["ERROR timeout"]
    assert len(found("")) == 6
    for bad in ("{ $.level = ", '"open', "{ $.ms > abc }"):
        err = error_400(logs.filter_log_events, logGroupName="g", filterPattern=bad)
        assert err == {"Code": "InvalidParameterException", "Message": "Invalid filter pattern"}


def test_filter_log_events_pages_and_directions(broker, logs):
    t = now_ms(broker) - HOUR
    put(logs, "g", "s", [(t + i, f"event {i} {'odd' if i % 2 else 'even'}") for i in range(25)])

    def walk(**kw) -> list[str]:
        seen, token = [], None
        for _ in range(50):
            page = logs.filter_log_events(logGroupName="g", limit=4, **kw, **({"nextToken": token} if token else {}))
            assert len(page["events"]) <= 4
            seen += messages(page["events"])
            token = page.get("nextToken")
            if token is None:
                return seen
        raise AssertionError("no last page")

    everything = [f"event {i} {'odd' if i % 2 else 'even'}" for i in range(25)]
    assert walk() == everything
    assert walk(filterPattern="odd") == [m for m in everything if "odd" in m]
    assert walk(startFromHead=False, startTime=1_704_067_200_000) == everything[::-1]
    err = error_400(logs.filter_log_events, logGroupName="g", startFromHead=False)
    assert err["Code"] == "InvalidParameterException"
    err = error_400(logs.filter_log_events, logGroupName="g", nextToken="nonsense")
    assert err == {"Code": "InvalidParameterException", "Message": "The specified nextToken is invalid."}


def test_test_metric_filter(logs):
    resp = logs.test_metric_filter(
        filterPattern="[ip, user, status = 5*, bytes]",
        logEventMessages=["1.2.3.4 bob 200 10", "5.6.7.8 eve 503 20", "short"],
    )
    assert resp["matches"] == [
        {
            "eventNumber": 2,
            "eventMessage": "5.6.7.8 eve 503 20",
            "extractedValues": {"$ip": "5.6.7.8", "$user": "eve", "$status": "503", "$bytes": "20"},
        }
    ]
    assert logs.test_metric_filter(filterPattern="ERROR", logEventMessages=["ERROR x"])["matches"] == [
        {"eventNumber": 1, "eventMessage": "ERROR x", "extractedValues": {}}
    ]
    err = error_400(logs.test_metric_filter, filterPattern="{ $.x", logEventMessages=["a"])
    assert err == {"Code": "InvalidParameterException", "Message": "Invalid filter pattern"}


# -- retention -----------------------------------------------------------------------------------------------------
def test_retention_sweep_removes_expired_events(broker, logs):
    t = now_ms(broker)
    for when, message in ((t - 3 * DAY, "three days"), (t - 2 * DAY, "two days"), (t - HOUR, "an hour")):
        put(logs, "g", "s", [(when, message)])
    logs.put_retention_policy(logGroupName="g", retentionInDays=1)
    # AWS removes expired events later, not at once
    assert len(logs.get_log_events(logGroupName="g", logStreamName="s")["events"]) == 3
    assert broker.run_job("logs.sweep")["ran"] is True
    assert messages(logs.get_log_events(logGroupName="g", logStreamName="s")["events"]) == ["an hour"]
    assert messages(logs.filter_log_events(logGroupName="g")["events"]) == ["an hour"]
    assert _group(logs)["storedBytes"] == len("an hour")
    broker.advance(DAY / 1000)
    broker.run_job("logs.sweep")
    assert logs.get_log_events(logGroupName="g", logStreamName="s")["events"] == []
    assert _group(logs)["storedBytes"] == 0
    # without a retention period nothing expires
    assert put(logs, "g", "s", [(now_ms(broker) - 10 * DAY, "expired")])["rejectedLogEventsInfo"] == {
        "expiredLogEventEndIndex": 1
    }
    logs.delete_retention_policy(logGroupName="g")
    put(logs, "g", "s", [(now_ms(broker) - 10 * DAY, "kept")])
    broker.advance(30 * DAY / 1000)
    broker.run_job("logs.sweep")
    assert messages(logs.get_log_events(logGroupName="g", logStreamName="s")["events"]) == ["kept"]
