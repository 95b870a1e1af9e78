"""Function URLs: configurations (kind "url", qualifier "" for the function itself or an alias name) with a
random 32-character host label in url_id, which the URL serving looks up with store.config_by_url_id. The URL
names this broker: http://<url-id>.lambda-url.<region>.localhost:<port>/ (the port the request came to)."""

from __future__ import annotations

import secrets
import string
from typing import Any

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.lambda_ import arns, errors, store
from broker.services.lambda_.common import check_enum, iso_micro, page, qualifier_exists
from broker.services.lambda_.store import Function
from broker.services.lambda_.wake import changed
from broker.storage.db import Tx

URL = "url"
AUTH_TYPES = ["AWS_IAM", "NONE"]
INVOKE_MODES = ["RESPONSE_STREAM", "BUFFERED"]
_ALPHABET = string.ascii_lowercase + string.digits


def _url_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(32))


def _port(ctx: RequestContext) -> int:
    host, _, port = ctx.host.rpartition(":")
    return int(port) if host and port.isdigit() else ctx.env.settings.port


def _answer(config: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: config[k] for k in keys if k in config}


def _check(p: dict[str, Any]) -> None:
    check_enum(p.get("AuthType"), "authType", AUTH_TYPES)
    check_enum(p.get("InvokeMode"), "invokeMode", INVOKE_MODES)


async def _target(ctx: RequestContext, p: dict[str, Any], missing: ServiceError) -> tuple[Function, str]:
    """The function and the qualifier ("" for the function itself) a request names; `missing` if either is not
    there."""
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"))
    fn = await ctx.env.db.read(store.get_function, ref.account, ref.region, ref.name)
    if fn is None:
        raise missing
    qualifier = ref.qualifier or ""
    if qualifier and not await qualifier_exists(ctx, fn, qualifier):
        raise missing
    return fn, qualifier


async def create_function_url_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _check(p)
    fn, qualifier = await _target(ctx, p, errors.function_missing())
    arn = f"{fn.arn}:{qualifier}" if qualifier else fn.arn
    url_id = _url_id()
    now = iso_micro()
    config: dict[str, Any] = {
        "FunctionUrl": f"http://{url_id}.lambda-url.{fn.region}.localhost:{_port(ctx)}/",
        "FunctionArn": arn,
        "AuthType": p["AuthType"],
    }
    if "Cors" in p:
        config["Cors"] = p["Cors"]
    config.update({"CreationTime": now, "LastModifiedTime": now, "InvokeMode": p.get("InvokeMode", "BUFFERED")})

    def write(tx: Tx) -> bool:
        if store.get_config(tx.conn, fn.id, URL, qualifier) is not None:
            return False
        store.put_config(tx, fn.id, URL, qualifier, config, url_id=url_id)
        changed(tx, fn.account, fn.region, fn.name)
        return True

    if not await ctx.env.db.write(write):
        raise errors.conflict(
            f"Failed to create function url config for [functionArn = {arn}]. Error message:  FunctionUrlConfig "
            "exists for this Lambda function"
        )
    out = _answer(config, "FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime")
    if "InvokeMode" in p:
        out["InvokeMode"] = p["InvokeMode"]
    return out


async def get_function_url_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn, qualifier = await _target(ctx, p, errors.resource_missing())
    config = await ctx.env.db.read(store.get_config, fn.id, URL, qualifier)
    if config is None:
        raise errors.resource_missing()
    return config


async def update_function_url_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _check(p)
    fn, qualifier = await _target(ctx, p, errors.function_missing())

    def write(tx: Tx) -> dict[str, Any]:
        config = store.get_config(tx.conn, fn.id, URL, qualifier)
        if config is None:
            raise errors.resource_missing()
        for key in ("AuthType", "Cors", "InvokeMode"):
            if key in p:
                config[key] = p[key]
        config["LastModifiedTime"] = iso_micro()
        store.put_config(tx, fn.id, URL, qualifier, config)
        changed(tx, fn.account, fn.region, fn.name)
        return config

    config = await ctx.env.db.write(write)
    out = _answer(config, "FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime", "LastModifiedTime")
    if "InvokeMode" in p:
        out["InvokeMode"] = p["InvokeMode"]
    return out


async def delete_function_url_config(ctx: RequestContext, p: dict[str, Any]) -> None:
    fn, qualifier = await _target(ctx, p, errors.resource_missing())

    def write(tx: Tx) -> int:
        deleted = store.delete_config(tx, fn.id, URL, qualifier)
        if deleted:
            changed(tx, fn.account, fn.region, fn.name)
        return deleted

    if not await ctx.env.db.write(write):
        raise errors.resource_missing()


async def list_function_url_configs(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"])
    fn = await ctx.env.db.read(store.get_function, ref.account, ref.region, ref.name)
    if fn is None:
        raise errors.function_missing()
    configs = await ctx.env.db.read(store.list_configs, fn.id, URL)  # "" (the function itself) sorts first
    keys = ("FunctionUrl", "FunctionArn", "CreationTime", "LastModifiedTime", "Cors", "AuthType", "InvokeMode")
    items = [(q, _answer(c, *keys)) for q, c in configs]
    listed, marker = page(items, lambda i: i[0], p.get("Marker"), p.get("MaxItems"))
    out: dict[str, Any] = {"FunctionUrlConfigs": [c for _, c in listed]}
    if marker:
        out["NextMarker"] = marker
    return out


HANDLERS = {
    "CreateFunctionUrlConfig": create_function_url_config,
    "GetFunctionUrlConfig": get_function_url_config,
    "UpdateFunctionUrlConfig": update_function_url_config,
    "DeleteFunctionUrlConfig": delete_function_url_config,
    "ListFunctionUrlConfigs": list_function_url_configs,
}
