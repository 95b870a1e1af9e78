"""Schedule expressions of EventBridge Scheduler and when they fire.

`at(yyyy-mm-ddThh:mm:ss)` fires once at that wall time of the schedule's zone; `rate(value unit)` (minute(s),
hour(s), day(s) — AWS takes either spelling for any value) every interval from StartDate (else from when it was
created or last changed), a day being 24 hours whatever daylight saving does; `cron(six fields)` at the wall times
it names in the zone, through events/cron.py (a time a spring-forward skips does not fire, a repeated one fires
once). Firings fall before EndDate. A flexible time window moves each firing to a moment within
MaximumWindowInMinutes after its scheduled time: deterministic per (schedule, scheduled time), so a firing that is
computed again (after a restart) keeps its moment."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broker.services.events.cron import next_cron, next_rate, parse_cron
from broker.services.scheduler.errors import invalid_expression, invalid_timezone

_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)")
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}


@dataclass(frozen=True)
class Expression:
    kind: str  # "at", "rate" or "cron"
    at: datetime | None = None  # naive wall time of an at() expression
    interval_ms: int = 0  # of a rate() expression
    fields: str = ""  # inside cron(...)


def parse(text: str) -> Expression:
    """The expression; ValidationException "Invalid Schedule Expression ..." when it is none of the three."""
    m = _AT.fullmatch(text)
    if m is not None:
        try:
            year, month, day, hour, minute, second = (int(v) for v in m.groups())
            return Expression("at", at=datetime(year, month, day, hour, minute, second))
        except ValueError:
            raise invalid_expression(text) from None
    m = _RATE.fullmatch(text)
    if m is not None:
        value = int(m.group(1))
        if value <= 0:
            raise invalid_expression(text)
        return Expression("rate", interval_ms=value * _UNIT_MS[m.group(2).rstrip("s")])
    if text.startswith("cron(") and text.endswith(")"):
        try:
            parse_cron(text[5:-1])
        except ValueError:
            raise invalid_expression(text) from None
        return Expression("cron", fields=text[5:-1])
    raise invalid_expression(text)


def zone(name: str) -> ZoneInfo:
    """An IANA time zone; ValidationException for a name that is not one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid_timezone(name) from None


def first(expr: Expression, tz: str, now: int, start: int | None, end: int | None) -> int | None:
    """The first scheduled firing (epoch ms) of a schedule created or changed at `now`; None when there is none.
    A one-time schedule whose time has passed never fires (StartDate and EndDate do not apply to it)."""
    if expr.kind == "at":
        assert expr.at is not None
        at = int(expr.at.replace(tzinfo=ZoneInfo(tz)).timestamp() * 1000)
        return at if at >= now - 60_000 else None  # AWS fires within the minute it names
    if expr.kind == "rate":
        if start is None or start >= now:
            nominal: int | None = now if start is None else start
        else:
            nominal = next_rate(expr.interval_ms, start, now - 1)
    else:
        nominal = next_cron(expr.fields, max(now, start - 1) if start is not None else now, tz)
    return nominal if nominal is not None and (end is None or nominal < end) else None


def following(expr: Expression, tz: str, nominal: int, after: int, end: int | None) -> int | None:
    """The scheduled firing after the one at `nominal`, strictly after `after` (>= nominal): firings missed while
    nothing ran collapse into the firing that just happened."""
    if expr.kind == "at":
        return None
    if expr.kind == "rate":
        nxt: int | None = next_rate(expr.interval_ms, nominal, after)
    else:
        nxt = next_cron(expr.fields, max(nominal, after), tz)
    return nxt if nxt is not None and (end is None or nxt < end) else None


def window_offset(arn: str, nominal: int, window_minutes: int | None) -> int:
    """How long after its scheduled time a firing happens (ms, whole seconds, below the window)."""
    if not window_minutes:
        return 0
    digest = hashlib.sha256(f"{arn}|{nominal}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (window_minutes * 60) * 1000
