"""IAM's pagination: MaxItems (default 100) and an opaque Marker; a truncated answer says IsTruncated and carries
the Marker of the next page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from broker import paging
from broker.services.iam.errors import invalid_marker

DEFAULT_MAX_ITEMS = 100
T = TypeVar("T")


def max_items(p: dict[str, Any]) -> int:
    return int(p.get("MaxItems", DEFAULT_MAX_ITEMS))


def after(p: dict[str, Any]) -> str | None:
    """The key a Marker continues after (InvalidInput for a marker this broker did not hand out)."""
    marker = p.get("Marker")
    if marker is None:
        return None
    value = paging.after_of(marker)
    if not isinstance(value, str):
        raise invalid_marker()
    return value


def result(member: str, items: list[Any], next_key: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {member: items, "IsTruncated": next_key is not None}
    if next_key is not None:
        out["Marker"] = paging.after_token(next_key)
    return out


def page(
    member: str, items: Sequence[T], p: dict[str, Any], key: Callable[[T], str], shown: Callable[[T], Any]
) -> dict[str, Any]:
    """One page of `items` (sorted by `key`, unique): those after the Marker, up to MaxItems."""
    start = after(p)
    rest = [item for item in items if start is None or key(item) > start]
    limit = max_items(p)
    taken = rest[:limit]
    more = len(rest) > limit
    return result(member, [shown(item) for item in taken], key(taken[-1]) if more and taken else None)


def positional(member: str, items: Sequence[T], p: dict[str, Any], shown: Callable[[T], Any]) -> dict[str, Any]:
    """One page of a list kept in its own order (tags, versions): the Marker holds the position."""
    start = after(p)
    if start is not None and not (start.isascii() and start.isdigit()):
        raise invalid_marker()
    offset = int(start) if start is not None else 0
    limit = max_items(p)
    taken = items[offset : offset + limit]
    more = offset + limit < len(items)
    return result(member, [shown(item) for item in taken], str(offset + limit) if more else None)
