"""What every function operation shares: finding a function or one of its versions (by number, $LATEST or alias),
and building and checking FunctionConfiguration documents as Lambda answers them."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.protocol.spec import load_model
from broker.services.lambda_ import common, errors, store
from broker.services.lambda_.arns import FunctionRef, function_arn
from broker.services.lambda_.code import code_sha256
from broker.services.lambda_.store import LATEST, Function, Version

# Runtimes Lambda no longer lets anyone create or update a function with.
DEPRECATED_RUNTIMES = frozenset(
    {
        "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x",
        "nodejs14.x", "nodejs16.x", "java8", "python2.7", "python3.6", "python3.7", "python3.8", "dotnetcore1.0",
        "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "go1.x", "ruby2.5", "ruby2.7", "provided",
    }
)  # fmt: skip

# Environment variable names the Lambda runtime sets itself.
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip

# The model's runtimes (in its order) and those of them a function may still be created or updated with.
RUNTIMES: list[str] = list(load_model("lambda").shape_for("Runtime").enum)
CREATABLE_RUNTIMES = [r for r in RUNTIMES if r not in DEPRECATED_RUNTIMES]

MAX_ENVIRONMENT_BYTES = 4096
MAX_NAME = 64  # a bare function name; the model's 140 is for ARNs
# Standard functions' quotas (the model's ranges are wider, for other kinds of function).
MAX_TIMEOUT = 900
MAX_MEMORY_MB = 10_240
MAX_EPHEMERAL_MB = 10_240


def last_modified(ms: int) -> str:
    """Lambda's LastModified form: 2024-01-15T10:20:30.123+0000."""
    dt = clock.to_datetime(ms).astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


async def function(ctx: RequestContext, ref: FunctionRef) -> Function:
    found = await ctx.env.db.read(store.get_function, ref.account, ref.region, ref.name)
    if found is None:
        raise errors.function_not_found(ref.arn)
    return found


async def version(ctx: RequestContext, ref: FunctionRef, qualifier: str | None = None) -> Version:
    """The version a qualifier names: a number, $LATEST (the default) or an alias (its primary version)."""
    q = qualifier or ref.qualifier or LATEST
    if q == LATEST or q.isdigit():
        found = await ctx.env.db.read(store.get_version, ref.account, ref.region, ref.name, q)
        if found is None:
            # An explicit $LATEST is named in the text; the implied one is not (as Lambda answers).
            shown = q if q != LATEST or ref.qualifier == LATEST else None
            raise errors.function_not_found(function_arn(ref.account, ref.region, ref.name, shown))
        return found
    fn = await function(ctx, ref)
    alias = await ctx.env.db.read(store.get_alias, fn.id, q)
    if alias is None:
        raise errors.function_not_found(function_arn(ref.account, ref.region, ref.name, q))
    target = await ctx.env.db.read(store.get_version, ref.account, ref.region, ref.name, alias["FunctionVersion"])
    if target is None:
        raise errors.function_not_found(function_arn(ref.account, ref.region, ref.name, q))
    return target


def pick_weighted(alias: dict[str, Any]) -> str:
    """The version an invocation of an alias runs: an additional version with its weight's probability."""
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    roll = random.random()
    for ver, weight in weights.items():
        if roll < weight:
            return str(ver)
        roll -= weight
    return str(alias["FunctionVersion"])


def check_runtime(runtime: str | None, handler: str | None, package_type: str) -> None:
    if runtime is not None and runtime not in RUNTIMES:
        raise errors.invalid_parameter(
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
            f"[{', '.join(CREATABLE_RUNTIMES)}] or be a valid ARN"
        )
    if package_type == "Zip" and (not runtime or not handler):
        raise errors.invalid_parameter(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages."
        )
    if runtime in DEPRECATED_RUNTIMES:
        raise errors.invalid_runtime(runtime)


def check_environment(env: dict[str, Any] | None) -> None:
    variables = (env or {}).get("Variables") or {}
    reserved = sorted(k for k in variables if k in RESERVED_VARIABLES)
    if reserved:
        raise errors.invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            "provided contains reserved keys that are currently not supported for modification. Reserved keys used "
            f"in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > MAX_ENVIRONMENT_BYTES:
        raise errors.invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            f"provided exceeded the 4KB limit. String measured: {measured}"
        )


