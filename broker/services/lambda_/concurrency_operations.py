"""Concurrency: reserved concurrency of a function (lambda_functions.reserved_concurrency, which invocations honour
across workers through slot_store), provisioned concurrency per version or alias (kind "provisioned"
configurations; the engine's warm start reads them through config_store.provisioned_targets), and the account's
limits and usage (GetAccountSettings). AWS keeps at least 100 executions (or the whole limit, when that is
smaller) unreserved."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import Connection, text

from broker import clock
from broker.context import RequestContext
from broker.services.lambda_ import arns, config_store, errors, layer_store, store
from broker.services.lambda_.arns import function_arn
from broker.services.lambda_.common import is_version, page
from broker.services.lambda_.functions import function, last_modified
from broker.services.lambda_.store import LATEST, Function
from broker.services.lambda_.wake import changed
from broker.storage.db import Tx

PROVISIONED = config_store.PROVISIONED
MIN_UNRESERVED = 100
# Lambda's fixed account limits, in bytes.
TOTAL_CODE_SIZE = 80_530_636_800
CODE_SIZE_UNZIPPED = 262_144_000
CODE_SIZE_ZIPPED = 52_428_800


def _min_unreserved(limit: int) -> int:
    return min(MIN_UNRESERVED, limit)


def _lock_account(tx: Tx, account: str, region: str) -> None:
    """Serialize concurrency changes of one account's region (the same lock slot_store takes), so two requests
    cannot both take the last unreserved executions on PostgreSQL; SQLite's writes are serial already."""
    if tx.is_pg:
        tx.conn.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"lambda:{account}:{region}".encode())}
        )


def unreserved(conn: Connection, account: str, region: str, limit: int, excluding: int | None = None) -> int:
    """Executions left to functions without a reservation (the function `excluding` counted as having none)."""
    taken = store.reserved_total(conn, account, region, excluding)
    taken += config_store.provisioned_outside_reservations(conn, account, region, excluding)
    return limit - taken


def _provisioned_of(conn: Connection, fn: Function, skip: str | None = None) -> int:
    return sum(
        int(c["RequestedProvisionedConcurrentExecutions"])
        for q, c in store.list_configs(conn, fn.id, PROVISIONED)
        if q != skip
    )


# -- reserved concurrency -------------------------------------------------------------------------------------
def _unqualified(ctx: RequestContext, name: str) -> arns.FunctionRef:
    ref = arns.parse(ctx, name)
    if ref.qualifier:
        raise errors.invalid_parameter(
            "This operation is permitted on Lambda functions only. Aliases and versions do not support this "
            "operation. Please specify either a function name or an unqualified function ARN."
        )
    return ref


async def put_function_concurrency(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = _unqualified(ctx, p["FunctionName"])
    wanted = p["ReservedConcurrentExecutions"]
    limit = ctx.env.settings.lambda_account_concurrency

    def write(tx: Tx) -> None:
        fn = store.get_function(tx.conn, ref.account, ref.region, ref.name)
        if fn is None:
            raise errors.function_not_found(f"{ref.arn}:{LATEST}")
        _lock_account(tx, fn.account, fn.region)
        if unreserved(tx.conn, fn.account, fn.region, limit, excluding=fn.id) - wanted < _min_unreserved(limit):
            raise errors.invalid_parameter(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{_min_unreserved(limit)}]."
            )
        provisioned = _provisioned_of(tx.conn, fn)
        if provisioned > wanted:
            raise errors.invalid_parameter(
                f" ReservedConcurrentExecutions  {wanted} should not be lower than function's total provisioned "
                f"concurrency [{provisioned}]."
            )
        store.set_function_fields(tx, fn.id, reserved_concurrency=wanted)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)
    return {"ReservedConcurrentExecutions": wanted}


async def get_function_concurrency(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))
    if fn.reserved_concurrency is None:
        return {}
    return {"ReservedConcurrentExecutions": fn.reserved_concurrency}


async def delete_function_concurrency(ctx: RequestContext, p: dict[str, Any]) -> None:
    fn = await function(ctx, _unqualified(ctx, p["FunctionName"]))

    def write(tx: Tx) -> None:
        store.set_function_fields(tx, fn.id, reserved_concurrency=None)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)


# -- provisioned concurrency ----------------------------------------------------------------------------------
async def _target(ctx: RequestContext, p: dict[str, Any], latest_error: str) -> tuple[Function, str]:
    """The function and the version or alias a provisioned concurrency request names (AWS's errors for each)."""
    ref = arns.parse(ctx, p["FunctionName"], p["Qualifier"])
    qualifier = ref.qualifier or p["Qualifier"]
    if qualifier == LATEST:
        raise errors.invalid_parameter(latest_error)
    fn = await ctx.env.db.read(store.get_function, ref.account, ref.region, ref.name)
    arn = function_arn(ref.account, ref.region, ref.name, qualifier)
    if is_version(qualifier):
        if fn is None or await ctx.env.db.read(store.get_version, fn.account, fn.region, fn.name, qualifier) is None:
            raise errors.function_not_found(arn)
    elif fn is None or await ctx.env.db.read(store.get_alias, fn.id, qualifier) is None:
        raise errors.not_found(f"Cannot find alias arn: {arn}")
    assert fn is not None
    return fn, qualifier


