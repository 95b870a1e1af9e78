"""CloudWatch Logs operations on log events: PutLogEvents, GetLogEvents, FilterLogEvents, TestMetricFilter."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.logs import event_store, store
from broker.services.logs.errors import (
    descending_before_2024,
    event_too_large,
    group_not_found,
    invalid_filter_pattern,
    invalid_next_token,
    names_and_prefix,
    not_chronological,
    span_over_24_hours,
    stream_not_found,
    upload_too_large,
)
from broker.services.logs.event_store import EVENT_OVERHEAD, Event
from broker.services.logs.filter_pattern import InvalidFilterPattern, Pattern, compile_pattern
from broker.services.logs.groups import DAY_MS, group_name, sequence_token
from broker.services.logs.stream_operations import resolve_group
from broker.services.logs.tokens import (
    SQL_MAX,
    Position,
    event_id,
    filter_token,
    get_token,
    parse_filter_token,
    parse_get_token,
)

MAX_BATCH_BYTES = 1_048_576  # a PutLogEvents batch, and one event, counted with EVENT_OVERHEAD per event
MAX_PAGE_BYTES = 1_048_576  # a page of GetLogEvents / FilterLogEvents
DEFAULT_LIMIT = 10_000
HOUR_MS = 3_600_000
TOO_NEW_MS = 2 * HOUR_MS
TOO_OLD_MS = 14 * DAY_MS
MAX_SPAN_MS = 24 * HOUR_MS
# FilterLogEvents looks at most this many events per call (AWS too answers partial or empty pages with a token).
FILTER_BUDGET = 100_000
# startFromHead=false is served only for startTime on or after 2024-01-01T00:00:00Z (FilterLogEvents reference).
DESCENDING_FROM = 1_704_067_200_000


def _clamp(ms: int) -> int:
    return min(ms, SQL_MAX)


# -- PutLogEvents --------------------------------------------------------------------------------------------------
def _screen(events: list[dict[str, Any]], now: int, retention_days: int | None) -> tuple[int, int, dict[str, int]]:
    """Check a batch as AWS does; the slice of it to store and its rejectedLogEventsInfo. Events are in timestamp
    order, so the too old (and the expired) ones are a head of the batch and the too new ones its tail."""
    total = 0
    for e in events:
        size = len(e["message"].encode()) + EVENT_OVERHEAD
        if size > MAX_BATCH_BYTES:
            raise event_too_large(size, MAX_BATCH_BYTES)
        total += size
    if total > MAX_BATCH_BYTES:
        raise upload_too_large(total, MAX_BATCH_BYTES)
    times = [e["timestamp"] for e in events]
    if any(b < a for a, b in zip(times, times[1:], strict=False)):
        raise not_chronological()
    too_old = sum(1 for t in times if t < now - TOO_OLD_MS)
    expired = sum(1 for t in times if t < now - retention_days * DAY_MS) if retention_days is not None else 0
    too_new = next((i for i, t in enumerate(times) if t > now + TOO_NEW_MS), len(times))
    rejected: dict[str, int] = {}
    if too_new < len(times):
        rejected["tooNewLogEventStartIndex"] = too_new
    # End indexes are exclusive: events [0, end) were refused.
    if too_old:
        rejected["tooOldLogEventEndIndex"] = too_old
    if expired > too_old:
        rejected["expiredLogEventEndIndex"] = expired
    valid = times[too_old:too_new]  # AWS's "valid events": within 14 days back and 2 hours ahead
    if valid and valid[-1] - valid[0] > MAX_SPAN_MS:
        raise span_over_24_hours()
    return max(too_old, expired), too_new, rejected


async def put_log_events(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    group, stream = p["logGroupName"], p["logStreamName"]
    events: list[dict[str, Any]] = p["logEvents"]
    found_group, found_stream = await ctx.env.db.read(store.get_stream, ctx.account, ctx.region, group, stream)
    if found_group is None:
        raise group_not_found()
    if found_stream is None:
        raise stream_not_found()
    now = clock.now_ms()
    first, end, rejected = _screen(events, now, found_group.retention_days)
    appends = found_stream.appends
    accepted = [(e["timestamp"], e["message"]) for e in events[first:end]]
    if accepted:
        done = await ctx.env.db.write(store.append, ctx.account, ctx.region, group, stream, accepted, now)
        if done is None:  # deleted since the read above
            raise stream_not_found()
        appends = done
    # sequenceToken is accepted and ignored, as AWS does since 2023; the next one is still reported.
    out: dict[str, Any] = {"nextSequenceToken": sequence_token(appends)}
    if rejected:
        out["rejectedLogEventsInfo"] = rejected
    return out


# -- GetLogEvents --------------------------------------------------------------------------------------------------
def _fit(events: list[Event]) -> list[Event]:
    """The events, in the order read, that fit in one page (at least one)."""
    size = 0
    for i, e in enumerate(events):
        size += len(e.message.encode()) + EVENT_OVERHEAD
        if size > MAX_PAGE_BYTES and i > 0:
            return events[:i]
    return events


async def get_log_events(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = group_name(ctx, p)
    found_group, stream = (
        await ctx.env.db.read(store.get_stream, ctx.account, ctx.region, name, p["logStreamName"])
        if name is not None
        else (None, None)
    )
    if found_group is None:
        raise group_not_found()
    if stream is None:
        raise stream_not_found()
    lo = _clamp(p.get("startTime") or 0)
    hi = _clamp(p["endTime"]) if p.get("endTime") is not None else SQL_MAX  # endTime is exclusive here
    limit = p.get("limit") or DEFAULT_LIMIT
    token = p.get("nextToken")
    start: Position | None = None
    if token is not None:
        parsed = parse_get_token(token)
        if parsed is None:
            raise invalid_next_token()
        direction, start = parsed
        descending = direction == "b"
    else:
        descending = not p.get("startFromHead", False)
    read = await ctx.env.db.read(event_store.read_stream, stream.id, lo, hi, start, descending, limit)
    page = _fit(read)
    if descending:
        page.reverse()
    if page:
        forward, backward = get_token("f", page[-1].position), get_token("b", page[0].position)
    elif token is not None and start is not None:
        # Nothing further that way: the token passed comes back, as AWS does at either end of a stream.
        if descending:
            forward, backward = get_token("f", start.before()), token
        else:
            forward, backward = token, get_token("b", start.after())
    else:
        edge = Position(hi, 0) if descending else Position(lo, 0)
        forward, backward = get_token("f", edge.before()), get_token("b", edge)
    return {
        "events": [{"timestamp": e.time, "message": e.message, "ingestionTime": e.ingested_at} for e in page],
        "nextForwardToken": forward,
        "nextBackwardToken": backward,
    }


# -- FilterLogEvents -----------------------------------------------------------------------------------------------
def _pattern(text: str | None) -> Pattern:
    try:
        return compile_pattern(text)
    except InvalidFilterPattern:
        raise invalid_filter_pattern() from None


async def filter_log_events(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    names, prefix = p.get("logStreamNames"), p.get("logStreamNamePrefix")
    if names is not None and prefix is not None:
        raise names_and_prefix()
    pattern = _pattern(p.get("filterPattern"))
    group = await resolve_group(ctx, p)
    token = p.get("nextToken")
    start: Position | None = None
    if token is not None:
        parsed = parse_filter_token(token)
        if parsed is None:
            raise invalid_next_token()
        descending, start = parsed  # the token's direction wins over startFromHead
    else:
        descending = p.get("startFromHead") is False
        if descending and (p.get("startTime") is None or p["startTime"] < DESCENDING_FROM):
            raise descending_before_2024()
    lo = _clamp(p.get("startTime") or 0)
    hi = _clamp(p["endTime"]) if p.get("endTime") is not None else SQL_MAX  # endTime is inclusive here
    streams = await ctx.env.db.read(store.group_streams, group.id)
    if names is not None:
        wanted = set(names)
        chosen = {sid: n for sid, n in streams.items() if n in wanted}
    elif prefix is not None:
        chosen = {sid: n for sid, n in streams.items() if n.startswith(prefix)}
    else:
        chosen = streams  # also leaves out events of streams deleted and not yet swept
    if not chosen:
        return {"events": [], "searchedLogStreams": []}
    in_sql = list(chosen) if len(chosen) <= 500 and chosen is not streams else None

    def accept(event: Event) -> bool:
        return event.stream_id in chosen and pattern.matches(event.message)

    result = await ctx.env.db.read(
        event_store.filter_group,
        group.id,
        lo,
        hi,
        start,
        descending,
        in_sql,
        pattern.required_substrings(),
        accept,
        p.get("limit") or DEFAULT_LIMIT,
        MAX_PAGE_BYTES,
        FILTER_BUDGET,
    )
    out: dict[str, Any] = {
        "events": [
            {
                "logStreamName": chosen[e.stream_id],
                "timestamp": e.time,
                "message": e.message,
                "ingestionTime": e.ingested_at,
                "eventId": event_id(e.time, e.id),
            }
            for e in result.events
        ],
        # AWS stopped reporting searched streams in 2020; the member is an empty list.
        "searchedLogStreams": [],
    }
    if not result.exhausted and result.last is not None:
        out["nextToken"] = filter_token(descending, result.last)
    return out


# -- TestMetricFilter ----------------------------------------------------------------------------------------------
async def test_metric_filter(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    pattern = _pattern(p["filterPattern"])
    matches = [
        {"eventNumber": i, "eventMessage": message, "extractedValues": pattern.extracted(message)}
        for i, message in enumerate(p["logEventMessages"], 1)
        if pattern.matches(message)
    ]
    return {"matches": matches}


HANDLERS = {
    "PutLogEvents": put_log_events,
    "GetLogEvents": get_log_events,
    "FilterLogEvents": filter_log_events,
    "TestMetricFilter": test_metric_filter,
}
