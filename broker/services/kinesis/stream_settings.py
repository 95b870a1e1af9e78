"""Kinesis Data Streams operations on a stream's settings: retention, tags, encryption, enhanced monitoring, capacity
mode, record size, warm throughput, record distribution, resource policies; and the account's settings. Each change
is a read-modify-write of the stream row in one write unit, so concurrent requests do not lose each other's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.kinesis import store
from broker.services.kinesis.errors import in_use, invalid, no_resource_policy, too_many_stream_tags, validation
from broker.services.kinesis.lookup import active, resolve, resolve_arn
from broker.services.kinesis.stream_operations import updating_until
from broker.services.kinesis.streams import Row, Stream
from broker.services.kinesis.tag_rules import MAX_TAGS, check_tags
from broker.tags import changed

MIN_RETENTION_H, MAX_RETENTION_H = 24, 8760
METRICS = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
]


def _check_retention(hours: int) -> None:
    if hours < MIN_RETENTION_H:
        raise invalid(
            f"Minimum allowed retention period is {MIN_RETENTION_H} hours. Requested retention period ({hours} "
            "hours) is too short."
        )
    if hours > MAX_RETENTION_H:
        raise invalid(
            f"Maximum allowed retention period is {MAX_RETENTION_H} hours. Requested retention period ({hours} "
            "hours) is too long."
        )


async def increase_stream_retention_period(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    hours = p["RetentionPeriodHours"]
    _check_retention(hours)
    now = clock.now_ms()

    def change(row: Row) -> dict[str, Any]:
        if hours < row["retention_hours"]:
            raise invalid(
                f"Requested retention period ({hours} hours) for stream {s.name} can not be shorter than existing "
                f"retention period ({row['retention_hours']} hours). Use DecreaseRetentionPeriod API."
            )
        # Records that had expired under the old period stay expired (AWS: no expired data becomes accessible).
        attrs = json.loads(row["attributes"])
        attrs["ExpiredBefore"] = store.oldest_kept(row, now)
        return {"retention_hours": hours, "attributes": store.dumps(attrs)}

    await _modify(ctx, s, change)
    return {}


async def decrease_stream_retention_period(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    hours = p["RetentionPeriodHours"]
    _check_retention(hours)

    def change(row: Row) -> dict[str, Any]:
        if hours > row["retention_hours"]:
            raise invalid(
                f"Requested retention period ({hours} hours) for stream {s.name} can not be longer than existing "
                f"retention period ({row['retention_hours']} hours). Use IncreaseRetentionPeriod API."
            )
        return {"retention_hours": hours}

    await _modify(ctx, s, change)
    return {}


async def _modify(ctx: RequestContext, s: Stream, change: Callable[[Row], dict[str, Any]]) -> dict[str, Any]:
    """Apply `change` to the stream's current row in the writer (no lost updates between concurrent requests)."""
    return await ctx.env.db.write(store.modify_stream, s.id, s.cache_key, change)


async def _set_attribute(ctx: RequestContext, s: Stream, name: str, value: Any) -> None:
    """Set (or with None remove) one setting kept in the stream's `attributes`."""

    def change(row: Row) -> dict[str, Any]:
        attrs = json.loads(row["attributes"])
        if value is None:
            attrs.pop(name, None)
        else:
            attrs[name] = value
        return {"attributes": store.dumps(attrs)}

    await _modify(ctx, s, change)


async def set_tags(ctx: RequestContext, s: Stream, add: dict[str, str], remove: list[str]) -> None:
    check_tags(add)

    def too_many() -> ServiceError:
        return too_many_stream_tags(s.name, s.account, MAX_TAGS)

    def change(row: Row) -> dict[str, Any]:
        return {"tags": store.dumps(changed(json.loads(row["tags"]), add, remove, MAX_TAGS, too_many))}

    await _modify(ctx, s, change)


