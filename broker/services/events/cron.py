"""AWS's six-field cron (`minutes hours day-of-month month day-of-week year`, as EventBridge rules and EventBridge
Scheduler take it inside `cron(...)`): one parser (`parse_cron`, which schedule.py's validation also uses) and the
next firing after a moment (`next_cron`), plus `next_rate` for `rate(...)` schedules.

As AWS's grammar has it: the fields are separated by single spaces, numbers are ASCII digits, letters (names, `L`,
`W`) are case-insensitive. Day-of-week counts 1=SUN..7=SAT. Exactly one of day-of-month and day-of-week is `?`.
Day-of-month takes `L` (the last day), `LW` (the last weekday) and `nW` (the weekday nearest day n, never leaving the
month); day-of-week takes `L` (Saturday, the week's last day), `nL` (the month's last day n) and `n#k` (the k-th day
n), but no `/` step. A range may wrap (`FRI-MON`, `22-2`), except in the year; `a/s` steps from a to the field's
end.

Time zones: the fields are wall-clock times of an IANA zone. As EventBridge Scheduler documents for daylight saving
time, a wall time that a spring-forward skips does not fire, and a wall time that a fall-back repeats fires once (its
first occurrence). The search walks only matching years, months, days, hours and minutes, never minute by minute."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
FIRST_YEAR, LAST_YEAR = 1970, 2199
_NUMBER = re.compile(r"[0-9]+")  # ASCII digits only (str.isdigit and int() take other scripts' digits too)


@dataclass(frozen=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    month_days: str  # the day-of-month field as written ("?" when day-of-week decides)
    months: tuple[int, ...]
    week_days: str  # the day-of-week field as written ("?" when day-of-month decides)
    years: tuple[int, ...]

    def days(self, year: int, month: int) -> list[int]:
        """The days of that month the expression fires on, ascending."""
        if self.week_days == "?":
            return _month_days(self.month_days, year, month)
        return _week_days(self.week_days, year, month)


def _number(text: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if text in names:
        return names.index(text) + low
    value = _number(text)
    if not low <= value <= high:
        raise ValueError(text)
    return value


@lru_cache(maxsize=4096)
def _values(
    text: str, low: int, high: int, names: tuple[str, ...] = (), steps: bool = True, wrap: bool = True
) -> tuple[int, ...]:
    """A field of `,`-separated `*`, `v`, `a-b` (wrapping when a > b, if `wrap`), each optionally `/step` (if
    `steps`)."""
    if not text:
        raise ValueError(text)
    out: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        if slash and not (steps and _number(step_text) > 0):
            raise ValueError(part)
        step = int(step_text) if slash else 1
        if base == "*":
            first, last = low, high
        else:
            a, dash, b = base.partition("-")
            first = _value(a, low, high, names)
            last = _value(b, low, high, names) if dash else (high if slash else first)
        if last < first and not wrap:
            raise ValueError(part)
        span = (last - first) % (high - low + 1)
        out.update(low + (first - low + i) % (high - low + 1) for i in range(0, span + 1, step))
    return tuple(sorted(out))


def _check_month_days(text: str) -> None:
    if text in ("?", "L", "LW"):
        return
    if text.endswith("W"):
        _value(text[:-1], 1, 31, ())
        return
    _values(text, 1, 31)


def _check_week_days(text: str) -> None:
    if text in ("?", "L"):
        return
    if "#" in text:
        day, _, nth = text.partition("#")
        _value(day, 1, 7, DAYS)
        _value(nth, 1, 5, ())
        return
    if text.endswith("L") and len(text) > 1:
        _value(text[:-1], 1, 7, DAYS)
        return
    _values(text, 1, 7, DAYS, steps=False)


@lru_cache(maxsize=4096)
def parse_cron(fields: str) -> Cron:
    """The six fields inside `cron(...)`; ValueError when they are not a valid expression."""
    parts = fields.upper().split(" ")  # single spaces: no tabs, no padding, no runs of spaces
    if len(parts) != 6 or not all(parts):
        raise ValueError(fields)
    minutes, hours, dom, month, dow, year = parts
    if (dom == "?") == (dow == "?"):  # exactly one of them is '?'
        raise ValueError(fields)
    _check_month_days(dom)
    _check_week_days(dow)
    return Cron(
        minutes=_values(minutes, 0, 59),
        hours=_values(hours, 0, 23),
        month_days=dom,
        months=_values(month, 1, 12, MONTHS),
        week_days=dow,
        years=_values(year, FIRST_YEAR, LAST_YEAR, wrap=False),
    )


def _aws_weekday(year: int, month: int, day: int) -> int:
    """1=SUN..7=SAT (Python's weekday() is 0=MON..6=SUN)."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int, length: int) -> int | None:
    if day > length:
        return None
    weekday = calendar.weekday(year, month, day)
    if weekday == 5:  # Saturday: the Friday before, or the Monday after when that leaves the month
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before when that leaves the month
        return day + 1 if day < length else day - 2
    return day


def _month_days(text: str, year: int, month: int) -> list[int]:
    length = calendar.monthrange(year, month)[1]
    if text == "L":
        return [length]
    if text == "LW":
        return [_nearest_weekday(year, month, length, length) or length]
    if text.endswith("W"):
        day = _nearest_weekday(year, month, int(text[:-1]), length)
        return [day] if day is not None else []
    return [d for d in _values(text, 1, 31) if d <= length]


def _week_days(text: str, year: int, month: int) -> list[int]:
    length = calendar.monthrange(year, month)[1]
    first = _aws_weekday(year, month, 1)
    if "#" in text:
        day_text, _, nth = text.partition("#")
        day = 1 + (_value(day_text, 1, 7, DAYS) - first) % 7 + 7 * (int(nth) - 1)
        return [day] if day <= length else []
    if text == "L":
        text = "7"
    elif text.endswith("L"):
        wanted = _value(text[:-1], 1, 7, DAYS)
        last = _aws_weekday(year, month, length)
        return [length - (last - wanted) % 7]
    wanted_days = set(_values(text, 1, 7, DAYS, steps=False))
    return [d for d in range(1, length + 1) if (first - 1 + d - 1) % 7 + 1 in wanted_days]


def _wall_times(cron: Cron, start: datetime) -> Iterator[datetime]:
    """Every wall-clock time the expression names at or after `start` (naive, whole minutes), ascending."""
    for year in cron.years:
        if year < start.year:
            continue
        y_on = year == start.year
        for month in cron.months:
            if y_on and month < start.month:
                continue
            m_on = y_on and month == start.month
            for day in cron.days(year, month):
                if m_on and day < start.day:
                    continue
                d_on = m_on and day == start.day
                for hour in cron.hours:
                    if d_on and hour < start.hour:
                        continue
                    h_on = d_on and hour == start.hour
                    for minute in cron.minutes:
                        if h_on and minute < start.minute:
                            continue
                        yield datetime(year, month, day, hour, minute)


def next_cron(fields: str, after_ms: int, zone: str = "UTC") -> int | None:
    """The first firing (epoch ms) strictly after `after_ms` of `cron(<fields>)` in `zone`; None when there is none
    (its years are past). ValueError for invalid fields, ZoneInfoNotFoundError for an unknown zone."""
    cron = parse_cron(fields)
    tz = ZoneInfo(zone)
    local = datetime.fromtimestamp(after_ms / 1000, UTC).astimezone(tz).replace(tzinfo=None)
    start = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for wall in _wall_times(cron, start):
        at = wall.replace(tzinfo=tz)  # fold=0: the first occurrence of a repeated wall time
        ms = int(at.timestamp()) * 1000
        if at.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
            continue  # skipped by a spring-forward: it does not exist
        if ms > after_ms:
            return ms
    return None


def next_rate(interval_ms: int, last_ms: int, after_ms: int) -> int:
    """The first of last_ms + k * interval_ms (k >= 1) strictly after after_ms: a rate schedule keeps its cadence,
    and firings missed while nothing ran collapse into the one that comes next."""
    if last_ms + interval_ms > after_ms:
        return last_ms + interval_ms
    return last_ms + ((after_ms - last_ms) // interval_ms + 1) * interval_ms
