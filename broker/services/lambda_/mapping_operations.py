"""Event source mappings: created, read, updated, deleted and listed with Lambda's validation (the source kind
from the event source ARN, batch sizes and windows per kind, starting positions for streams, destinations, filter
patterns, the function and its qualifier). The pollers (sources/) run what is stored here (mapping_store); every change
wakes them. A new mapping answers State "Creating" and reads "Enabled" (or "Disabled") after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from broker import clock, ids
from broker.auth.resource_policy import allows
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.protocol.spec import load_model
from broker.services.kinesis import store as kinesis_store
from broker.services.kinesis.streams import parse_arn as parse_stream_arn
from broker.services.lambda_ import arns, errors, mapping_store, store
from broker.services.lambda_.arns import FunctionRef
from broker.services.lambda_.common import check_enum, check_enum_list, page, qualifier_exists
from broker.services.lambda_.destinations import executor
from broker.services.lambda_.sources import checkpoint_store, filters
from broker.services.lambda_.sources.manager import WAKE_KEY
from broker.services.lambda_.store import LATEST
from broker.services.sqs.queues import queue_by_arn
from broker.storage.db import Tx

ORDER = list(load_model("lambda").shape_for("EventSourceMappingConfiguration").members)
POSITIONS = ["LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"]
RESPONSE_TYPES = ["ReportBatchItemFailures"]
# Source kind -> (default batch size, maximum batch size).
BATCH = {
    "sqs": (10, 10_000),
    "sqs-fifo": (10, 10),
    "kinesis": (100, 10_000),
    "dynamodb": (100, 10_000),
    "kafka": (100, 10_000),
    "mq": (100, 10_000),
    "docdb": (100, 10_000),
}
KINDS = {"sqs": "sqs", "kinesis": "kinesis", "dynamodb": "dynamodb", "kafka": "kafka", "mq": "mq", "rds": "docdb"}
STREAMS = frozenset({"kinesis", "dynamodb"})  # the kinds with retries, bisection, windows and failure destinations
POSITIONED = frozenset({"kinesis", "dynamodb", "kafka", "docdb"})  # the kinds that need a StartingPosition
STREAM_ONLY = (
    "ParallelizationFactor", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds", "MaximumRetryAttempts",
    "TumblingWindowInSeconds", "DestinationConfig",
)  # fmt: skip
MAX_TAGS = 50


def _kind(p: dict[str, Any]) -> str:
    if p.get("SelfManagedEventSource"):
        return "kafka"
    arn = p.get("EventSourceArn")
    if not arn:
        raise errors.invalid_parameter("Unrecognized event source.")
    service = arn.split(":")[2]
    kind = KINDS.get(service)
    if kind is None or (kind == "dynamodb" and "/stream/" not in arn):
        raise errors.invalid_parameter("Unrecognized event source, must be kinesis, dynamodb stream or sqs.")
    if kind == "sqs" and arn.endswith(".fifo"):
        return "sqs-fifo"
    return kind


def _mapping_arn(ctx: RequestContext, uuid: str) -> str:
    return f"arn:aws:lambda:{ctx.region}:{ctx.account}:event-source-mapping:{uuid}"


async def _function_arn(ctx: RequestContext, name: str) -> tuple[FunctionRef, str]:
    """The function (and qualifier) a FunctionName names, as the mapping's FunctionArn."""
    try:
        ref = arns.parse(ctx, name)
    except ServiceError as e:
        if e.code == "ValidationException":
            raise
        raise errors.invalid_parameter("Function does not exist") from None  # another account's or region's too
    fn = await ctx.env.db.read(store.get_function, ref.account, ref.region, ref.name)
    if fn is None or (ref.qualifier and not await qualifier_exists(ctx, fn, ref.qualifier)):
        raise errors.invalid_parameter("Function does not exist")
    return ref, ref.qualified_arn


