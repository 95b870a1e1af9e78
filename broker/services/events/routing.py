"""Routing an accepted event, inside the transaction that accepted it: to the archives of its bus, then to every
enabled rule of the bus whose pattern matches, each rule's targets receiving the event as that target's
Input/InputPath/InputTransformer makes it (targets.deliver).

A bus's rules and targets are read once per event (one statement) and compiled once per process: the compiled
table is reused while the rows read are the same text."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from broker import ids
from broker.services.events import archives, delivery_store, store, transform
from broker.services.events.patterns import compile_pattern
from broker.services.events.targets import Delivery, deliver_many
from broker.services.events.transform import encode
from broker.storage.db import Tx

log = logging.getLogger("broker.events.routing")

ENABLED = frozenset({"ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"})
DEFAULT_RETRIES = 185
DEFAULT_MAX_AGE_S = 86_400
_MAX_CACHED = 10_000


@dataclass(frozen=True)
class Rule:
    name: str
    arn: str
    enabled: bool
    matches: Callable[[dict[str, Any]], bool] | None  # None: no EventPattern (a scheduled rule)
    targets: list[dict[str, Any]]


# Per process: compiled rules of a bus, kept with the rows they were built from.
_tables: dict[tuple[str, str, str], tuple[list[tuple[str, str, str | None]], list[Rule]]] = {}
_patterns: dict[str, Callable[[dict[str, Any]], bool]] = {}


def _matcher(text: str) -> Callable[[dict[str, Any]], bool]:
    found = _patterns.get(text)
    if found is None:
        if len(_patterns) >= _MAX_CACHED:
            _patterns.clear()
        found = _patterns[text] = compile_pattern(text)
    return found


def _rules(tx: Tx, account: str, region: str, bus: str) -> list[Rule]:
    rows = delivery_store.bus_rules(tx.conn, account, region, bus)
    key = (account, region, bus)
    cached = _tables.get(key)
    if cached is not None and cached[0] == rows:
        return cached[1]
    docs: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for name, doc, target in rows:
        entry = docs.setdefault(name, (json.loads(doc), []))
        if target is not None:
            entry[1].append(json.loads(target))
    table = []
    for name, (rule, targets) in docs.items():
        pattern = rule.get("EventPattern")
        table.append(
            Rule(name, rule["Arn"], rule.get("State") in ENABLED, _matcher(pattern) if pattern else None, targets)
        )
    if len(_tables) >= _MAX_CACHED:
        _tables.clear()
    _tables[key] = (rows, table)
    return table


def iso_time(ms: int) -> str:
    """An event's time as EventBridge writes it (seconds, UTC)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bus_arn(account: str, region: str, bus: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{bus}"


def new_event(
    account: str,
    region: str,
    source: str,
    detail_type: str,
    resources: list[str],
    detail: Any,
    now: int,
    time: str | None = None,
) -> dict[str, Any]:
    """An event in EventBridge's shape, with a fresh id."""
    return {
        "version": "0",
        "id": ids.uuid4(),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": time or iso_time(now),
        "region": region,
        "resources": resources,
        "detail": detail,
    }


def put_event(tx: Tx, account: str, region: str, bus: str, event: dict[str, Any], now: int, hops: int = 0) -> None:
    """An event arriving on a bus (PutEvents, another bus, a Lambda destination, Scheduler): archive, then route.
    `hops` counts bus-to-bus forwarding so that a cycle of buses ends. An event for a bus that does not exist is
    dropped (PutEvents accepts it, as AWS does)."""
    put_events(tx, region, [(account, bus, event)], now, hops)


def put_events(tx: Tx, region: str, events: list[tuple[str, str, dict[str, Any]]], now: int, hops: int = 0) -> None:
    """put_event() for several (bus owner's account, bus, event): each bus's rules are read once (and whether it
    exists with them), deliveries handed over together."""
    out: list[Delivery] = []
    tables: dict[tuple[str, str], list[Rule] | None] = {}
    for account, bus, event in events:
        key = (account, bus)
        if key not in tables:
            tables[key] = _table(tx, account, region, bus)
        table = tables[key]
        if table is None:
            log.info("Event %s dropped: event bus %s does not exist", event.get("id"), bus)
            continue
        archives.capture(tx, account, region, bus_arn(account, region, bus), event, now)
        if table:
            _route(out, table, account, region, event, pattern_view(event), now, None, hops)
    deliver_many(tx, out, now)


