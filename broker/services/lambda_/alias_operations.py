"""Aliases: names for a version, optionally routing a share of invocations to a second version."""

from __future__ import annotations

import re
from typing import Any

from broker import ids, paging
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.lambda_ import arns, common, errors, store
from broker.services.lambda_.functions import function
from broker.services.lambda_.store import LATEST, Function
from broker.services.lambda_.wake import changed
from broker.storage.db import Tx


def _alias_arn(fn: Function, name: str) -> str:
    return f"{fn.arn}:{name}"


def _missing(fn: Function, name: str) -> ServiceError:
    return errors.not_found(f"Cannot find alias arn: {_alias_arn(fn, name)}")


_WEIGHTS = "routingConfig.additionalVersionWeights"
_VERSION_KEY = re.compile(r"[0-9]+", re.ASCII)


def _java_double(value: float) -> str:
    """A double as Java prints it (AWS echoes values so): 0.5, 2.0, 1.0E-5."""
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa if '.' in mantissa else mantissa + '.0'}E{int(exponent)}"
    return text


def _check_weights(routing: dict[str, Any] | None) -> None:
    """The routing weights' keys (version numbers) and values (0.0 to 1.0), with AWS's texts: one failure for the
    whole map per kind, the map shown as Java prints it."""
    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    if not weights:
        return
    shown = "{" + ", ".join(f"{k}={_java_double(v)}" for k, v in weights.items()) + "}"
    failures = []
    if any(not 1 <= len(k) <= 1024 or not _VERSION_KEY.fullmatch(k) for k in weights):
        failures.append(
            f"Value '{shown}' at '{_WEIGHTS}' failed to satisfy constraint: Map keys must satisfy constraint: "
            "[Member must have length less than or equal to 1024, Member must have length greater than or equal "
            "to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]"
        )
    if any(not 0.0 <= v <= 1.0 for v in weights.values()):
        failures.append(
            f"Value '{shown}' at '{_WEIGHTS}' failed to satisfy constraint: Map value must satisfy constraint: "
            "[Member must have value less than or equal to 1.0, Member must have value greater than or equal to "
            "0.0, Member must not be null]"
        )
    common.validation(failures)


async def _check_versions(ctx: RequestContext, fn: Function, primary: str, routing: dict[str, Any] | None) -> None:
    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    for ver in [primary, *weights]:
        if ver != LATEST and await ctx.env.db.read(store.get_version, fn.account, fn.region, fn.name, ver) is None:
            raise errors.function_not_found(f"{fn.arn}:{ver}")
    if weights:
        if len(weights) > 1:
            raise errors.invalid_parameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
        if primary == LATEST or LATEST in weights:
            raise errors.invalid_parameter_untyped(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        if primary in weights:
            raise errors.invalid_parameter(
                f"Invalid function version {primary}. Function version {primary} is already included in routing "
                "configuration."
            )


def _config(fn: Function, name: str, version: str, description: str, routing: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AliasArn": _alias_arn(fn, name),
        "Name": name,
        "FunctionVersion": version,
        "Description": description,
    }
    if routing and routing.get("AdditionalVersionWeights"):
        out["RoutingConfig"] = {"AdditionalVersionWeights": routing["AdditionalVersionWeights"]}
    out["RevisionId"] = ids.uuid4()
    return out


async def create_alias(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _check_weights(p.get("RoutingConfig"))
    ref = arns.parse(ctx, p["FunctionName"])
    fn = await function(ctx, ref)
    name = p["Name"]
    if name == LATEST:
        raise errors.invalid_parameter("$LATEST is a reserved alias name.")
    await _check_versions(ctx, fn, p["FunctionVersion"], p.get("RoutingConfig"))
    config = _config(fn, name, p["FunctionVersion"], p.get("Description", ""), p.get("RoutingConfig"))

    def write(tx: Tx) -> bool:
        added = store.add_alias(tx, fn.id, name, config)
        if added:
            changed(tx, fn.account, fn.region, fn.name)
        return added

    if not await ctx.env.db.write(write):
        raise errors.conflict(f"Alias already exists: {_alias_arn(fn, name)}")
    return config


async def get_alias(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))
    found = await ctx.env.db.read(store.get_alias, fn.id, p["Name"])
    if found is None:
        raise _missing(fn, p["Name"])
    return found


async def update_alias(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _check_weights(p.get("RoutingConfig"))
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))
    name = p["Name"]
    current = await ctx.env.db.read(store.get_alias, fn.id, name)
    if current is None:
        raise errors.alias_not_found(_alias_arn(fn, name))  # GetAlias words it differently
    if p.get("RevisionId") is not None and p["RevisionId"] != current["RevisionId"]:
        raise errors.revision_mismatch()
    version = p.get("FunctionVersion", current["FunctionVersion"])
    routing = p["RoutingConfig"] if "RoutingConfig" in p else current.get("RoutingConfig")
    await _check_versions(ctx, fn, version, routing)
    config = _config(fn, name, version, p.get("Description", current["Description"]), routing)

    def write(tx: Tx) -> None:
        store.put_alias(tx, fn.id, name, config)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)
    return config


async def delete_alias(ctx: RequestContext, p: dict[str, Any]) -> None:
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))

    def write(tx: Tx) -> None:
        store.delete_alias(tx, fn.id, p["Name"])
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)  # deleting an alias that does not exist succeeds, as in Lambda


async def list_aliases(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))
    aliases = await ctx.env.db.read(store.list_aliases, fn.id)
    if p.get("FunctionVersion"):
        aliases = [a for a in aliases if a["FunctionVersion"] == p["FunctionVersion"]]
    if p.get("Marker"):
        after = common.after_name(p["Marker"])
        aliases = [a for a in aliases if a["Name"] > after]
    limit = int(p.get("MaxItems") or 50)
    out: dict[str, Any] = {}
    if len(aliases) > limit:
        aliases = aliases[:limit]
        out["NextMarker"] = paging.after_token(aliases[-1]["Name"])
    out["Aliases"] = aliases
    return out


HANDLERS = {
    "CreateAlias": create_alias,
    "GetAlias": get_alias,
    "UpdateAlias": update_alias,
    "DeleteAlias": delete_alias,
    "ListAliases": list_aliases,
}
