"""Asynchronous invocation settings per function version or alias (kind "event-invoke" configurations, $LATEST
for the unqualified function): retries, maximum event age and destinations, validated as Lambda validates them.
Here they are stored and answered; async_invoke.py applies them to asynchronous invocations."""

from __future__ import annotations

import re
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.lambda_ import arns, errors, store
from broker.services.lambda_.arns import function_arn
from broker.services.lambda_.common import page, qualifier_exists
from broker.services.lambda_.store import LATEST, Function
from broker.services.lambda_.wake import changed
from broker.storage.db import Tx

EVENT_INVOKE = "event-invoke"
SETTINGS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
DESTINATION_SERVICES = frozenset({"sqs", "sns", "events", "lambda"})
_FUNCTION_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[^:]+):(?P<account>\d{12}):function:(?P<name>[a-zA-Z0-9-_]+)(?::.+)?"
)


def _order(qualifier: str) -> str:
    """Listing order: $LATEST, then versions by number, then aliases by name."""
    if qualifier == LATEST:
        return "0"
    if qualifier.isdigit():
        return f"1{int(qualifier):012d}"
    return f"2{qualifier}"


def _answer(config: dict[str, Any]) -> dict[str, Any]:
    out = dict(config)
    out["LastModified"] = clock.to_datetime(int(config["LastModified"]))
    return out


async def _check_destinations(ctx: RequestContext, fn: Function, destinations: dict[str, Any]) -> None:
    success = (destinations.get("OnSuccess") or {}).get("Destination")
    failure = (destinations.get("OnFailure") or {}).get("Destination")
    invalid = False
    for arn in (failure, success):
        if not arn:
            continue
        service = arn.split(":")[2] if arn.startswith("arn:") and arn.count(":") >= 2 else ""
        if service not in DESTINATION_SERVICES:
            invalid = True
            continue
        if service == "lambda":
            m = _FUNCTION_ARN.fullmatch(arn)
            if m is None or (m["account"], m["region"]) != (fn.account, fn.region):
                raise errors.invalid_parameter(f"The destination ARN {arn} is invalid.")
            if m["name"] == fn.name:
                raise errors.invalid_parameter("You can't specify the function as a destination for itself.")
            if await ctx.env.db.read(store.get_function, fn.account, fn.region, m["name"]) is None:
                raise errors.invalid_parameter(f"The destination ARN {arn} is invalid.")
    if invalid:
        on_success = f"OnSuccess(destination={success})" if success else "null"
        on_failure = f"OnFailure(destination={failure})" if failure else "null"
        raise errors.invalid_parameter(
            f"The provided destination config DestinationConfig(onSuccess={on_success}, onFailure={on_failure}) is "
            "invalid."
        )


def _destinations(given: dict[str, Any] | None, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """DestinationConfig as answered: both members, empty when unset."""
    base = current or {}
    given = given or {}
    return {
        "OnSuccess": dict(given["OnSuccess"]) if "OnSuccess" in given else dict(base.get("OnSuccess") or {}),
        "OnFailure": dict(given["OnFailure"]) if "OnFailure" in given else dict(base.get("OnFailure") or {}),
    }


def _require_setting(p: dict[str, Any]) -> None:
    if not any(k in p for k in SETTINGS):
        raise errors.invalid_parameter("You must specify at least one of error handling or destination setting.")


async def _target(ctx: RequestContext, p: dict[str, Any]) -> tuple[Function, str]:
    """For Put and Update: the function and its version or alias, which must exist."""
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"))
    fn = await ctx.env.db.read(store.get_function, ref.account, ref.region, ref.name)
    qualifier = ref.qualifier or LATEST
    if fn is None or not await qualifier_exists(ctx, fn, qualifier):
        raise errors.function_gone()
    return fn, qualifier


async def put_function_event_invoke_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _require_setting(p)
    fn, qualifier = await _target(ctx, p)
    if p.get("DestinationConfig"):
        await _check_destinations(ctx, fn, p["DestinationConfig"])
    config: dict[str, Any] = {
        "LastModified": clock.now_ms(),
        "FunctionArn": function_arn(fn.account, fn.region, fn.name, qualifier),
    }
    for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if key in p:
            config[key] = p[key]
    config["DestinationConfig"] = _destinations(p.get("DestinationConfig"))

    def write(tx: Tx) -> None:
        store.put_config(tx, fn.id, EVENT_INVOKE, qualifier, config)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)
    return _answer(config)


async def update_function_event_invoke_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _require_setting(p)
    fn, qualifier = await _target(ctx, p)
    if p.get("DestinationConfig"):
        await _check_destinations(ctx, fn, p["DestinationConfig"])

    def write(tx: Tx) -> dict[str, Any]:
        config = store.get_config(tx.conn, fn.id, EVENT_INVOKE, qualifier)
        if config is None:
            raise errors.no_event_invoke_config(function_arn(fn.account, fn.region, fn.name, qualifier))
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key in p:
                config[key] = p[key]
        if "DestinationConfig" in p:
            config["DestinationConfig"] = _destinations(p["DestinationConfig"], config.get("DestinationConfig"))
        config["LastModified"] = clock.now_ms()
        store.put_config(tx, fn.id, EVENT_INVOKE, qualifier, config)
        changed(tx, fn.account, fn.region, fn.name)
        return config

    return _answer(await ctx.env.db.write(write))


async def _existing(ctx: RequestContext, p: dict[str, Any]) -> tuple[Function, str]:
    """For Get and Delete: the function and qualifier of a configuration that exists."""
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"))
    qualifier = ref.qualifier or LATEST
    missing = errors.no_event_invoke_config(function_arn(ref.account, ref.region, ref.name, qualifier))
    fn = await ctx.env.db.read(store.get_function, ref.account, ref.region, ref.name)
    if fn is None or await ctx.env.db.read(store.get_config, fn.id, EVENT_INVOKE, qualifier) is None:
        raise missing
    return fn, qualifier


async def get_function_event_invoke_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn, qualifier = await _existing(ctx, p)
    config = await ctx.env.db.read(store.get_config, fn.id, EVENT_INVOKE, qualifier)
    if config is None:  # deleted in between
        raise errors.no_event_invoke_config(function_arn(fn.account, fn.region, fn.name, qualifier))
    return _answer(config)


async def delete_function_event_invoke_config(ctx: RequestContext, p: dict[str, Any]) -> None:
    fn, qualifier = await _existing(ctx, p)

    def write(tx: Tx) -> None:
        store.delete_config(tx, fn.id, EVENT_INVOKE, qualifier)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)


async def list_function_event_invoke_configs(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"])
    fn = await ctx.env.db.read(store.get_function, ref.account, ref.region, ref.name)
    if fn is None:
        raise errors.function_gone()
    configs = sorted(await ctx.env.db.read(store.list_configs, fn.id, EVENT_INVOKE), key=lambda qc: _order(qc[0]))
    listed, marker = page(configs, lambda qc: _order(qc[0]), p.get("Marker"), p.get("MaxItems"))
    out: dict[str, Any] = {"FunctionEventInvokeConfigs": [_answer(c) for _, c in listed]}
    if marker:
        out["NextMarker"] = marker
    return out


HANDLERS = {
    "PutFunctionEventInvokeConfig": put_function_event_invoke_config,
    "UpdateFunctionEventInvokeConfig": update_function_event_invoke_config,
    "GetFunctionEventInvokeConfig": get_function_event_invoke_config,
    "DeleteFunctionEventInvokeConfig": delete_function_event_invoke_config,
    "ListFunctionEventInvokeConfigs": list_function_event_invoke_configs,
}
