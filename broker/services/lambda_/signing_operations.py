"""Code signing configurations (stored objects: config_store) and their links to functions. The broker stores
and answers them; it does not check signatures of uploaded packages (it has no AWS Signer)."""

from __future__ import annotations

from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.services.lambda_ import arns, config_store, errors, store
from broker.services.lambda_.common import check_enum, page
from broker.services.lambda_.functions import function, last_modified
from broker.services.lambda_.wake import changed
from broker.storage.db import Tx

CODE_SIGNING = config_store.CODE_SIGNING
POLICIES = ["Warn", "Enforce"]
ANSWERED = (
    "CodeSigningConfigId", "CodeSigningConfigArn", "Description", "AllowedPublishers", "CodeSigningPolicies",
    "LastModified",
)  # fmt: skip


def _answer(config: dict[str, Any]) -> dict[str, Any]:
    return {"CodeSigningConfig": {k: config[k] for k in ANSWERED if k in config}}


def _id_of(ctx: RequestContext, arn: str) -> str | None:
    """The id in a code signing configuration ARN of this account's region (else None)."""
    parts = arn.split(":")
    if len(parts) != 7 or (parts[4], parts[3]) != (ctx.account, ctx.region):
        return None
    return parts[6]


async def _existing(ctx: RequestContext, arn: str) -> tuple[str, dict[str, Any]]:
    csc_id = _id_of(ctx, arn)
    found = None if csc_id is None else await ctx.env.db.read(config_store.get_csc, ctx.account, ctx.region, csc_id)
    if csc_id is None or found is None:
        raise errors.code_signing_missing(arn)
    return csc_id, found


def _check_policies(p: dict[str, Any]) -> None:
    check_enum(
        (p.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment"),
        "codeSigningPolicies.untrustedArtifactOnDeployment",
        POLICIES,
    )


async def create_code_signing_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _check_policies(p)
    if len(p.get("Tags") or {}) > 50:
        raise errors.invalid_parameter("Number of tags exceeds resource tag limit.")
    csc_id = "csc-" + ids.token(9)[:17]
    config: dict[str, Any] = {
        "CodeSigningConfigId": csc_id,
        "CodeSigningConfigArn": f"arn:aws:lambda:{ctx.region}:{ctx.account}:code-signing-config:{csc_id}",
        "Description": p.get("Description", ""),
        "AllowedPublishers": p["AllowedPublishers"],
        "CodeSigningPolicies": {
            "UntrustedArtifactOnDeployment": (p.get("CodeSigningPolicies") or {}).get(
                "UntrustedArtifactOnDeployment", "Warn"
            )
        },
        "LastModified": last_modified(clock.now_ms()),
        "Tags": p.get("Tags") or {},
    }
    await ctx.env.db.write(config_store.add_csc, ctx.account, ctx.region, csc_id, config)
    return _answer(config)


async def get_code_signing_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _, found = await _existing(ctx, p["CodeSigningConfigArn"])
    return _answer(found)


async def update_code_signing_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _check_policies(p)
    arn = p["CodeSigningConfigArn"]
    csc_id, _ = await _existing(ctx, arn)

    def write(tx: Tx) -> dict[str, Any]:
        config = config_store.get_csc(tx.conn, ctx.account, ctx.region, csc_id)
        if config is None:
            raise errors.code_signing_missing(arn)
        for key in ("Description", "AllowedPublishers"):
            if key in p:
                config[key] = p[key]
        if (p.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment"):
            config["CodeSigningPolicies"] = {
                "UntrustedArtifactOnDeployment": p["CodeSigningPolicies"]["UntrustedArtifactOnDeployment"]
            }
        config["LastModified"] = last_modified(clock.now_ms())
        config_store.put_csc(tx, ctx.account, ctx.region, csc_id, config)
        return config

    return _answer(await ctx.env.db.write(write))


async def delete_code_signing_config(ctx: RequestContext, p: dict[str, Any]) -> None:
    arn = p["CodeSigningConfigArn"]
    csc_id, _ = await _existing(ctx, arn)

    def write(tx: Tx) -> None:
        if config_store.functions_using_csc(tx.conn, ctx.account, ctx.region, arn):
            raise errors.conflict(
                f"The code signing configuration {arn} is used by one or more functions; remove it from them "
                "(DeleteFunctionCodeSigningConfig) before deleting it."
            )
        config_store.delete_csc(tx, ctx.account, ctx.region, csc_id)

    await ctx.env.db.write(write)


async def list_code_signing_configs(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    found = await ctx.env.db.read(config_store.list_cscs, ctx.account, ctx.region)
    listed, marker = page(found, lambda c: str(c["CodeSigningConfigId"]), p.get("Marker"), p.get("MaxItems"))
    out: dict[str, Any] = {"CodeSigningConfigs": [_answer(c)["CodeSigningConfig"] for c in listed]}
    if marker:
        out["NextMarker"] = marker
    return out


async def list_functions_by_code_signing_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["CodeSigningConfigArn"]
    await _existing(ctx, arn)
    found = await ctx.env.db.read(config_store.functions_using_csc, ctx.account, ctx.region, arn)
    listed, marker = page(found, lambda a: a, p.get("Marker"), p.get("MaxItems"))
    out: dict[str, Any] = {"FunctionArns": listed}
    if marker:
        out["NextMarker"] = marker
    return out


# -- a function's code signing configuration ---------------------------------------------------------------------
async def put_function_code_signing_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["CodeSigningConfigArn"]
    csc_id = _id_of(ctx, arn)
    if csc_id is None or await ctx.env.db.read(config_store.get_csc, ctx.account, ctx.region, csc_id) is None:
        raise errors.code_signing_not_found(arn)
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))

    def write(tx: Tx) -> None:
        store.put_config(tx, fn.id, CODE_SIGNING, "", {"CodeSigningConfigArn": arn})
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)
    return {"CodeSigningConfigArn": arn, "FunctionName": fn.name}


async def get_function_code_signing_config(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))
    link = await ctx.env.db.read(store.get_config, fn.id, CODE_SIGNING, "")
    if link is None:
        return {}
    return {"CodeSigningConfigArn": link["CodeSigningConfigArn"], "FunctionName": fn.name}


async def delete_function_code_signing_config(ctx: RequestContext, p: dict[str, Any]) -> None:
    fn = await function(ctx, arns.parse(ctx, p["FunctionName"]))

    def write(tx: Tx) -> None:
        if store.delete_config(tx, fn.id, CODE_SIGNING, ""):
            changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)


HANDLERS = {
    "CreateCodeSigningConfig": create_code_signing_config,
    "GetCodeSigningConfig": get_code_signing_config,
    "UpdateCodeSigningConfig": update_code_signing_config,
    "DeleteCodeSigningConfig": delete_code_signing_config,
    "ListCodeSigningConfigs": list_code_signing_configs,
    "ListFunctionsByCodeSigningConfig": list_functions_by_code_signing_config,
    "PutFunctionCodeSigningConfig": put_function_code_signing_config,
    "GetFunctionCodeSigningConfig": get_function_code_signing_config,
    "DeleteFunctionCodeSigningConfig": delete_function_code_signing_config,
}
