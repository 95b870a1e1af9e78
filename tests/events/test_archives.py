"""EventBridge archives and replays through boto3: archive operations and errors, capture of the events PutEvents
puts on the bus (through the archive's pattern), retention by the test clock, replays delivering to an SQS target
with "replay-name" (only to the rules of FilterArns), cancellation, and their errors."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from tests.events.helpers import ACCOUNT, REGION, bus_arn, error, rule_arn
from tests.lambda_.helpers import queue_with_arn

ARCHIVE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:archive/"


def _put(events, n: int, source: str = "my.app", bus: str = "default", when: datetime | None = None) -> str:
    entry = {"Source": source, "DetailType": "thing", "Detail": json.dumps({"n": n}), "EventBusName": bus}
    if when is not None:
        entry["Time"] = when
    out = events.put_events(Entries=[entry])
    assert out["FailedEntryCount"] == 0
    return out["Entries"][0]["EventId"]


def _drain(sqs, url: str, count: int, timeout: float = 15) -> list[dict]:
    bodies: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < count and time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def _wait_replay(broker, events, name: str, state: str) -> dict:
    deadline = time.monotonic() + 15
    while True:
        described = events.describe_replay(ReplayName=name)
        if described["State"] == state or time.monotonic() > deadline:
            return described
        broker.run_job("events.replays")
        time.sleep(0.1)


# -- archives ------------------------------------------------------------------------------------------------------
def test_archive_operations_and_errors(events):
    events.create_event_bus(Name="b")
    out = events.create_archive(ArchiveName="a", EventSourceArn=bus_arn("b"), Description="d", RetentionDays=3)
    assert out["ArchiveArn"] == ARCHIVE_ARN + "a"
    assert out["State"] == "ENABLED"
    described = events.describe_archive(ArchiveName="a")
    assert described["EventSourceArn"] == bus_arn("b")
    assert (described["RetentionDays"], described["EventCount"], described["SizeBytes"]) == (3, 0, 0)
    assert (described["Description"], described["State"]) == ("d", "ENABLED")

    assert error(events.create_archive, ArchiveName="a", EventSourceArn=bus_arn("b")) == (
        "ResourceAlreadyExistsException",
        "Archive a already exists.",
    )
    assert error(events.create_archive, ArchiveName="x", EventSourceArn=bus_arn("nope")) == (
        "ResourceNotFoundException",
        "Event bus nope does not exist.",
    )
    code, message = error(events.create_archive, ArchiveName="x", EventSourceArn=bus_arn("b"), EventPattern="{bad")
    assert code == "InvalidEventPatternException" and message.startswith("Event pattern is not valid.")
    missing = ("ResourceNotFoundException", "Archive nope does not exist.")
    assert error(events.describe_archive, ArchiveName="nope") == missing
    assert error(events.update_archive, ArchiveName="nope", Description="x") == missing
    assert error(events.delete_archive, ArchiveName="nope") == missing

    out = events.update_archive(ArchiveName="a", RetentionDays=0, EventPattern=json.dumps({"source": ["x"]}))
    assert out["State"] == "ENABLED"
    described = events.describe_archive(ArchiveName="a")
    assert described["RetentionDays"] == 0 and json.loads(described["EventPattern"]) == {"source": ["x"]}

    events.create_archive(ArchiveName="b2", EventSourceArn=bus_arn("default"))
    assert [a["ArchiveName"] for a in events.list_archives()["Archives"]] == ["a", "b2"]
    assert [a["ArchiveName"] for a in events.list_archives(NamePrefix="b")["Archives"]] == ["b2"]
    assert [a["ArchiveName"] for a in events.list_archives(EventSourceArn=bus_arn("b"))["Archives"]] == ["a"]
    assert [a["ArchiveName"] for a in events.list_archives(State="DISABLED")["Archives"]] == []
    first = events.list_archives(Limit=1)
    assert [a["ArchiveName"] for a in events.list_archives(NextToken=first["NextToken"])["Archives"]] == ["b2"]
    events.delete_archive(ArchiveName="a")
    assert error(events.describe_archive, ArchiveName="a") == ("ResourceNotFoundException", "Archive a does not exist.")


def test_capture_and_retention(broker, events):
    events.create_archive(ArchiveName="all", EventSourceArn=bus_arn("default"), RetentionDays=1)
    events.create_archive(
        ArchiveName="some", EventSourceArn=bus_arn("default"), EventPattern=json.dumps({"detail": {"n": [2]}})
    )
    for n in (1, 2, 3):
        _put(events, n)
    all_, some = events.describe_archive(ArchiveName="all"), events.describe_archive(ArchiveName="some")
    assert (all_["EventCount"], some["EventCount"]) == (3, 1)
    assert all_["SizeBytes"] > some["SizeBytes"] > 0
    listed = {a["ArchiveName"]: a["EventCount"] for a in events.list_archives()["Archives"]}
    assert listed == {"all": 3, "some": 1}

    broker.advance(2 * 86_400)  # past "all"'s one day; "some" keeps its events forever
    broker.run_job("events.archive_sweep")
    assert events.describe_archive(ArchiveName="all")["EventCount"] == 0
    assert events.describe_archive(ArchiveName="some")["EventCount"] == 1


# -- replays -------------------------------------------------------------------------------------------------------
def _setup_replay(events, sqs):
    url, arn = queue_with_arn(sqs, "replayed")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    events.create_archive(ArchiveName="arc", EventSourceArn=bus_arn("default"))
    return url


def test_replay_delivers_archived_events_with_replay_name(broker, events, sqs):
    url = _setup_replay(events, sqs)
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    ids = [_put(events, n, when=base + timedelta(minutes=n)) for n in (3, 1, 2)]
    _put(events, 9, when=base + timedelta(minutes=30))  # outside the window
    originals = _drain(sqs, url, 4)
    assert all("replay-name" not in b for b in originals)

    out = events.start_replay(
        ReplayName="rp",
        EventSourceArn=ARCHIVE_ARN + "arc",
        EventStartTime=base,
        EventEndTime=base + timedelta(minutes=10),
        Destination={"Arn": bus_arn("default")},
        Description="again",
    )
    assert out["ReplayArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:replay/rp"
    assert out["State"] == "STARTING"
    described = _wait_replay(broker, events, "rp", "COMPLETED")
    assert described["State"] == "COMPLETED"
    assert described["Description"] == "again"
    assert described["EventSourceArn"] == ARCHIVE_ARN + "arc"
    assert "ReplayEndTime" in described and "EventLastReplayedTime" in described

    replayed = _drain(sqs, url, 3)
    assert [b["detail"]["n"] for b in replayed] == [1, 2, 3]  # in event-time order
    assert {b["id"] for b in replayed} == set(ids)
    assert {b["replay-name"] for b in replayed} == {"rp"}
    assert events.describe_archive(ArchiveName="arc")["EventCount"] == 4  # replayed events are not archived again

    listed = events.list_replays()["Replays"]
    assert [(r["ReplayName"], r["State"]) for r in listed] == [("rp", "COMPLETED")]
    assert events.list_replays(State="RUNNING")["Replays"] == []
    assert [r["ReplayName"] for r in events.list_replays(EventSourceArn=ARCHIVE_ARN + "arc")["Replays"]] == ["rp"]
    assert error(events.cancel_replay, ReplayName="rp") == (
        "IllegalStatusException",
        "Replay rp is not in a valid state for this operation.",
    )


def test_replay_filter_arns(broker, events, sqs):
    url = _setup_replay(events, sqs)
    other_url, other_arn = queue_with_arn(sqs, "other")
    events.put_rule(Name="r2", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="r2", Targets=[{"Id": "q", "Arn": other_arn}])
    start = datetime.now(UTC) - timedelta(minutes=5)
    _put(events, 1)
    assert len(_drain(sqs, url, 1)) == 1 and len(_drain(sqs, other_url, 1)) == 1
    broker.advance(60)
    events.start_replay(
        ReplayName="only-r2",
        EventSourceArn=ARCHIVE_ARN + "arc",
        EventStartTime=start,
        EventEndTime=datetime.now(UTC) + timedelta(seconds=30),
        Destination={"Arn": bus_arn("default"), "FilterArns": [rule_arn("r2")]},
    )
    assert _wait_replay(broker, events, "only-r2", "COMPLETED")["State"] == "COMPLETED"
    assert [b["replay-name"] for b in _drain(sqs, other_url, 1)] == ["only-r2"]
    assert _drain(sqs, url, 1, timeout=2) == []


def test_cancel_replay(broker, events, sqs):
    url = _setup_replay(events, sqs)
    _put(events, 1, when=datetime.now(UTC) - timedelta(minutes=2))
    assert len(_drain(sqs, url, 1)) == 1
    events.start_replay(
        ReplayName="c",
        EventSourceArn=ARCHIVE_ARN + "arc",
        EventStartTime=datetime.now(UTC) - timedelta(hours=1),
        EventEndTime=datetime.now(UTC) - timedelta(minutes=1),
        Destination={"Arn": bus_arn("default")},
    )
    out = events.cancel_replay(ReplayName="c")
    assert out == {"ReplayArn": f"arn:aws:events:{REGION}:{ACCOUNT}:replay/c", "State": "CANCELLING"} | {
        "ResponseMetadata": out["ResponseMetadata"]
    }
    described = _wait_replay(broker, events, "c", "CANCELLED")  # the job runs it, whoever holds its lease
    assert described["State"] == "CANCELLED" and "ReplayEndTime" in described
    assert _drain(sqs, url, 1, timeout=2) == []  # cancelled before it sent anything


def test_replay_errors(events, sqs):
    _setup_replay(events, sqs)
    events.create_event_bus(Name="other")
    now = datetime.now(UTC)
    ok = {
        "ReplayName": "e",
        "EventSourceArn": ARCHIVE_ARN + "arc",
        "EventStartTime": now - timedelta(hours=1),
        "EventEndTime": now - timedelta(minutes=1),
        "Destination": {"Arn": bus_arn("default")},
    }
    assert error(events.start_replay, **{**ok, "EventEndTime": now - timedelta(hours=2)}) == (
        "ValidationException",
        "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
    )
    code, message = error(events.start_replay, **{**ok, "EventEndTime": now + timedelta(hours=1)})
    assert (code, message.startswith("Parameter EventEndTime is not valid.")) == ("ValidationException", True)
    assert error(events.start_replay, **{**ok, "EventSourceArn": ARCHIVE_ARN + "gone"}) == (
        "ValidationException",
        "Parameter EventSourceArn is not valid. Reason: Archive gone does not exist.",
    )
    assert error(events.start_replay, **{**ok, "Destination": {"Arn": bus_arn("other")}}) == (
        "ValidationException",
        "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
    )
    assert error(events.start_replay, **{**ok, "Destination": {"Arn": bus_arn("missing")}}) == (
        "ResourceNotFoundException",
        "Event bus missing does not exist.",
    )
    assert error(events.start_replay, **{**ok, "Destination": {"Arn": bus_arn("default"), "FilterArns": ["x"]}}) == (
        "ValidationException",
        "Parameter x is not valid. Reason: Provided Arn is not in correct format.",
    )
    events.put_rule(Name="elsewhere", EventBusName="other", EventPattern=json.dumps({"source": ["a"]}))
    other_rule = {"Arn": bus_arn("default"), "FilterArns": [rule_arn("elsewhere", bus="other")]}
    assert error(events.start_replay, **{**ok, "Destination": other_rule}) == (
        "ValidationException",
        "Parameter Destination.FilterArns is not valid. Reason: Cross event bus replay is not permitted.",
    )
    assert error(
        events.start_replay, **{**ok, "Destination": {**ok["Destination"], "FilterArns": [rule_arn("no")]}}
    ) == (
        "ResourceNotFoundException",
        "Rule no does not exist on EventBus default.",
    )
    assert error(events.describe_replay, ReplayName="nope") == (
        "ResourceNotFoundException",
        "Replay nope does not exist.",
    )
    assert error(events.cancel_replay, ReplayName="nope") == (
        "ResourceNotFoundException",
        "Replay nope does not exist.",
    )
    events.start_replay(**ok)
    assert error(events.start_replay, **ok) == ("ResourceAlreadyExistsException", "Replay e already exists.")


def test_empty_pattern_and_sweep_precheck(broker, events):
    events.create_archive(
        ArchiveName="keep", EventSourceArn=bus_arn("default"), EventPattern=json.dumps({"source": ["x"]})
    )
    _put(events, 1)
    assert events.describe_archive(ArchiveName="keep")["EventCount"] == 0
    events.update_archive(ArchiveName="keep", EventPattern="")
    described = events.describe_archive(ArchiveName="keep")
    assert "EventPattern" not in described
    _put(events, 2)
    assert events.describe_archive(ArchiveName="keep")["EventCount"] == 1  # every event again
    broker.advance(400 * 86_400)
    assert broker.run_job("events.archive_sweep")["ran"] is False  # only an archive that keeps events forever
    events.create_archive(ArchiveName="day", EventSourceArn=bus_arn("default"), RetentionDays=1)
    _put(events, 3)
    assert broker.run_job("events.archive_sweep")["ran"] is False  # nothing past its retention yet
    broker.advance(2 * 86_400)
    deadline = time.monotonic() + 15  # this run or the background one (whoever holds the lease) sweeps
    while events.describe_archive(ArchiveName="day")["EventCount"] and time.monotonic() < deadline:
        broker.run_job("events.archive_sweep")
        time.sleep(0.1)
    assert events.describe_archive(ArchiveName="day")["EventCount"] == 0
    assert events.describe_archive(ArchiveName="keep")["EventCount"] == 2


def test_archive_created_again_is_another_archive(broker, events, sqs):
    _setup_replay(events, sqs)
    _put(events, 1, when=datetime.now(UTC) - timedelta(minutes=2))
    events.delete_archive(ArchiveName="arc")
    _put(events, 2, when=datetime.now(UTC) - timedelta(minutes=2))  # no archive: not kept
    events.create_archive(ArchiveName="arc", EventSourceArn=bus_arn("default"))
    assert events.describe_archive(ArchiveName="arc")["EventCount"] == 0  # nothing of the deleted one
    _put(events, 3, when=datetime.now(UTC) - timedelta(minutes=2))
    assert events.describe_archive(ArchiveName="arc")["EventCount"] == 1
    window = {
        "EventSourceArn": ARCHIVE_ARN + "arc",
        "EventStartTime": datetime.now(UTC) - timedelta(hours=1),
        "EventEndTime": datetime.now(UTC) - timedelta(minutes=1),
        "Destination": {"Arn": bus_arn("default")},
    }
    events.start_replay(ReplayName="old", **window)
    events.delete_archive(ArchiveName="arc")
    events.create_archive(ArchiveName="arc", EventSourceArn=bus_arn("default"))
    broker.advance(5)
    described = _wait_replay(broker, events, "old", "FAILED")  # it does not go on with the new archive
    assert described["State"] == "FAILED" and described["StateReason"] == "Archive arc does not exist."
