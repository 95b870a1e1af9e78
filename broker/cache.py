"""A small per-process cache of definitions (queues, topics) kept coherent across processes: every change wakes its
key at commit, which drops the entry in every process; entries also expire after a couple of seconds as a safety net.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

V = TypeVar("V")

CACHE_TTL = 2.0


class TtlCache(Generic[V]):
    """Entries keyed by their notifier key (all sharing `prefix`); `prefix + "*"` drops them all."""

    def __init__(self, prefix: str, ttl: float = CACHE_TTL) -> None:
        self.prefix = prefix
        self.ttl = ttl
        self._entries: dict[str, tuple[V, float]] = {}

    def get(self, key: str) -> V | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if time.monotonic() - hit[1] > self.ttl:
            del self._entries[key]
            return None
        return hit[0]

    async def get_or_load(self, key: str, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached entry, or what `load` finds (kept when found); None when nothing is there."""
        value = self.get(key)
        if value is None:
            value = await load()
            if value is not None:
                self.put(key, value)
        return value

    def put(self, key: str, value: V) -> None:
        self._entries[key] = (value, time.monotonic())

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def on_notify(self, key: str) -> None:
        if key == self.prefix + "*":
            self._entries.clear()
        else:
            self.drop(key)
