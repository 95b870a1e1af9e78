"""Pagination of SNS's List* operations: NextToken continues after the last item shown (paging.after_token), and
the store reads one item more than a page to tell whether there is a next one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from broker import paging
from broker.services.sns.errors import invalid_parameter

T = TypeVar("T")


def after_str(token: str | None, member: str = "NextToken") -> str | None:
    """The name or ARN a token continues after (None without a token)."""
    if not token:
        return None
    after = paging.after_of(token)
    if not isinstance(after, str):
        raise invalid_parameter(member)
    return after


def after_id(token: str | None, member: str = "NextToken") -> int:
    """The row id a token continues after (0 without a token)."""
    if not token:
        return 0
    after = paging.after_of(token)
    if not isinstance(after, int) or isinstance(after, bool):
        raise invalid_parameter(member)
    return after


def page(items: Sequence[T], limit: int, key: Callable[[T], str | int]) -> tuple[list[T], str | None]:
    """The first `limit` of `items` (at most `limit` + 1 read), and the token of the next page if there is one."""
    shown = list(items[:limit])
    return shown, paging.after_token(key(shown[-1])) if len(items) > limit else None
