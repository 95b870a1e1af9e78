"""EventBridge operations on rules: PutRule, DescribeRule, ListRules, EnableRule, DisableRule, DeleteRule and
TestEventPattern (the pattern grammar rules use). A rule's schedule (rule_schedules.py) changes in the
transaction that changes the rule."""

from __future__ import annotations

from typing import Any

from broker import clock, paging
from broker.context import RequestContext
from broker.services.events import rule_schedules, store
from broker.services.events.errors import (
    bus_not_found,
    invalid_schedule,
    pattern_or_schedule,
    rule_has_targets,
    rule_not_found,
    schedule_on_custom_bus,
)
from broker.services.events.names import bus_name, page_after, rule_arn
from broker.services.events.patterns import compile_pattern, parse_event
from broker.services.events.schedule import valid
from broker.services.events.store import DEFAULT_BUS
from broker.storage.db import Tx

LIST_LIMIT = 100
# A rule's members in the order DescribeRule answers them.
_MEMBERS = ("Name", "Arn", "EventPattern", "ScheduleExpression", "State", "Description", "RoleArn", "EventBusName")


async def put_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name, bus = p["Name"], bus_name(p)
    pattern, schedule = p.get("EventPattern"), p.get("ScheduleExpression")
    if not pattern and not schedule:
        raise pattern_or_schedule()
    if schedule:
        if bus != DEFAULT_BUS:
            raise schedule_on_custom_bus()
        if not valid(schedule, clock.now_ms()):
            raise invalid_schedule()
    if pattern:
        compile_pattern(pattern)
    arn = rule_arn(ctx, bus, name)
    doc: dict[str, Any] = {"Name": name, "Arn": arn}
    if pattern:
        doc["EventPattern"] = pattern
    if schedule:
        doc["ScheduleExpression"] = schedule
    doc["State"] = p.get("State") or "ENABLED"
    for key in ("Description", "RoleArn"):
        if p.get(key) is not None:
            doc[key] = p[key]
    doc["EventBusName"] = bus
    doc["Tags"] = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
    if await ctx.env.db.write(_put_rule, ctx.account, ctx.region, bus, name, doc) == "no_bus":
        raise bus_not_found(bus)
    return {"RuleArn": arn}


def _put_rule(tx: Tx, account: str, region: str, bus: str, name: str, doc: dict[str, Any]) -> str:
    old = store.get_rule(tx.conn, account, region, bus, name)
    outcome = store.put_rule(tx, account, region, bus, name, doc)
    if outcome == "ok":
        rule_schedules.sync(tx, account, region, bus, name, old, doc, clock.now_ms())
    return outcome


def _update_rule(tx: Tx, account: str, region: str, bus: str, name: str, changes: dict[str, Any]) -> bool:
    old = store.get_rule(tx.conn, account, region, bus, name)
    if not store.update_rule(tx, account, region, bus, name, changes):
        return False
    new = store.get_rule(tx.conn, account, region, bus, name)
    rule_schedules.sync(tx, account, region, bus, name, old, new, clock.now_ms())
    return True


def _rule_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in _MEMBERS if k in doc}


async def describe_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name, bus = p["Name"], bus_name(p)
    doc = await ctx.env.db.read(store.get_rule, ctx.account, ctx.region, bus, name)
    if doc is None:
        raise rule_not_found(name, bus)
    return {**_rule_view(doc), "CreatedBy": ctx.account}


async def list_rules(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    bus = bus_name(p)
    limit = p.get("Limit") or LIST_LIMIT
    after = page_after(p)
    if not await ctx.env.db.read(store.bus_exists, ctx.account, ctx.region, bus):
        raise bus_not_found(bus)
    rows = await ctx.env.db.read(store.list_rules, ctx.account, ctx.region, bus, p.get("NamePrefix"), after, limit + 1)
    page = rows[:limit]
    out: dict[str, Any] = {"Rules": [_rule_view(d) for d in page]}
    if len(rows) > limit:
        out["NextToken"] = paging.after_token(page[-1]["Name"])
    return out


async def _set_state(ctx: RequestContext, p: dict[str, Any], state: str) -> dict[str, Any]:
    name, bus = p["Name"], bus_name(p)
    if not await ctx.env.db.write(_update_rule, ctx.account, ctx.region, bus, name, {"State": state}):
        raise rule_not_found(name, bus)
    return {}


async def enable_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _set_state(ctx, p, "ENABLED")


async def disable_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _set_state(ctx, p, "DISABLED")


async def delete_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    # Force concerns rules managed by AWS services (none exist here): it does not delete a rule's targets.
    bus = bus_name(p)
    outcome = await ctx.env.db.write(_delete_rule, ctx.account, ctx.region, bus, p["Name"])
    if outcome == "no_bus":
        raise bus_not_found(bus)
    if outcome == "targets":
        raise rule_has_targets()
    return {}


def _delete_rule(tx: Tx, account: str, region: str, bus: str, name: str) -> str:
    """A missing rule is no error (AWS's DeleteRule is idempotent); a missing bus is."""
    if not store.bus_exists(tx.conn, account, region, bus):
        return "no_bus"
    return store.delete_rule(tx, account, region, bus, name)


async def test_event_pattern(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    matches = compile_pattern(p["EventPattern"])
    return {"Result": matches(parse_event(p["Event"]))}


HANDLERS = {
    "PutRule": put_rule,
    "DescribeRule": describe_rule,
    "ListRules": list_rules,
    "EnableRule": enable_rule,
    "DisableRule": disable_rule,
    "DeleteRule": delete_rule,
    "TestEventPattern": test_event_pattern,
}
