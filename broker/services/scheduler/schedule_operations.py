"""EventBridge Scheduler operations on schedules: CreateSchedule, GetSchedule, UpdateSchedule (replaces the whole
schedule, as AWS does: members left out return to their defaults), DeleteSchedule, ListSchedules. A schedule is a
document; its row's next_at is when it fires next (firing.py)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from broker import clock, paging
from broker.context import RequestContext
from broker.services.scheduler import errors, expressions, store, universal
from broker.services.scheduler.delivery import DEFAULT_MAX_AGE_S, DEFAULT_RETRY_ATTEMPTS
from broker.services.scheduler.names import group_name, schedule_arn
from broker.services.scheduler.store import DEFAULT_GROUP, Doc
from broker.services.scheduler.universal import is_universal
from broker.storage.db import Tx

LIST_LIMIT = 100
# Templated targets this endpoint delivers to (their ARN's service), and those whose Input must be JSON (Target.Input
# in the API reference); universal targets take JSON too.
_TEMPLATED = ("sqs", "sns", "lambda", "kinesis", "events")
_JSON_INPUT_SERVICES = ("lambda", "events")
_DATES = ("StartDate", "EndDate")
_OPTIONAL = ("Description", "KmsKeyArn")
START_GRACE_MS = 5 * 60_000  # a recurring schedule's StartDate may lie up to 5 minutes in the past


def _target(target: dict[str, Any]) -> dict[str, Any]:
    """The Target as stored and answered: checked, RetryPolicy's defaults filled in."""
    arn = target["Arn"]
    if is_universal(arn):
        universal.resolve(arn)
        needs_json = True
    else:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[2]:
            raise errors.invalid_target(arn)
        if parts[2] not in _TEMPLATED:
            raise errors.unsupported_templated_target(arn)
        if parts[2] == "events" and not target.get("EventBridgeParameters"):
            raise errors.event_bus_parameters_required(arn)
        needs_json = parts[2] in _JSON_INPUT_SERVICES
    if needs_json and target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError:
            raise errors.invalid_input(arn) from None
    retry = target.get("RetryPolicy") or {}
    return {
        **target,
        "RetryPolicy": {
            "MaximumEventAgeInSeconds": retry.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S),
            "MaximumRetryAttempts": retry.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS),
        },
    }


def _document(p: dict[str, Any], now: int) -> Doc:
    """A schedule's document from a Create/UpdateSchedule request; ValidationException for what AWS refuses."""
    expr = expressions.parse(p["ScheduleExpression"])
    zone = p.get("ScheduleExpressionTimezone") or "UTC"
    expressions.zone(zone)
    window = dict(p["FlexibleTimeWindow"])
    if window["Mode"] == "FLEXIBLE" and window.get("MaximumWindowInMinutes") is None:
        raise errors.window_required()
    if window["Mode"] == "OFF" and window.get("MaximumWindowInMinutes") is not None:
        raise errors.window_not_allowed()
    doc: Doc = {
        "ScheduleExpression": p["ScheduleExpression"],
        "ScheduleExpressionTimezone": zone,
        "State": p.get("State") or "ENABLED",
        "Target": _target(p["Target"]),
        "FlexibleTimeWindow": window,
        "ActionAfterCompletion": p.get("ActionAfterCompletion") or "NONE",
        "LastModificationDate": now,
    }
    for key in _DATES:
        if p.get(key) is not None:
            doc[key] = clock.to_ms(p[key])
    if "StartDate" in doc and "EndDate" in doc and doc["EndDate"] <= doc["StartDate"]:
        raise errors.end_before_start()
    # One-time schedules ignore StartDate and EndDate (API reference); a recurring one's must still be ahead.
    if expr.kind != "at":
        if doc.get("StartDate", now) < now - START_GRACE_MS:
            raise errors.start_too_early()
        if doc.get("EndDate", now + 1) <= now:
            raise errors.end_in_past()
    doc.update({key: p[key] for key in _OPTIONAL if p.get(key) is not None})
    if p.get("ClientToken"):
        doc["ClientToken"] = p["ClientToken"]
    return doc


def plan(arn: str, doc: Doc, now: int, pending: int | None = None) -> int | None:
    """Set the document's next scheduled firing (`_nominal`; `pending`, the firing an unchanged cadence had planned,
    is kept while it is still to come and before EndDate) and return the moment it fires (next_at: the scheduled
    time plus its flexible window offset), None when nothing will fire."""
    doc.pop("_complete", None)
    nominal: int | None = None
    end = doc.get("EndDate")
    expr = expressions.parse(doc["ScheduleExpression"])
    if doc["State"] == "ENABLED":
        if pending is not None and pending >= now:
            nominal = pending if end is None or pending < end else None
        else:
            nominal = expressions.first(expr, doc["ScheduleExpressionTimezone"], now, doc.get("StartDate"), end)
    doc["_nominal"] = nominal
    if nominal is None:
        waiting = doc["State"] == "ENABLED" and expr.kind != "at" and end is not None and end > now
        if waiting and doc["ActionAfterCompletion"] == "DELETE":
            doc["_complete"] = True
            return int(doc["EndDate"])  # nothing left to fire: deleted once its EndDate has come
        return None
    return nominal + expressions.window_offset(arn, nominal, doc["FlexibleTimeWindow"].get("MaximumWindowInMinutes"))


