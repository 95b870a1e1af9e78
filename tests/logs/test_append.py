"""The append path other services use (broker/services/logs/store.py `append_events`, Lambda's function logs),
called inside a transaction on the broker's own database, and what the API shows of it afterwards; and the sweep of
a deleted log group's events (more than one deletion removes at once)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select

from broker.config import Settings
from broker.services.logs.store import DELETE_CHUNK, append_events
from broker.storage.tables import logs_deleted, logs_events
from tests.logs.helpers import ACCOUNT, REGION, client, messages, now_ms, put

_engines: dict[str, object] = {}


@pytest.fixture
def db(broker):
    url = Settings(data_dir=str(broker.data_dir), db_url=broker.db_url).database_url()
    if url not in _engines:
        _engines[url] = create_engine(url)
    return _engines[url]


def _count(db, table) -> int:
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_append_events_creates_the_group_and_stream(broker, db):
    logs = client(broker)
    t = now_ms(broker)
    group, stream = "/aws/lambda/fn", "2026/12/07/[$LATEST]0123456789abcdef"
    with db.begin() as conn:
        append_events(conn, ACCOUNT, REGION, group, stream, [(t - 5, "START"), (t - 4, "nul\u0000byte")], t)
    (described,) = logs.describe_log_groups()["logGroups"]
    assert (described["logGroupName"], described["logGroupClass"]) == (group, "STANDARD")
    assert "retentionInDays" not in described
    events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    assert events == [
        {"timestamp": t - 5, "message": "START", "ingestionTime": t},
        {"timestamp": t - 4, "message": "nul\ufffdbyte", "ingestionTime": t},
    ]
    # a second append to the existing stream moves its figures
    with db.begin() as conn:
        append_events(conn, ACCOUNT, REGION, group, stream, [(t - 9, "earlier"), (t + 1, "END")], t + 2)
        append_events(conn, ACCOUNT, REGION, group, stream, [], t + 3)  # nothing to do
    (s,) = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert (s["firstEventTimestamp"], s["lastEventTimestamp"], s["lastIngestionTime"]) == (t - 9, t + 1, t + 2)
    assert messages(logs.filter_log_events(logGroupName=group)["events"]) == [
        "earlier",
        "START",
        "nul\ufffdbyte",
        "END",
    ]
    # another account's and Region's groups stay apart
    with db.begin() as conn:
        append_events(conn, "111111111111", REGION, group, stream, [(t, "other account")], t)
        append_events(conn, ACCOUNT, "eu-west-1", group, stream, [(t, "other region")], t)
    assert len(logs.filter_log_events(logGroupName=group)["events"]) == 4
    other = client(broker, region="eu-west-1")
    assert messages(other.filter_log_events(logGroupName=group)["events"]) == ["other region"]


def test_deleted_groups_events_are_swept(broker, db):
    logs = client(broker)
    logs.create_log_group(logGroupName="big")
    logs.create_log_stream(logGroupName="big", logStreamName="s")
    t = now_ms(broker)
    for batch in range(2):
        put(logs, "big", "s", [(t, f"{batch}-{i}") for i in range(DELETE_CHUNK // 2 + 500)])
    logs.delete_log_group(logGroupName="big")
    # the deletion took a chunk at once; the rest waits for the sweep, invisible to a new group of the same name
    assert _count(db, logs_events) == 1000 and _count(db, logs_deleted) == 1
    logs.create_log_group(logGroupName="big")
    logs.create_log_stream(logGroupName="big", logStreamName="s")
    assert logs.filter_log_events(logGroupName="big")["events"] == []
    broker.run_job("logs.sweep")
    assert _count(db, logs_events) == 0 and _count(db, logs_deleted) == 0
