"""Kinesis channels (CreateChannel, DescribeChannel, ListChannels, UpdateChannel, DeleteChannel): delivery of a
stream to Amazon S3 or S3 Tables. This broker has no S3, so a channel is a stored, validated and described
configuration with its status lifecycle; no record is delivered anywhere."""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Callable
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.kinesis import store
from broker.services.kinesis.operations import check_tags, resolve
from broker.services.kinesis.queues import find_by_arn, list_page, stream_arn_of, validation
from broker.services.kinesis.streams import invalid, status_at

CHANNEL_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):channel/([a-z0-9]{1,64})$")
FRESHNESS_MIN, FRESHNESS_MAX, FRESHNESS_DEFAULT = 300, 900, 300
FORMATS = {"S3": {"JSON", "STRING", "BYTE_ARRAY"}, "S3_TABLES": {"JSON", "GSR_JSON"}}
MEMBER = {"S3": "S3DestinationConfiguration", "S3_TABLES": "S3TablesDestinationConfiguration"}


def channel_arn(row: dict) -> str:
    return f"arn:aws:kinesis:{row['region']}:{row['account']}:channel/{row['channel_id']}"


def _not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Channel {arn} not found.")


async def find(ctx: RequestContext, arn: str, deleting: bool = False) -> dict:
    return await find_by_arn(ctx, arn, CHANNEL_ARN, store.get_channel, "Channel", deleting)


def _freshness(config: dict) -> int:
    value = config.get("DataFreshnessInSeconds", FRESHNESS_DEFAULT)
    if not FRESHNESS_MIN <= value <= FRESHNESS_MAX:
        raise validation(
            f"DataFreshnessInSeconds must be between {FRESHNESS_MIN} and {FRESHNESS_MAX} seconds, not {value}."
        )
    return value


def _logging(given: dict | None, name: str, channel_id: str) -> dict:
    logs = dict((given or {}).get("CloudWatchLogs") or {"Enabled": False})
    if logs["Enabled"]:
        logs.setdefault("LogGroupName", f"/aws/kinesis/{name}/{channel_id}")
        logs.setdefault("LogStreamName", "DestinationDelivery")
    return {"CloudWatchLogs": logs}


def _destination(p: dict, record_format: str, schema: str | None) -> tuple[str, dict]:
    """The destination type and its description (defaults filled in)."""
    s3, tables = p.get("S3DestinationConfiguration"), p.get("S3TablesDestinationConfiguration")
    if (s3 is None) == (tables is None):
        raise validation("Specify exactly one of S3DestinationConfiguration and S3TablesDestinationConfiguration.")
    kind = "S3" if s3 is not None else "S3_TABLES"
    if record_format not in FORMATS[kind]:
        where = "general purpose Amazon S3" if kind == "S3" else "streaming table (Amazon S3 Tables)"
        raise validation(f"RecordFormatType {record_format} is not supported for {where} destinations.")
    if kind == "S3":
        storage = s3["StorageConfiguration"]
        # Without a dead-letter configuration, failed records go to the destination bucket under an error prefix.
        dead = s3.get("DeadLetterQueueS3Configuration") or {
            "BucketARN": storage["BucketARN"],
            "ExpectedBucketOwner": storage["ExpectedBucketOwner"],
            "ErrorOutputPrefix": "error/",
        }
        return kind, {
            "DataFreshnessInSeconds": _freshness(s3),
            "DeadLetterQueueS3Configuration": dead,
            "StorageConfiguration": {"StorageClass": "STANDARD", **storage},
        }
    if schema is None:
        raise validation("GSRSchemaARN is required when the channel delivers to a streaming table.")
    if len(tables["S3TablesConfigurationList"]) != 1:
        raise validation("S3TablesConfigurationList must contain exactly one table: one table per channel.")
    return kind, {
        "DataFreshnessInSeconds": _freshness(tables),
        "DeadLetterQueueS3Configuration": tables["DeadLetterQueueS3Configuration"],
        "S3TablesConfigurationList": tables["S3TablesConfigurationList"],
    }