def _table(tx: Tx, account: str, region: str, bus: str) -> list[Rule] | None:
    """The bus's rules, None when the bus does not exist. A rule exists only on an existing bus, so the bus itself
    is looked up only when it has no rules."""
    table = _rules(tx, account, region, bus)
    if table or store.bus_exists(tx.conn, account, region, bus):
        return table
    return None


def route(
    tx: Tx, account: str, region: str, bus: str, event: dict[str, Any], now: int, rules: set[str] | None = None
) -> None:
    """Deliver to the targets of every enabled rule of the bus whose pattern matches (only the rules named in
    `rules`, when given: a replay's FilterArns). No archiving: replays use this."""
    out: list[Delivery] = []
    _route(out, _rules(tx, account, region, bus), account, region, event, pattern_view(event), now, rules, 0)
    deliver_many(tx, out, now)


def pattern_view(event: dict[str, Any]) -> dict[str, Any]:
    """The event as event patterns see it: its detail's fractional numbers as Decimals (built once per event and
    shared by its rules and archives)."""
    return {**event, "detail": _numbers(event.get("detail"))}


def _route(
    out: list[Delivery],
    table: list[Rule],
    account: str,
    region: str,
    event: dict[str, Any],
    view: dict[str, Any],
    now: int,
    only: set[str] | None,
    hops: int,
) -> None:
    event_json: str | None = None
    for rule in table:
        if not rule.enabled or rule.matches is None or not rule.targets:
            continue
        if only is not None and rule.name not in only and rule.arn not in only:
            continue
        if rule.matches(view):
            event_json = event_json or encode(event)
            _fire(out, account, region, rule, event, event_json, now, hops)


def fire_rule(tx: Tx, account: str, region: str, bus: str, rule: str, event: dict[str, Any], now: int) -> None:
    """Deliver to every target of one rule, whatever its pattern (a scheduled rule's "Scheduled Event"); only that
    rule and its targets are read."""
    doc = store.get_rule(tx.conn, account, region, bus, rule)
    if doc is None:
        return
    targets = store.list_targets(tx.conn, account, region, bus, rule)
    out: list[Delivery] = []
    _fire(out, account, region, Rule(rule, doc["Arn"], True, None, targets), event, encode(event), now, 0)
    deliver_many(tx, out, now)


def _fire(
    out: list[Delivery],
    account: str,
    region: str,
    rule: Rule,
    event: dict[str, Any],
    event_json: str,
    now: int,
    hops: int,
) -> None:
    ingested = iso_time(now)
    for target in rule.targets:
        out.append(delivery_for(account, region, rule, target, event, event_json, ingested, now, hops))


def delivery_for(
    account: str,
    region: str,
    rule: Rule,
    target: dict[str, Any],
    event: dict[str, Any],
    event_json: str,
    ingested: str,
    now: int,
    hops: int,
) -> Delivery:
    arn = target["Arn"]
    extra: dict[str, Any] = {"hops": hops} if hops else {}
    if ":event-bus/" in arn:
        body = event_json  # another bus receives the event itself
    else:
        body = transform.payload(target, event, rule.arn, rule.name, event_json, ingested)
    if target.get("HttpParameters"):
        extra["HttpParameters"] = target["HttpParameters"]
    retry = target.get("RetryPolicy") or {}
    retries, age = retry.get("MaximumRetryAttempts"), retry.get("MaximumEventAgeInSeconds")
    key_path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
    key = transform.select(event, key_path) if key_path else None
    return Delivery(
        account=account,
        region=region,
        origin="rule",
        source_arn=rule.arn,
        target_arn=arn,
        payload=body,
        event_id=str(event.get("id", "")),
        accepted_at=now,
        message_group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
        partition_key=key
        if isinstance(key, str)
        else (None if key is None or key is transform.MISSING else encode(key)),
        max_attempts=DEFAULT_RETRIES if retries is None else int(retries),
        max_age_s=DEFAULT_MAX_AGE_S if age is None else int(age),
        dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"),
        extra=extra,
    )


def _numbers(value: Any) -> Any:
    """The detail with its fractional numbers as Decimals, as the pattern grammar compares them."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value
