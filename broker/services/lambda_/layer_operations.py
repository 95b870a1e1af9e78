"""Layers: publish, read, list and delete layer versions, and their permission policies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from broker import clock, ids
from broker.auth.resource_policy import crosses, denial, no_grant, not_authorized
from broker.context import RequestContext
from broker.protocol.spec import load_model
from broker.services.lambda_ import errors, layer_store
from broker.services.lambda_.arns import layer_arn
from broker.services.lambda_.code import MAX_ZIPPED, Package, check_zip, code_sha256
from broker.services.lambda_.common import enum_failure, page, validation
from broker.services.lambda_.functions import last_modified
from broker.services.lambda_.layer_store import LayerVersion
from broker.storage.db import Tx

_model = load_model("lambda")
RUNTIMES: list[str] = list(_model.shape_for("Runtime").enum)
ARCHITECTURES: list[str] = list(_model.shape_for("Architecture").enum)
COMPACT = (",", ":")
GET_LAYER = "lambda:GetLayerVersion"


def _name(ctx: RequestContext, text: str, action: str) -> tuple[str, str, str]:
    """(account, region, name) of a LayerName parameter: a name, or a layer ARN. With auth = "sigv4", a layer of
    another account only for `lambda:GetLayerVersion` (its policy decides, see `authorize`): every other layer
    action is its owner's."""
    if not text.startswith("arn:"):
        return ctx.account, ctx.region, text
    parts = text.split(":")
    if action != GET_LAYER and crosses(ctx, parts[4]):
        arn = layer_arn(parts[4], parts[3], parts[6])
        raise errors.not_authorized(not_authorized(ctx.caller, action, arn, no_grant(action)))
    return parts[4], parts[3], parts[6]


def authorize(ctx: RequestContext, arn: str, found: LayerVersion | None) -> None:
    """A layer version of another account is read (GetLayerVersion, a function's Layers) only when its policy
    (AddLayerVersionPermission) grants the caller `lambda:GetLayerVersion`; one that does not exist grants
    nothing."""
    owner = arn.split(":")[4]
    if not crosses(ctx, owner):
        return
    # AddLayerVersionPermission stores its Principal as given: "*" or an account id.
    statements = [
        {**s, "Principal": s["Principal"] if s["Principal"] == "*" else {"AWS": s["Principal"]}}
        for s in ((found.policy or {}).get("Statement", []) if found else [])
    ]
    reason = denial(ctx, owner, json.dumps({"Statement": statements}) if statements else None, GET_LAYER, arn)
    if reason is not None:
        raise errors.not_authorized(not_authorized(ctx.caller, GET_LAYER, arn, reason))


def _check_version(number: int) -> None:
    if number < 1:
        raise errors.layer_version_too_low()


def _location(ctx: RequestContext, sha: str) -> str:
    host = ctx.env.settings.public_host or ctx.host
    return f"http://{host}/_broker/lambda/code/{sha}.zip"


def _answer(ctx: RequestContext, found: LayerVersion) -> dict[str, Any]:
    out = dict(found.config)
    out["Content"] = {"Location": _location(ctx, found.code_sha), **out["Content"]}
    return out


def _list_item(config: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "LayerVersionArn", "Version", "Description", "CreatedDate", "CompatibleRuntimes", "LicenseInfo",
        "CompatibleArchitectures",
    )  # fmt: skip
    return {k: config[k] for k in keys if k in config}


def _check_compatibility(runtimes: list[str] | None, archs: list[str] | None, plural: bool) -> None:
    failures = []
    suffix = "s" if plural else ""
    if runtimes and any(r not in RUNTIMES for r in runtimes):
        value: Any = runtimes if plural else runtimes[0]
        failures.append(enum_failure(value, f"compatibleRuntime{suffix}", RUNTIMES))
    if archs and any(a not in ARCHITECTURES for a in archs):
        value = archs if plural else archs[0]
        failures.append(enum_failure(value, f"compatibleArchitecture{suffix}", ARCHITECTURES, nested=plural))
    validation(failures)