def _description(row: dict, stream: dict, status: str) -> dict[str, Any]:
    config = json.loads(row["config"])
    doc: dict[str, Any] = {
        "ChannelName": row["name"].split("~")[-1],
        "ChannelARN": channel_arn(row),
        "ChannelId": row["channel_id"],
        "ChannelStatus": status,
        "ChannelCreationTimestamp": clock.to_datetime(row["created_at"]),
        "ServiceExecutionRoleARN": config["role"],
        "StreamConfigurationList": [
            {
                "StreamARN": stream_arn_of(stream),
                "StreamCreationTimestamp": clock.to_datetime(stream["created_at"]),
                "RecordConfiguration": config["record"],
            }
        ],
        MEMBER[config["type"]]: config["destination"],
        "LoggingConfiguration": config["logging"],
    }
    if config.get("encryption"):
        doc["EncryptionConfiguration"] = config["encryption"]
    return doc


async def _describe(ctx: RequestContext, row: dict, status: str | None = None) -> dict[str, Any]:
    stream = await ctx.env.db.read(store.stream_by_id, row["stream_id"])
    if stream is None:
        raise _not_found(channel_arn(row))
    return _description(row, stream, status or status_at(row["status"], row["status_until"], clock.now_ms()))


async def create_channel(ctx: RequestContext, p: dict) -> dict:
    configs = p["StreamConfigurationList"]
    if len(configs) != 1:
        raise validation("StreamConfigurationList must contain exactly one entry: one stream per channel.")
    record = configs[0]["RecordConfiguration"]
    kind, destination = _destination(p, record["RecordFormatType"], record.get("GSRSchemaARN"))
    encryption = p.get("EncryptionConfiguration")
    if encryption and encryption["KeyId"] in ("alias/aws/kinesis", "aws/kinesis"):
        raise validation("A channel needs a customer managed KMS key; the aws/kinesis service key cannot be used.")
    tags = p.get("Tags") or {}
    check_tags(tags)
    s = await resolve(ctx, {"StreamARN": configs[0]["StreamARN"]}, fresh=True)
    if (s.account, s.region) != (ctx.account, ctx.region):
        raise invalid("A channel must be created in the account and Region of its data stream.")
    now = clock.now_ms()
    state = s.status_at(now)
    if state != "ACTIVE":
        raise ServiceError(
            "ResourceInUseException", f"Stream {s.name} under account {s.account} not ACTIVE, instead in state {state}"
        )
    if s.mode != "ON_DEMAND":
        raise validation(f"Channels are supported only on data streams in on-demand capacity mode; {s.name} is not.")
    channel_id = "".join(random.choices(string.ascii_lowercase + string.digits, k=26))  # noqa: S311
    config = {
        "type": kind,
        "role": p["ServiceExecutionRoleARN"],
        "record": record,
        "destination": destination,
        "logging": _logging(p.get("LoggingConfiguration"), p["ChannelName"], channel_id),
        "encryption": encryption,
    }
    values = {
        "account": ctx.account,
        "region": ctx.region,
        "name": p["ChannelName"],
        "channel_id": channel_id,
        "stream_id": s.id,
        "config": store.dumps(config),
        "status": "CREATING",
        "status_until": now + ctx.env.settings.kinesis_status_delay_ms,
        "tags": store.dumps(tags),
        "created_at": now,
    }
    outcome = await ctx.env.db.write(store.add_channel, values, kind)
    if outcome == "exists":
        raise ServiceError(
            "ResourceInUseException", f"Channel {p['ChannelName']} under account {ctx.account} already exists."
        )
    if outcome == "gone":
        raise ServiceError("ResourceInUseException", f"Stream {s.name} under account {s.account} is being deleted.")
    if outcome == "limit":
        raise ServiceError(
            "LimitExceededException",
            f"Stream {s.name} already has a channel to a {kind} destination: one channel of each type per stream.",
        )
    stream = {"account": s.account, "region": s.region, "name": s.name, "created_at": s.created_at}
    return {"ChannelDescription": _description(values, stream, "CREATING")}


