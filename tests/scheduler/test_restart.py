"""Schedules survive kill -9: firings that fell due while the broker was down happen once when it is back (once,
not once per missed firing), then schedules go on from then."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest

from tests.scheduler.helpers import OFF, ROLE, at_expression, iso_ms, now_ms, queue, receive

BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]
CONTEXT = '{"name": "<aws.scheduler.schedule-arn>", "time": "<aws.scheduler.scheduled-time>"}'
CLOCK = "clock_offset_ms"


def _down_for(server, seconds: int) -> None:
    """While the broker is down, move its stored test clock on: as if it had been down that long."""
    ms = seconds * 1000
    if server.db_url:
        with psycopg.connect(server.db_url, autocommit=True) as conn:
            conn.execute(f"UPDATE broker_state SET value = (value::bigint + {ms})::text WHERE key = '{CLOCK}'")
    else:
        with sqlite3.connect(server.data_dir / "broker.db") as conn:
            conn.execute(
                f"UPDATE broker_state SET value = CAST(CAST(value AS INTEGER) + {ms} AS TEXT) WHERE key = ?", (CLOCK,)
            )


@pytest.mark.parametrize("backend", BACKENDS)
def test_due_while_killed_fires_once_after_restart(server_factory, backend):
    server = server_factory(backend, workers=2).start()
    sqs, scheduler = server.client("sqs"), server.client("scheduler")
    url, arn = queue(sqs, "restart-q")
    server.advance(1)  # the clock offset is stored: it survives the kill
    for name, expression in (("every5", "rate(5 minutes)"), ("once", at_expression(now_ms(server) + 600_000))):
        scheduler.create_schedule(
            Name=name, ScheduleExpression=expression, FlexibleTimeWindow=OFF,
            Target={"Arn": arn, "RoleArn": ROLE, "Input": CONTEXT.replace("<aws.scheduler.schedule-arn>", name)},
        )  # fmt: skip
    (first,) = [json.loads(m["Body"]) for m in receive(sqs, url, 10)]  # the rate schedule, at once
    assert first["name"] == "every5"
    server.kill()
    _down_for(server, 3 * 3600)  # 36 firings of the rate schedule and the one-time one fall due meanwhile

    server.start()
    sqs, scheduler = server.client("sqs"), server.client("scheduler")
    restarted = now_ms(server)
    got = {b["name"]: b for b in (json.loads(m["Body"]) for m in receive(sqs, url, 20, count=2))}
    assert set(got) == {"every5", "once"}
    assert iso_ms(got["every5"]["time"]) == iso_ms(first["time"]) + 300_000  # the first missed one, only
    assert receive(sqs, url, 2) == []
    # Then the schedule goes on from now, keeping its cadence.
    nxt = iso_ms(first["time"]) + ((restarted - iso_ms(first["time"])) // 300_000 + 1) * 300_000
    server.advance((nxt - now_ms(server)) / 1000 + 1)
    (later,) = [json.loads(m["Body"]) for m in receive(sqs, url, 10)]
    assert later["name"] == "every5" and iso_ms(later["time"]) == nxt
    assert receive(sqs, url, 1.5) == []
    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == ["every5", "once"]
    server.kill()
