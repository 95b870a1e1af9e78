"""Schedule expressions as PutRule accepts them: `rate(<value> <unit>)` and AWS's six-field
`cron(minutes hours day-of-month month day-of-week year)` (parsed by cron.py), and when a rule's schedule fires next.
Scheduled rules run in UTC. Like a cron's years, no firing lies past 2199: a rate whose first firing would is not
valid, and one that gets there ends."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from broker.services.events.cron import LAST_YEAR, next_cron, next_rate, parse_cron

_RATE = re.compile(r"rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
END_MS = int(datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp()) * 1000  # the end of the last year a cron names


def rate_ms(expression: str) -> int | None:
    """The interval of a valid `rate(...)` expression, None for anything else (also for an interval longer than
    all the time up to 2199, which no stored firing time could hold)."""
    rate = _RATE.fullmatch(expression)
    if rate is None:
        return None
    value, unit = int(rate.group(1)), rate.group(2)
    # AWS: a value of 1 takes the singular unit, any other the plural.
    if value <= 0 or (value == 1) != (not unit.endswith("s")):
        return None
    interval = value * _UNIT_MS[unit.rstrip("s")]
    return interval if interval < END_MS else None


def _before_end(at: int) -> int | None:
    return at if at < END_MS else None


def valid(expression: str, now: int = 0) -> bool:
    """Whether PutRule takes the expression at `now`: a rate must first fire before 2199 ends."""
    interval = rate_ms(expression)
    if interval is not None:
        return now + interval < END_MS
    if expression.startswith("cron(") and expression.endswith(")"):
        try:
            parse_cron(expression[5:-1])
        except ValueError:
            return False
        return True
    return False


def first_fire(expression: str, now: int) -> int | None:
    """When a rule's schedule fires first once it is created or enabled at `now`: a rate one interval later, a cron
    at its next time; None when it never will (its years are past)."""
    interval = rate_ms(expression)
    if interval is not None:
        return _before_end(now + interval)
    return next_cron(expression[5:-1], now)


def next_fire(expression: str, fired_at: int, now: int) -> int | None:
    """After the firing scheduled for `fired_at`, ran at `now` (later when the broker was down): the next firing after
    now. A rate keeps its cadence from `fired_at`; firings missed in between are not made up."""
    interval = rate_ms(expression)
    if interval is not None:
        return _before_end(next_rate(interval, fired_at, now))
    return next_cron(expression[5:-1], max(fired_at, now))
