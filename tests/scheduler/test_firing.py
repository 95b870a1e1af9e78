"""Schedules fire, driven by the test clock, into their targets (SQS, Lambda, Kinesis, an EventBridge bus, a
universal target), on a broker of two workers (each firing happens once): at/rate/cron, time zones across daylight
saving changes, flexible windows, ActionAfterCompletion, dead-letter queues."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import serve
from tests.lambda_.helpers import create as create_function
from tests.scheduler.helpers import OFF, ROLE, at_expression, error, iso_ms, now_ms, queue, receive, schedule_arn
from tests.server import BrokerServer

CONTEXT = json.dumps(
    {
        "arn": "<aws.scheduler.schedule-arn>",
        "time": "<aws.scheduler.scheduled-time>",
        "id": "<aws.scheduler.execution-id>",
        "attempt": "<aws.scheduler.attempt-number>",
    }
)


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "scheduler", workers=2)


@pytest.fixture
def broker(server: BrokerServer) -> BrokerServer:
    server.reset()
    return server


@pytest.fixture
def sqs(broker):
    return broker.client("sqs")


def advance_to(broker, ms: int) -> None:
    broker.advance((ms - now_ms(broker)) / 1000)


def utc_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def schedule(scheduler, name: str, expression: str, target: dict, **kw) -> str:
    kw.setdefault("FlexibleTimeWindow", OFF)
    return scheduler.create_schedule(
        Name=name, ScheduleExpression=expression, Target={"RoleArn": ROLE, **target}, **kw
    )["ScheduleArn"]


def bodies(sqs, url: str, count: int = 1, wait: float = 10.0) -> list[dict]:
    return [json.loads(m["Body"]) for m in receive(sqs, url, wait, count)]


def test_rate_fires_each_interval_and_collapses_missed_ones(broker, sqs):
    scheduler = broker.client("scheduler")
    url, arn = queue(sqs, "rate-q")
    created = now_ms(broker)
    sarn = schedule(scheduler, "every5", "rate(5 minutes)", {"Arn": arn, "Input": CONTEXT})
    (first,) = bodies(sqs, url)  # no StartDate: at once
    assert first["arn"] == sarn == schedule_arn("every5") and first["attempt"] == "1" and len(first["id"]) == 16
    nominal = iso_ms(first["time"])
    assert created - 1000 <= nominal <= now_ms(broker)
    assert receive(sqs, url, 1.5) == []  # once, though two workers run the firing loop
    broker.advance(300)
    (second,) = bodies(sqs, url)
    assert iso_ms(second["time"]) == nominal // 1000 * 1000 + 300_000 and second["id"] != first["id"]
    broker.advance(1000)  # three firings were due: one happens, then the cadence goes on
    (third,) = bodies(sqs, url)
    assert iso_ms(third["time"]) == nominal // 1000 * 1000 + 600_000
    assert receive(sqs, url, 1.5) == []
    broker.advance(200)  # 1500 s after the first: the next slot of the cadence
    (fourth,) = bodies(sqs, url)
    assert iso_ms(fourth["time"]) == nominal // 1000 * 1000 + 1_500_000


def test_start_date_and_disabled_schedules(broker, sqs):
    scheduler = broker.client("scheduler")
    url, arn = queue(sqs, "start-q")
    start = datetime.fromtimestamp((now_ms(broker) + 3_600_000) / 1000, UTC).replace(microsecond=0)
    schedule(scheduler, "later", "rate(1 hour)", {"Arn": arn, "Input": CONTEXT}, StartDate=start)
    schedule(scheduler, "off", "rate(1 minute)", {"Arn": arn, "Input": '{"off": true}'}, State="DISABLED")
    assert receive(sqs, url, 1.5) == []
    broker.advance(3_601)
    (got,) = bodies(sqs, url)
    assert iso_ms(got["time"]) == int(start.timestamp() * 1000)
    assert receive(sqs, url, 1.0) == []
    # Enabling (UpdateSchedule replaces the schedule) starts it.
    scheduler.update_schedule(
        Name="off", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
        Target={"Arn": arn, "RoleArn": ROLE, "Input": '{"off": false}'},
    )  # fmt: skip
    assert bodies(sqs, url) == [{"off": False}]


def test_one_time_schedule_fires_once_and_deletes_itself(broker, sqs):
    scheduler = broker.client("scheduler")
    url, arn = queue(sqs, "at-q")
    when = now_ms(broker) // 1000 * 1000 + 120_000
    schedule(scheduler, "once", at_expression(when), {"Arn": arn, "Input": CONTEXT}, ActionAfterCompletion="DELETE")
    schedule(scheduler, "kept", at_expression(when), {"Arn": arn, "Input": '{"kept": 1}'})
    broker.advance(60)
    assert receive(sqs, url, 1.5) == []
    broker.advance(61)
    got = bodies(sqs, url, 2)
    assert len(got) == 2 and {"kept": 1} in got
    timed = next(b for b in got if "time" in b)
    assert iso_ms(timed["time"]) == when
    assert error(scheduler.get_schedule, 404, Name="once")[0] == "ResourceNotFoundException"
    assert scheduler.get_schedule(Name="kept")["State"] == "ENABLED"  # NONE: stays, with nothing left to fire
    broker.advance(86_400)
    assert receive(sqs, url, 1.5) == []


def test_one_time_schedule_in_a_time_zone(broker, sqs):
    scheduler = broker.client("scheduler")
    url, arn = queue(sqs, "at-tz-q")
    tz = ZoneInfo("Asia/Kolkata")  # UTC+05:30
    when = (now_ms(broker) // 1000 + 600) * 1000
    local = datetime.fromtimestamp(when / 1000, tz).strftime("%Y-%m-%dT%H:%M:%S")
    schedule(scheduler, "kolkata", f"at({local})", {"Arn": arn, "Input": CONTEXT}, ScheduleExpressionTimezone=tz.key)
    broker.advance(590)
    assert receive(sqs, url, 1.5) == []
    broker.advance(15)
    (got,) = bodies(sqs, url)
    assert iso_ms(got["time"]) == when


def test_rate_with_end_date_deletes_itself_after_its_end(broker, sqs):
    scheduler = broker.client("scheduler")
    url, arn = queue(sqs, "end-q")
    end = datetime.fromtimestamp((now_ms(broker) + 150_000) / 1000, UTC)
    schedule(scheduler, "ends", "rate(1 minute)", {"Arn": arn, "Input": CONTEXT}, EndDate=end,
             ActionAfterCompletion="DELETE")  # fmt: skip
    times = [bodies(sqs, url)[0]["time"]]
    for _ in range(2):
        broker.advance(60)
        times += [b["time"] for b in bodies(sqs, url)]
    assert len(times) == 3
    assert scheduler.get_schedule(Name="ends")["Name"] == "ends"  # its EndDate has not come yet
    broker.advance(60)
    assert receive(sqs, url, 1.5) == []  # nothing fires at or after EndDate
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and scheduler.list_schedules()["Schedules"]:
        time.sleep(0.1)
    assert scheduler.list_schedules()["Schedules"] == []


def test_cron_in_a_time_zone_across_daylight_saving_changes(broker, sqs):
    """EventBridge Scheduler's documented behaviour: a wall time a spring-forward skips does not fire; one a
    fall-back repeats fires once."""
    scheduler = broker.client("scheduler")
    spring_url, spring_arn = queue(sqs, "spring-q")
    fall_url, fall_arn = queue(sqs, "fall-q")
    advance_to(broker, utc_ms("2027-03-13T05:00:00"))  # midnight in New York (EST, UTC-5)
    zone = {"ScheduleExpressionTimezone": "America/New_York"}
    schedule(scheduler, "spring", "cron(30 2 * * ? *)", {"Arn": spring_arn, "Input": CONTEXT}, **zone)
    schedule(scheduler, "fall", "cron(30 1 * * ? *)", {"Arn": fall_arn, "Input": CONTEXT}, **zone)
    advance_to(broker, utc_ms("2027-03-13T08:00:00"))
    assert [b["time"] for b in bodies(sqs, spring_url)] == ["2027-03-13T07:30:00Z"]
    advance_to(broker, utc_ms("2027-03-14T12:00:00"))  # 02:30 does not exist on March 14 (clocks go 2:00 -> 3:00)
    assert receive(sqs, spring_url, 1.5) == []
    advance_to(broker, utc_ms("2027-03-15T12:00:00"))
    assert [b["time"] for b in bodies(sqs, spring_url)] == ["2027-03-15T06:30:00Z"]  # EDT, UTC-4
    receive(sqs, fall_url, 2, count=3)
    advance_to(broker, utc_ms("2027-11-06T12:00:00"))
    assert len(bodies(sqs, fall_url)) == 1  # months of missed firings: one
    advance_to(broker, utc_ms("2027-11-07T05:45:00"))  # 01:30 EDT on November 7
    assert [b["time"] for b in bodies(sqs, fall_url)] == ["2027-11-07T05:30:00Z"]
    advance_to(broker, utc_ms("2027-11-07T07:00:00"))  # 01:30 again, now EST: not a second time
    assert receive(sqs, fall_url, 1.5) == []
    advance_to(broker, utc_ms("2027-11-08T07:00:00"))
    assert [b["time"] for b in bodies(sqs, fall_url)] == ["2027-11-08T06:30:00Z"]  # EST, UTC-5


def test_flexible_window_fires_within_its_bounds(broker, sqs):
    scheduler = broker.client("scheduler")
    url, arn = queue(sqs, "flex-q")
    window = {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    for i in range(6):
        schedule(scheduler, f"flex{i}", "rate(1 hour)", {"Arn": arn, "Input": CONTEXT}, FlexibleTimeWindow=window)
    step = 10
    got: list[dict] = []
    for _ in range(61):  # 610 s in steps of 10 s: each firing happens at the step after its moment came
        broker.advance(step)
        got += receive(sqs, url, 0.2, count=6)
    assert len(got) == 6
    offsets = []
    for m in got:
        sent = int(m["Attributes"]["SentTimestamp"])
        nominal = iso_ms(json.loads(m["Body"])["time"])
        assert nominal <= sent <= nominal + 600_000 + step * 1000 + 1000
        offsets.append(sent - nominal)
    assert max(offsets) > 30_000  # the window is used, not only its start
    assert receive(sqs, url, 1.0) == []


def test_lambda_target(broker, sqs):
    scheduler = broker.client("scheduler")
    lam = broker.client("lambda", read_timeout=60)
    url, qarn = queue(sqs, "lambda-ran")
    fn = create_function(lam, "on-schedule")["FunctionArn"]
    lam.put_function_event_invoke_config(
        FunctionName="on-schedule", DestinationConfig={"OnSuccess": {"Destination": qarn}}
    )
    schedule(scheduler, "fn", "rate(1 hour)", {"Arn": fn, "Input": '{"hello": "<aws.scheduler.schedule-arn>"}'})
    (record,) = bodies(sqs, url, wait=60)
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"]["event"] == {"hello": schedule_arn("fn")}


def test_kinesis_target_with_partition_key(broker, sqs):
    scheduler = broker.client("scheduler")
    kinesis = broker.client("kinesis")
    kinesis.create_stream(StreamName="sched", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="sched")["StreamDescriptionSummary"]["StreamARN"]
    schedule(
        scheduler,
        "ks",
        "rate(1 hour)",
        {"Arn": stream, "Input": "raw text", "KinesisParameters": {"PartitionKey": "pk-1"}},
    )
    shard = kinesis.list_shards(StreamName="sched")["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName="sched", ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict] = []
    deadline = time.monotonic() + 10
    while not records and time.monotonic() < deadline:
        out = kinesis.get_records(ShardIterator=it)
        records, it = out["Records"], out["NextShardIterator"]
        time.sleep(0.1)
    assert [(r["PartitionKey"], r["Data"]) for r in records] == [("pk-1", b"raw text")]


def test_eventbridge_target_puts_an_event_whose_detail_is_the_input(broker, sqs):
    scheduler = broker.client("scheduler")
    events = broker.client("events")
    url, qarn = queue(sqs, "bus-q")
    events.create_event_bus(Name="app")
    events.put_rule(Name="r", EventBusName="app", EventPattern=json.dumps({"source": ["my.scheduler"]}))
    events.put_targets(Rule="r", EventBusName="app", Targets=[{"Id": "q", "Arn": qarn}])
    bus = events.describe_event_bus(Name="app")["Arn"]
    target = {
        "Arn": bus,
        "Input": '{"job": "nightly"}',
        "EventBridgeParameters": {"DetailType": "Run job", "Source": "my.scheduler"},
    }
    schedule(scheduler, "to-bus", "rate(1 hour)", target)
    (event,) = bodies(sqs, url)
    assert event["source"] == "my.scheduler" and event["detail-type"] == "Run job"
    assert event["detail"] == {"job": "nightly"} and event["account"] == "000000000000"


def test_universal_target_sends_an_sqs_message(broker, sqs):
    scheduler = broker.client("scheduler")
    url, _ = queue(sqs, "utp-q")
    start = (now_ms(broker) // 1000 + 3600) * 1000
    params = {"QueueUrl": url, "MessageBody": "at <aws.scheduler.scheduled-time>", "DelaySeconds": 0}
    target = {"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "Input": json.dumps(params)}
    schedule(scheduler, "utp", "rate(1 hour)", target, StartDate=datetime.fromtimestamp(start / 1000, UTC))
    broker.advance(3600)
    (msg,) = receive(sqs, url, 20)
    assert msg["Body"] == "at " + datetime.fromtimestamp(start / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_universal_targets_are_named_by_sdk_service_identifiers(broker, sqs):
    """aws-sdk:eventbridge:putEvents (endpoint prefix "events"), aws-sdk:cloudwatchlogs:createLogGroup ("logs")."""
    scheduler = broker.client("scheduler")
    events, logs = broker.client("events"), broker.client("logs")
    url, qarn = queue(sqs, "sdk-q")
    events.put_rule(Name="from-utp", EventPattern=json.dumps({"source": ["utp.test"]}))
    events.put_targets(Rule="from-utp", Targets=[{"Id": "q", "Arn": qarn}])
    entry = {"Source": "utp.test", "DetailType": "t", "Detail": json.dumps({"by": "<aws.scheduler.schedule-arn>"})}
    schedule(
        scheduler, "eb", "rate(1 hour)",
        {"Arn": "arn:aws:scheduler:::aws-sdk:eventbridge:putEvents", "Input": json.dumps({"Entries": [entry]})},
    )  # fmt: skip
    schedule(
        scheduler, "cwl", "rate(1 hour)",
        {"Arn": "arn:aws:scheduler:::aws-sdk:cloudwatchlogs:createLogGroup",
         "Input": json.dumps({"logGroupName": "/from/scheduler"})},
    )  # fmt: skip
    (event,) = bodies(sqs, url, wait=20)
    assert event["source"] == "utp.test" and event["detail"] == {"by": schedule_arn("eb")}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not logs.describe_log_groups(logGroupNamePrefix="/from/")["logGroups"]:
        time.sleep(0.2)
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/from/")["logGroups"]] == [
        "/from/scheduler"
    ]


def test_dead_letter_queue_when_the_target_queue_is_gone(broker, sqs):
    scheduler = broker.client("scheduler")
    gone_url, gone_arn = queue(sqs, "gone-q")
    sqs.delete_queue(QueueUrl=gone_url)
    dlq_url, dlq_arn = queue(sqs, "sched-dlq")
    target = {"Arn": gone_arn, "Input": '{"x": 1}', "DeadLetterConfig": {"Arn": dlq_arn}}
    sarn = schedule(scheduler, "dead", "rate(1 hour)", target)
    (msg,) = receive(sqs, dlq_url, 20)
    assert json.loads(msg["Body"]) == {"x": 1}
    attrs = {k: v["StringValue"] for k, v in msg["MessageAttributes"].items()}
    assert attrs == {
        "X-Amz-Scheduler-Attempt": "1",
        "X-Amz-Scheduler-Schedule-Arn": sarn,
        "X-Amz-Scheduler-Group": "default",
        "X-Amz-Scheduler-Target-Arn": gone_arn,
        # A target that does not exist is not retried.
        "X-Amz-Scheduler-Error-Code": "NO_RESOURCE",
        "X-Amz-Scheduler-Error-Message": f"Queue {gone_arn} does not exist.",
    }


# -- retries ----------------------------------------------------------------------------------------------------
PRINTS_EVENT = """
import json

