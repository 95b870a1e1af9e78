"""GetUsage and UpdateUsage: a usage plan's daily counts per API key ([used, remaining] for each day of a date
range, the remaining quota of each day's period after that day) and the grant of a key's remaining quota for the
current period. The counts are the rows the data plane writes (usage.py, usage_store.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.services.apigateway import common, errors, store, usage, usage_store
from broker.services.apigateway.key_operations import key_not_found, plan_not_found
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(name: str, value: Any) -> date:
    text = str(value or "")
    try:
        if DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise errors.bad_request(f"Invalid {name} specified: {text}. Must be in the format yyyy-MM-dd")


def _plan_and_keys(conn: Connection, account: str, region: str, plan_id: str) -> tuple[Doc, list[str]] | None:
    plan = store.get(conn, account, region, store.USAGE_PLAN, "", plan_id)
    if plan is None:
        return None
    return plan, [k["id"] for k in store.listing(conn, account, region, store.USAGE_PLAN_KEY, plan_id)]


def _values(plan: Doc, key_ids: list[str], rows: list[usage_store.Day], first: date, last: date) -> Doc:
    """{keyId: [[used, remaining] per day from first to last]}."""
    quota = plan.get("quota") or {}
    limit = usage.quota_limit(plan)
    by_key: dict[str, dict[str, usage_store.Day]] = {}
    for r in rows:
        by_key.setdefault(r.key_id, {})[r.day] = r
    out: Doc = {}
    for key_id in key_ids:
        own = by_key.get(key_id, {})
        series: list[list[int]] = []
        day, period, spent = usage.period_start(first, quota), None, 0
        while day <= last:
            start = usage.period_start(day, quota)
            if start != period:
                period, spent = start, 0
            row = own.get(day.isoformat())
            if row is not None:
                spent += row.used - row.adjust
            if day >= first:
                remaining = max(0, limit - spent) if quota.get("limit") is not None else 0
                series.append([row.used if row else 0, remaining])
            day += timedelta(days=1)
        out[key_id] = series
    return out


async def get_usage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    plan_id = p["usagePlanId"]
    first, last = _date("startDate", p.get("startDate")), _date("endDate", p.get("endDate"))
    if first > last:
        raise errors.bad_request("The start date must not be after the end date")
    found = await ctx.env.db.read(_plan_and_keys, ctx.account, ctx.region, plan_id)
    if found is None:
        raise plan_not_found()
    plan, key_ids = found
    if p.get("keyId") is not None:
        if p["keyId"] not in key_ids:
            raise key_not_found()
        key_ids = [p["keyId"]]
    paged = common.page(sorted(key_ids), lambda k: k, p)
    earliest = usage.period_start(first, plan.get("quota") or {})
    rows = await ctx.env.db.read(
        usage_store.days, ctx.account, ctx.region, plan_id, paged["items"], earliest.isoformat(), last.isoformat()
    )
    out: dict[str, Any] = {"usagePlanId": plan_id, "startDate": first.isoformat(), "endDate": last.isoformat()}
    if "position" in paged:
        out["position"] = paged["position"]
    out["items"] = _values(plan, paged["items"], rows, first, last)
    return out


def _remaining_value(operations: list[Doc]) -> int:
    """The value of the one `replace /remaining` operation UpdateUsage takes."""
    value: int | None = None
    for operation in operations:
        op, path = operation.get("op"), operation.get("path")
        if path != "/remaining":
            raise errors.bad_request(
                f"Invalid patch path '{path}' specified for op '{op}'. Must be one of: [/remaining]"
            )
        if op != "replace":
            raise errors.bad_request(f"Invalid patch operation specified. Must be 'replace' for path {path}")
        try:
            value = int(str(operation.get("value")))
        except ValueError:
            raise errors.bad_request(
                f"Invalid value '{operation.get('value')}' for path {path}: must be an integer"
            ) from None
        if value < 0:
            raise errors.bad_request("The remaining quota must not be negative")
    if value is None:
        raise errors.bad_request("Invalid patch operations specified. Must include a replace operation on /remaining")
    return value


async def update_usage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    plan_id, key_id = p["usagePlanId"], p["keyId"]
    wanted = _remaining_value(list(p.get("patchOperations") or []))
    day = usage.today()

    def write(tx: Tx) -> tuple[Doc, list[usage_store.Day], date]:
        found = _plan_and_keys(tx.conn, ctx.account, ctx.region, plan_id)
        if found is None:
            raise plan_not_found()
        plan, key_ids = found
        if key_id not in key_ids:
            raise key_not_found()
        quota = plan.get("quota")
        if quota is None or quota.get("limit") is None:
            raise errors.bad_request(f"Usage plan {plan_id} does not have a quota")
        start = usage.period_start(day, quota)
        args = (ctx.account, ctx.region, plan_id, [key_id], start.isoformat(), day.isoformat())
        remaining = int(quota["limit"]) - sum(r.used - r.adjust for r in usage_store.days(tx.conn, *args))
        if wanted != remaining:
            usage_store.grant(tx, ctx.account, ctx.region, plan_id, key_id, day.isoformat(), wanted - remaining)
        return plan, usage_store.days(tx.conn, *args), start

    plan, rows, start = await ctx.env.db.write(write)
    return {
        "usagePlanId": plan_id,
        "startDate": start.isoformat(),
        "endDate": day.isoformat(),
        "items": _values(plan, [key_id], rows, start, day),
    }


HANDLERS = {"GetUsage": get_usage, "UpdateUsage": update_usage}
