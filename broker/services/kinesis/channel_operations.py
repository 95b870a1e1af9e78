"""Kinesis channel operations (CreateChannel, DescribeChannel, ListChannels, UpdateChannel, DeleteChannel): delivery
of a stream to Amazon S3 or S3 Tables. This broker has no S3, so a channel is a stored, validated and described
configuration with its status lifecycle; no record is delivered anywhere."""

from __future__ import annotations

import json
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.kinesis import store
from broker.services.kinesis.errors import (
    channel_not_active,
    channel_not_found,
    channel_type_taken,
    validation,
)
from broker.services.kinesis.resources import (
    CHANNEL,
    check_created,
    display_name,
    find,
    list_page,
    stream_of,
    stream_to_attach,
)
from broker.services.kinesis.streams import Row, random_id, row_status, stream_arn_of
from broker.services.kinesis.tag_rules import check_tags

FRESHNESS_MIN, FRESHNESS_MAX, FRESHNESS_DEFAULT = 300, 900, 300
FORMATS = {"S3": {"JSON", "STRING", "BYTE_ARRAY"}, "S3_TABLES": {"JSON", "GSR_JSON"}}
MEMBER = {"S3": "S3DestinationConfiguration", "S3_TABLES": "S3TablesDestinationConfiguration"}


def channel_arn(row: Row) -> str:
    return f"arn:aws:kinesis:{row['region']}:{row['account']}:channel/{row['channel_id']}"


def _freshness(config: dict[str, Any]) -> int:
    value: int = config.get("DataFreshnessInSeconds", FRESHNESS_DEFAULT)
    if not FRESHNESS_MIN <= value <= FRESHNESS_MAX:
        raise validation(
            f"DataFreshnessInSeconds must be between {FRESHNESS_MIN} and {FRESHNESS_MAX} seconds, not {value}."
        )
    return value


def _logging(given: dict[str, Any] | None, name: str, channel_id: str) -> dict[str, Any]:
    logs = dict((given or {}).get("CloudWatchLogs") or {"Enabled": False})
    if logs["Enabled"]:
        logs.setdefault("LogGroupName", f"/aws/kinesis/{name}/{channel_id}")
        logs.setdefault("LogStreamName", "DestinationDelivery")
    return {"CloudWatchLogs": logs}


def _destination(p: dict[str, Any], record_format: str, schema: str | None) -> tuple[str, dict[str, Any]]:
    """The destination type and its description (defaults filled in)."""
    s3, tables = p.get("S3DestinationConfiguration"), p.get("S3TablesDestinationConfiguration")
    if (s3 is None) == (tables is None):
        raise validation("Specify exactly one of S3DestinationConfiguration and S3TablesDestinationConfiguration.")
    kind = "S3" if s3 is not None else "S3_TABLES"
    if record_format not in FORMATS[kind]:
        where = "general purpose Amazon S3" if kind == "S3" else "streaming table (Amazon S3 Tables)"
        raise validation(f"RecordFormatType {record_format} is not supported for {where} destinations.")
    if s3 is not None:
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
    tables = p["S3TablesDestinationConfiguration"]  # the one given
    if schema is None:
        raise validation("GSRSchemaARN is required when the channel delivers to a streaming table.")
    if len(tables["S3TablesConfigurationList"]) != 1:
        raise validation("S3TablesConfigurationList must contain exactly one table: one table per channel.")
    return kind, {
        "DataFreshnessInSeconds": _freshness(tables),
        "DeadLetterQueueS3Configuration": tables["DeadLetterQueueS3Configuration"],
        "S3TablesConfigurationList": tables["S3TablesConfigurationList"],
    }


def _description(row: Row, stream: Row, status: str) -> dict[str, Any]:
    config = json.loads(row["config"])
    doc: dict[str, Any] = {
        "ChannelName": display_name(row),
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


async def _describe(ctx: RequestContext, row: Row, status: str | None = None) -> dict[str, Any]:
    stream = await stream_of(ctx, CHANNEL, row, channel_arn(row))
    return _description(row, stream, status or row_status(row, clock.now_ms()))


async def create_channel(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
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
    s, now = await stream_to_attach(ctx, CHANNEL, configs[0]["StreamARN"])
    channel_id = random_id(26)
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
    check_created(CHANNEL, outcome, p["ChannelName"], ctx.account, s)
    if outcome == "limit":
        raise channel_type_taken(s.name, kind)
    stream = {"account": s.account, "region": s.region, "name": s.name, "created_at": s.created_at}
    return {"ChannelDescription": _description(values, stream, "CREATING")}


async def describe_channel(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"ChannelDescription": await _describe(ctx, await find(ctx, CHANNEL, p["ChannelARN"], deleting=True))}


async def list_channels(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def summary(row: Row, now: int) -> dict[str, Any]:
        return {
            "ChannelName": row["name"],
            "ChannelARN": channel_arn(row),
            "ChannelId": row["channel_id"],
            "ChannelStatus": row_status(row, now),
            "ChannelCreationTimestamp": clock.to_datetime(row["created_at"]),
            "ChannelDestinationType": json.loads(row["config"])["type"],
        }

    summaries, token = await list_page(ctx, CHANNEL, p, summary)
    return {"ChannelSummaries": summaries, **({"NextToken": token} if token else {})}


async def update_channel(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await find(ctx, CHANNEL, p["ChannelARN"])
    given = [
        m for m in ("S3DestinationConfiguration", "S3TablesDestinationConfiguration", "LoggingConfiguration") if m in p
    ]
    if not given:
        raise validation("Specify the destination's DataFreshnessInSeconds, LoggingConfiguration or both.")
    now = clock.now_ms()

    def change(current: Row) -> dict[str, Any]:
        state = row_status(current, now)
        if state != "ACTIVE":
            raise channel_not_active(p["ChannelARN"], state)
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
        raise channel_not_found(p["ChannelARN"])
    return {"ChannelDescription": await _describe(ctx, updated, "UPDATING")}


async def delete_channel(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await find(ctx, CHANNEL, p["ChannelARN"])
    now = clock.now_ms()

    def change(current: Row) -> dict[str, Any]:
        until = now + ctx.env.settings.kinesis_status_delay_ms
        return {"status": "DELETING", "status_until": until, "name": f"~{current['id']}~{current['name']}"}

    if await ctx.env.db.write(store.modify_channel, row["id"], change) is None:
        raise channel_not_found(p["ChannelARN"])
    return {}


HANDLERS = {
    "CreateChannel": create_channel,
    "DescribeChannel": describe_channel,
    "ListChannels": list_channels,
    "UpdateChannel": update_channel,
    "DeleteChannel": delete_channel,
}
