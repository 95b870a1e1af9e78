"""The Lambda authorizers' result cache of one process: a result (the policy, principal and context) kept for the
authorizer's authorizerResultTtlInSeconds on the broker clock, keyed by API stage, authorizer and identity source
values. FlushStageAuthorizersCache broadcasts its stage's key: every process drops that stage's entries."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.cache import TtlCache
from broker.services.base import Slot

Doc = dict[str, Any]

PREFIX = "apigw-authz:"
MAX_ENTRIES = 10_000  # a bound on memory: expired entries go first, then the oldest


def stage_key(account: str, region: str, api_id: str, stage: str) -> str:
    """The notifier key of a stage's entries (what a flush broadcasts)."""
    return f"{PREFIX}{account}:{region}:{api_id}:{stage}"


def entry_key(stage: str, authorizer_id: str, identity: list[str]) -> str:
    """An entry under its stage's key (`stage` from stage_key); identity values are joined by NUL, which no header,
    query string or stage variable carries."""
    return f"{stage}\n{authorizer_id}\n" + "\0".join(identity)


class AuthorizerCache(TtlCache[Doc]):
    """Entries carry their own expiry (the broker clock, in ms) instead of the definition caches' fixed TTL."""

    def __init__(self) -> None:
        super().__init__(PREFIX)

    def get(self, key: str) -> Doc | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if clock.now_ms() >= hit[1]:
            del self._entries[key]
            return None
        return hit[0]

    def put(self, key: str, value: Doc) -> None:
        self.keep(key, value, 0)

    def keep(self, key: str, value: Doc, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            now = clock.now_ms()
            for k in [k for k, (_, expires) in self._entries.items() if expires <= now]:
                del self._entries[k]
            while len(self._entries) >= MAX_ENTRIES:
                del self._entries[next(iter(self._entries))]
        self._entries[key] = (value, float(clock.now_ms() + ttl_seconds * 1000))

    def on_notify(self, key: str) -> None:
        if key == self.prefix + "*":
            self._entries.clear()
            return
        stage = key + "\n"
        for k in [k for k in self._entries if k.startswith(stage)]:
            del self._entries[k]


AUTHORIZER_CACHE: Slot[AuthorizerCache] = Slot("apigateway.authorizer_cache")
