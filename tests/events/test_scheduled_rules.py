"""Scheduled rules fire on the test clock: a rate one interval after the rule is created or enabled, a cron at its
UTC wall times, each firing a "Scheduled Event" to the rule's targets (here an SQS queue); DisableRule stops it,
DeleteRule removes it, firings missed meanwhile run once, a firing due while the broker was killed runs once after
the restart, each firing happens once across workers and nodes, and a rule that cannot fire holds up no other."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, update

from broker.config import Settings
from broker.storage.tables import events_rules
from tests.events.helpers import ACCOUNT, REGION, rule_arn

BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]
JOB = "events.rule_schedules"


def _queue(broker, name: str = "sched") -> tuple[object, str, str]:
    sqs = broker.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def _take(sqs, url: str, wait: int = 5) -> list[dict]:
    """Every event in the queue (waiting up to `wait` s for the first), deleted once read."""
    out: list[dict] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait if not out else 1).get(
            "Messages", []
        )
        if not msgs:
            return out
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _none(sqs, url: str) -> bool:
    return not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")


def _now(broker) -> int:
    return broker.admin("GET", "/_broker/clock")["now_ms"]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _scheduled(event: dict, name: str) -> None:
    assert event["version"] == "0"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["account"] == ACCOUNT and event["region"] == REGION
    assert event["resources"] == [rule_arn(name)]
    assert event["detail"] == {}
    assert len(event["id"]) == 36


def test_rate_rule_fires_each_interval(broker, events):
    sqs, url, arn = _queue(broker)
    created = _now(broker)
    events.put_rule(Name="every5", ScheduleExpression="rate(5 minutes)")
    events.put_targets(Rule="every5", Targets=[{"Id": "q", "Arn": arn}])
    broker.advance(290)
    assert _none(sqs, url)  # not before one interval has passed

    broker.advance(15)
    (first,) = _take(sqs, url)
    _scheduled(first, "every5")
    fired = int(datetime.fromisoformat(first["time"].replace("Z", "+00:00")).timestamp() * 1000)
    assert created + 300_000 - 1000 <= fired <= created + 300_000 + 5000  # scheduled: creation + 5 minutes

    broker.advance(300)
    (second,) = _take(sqs, url)
    assert second["time"] == _iso(fired + 300_000) and second["id"] != first["id"]

    broker.advance(25 * 60)  # five intervals at once (as if nothing ran meanwhile): one firing, not five
    (late,) = _take(sqs, url)
    assert late["time"] == _iso(fired + 600_000)
    assert _none(sqs, url)
    broker.advance(300)  # the cadence goes on from the schedule: fired + 35 min, not 5 min after the late one
    (on,) = _take(sqs, url)
    assert on["time"] == _iso(fired + 35 * 60_000)


def test_cron_rule_fires_at_its_utc_times(broker, events):
    sqs, url, arn = _queue(broker)
    events.put_rule(Name="tens", ScheduleExpression="cron(0/10 * * * ? *)", State="DISABLED")
    events.put_targets(Rule="tens", Targets=[{"Id": "q", "Arn": arn}])
    broker.advance(3600)
    assert _none(sqs, url)  # disabled: nothing

    now = _now(broker)
    events.enable_rule(Name="tens")
    due = (now // 600_000 + 1) * 600_000  # the next whole ten minutes
    broker.advance((due - now) / 1000 + 1)
    (event,) = _take(sqs, url)
    _scheduled(event, "tens")
    assert event["time"] == _iso(due)
    broker.advance(600)
    (event,) = _take(sqs, url)
    assert event["time"] == _iso(due + 600_000)


def test_disable_stops_and_delete_removes(broker, events):
    sqs, url, arn = _queue(broker)
    events.put_rule(Name="r", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    broker.advance(61)
    assert len(_take(sqs, url)) == 1

    events.disable_rule(Name="r")
    broker.advance(600)
    assert _none(sqs, url)
    assert broker.run_job(JOB)["ran"] is False  # nothing due: the job's precheck finds no row

    events.enable_rule(Name="r")  # re-enabled: one interval from now
    broker.advance(30)
    assert _none(sqs, url)
    broker.advance(31)
    assert len(_take(sqs, url)) == 1

    # PutRule with the same schedule keeps the cadence; a new expression restarts it.
    events.put_rule(Name="r", ScheduleExpression="rate(1 minute)", Description="same schedule")
    broker.advance(61)
    assert len(_take(sqs, url)) == 1
    events.put_rule(Name="r", ScheduleExpression="rate(10 minutes)")
    broker.advance(300)
    assert _none(sqs, url)
    broker.advance(301)
    assert len(_take(sqs, url)) == 1

    events.remove_targets(Rule="r", Ids=["q"])
    events.delete_rule(Name="r")
    broker.advance(3600)
    assert broker.run_job(JOB)["ran"] is False  # its schedule row went with it
    assert _none(sqs, url)


def test_a_schedule_changed_to_a_pattern_stops(broker, events):
    sqs, url, arn = _queue(broker)
    events.put_rule(Name="r", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["x"]}))
    broker.advance(600)
    assert _none(sqs, url)
    assert broker.run_job(JOB)["ran"] is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_due_while_killed_fires_once_after_restart(server_factory, backend):
    server = server_factory(backend).start()
    sqs, url, arn = _queue(server)
    events = server.client("events")
    events.put_rule(Name="r", ScheduleExpression="rate(5 minutes)", State="DISABLED")
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    events.enable_rule(Name="r")
    server.advance(297)  # due in under 3 s of real time (the clock offset is stored: it survives the kill)
    server.kill()
    time.sleep(3.5)  # it falls due while the broker is down

    server.start()
    sqs = server.client("sqs")
    (event,) = _take(sqs, url)
    _scheduled(event, "r")
    assert _none(sqs, url)
    server.advance(300)
    assert len(_take(sqs, url)) == 1
    server.kill()


def _gather(sqs, url: str, count: int, timeout: float = 20) -> list[dict]:
    """Events from the queue until `count` arrived (or the time is up), deleted once read."""
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        out += _take(sqs, url, wait=1)
    return out


@pytest.mark.parametrize("layout", ["sqlite-2-workers", pytest.param("pg-2-nodes", marks=pytest.mark.pg)])
def test_each_firing_once_across_workers_and_nodes(server_factory, layout):
    """Every worker of every node runs the firing loop: each rule's firing still happens exactly once."""
    if layout == "sqlite-2-workers":
        nodes = [server_factory("sqlite", workers=2).start()]
    else:
        first = server_factory("pg", workers=2).start()
        nodes = [first, server_factory("pg", workers=2, db_url=first.db_url).start()]
    sqs, url, arn = _queue(nodes[0])
    names = [f"r{i}" for i in range(6)]
    for i, name in enumerate(names):
        events = nodes[i % len(nodes)].client("events")
        events.put_rule(Name=name, ScheduleExpression="rate(1 minute)")
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    got: list[dict] = []
    for round_ in range(3):
        nodes[round_ % len(nodes)].advance(60)
        got += _gather(sqs, url, len(names) * (round_ + 1) - len(got))
    time.sleep(1.5)  # a duplicate would arrive meanwhile
    got += _take(sqs, url, wait=1)
    firings = [(e["resources"][0], e["time"]) for e in got]
    assert len(firings) == len(set(firings)) == 3 * len(names)
    for name in names:
        assert len([t for r, t in firings if r == rule_arn(name)]) == 3
    for node in nodes:
        node.kill()