def check_name(ref: FunctionRef, given: str) -> None:
    """CreateFunction's 64 characters for the name itself (the model's 140 is for ARNs): a bare name too long is
    an InvalidParameterValueException, the name inside an ARN a ValidationException, with one text."""
    if len(ref.name) <= MAX_NAME:
        return
    text = (
        f"1 validation error detected: Value '{given}' at 'functionName' failed to satisfy constraint: Member must "
        f"have length less than or equal to {MAX_NAME}"
    )
    raise errors.invalid_parameter(text) if ref.named else errors.validation(text)


def check_limits(p: dict[str, Any]) -> None:
    """Standard functions' quotas for Timeout, MemorySize and EphemeralStorage, refused as AWS refuses them."""
    failures = []
    for value, member, most in (
        (p.get("Timeout"), "timeout", MAX_TIMEOUT),
        (p.get("MemorySize"), "memorySize", MAX_MEMORY_MB),
        ((p.get("EphemeralStorage") or {}).get("Size"), "ephemeralStorage.size", MAX_EPHEMERAL_MB),
    ):
        if value is not None and value > most:
            failures.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have value less than or "
                f"equal to {most}"
            )
    common.validation(failures)


def check_architectures(archs: list[str] | None) -> None:
    if archs is not None and len(archs) != 1:
        raise errors.validation(
            f"1 validation error detected: Value '{archs}' at 'architectures' failed to satisfy constraint: "
            "Member must have length less than or equal to 1"
        )


def base_config(ctx: RequestContext, name: str, p: dict[str, Any], sha: str, size: int, now: int) -> dict[str, Any]:
    """The $LATEST configuration of a new function, in the order Lambda answers its members."""
    config: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": function_arn(ctx.account, ctx.region, name),
        "Runtime": p.get("Runtime"),
        "Role": p["Role"],
        "Handler": p.get("Handler"),
        "CodeSize": size,
        "Description": p.get("Description", ""),
        "Timeout": p.get("Timeout", 3),
        "MemorySize": p.get("MemorySize", 128),
        "LastModified": last_modified(now),
        "CodeSha256": "",
        "Version": LATEST,
    }
    apply_settings(ctx, config, p)
    config.update(
        {
            "TracingConfig": p.get("TracingConfig") or {"Mode": "PassThrough"},
            "RevisionId": ids.uuid4(),
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": p.get("PackageType", "Zip"),
            "Architectures": p.get("Architectures") or ["x86_64"],
            "EphemeralStorage": p.get("EphemeralStorage") or {"Size": 512},
            "SnapStart": {"ApplyOn": (p.get("SnapStart") or {}).get("ApplyOn", "None"), "OptimizationStatus": "Off"},
            "RuntimeVersionConfig": {"RuntimeVersionArn": runtime_version_arn(ctx.region, p.get("Runtime"))},
            "LoggingConfig": logging_config(
                {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}, p.get("LoggingConfig") or {}
            ),
        }
    )
    config["CodeSha256"] = code_sha256(sha)
    return {k: v for k, v in config.items() if v is not None}


def apply_settings(ctx: RequestContext, config: dict[str, Any], p: dict[str, Any]) -> None:
    """Members that CreateFunction and UpdateFunctionConfiguration share, where they were given."""
    for key in ("Role", "Handler", "Description", "Timeout", "MemorySize", "Runtime"):
        if key in p:
            config[key] = p[key]
    if "Environment" in p:
        variables = (p["Environment"] or {}).get("Variables")
        if variables is not None:
            config["Environment"] = {"Variables": variables}
        else:
            config.pop("Environment", None)
    for key in ("DeadLetterConfig", "KMSKeyArn", "FileSystemConfigs", "ImageConfig"):
        if key in p:
            config[key] = p[key]
    if "VpcConfig" in p:
        config["VpcConfig"] = vpc_config(p["VpcConfig"])
    if "Runtime" in p:
        config["RuntimeVersionConfig"] = {"RuntimeVersionArn": runtime_version_arn(ctx.region, p["Runtime"])}
    if "TracingConfig" in p:
        config["TracingConfig"] = p["TracingConfig"]
    if "EphemeralStorage" in p:
        config["EphemeralStorage"] = p["EphemeralStorage"]
    if "LoggingConfig" in p:
        config["LoggingConfig"] = logging_config(config.get("LoggingConfig") or {}, p["LoggingConfig"])
    if "SnapStart" in p:
        config["SnapStart"] = {"ApplyOn": p["SnapStart"].get("ApplyOn", "None"), "OptimizationStatus": "Off"}


