"""Positions in a log: an event's place is (timestamp, row id), the order GetLogEvents and FilterLogEvents read in.

AWS's eventIds and GetLogEvents tokens are 56-digit numbers whose high bits are the event's timestamp; ours are
`timestamp << 144 | row id`, so they sort like the events. GetLogEvents tokens are `f/<digits>/s` (events after
the position) and `b/<digits>/s` (events before it). FilterLogEvents tokens are opaque (paging.encode).
"""

from __future__ import annotations

from typing import NamedTuple

from broker import paging

ID_BITS = 144
ID_MASK = (1 << ID_BITS) - 1
# Bound for values bound to SQL (BIGINT): no stored timestamp or row id comes near it.
SQL_MAX = 1 << 62


class Position(NamedTuple):
    time: int
    id: int

    @property
    def number(self) -> int:
        return (self.time << ID_BITS) | self.id

    def after(self) -> Position:
        """The position just after this one (an exclusive bound that includes this event)."""
        return Position(self.time, self.id + 1) if self.id < ID_MASK else Position(self.time + 1, 0)

    def before(self) -> Position:
        return Position(self.time, self.id - 1) if self.id > 0 else Position(self.time - 1, ID_MASK)

    def sql(self) -> tuple[int, int]:
        """(time, id) clamped to what a BIGINT holds; no event sits beyond the clamp."""
        return max(min(self.time, SQL_MAX), -SQL_MAX), max(min(self.id, SQL_MAX), -1)


def from_number(n: int) -> Position:
    return Position(n >> ID_BITS, n & ID_MASK)


def event_id(time: int, row_id: int) -> str:
    return f"{Position(time, row_id).number:056d}"


def get_token(direction: str, pos: Position) -> str:
    """A GetLogEvents token: direction "f" (events after pos) or "b" (events before pos)."""
    return f"{direction}/{max(pos.number, 0):056d}/s"


def parse_get_token(token: str) -> tuple[str, Position] | None:
    parts = token.split("/")
    if len(parts) not in (2, 3) or parts[0] not in ("f", "b") or (len(parts) == 3 and parts[2] != "s"):
        return None
    digits = parts[1]
    if not digits.isascii() or not digits.isdigit() or len(digits) > 60:
        return None
    pos = from_number(int(digits))
    if pos.time > SQL_MAX:
        return None
    return parts[0], pos


def filter_token(descending: bool, pos: Position) -> str:
    """A FilterLogEvents nextToken: continue after `pos` in the request's direction."""
    return paging.encode({"v": 1, "d": int(descending), "t": pos.time, "i": pos.id})


def parse_filter_token(token: str) -> tuple[bool, Position] | None:
    state = paging.decode(token)
    if state is None or state.get("v") != 1:
        return None
    d, t, i = state.get("d"), state.get("t"), state.get("i")
    if d not in (0, 1) or not isinstance(t, int) or not isinstance(i, int) or isinstance(t, bool):
        return None
    if abs(t) > SQL_MAX or not 0 <= i <= ID_MASK:
        return None
    return bool(d), Position(t, i)
