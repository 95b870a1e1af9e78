"""EventBridge PutEvents: each entry checked as AWS checks it (a refused entry fails alone, with its ErrorCode and
ErrorMessage, in the order of the request), and every accepted event committed and routed to its rules' targets in
one transaction before the answer.

An entry may name a bus of another account by ARN: the event goes there when that bus's policy lets the caller's
account put events on it (PutPermission), else the entry fails with AccessDeniedException."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.events import routing, store
from broker.services.events.errors import validation
from broker.services.events.names import bus_name, bus_of_arn
from broker.services.events.permission_operations import allows_put
from broker.storage.db import Tx

# "The total entry size must be less than 1MB" (the model's PutEvents documentation), sizes counted as "Calculating
# PutEvents event entry size" does: Time 14 bytes, the UTF-8 bytes of Source, DetailType, Detail and each Resource.
MAX_REQUEST_BYTES = 1024 * 1024
_TIME_BYTES = 14
MAX_DETAIL_TYPE = 128  # characters (PutEventsRequestEntry.DetailType)
MAX_DEPTH = 1000  # "PutEvents will only process nested JSON up to 1000 levels deep."
INT64 = (-(2**63), 2**63 - 1)  # the range of a JSON integer in Detail (PutEvents documentation)
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)  # strings (skipped) and brackets

# A detail as deep as AWS takes is parsed, matched and encoded by functions that recurse once per level: room for
# that above Python's default limit of 1000 frames (the depth itself is checked by _depth, not by this limit).
sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * MAX_DEPTH + 1000))


def entry_size(entry: dict[str, Any]) -> int:
    size = _TIME_BYTES if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key) is not None:
            size += len(str(entry[key]).encode())
    return size + sum(len(r.encode()) for r in entry.get("Resources") or [])


def _failure(code: str, message: str) -> dict[str, str]:
    return {"ErrorCode": code, "ErrorMessage": message}


def _invalid(member: str, reason: str) -> dict[str, str]:
    return _failure("InvalidArgument", f"Parameter {member} is not valid. Reason: {reason}")


_MALFORMED = _failure("MalformedDetail", "Detail is malformed.")


def _int64(text: str) -> int:
    value = int(text)
    if not INT64[0] <= value <= INT64[1]:
        raise ValueError(text)
    return value


def _depth(text: str) -> int:
    """How deep a JSON text nests arrays and objects (brackets inside strings do not count)."""
    depth = deepest = 0
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token in ("{", "["):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("}", "]"):
            depth -= 1
    return deepest


def _check(entry: dict[str, Any]) -> tuple[dict[str, str] | None, Any]:
    """(the entry's failure, or None and its parsed Detail)."""
    for member in ("Source", "DetailType", "Detail"):
        if not entry.get(member):
            return _invalid(member, f"{member} is a required argument."), None
    if len(entry["DetailType"]) > MAX_DETAIL_TYPE:
        return _invalid("DetailType", f"DetailType must be at most {MAX_DETAIL_TYPE} characters long."), None
    if str(entry["Source"]).startswith("aws."):
        return _failure("NotAuthorizedForSourceException", "Not authorized for the source."), None
    text = entry["Detail"]
    # Only a text with that many brackets can be too deep: the exact count is made for those alone.
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        return _MALFORMED, None
    try:
        detail = json.loads(text, parse_int=_int64)
    except ValueError:
        return _MALFORMED, None
    if not isinstance(detail, dict):
        return _MALFORMED, None
    return None, detail


def _bus(ctx: RequestContext, entry: dict[str, Any]) -> tuple[str, str] | dict[str, str]:
    """(owner's account, bus name) the entry goes to, or its failure: an ARN names its account and Region."""
    value = entry.get("EventBusName")
    if not value or not str(value).startswith("arn:"):
        return ctx.account, bus_name(entry)
    named = bus_of_arn(str(value))
    if named is None:
        return ctx.account, bus_name(entry)
    account, region, name = named
    if region != ctx.region:
        return _invalid("EventBusName", "Cross-region API call is not allowed.")
    return account, name


async def put_events(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    entries = p["Entries"]
    if sum(entry_size(e) for e in entries) >= MAX_REQUEST_BYTES:
        raise validation("Total size of the entries in the request is over the limit.")
    now = clock.now_ms()
    results: list[dict[str, str]] = []
    accepted: list[tuple[int, str, str, dict[str, Any]]] = []
    for entry in entries:
        failure, detail = _check(entry)
        target = _bus(ctx, entry) if failure is None else failure
        if isinstance(target, dict):  # the entry's failure
            results.append(target)
            continue
        when = entry.get("Time")
        event = routing.new_event(
            ctx.account,
            ctx.region,
            entry["Source"],
            entry["DetailType"],
            list(entry.get("Resources") or []),
            detail,
            now,
            routing.iso_time(int(when.timestamp() * 1000)) if when is not None else None,
        )
        accepted.append((len(results), target[0], target[1], event))
        results.append({"EventId": event["id"]})
    if accepted:
        denied = await ctx.env.db.write(_put, ctx.account, ctx.region, accepted, now)
        buses = {index: (owner, bus) for index, owner, bus, _ in accepted}
        for index in denied:
            owner, bus = buses[index]
            arn = routing.bus_arn(owner, ctx.region, bus)
            results[index] = _failure(
                "AccessDeniedException",
                f"User: {ctx.caller.arn} is not authorized to perform: events:PutEvents on resource: {arn} because "
                "no resource-based policy allows the events:PutEvents action",
            )
    failed = sum(1 for r in results if "ErrorCode" in r)
    return {"FailedEntryCount": failed, "Entries": results}


def _put(tx: Tx, caller: str, region: str, accepted: list[tuple[int, str, str, dict[str, Any]]], now: int) -> list[int]:
    """Writer thread: route the events the callers may put on their buses; the indexes of those refused (a bus of
    another account whose policy does not allow the caller)."""
    allowed: dict[tuple[str, str], bool] = {}
    events: list[tuple[str, str, dict[str, Any]]] = []
    denied: list[int] = []
    for index, owner, bus, event in accepted:
        key = (owner, bus)
        if key not in allowed:
            allowed[key] = owner == caller or allows_put(store.get_bus(tx.conn, owner, region, bus), caller, owner)
        if allowed[key]:
            events.append((owner, bus, event))
        else:
            denied.append(index)
    if events:
        routing.put_events(tx, region, events, now)
    return denied


HANDLERS = {"PutEvents": put_events}