async def _check_source_access(ctx: RequestContext, kind: str, source: str | None, ref: FunctionRef) -> None:
    """With auth = "sigv4", a queue or stream of another account must grant the function's execution role what its
    poller calls (its resource policy; the broker keeps no identity policies), as Lambda checks at creation: else
    another account's caller could drain a queue it may not read."""
    parts = (source or "").split(":")
    if not ctx.authenticated or len(parts) < 6 or parts[4] == ctx.account or kind not in ("sqs", "sqs-fifo", "kinesis"):
        return

    def read(conn: Connection) -> tuple[str, str | None]:
        version = store.get_version(conn, ref.account, ref.region, ref.name, LATEST)
        role = str(version.config.get("Role", "")) if version else ""
        if kind == "kinesis":
            region, account, name = parse_stream_arn(source or "")
            stream = kinesis_store.get_stream(conn, account, region, name)
            return role, stream.attrs.get("Policy") if stream else None
        queue = queue_by_arn(conn, source or "")
        return role, queue.attrs.get("Policy") if queue else None

    role, policy = await ctx.env.db.read(read)
    poller = executor(ref.account, ref.name, role)  # the poller acts as a session of the function's role
    if kind == "kinesis":
        if not allows(policy, poller, "kinesis:GetRecords", source or ""):
            raise errors.invalid_parameter(
                f"Cannot access stream {source}. Please ensure the role can perform the GetRecords, "
                "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM."
            )
    elif not allows(policy, poller, "sqs:ReceiveMessage", source or ""):
        raise errors.invalid_parameter(
            "The provided execution role does not have permissions to call ReceiveMessage on SQS"
        )


def _check_batching(kind: str, batch: int, window: int) -> None:
    _, most = BATCH[kind]
    if kind == "sqs-fifo" and window:
        raise errors.invalid_parameter("Batching window is not supported for SQS FIFO event sources.")
    if kind == "sqs" and batch > 10 and window == 0:
        raise errors.invalid_parameter(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
        )
    if batch > most:
        raise errors.invalid_parameter(f"Maximum batch size must be between 1 and {most} inclusive")


def _check_settings(kind: str, p: dict[str, Any]) -> None:
    """Checks Create and Update share: parameters the kind has, record ages, filters, response types."""
    if kind not in STREAMS:
        for key in STREAM_ONLY:
            if key in p:
                raise errors.invalid_parameter(f"Unsupported {key} parameter for given event source mapping type.")
    if "ScalingConfig" in p and kind not in ("sqs", "sqs-fifo"):
        raise errors.invalid_parameter("Unsupported ScalingConfig parameter for given event source mapping type.")
    age = p.get("MaximumRecordAgeInSeconds")
    if age is not None and age != -1 and not 60 <= age <= 604_800:
        raise errors.invalid_parameter("MaximumRecordAgeInSeconds must be either -1 or between 60 and 604800.")
    check_enum_list(p.get("FunctionResponseTypes"), "functionResponseTypes", RESPONSE_TYPES)
    try:
        filters.compile_criteria(p.get("FilterCriteria"))
    except ValueError:
        raise errors.invalid_parameter("Invalid filter pattern definition.") from None
    destination = p.get("DestinationConfig") or {}
    success = (destination.get("OnSuccess") or {}).get("Destination")
    failure = (destination.get("OnFailure") or {}).get("Destination")
    if success or (failure and failure.split(":")[2:3] not in (["sqs"], ["sns"], ["s3"])):
        on_success = f"OnSuccess(destination={success})" if success else "null"
        on_failure = f"OnFailure(destination={failure})" if failure else "null"
        raise errors.invalid_parameter(
            f"The provided destination config DestinationConfig(onSuccess={on_success}, onFailure={on_failure}) is "
            "invalid."
        )


def _check_position(kind: str, p: dict[str, Any]) -> None:
    position = p.get("StartingPosition")
    check_enum(position, "startingPosition", POSITIONS)
    if kind in ("sqs", "sqs-fifo", "mq"):
        if position is not None or "StartingPositionTimestamp" in p:
            source = "SQS" if kind != "mq" else "Amazon MQ"
            raise errors.invalid_parameter(f"StartingPosition is not valid for {source} event sources.")
        return
    if position is None:
        raise errors.invalid_parameter(
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member "
            "must not be null."
        )
    if "StartingPositionTimestamp" in p and position != "AT_TIMESTAMP":
        raise errors.invalid_parameter("Timestamp only valid with StartingPosition AT_TIMESTAMP")
    if position == "AT_TIMESTAMP":
        if kind == "dynamodb":
            raise errors.invalid_parameter(f"Unsupported starting position for arn type: {p['EventSourceArn']}")
        if "StartingPositionTimestamp" not in p:
            raise errors.invalid_parameter("StartingPositionTimestamp must be set for StartingPosition AT_TIMESTAMP.")


