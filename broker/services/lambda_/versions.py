"""The invoke path's per-process cache of function versions (the function row with one version's configuration),
so that accepting or running an invocation reads no row. Every change of a function wakes its key at commit
(wake.changed), which drops the function's entry in every process; entries also expire after a couple of seconds."""

from __future__ import annotations

from broker.cache import TtlCache
from broker.context import RequestContext
from broker.services.base import Slot
from broker.services.lambda_ import store
from broker.services.lambda_.store import Version
from broker.services.lambda_.wake import CACHE_PREFIX, function_key

VERSIONS: Slot[TtlCache[dict[str, Version]]] = Slot("lambda.versions")  # per function: qualifier -> Version


def new_cache() -> TtlCache[dict[str, Version]]:
    return TtlCache(CACHE_PREFIX)


async def version(ctx: RequestContext, account: str, region: str, name: str, qualifier: str) -> Version | None:
    """A version ($LATEST or a number) as store.get_version reads it, from this process's cache when known."""
    cache = ctx.env.get(VERSIONS)
    key = CACHE_PREFIX + function_key(account, region, name)
    entry = cache.get(key)
    if entry is None:
        entry = {}
        cache.put(key, entry)
    found = entry.get(qualifier)
    if found is None:
        found = await ctx.env.db.read(store.get_version, account, region, name, qualifier)
        if found is not None:
            entry[qualifier] = found  # a change during the read dropped `entry` from the cache: no stale hit
    return found
