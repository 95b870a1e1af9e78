"""Function operations: create, read, update, delete, list, publish versions."""

from __future__ import annotations

import asyncio
from typing import Any

from broker import clock, ids, paging
from broker.auth.resource_policy import crosses
from broker.context import RequestContext
from broker.services.iam.store import role_exists
from broker.services.lambda_ import arns, common, errors, layer_store, store
from broker.services.lambda_.code import Package, check_zip
from broker.services.lambda_.functions import (
    answer_created,
    answer_updating,
    apply_settings,
    base_config,
    check_architectures,
    check_environment,
    check_limits,
    check_name,
    check_runtime,
    content_hash,
    function,
    last_modified,
    listed,
    ordered,
    version,
)
from broker.services.lambda_.layer_operations import authorize as authorize_layer
from broker.services.lambda_.permission_operations import authorize
from broker.services.lambda_.store import LATEST
from broker.services.lambda_.wake import changed
from broker.storage.db import Tx


def _package(code: dict[str, Any]) -> Package:
    if "ZipFile" in code:
        return check_zip(code["ZipFile"])
    if code.get("S3Bucket") or code.get("S3Key"):
        raise errors.invalid_parameter(
            "Code.S3Bucket/S3Key: this broker does not serve S3 yet; upload the package as Code.ZipFile."
        )
    if code.get("ImageUri"):
        raise errors.invalid_parameter("PackageType Image is not supported by this broker; use a Zip package.")
    raise errors.invalid_parameter("Please provide a source for function code.")


async def _layers(ctx: RequestContext, layer_arns: list[str] | None) -> list[dict[str, Any]] | None:
    if layer_arns is None:
        return None
    if len(layer_arns) > 5:
        raise errors.invalid_parameter("Cannot reference more than 5 layers.")
    seen: dict[str, str] = {}
    for arn in layer_arns:
        unversioned = arn.rsplit(":", 1)[0]
        if unversioned in seen:
            raise errors.invalid_parameter(
                "Two different versions of the same layer are not allowed to be referenced in the same function. "
                f"{seen[unversioned]} and {arn} are versions of the same layer."
            )
        seen[unversioned] = arn
        region = arn.split(":")[3] if arn.count(":") >= 3 else ""
        if region and region != ctx.region:
            raise errors.invalid_parameter(
                f"Layers are not in the same region as the function. Layers are expected to be in region {ctx.region}."
            )
    out = []
    for arn in layer_arns:
        if crosses(ctx, arn.split(":")[4] if arn.count(":") >= 4 else ctx.account):
            authorize_layer(ctx, arn, await ctx.env.db.read(layer_store.version_by_arn, arn))
        found = await ctx.env.db.read(layer_store.get_by_arn, arn)
        if found is None:
            raise errors.invalid_parameter(f"Layer version {arn} does not exist.")
        out.append({"Arn": arn, "CodeSize": found["Content"]["CodeSize"]})
    return out


async def _strict_role(ctx: RequestContext, role: str) -> None:
    """With lambda_strict_roles, a role IAM does not hold is refused as AWS refuses a role it cannot assume."""
    if not ctx.env.settings.lambda_strict_roles:
        return
    if not await ctx.env.db.read(role_exists, ctx.account, role):
        raise errors.invalid_parameter("The role defined for the function cannot be assumed by Lambda.")


def _publish(tx: Tx, function_id: int, description: str | None = None) -> dict[str, Any] | None:
    """Publish what $LATEST holds now as the next version, with a RevisionId of its own; $LATEST gets a new one
    too, and the function remembers the digest of what was published (the next publish of an unchanged function
    returns this version). The version's configuration, or None if the function is gone."""
    stored = store.version_of(tx.conn, function_id, LATEST)
    if stored is None:
        return None
    latest, sha = stored
    config = {**latest, "RevisionId": ids.uuid4()}
    if description is not None:
        config["Description"] = description
    number = store.publish_version(tx, function_id, config, sha)
    if number is None:
        return None
    store.put_version_config(tx, function_id, LATEST, {**latest, "RevisionId": ids.uuid4()}, sha)
    store.merge_settings(tx, function_id, published_from=content_hash(latest, sha))
    return {**config, "Version": number, "FunctionArn": f"{latest['FunctionArn']}:{number}"}


