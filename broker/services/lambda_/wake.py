"""Change notifications of functions: every worker drops its cached copy when a function changes anywhere."""

from __future__ import annotations

from broker.storage.db import Tx

CACHE_PREFIX = "lambda:cache:"


def function_key(account: str, region: str, name: str) -> str:
    return f"{account}:{region}:{name}"


def changed(tx: Tx, account: str, region: str, name: str) -> None:
    """Wake the function's cache entries in every process once this transaction commits."""
    tx.wake(CACHE_PREFIX + function_key(account, region, name))