async def add_tags_to_stream(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await resolve(ctx, p, fresh=True)
    await set_tags(ctx, s, p["Tags"], [])
    return {}


async def remove_tags_from_stream(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await resolve(ctx, p, fresh=True)
    await set_tags(ctx, s, {}, p["TagKeys"])
    return {}


async def list_tags_for_stream(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await resolve(ctx, p, fresh=True)
    keys = sorted(k for k in s.tags if k > (p.get("ExclusiveStartTagKey") or ""))
    limit = p.get("Limit") or 50
    return {
        "Tags": [{"Key": k, "Value": s.tags[k]} for k in keys[:limit]],
        "HasMoreTags": len(keys) > limit,
    }


def _updating(ctx: RequestContext) -> dict[str, Any]:
    """The columns that put a stream into UPDATING for the configured delay."""
    return {"status": "UPDATING", "status_until": updating_until(ctx)}


async def start_stream_encryption(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    if p["EncryptionType"] != "KMS":
        raise invalid("EncryptionType must be KMS.")
    await ctx.env.db.write(
        store.update_stream, s.id, s.cache_key, dict(encryption="KMS", key_id=p["KeyId"], **_updating(ctx))
    )
    return {}


async def stop_stream_encryption(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    if p["EncryptionType"] != "KMS":
        raise invalid("EncryptionType must be KMS.")
    await ctx.env.db.write(
        store.update_stream, s.id, s.cache_key, dict(encryption="NONE", key_id=None, **_updating(ctx))
    )
    return {}


async def _set_metrics(ctx: RequestContext, p: dict[str, Any], enable: bool) -> dict[str, Any]:
    s = await active(ctx, p)
    asked = p["ShardLevelMetrics"]
    for m in asked:
        if m not in (*METRICS, "ALL"):
            raise invalid(f"Invalid ShardLevelMetrics value {m}.")
    wanted = set(METRICS) if "ALL" in asked else set(asked)
    before: list[str] = []

    def change(row: Row) -> dict[str, Any]:
        before[:] = json.loads(row["metrics"])
        desired = set(before) | wanted if enable else set(before) - wanted
        return {"metrics": store.dumps([m for m in METRICS if m in desired])}

    after = json.loads((await _modify(ctx, s, change))["metrics"])
    return {
        "StreamName": s.name,
        "StreamARN": s.arn,
        "CurrentShardLevelMetrics": [m for m in METRICS if m in before],
        "DesiredShardLevelMetrics": after,
    }


async def enable_enhanced_monitoring(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _set_metrics(ctx, p, True)


async def disable_enhanced_monitoring(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _set_metrics(ctx, p, False)


async def update_stream_mode(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, {"StreamARN": p["StreamARN"]})
    mode = p["StreamModeDetails"]["StreamMode"]
    if mode == s.mode:
        raise invalid(f"Stream {s.name} under account {s.account} is already in {mode} mode.")
    if mode == "PROVISIONED" and await ctx.env.db.read(store.queue_count, s.id):
        raise in_use(f"Stream {s.name} under account {s.account} has queues, which need on-demand mode.")
    if mode == "PROVISIONED" and await ctx.env.db.read(store.channel_count, s.id):
        raise in_use(f"Stream {s.name} under account {s.account} has channels, which need on-demand mode.")
    await ctx.env.db.write(store.update_stream, s.id, s.cache_key, dict(mode=mode, **_updating(ctx)))
    return {}


async def update_max_record_size(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    await _set_attribute(ctx, s, "MaxRecordSizeInKiB", p["MaxRecordSizeInKiB"])
    return {}


async def update_stream_warm_throughput(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    if s.mode != "ON_DEMAND":
        raise validation("Warm throughput applies to on-demand streams only.")
    target = p["WarmThroughputMiBps"]
    await _set_attribute(ctx, s, "WarmThroughputMiBps", target)
    return {"StreamARN": s.arn, "StreamName": s.name, "WarmThroughput": {"TargetMiBps": target, "CurrentMiBps": target}}


async def update_stream_record_distribution_strategy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    if s.mode != "ON_DEMAND":
        raise invalid("The record distribution strategy applies to on-demand streams only.")
    await _set_attribute(ctx, s, "RecordDistributionStrategy", p["RecordDistributionStrategy"])
    return {}


async def describe_account_settings(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    state = await ctx.env.db.read(store.account_settings, ctx.account)
    return {"MinimumThroughputBillingCommitment": _commitment(state)}


async def update_account_settings(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    wanted = p["MinimumThroughputBillingCommitment"]["Status"]
    state = await ctx.env.db.write(store.set_commitment, ctx.account, wanted, clock.now_ms())
    return {"MinimumThroughputBillingCommitment": _commitment(state)}


def _commitment(state: dict[str, Any]) -> dict[str, Any]:
    """Billing commitments mean nothing here: the status is kept and reported, with its times."""
    out: dict[str, Any] = {"Status": state.get("Status", "DISABLED")}
    for key in ("StartedAt", "EndedAt"):
        if state.get(key):
            out[key] = clock.to_datetime(state[key])
    return out


async def _policy_target(ctx: RequestContext, p: dict[str, Any]) -> Stream:
    arn = p["ResourceARN"]
    if ":stream/" not in arn or "/consumer/" in arn:
        raise invalid(f"Invalid ResourceARN {arn}: resource policies are kept for stream ARNs.")
    return await resolve_arn(ctx, arn)


async def put_resource_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await _policy_target(ctx, p)
    try:
        policy = json.loads(p["Policy"])
    except ValueError:
        raise invalid("Policy is not valid JSON.") from None
    if not isinstance(policy, dict):
        raise invalid("Policy must be a JSON object.")
    await _set_attribute(ctx, s, "Policy", p["Policy"])
    return {}


async def get_resource_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await _policy_target(ctx, p)
    return {"Policy": s.attrs.get("Policy", "{}")}


async def delete_resource_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await _policy_target(ctx, p)
    if "Policy" not in s.attrs:
        raise no_resource_policy(s.arn)
    await _set_attribute(ctx, s, "Policy", None)
    return {}


HANDLERS = {
    "IncreaseStreamRetentionPeriod": increase_stream_retention_period,
    "DecreaseStreamRetentionPeriod": decrease_stream_retention_period,
    "AddTagsToStream": add_tags_to_stream,
    "RemoveTagsFromStream": remove_tags_from_stream,
    "ListTagsForStream": list_tags_for_stream,
    "StartStreamEncryption": start_stream_encryption,
    "StopStreamEncryption": stop_stream_encryption,
    "EnableEnhancedMonitoring": enable_enhanced_monitoring,
    "DisableEnhancedMonitoring": disable_enhanced_monitoring,
    "UpdateStreamMode": update_stream_mode,
    "UpdateMaxRecordSize": update_max_record_size,
    "UpdateStreamWarmThroughput": update_stream_warm_throughput,
    "PutResourcePolicy": put_resource_policy,
    "GetResourcePolicy": get_resource_policy,
    "DeleteResourcePolicy": delete_resource_policy,
    "UpdateStreamRecordDistributionStrategy": update_stream_record_distribution_strategy,
    "DescribeAccountSettings": describe_account_settings,
    "UpdateAccountSettings": update_account_settings,
}
