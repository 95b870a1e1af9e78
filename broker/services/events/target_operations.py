"""EventBridge operations on a rule's targets: PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget.
Targets are stored as given (Input, InputPath, InputTransformer, RetryPolicy, DeadLetterConfig, parameters); at
most MAX_TARGETS per rule. PutTargets refuses, as AWS does, the whole request (ValidationException, none stored) for
a target whose ARN is malformed, a FIFO queue without SqsParameters, a kind of target that acts through a role
(Step Functions, CodeBuild, CodePipeline, ECS, Batch, API destinations, event buses of another account or Region)
without RoleArn, more than one of Input, InputPath and InputTransformer, or any of them for an event bus of another
account; AWS reports nothing of this per entry (FailedEntries is for concurrent modification)."""

from __future__ import annotations

import json
import re
from typing import Any

from broker import paging
from broker.context import RequestContext
from broker.services.events import store
from broker.services.events.errors import (
    bus_not_found,
    invalid_arn,
    invalid_input,
    invalid_input_path,
    limit_exceeded,
    rule_not_found,
    validation,
)
from broker.services.events.names import MAX_TARGETS, bus_name, bus_of_arn, page_after

LIST_LIMIT = 100
# A JSONPath as InputPath takes it: `$` then `.name` or `['name']` / `[n]` steps.
_JSON_PATH = re.compile(r"\$(?:\.[^.\[\]]+|\[(?:[0-9]+|'[^']*')\])*")
# InputPathsMap's values: "You must use JSON dot notation, not bracket notation" (InputTransformer) — names by dot
# only; array indices are supported ("Amazon EventBridge input transformation": dot notation, array indices, ...).
_DOT_PATH = re.compile(r"\$(?:\.[^.\[\]]+|\[[0-9]+\])*")
# arn:partition:service:region:account:resource (region and account may be empty, as for S3).
_ARN = re.compile(r"arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:(?:\d{12})?:.+")
# Targets EventBridge invokes through the target's role: without RoleArn AWS refuses them.
_ROLE_REQUIRED = frozenset({"states", "codebuild", "codepipeline", "ecs", "batch"})


def _check_kind(target: dict[str, Any], account: str, region: str) -> None:
    """`account` and `region`: the rule's, for telling a bus of another account or Region."""
    tid, arn = target["Id"], target["Arn"]
    if not _ARN.fullmatch(arn):
        raise invalid_arn(arn)
    service, resource = arn.split(":")[2], arn.split(":", 5)[5]
    if service == "sqs" and resource.endswith(".fifo") and target.get("SqsParameters") is None:
        raise validation(f"Parameter(s) SqsParameters must be specified for target: {tid}.")
    bus = bus_of_arn(arn)
    elsewhere = bus is not None and bus[:2] != (account, region)
    api_destination = service == "events" and resource.startswith("api-destination/")
    if (service in _ROLE_REQUIRED or api_destination or elsewhere) and not target.get("RoleArn"):
        raise validation(f"RoleArn is required for target {arn}.")
    inputs = sum(target.get(k) is not None for k in ("Input", "InputPath", "InputTransformer"))
    if inputs > 1:
        raise validation("Only one of Input, InputPath, or InputTransformer must be provided.")
    if inputs and bus is not None and bus[0] != account:  # PutTargets: not for an event bus of another account
        raise validation(f"Input, InputPath, and InputTransformer are not supported for target {arn}.")


def _check(target: dict[str, Any], account: str, region: str) -> None:
    tid = target["Id"]
    _check_kind(target, account, region)
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
            if not _DOT_PATH.fullmatch(path):
                raise validation(f"InputPathsMap for target {tid} is invalid.")


async def put_targets(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    rule, bus = p["Rule"], bus_name(p)
    targets = p["Targets"]
    for target in targets:
        _check(target, ctx.account, ctx.region)
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
    return _page("Targets", targets, [t["Id"] for t in targets], after, limit)


async def list_rule_names_by_target(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    bus = bus_name(p)
    limit = p.get("Limit") or LIST_LIMIT
    after = page_after(p)
    if not await ctx.env.db.read(store.bus_exists, ctx.account, ctx.region, bus):
        raise bus_not_found(bus)
    names = await ctx.env.db.read(store.rule_names_by_target, ctx.account, ctx.region, bus, p["TargetArn"])
    return _page("RuleNames", names, names, after, limit)


def _page(member: str, items: list[Any], keys: list[str], after: str | None, limit: int) -> dict[str, Any]:
    """One page of `items` (ascending by their `keys`) after the key `after`, with a NextToken when more follow."""
    rest = [(key, item) for key, item in zip(keys, items, strict=True) if after is None or key > after]
    out: dict[str, Any] = {member: [item for _, item in rest[:limit]]}
    if len(rest) > limit:
        out["NextToken"] = paging.after_token(rest[limit - 1][0])
    return out


HANDLERS = {
    "PutTargets": put_targets,
    "RemoveTargets": remove_targets,
    "ListTargetsByRule": list_targets_by_rule,
    "ListRuleNamesByTarget": list_rule_names_by_target,
}
