"""Kinesis channels: CreateChannel, DescribeChannel, ListChannels, UpdateChannel and DeleteChannel through boto3 —
defaults, validation of destinations and record formats, per-stream limits, status lifecycle, pagination, the
guards on DeleteStream / UpdateStreamMode, and tagging by channel ARN."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.kinesis.helpers import client, create_stream, error_400, wait_active

ROLE = "arn:aws:iam::123456789012:role/channel-role"
BUCKET = "arn:aws:s3:::delivery-bucket"
OWNER = "123456789012"
SCHEMA = "arn:aws:glue:us-east-1:123456789012:schema/registry/schema"
DEAD = {"BucketARN": "arn:aws:s3:::dead-letters", "ExpectedBucketOwner": OWNER, "ErrorOutputPrefix": "failed/"}
TABLE = {
    "TableBucketARN": "arn:aws:s3tables:us-east-1:123456789012:bucket/tables",
    "Namespace": "ns",
    "TableName": "events",
    "CompressionType": "ZSTD",
}
ARN = re.compile(r"^arn:aws:kinesis:us-east-1:\d{12}:channel/[a-z0-9]+$")


def _stream(k, name: str) -> str:
    return create_stream(k, name, shards=None)["StreamARN"]


def _s3() -> dict:
    storage = {"BucketARN": BUCKET, "ExpectedBucketOwner": OWNER, "CompressionType": "GZIP"}
    return {"S3DestinationConfiguration": {"StorageConfiguration": storage}}


def _tables(**kw) -> dict:
    return {
        "S3TablesDestinationConfiguration": {
            "DeadLetterQueueS3Configuration": DEAD,
            "S3TablesConfigurationList": [TABLE],
            **kw,
        }
    }


def _params(name: str, stream: str, fmt: str = "JSON", schema: str | None = None, dest: dict | None = None) -> dict:
    record = {"RecordFormatType": fmt, **({"GSRSchemaARN": schema} if schema else {})}
    return {
        "ChannelName": name,
        "ServiceExecutionRoleARN": ROLE,
        "StreamConfigurationList": [{"StreamARN": stream, "RecordConfiguration": record}],
        **(_s3() if dest is None else dest),
    }


def _create(k, name: str, stream: str, **kw) -> dict:
    return k.create_channel(**_params(name, stream, **kw))["ChannelDescription"]


def _tables_channel(k, name: str, stream: str, **kw) -> dict:
    return _create(k, name, stream, fmt="GSR_JSON", schema=SCHEMA, dest=_tables(), **kw)


def _describe(k, arn: str) -> dict:
    return k.describe_channel(ChannelARN=arn)["ChannelDescription"]


def test_create_s3_channel_defaults(broker):
    k = client(broker)
    stream = _stream(k, "src")
    created = _create(k, "to-s3", stream)
    assert created["ChannelStatus"] == "CREATING"
    assert created["ChannelName"] == "to-s3"
    assert ARN.match(created["ChannelARN"]), created["ChannelARN"]
    assert created["ChannelARN"].endswith("/" + created["ChannelId"])
    described = _describe(k, created["ChannelARN"])
    assert described["ChannelStatus"] == "ACTIVE"
    assert (described["ChannelName"], described["ChannelId"]) == ("to-s3", created["ChannelId"])
    assert described["ServiceExecutionRoleARN"] == ROLE
    [config] = described["StreamConfigurationList"]
    assert config["StreamARN"] == stream
    assert config["RecordConfiguration"] == {"RecordFormatType": "JSON"}
    dest = described["S3DestinationConfiguration"]
    assert dest["DataFreshnessInSeconds"] == 300
    assert dest["StorageConfiguration"]["StorageClass"] == "STANDARD"
    assert dest["StorageConfiguration"]["BucketARN"] == BUCKET
    dead = dest["DeadLetterQueueS3Configuration"]
    assert (dead["BucketARN"], dead["ExpectedBucketOwner"]) == (BUCKET, OWNER)
    assert dead["ErrorOutputPrefix"]
    assert "S3TablesDestinationConfiguration" not in described
    assert described["LoggingConfiguration"] == {"CloudWatchLogs": {"Enabled": False}}


def test_create_s3_tables_channel_with_logging(broker):
    k = client(broker)
    stream = _stream(k, "src")
    logging = {"CloudWatchLogs": {"Enabled": True}}
    params = _params("to-tables", stream, fmt="GSR_JSON", schema=SCHEMA, dest=_tables(DataFreshnessInSeconds=900))
    created = k.create_channel(**params, LoggingConfiguration=logging)["ChannelDescription"]
    described = _describe(k, created["ChannelARN"])
    assert described["ChannelStatus"] == "ACTIVE"
    assert described["StreamConfigurationList"][0]["RecordConfiguration"]["GSRSchemaARN"] == SCHEMA
    dest = described["S3TablesDestinationConfiguration"]
    assert dest["DataFreshnessInSeconds"] == 900
    assert dest["DeadLetterQueueS3Configuration"] == DEAD
    assert dest["S3TablesConfigurationList"] == [TABLE]
    assert "S3DestinationConfiguration" not in described
    assert described["LoggingConfiguration"]["CloudWatchLogs"] == {
        "Enabled": True,
        "LogGroupName": f"/aws/kinesis/to-tables/{created['ChannelId']}",
        "LogStreamName": "DestinationDelivery",
    }


def _record(fmt: str, schema: str | None = None, tables: bool = False) -> Callable[[dict], None]:
    def change(p: dict) -> None:
        p["StreamConfigurationList"][0]["RecordConfiguration"] = {"RecordFormatType": fmt}
        if schema:
            p["StreamConfigurationList"][0]["RecordConfiguration"]["GSRSchemaARN"] = schema
        if tables:
            del p["S3DestinationConfiguration"]
            p.update(_tables())

    return change


def _freshness(value: int) -> Callable[[dict], None]:
    return lambda p: p["S3DestinationConfiguration"].update(DataFreshnessInSeconds=value)


def _two_tables(p: dict) -> None:
    _record("GSR_JSON", SCHEMA, tables=True)(p)
    p["S3TablesDestinationConfiguration"]["S3TablesConfigurationList"] = [TABLE, {**TABLE, "TableName": "other"}]


INVALID: dict[str, Callable[[dict], None]] = {
    "both-destinations": lambda p: p.update(_tables()),
    "no-destination": lambda p: p.pop("S3DestinationConfiguration"),
    "two-streams": lambda p: p.update(StreamConfigurationList=p["StreamConfigurationList"] * 2),
    "freshness-299": _freshness(299),
    "freshness-901": _freshness(901),
    "gsr-json-to-s3": _record("GSR_JSON", SCHEMA),
    "string-to-tables": _record("STRING", SCHEMA, tables=True),
    "byte-array-to-tables": _record("BYTE_ARRAY", SCHEMA, tables=True),
    "tables-without-schema": _record("JSON", tables=True),
    "two-tables": _two_tables,
    "bad-role": lambda p: p.update(ServiceExecutionRoleARN="not-a-role"),
}


@pytest.mark.parametrize("change", list(INVALID.values()), ids=list(INVALID))
def test_create_validation(broker, change: Callable[[dict], None]):
    k = client(broker)
    params = _params("bad", _stream(k, "src"))
    change(params)
    assert error_400(k.create_channel, **params)["Code"] == "ValidationException"
    assert k.list_channels()["ChannelSummaries"] == []


def test_create_needs_on_demand_existing_stream(broker):
    k = client(broker)
    provisioned = create_stream(k, "prov", shards=1)["StreamARN"]
    assert error_400(k.create_channel, **_params("c", provisioned))["Code"] == "ValidationException"
    missing = provisioned.replace("stream/prov", "stream/missing")
    assert error_400(k.create_channel, **_params("c", missing))["Code"] == "ResourceNotFoundException"


def test_limits_and_duplicate_names(broker):
    k = client(broker)
    a, b = _stream(k, "a"), _stream(k, "b")
    s3 = _create(k, "a-s3", a)
    _tables_channel(k, "a-tables", a)
    assert error_400(k.create_channel, **_params("a-s3-2", a))["Code"] == "LimitExceededException"
    again = _params("a-tables-2", a, fmt="GSR_JSON", schema=SCHEMA, dest=_tables())
    assert error_400(k.create_channel, **again)["Code"] == "LimitExceededException"
    assert error_400(k.create_channel, **_params("a-s3", b))["Code"] == "ResourceInUseException"
    k.delete_channel(ChannelARN=s3["ChannelARN"])
    assert _create(k, "a-s3-2", a)["ChannelStatus"] == "CREATING"


def test_update_channel(broker):
    k = client(broker)
    arn = _create(k, "upd", _stream(k, "src"))["ChannelARN"]
    updated = k.update_channel(ChannelARN=arn, S3DestinationConfiguration={"DataFreshnessInSeconds": 600})
    assert updated["ChannelDescription"]["ChannelStatus"] == "UPDATING"
    described = _describe(k, arn)
    assert described["ChannelStatus"] == "ACTIVE"
    assert described["S3DestinationConfiguration"]["DataFreshnessInSeconds"] == 600
    assert described["S3DestinationConfiguration"]["StorageConfiguration"]["BucketARN"] == BUCKET
    wrong = {"S3TablesDestinationConfiguration": {"DataFreshnessInSeconds": 600}}
    assert error_400(k.update_channel, ChannelARN=arn, **wrong)["Code"] == "ValidationException"
    too_fresh = {"S3DestinationConfiguration": {"DataFreshnessInSeconds": 100}}
    assert error_400(k.update_channel, ChannelARN=arn, **too_fresh)["Code"] == "ValidationException"
    assert error_400(k.update_channel, ChannelARN=arn)["Code"] == "ValidationException"
    assert _describe(k, arn)["S3DestinationConfiguration"]["DataFreshnessInSeconds"] == 600
    logs = k.update_channel(ChannelARN=arn, LoggingConfiguration={"CloudWatchLogs": {"Enabled": True}})
    assert logs["ChannelDescription"]["ChannelStatus"] == "UPDATING"
    channel_id = described["ChannelId"]
    assert _describe(k, arn)["LoggingConfiguration"]["CloudWatchLogs"] == {
        "Enabled": True,
        "LogGroupName": f"/aws/kinesis/upd/{channel_id}",
        "LogStreamName": "DestinationDelivery",
    }
    named = {"CloudWatchLogs": {"Enabled": True, "LogGroupName": "grp", "LogStreamName": "strm"}}
    k.update_channel(ChannelARN=arn, LoggingConfiguration=named)
    assert _describe(k, arn)["LoggingConfiguration"] == named


def test_update_s3_tables_freshness(broker):
    k = client(broker)
    arn = _tables_channel(k, "tbl", _stream(k, "src"))["ChannelARN"]
    k.update_channel(ChannelARN=arn, S3TablesDestinationConfiguration={"DataFreshnessInSeconds": 450})
    assert _describe(k, arn)["S3TablesDestinationConfiguration"]["DataFreshnessInSeconds"] == 450
    wrong = {"S3DestinationConfiguration": {"DataFreshnessInSeconds": 450}}
    assert error_400(k.update_channel, ChannelARN=arn, **wrong)["Code"] == "ValidationException"


def test_delete_channel(broker):
    k = client(broker)
    stream = _stream(k, "src")
    arn = _create(k, "gone", stream)["ChannelARN"]
    assert k.delete_channel(ChannelARN=arn)["ResponseMetadata"]["HTTPStatusCode"] == 200
    for call in (k.describe_channel, k.delete_channel):
        assert error_400(call, ChannelARN=arn)["Code"] == "ResourceNotFoundException"
    fresh = {"S3DestinationConfiguration": {"DataFreshnessInSeconds": 600}}
    assert error_400(k.update_channel, ChannelARN=arn, **fresh)["Code"] == "ResourceNotFoundException"
    assert k.list_channels()["ChannelSummaries"] == []
    again = _create(k, "gone", stream)
    assert again["ChannelARN"] != arn
    assert _describe(k, again["ChannelARN"])["ChannelStatus"] == "ACTIVE"


def _pages(k, **kw) -> list[list[dict]]:
    pages, token = [], None
    while True:
        page = k.list_channels(**kw, **({"NextToken": token} if token else {}))
        pages.append(page["ChannelSummaries"])
        token = page.get("NextToken")
        if not token:
            return pages


def test_list_channels_pagination_and_filter(broker):
    k = client(broker)
    a, b = _stream(k, "a"), _stream(k, "b")
    created = {"c1": _create(k, "c1", a), "c2": _tables_channel(k, "c2", a), "c3": _create(k, "c3", b)}
    pages = _pages(k, MaxResults=1)
    assert [[s["ChannelName"] for s in p] for p in pages] == [["c1"], ["c2"], ["c3"]]
    summaries = {s["ChannelName"]: s for p in pages for s in p}
    assert {n: s["ChannelDestinationType"] for n, s in summaries.items()} == {"c1": "S3", "c2": "S3_TABLES", "c3": "S3"}
    assert {n: s["Streams"][0]["StreamARN"] for n, s in summaries.items()} == {"c1": a, "c2": a, "c3": b}
    for name, s in summaries.items():
        assert (s["ChannelARN"], s["ChannelId"]) == (created[name]["ChannelARN"], created[name]["ChannelId"])
        assert s["ChannelStatus"] == "ACTIVE"
    filtered = _pages(k, MaxResults=1, StreamFilter=[{"StreamARN": a}])
    assert [[s["ChannelName"] for s in p] for p in filtered] == [["c1"], ["c2"]]
    only_b = k.list_channels(StreamFilter=[{"StreamARN": b}])
    assert [s["ChannelName"] for s in only_b["ChannelSummaries"]] == ["c3"]
    assert "NextToken" not in only_b
    missing = a.replace("stream/a", "stream/missing")
    assert k.list_channels(StreamFilter=[{"StreamARN": missing}])["ChannelSummaries"] == []
    big = k.list_channels(MaxResults=5000)
    assert [s["ChannelName"] for s in big["ChannelSummaries"]] == ["c1", "c2", "c3"]
    assert "NextToken" not in big


def test_channels_guard_stream_deletion_and_mode(broker):
    k = client(broker)
    stream = _stream(k, "guarded")
    arn = _create(k, "keep", stream)["ChannelARN"]
    assert error_400(k.delete_stream, StreamName="guarded")["Code"] == "ResourceInUseException"
    mode = {"StreamARN": stream, "StreamModeDetails": {"StreamMode": "PROVISIONED"}}
    assert error_400(k.update_stream_mode, **mode)["Code"] == "ResourceInUseException"
    assert _describe(k, arn)["ChannelStatus"] == "ACTIVE"
    k.delete_channel(ChannelARN=arn)
    k.update_stream_mode(**mode)
    assert wait_active(k, "guarded")["StreamModeDetails"]["StreamMode"] == "PROVISIONED"
    k.delete_stream(StreamName="guarded")


def test_channel_tags(broker):
    k = client(broker)
    arn = k.create_channel(**_params("tagged", _stream(k, "src")), Tags={"team": "data"})["ChannelDescription"][
        "ChannelARN"
    ]

    def tags() -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in k.list_tags_for_resource(ResourceARN=arn)["Tags"]}

    assert tags() == {"team": "data"}
    k.tag_resource(ResourceARN=arn, Tags={"env": "test", "team": "ops"})
    assert tags() == {"team": "ops", "env": "test"}
    k.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert tags() == {"env": "test"}
    k.delete_channel(ChannelARN=arn)
    assert error_400(k.list_tags_for_resource, ResourceARN=arn)["Code"] == "ResourceNotFoundException"
