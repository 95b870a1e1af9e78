"""What the REST API operations share: finding an API or a resource (AWS's NotFoundException texts), and paging
lists as API Gateway does (`position` and `limit`, 25 items by default, at most 500)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from broker import paging
from broker.context import RequestContext
from broker.services.apigateway import errors, store
from broker.services.apigateway.store import Doc

T = TypeVar("T")
DEFAULT_LIMIT, MAX_LIMIT = 25, 500


async def rest_api(ctx: RequestContext, api_id: str) -> Doc:
    found = await ctx.env.db.read(store.get, ctx.account, ctx.region, store.REST_API, "", api_id)
    if found is None:
        raise errors.api_not_found(ctx.account, api_id)
    return found


def page(items: list[T], key: Callable[[T], str], p: dict[str, Any]) -> dict[str, Any]:
    """{"items": ..., "position": ...} of the items after `position` (a token this broker gave)."""
    limit = p.get("limit")
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise errors.bad_request(f"The limit must be between 1 and {MAX_LIMIT}.")
    position = p.get("position")
    if position:
        after = paging.after_of(position)
        if not isinstance(after, str):
            raise errors.bad_request("Invalid position parameter")
        items = [i for i in items if key(i) > after]
    n = limit or DEFAULT_LIMIT
    out: dict[str, Any] = {}
    if len(items) > n:
        items = items[:n]
        out["position"] = paging.after_token(key(items[-1]))
    out["items"] = items
    return out