def vpc_config(given: dict[str, Any]) -> dict[str, Any]:
    """VpcConfig as Lambda answers it: with the VPC of the subnets (here a stable id derived from them) and the
    dual-stack flag; no subnets is an empty VpcId (a configuration that was removed)."""
    subnets = list(given.get("SubnetIds") or [])
    vpc_id = "vpc-" + hashlib.sha256(",".join(sorted(subnets)).encode()).hexdigest()[:17] if subnets else ""
    return {
        "SubnetIds": subnets,
        "SecurityGroupIds": list(given.get("SecurityGroupIds") or []),
        "VpcId": vpc_id,
        "Ipv6AllowedForDualStack": bool(given.get("Ipv6AllowedForDualStack", False)),
    }


def logging_config(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """LoggingConfig with the given members applied: the JSON format brings both log levels (INFO unless given);
    a switch back to Text drops the levels the request does not set."""
    merged = {**current, **given}
    levels = ("ApplicationLogLevel", "SystemLogLevel")
    if merged.get("LogFormat") == "JSON":
        for key in levels:
            merged.setdefault(key, "INFO")
    elif given.get("LogFormat") == "Text":
        for key in levels:
            if key not in given:
                merged.pop(key, None)
    order = ("LogFormat", *levels, "LogGroup")
    return {k: merged[k] for k in order if k in merged} | {k: v for k, v in merged.items() if k not in order}


def runtime_version_arn(region: str, runtime: str | None) -> str:
    digest = hashlib.sha256(f"broker-runtime:{runtime}".encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def answer_created(config: dict[str, Any]) -> dict[str, Any]:
    """CreateFunction's answer: the function is still Pending (later reads show it Active, as soon as it is).
    Its RevisionId is the Pending one's: becoming Active gives the function another (the stored one), so the
    answered id no longer matches, as in Lambda."""
    out = dict(config)
    out["RevisionId"] = ids.uuid4()
    out["State"] = "Pending"
    out["StateReason"] = "The function is being created."
    out["StateReasonCode"] = "Creating"
    out.pop("LastUpdateStatus", None)
    return ordered(out)


def answer_updating(config: dict[str, Any]) -> dict[str, Any]:
    """An update's answer: LastUpdateStatus InProgress (later reads show Successful, with another RevisionId)."""
    out = dict(config)
    out["RevisionId"] = ids.uuid4()
    out["LastUpdateStatus"] = "InProgress"
    out["LastUpdateStatusReason"] = "The function is being created."
    out["LastUpdateStatusReasonCode"] = "Creating"
    return ordered(out)


_ORDER = [
    "FunctionName", "FunctionArn", "Runtime", "Role", "Handler", "CodeSize", "Description", "Timeout", "MemorySize",
    "LastModified", "CodeSha256", "Version", "VpcConfig", "DeadLetterConfig", "Environment", "KMSKeyArn",
    "TracingConfig", "MasterArn", "RevisionId", "Layers", "State", "StateReason", "StateReasonCode",
    "LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode", "FileSystemConfigs", "PackageType",
    "ImageConfigResponse", "Architectures", "EphemeralStorage", "SnapStart", "RuntimeVersionConfig", "LoggingConfig",
]  # fmt: skip


# What ListFunctions and ListVersionsByFunction leave out of each configuration.
_NOT_LISTED = (
    "State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode", "RuntimeVersionConfig",
)  # fmt: skip
# What changes without changing the function's code or configuration (PublishVersion publishes only on a change).
_NOT_CONTENT = frozenset(
    {"FunctionArn", "Version", "RevisionId", "LastModified", *_NOT_LISTED} - {"RuntimeVersionConfig"}
)


def listed(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in _NOT_LISTED}


def content_hash(config: dict[str, Any], code_sha: str) -> str:
    """A digest of a version's code and configuration: equal digests mean nothing to publish."""
    content = {k: v for k, v in config.items() if k not in _NOT_CONTENT}
    return hashlib.sha256(json.dumps([content, code_sha], sort_keys=True).encode()).hexdigest()


def ordered(config: dict[str, Any]) -> dict[str, Any]:
    rank = {k: i for i, k in enumerate(_ORDER)}
    return dict(sorted(config.items(), key=lambda kv: rank.get(kv[0], len(rank))))