_engines: dict[str, object] = {}


def _engine(broker):
    url = Settings(data_dir=str(broker.data_dir), db_url=broker.db_url).database_url()
    if url not in _engines:
        _engines[url] = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    return _engines[url]


def test_a_rule_that_cannot_fire_holds_up_no_other(broker, events):
    sqs, url, arn = _queue(broker)
    for name in ("bad", "good"):
        events.put_rule(Name=name, ScheduleExpression="rate(1 minute)")
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    # As a rule stored by an older, more lenient broker might read: its next firing raises ValueError.
    bad = {**events.describe_rule(Name="bad"), "ScheduleExpression": "cron(0\t0 * * ? *)", "Tags": {}}
    bad.pop("ResponseMetadata")
    with _engine(broker).begin() as conn:
        conn.execute(
            update(events_rules)
            .where(events_rules.c.account == ACCOUNT, events_rules.c.bus == "default", events_rules.c.name == "bad")
            .values(doc=json.dumps(bad))
        )
    broker.advance(61)
    (event,) = _take(sqs, url)
    assert event["resources"] == [rule_arn("good")]
    broker.advance(60)
    (event,) = _take(sqs, url)  # the schedules go on; the bad one was dropped
    assert event["resources"] == [rule_arn("good")]
    assert _none(sqs, url)
