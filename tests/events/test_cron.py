"""cron.py and schedule.py as pure functions: next firings of AWS cron and rate expressions, in UTC and in IANA
zones across daylight-saving transitions (EventBridge Scheduler: a skipped wall time does not fire, a repeated one
fires once)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broker.services.events.cron import next_cron, next_rate, parse_cron
from broker.services.events.schedule import first_fire, next_fire, valid


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def iso(value: int | None) -> str | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%dT%H:%M")


def firings(fields: str, start: str, count: int, zone: str = "UTC") -> list[str | None]:
    out: list[str | None] = []
    at = ms(start)
    for _ in range(count):
        nxt = next_cron(fields, at, zone)
        out.append(iso(nxt))
        if nxt is None:
            break
        at = nxt
    return out


# The examples of the EventBridge user guide's cron reference (2026-12-07 is a Monday).
@pytest.mark.parametrize(
    ("fields", "start", "expected"),
    [
        ("0 10 * * ? *", "2026-12-07T10:00", ["2026-12-08T10:00", "2026-12-09T10:00"]),  # 10:00 every day
        ("15 12 * * ? *", "2026-12-07T00:00", ["2026-12-07T12:15", "2026-12-08T12:15"]),  # 12:15 every day
        ("0 18 ? * MON-FRI *", "2026-12-11T18:00", ["2026-12-14T18:00", "2026-12-15T18:00"]),  # 18:00 weekdays
        ("0 8 1 * ? *", "2026-12-07T00:00", ["2027-01-01T08:00", "2027-02-01T08:00"]),  # 8:00 on the 1st
        ("0/15 * * * ? *", "2026-12-07T00:50", ["2026-12-07T01:00", "2026-12-07T01:15"]),  # every 15 minutes
        ("0/10 * ? * MON-FRI *", "2026-12-11T23:55", ["2026-12-14T00:00", "2026-12-14T00:10"]),
        ("0/5 8-17 ? * MON-FRI *", "2026-12-07T17:55", ["2026-12-08T08:00", "2026-12-08T08:05"]),
        ("0 9 ? * 2#1 *", "2026-12-07T09:00", ["2027-01-04T09:00", "2027-02-01T09:00"]),  # first Monday
        ("15 10 ? * 6L 2019-2022", "2022-11-01T00:00", ["2022-11-25T10:15", "2022-12-30T10:15", None]),  # last Friday
        ("0 12 L * ? *", "2027-01-31T12:00", ["2027-02-28T12:00", "2027-03-31T12:00"]),  # last day of the month
        ("0 12 LW * ? *", "2027-07-01T00:00", ["2027-07-30T12:00", "2027-08-31T12:00"]),  # last weekday
        ("0 12 1W * ? *", "2027-05-01T00:00", ["2027-05-03T12:00", "2027-06-01T12:00"]),  # 1W on a Saturday: Mon 3rd
        ("0 12 15W * ? *", "2026-11-01T00:00", ["2026-11-16T12:00", "2026-12-15T12:00"]),  # Sunday 15th: Mon 16th
        ("0 12 31W * ? *", "2027-01-01T00:00", ["2027-01-29T12:00", "2027-03-31T12:00"]),  # Sun 31st: Fri; Feb none
        ("0 12 ? * L *", "2026-12-07T00:00", ["2026-12-12T12:00", "2026-12-19T12:00"]),  # L = Saturday
        ("0 12 ? * 1 *", "2026-12-07T00:00", ["2026-12-13T12:00"]),  # 1 = Sunday
        ("0 22-2 ? * FRI-MON *", "2026-12-11T21:00", ["2026-12-11T22:00", "2026-12-11T23:00", "2026-12-12T00:00"]),
        ("0 0 29 FEB ? *", "2026-01-01T00:00", ["2028-02-29T00:00", "2032-02-29T00:00"]),
        ("0 0 31 2 ? *", "2026-01-01T00:00", [None]),
        ("0 0 1 1 ? 2199", "2199-01-01T00:00", [None]),
        ("59 23 31 12 ? 2199", "2199-01-01T00:00", ["2199-12-31T23:59", None]),
    ],
)
def test_aws_examples(fields: str, start: str, expected: list[str | None]) -> None:
    assert firings(fields, start, len(expected)) == expected


def test_strictly_after_and_whole_minutes() -> None:
    assert iso(next_cron("* * * * ? *", ms("2026-12-07T10:00"))) == "2026-12-07T10:01"
    assert iso(next_cron("* * * * ? *", ms("2026-12-07T10:00") + 1)) == "2026-12-07T10:01"
    assert iso(next_cron("* * * * ? *", ms("2026-12-07T10:00") - 1)) == "2026-12-07T10:00"


def test_spring_forward_skips_the_missing_wall_time() -> None:
    # America/New_York springs forward 2027-03-14 02:00 EST -> 03:00 EDT: 02:30 does not exist that day.
    assert firings("30 2 * * ? *", "2027-03-13T12:00", 2, "America/New_York") == [
        "2027-03-15T06:30",  # 02:30 EDT on the 15th; the 14th is skipped
        "2027-03-16T06:30",
    ]
    # Every 30 minutes: 01:30 EST, then 03:00 EDT (one real hour later: no 02:00 / 02:30 that night).
    assert firings("0/30 * * * ? *", "2027-03-14T06:15", 3, "America/New_York") == [
        "2027-03-14T06:30",
        "2027-03-14T07:00",
        "2027-03-14T07:30",
    ]


def test_fall_back_fires_a_repeated_wall_time_once() -> None:
    # America/New_York falls back 2026-11-01 02:00 EDT -> 01:00 EST: 01:00-01:59 happens twice.
    assert firings("30 1 * * ? *", "2026-10-31T12:00", 2, "America/New_York") == [
        "2026-11-01T05:30",  # 01:30 EDT, the first occurrence only
        "2026-11-02T06:30",  # 01:30 EST the next day
    ]
    assert firings("0/20 1-2 * * ? *", "2026-11-01T05:10", 5, "America/New_York") == [
        "2026-11-01T05:20",  # 01:20 EDT
        "2026-11-01T05:40",  # 01:40 EDT
        "2026-11-01T07:00",  # 02:00 EST (the repeated 01:00-01:40 EST do not fire)
        "2026-11-01T07:20",
        "2026-11-01T07:40",
    ]
    # Asked from inside the repeated hour (01:10 EST), it waits for the first wall time after the hour.
    assert iso(next_cron("0/20 1-2 * * ? *", ms("2026-11-01T06:10"), "America/New_York")) == "2026-11-01T07:00"


def test_zone_offsets() -> None:
    assert iso(next_cron("0 9 * * ? *", ms("2026-12-07T00:00"), "Asia/Kolkata")) == "2026-12-07T03:30"
    assert iso(next_cron("0 9 * * ? *", ms("2026-07-07T00:00"), "Europe/London")) == "2026-07-07T08:00"


def test_far_future_is_quick() -> None:
    # Only the 5th Friday of February: rare, found without walking minutes.
    assert iso(next_cron("0 0 ? FEB 6#5 *", ms("2026-01-01T00:00"))) == "2036-02-29T00:00"


@pytest.mark.parametrize(
    "fields",
    [
        "0 12 * * * *",
        "0 12 ? * ? *",
        "0 12 * *",
        "60 12 * * ? *",
        "0 24 * * ? *",
        "0 0 0 * ? *",
        "0 0 ? * 8 *",
        "0 0 ? * 2#6 *",
        "0 0 32W * ? *",
        "0/0 * * * ? *",
        "0 0 * 13 ? *",
        "0 0 * * ? 1969",
        "0 0 ? * 3#1,6#3 *",  # one n#k, not a list of them
        "0 0 * * ? 2200",  # years end at 2199
        "0 0 * * ? 2190-2200",
        "0 0 * * ? 2030-2020",  # a year range does not wrap
        "0 0 ? * 1/2 *",  # day-of-week takes no step
        "0 0 ? * */2 *",
        "0 0 ? * MON/2 *",
        "\u0663 0 * * ? *",  # ASCII digits only (an Arabic-Indic three)
        "0/\u0662 * * * ? *",
        "0 0 * * ? \uff12\uff10\uff13\uff10",  # fullwidth digits
        "0\t0 * * ? *",  # single spaces between the fields
        "0  0 * * ? *",
        " 0 0 * * ? *",
        "0 0 * * ? * ",
        "0 0 * * ? *\n",
    ],
)
def test_invalid_fields(fields: str) -> None:
    with pytest.raises(ValueError):
        parse_cron(fields)


def test_letters_are_case_insensitive() -> None:
    start = ms("2027-07-01T00:00")
    assert next_cron("0 12 lw * ? *", start) == next_cron("0 12 LW * ? *", start)
    assert next_cron("0 12 15w * ? *", start) == next_cron("0 12 15W * ? *", start)
    assert next_cron("0 12 ? * 6l *", start) == next_cron("0 12 ? * 6L *", start)
    assert next_cron("0 12 ? jul mon-fri *", start) == next_cron("0 12 ? JUL MON-FRI *", start)
    assert next_cron("0 12 ? * l *", start) == next_cron("0 12 ? * L *", start)
    assert valid("cron(0 12 ? * fri#2 *)") and not valid("cron( 0 12 * * ? * )")


def test_rates() -> None:
    assert next_rate(300_000, 0, 0) == 300_000
    assert next_rate(300_000, 0, 299_999) == 300_000
    assert next_rate(300_000, 0, 300_000) == 600_000
    assert next_rate(300_000, 0, 1_000_000) == 1_200_000  # missed firings collapse into the next one
    assert valid("rate(1 minute)") and valid("cron(0 9 ? * 2#1 *)") and not valid("rate(1 minutes)")
    assert first_fire("rate(5 minutes)", 1000) == 301_000
    assert next_fire("rate(5 minutes)", 301_000, 301_000) == 601_000
    assert next_fire("rate(5 minutes)", 301_000, 2_000_000) == 2_101_000
    assert iso(first_fire("cron(0 10 * * ? *)", ms("2026-12-07T10:00"))) == "2026-12-08T10:00"
    assert first_fire("cron(0 10 * * ? 1999)", ms("2026-12-07T10:00")) is None


def test_rates_end_with_2199() -> None:
    now = ms("2026-12-07T10:00")
    assert not valid("rate(99999999999999 days)", now)  # no firing time that large fits
    assert not valid("rate(99999999999999 days)")
    assert not valid("rate(100000 days)", now)  # 2300: past the last year
    assert valid("rate(60000 days)", now)  # 2191
    assert not valid("rate(\u0665 minutes)", now)  # ASCII digits only
    # A rate that reaches 2200 ends, as a cron whose years are past.
    assert next_fire("rate(60000 days)", ms("2191-01-01T00:00"), ms("2191-01-01T00:00")) is None
    assert first_fire("rate(60000 days)", ms("2100-01-01T00:00")) is None
    assert next_fire("rate(1 day)", ms("2199-12-30T00:00"), ms("2199-12-30T00:00")) == ms("2199-12-31T00:00")
    assert next_fire("rate(1 day)", ms("2199-12-31T00:00"), ms("2199-12-31T00:00")) is None