def _answer(config: dict[str, Any], ready: bool) -> dict[str, Any]:
    n = int(config["RequestedProvisionedConcurrentExecutions"])
    return {
        "RequestedProvisionedConcurrentExecutions": n,
        "AvailableProvisionedConcurrentExecutions": n if ready else 0,
        "AllocatedProvisionedConcurrentExecutions": n if ready else 0,
        "Status": "READY" if ready else "IN_PROGRESS",
        "LastModified": config["LastModified"],
    }


async def put_provisioned_concurrency_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn, qualifier = await _target(
        ctx, p, "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    )
    wanted = p["ProvisionedConcurrentExecutions"]
    limit = ctx.env.settings.lambda_account_concurrency
    config = {"RequestedProvisionedConcurrentExecutions": wanted, "LastModified": last_modified(clock.now_ms())}

    def write(tx: Tx) -> None:
        _lock_account(tx, fn.account, fn.region)
        current = store.function_by_id(tx.conn, fn.id)
        if current is None:
            raise errors.function_not_found(fn.arn)
        configs = dict(store.list_configs(tx.conn, fn.id, PROVISIONED))
        if is_version(qualifier):
            pointing = [a["Name"] for a in store.list_aliases(tx.conn, fn.id) if a["FunctionVersion"] == qualifier]
            if any(name in configs for name in pointing):
                raise errors.conflict("Version is pointed by a Provisioned Concurrency alias")
        else:
            alias = store.get_alias(tx.conn, fn.id, qualifier)
            if alias is not None and alias["FunctionVersion"] in configs:
                raise errors.conflict(
                    "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
                )
        others = _provisioned_of(tx.conn, fn, skip=qualifier)
        reserved = current.reserved_concurrency
        if reserved is not None:
            if reserved < others + wanted:
                raise errors.invalid_parameter(
                    "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution "
                    "for function"
                )
        else:
            mine = int((configs.get(qualifier) or {}).get("RequestedProvisionedConcurrentExecutions", 0))
            free = unreserved(tx.conn, fn.account, fn.region, limit) + mine
            if wanted > free:
                raise errors.invalid_parameter(
                    "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency "
                    f"[{free}]."
                )
            if free - wanted < _min_unreserved(limit):
                raise errors.invalid_parameter(
                    "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
                    f"below its minimum value of [{_min_unreserved(limit)}]."
                )
        store.put_config(tx, fn.id, PROVISIONED, qualifier, config)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)
    return _answer(config, ready=False)


async def get_provisioned_concurrency_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn, qualifier = await _target(ctx, p, "The function resource provided must be an alias or a published version.")
    config = await ctx.env.db.read(store.get_config, fn.id, PROVISIONED, qualifier)
    if config is None:
        raise errors.provisioned_missing()
    return _answer(config, ready=True)  # stored means allocated here: environments start on demand


async def delete_provisioned_concurrency_config(ctx: RequestContext, p: dict[str, Any]) -> None:
    fn, qualifier = await _target(ctx, p, "The function resource provided must be an alias or a published version.")

    def write(tx: Tx) -> None:
        if store.delete_config(tx, fn.id, PROVISIONED, qualifier):
            changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)  # a configuration that does not exist: succeeds, as in Lambda


async def list_provisioned_concurrency_configs(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))
    configs = await ctx.env.db.read(store.list_configs, fn.id, PROVISIONED)
    items = [{"FunctionArn": f"{fn.arn}:{q}", **_answer(c, ready=True)} for q, c in configs]
    listed, marker = page(items, lambda i: str(i["FunctionArn"]), p.get("Marker"), p.get("MaxItems"))
    out: dict[str, Any] = {"ProvisionedConcurrencyConfigs": listed}
    if marker:
        out["NextMarker"] = marker
    return out


# -- account ----------------------------------------------------------------------------------------------------
async def get_account_settings(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = ctx.env.settings.lambda_account_concurrency

    def read(conn: Connection) -> tuple[int, int, int]:
        count, size = store.function_count(conn, ctx.account, ctx.region)
        size += layer_store.total_size(conn, ctx.account, ctx.region)
        return count, size, unreserved(conn, ctx.account, ctx.region, limit)

    count, size, free = await ctx.env.db.read(read)
    return {
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE,
            "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
            "CodeSizeZipped": CODE_SIZE_ZIPPED,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": max(free, 0),
        },
        "AccountUsage": {"TotalCodeSize": size, "FunctionCount": count},
    }


HANDLERS = {
    "PutFunctionConcurrency": put_function_concurrency,
    "GetFunctionConcurrency": get_function_concurrency,
    "DeleteFunctionConcurrency": delete_function_concurrency,
    "PutProvisionedConcurrencyConfig": put_provisioned_concurrency_config,
    "GetProvisionedConcurrencyConfig": get_provisioned_concurrency_config,
    "DeleteProvisionedConcurrencyConfig": delete_provisioned_concurrency_config,
    "ListProvisionedConcurrencyConfigs": list_provisioned_concurrency_configs,
    "GetAccountSettings": get_account_settings,
}
