"""Schedule expressions as PutRule accepts them: `rate(<value> <unit>)` and AWS's six-field
`cron(minutes hours day-of-month month day-of-week year)`, where one of day-of-month and day-of-week is `?`."""

from __future__ import annotations

import re

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    if text.upper() in names:
        return True
    return text.isdigit() and low <= int(text) <= high


def _range(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    """`v`, `a-b`, `*`, each optionally `/step`."""
    base, slash, step = text.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return False
    if base == "*":
        return True
    first, dash, last = base.partition("-")
    if dash:
        return _value(first, low, high, names) and _value(last, low, high, names)
    return _value(base, low, high, names)


def _field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> bool:
    return bool(text) and all(_range(part, low, high, names) for part in text.split(","))


def _day_of_month(text: str) -> bool:
    if text in ("?", "L", "LW"):
        return True
    if text.endswith("W") and text[:-1].isdigit():
        return 1 <= int(text[:-1]) <= 31
    return _field(text, 1, 31)


def _day_of_week(text: str) -> bool:
    if text in ("?", "L"):
        return True
    if "#" in text:
        day, _, nth = text.partition("#")
        return _value(day, 1, 7, _DAYS) and nth.isdigit() and 1 <= int(nth) <= 5
    if text.endswith("L") and len(text) > 1:
        return _value(text[:-1], 1, 7, _DAYS)
    return _field(text, 1, 7, _DAYS)


def _cron(body: str) -> bool:
    fields = body.split()
    if len(fields) != 6:
        return False
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):  # exactly one of them is '?'
        return False
    return (
        _field(minutes, 0, 59)
        and _field(hours, 0, 23)
        and _day_of_month(dom)
        and _field(month, 1, 12, _MONTHS)
        and _day_of_week(dow)
        and _field(year, 1970, 2199)
    )


def valid(expression: str) -> bool:
    rate = _RATE.fullmatch(expression)
    if rate is not None:
        value, unit = int(rate.group(1)), rate.group(2)
        # AWS: a value of 1 takes the singular unit, any other the plural.
        return value > 0 and (value == 1) == (not unit.endswith("s"))
    if expression.startswith("cron(") and expression.endswith(")"):
        return _cron(expression[5:-1])
    return False
