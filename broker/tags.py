"""Tag changes as every service applies them: TagResource adds or overwrites, UntagResource removes, and the result
may hold at most the service's limit (each service answers its own error)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from broker.errors import ServiceError


def changed(
    tags: dict[str, str],
    add: dict[str, str],
    remove: Iterable[str],
    limit: int,
    too_many: Callable[[], ServiceError],
) -> dict[str, str]:
    removed = set(remove)
    out = {k: v for k, v in tags.items() if k not in removed}
    out.update(add)
    if len(out) > limit:
        raise too_many()
    return out
