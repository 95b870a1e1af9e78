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

    async def load(self, key: str, fetch: Callable[[], Awaitable[V | None]]) -> V | None:
        """What `fetch` finds now, kept under `key` when found. Callers try `get` first: `cache.get(key) or await
        cache.load(key, ...)` costs a hit no coroutine and no closure."""
        value = await fetch()
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