async def describe_channel(ctx: RequestContext, p: dict) -> dict:
    return {"ChannelDescription": await _describe(ctx, await find(ctx, p["ChannelARN"], deleting=True))}


async def list_channels(ctx: RequestContext, p: dict) -> dict:
    def summary(row: dict, now: int) -> dict:
        return {
            "ChannelName": row["name"],
            "ChannelARN": channel_arn(row),
            "ChannelId": row["channel_id"],
            "ChannelStatus": status_at(row["status"], row["status_until"], now),
            "ChannelCreationTimestamp": clock.to_datetime(row["created_at"]),
            "ChannelDestinationType": json.loads(row["config"])["type"],
        }

    summaries, token = await list_page(ctx, p, "channels_after", store.list_channels, summary)
    return {"ChannelSummaries": summaries, **({"NextToken": token} if token else {})}


async def update_channel(ctx: RequestContext, p: dict) -> dict:
    row = await find(ctx, p["ChannelARN"])
    given = [
        m for m in ("S3DestinationConfiguration", "S3TablesDestinationConfiguration", "LoggingConfiguration") if m in p
    ]
    if not given:
        raise validation("Specify the destination's DataFreshnessInSeconds, LoggingConfiguration or both.")
    now = clock.now_ms()

    def change(current: dict) -> dict[str, Any]:
        state = status_at(current["status"], current["status_until"], now)
        if state != "ACTIVE":
            raise ServiceError("ResourceInUseException", f"Channel {p['ChannelARN']} is not ACTIVE, instead {state}.")
        config = json.loads(current["config"])
        for kind, member in MEMBER.items():
            if member in p:
                if config["type"] != kind:
                    raise validation(f"{member} does not match the channel's destination type {config['type']}.")
                config["destination"]["DataFreshnessInSeconds"] = _freshness(p[member])
        if "LoggingConfiguration" in p:
            config["logging"] = _logging(p["LoggingConfiguration"], current["name"], current["channel_id"])
        until = now + ctx.env.settings.kinesis_status_delay_ms
        return {"config": store.dumps(config), "status": "UPDATING", "status_until": until}

    updated = await ctx.env.db.write(store.modify_channel, row["id"], change)
    if updated is None:
        raise _not_found(p["ChannelARN"])
    return {"ChannelDescription": await _describe(ctx, updated, "UPDATING")}


async def delete_channel(ctx: RequestContext, p: dict) -> dict:
    row = await find(ctx, p["ChannelARN"])
    now = clock.now_ms()

    def change(current: dict) -> dict[str, Any]:
        until = now + ctx.env.settings.kinesis_status_delay_ms
        return {"status": "DELETING", "status_until": until, "name": f"~{current['id']}~{current['name']}"}

    if await ctx.env.db.write(store.modify_channel, row["id"], change) is None:
        raise _not_found(p["ChannelARN"])
    return {}


# -- tags (TagResource, UntagResource, ListTagsForResource with a channel ARN) -----------------------------------
async def change_tags(ctx: RequestContext, arn: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
    row = await find(ctx, arn)
    done = await ctx.env.db.write(
        store.modify_channel, row["id"], lambda r: {"tags": store.dumps(change(json.loads(r["tags"])))}
    )
    if done is None:
        raise _not_found(arn)


async def tags(ctx: RequestContext, arn: str) -> dict[str, str]:
    return json.loads((await find(ctx, arn))["tags"])


HANDLERS = {
    "CreateChannel": create_channel,
    "DescribeChannel": describe_channel,
    "ListChannels": list_channels,
    "UpdateChannel": update_channel,
    "DeleteChannel": delete_channel,
}
