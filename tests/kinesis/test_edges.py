"""Edge cases found in review: expired records at a closed shard's end, sequence numbers too large for the database,
concurrent changes of one stream's settings, a subscription at a shard's StartingSequenceNumber, AUTO distribution
after a switch to provisioned, NUL characters in strings."""

from __future__ import annotations

import threading

from tests.kinesis.helpers import HASH_SPACE, client, create_stream, error_400


def test_a_closed_shard_whose_records_expired_still_ends(broker):
    k = client(broker)
    create_stream(k, "expired-end", shards=1)
    k.put_record(StreamName="expired-end", Data=b"old", PartitionKey="p")
    broker.advance(25 * 3600)  # past the 24-hour retention; no sweep has run
    k.split_shard(
        StreamName="expired-end", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(HASH_SPACE // 2)
    )
    it = k.get_shard_iterator(
        StreamName="expired-end", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    out = k.get_records(ShardIterator=it)
    assert out["Records"] == []
    assert out.get("NextShardIterator") is None
    assert len(out["ChildShards"]) == 2


def test_sequence_numbers_beyond_the_database_are_invalid(broker):
    k = client(broker)
    create_stream(k, "huge", shards=1)
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        err = error_400(
            k.get_shard_iterator,
            StreamName="huge",
            ShardId="shardId-000000000000",
            ShardIteratorType=kind,
            StartingSequenceNumber="49" + "0" * 10 + "9" * 44,
        )
        assert err["Code"] == "InvalidArgumentException"


def test_concurrent_tag_changes_are_all_kept(broker):
    k = client(broker)
    create_stream(k, "tags-race", shards=1)
    barrier = threading.Barrier(8)

    def tag(i: int) -> None:
        c = broker.client("kinesis")
        barrier.wait()
        c.add_tags_to_stream(StreamName="tags-race", Tags={f"t{i}": str(i)})

    threads = [threading.Thread(target=tag, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tags = {t["Key"]: t["Value"] for t in k.list_tags_for_stream(StreamName="tags-race")["Tags"]}
    assert tags == {f"t{i}": str(i) for i in range(8)}


def test_subscription_at_the_starting_sequence_number_of_an_empty_shard(broker):
    k = client(broker)
    create_stream(k, "start", shards=1)
    arn = k.describe_stream_summary(StreamName="start")["StreamDescriptionSummary"]["StreamARN"]
    consumer = k.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]["ConsumerARN"]
    start = k.list_shards(StreamName="start")["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]
    events = k.subscribe_to_shard(
        ConsumerARN=consumer,
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": start},
    )["EventStream"]
    first = next(iter(events))["SubscribeToShardEvent"]
    events.close()
    assert first["Records"] == [] and first["ContinuationSequenceNumber"].isdigit()


def test_auto_distribution_ends_with_on_demand_mode(broker):
    k = client(broker)
    arn = create_stream(k, "auto-then-provisioned", shards=None)["StreamARN"]
    k.update_stream_record_distribution_strategy(StreamARN=arn, RecordDistributionStrategy="AUTO")
    k.put_record(StreamName="auto-then-provisioned", Data=b"no key")
    k.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    err = error_400(k.put_record, StreamName="auto-then-provisioned", Data=b"no key")
    assert err["Code"] == "ValidationException"  # a provisioned stream routes by partition key again


def test_nul_in_strings_is_a_validation_error(broker):
    """Found by the soak fuzz on PostgreSQL (whose text cannot hold NUL): a 503 before, a client error now."""
    k = client(broker)
    create_stream(k, "nul", shards=1)
    err = error_400(k.start_stream_encryption, StreamName="nul", EncryptionType="KMS", KeyId="key\x00")
    assert err["Code"] == "ValidationException"
    err = error_400(k.put_record, StreamName="nul", Data=b"\x00 in data is fine", PartitionKey="p\x00")
    assert err["Code"] == "ValidationException"
    k.put_record(StreamName="nul", Data=b"\x00 in data is fine", PartitionKey="p")