def handler(event, context):
    print("attempt " + json.dumps(event))
    return event
"""


def _throttled_function(broker, name: str) -> None:
    """A function whose every invocation is refused with 429 TooManyRequestsException (reserved concurrency 0)."""
    lam = broker.client("lambda", read_timeout=60)
    create_function(lam, name, PRINTS_EVENT)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)


def _invoke_target(name: str, **kw) -> dict:
    payload = json.dumps({"attempt": "<aws.scheduler.attempt-number>", "id": "<aws.scheduler.execution-id>"})
    params = {"FunctionName": name, "Payload": payload}
    return {"Arn": "arn:aws:scheduler:::aws-sdk:lambda:invoke", "Input": json.dumps(params), **kw}


def _ran(broker, name: str) -> list[dict]:
    logs = broker.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern="attempt")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [json.loads(e["message"].split(" ", 1)[1]) for e in events if e["message"].startswith("attempt ")]


def test_a_retried_firing_names_its_attempt(broker, sqs):
    """The first attempts are throttled (429, retryable); each retry renders the context attributes again, so the
    one that gets through names its own attempt number (2 or more: retries wait 0.5-1 s, then 1-2 s, ...)."""
    scheduler = broker.client("scheduler")
    _throttled_function(broker, "flaky")
    retry = {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 3600}
    schedule(scheduler, "retried", "rate(1 hour)", _invoke_target("flaky", RetryPolicy=retry))
    time.sleep(1.5)  # the first attempt happens at once, a retry within a second
    assert _ran(broker, "flaky") == []
    broker.client("lambda").delete_function_concurrency(FunctionName="flaky")
    broker.advance(10)  # past the next backoff
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _ran(broker, "flaky"):
        time.sleep(0.5)
    (got,) = _ran(broker, "flaky")
    assert 2 <= int(got["attempt"]) <= 4 and len(got["id"]) == 16


def test_retries_exhausted_go_to_the_dead_letter_queue(broker, sqs):
    scheduler = broker.client("scheduler")
    _throttled_function(broker, "always-throttled")
    dlq_url, dlq_arn = queue(sqs, "exhausted-dlq")
    target = _invoke_target(
        "always-throttled",
        RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
        DeadLetterConfig={"Arn": dlq_arn},
    )
    sarn = schedule(scheduler, "exhausts", "rate(1 hour)", target)
    got: list[dict] = []
    for _ in range(40):  # each retry waits for its backoff (1 s, then 2 s, with jitter) on the test clock
        broker.advance(3)
        got = receive(sqs, dlq_url, 0.5)
        if got:
            break
    (msg,) = got
    params = json.loads(msg["Body"])  # the universal target's Input, rendered for its last attempt
    assert params["FunctionName"] == "always-throttled" and json.loads(params["Payload"])["attempt"] == "3"
    attrs = {k: v["StringValue"] for k, v in msg["MessageAttributes"].items()}
    assert attrs["X-Amz-Scheduler-Attempt"] == "3" and attrs["X-Amz-Scheduler-Schedule-Arn"] == sarn
    assert attrs["X-Amz-Scheduler-Error-Code"] == "TooManyRequestsException"
    assert attrs["X-Amz-Scheduler-Error-Message"] == "Rate Exceeded."
    assert _ran(broker, "always-throttled") == []
    broker.advance(60)
    assert receive(sqs, dlq_url, 1.0) == []  # dead-lettered once, not attempted again


# -- changes and time zones ------------------------------------------------------------------------------------
def test_update_with_an_earlier_end_date_drops_the_pending_firing(broker, sqs):
    scheduler = broker.client("scheduler")
    url, arn = queue(sqs, "ends-early-q")
    target = {"Arn": arn, "Input": CONTEXT, "RoleArn": ROLE}
    schedule(scheduler, "cut", "rate(1 hour)", {"Arn": arn, "Input": CONTEXT})
    schedule(scheduler, "kept", "rate(1 hour)", {"Arn": arn, "Input": '{"kept": true}'})
    assert len(bodies(sqs, url, 2)) == 2  # both fire at once
    now = datetime.fromtimestamp(now_ms(broker) / 1000, UTC)
    # "cut": the same cadence, but it ends before its next firing; "kept": it ends after it.
    scheduler.update_schedule(
        Name="cut", ScheduleExpression="rate(1 hour)", Target=target, FlexibleTimeWindow=OFF,
        EndDate=now + timedelta(minutes=30), ActionAfterCompletion="DELETE",
    )  # fmt: skip
    scheduler.update_schedule(
        Name="kept", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
        Target={**target, "Input": '{"kept": true}'}, EndDate=now + timedelta(minutes=90),
    )  # fmt: skip
    assert receive(sqs, url, 1.0) == []  # neither fires again at once
    broker.advance(1900)  # past the EndDate of "cut": it is deleted, having nothing left to fire
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(scheduler.list_schedules()["Schedules"]) > 1:
        time.sleep(0.1)
    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == ["kept"]
    broker.advance(1800)  # an hour after the first firings: only "kept" fires
    assert bodies(sqs, url) == [{"kept": True}]
    assert receive(sqs, url, 1.0) == []


def test_cron_across_lord_howe_half_hour_daylight_saving_shifts(broker, sqs):
    """Australia/Lord_Howe moves its clocks by 30 minutes: 02:00 -> 01:30 on the first Sunday of April, 02:00 ->
    02:30 on the first Sunday of October. A repeated wall time fires once, a skipped one not at all."""
    scheduler = broker.client("scheduler")
    zone = {"ScheduleExpressionTimezone": "Australia/Lord_Howe"}
    fall_url, fall_arn = queue(sqs, "howe-fall-q")
    spring_url, spring_arn = queue(sqs, "howe-spring-q")
    advance_to(broker, utc_ms("2031-04-04T12:00:00"))  # 23:00 on April 4 local (UTC+11)
    schedule(scheduler, "howe-fall", "cron(45 1 * * ? *)", {"Arn": fall_arn, "Input": CONTEXT}, **zone)
    advance_to(broker, utc_ms("2031-04-04T15:00:00"))
    assert [b["time"] for b in bodies(sqs, fall_url)] == ["2031-04-04T14:45:00Z"]  # 01:45 April 5, UTC+11
    advance_to(broker, utc_ms("2031-04-05T15:00:00"))
    assert [b["time"] for b in bodies(sqs, fall_url)] == ["2031-04-05T14:45:00Z"]  # 01:45 April 6, first time
    advance_to(broker, utc_ms("2031-04-05T16:00:00"))  # 01:45 again (UTC+10:30, 15:15Z): not a second firing
    assert receive(sqs, fall_url, 1.5) == []
    advance_to(broker, utc_ms("2031-04-06T16:00:00"))
    assert [b["time"] for b in bodies(sqs, fall_url)] == ["2031-04-06T15:15:00Z"]  # 01:45 April 7, UTC+10:30
    scheduler.delete_schedule(Name="howe-fall")
    advance_to(broker, utc_ms("2031-10-03T12:00:00"))
    schedule(scheduler, "howe-spring", "cron(15 2 * * ? *)", {"Arn": spring_arn, "Input": CONTEXT}, **zone)
    advance_to(broker, utc_ms("2031-10-03T16:00:00"))
    assert [b["time"] for b in bodies(sqs, spring_url)] == ["2031-10-03T15:45:00Z"]  # 02:15 October 4, UTC+10:30
    advance_to(broker, utc_ms("2031-10-05T12:00:00"))  # 02:15 October 5 does not exist (02:00 -> 02:30)
    assert receive(sqs, spring_url, 1.5) == []
    advance_to(broker, utc_ms("2031-10-05T16:00:00"))
    assert [b["time"] for b in bodies(sqs, spring_url)] == ["2031-10-05T15:15:00Z"]  # 02:15 October 6, UTC+11


def test_universal_call_with_an_endpoint_host_prefix_stays_on_loopback(broker, sqs):
    """CloudWatch Logs' StartLiveTail has the endpoint host prefix "stream-": an SDK would call stream-<host>; the
    call reaches this broker (which answers 501 NotImplemented), never another host."""
    scheduler = broker.client("scheduler")
    dlq_url, dlq_arn = queue(sqs, "live-tail-dlq")
    target = {
        "Arn": "arn:aws:scheduler:::aws-sdk:cloudwatchlogs:startLiveTail",
        "Input": json.dumps({"logGroupIdentifiers": ["arn:aws:logs:us-east-1:000000000000:log-group:g"]}),
        "RetryPolicy": {"MaximumRetryAttempts": 0},
        "DeadLetterConfig": {"Arn": dlq_arn},
    }
    schedule(scheduler, "tail", "rate(1 hour)", target)
    (msg,) = receive(sqs, dlq_url, 20)
    attrs = {k: v["StringValue"] for k, v in msg["MessageAttributes"].items()}
    assert attrs["X-Amz-Scheduler-Error-Code"] == "NotImplemented" and attrs["X-Amz-Scheduler-Attempt"] == "1"
