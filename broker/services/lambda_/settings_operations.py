"""Function-level settings the broker stores and answers: runtime management (kind "runtime" configurations per
version; default Auto), recursive loop detection (the function row's settings; default Terminate). Scaling
configurations belong to Lambda Managed Instances (capacity providers), which this broker does not run."""

from __future__ import annotations

from typing import Any

from broker.context import RequestContext
from broker.services.lambda_ import arns, errors, store
from broker.services.lambda_.common import check_enum
from broker.services.lambda_.functions import function, version
from broker.services.lambda_.store import LATEST
from broker.services.lambda_.wake import changed
from broker.storage.db import Tx

RUNTIME = "runtime"
UPDATE_MODES = ["Auto", "Manual", "FunctionUpdate"]
LOOP_MODES = ["Allow", "Terminate"]


async def put_runtime_management_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    mode = p["UpdateRuntimeOn"]
    check_enum(mode, "updateRuntimeOn", UPDATE_MODES)
    if mode == "Manual" and not p.get("RuntimeVersionArn"):
        raise errors.invalid_parameter("RuntimeVersionArn must be specified when UpdateRuntimeOn is Manual.")
    if mode != "Manual" and p.get("RuntimeVersionArn"):
        raise errors.invalid_parameter("RuntimeVersionArn can only be specified when UpdateRuntimeOn is Manual.")
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"))
    found = await version(ctx, ref)
    config: dict[str, Any] = {"UpdateRuntimeOn": mode, "FunctionArn": ref.qualified_arn}
    if mode == "Manual":
        config["RuntimeVersionArn"] = p["RuntimeVersionArn"]
    fn = found.function

    def write(tx: Tx) -> None:
        store.put_config(tx, fn.id, RUNTIME, ref.qualifier or LATEST, config)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)
    return config


async def get_runtime_management_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"))
    found = await version(ctx, ref)
    config = await ctx.env.db.read(store.get_config, found.function.id, RUNTIME, ref.qualifier or LATEST)
    return config or {"UpdateRuntimeOn": "Auto", "FunctionArn": ref.qualified_arn}


async def put_function_recursion_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    mode = p["RecursiveLoop"]
    check_enum(mode, "recursiveLoop", LOOP_MODES)
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))

    def write(tx: Tx) -> None:
        current = store.function_by_id(tx.conn, fn.id)
        if current is None:
            raise errors.function_not_found(fn.arn)
        store.set_function_fields(tx, fn.id, settings={**current.settings, "RecursiveLoop": mode})
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)
    return {"RecursiveLoop": mode}


async def get_function_recursion_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))
    return {"RecursiveLoop": fn.settings.get("RecursiveLoop", "Terminate")}


async def put_function_scaling_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    raise errors.unsupported("PutFunctionScalingConfig (Lambda Managed Instances)")


async def get_function_scaling_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    raise errors.unsupported("GetFunctionScalingConfig (Lambda Managed Instances)")


HANDLERS = {
    "PutRuntimeManagementConfig": put_runtime_management_config,
    "GetRuntimeManagementConfig": get_runtime_management_config,
    "PutFunctionRecursionConfig": put_function_recursion_config,
    "GetFunctionRecursionConfig": get_function_recursion_config,
    "PutFunctionScalingConfig": put_function_scaling_config,
    "GetFunctionScalingConfig": get_function_scaling_config,
}
