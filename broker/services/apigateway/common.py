"""What the REST API operations share: finding an API (AWS's NotFoundException text), reading, replacing and
deleting a stored object or answering its kind's NotFoundException, stored times (epoch seconds) and their
answered form, and paging lists as API Gateway does (`position` and `limit`, 25 items by default, at most 500)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from broker import clock, paging
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import errors, store
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

T = TypeVar("T")
DEFAULT_LIMIT, MAX_LIMIT = 25, 500


async def rest_api(ctx: RequestContext, api_id: str) -> Doc:
    found = await ctx.env.db.read(store.get, ctx.account, ctx.region, store.REST_API, "", api_id)
    if found is None:
        raise errors.api_not_found(ctx.account, api_id)
    return found


def now() -> float:
    """The broker clock's time as stored: epoch seconds."""
    return clock.now_ms() / 1000


def when(seconds: Any) -> Any:
    """A stored time (epoch seconds) as answered: a timestamp."""
    return clock.to_datetime(int(float(seconds) * 1000))


async def stored(
    ctx: RequestContext, kind: str, parent: str, object_id: str, not_found: Callable[[], ServiceError]
) -> Doc:
    """The stored object, else its kind's NotFoundException."""
    found = await ctx.env.db.read(store.get, ctx.account, ctx.region, kind, parent, object_id)
    if found is None:
        raise not_found()
    return found


async def replace(
    ctx: RequestContext, kind: str, parent: str, object_id: str, doc: Doc, not_found: Callable[[], ServiceError]
) -> None:
    """Store a changed object, unless it was deleted since it was read (its kind's NotFoundException)."""

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, kind, parent, object_id) is None:
            raise not_found()
        store.put(tx, ctx.account, ctx.region, kind, parent, object_id, doc)

    await ctx.env.db.write(write)


async def delete(
    ctx: RequestContext, kind: str, parent: str, object_id: str, not_found: Callable[[], ServiceError]
) -> None:
    """Remove a stored object; its kind's NotFoundException when there is none."""

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, kind, parent, object_id) is None:
            raise not_found()
        store.remove(tx, ctx.account, ctx.region, kind, parent, [object_id])

    await ctx.env.db.write(write)


def items_after(items: list[T], key: Callable[[T], str], token: str, invalid: str) -> list[T]:
    """The items after a paging token this broker gave (v1's position, v2's NextToken); `invalid` is the
    BadRequestException text for any other token."""
    after = paging.after_of(token)
    if not isinstance(after, str):
        raise errors.bad_request(invalid)
    return [i for i in items if key(i) > after]


def page(items: list[T], key: Callable[[T], str], p: dict[str, Any]) -> dict[str, Any]:
    """{"items": ..., "position": ...} of the items after `position` (a token this broker gave)."""
    limit = p.get("limit")
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise errors.bad_request(f"The limit must be between 1 and {MAX_LIMIT}.")
    position = p.get("position")
    if position:
        items = items_after(items, key, position, "Invalid position parameter")
    n = limit or DEFAULT_LIMIT
    out: dict[str, Any] = {}
    if len(items) > n:
        items = items[:n]
        out["position"] = paging.after_token(key(items[-1]))
    out["items"] = items
    return out