async def create_function(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["FunctionName"]
    check_limits(p)
    ref = arns.parse(ctx, name)
    if ref.qualifier:
        raise errors.invalid_parameter("Unsupported qualifier in function name.")
    check_name(ref, name)
    package_type = p.get("PackageType", "Zip")
    if package_type == "Image":
        raise errors.invalid_parameter("PackageType Image is not supported by this broker; use a Zip package.")
    check_runtime(p.get("Runtime"), p.get("Handler"), package_type)
    check_environment(p.get("Environment"))
    check_architectures(p.get("Architectures"))
    await _strict_role(ctx, p["Role"])
    pkg = await asyncio.get_running_loop().run_in_executor(None, _package, p["Code"])
    layers = await _layers(ctx, p.get("Layers"))
    now = clock.now_ms()
    config = base_config(ctx, ref.name, p, pkg.sha, len(pkg.data), now)
    if layers:
        config["Layers"] = layers
    config = ordered(config)

    def write(tx: Tx) -> dict[str, Any] | None:
        store.put_code(tx, pkg.sha, pkg.data)
        fid = store.create_function(
            tx, ctx.account, ctx.region, ref.name, ref.arn, p.get("Tags") or {}, config, pkg.sha, now
        )
        if fid is None:
            return None
        changed(tx, ref.account, ref.region, ref.name)
        if p.get("Publish"):
            published = _publish(tx, fid)
            # Lambda answers the new version under the function's unqualified ARN.
            return {**published, "FunctionArn": ref.arn} if published else config
        return config

    created = await ctx.env.db.write(write)
    if created is None:
        raise errors.function_exists(ref.name)
    return answer_created(created)


def _as_qualified(config: dict[str, Any], qualifier: str | None) -> dict[str, Any]:
    if not qualifier:
        return config
    base = config["FunctionArn"].rsplit(":", 1)[0] if config["Version"] != LATEST else config["FunctionArn"]
    return {**config, "FunctionArn": f"{base}:{qualifier}"}


async def get_function_configuration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"), shared=True)
    await authorize(ctx, ref, "lambda:GetFunctionConfiguration")
    found = await version(ctx, ref)
    return _as_qualified(found.config, ref.qualifier)


async def get_function(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"), shared=True)
    await authorize(ctx, ref, "lambda:GetFunction")
    found = await version(ctx, ref)
    fn = found.function
    host = ctx.env.settings.public_host or ctx.host
    out: dict[str, Any] = {
        "Configuration": _as_qualified(found.config, ref.qualifier),
        "Code": {"RepositoryType": "S3", "Location": f"http://{host}/_broker/lambda/code/{found.code_sha}.zip"},
    }
    if fn.tags:
        out["Tags"] = fn.tags
    if fn.reserved_concurrency is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": fn.reserved_concurrency}
    return out


def _check_revision(config: dict[str, Any], revision: str | None) -> None:
    if revision is not None and revision != config["RevisionId"]:
        raise errors.revision_mismatch()


async def update_function_code(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"])
    check_architectures(p.get("Architectures"))
    current = await version(ctx, ref, LATEST)
    _check_revision(current.config, p.get("RevisionId"))
    if p.get("ImageUri") and current.config.get("PackageType", "Zip") == "Zip":
        raise errors.invalid_parameter("Please don't provide ImageUri when updating a function with packageType Zip.")
    code: dict[str, Any] = {k: p[k] for k in ("ZipFile", "S3Bucket", "S3Key", "ImageUri") if k in p}
    pkg = await asyncio.get_running_loop().run_in_executor(None, _package, code)
    config = dict(current.config)
    config.update(
        {
            "CodeSize": len(pkg.data),
            "CodeSha256": pkg.code_sha256,
            "LastModified": last_modified(clock.now_ms()),
            "RevisionId": ids.uuid4(),
        }
    )
    if p.get("Architectures"):
        config["Architectures"] = p["Architectures"]
    config = ordered(config)
    if p.get("DryRun"):
        return answer_updating(config)
    fid = current.function.id

    def write(tx: Tx) -> dict[str, Any]:
        store.put_code(tx, pkg.sha, pkg.data)
        if not store.put_version_config(tx, fid, LATEST, config, pkg.sha):
            raise errors.function_not_found(ref.arn)  # deleted since it was read
        store.drop_unused_code(tx)
        changed(tx, ref.account, ref.region, ref.name)
        if p.get("Publish"):
            published = _publish(tx, fid)
            if published is None:
                raise errors.function_not_found(ref.arn)
            return answer_created(published)  # the new version, still Pending, as Lambda answers it
        return answer_updating(config)

    return await ctx.env.db.write(write)


async def update_function_configuration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    check_limits(p)
    ref = arns.parse(ctx, p["FunctionName"])
    current = await version(ctx, ref, LATEST)
    _check_revision(current.config, p.get("RevisionId"))
    config = dict(current.config)
    runtime = p.get("Runtime", config.get("Runtime"))
    check_runtime(runtime, p.get("Handler", config.get("Handler")), config.get("PackageType", "Zip"))
    check_environment(p.get("Environment"))
    if "Role" in p:
        await _strict_role(ctx, p["Role"])
    apply_settings(ctx, config, p)
    if "Layers" in p:
        layers = await _layers(ctx, p["Layers"])
        if layers:
            config["Layers"] = layers
        else:
            config.pop("Layers", None)
    config["LastModified"] = last_modified(clock.now_ms())
    config["RevisionId"] = ids.uuid4()
    config = ordered(config)
    fid = current.function.id

    def write(tx: Tx) -> None:
        if not store.put_version_config(tx, fid, LATEST, config, current.code_sha):
            raise errors.function_not_found(ref.arn)  # deleted since it was read
        changed(tx, ref.account, ref.region, ref.name)

    await ctx.env.db.write(write)
    return answer_updating(config)


async def delete_function(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"))
    fn = await function(ctx, ref)
    qualifier = ref.qualifier
    if qualifier == LATEST:
        raise errors.invalid_parameter("$LATEST version cannot be deleted without deleting the function.")
    if qualifier is not None and not qualifier.isdigit():  # an alias is no version: DeleteAlias removes it
        raise errors.function_not_found(ref.qualified_arn)
    if qualifier is not None:
        used = sorted(
            a["Name"]
            for a in await ctx.env.db.read(store.list_aliases, fn.id)
            if a["FunctionVersion"] == qualifier
            or qualifier in ((a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
        )
        if used:
            raise errors.conflict(
                f"Unable to delete version because the following aliases reference it: [{', '.join(used)}]"
            )

    def write(tx: Tx) -> None:
        if qualifier is None:
            store.delete_function(tx, fn.id)
        else:
            store.delete_version(tx, fn.id, qualifier)
        changed(tx, ref.account, ref.region, ref.name)

    await ctx.env.db.write(write)
    return {"StatusCode": 204}


PAGE = 50


def _max_items(p: dict[str, Any]) -> int:
    """A page holds at most 50 items, whatever MaxItems (up to 10,000) asks for, as in Lambda."""
    return min(int(p.get("MaxItems") or PAGE), PAGE)


async def list_functions(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = _max_items(p)
    if p.get("FunctionVersion") not in (None, "ALL"):
        raise errors.validation(
            f"1 validation error detected: Value '{p['FunctionVersion']}' at 'functionVersion' failed to satisfy "
            "constraint: Member must satisfy enum value set: [ALL]"
        )
    out: dict[str, Any] = {}
    if p.get("FunctionVersion") == "ALL":  # every version, paged by version
        after_version = common.after_version(p["Marker"]) if p.get("Marker") else None
        rows = await ctx.env.db.read(store.list_all_versions, ctx.account, ctx.region, after_version, limit + 1)
        if len(rows) > limit:
            rows = rows[:limit]
            out["NextMarker"] = common.version_marker(rows[-1][0], rows[-1][1])
        out["Functions"] = [listed(_qualified_latest(config)) for _, _, config in rows]
        return out
    after = common.after_name(p["Marker"]) if p.get("Marker") else None
    configs = await ctx.env.db.read(store.list_functions, ctx.account, ctx.region, after, limit + 1)
    if len(configs) > limit:
        configs = configs[:limit]
        out["NextMarker"] = paging.after_token(configs[-1]["FunctionName"])
    out["Functions"] = [listed(config) for config in configs]
    return out


def _qualified_latest(config: dict[str, Any]) -> dict[str, Any]:
    """Listings of versions name $LATEST by its qualified ARN."""
    if config["Version"] != LATEST:
        return config
    return {**config, "FunctionArn": f"{config['FunctionArn']}:{LATEST}"}


async def list_versions_by_function(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"])
    fn = await function(ctx, ref)
    limit = _max_items(p)
    after = common.after_number(p["Marker"]) if p.get("Marker") else -1
    versions = await ctx.env.db.read(store.list_versions, fn.id, after, limit + 1)
    out: dict[str, Any] = {}
    if len(versions) > limit:
        versions = versions[:limit]
        last = versions[-1]["Version"]
        out["NextMarker"] = paging.after_token(0 if last == LATEST else int(last))
    out["Versions"] = [listed(_qualified_latest(v)) for v in versions]
    return out


async def publish_version(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"])
    current = await version(ctx, ref, LATEST)
    _check_revision(current.config, p.get("RevisionId"))
    sha256 = current.config["CodeSha256"]
    if p.get("CodeSha256") and p["CodeSha256"] != sha256:
        raise errors.invalid_parameter(
            f"CodeSHA256 ({p['CodeSha256']}) is different from current CodeSHA256 in $LATEST ({sha256}). Please try "
            "again with the CodeSHA256 in $LATEST."
        )
    fn = current.function
    # Lambda publishes only when the code or the configuration changed since the last publish (a tag or policy
    # change, which gives $LATEST a new RevisionId, is neither): otherwise it answers the last version.
    if fn.settings.get("published_from") == content_hash(current.config, current.code_sha):
        latest = await ctx.env.db.read(store.latest_published, fn.id)
        if latest is not None:
            return latest

    def write(tx: Tx) -> dict[str, Any]:
        published = _publish(tx, fn.id, p.get("Description"))
        if published is None:
            raise errors.function_not_found(ref.arn)  # deleted since it was read
        changed(tx, ref.account, ref.region, ref.name)
        return published

    return await ctx.env.db.write(write)


HANDLERS = {
    "CreateFunction": create_function,
    "GetFunction": get_function,
    "GetFunctionConfiguration": get_function_configuration,
    "UpdateFunctionCode": update_function_code,
    "UpdateFunctionConfiguration": update_function_configuration,
    "DeleteFunction": delete_function,
    "ListFunctions": list_functions,
    "ListVersionsByFunction": list_versions_by_function,
    "PublishVersion": publish_version,
}
