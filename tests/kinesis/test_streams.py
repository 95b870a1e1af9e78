"""Kinesis Data Streams: stream lifecycle, shards, ListStreams / ListShards, retention, tags, encryption, enhanced
monitoring, capacity mode, resource policies and limits, through unchanged boto3.

AWS behaviour is the contract (Kinesis Data Streams API Reference: CreateStream, DeleteStream, DescribeStream,
DescribeStreamSummary, ListStreams, ListShards, Increase/DecreaseStreamRetentionPeriod, AddTagsToStream,
RemoveTagsFromStream, ListTagsForStream, TagResource, UntagResource, ListTagsForResource, Start/StopStreamEncryption,
Enable/DisableEnhancedMonitoring, UpdateStreamMode, Put/Get/DeleteResourcePolicy, DescribeLimits).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from tests.kinesis.helpers import HASH_SPACE, WAIT, create_stream, error_400, list_shards, read_stream, wait_active
from tests.kinesis.helpers import client as _client
from tests.kinesis.helpers import outcome as _outcome

METRICS = {
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
}


@pytest.fixture
def kinesis(broker):
    return _client(broker)


def _now(broker) -> datetime:
    return datetime.fromtimestamp(broker.admin("GET", "/_broker/clock")["now_ms"] / 1000, UTC)


def _summary(kinesis, name: str) -> dict:
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]


def _ids(shards: list[dict]) -> list[str]:
    return [s["ShardId"] for s in shards]


def _tags(kinesis, name: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=name)["Tags"]}


# -- CreateStream --------------------------------------------------------------------------------------------
def test_create_provisioned_stream_has_the_requested_shards(kinesis):
    kinesis.create_stream(StreamName="orders", ShardCount=3)
    summary = wait_active(kinesis, "orders")
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["OpenShardCount"] == 3
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert len(list_shards(kinesis, "orders")) == 3


def test_create_on_demand_stream_starts_with_four_shards(kinesis):
    summary = create_stream(kinesis, "elastic", shards=None)
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 4
    assert len(list_shards(kinesis, "elastic")) == 4


def test_create_on_demand_with_shard_count_is_validation_exception(kinesis):
    err = error_400(
        kinesis.create_stream, StreamName="both", ShardCount=2, StreamModeDetails={"StreamMode": "ON_DEMAND"}
    )
    assert err["Code"] == "ValidationException"
    assert kinesis.list_streams()["StreamNames"] == []


def test_create_provisioned_without_shard_count_is_invalid_argument(kinesis):
    # "For the data streams with a provisioned mode, you must specify the number of shards."
    err = error_400(kinesis.create_stream, StreamName="noshards", StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert err["Code"] == "InvalidArgumentException"
    assert kinesis.list_streams()["StreamNames"] == []


def test_create_with_neither_shard_count_nor_mode_succeeds(kinesis):
    # ShardCount and StreamModeDetails are both optional in the API reference, and `aws kinesis create-stream
    # --stream-name test` works against AWS (etspaceman/kinesis-mock#336, fixed there and in LocalStack #6543).
    kinesis.create_stream(StreamName="bare")
    summary = wait_active(kinesis, "bare")
    assert summary["OpenShardCount"] >= 1


def test_create_duplicate_name_is_resource_in_use(kinesis):
    create_stream(kinesis, "dup", shards=2)
    err = error_400(kinesis.create_stream, StreamName="dup", ShardCount=5)
    assert err["Code"] == "ResourceInUseException"
    assert _summary(kinesis, "dup")["OpenShardCount"] == 2


def test_valid_stream_names(kinesis):
    names = ["a", "Z", "0", "with-hyphen", "with_underscore", "with.dot", "MiXeD.1-2_3", "n" * 128]
    for name in names:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    for name in names:
        assert wait_active(kinesis, name)["StreamName"] == name
    assert sorted(kinesis.list_streams()["StreamNames"]) == sorted(names)


def test_invalid_stream_names_are_validation_exception(kinesis):
    wrong = []
    for name in ["n" * 129, "has space", "slash/name", "colon:name", "bang!", "ünïcode", "tab\tx", "star*"]:
        got = _outcome(kinesis.create_stream, StreamName=name, ShardCount=1)
        if got != (400, "ValidationException"):
            wrong.append((name, got))
    assert wrong == []
    assert kinesis.list_streams()["StreamNames"] == []


def test_stream_names_are_case_sensitive(kinesis):
    create_stream(kinesis, "case", shards=1)
    create_stream(kinesis, "CASE", shards=2)
    assert _summary(kinesis, "case")["OpenShardCount"] == 1
    assert _summary(kinesis, "CASE")["OpenShardCount"] == 2


# -- waiters, DeleteStream -----------------------------------------------------------------------------------
def test_waiters_stream_exists_and_stream_not_exists(kinesis):
    kinesis.create_stream(StreamName="waited", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="waited", WaiterConfig=WAIT)
    assert kinesis.describe_stream(StreamName="waited")["StreamDescription"]["StreamStatus"] == "ACTIVE"
    kinesis.delete_stream(StreamName="waited")
    kinesis.get_waiter("stream_not_exists").wait(StreamName="waited", WaiterConfig=WAIT)
    assert error_400(kinesis.describe_stream, StreamName="waited")["Code"] == "ResourceNotFoundException"
    assert "waited" not in kinesis.list_streams()["StreamNames"]


def test_delete_then_recreate_same_name_is_a_new_empty_stream(kinesis):
    create_stream(kinesis, "phoenix", shards=1)
    kinesis.put_record(StreamName="phoenix", Data=b"old life", PartitionKey="k")
    kinesis.delete_stream(StreamName="phoenix")
    kinesis.get_waiter("stream_not_exists").wait(StreamName="phoenix", WaiterConfig=WAIT)
    summary = create_stream(kinesis, "phoenix", shards=2)
    assert summary["OpenShardCount"] == 2
    assert all(records == [] for records in read_stream(kinesis, "phoenix").values())
    kinesis.put_record(StreamName="phoenix", Data=b"new life", PartitionKey="k")
    got = [r["Data"] for records in read_stream(kinesis, "phoenix").values() for r in records]
    assert got == [b"new life"]


# -- DescribeStream ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_describe_stream_hash_ranges_split_the_key_space_evenly(kinesis, count):
    create_stream(kinesis, f"split{count}", shards=count)
    desc = kinesis.describe_stream(StreamName=f"split{count}")["StreamDescription"]
    shards = desc["Shards"]
    assert len(shards) == count and desc["HasMoreShards"] is False
    ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in shards]
    assert ranges[0][0] == 0
    assert ranges[-1][1] == HASH_SPACE - 1
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        assert start == end + 1  # contiguous, no overlap
    for start, end in ranges:
        assert abs((end - start + 1) - HASH_SPACE // count) <= 1
    for s in shards:
        assert re.fullmatch(r"shardId-\d{12}", s["ShardId"])
        assert s["SequenceNumberRange"]["StartingSequenceNumber"].isdigit()
        assert "EndingSequenceNumber" not in s["SequenceNumberRange"]  # open shards
        assert "ParentShardId" not in s


def test_describe_stream_pages_with_limit_and_exclusive_start_shard_id(kinesis):
    create_stream(kinesis, "paged", shards=5)
    everything = _ids(kinesis.describe_stream(StreamName="paged")["StreamDescription"]["Shards"])
    assert len(everything) == 5
    seen: list[str] = []
    kw: dict = {}
    for expected_more in (True, True, False):
        desc = kinesis.describe_stream(StreamName="paged", Limit=2, **kw)["StreamDescription"]
        assert len(desc["Shards"]) <= 2
        assert desc["HasMoreShards"] is expected_more
        seen.extend(_ids(desc["Shards"]))
        kw = {"ExclusiveStartShardId": desc["Shards"][-1]["ShardId"]}
    assert seen == everything


def test_describe_stream_fields(broker, kinesis):
    create_stream(kinesis, "described", shards=2)
    desc = kinesis.describe_stream(StreamName="described")["StreamDescription"]
    assert desc["StreamName"] == "described"
    assert re.fullmatch(r"arn:aws:kinesis:us-east-1:\d{12}:stream/described", desc["StreamARN"])
    assert desc["StreamStatus"] == "ACTIVE"
    assert desc["RetentionPeriodHours"] == 24
    assert desc["EncryptionType"] == "NONE"
    assert desc["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert abs((desc["StreamCreationTimestamp"] - _now(broker)).total_seconds()) < 30


# -- DescribeStreamSummary -----------------------------------------------------------------------------------
def test_describe_stream_summary_of_a_new_stream(broker, kinesis):
    kinesis.create_stream(StreamName="summed", ShardCount=3)
    s = wait_active(kinesis, "summed")
    assert s["StreamName"] == "summed"
    assert re.fullmatch(r"arn:aws:kinesis:us-east-1:\d{12}:stream/summed", s["StreamARN"])
    assert s["StreamStatus"] == "ACTIVE"
    assert s["OpenShardCount"] == 3
    assert s["RetentionPeriodHours"] == 24
    assert s["EncryptionType"] == "NONE"
    assert "KeyId" not in s
    assert s["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert s["EnhancedMonitoring"] in ([], [{"ShardLevelMetrics": []}])
    assert s.get("ConsumerCount", 0) == 0
    assert abs((s["StreamCreationTimestamp"] - _now(broker)).total_seconds()) < 30


def test_stream_arn_is_per_region(broker):
    east, west = _client(broker), _client(broker, region="eu-west-1")
    a = create_stream(east, "regional", shards=1)["StreamARN"]
    b = create_stream(west, "regional", shards=2)["StreamARN"]
    assert ":us-east-1:" in a and ":eu-west-1:" in b
    assert _summary(east, "regional")["OpenShardCount"] == 1
    assert _summary(west, "regional")["OpenShardCount"] == 2


# -- StreamARN instead of StreamName ---------------------------------------------------------------------------
def _records(kinesis, name: str) -> list[bytes]:
    return sorted(r["Data"] for records in read_stream(kinesis, name).values() for r in records)


def _described(kinesis, name, resp) -> None:
    inner = resp.get("StreamDescription") or resp.get("StreamDescriptionSummary")
    assert inner["StreamName"] == name


def _two_shards(kinesis, name, resp) -> None:
    assert len(resp["Shards"]) == 2


def _one_record(kinesis, name, resp) -> None:
    assert _records(kinesis, name) == [b"x"]


def _two_records(kinesis, name, resp) -> None:
    assert _records(kinesis, name) == [b"x", b"y"]


def _iterator(kinesis, name, resp) -> None:
    assert kinesis.get_records(ShardIterator=resp["ShardIterator"])["Records"] == []


def _retention(hours: int):
    def check(kinesis, name, resp) -> None:
        assert wait_active(kinesis, name)["RetentionPeriodHours"] == hours

    return check


def _tagged(kinesis, name, resp) -> None:
    assert _tags(kinesis, name) == {"team": "data"}


def _untagged(kinesis, name, resp) -> None:
    assert _tags(kinesis, name) == {"keep": "me"}


def _no_tags_listed(kinesis, name, resp) -> None:
    assert resp["Tags"] == []


def _desired(*metrics: str):
    def check(kinesis, name, resp) -> None:
        assert resp["DesiredShardLevelMetrics"] == list(metrics)

    return check


def _encrypted(kinesis, name, resp) -> None:
    assert wait_active(kinesis, name)["EncryptionType"] == "KMS"


def _gone(kinesis, name, resp) -> None:
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig=WAIT)


def _set_48_hours(kinesis, name) -> None:
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    wait_active(kinesis, name)


def _tag(kinesis, name) -> None:
    kinesis.add_tags_to_stream(StreamName=name, Tags={"keep": "me", "drop": "me"})


def _monitor(kinesis, name) -> None:
    kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes"])
    wait_active(kinesis, name)


# operation: (setup by name or None, parameters besides StreamARN, check of the outcome)
ARN_OPERATIONS = {
    "describe_stream": (None, {}, _described),
    "describe_stream_summary": (None, {}, _described),
    "list_shards": (None, {}, _two_shards),
    "put_record": (None, {"Data": b"x", "PartitionKey": "k"}, _one_record),
    "put_records": (
        None,
        {"Records": [{"Data": b"x", "PartitionKey": "k"}, {"Data": b"y", "PartitionKey": "j"}]},
        _two_records,
    ),
    "get_shard_iterator": (
        None,
        {"ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"},
        _iterator,
    ),
    "increase_stream_retention_period": (None, {"RetentionPeriodHours": 72}, _retention(72)),
    "decrease_stream_retention_period": (_set_48_hours, {"RetentionPeriodHours": 24}, _retention(24)),
    "add_tags_to_stream": (None, {"Tags": {"team": "data"}}, _tagged),
    "list_tags_for_stream": (None, {}, _no_tags_listed),
    "remove_tags_from_stream": (_tag, {"TagKeys": ["drop"]}, _untagged),
    "enable_enhanced_monitoring": (None, {"ShardLevelMetrics": ["IncomingBytes"]}, _desired("IncomingBytes")),
    "disable_enhanced_monitoring": (_monitor, {"ShardLevelMetrics": ["IncomingBytes"]}, _desired()),
    "start_stream_encryption": (None, {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}, _encrypted),
    "delete_stream": (None, {}, _gone),
}


@pytest.mark.parametrize("operation", sorted(ARN_OPERATIONS))
def test_operations_accept_stream_arn_instead_of_name(kinesis, operation):
    arn = create_stream(kinesis, "by-arn", shards=2)["StreamARN"]
    setup, params, check = ARN_OPERATIONS[operation]
    if setup:
        setup(kinesis, "by-arn")
    resp = getattr(kinesis, operation)(StreamARN=arn, **params)
    check(kinesis, "by-arn", resp)


def test_get_records_accepts_stream_arn(kinesis):
    arn = create_stream(kinesis, "by-arn", shards=1)["StreamARN"]
    kinesis.put_record(StreamARN=arn, Data=b"payload", PartitionKey="k")
    it = kinesis.get_shard_iterator(StreamARN=arn, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(StreamARN=arn, ShardIterator=it["ShardIterator"])["Records"]
    assert [r["Data"] for r in records] == [b"payload"]


NEEDS_STREAM = {
    "describe_stream": {},
    "describe_stream_summary": {},
    "list_shards": {},
    "delete_stream": {},
    "put_record": {"Data": b"x", "PartitionKey": "k"},
    "put_records": {"Records": [{"Data": b"x", "PartitionKey": "k"}]},
    "get_shard_iterator": {"ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"},
    "increase_stream_retention_period": {"RetentionPeriodHours": 48},
    "add_tags_to_stream": {"Tags": {"a": "b"}},
    "list_tags_for_stream": {},
    "enable_enhanced_monitoring": {"ShardLevelMetrics": ["IncomingBytes"]},
}


def test_neither_stream_name_nor_arn_is_invalid_argument(kinesis):
    create_stream(kinesis, "exists", shards=1)
    wrong = []
    for operation, params in NEEDS_STREAM.items():
        got = _outcome(getattr(kinesis, operation), **params)
        if got != (400, "InvalidArgumentException"):
            wrong.append((operation, got))
    assert wrong == []
    assert kinesis.list_streams()["StreamNames"] == ["exists"]


@pytest.mark.parametrize("by", ["StreamName", "StreamARN"])
def test_unknown_stream_is_resource_not_found_400(kinesis, by):
    arn = create_stream(kinesis, "exists", shards=1)["StreamARN"]
    ref = {by: "missing" if by == "StreamName" else arn.replace("/exists", "/missing")}
    wrong = []
    for operation, params in NEEDS_STREAM.items():
        got = _outcome(getattr(kinesis, operation), **ref, **params)
        if got != (400, "ResourceNotFoundException"):
            wrong.append((operation, got))
    assert wrong == []
    assert kinesis.list_streams()["StreamNames"] == ["exists"]


# -- ListStreams ---------------------------------------------------------------------------------------------
def test_list_streams_empty(kinesis):
    resp = kinesis.list_streams()
    assert resp["StreamNames"] == []
    assert resp["HasMoreStreams"] is False


def test_list_streams_pages_with_limit_and_next_token(kinesis):
    names = [f"s{i}" for i in range(7)]
    for n in names:
        kinesis.create_stream(StreamName=n, ShardCount=1)
    seen: list[str] = []
    resp = kinesis.list_streams(Limit=3)
    for _ in range(10):
        assert len(resp["StreamNames"]) <= 3
        seen.extend(resp["StreamNames"])
        if not resp["HasMoreStreams"]:
            assert "NextToken" not in resp
            break
        resp = kinesis.list_streams(Limit=3, NextToken=resp["NextToken"])
    assert sorted(seen) == names and len(seen) == len(set(seen))


def test_list_streams_exclusive_start_stream_name(kinesis):
    names = ["alpha", "bravo", "charlie", "delta", "echo"]
    for n in names:
        kinesis.create_stream(StreamName=n, ShardCount=1)
    resp = kinesis.list_streams(ExclusiveStartStreamName="bravo")
    assert resp["StreamNames"] == ["charlie", "delta", "echo"]
    assert resp["HasMoreStreams"] is False
    resp = kinesis.list_streams(ExclusiveStartStreamName="bravo", Limit=2)
    assert resp["StreamNames"] == ["charlie", "delta"]
    assert resp["HasMoreStreams"] is True


def test_list_streams_summaries(kinesis):
    arns = {n: create_stream(kinesis, n, shards=s)["StreamARN"] for n, s in [("one", 1), ("two", None)]}
    summaries = {s["StreamName"]: s for s in kinesis.list_streams()["StreamSummaries"]}
    assert set(summaries) == {"one", "two"}
    for name, arn in arns.items():
        assert summaries[name]["StreamARN"] == arn
        assert summaries[name]["StreamStatus"] == "ACTIVE"
        assert isinstance(summaries[name]["StreamCreationTimestamp"], datetime)
    assert summaries["one"]["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert summaries["two"]["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}


def test_list_streams_is_per_account_and_region(broker, kinesis):
    create_stream(kinesis, "mine", shards=1)
    assert _client(broker, region="eu-west-1").list_streams()["StreamNames"] == []
    assert _client(broker, access_key="111122223333").list_streams()["StreamNames"] == []


# -- ListShards ----------------------------------------------------------------------------------------------
def test_list_shards_matches_describe_stream(kinesis):
    create_stream(kinesis, "listed", shards=4)
    listed = kinesis.list_shards(StreamName="listed")
    assert "NextToken" not in listed
    assert listed["Shards"] == kinesis.describe_stream(StreamName="listed")["StreamDescription"]["Shards"]


def test_list_shards_pages_with_max_results_and_next_token(kinesis):
    create_stream(kinesis, "paged", shards=5)
    everything = _ids(kinesis.list_shards(StreamName="paged")["Shards"])
    resp = kinesis.list_shards(StreamName="paged", MaxResults=2)
    seen: list[str] = []
    for _ in range(10):
        assert len(resp["Shards"]) <= 2
        seen.extend(_ids(resp["Shards"]))
        if "NextToken" not in resp:
            break
        resp = kinesis.list_shards(NextToken=resp["NextToken"], MaxResults=2)
    assert seen == everything


def test_list_shards_next_token_with_stream_name_is_invalid_argument(kinesis):
    create_stream(kinesis, "paged", shards=3)
    token = kinesis.list_shards(StreamName="paged", MaxResults=1)["NextToken"]
    err = error_400(kinesis.list_shards, StreamName="paged", NextToken=token)
    assert err["Code"] == "InvalidArgumentException"


def test_list_shards_exclusive_start_shard_id(kinesis):
    create_stream(kinesis, "paged", shards=5)
    everything = _ids(kinesis.list_shards(StreamName="paged")["Shards"])
    after = _ids(kinesis.list_shards(StreamName="paged", ExclusiveStartShardId=everything[1])["Shards"])
    assert after == everything[2:]


@pytest.mark.parametrize(
    "kind", ["AT_LATEST", "FROM_TRIM_HORIZON", "AT_TRIM_HORIZON", "AT_TIMESTAMP", "FROM_TIMESTAMP"]
)
def test_list_shards_filters_without_reshards_return_every_shard(broker, kinesis, kind):
    create_stream(kinesis, "filtered", shards=3)
    everything = _ids(kinesis.list_shards(StreamName="filtered")["Shards"])
    shard_filter: dict = {"Type": kind}
    if kind.endswith("TIMESTAMP"):
        shard_filter["Timestamp"] = _now(broker)
    got = _ids(kinesis.list_shards(StreamName="filtered", ShardFilter=shard_filter)["Shards"])
    assert got == everything


def test_list_shards_filter_after_shard_id(kinesis):
    create_stream(kinesis, "filtered", shards=4)
    everything = _ids(kinesis.list_shards(StreamName="filtered")["Shards"])
    shard_filter = {"Type": "AFTER_SHARD_ID", "ShardId": everything[0]}
    assert _ids(kinesis.list_shards(StreamName="filtered", ShardFilter=shard_filter)["Shards"]) == everything[1:]


# -- retention -----------------------------------------------------------------------------------------------
def test_retention_can_go_up_to_8760_hours_and_back_to_24(kinesis):
    create_stream(kinesis, "kept", shards=1)
    kinesis.increase_stream_retention_period(StreamName="kept", RetentionPeriodHours=168)
    assert wait_active(kinesis, "kept")["RetentionPeriodHours"] == 168
    kinesis.increase_stream_retention_period(StreamName="kept", RetentionPeriodHours=8760)
    assert wait_active(kinesis, "kept")["RetentionPeriodHours"] == 8760
    kinesis.decrease_stream_retention_period(StreamName="kept", RetentionPeriodHours=24)
    assert wait_active(kinesis, "kept")["RetentionPeriodHours"] == 24


@pytest.mark.parametrize(
    ("operation", "hours"),
    [
        ("increase_stream_retention_period", 8761),  # above the maximum of 8760 hours
        ("decrease_stream_retention_period", 23),  # below the minimum of 24 hours
        ("increase_stream_retention_period", 36),  # less than the current 48 hours
        ("decrease_stream_retention_period", 72),  # more than the current 48 hours
    ],
)
def test_retention_out_of_bounds_or_wrong_direction_is_invalid_argument(kinesis, operation, hours):
    create_stream(kinesis, "kept", shards=1)
    kinesis.increase_stream_retention_period(StreamName="kept", RetentionPeriodHours=48)
    wait_active(kinesis, "kept")
    err = error_400(getattr(kinesis, operation), StreamName="kept", RetentionPeriodHours=hours)
    assert err["Code"] == "InvalidArgumentException"
    assert _summary(kinesis, "kept")["RetentionPeriodHours"] == 48


# -- tags ----------------------------------------------------------------------------------------------------
def test_add_list_remove_tags(kinesis):
    create_stream(kinesis, "tagged", shards=1)
    kinesis.add_tags_to_stream(StreamName="tagged", Tags={"team": "data", "env": "prod", "empty": ""})
    kinesis.add_tags_to_stream(StreamName="tagged", Tags={"env": "staging"})  # overwrites
    assert _tags(kinesis, "tagged") == {"team": "data", "env": "staging", "empty": ""}
    kinesis.remove_tags_from_stream(StreamName="tagged", TagKeys=["team"])
    assert _tags(kinesis, "tagged") == {"env": "staging", "empty": ""}
    assert kinesis.list_tags_for_stream(StreamName="tagged")["HasMoreTags"] is False


def test_create_stream_with_tags(kinesis):
    create_stream(kinesis, "born-tagged", shards=1, Tags={"a": "1", "b": "2"})
    assert _tags(kinesis, "born-tagged") == {"a": "1", "b": "2"}


def test_list_tags_for_stream_pages_with_limit_and_exclusive_start_tag_key(kinesis):
    create_stream(kinesis, "tagged", shards=1)
    tags = {f"key{i:02d}": f"v{i}" for i in range(7)}
    kinesis.add_tags_to_stream(StreamName="tagged", Tags=tags)
    seen: list[dict] = []
    kw: dict = {}
    for _ in range(10):
        resp = kinesis.list_tags_for_stream(StreamName="tagged", Limit=3, **kw)
        assert len(resp["Tags"]) <= 3
        seen.extend(resp["Tags"])
        if not resp["HasMoreTags"]:
            break
        kw = {"ExclusiveStartTagKey": resp["Tags"][-1]["Key"]}
    assert {t["Key"]: t["Value"] for t in seen} == tags
    assert len(seen) == len(tags)


def test_tag_untag_list_tags_for_resource_by_arn(kinesis):
    arn = create_stream(kinesis, "tagged", shards=1)["StreamARN"]
    kinesis.tag_resource(ResourceARN=arn, Tags={"owner": "me", "cost": "42"})
    listed = kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert {t["Key"]: t["Value"] for t in listed} == {"owner": "me", "cost": "42"}
    assert _tags(kinesis, "tagged") == {"owner": "me", "cost": "42"}  # the same tags as the stream's
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["cost"])
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "owner", "Value": "me"}]


@pytest.mark.parametrize("operation", ["add_tags_to_stream", "tag_resource"])
def test_more_than_50_tags_is_limit_exceeded(kinesis, operation):
    arn = create_stream(kinesis, "tagged", shards=1)["StreamARN"]
    ref = {"StreamName": "tagged"} if operation == "add_tags_to_stream" else {"ResourceARN": arn}
    add = getattr(kinesis, operation)
    for batch in range(5):
        add(**ref, Tags={f"k{batch}{i}": "v" for i in range(10)})
    assert len(_tags(kinesis, "tagged")) == 50
    add(**ref, Tags={"k00": "overwritten"})  # still 50 tags
    assert error_400(add, **ref, Tags={"one-more": "v"})["Code"] == "LimitExceededException"
    tags = _tags(kinesis, "tagged")
    assert len(tags) == 50 and tags["k00"] == "overwritten" and "one-more" not in tags


# -- encryption ----------------------------------------------------------------------------------------------
def test_start_and_stop_stream_encryption(kinesis):
    create_stream(kinesis, "secret", shards=1)
    assert kinesis.put_record(StreamName="secret", Data=b"a", PartitionKey="k")["EncryptionType"] == "NONE"
    kinesis.start_stream_encryption(StreamName="secret", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    s = wait_active(kinesis, "secret")
    assert s["EncryptionType"] == "KMS"
    assert s["KeyId"] == "alias/aws/kinesis"
    assert kinesis.describe_stream(StreamName="secret")["StreamDescription"]["EncryptionType"] == "KMS"
    assert kinesis.put_record(StreamName="secret", Data=b"b", PartitionKey="k")["EncryptionType"] == "KMS"
    batch = kinesis.put_records(StreamName="secret", Records=[{"Data": b"c", "PartitionKey": "k"}])
    assert batch["EncryptionType"] == "KMS"
    kinesis.stop_stream_encryption(StreamName="secret", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert wait_active(kinesis, "secret")["EncryptionType"] == "NONE"
    assert kinesis.put_record(StreamName="secret", Data=b"d", PartitionKey="k")["EncryptionType"] == "NONE"
    # Encryption changes nothing for readers: every record comes back.
    assert [r["Data"] for r in read_stream(kinesis, "secret")["shardId-000000000000"]] == [b"a", b"b", b"c", b"d"]


# -- enhanced monitoring -------------------------------------------------------------------------------------
def test_enable_and_disable_enhanced_monitoring(kinesis):
    create_stream(kinesis, "watched", shards=1)
    r = kinesis.enable_enhanced_monitoring(StreamName="watched", ShardLevelMetrics=["IncomingBytes", "OutgoingBytes"])
    assert r["StreamName"] == "watched"
    assert r["CurrentShardLevelMetrics"] == []
    assert set(r["DesiredShardLevelMetrics"]) == {"IncomingBytes", "OutgoingBytes"}
    r = kinesis.enable_enhanced_monitoring(StreamName="watched", ShardLevelMetrics=["IncomingRecords"])
    assert set(r["CurrentShardLevelMetrics"]) == {"IncomingBytes", "OutgoingBytes"}
    assert set(r["DesiredShardLevelMetrics"]) == {"IncomingBytes", "OutgoingBytes", "IncomingRecords"}
    r = kinesis.disable_enhanced_monitoring(StreamName="watched", ShardLevelMetrics=["IncomingBytes"])
    assert set(r["CurrentShardLevelMetrics"]) == {"IncomingBytes", "OutgoingBytes", "IncomingRecords"}
    assert set(r["DesiredShardLevelMetrics"]) == {"OutgoingBytes", "IncomingRecords"}
    s = wait_active(kinesis, "watched")
    assert set(s["EnhancedMonitoring"][0]["ShardLevelMetrics"]) == {"OutgoingBytes", "IncomingRecords"}


def test_enhanced_monitoring_all(kinesis):
    create_stream(kinesis, "watched", shards=1)
    r = kinesis.enable_enhanced_monitoring(StreamName="watched", ShardLevelMetrics=["ALL"])
    assert r["CurrentShardLevelMetrics"] == []
    # "The value ALL enables every metric."
    assert set(r["DesiredShardLevelMetrics"]) - {"ALL"} in (METRICS, set())
    assert set(r["DesiredShardLevelMetrics"]) & (METRICS | {"ALL"})
    wait_active(kinesis, "watched")
    r = kinesis.disable_enhanced_monitoring(StreamName="watched", ShardLevelMetrics=["ALL"])
    assert r["DesiredShardLevelMetrics"] == []
    s = wait_active(kinesis, "watched")
    assert s["EnhancedMonitoring"] in ([], [{"ShardLevelMetrics": []}])


# -- capacity mode -------------------------------------------------------------------------------------------
def test_update_stream_mode_to_on_demand_and_back(kinesis):
    arn = create_stream(kinesis, "flexible", shards=2)["StreamARN"]
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert wait_active(kinesis, "flexible")["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert wait_active(kinesis, "flexible")["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    listed = {s["StreamName"]: s for s in kinesis.list_streams()["StreamSummaries"]}
    assert listed["flexible"]["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}


@pytest.mark.parametrize("mode", ["PROVISIONED", "ON_DEMAND"])
def test_update_stream_mode_to_the_same_mode_is_rejected(kinesis, mode):
    arn = create_stream(kinesis, "steady", shards=None if mode == "ON_DEMAND" else 1)["StreamARN"]
    error_400(kinesis.update_stream_mode, StreamARN=arn, StreamModeDetails={"StreamMode": mode})
    assert _summary(kinesis, "steady")["StreamModeDetails"] == {"StreamMode": mode}


# -- resource policies ---------------------------------------------------------------------------------------
def _policy(arn: str) -> str:
    account = arn.split(":")[4]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "read",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary"],
                    "Resource": arn,
                }
            ],
        }
    )


def test_put_get_delete_resource_policy(kinesis):
    arn = create_stream(kinesis, "governed", shards=1)["StreamARN"]
    policy = _policy(arn)
    kinesis.put_resource_policy(ResourceARN=arn, Policy=policy)
    assert json.loads(kinesis.get_resource_policy(ResourceARN=arn)["Policy"]) == json.loads(policy)
    kinesis.delete_resource_policy(ResourceARN=arn)
    try:
        after = kinesis.get_resource_policy(ResourceARN=arn).get("Policy")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceNotFoundException"
    else:
        assert not after or json.loads(after) != json.loads(policy)


def test_resource_policy_of_unknown_stream_is_resource_not_found(kinesis):
    arn = create_stream(kinesis, "governed", shards=1)["StreamARN"].replace("/governed", "/missing")
    err = error_400(kinesis.put_resource_policy, ResourceARN=arn, Policy=_policy(arn))
    assert err["Code"] == "ResourceNotFoundException"


# -- DescribeLimits ------------------------------------------------------------------------------------------
def test_describe_limits_counts_open_shards(kinesis):
    before = kinesis.describe_limits()
    assert before["OpenShardCount"] == 0
    create_stream(kinesis, "two", shards=2)
    create_stream(kinesis, "three", shards=3)
    create_stream(kinesis, "elastic", shards=None)
    limits = kinesis.describe_limits()
    assert limits["OpenShardCount"] == 2 + 3 + 4
    assert limits["ShardLimit"] >= limits["OpenShardCount"]
    assert limits["OnDemandStreamCount"] == 1
    assert limits["OnDemandStreamCountLimit"] >= 1
    kinesis.delete_stream(StreamName="three")
    kinesis.get_waiter("stream_not_exists").wait(StreamName="three", WaiterConfig=WAIT)
    assert kinesis.describe_limits()["OpenShardCount"] == 2 + 4
