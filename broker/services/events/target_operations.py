"""EventBridge operations on a rule's targets: PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget.
Targets are stored as given (Input, InputPath, InputTransformer, RetryPolicy, DeadLetterConfig, parameters); at
most MAX_TARGETS per rule."""

from __future__ import annotations

import json
import re
from typing import Any

from broker import paging
from broker.context import RequestContext
from broker.services.events import store
from broker.services.events.errors import (
    invalid_input,
    invalid_input_path,
    limit_exceeded,
    rule_not_found,
)
from broker.services.events.names import MAX_TARGETS, bus_name, page_after

LIST_LIMIT = 100
# A JSONPath as InputPath and InputPathsMap take it: `$` then `.name` or `['name']` / `[n]` steps.
_JSON_PATH = re.compile(r"\$(?:\.[^.\[\]]+|\[(?:\d+|'[^']*')\])*")


def _check(target: dict[str, Any]) -> None:
    tid = target["Id"]
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except json.JSONDecodeError as e:
            raise invalid_input(tid, f"line: {e.lineno}, column: {e.colno}") from None
    if target.get("InputPath") is not None and not _JSON_PATH.fullmatch(target["InputPath"]):
        raise invalid_input_path(tid)
    transformer = target.get("InputTransformer")
    if transformer is not None:
        for path in (transformer.get("InputPathsMap") or {}).values():
            if not _JSON_PATH.fullmatch(path):
                raise invalid_input_path(tid)


async def put_targets(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    rule, bus = p["Rule"], bus_name(p)
    targets = p["Targets"]
    for target in targets:
        _check(target)
    # The last entry of a repeated Id wins, as each replaces the one before.
    docs = list({t["Id"]: t for t in targets}.values())
    outcome = await ctx.env.db.write(store.put_targets, ctx.account, ctx.region, bus, rule, docs, MAX_TARGETS)
    if outcome == "missing":
        raise rule_not_found(rule, bus)
    if outcome == "limit":
        raise limit_exceeded()
    return {"FailedEntryCount": 0, "FailedEntries": []}


async def remove_targets(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    rule, bus = p["Rule"], bus_name(p)
    if not await ctx.env.db.write(store.remove_targets, ctx.account, ctx.region, bus, rule, list(p["Ids"])):
        raise rule_not_found(rule, bus)
    return {"FailedEntryCount": 0, "FailedEntries": []}


async def list_targets_by_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    rule, bus = p["Rule"], bus_name(p)
    limit = p.get("Limit") or LIST_LIMIT
    after = page_after(p)
    if await ctx.env.db.read(store.get_rule, ctx.account, ctx.region, bus, rule) is None:
        raise rule_not_found(rule, bus)
    targets = await ctx.env.db.read(store.list_targets, ctx.account, ctx.region, bus, rule)
    rest = [t for t in targets if after is None or t["Id"] > after]
    out: dict[str, Any] = {"Targets": rest[:limit]}
    if len(rest) > limit:
        out["NextToken"] = paging.after_token(rest[limit - 1]["Id"])
    return out


async def list_rule_names_by_target(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    bus = bus_name(p)
    limit = p.get("Limit") or LIST_LIMIT
    after = page_after(p)
    names = await ctx.env.db.read(store.rule_names_by_target, ctx.account, ctx.region, bus, p["TargetArn"])
    rest = [n for n in names if after is None or n > after]
    out: dict[str, Any] = {"RuleNames": rest[:limit]}
    if len(rest) > limit:
        out["NextToken"] = paging.after_token(rest[limit - 1])
    return out


HANDLERS = {
    "PutTargets": put_targets,
    "RemoveTargets": remove_targets,
    "ListTargetsByRule": list_targets_by_rule,
    "ListRuleNamesByTarget": list_rule_names_by_target,
}