def _answer(arn: str, group: str, name: str, doc: Doc) -> dict[str, Any]:
    out: dict[str, Any] = {"Arn": arn, "GroupName": group, "Name": name}
    out.update({k: v for k, v in doc.items() if not k.startswith("_") and k != "ClientToken"})
    for key in (*_DATES, "CreationDate", "LastModificationDate"):
        if key in out:
            out[key] = clock.to_datetime(out[key])
    return out


# -- operations -----------------------------------------------------------------------------------------------------
async def create_schedule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    now = clock.now_ms()
    group, name = group_name(p), p["Name"]
    arn = schedule_arn(ctx, group, name)
    doc = _document(p, now)
    doc["CreationDate"] = now
    next_at = plan(arn, doc, now)
    outcome = await ctx.env.db.write(_create, ctx.account, ctx.region, group, name, doc, next_at)
    if outcome == "no_group":
        raise errors.group_not_found(group)
    if outcome == "exists":
        raise errors.schedule_exists(name)
    return {"ScheduleArn": arn}


def _create(tx: Tx, account: str, region: str, group: str, name: str, doc: Doc, next_at: int | None) -> str:
    outcome = store.insert_schedule(tx, account, region, group, name, doc, next_at)
    if outcome == "exists":
        # A retry of the same request (same ClientToken) succeeds, as AWS's idempotency promises.
        old = store.get_schedule(tx.conn, account, region, group, name)
        if old is not None and doc.get("ClientToken") and old.get("ClientToken") == doc["ClientToken"]:
            return "ok"
    return outcome


async def get_schedule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    group, name = group_name(p), p["Name"]
    doc = await ctx.env.db.read(store.get_schedule, ctx.account, ctx.region, group, name)
    if doc is None:
        raise errors.schedule_not_found(name)
    return _answer(schedule_arn(ctx, group, name), group, name, doc)


async def update_schedule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    now = clock.now_ms()
    group, name = group_name(p), p["Name"]
    arn = schedule_arn(ctx, group, name)
    doc = _document(p, now)
    if not await ctx.env.db.write(_update, ctx.account, ctx.region, group, name, arn, doc, now):
        raise errors.schedule_not_found(name)
    return {"ScheduleArn": arn}


def _update(tx: Tx, account: str, region: str, group: str, name: str, arn: str, doc: Doc, now: int) -> bool:
    # Locked (PostgreSQL): a firing committed in between would otherwise be planned again from the stale row.
    old = store.get_schedule(tx.conn, account, region, group, name, lock=tx.is_pg)
    if old is None:
        return False
    doc["CreationDate"] = old["CreationDate"]
    # A rate schedule whose timing did not change keeps its cadence (its next firing stays where it was).
    same = all(old.get(k) == doc.get(k) for k in ("ScheduleExpression", "StartDate", "ScheduleExpressionTimezone"))
    pending = old.get("_nominal") if same and old.get("State") == "ENABLED" else None
    store.replace_schedule(tx, account, region, group, name, doc, plan(arn, doc, now, pending))
    return True


async def delete_schedule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    group, name = group_name(p), p["Name"]
    if not await ctx.env.db.write(store.delete_schedule, ctx.account, ctx.region, group, name):
        raise errors.schedule_not_found(name)
    return {}


async def list_schedules(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = p.get("MaxResults") or LIST_LIMIT
    after: tuple[str, str] | None = None
    if p.get("NextToken") is not None:
        state = paging.after_of(p["NextToken"])
        if not (isinstance(state, list) and len(state) == 2 and all(isinstance(v, str) for v in state)):
            raise errors.invalid_next_token()
        after = (state[0], state[1])
    group = p.get("GroupName")
    args = (ctx.account, ctx.region, group, p.get("NamePrefix"), p.get("State"), after, limit + 1)
    rows = await ctx.env.db.read(_list, *args)
    if rows is None:
        raise errors.group_not_found(group or DEFAULT_GROUP)
    page = rows[:limit]
    out: dict[str, Any] = {
        "Schedules": [
            {
                "Arn": schedule_arn(ctx, g, n),
                "Name": n,
                "GroupName": g,
                "State": doc["State"],
                "CreationDate": clock.to_datetime(doc["CreationDate"]),
                "LastModificationDate": clock.to_datetime(doc["LastModificationDate"]),
                "Target": {"Arn": doc["Target"]["Arn"]},
            }
            for g, n, doc in page
        ]
    }
    if len(rows) > limit:
        out["NextToken"] = paging.encode({"after": [page[-1][0], page[-1][1]]})
    return out


def _list(
    conn: Connection,
    account: str,
    region: str,
    group: str | None,
    prefix: str | None,
    state: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[tuple[str, str, Doc]] | None:
    """Up to `limit` schedules in the State asked for (None: no such group)."""
    if group is not None and not store.group_exists(conn, account, region, group):
        return None
    out: list[tuple[str, str, Doc]] = []
    while len(out) < limit:
        rows = store.list_schedules(conn, account, region, group, prefix, after, limit)
        out.extend(row for row in rows if state is None or row[2]["State"] == state)
        if len(rows) < limit:
            break
        after = (rows[-1][0], rows[-1][1])
    return out[:limit]


HANDLERS = {
    "CreateSchedule": create_schedule,
    "GetSchedule": get_schedule,
    "UpdateSchedule": update_schedule,
    "DeleteSchedule": delete_schedule,
    "ListSchedules": list_schedules,
}