def _package(content: dict[str, Any]) -> Package:
    if "ZipFile" in content:
        data = content["ZipFile"]
        if len(data) > MAX_ZIPPED:
            raise errors.request_too_large("PublishLayerVersion", 69905067)
        return check_zip(data)
    if content.get("S3Bucket") or content.get("S3Key"):
        raise errors.invalid_parameter(
            "Content.S3Bucket/S3Key: this broker does not serve S3 yet; upload the layer as Content.ZipFile."
        )
    raise errors.invalid_parameter("Please provide a source for layer code: Content.ZipFile.")


async def publish_layer_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _, _, name = _name(ctx, p["LayerName"], "lambda:PublishLayerVersion")
    _check_compatibility(p.get("CompatibleRuntimes"), p.get("CompatibleArchitectures"), plural=True)
    pkg = await asyncio.get_running_loop().run_in_executor(None, _package, p["Content"])
    arn = layer_arn(ctx.account, ctx.region, name)
    config: dict[str, Any] = {
        "Content": {"CodeSha256": code_sha256(pkg.sha), "CodeSize": len(pkg.data)},
        "LayerArn": arn,
        "Description": p.get("Description", ""),
        "CreatedDate": last_modified(clock.now_ms()),
    }
    for key in ("CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"):
        if key in p:
            config[key] = p[key]
    stored = await ctx.env.db.write(layer_store.publish, ctx.account, ctx.region, name, config, pkg.sha, pkg.data, arn)
    order = ("Content", "LayerArn", "LayerVersionArn", "Description", "CreatedDate", "Version")
    out = {k: stored[k] for k in order} | {k: v for k, v in stored.items() if k not in order}
    out["Content"] = {"Location": _location(ctx, pkg.sha), **out["Content"]}
    return out


async def _get(ctx: RequestContext, account: str, region: str, name: str, number: int) -> LayerVersion:
    found = await ctx.env.db.read(layer_store.get, account, region, name, number)
    authorize(ctx, layer_arn(account, region, name, number), found)
    if found is None:
        raise errors.resource_missing()
    return found


async def get_layer_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _check_version(p["VersionNumber"])
    account, region, name = _name(ctx, p["LayerName"], "lambda:GetLayerVersion")
    return _answer(ctx, await _get(ctx, account, region, name, p["VersionNumber"]))