def _ordered(config: dict[str, Any]) -> dict[str, Any]:
    rank = {k: i for i, k in enumerate(ORDER)}
    return dict(sorted(config.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def _answer(config: dict[str, Any], state: str | None = None) -> dict[str, Any]:
    out = {k: v for k, v in config.items() if k not in ("Tags", "Kind")}
    out["LastModified"] = clock.to_datetime(int(config["LastModified"]))
    if "StartingPositionTimestamp" in out:
        out["StartingPositionTimestamp"] = clock.to_datetime(int(config["StartingPositionTimestamp"]))
    if state is not None:
        out["State"] = state
    return out


def _ms(value: datetime) -> int:
    return clock.to_ms(value)


async def create_event_source_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    kind = _kind(p)
    _check_position(kind, p)
    _check_settings(kind, p)
    default_batch, _ = BATCH[kind]
    batch = p.get("BatchSize", default_batch)
    window = p.get("MaximumBatchingWindowInSeconds", 0)
    _check_batching(kind, batch, window)
    if len(p.get("Tags") or {}) > MAX_TAGS:
        raise errors.invalid_parameter("Number of tags exceeds resource tag limit.")
    ref, fn_arn = await _function_arn(ctx, p["FunctionName"])
    await _check_source_access(ctx, kind, p.get("EventSourceArn"), ref)
    uuid = ids.uuid4()
    config: dict[str, Any] = {
        "UUID": uuid,
        "BatchSize": batch,
        "MaximumBatchingWindowInSeconds": window,
        "FunctionArn": fn_arn,
        "LastModified": clock.now_ms(),
        "State": "Enabled" if p.get("Enabled", True) else "Disabled",
        "StateTransitionReason": "USER_INITIATED" if kind in ("sqs", "sqs-fifo") else "User action",
        "FunctionResponseTypes": p.get("FunctionResponseTypes", []),
        "EventSourceMappingArn": _mapping_arn(ctx, uuid),
        "Kind": kind,
    }
    if kind in STREAMS:
        config.update(
            {
                "ParallelizationFactor": p.get("ParallelizationFactor", 1),
                "LastProcessingResult": "No records processed",
                "DestinationConfig": p.get("DestinationConfig") or {"OnFailure": {}},
                "MaximumRecordAgeInSeconds": p.get("MaximumRecordAgeInSeconds", -1),
                "BisectBatchOnFunctionError": p.get("BisectBatchOnFunctionError", False),
                "MaximumRetryAttempts": p.get("MaximumRetryAttempts", -1),
                "TumblingWindowInSeconds": p.get("TumblingWindowInSeconds", 0),
            }
        )
    skip = {"FunctionName", "Enabled", "BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes"}
    for key, value in p.items():
        if key not in skip and key not in config:
            config[key] = value
    if "StartingPositionTimestamp" in config:
        config["StartingPositionTimestamp"] = _ms(p["StartingPositionTimestamp"])
    config = _ordered(config)
    source = p.get("EventSourceArn")

    def write(tx: Tx) -> None:
        if source:
            for other in mapping_store.listing(tx.conn, ctx.account, ctx.region):
                if other["FunctionArn"] == fn_arn and other.get("EventSourceArn") == source:
                    raise _duplicate(kind, source, ref.name, other["UUID"])
        mapping_store.add(tx, ctx.account, ctx.region, uuid, config)
        tx.wake(WAKE_KEY)

    await ctx.env.db.write(write)
    return _answer(config, "Creating")


def _duplicate(kind: str, source: str, name: str, uuid: str) -> ServiceError:
    if kind in ("sqs", "sqs-fifo"):
        return errors.conflict(
            f'An event source mapping with SQS arn (" {source} ") and function (" {name} ") already exists. '
            f"Please update or delete the existing mapping with UUID {uuid}"
        )
    return errors.conflict(
        f'The event source arn (" {source} ") and function (" {name} ") provided mapping already exists. Please '
        f"update or delete the existing mapping with UUID {uuid}"
    )


async def _existing(ctx: RequestContext, uuid: str) -> dict[str, Any]:
    found = await ctx.env.db.read(mapping_store.get, ctx.account, ctx.region, uuid)
    if found is None:
        raise errors.resource_missing()
    return found


async def get_event_source_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _answer(await _existing(ctx, p["UUID"]))


async def update_event_source_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    current = await _existing(ctx, p["UUID"])
    kind = str(current.get("Kind") or _kind(current))
    _check_settings(kind, p)
    batch = p.get("BatchSize", current["BatchSize"])
    window = p.get("MaximumBatchingWindowInSeconds", current.get("MaximumBatchingWindowInSeconds", 0))
    _check_batching(kind, batch, window)
    fn_arn = current["FunctionArn"]
    if "FunctionName" in p:
        _, fn_arn = await _function_arn(ctx, p["FunctionName"])
    state = current["State"]
    shown = "Updating"
    if "Enabled" in p:
        wanted = "Enabled" if p["Enabled"] else "Disabled"
        if wanted != state:
            shown = "Enabling" if p["Enabled"] else "Disabling"
        state = wanted
    changes = {k: v for k, v in p.items() if k not in ("UUID", "FunctionName", "Enabled")}
    if (changes.get("FilterCriteria") or {}).get("Filters") == []:
        changes.pop("FilterCriteria")
        current.pop("FilterCriteria", None)
    config = _ordered({**current, **changes, "FunctionArn": fn_arn, "State": state, "LastModified": clock.now_ms()})

    def write(tx: Tx) -> None:
        if mapping_store.get(tx.conn, ctx.account, ctx.region, p["UUID"]) is None:
            raise errors.resource_missing()
        mapping_store.put(tx, p["UUID"], config)
        tx.wake(WAKE_KEY)

    await ctx.env.db.write(write)
    return _answer(config, shown)


async def delete_event_source_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def write(tx: Tx) -> dict[str, Any]:
        found = mapping_store.get(tx.conn, ctx.account, ctx.region, p["UUID"])
        if found is None:
            raise errors.resource_missing()
        mapping_store.remove(tx, p["UUID"])
        checkpoint_store.remove_mapping(tx, p["UUID"])
        tx.wake(WAKE_KEY)
        return found

    return _answer(await ctx.env.db.write(write), "Deleting")


async def list_event_source_mappings(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    mappings = await ctx.env.db.read(mapping_store.listing, ctx.account, ctx.region)
    if p.get("EventSourceArn"):
        mappings = [m for m in mappings if m.get("EventSourceArn") == p["EventSourceArn"]]
    if p.get("FunctionName"):
        try:
            ref = arns.parse(ctx, p["FunctionName"])
        except ServiceError as e:
            if e.code not in ("ResourceNotFoundException", "AccessDeniedException"):
                raise
            mappings = []  # another region's or account's function has no mappings here
        else:
            if ref.qualifier:
                mappings = [m for m in mappings if m["FunctionArn"] == ref.qualified_arn]
            else:
                mappings = [
                    m for m in mappings if m["FunctionArn"] == ref.arn or m["FunctionArn"].startswith(f"{ref.arn}:")
                ]
    listed, marker = page(mappings, lambda m: str(m["UUID"]), p.get("Marker"), p.get("MaxItems"), default=100)
    out: dict[str, Any] = {"EventSourceMappings": [_answer(m) for m in listed]}
    if marker:
        out["NextMarker"] = marker
    return out


HANDLERS = {
    "CreateEventSourceMapping": create_event_source_mapping,
    "GetEventSourceMapping": get_event_source_mapping,
    "UpdateEventSourceMapping": update_event_source_mapping,
    "DeleteEventSourceMapping": delete_event_source_mapping,
    "ListEventSourceMappings": list_event_source_mappings,
}
