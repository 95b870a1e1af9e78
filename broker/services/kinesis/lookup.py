"""Finding the stream a request names (StreamARN wins over StreamName) through the per-process stream cache, and the
checks of its status that operations need before they read or change it."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.auth.resource_policy import crosses, denial, not_authorized
from broker.context import RequestContext
from broker.services.kinesis import store
from broker.services.kinesis.errors import access_denied, invalid, stream_not_active, stream_not_found
from broker.services.kinesis.streams import STREAMS, Stream, cache_key, parse_arn, stream_arn


def name_of(ctx: RequestContext, p: dict[str, Any]) -> tuple[str, str, str]:
    """(account, region, name) from StreamARN (wins) or StreamName."""
    arn, name = p.get("StreamARN"), p.get("StreamName")
    if arn:
        region, account, arn_name = parse_arn(arn)
        if name and name != arn_name:
            raise invalid(f"StreamARN {arn} and StreamName {name} do not name the same stream.")
        return account, region, arn_name
    if not name:
        raise invalid("Either StreamName or StreamARN must be provided.")
    return ctx.account, ctx.region, name


async def load(
    ctx: RequestContext, account: str, region: str, name: str, fresh: bool = False, action: str | None = None
) -> Stream:
    """The stream `name` of `account`. With auth = "sigv4", the caller may act on it (see `authorize`)."""
    stream = await find(ctx, account, region, name, fresh)
    if ctx.authenticated:
        authorize(ctx, account, region, name, stream, action)
    if stream is None:
        raise stream_not_found(name, account)
    return stream


async def find(ctx: RequestContext, account: str, region: str, name: str, fresh: bool = False) -> Stream | None:
    """The stream `name` of `account` through the per-process cache (None: there is none), unchecked."""
    cache = ctx.env.get(STREAMS)
    key = cache_key(account, region, name)
    return (None if fresh else cache.get(key)) or await cache.load(
        key, lambda: ctx.env.db.read(store.get_stream, account, region, name)
    )


def authorize(
    ctx: RequestContext, account: str, region: str, name: str, stream: Stream | None, action: str | None
) -> None:
    """A verified caller of another account may call an `action` a stream policy can grant ("kinesis:PutRecord")
    when the stream's policy grants it (AccessDeniedException otherwise, also for a stream that does not exist);
    to it, every other operation (`action` None) finds no stream. The owner's callers are refused only by an
    explicit Deny."""
    if action is None:
        if crosses(ctx, account):
            raise stream_not_found(name, account)
        return
    arn = stream_arn(region, account, name)
    reason = denial(ctx, account, stream.attrs.get("Policy") if stream else None, action, arn)
    if reason is not None:
        raise access_denied(not_authorized(ctx.caller, action, arn, reason))


async def resolve(ctx: RequestContext, p: dict[str, Any], fresh: bool = False, action: str | None = None) -> Stream:
    """The stream a request names. `fresh` skips the per-process cache (reads of definitions, changes); `action`:
    see `authorize`."""
    return await load(ctx, *name_of(ctx, p), fresh=fresh, action=action)


async def resolve_arn(ctx: RequestContext, arn: str, action: str | None = None) -> Stream:
    """The stream of a StreamARN (or ResourceARN) member, read fresh."""
    return await resolve(ctx, {"StreamARN": arn}, fresh=True, action=action)


async def active(ctx: RequestContext, p: dict[str, Any]) -> Stream:
    """A stream that accepts changes: ACTIVE, not CREATING or UPDATING."""
    s = await resolve(ctx, p, fresh=True)
    check_active(s, clock.now_ms())
    return s


def check_active(s: Stream, now: int) -> None:
    status = s.status_at(now)
    if status != "ACTIVE":
        raise stream_not_active(s.name, s.account, status)


def readable(s: Stream) -> Stream:
    if s.status_at(clock.now_ms()) == "CREATING":
        raise stream_not_found(s.name, s.account)
    return s
