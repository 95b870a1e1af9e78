"""Pages of a console list: a view lists the names (one cheap listing) and then asks for the details (attributes,
stages, shards) of one page of them only, so a refresh of an account with a thousand queues costs 50 lookups, not a
thousand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

PAGE_SIZE = 50

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Pager:
    """Page `number` (from 1) of `total` items."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def current(self) -> int:
        """`number`, brought within the pages there are (a list may have shrunk since the link was made)."""
        return min(max(self.number, 1), self.pages)

    @property
    def first_item(self) -> int:
        return (self.current - 1) * self.size

    def of(self, items: Sequence[T]) -> list[T]:
        return list(items[self.first_item : self.first_item + self.size])


def page_number(text: str | None) -> int:
    """The `p` query parameter as a page number (1 when absent or not a number)."""
    return int(text) if text and text.isdigit() and len(text) < 7 else 1