async def get_layer_version_by_arn(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    parts = p["Arn"].split(":")
    if len(parts) != 8 or parts[5] != "layer":  # an AWS-managed "awslayer" ARN: none is served here
        raise errors.resource_missing()
    return _answer(ctx, await _get(ctx, parts[4], parts[3], parts[6], int(parts[7])))


def _matches(config: dict[str, Any], runtime: str | None, arch: str | None) -> bool:
    if runtime is not None and runtime not in (config.get("CompatibleRuntimes") or []):
        return False
    return arch is None or arch in (config.get("CompatibleArchitectures") or [])


async def list_layers(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    runtime, arch = p.get("CompatibleRuntime"), p.get("CompatibleArchitecture")
    _check_compatibility([runtime] if runtime else None, [arch] if arch else None, plural=False)
    latest: dict[str, dict[str, Any]] = {}
    for found in await ctx.env.db.read(layer_store.all_versions, ctx.account, ctx.region):
        if found.name not in latest and _matches(found.config, runtime, arch):
            latest[found.name] = found.config
    items = [
        {
            "LayerName": name,
            "LayerArn": layer_arn(ctx.account, ctx.region, name),
            "LatestMatchingVersion": _list_item(config),
        }
        for name, config in sorted(latest.items())
    ]
    layers, marker = page(items, lambda i: str(i["LayerName"]), p.get("Marker"), p.get("MaxItems"))
    out: dict[str, Any] = {"Layers": layers}
    if marker:
        out["NextMarker"] = marker
    return out


async def list_layer_versions(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    runtime, arch = p.get("CompatibleRuntime"), p.get("CompatibleArchitecture")
    _check_compatibility([runtime] if runtime else None, [arch] if arch else None, plural=False)
    account, region, name = _name(ctx, p["LayerName"], "lambda:ListLayerVersions")
    found = await ctx.env.db.read(layer_store.versions, account, region, name)
    items = [_list_item(v.config) for v in found if _matches(v.config, runtime, arch)]
    # Newest first: the key counts down as versions go up.
    versions, marker = page(items, lambda i: f"{10**12 - int(i['Version']):013d}", p.get("Marker"), p.get("MaxItems"))
    out: dict[str, Any] = {"LayerVersions": versions}
    if marker:
        out["NextMarker"] = marker
    return out


async def delete_layer_version(ctx: RequestContext, p: dict[str, Any]) -> None:
    _check_version(p["VersionNumber"])
    account, region, name = _name(ctx, p["LayerName"], "lambda:DeleteLayerVersion")
    arn = layer_arn(account, region, name, p["VersionNumber"])
    # Deleting a version that does not exist succeeds, as in Lambda.
    await ctx.env.db.write(layer_store.delete_version, account, region, name, p["VersionNumber"], arn)


# -- layer version permissions ----------------------------------------------------------------------------------
def _policy_document(policy: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": policy["Statement"]}, separators=COMPACT)


async def add_layer_version_permission(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    account, region, name = _name(ctx, p["LayerName"], "lambda:AddLayerVersionPermission")
    number = p["VersionNumber"]
    arn = layer_arn(account, region, name, number)
    sid = p["StatementId"]
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": p["Principal"],
        "Action": p["Action"],
        "Resource": arn,
    }
    if p.get("OrganizationId"):
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": p["OrganizationId"]}}

    def write(tx: Tx) -> str:
        found = layer_store.get(tx.conn, account, region, name, number)
        if found is None:
            raise errors.layer_version_missing(arn)
        policy = found.policy or {"RevisionId": "", "Statement": []}
        if any(s["Sid"] == sid for s in policy["Statement"]):
            raise errors.statement_exists(sid)
        if p.get("RevisionId") is not None and p["RevisionId"] != policy["RevisionId"]:
            raise errors.revision_mismatch("GetLayerPolicy")
        revision = ids.uuid4()
        layer_store.set_policy(
            tx, account, region, name, number, {"RevisionId": revision, "Statement": [*policy["Statement"], statement]}
        )
        return revision

    revision = await ctx.env.db.write(write)
    return {"Statement": json.dumps(statement, separators=COMPACT), "RevisionId": revision}


async def remove_layer_version_permission(ctx: RequestContext, p: dict[str, Any]) -> None:
    account, region, name = _name(ctx, p["LayerName"], "lambda:RemoveLayerVersionPermission")
    number = p["VersionNumber"]
    arn = layer_arn(account, region, name, number)
    sid = p["StatementId"]

    def write(tx: Tx) -> None:
        found = layer_store.get(tx.conn, account, region, name, number)
        if found is None:
            raise errors.layer_version_missing(arn)
        policy = found.policy or {"RevisionId": "", "Statement": []}
        if p.get("RevisionId") is not None and p["RevisionId"] != policy["RevisionId"]:
            raise errors.revision_mismatch("GetLayerPolicy")
        kept = [s for s in policy["Statement"] if s["Sid"] != sid]
        if len(kept) == len(policy["Statement"]):
            raise errors.statement_missing(sid)
        layer_store.set_policy(
            tx, account, region, name, number, {"RevisionId": ids.uuid4(), "Statement": kept} if kept else None
        )

    await ctx.env.db.write(write)


async def get_layer_version_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    account, region, name = _name(ctx, p["LayerName"], "lambda:GetLayerVersionPolicy")
    number = p["VersionNumber"]
    found = await ctx.env.db.read(layer_store.get, account, region, name, number)
    if found is None:
        raise errors.layer_version_missing(layer_arn(account, region, name, number))
    if not found.policy:
        raise errors.no_policy()
    return {"Policy": _policy_document(found.policy), "RevisionId": found.policy["RevisionId"]}


HANDLERS = {
    "PublishLayerVersion": publish_layer_version,
    "GetLayerVersion": get_layer_version,
    "GetLayerVersionByArn": get_layer_version_by_arn,
    "ListLayers": list_layers,
    "ListLayerVersions": list_layer_versions,
    "DeleteLayerVersion": delete_layer_version,
    "AddLayerVersionPermission": add_layer_version_permission,
    "RemoveLayerVersionPermission": remove_layer_version_permission,
    "GetLayerVersionPolicy": get_layer_version_policy,
}
