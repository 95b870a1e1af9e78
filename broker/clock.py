"""The only source of "now" for everything AWS-visible.

In test mode the offset can be moved through /_broker/clock; the new offset is stored in the database and
broadcast to every process, so all workers agree on the time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

_offset_ms = 0


def now_ms() -> int:
    return int(time.time() * 1000) + _offset_ms


def offset_ms() -> int:
    return _offset_ms


def set_offset_ms(value: int) -> None:
    global _offset_ms
    _offset_ms = int(value)


def wall_ms() -> int:
    """Real time, never offset: for rates and leases, which the test clock must not distort."""
    return int(time.time() * 1000)


def to_datetime(ms: int) -> datetime:
    """Epoch milliseconds (as stored) as an aware UTC datetime (as the protocols render timestamps)."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_ms(value: datetime) -> int:
    """A datetime (as decoded from a request) as epoch milliseconds; naive values are local time, as Python reads
    them."""
    return int(value.timestamp() * 1000)
