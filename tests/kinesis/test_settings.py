"""Stream- and account-level settings of the current model: RecordDistributionStrategy (AUTO spreads records and
needs no partition key), MaxRecordSizeInKiB, warm throughput, and the account's billing commitment (kept, reported)."""

from __future__ import annotations

from tests.kinesis.helpers import client, create_stream, error_400


def test_auto_distribution_needs_no_partition_key_and_spreads_records(broker):
    k = client(broker)
    arn = create_stream(k, "auto", shards=None)["StreamARN"]
    summary = k.describe_stream_summary(StreamName="auto")["StreamDescriptionSummary"]
    assert summary["RecordDistributionStrategy"] == "USER_PARTITION_KEY"
    assert error_400(k.put_record, StreamName="auto", Data=b"x")["Code"] == "ValidationException"
    k.update_stream_record_distribution_strategy(StreamARN=arn, RecordDistributionStrategy="AUTO")
    shards = {k.put_record(StreamName="auto", Data=b"x", PartitionKey="same")["ShardId"] for _ in range(40)}
    assert len(shards) > 1  # the key is ignored: 40 records over 4 shards
    out = k.put_record(StreamName="auto", Data=b"no key")
    it = k.get_shard_iterator(
        StreamName="auto",
        ShardId=out["ShardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=out["SequenceNumber"],
    )["ShardIterator"]
    record = k.get_records(ShardIterator=it, Limit=1)["Records"][0]
    assert record["Data"] == b"no key" and "PartitionKey" not in record


def test_distribution_strategy_is_for_on_demand_streams(broker):
    k = client(broker)
    arn = create_stream(k, "prov", shards=1)["StreamARN"]
    err = error_400(k.update_stream_record_distribution_strategy, StreamARN=arn, RecordDistributionStrategy="AUTO")
    assert err["Code"] == "InvalidArgumentException"


def test_max_record_size(broker):
    k = client(broker)
    arn = create_stream(k, "big", shards=1)["StreamARN"]
    too_big = b"x" * (1024 * 1024 + 1)
    assert error_400(k.put_record, StreamName="big", Data=too_big, PartitionKey="p")["Code"] == "ValidationException"
    k.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=2048)
    assert k.describe_stream_summary(StreamName="big")["StreamDescriptionSummary"]["MaxRecordSizeInKiB"] == 2048
    k.put_record(StreamName="big", Data=too_big, PartitionKey="p")


def test_account_billing_commitment_is_kept(broker):
    k = client(broker)
    assert k.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"] == "DISABLED"
    out = k.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
    assert out["MinimumThroughputBillingCommitment"]["Status"] == "ENABLED"
    now = k.describe_account_settings()["MinimumThroughputBillingCommitment"]
    assert now["Status"] == "ENABLED" and "StartedAt" in now
