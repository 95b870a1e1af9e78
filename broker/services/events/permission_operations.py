"""EventBridge's event bus resource policy: PutPermission, RemovePermission (statements of the policy that lets
other accounts put events on a bus), UpdateEventBus, and `allows_put`, the check a cross-account PutEvents or
bus-to-bus delivery makes against the policy. The policy is kept on the bus's document (the `default` bus gets a
row the first time)."""

from __future__ import annotations

import json
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.events import store
from broker.services.events.errors import (
    bus_not_found,
    no_bus_policy,
    no_policy_statement,
    policy_too_long,
    validation,
)
from broker.services.events.names import bus_arn, bus_name
from broker.services.events.store import DEFAULT_BUS
from broker.storage.db import Tx

MAX_POLICY_BYTES = 10_240  # "The permission policy on the event bus cannot exceed 10 KB in size."
ACTION = "events:PutEvents"
_UPDATABLE = ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig")


def _statement(arn: str, p: dict[str, Any]) -> dict[str, Any]:
    principal = p["Principal"]
    statement: dict[str, Any] = {
        "Sid": p["StatementId"],
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
        "Action": p["Action"],
        "Resource": arn,
    }
    condition = p.get("Condition")
    if condition:
        statement["Condition"] = {condition["Type"]: {condition["Key"]: condition["Value"]}}
    return statement


def _put(tx: Tx, account: str, region: str, bus: str, arn: str, p: dict[str, Any]) -> str:
    """ "ok", "no_bus" or "too_long"."""
    doc = store.get_bus(tx.conn, account, region, bus)
    if doc is None:
        if bus != DEFAULT_BUS:
            return "no_bus"
        doc = {}
    policy: str
    if p.get("Policy") is not None:
        policy = p["Policy"]
    else:
        current: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
        if doc.get("Policy"):
            current = json.loads(doc["Policy"])
        statements = [s for s in current.get("Statement", []) if s.get("Sid") != p["StatementId"]]
        policy = json.dumps({**current, "Statement": [*statements, _statement(arn, p)]})
    if len(policy.encode()) > MAX_POLICY_BYTES:
        return "too_long"
    store.put_bus(tx, account, region, bus, {**doc, "Policy": policy, "LastModifiedTime": clock.now_ms()})
    return "ok"


async def put_permission(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    bus = bus_name(p)
    if p.get("Policy") is not None:
        if any(p.get(k) is not None for k in ("Action", "Principal", "StatementId", "Condition")):
            raise validation("Policy cannot be specified together with Action, Principal, StatementId or Condition.")
        try:
            document = json.loads(p["Policy"])
        except ValueError:
            raise validation("Policy is not a valid JSON document.") from None
        if not isinstance(document, dict) or "Statement" not in document:
            raise validation("Policy is not a valid JSON document.")
    else:
        missing = [k for k in ("Action", "Principal", "StatementId") if p.get(k) is None]
        if missing:
            raise validation(f"Parameter(s) {', '.join(missing)} must be specified.")
        if p["Action"] != ACTION:
            raise validation(f"Provided value in parameter 'action' is not supported: {p['Action']}.")
    outcome = await ctx.env.db.write(_put, ctx.account, ctx.region, bus, bus_arn(ctx, bus), p)
    if outcome == "no_bus":
        raise bus_not_found(bus)
    if outcome == "too_long":
        raise policy_too_long()
    return {}


def _remove(tx: Tx, account: str, region: str, bus: str, sid: str | None) -> str:
    """ "ok", "no_bus", "no_policy" or "no_statement"."""
    doc = store.get_bus(tx.conn, account, region, bus)
    if doc is None and bus != DEFAULT_BUS:
        return "no_bus"
    if doc is None or not doc.get("Policy"):
        return "ok" if sid is None else "no_policy"
    if sid is None:
        doc.pop("Policy")
    else:
        current = json.loads(doc["Policy"])
        statements = current.get("Statement", [])
        kept = [s for s in statements if s.get("Sid") != sid]
        if len(kept) == len(statements):
            return "no_statement"
        if kept:
            doc["Policy"] = json.dumps({**current, "Statement": kept})
        else:
            doc.pop("Policy")
    store.put_bus(tx, account, region, bus, {**doc, "LastModifiedTime": clock.now_ms()})
    return "ok"


async def remove_permission(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    bus = bus_name(p)
    remove_all = bool(p.get("RemoveAllPermissions"))
    sid = p.get("StatementId")
    if remove_all == (sid is not None):
        raise validation("Either StatementId or RemoveAllPermissions must be specified, not both.")
    outcome = await ctx.env.db.write(_remove, ctx.account, ctx.region, bus, None if remove_all else sid)
    if outcome == "no_bus":
        raise bus_not_found(bus)
    if outcome == "no_policy":
        raise no_bus_policy()
    if outcome == "no_statement":
        raise no_policy_statement()
    return {}


def _update(tx: Tx, account: str, region: str, bus: str, changes: dict[str, Any]) -> dict[str, Any] | None:
    doc = store.get_bus(tx.conn, account, region, bus)
    if doc is None:
        if bus != DEFAULT_BUS:
            return None
        doc = {}
    doc = {**doc, **changes, "LastModifiedTime": clock.now_ms()}
    store.put_bus(tx, account, region, bus, doc)
    return doc


async def update_event_bus(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    bus = bus_name(p, "Name")
    changes = {k: p[k] for k in _UPDATABLE if p.get(k) is not None}
    doc = await ctx.env.db.write(_update, ctx.account, ctx.region, bus, changes)
    if doc is None:
        raise bus_not_found(bus)
    return {"Arn": bus_arn(ctx, bus), "Name": bus, **{k: doc[k] for k in _UPDATABLE if k in doc}}


def allows_put(doc: dict[str, Any] | None, caller: str, owner: str) -> bool:
    """May account `caller` put events on a bus of account `owner` with this document? Its own account always
    may; another needs an Allow statement of the bus policy for events:PutEvents naming its account (or "*"
    without conditions: the broker knows no organizations, so an aws:PrincipalOrgID condition never holds)."""
    if caller == owner:
        return True
    if not doc or not doc.get("Policy"):
        return False
    try:
        statements = json.loads(doc["Policy"]).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    if isinstance(statements, dict):
        statements = [statements]
    for s in statements:
        actions = s.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        if s.get("Effect") != "Allow" or not any(a in (ACTION, "events:*") for a in actions) or s.get("Condition"):
            continue
        principal = s.get("Principal")
        named = principal.get("AWS") if isinstance(principal, dict) else principal
        names = [named] if isinstance(named, str) else named or []
        if any(n in ("*", caller, f"arn:aws:iam::{caller}:root") for n in names):
            return True
    return False


HANDLERS = {
    "PutPermission": put_permission,
    "RemovePermission": remove_permission,
    "UpdateEventBus": update_event_bus,
}
