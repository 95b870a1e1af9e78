"""Enhanced fan-out: consumers and SubscribeToShard through boto3's event-stream decoding — records pushed as they
arrive, continuation sequence numbers, the 5-minute lifetime on the test clock, closed shards, restarts."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import EventStreamError

from tests.kinesis.helpers import HASH_SPACE, client, create_stream, error_400


def _consumer(k, stream: str, name: str = "app") -> tuple[str, str]:
    arn = k.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    consumer = k.register_stream_consumer(StreamARN=arn, ConsumerName=name)["Consumer"]
    assert consumer["ConsumerStatus"] == "CREATING"
    return arn, consumer["ConsumerARN"]


def _subscribe(k, consumer: str, position: dict, shard: str = "shardId-000000000000"):
    return k.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard, StartingPosition=position)["EventStream"]


def _collect(events, want: int, timeout: float = 10.0) -> tuple[list[bytes], str, list[dict]]:
    """Records until `want` arrived (or the stream ended); the last ContinuationSequenceNumber and event list."""
    data: list[bytes] = []
    seen: list[dict] = []
    continuation = ""
    deadline = time.monotonic() + timeout
    for event in events:
        body = event["SubscribeToShardEvent"]
        seen.append(body)
        data += [r["Data"] for r in body["Records"]]
        continuation = body["ContinuationSequenceNumber"]
        if len(data) >= want or time.monotonic() > deadline:
            break
    return data, continuation, seen


def test_consumer_lifecycle(broker):
    k = client(broker)
    create_stream(k, "efo", shards=1)
    arn, consumer = _consumer(k, "efo")
    described = k.describe_stream_consumer(StreamARN=arn, ConsumerName="app")["ConsumerDescription"]
    assert (described["ConsumerARN"], described["ConsumerStatus"], described["StreamARN"]) == (consumer, "ACTIVE", arn)
    assert k.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerName"] == "app"
    assert error_400(k.register_stream_consumer, StreamARN=arn, ConsumerName="app")["Code"] == "ResourceInUseException"
    assert [c["ConsumerName"] for c in k.list_stream_consumers(StreamARN=arn)["Consumers"]] == ["app"]
    assert k.describe_stream_summary(StreamName="efo")["StreamDescriptionSummary"]["ConsumerCount"] == 1
    assert error_400(k.delete_stream, StreamName="efo")["Code"] == "ResourceInUseException"
    k.deregister_stream_consumer(ConsumerARN=consumer)
    err = error_400(k.describe_stream_consumer, ConsumerARN=consumer)
    assert err["Code"] == "ResourceNotFoundException"
    k.register_stream_consumer(StreamARN=arn, ConsumerName="again")
    k.delete_stream(StreamName="efo", EnforceConsumerDeletion=True)


def test_consumer_limit_and_pagination(broker):
    k = client(broker)
    create_stream(k, "many", shards=1)
    arn = k.describe_stream_summary(StreamName="many")["StreamDescriptionSummary"]["StreamARN"]
    for i in range(20):
        k.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{i:02d}")
    err = error_400(k.register_stream_consumer, StreamARN=arn, ConsumerName="one-too-many")
    assert err["Code"] == "LimitExceededException"
    names, token = [], None
    while True:
        page = k.list_stream_consumers(StreamARN=arn, MaxResults=7, **({"NextToken": token} if token else {}))
        names += [c["ConsumerName"] for c in page["Consumers"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"c{i:02d}" for i in range(20)]


def test_subscribe_pushes_stored_then_live_records(broker):
    k = client(broker)
    create_stream(k, "push", shards=1)
    _, consumer = _consumer(k, "push")
    for i in range(3):
        k.put_record(StreamName="push", Data=f"stored-{i}".encode(), PartitionKey="p")
    events = _subscribe(k, consumer, {"Type": "TRIM_HORIZON"})

    def later() -> None:
        writer = client(broker)
        for i in range(3):
            time.sleep(0.1)
            writer.put_record(StreamName="push", Data=f"live-{i}".encode(), PartitionKey="p")

    threading.Thread(target=later, daemon=True).start()
    data, continuation, seen = _collect(events, 6)
    events.close()
    assert data == [b"stored-0", b"stored-1", b"stored-2", b"live-0", b"live-1", b"live-2"]
    assert all(e["MillisBehindLatest"] >= 0 for e in seen)
    # Resuming after the continuation number gets only what came later: no duplicates, no gaps.
    k.put_record(StreamName="push", Data=b"after", PartitionKey="p")
    time.sleep(5.1)  # AWS refuses a new subscription of the same consumer and shard for 5 s
    resumed = _subscribe(k, consumer, {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": continuation})
    assert _collect(resumed, 1)[0] == [b"after"]
    resumed.close()


def test_resubscribing_within_five_seconds_is_refused(broker):
    k = client(broker)
    create_stream(k, "twice", shards=1)
    _, consumer = _consumer(k, "twice")
    first = _subscribe(k, consumer, {"Type": "LATEST"})
    err = error_400(
        k.subscribe_to_shard,
        ConsumerARN=consumer,
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "LATEST"},
    )
    assert err["Code"] == "ResourceInUseException"
    first.close()


def test_subscription_ends_after_five_minutes_of_the_clock(broker):
    k = client(broker)
    create_stream(k, "lifetime", shards=1)
    _, consumer = _consumer(k, "lifetime")
    events = _subscribe(k, consumer, {"Type": "LATEST"})
    done = threading.Event()

    def drain() -> None:
        for _ in events:
            pass
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    time.sleep(0.3)
    assert not done.is_set()
    broker.advance(301)
    assert done.wait(10), "the event stream did not end after 5 minutes"


def test_closed_shard_ends_with_child_shards(broker):
    k = client(broker)
    create_stream(k, "closing", shards=1)
    _, consumer = _consumer(k, "closing")
    k.put_record(StreamName="closing", Data=b"last words", PartitionKey="p")
    k.split_shard(StreamName="closing", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(HASH_SPACE // 2))
    events = _subscribe(k, consumer, {"Type": "TRIM_HORIZON"})
    seen = [e["SubscribeToShardEvent"] for e in events]  # the stream ends by itself at the shard's end
    assert [r["Data"] for e in seen for r in e["Records"]] == [b"last words"]
    assert sorted(c["ShardId"] for c in seen[-1]["ChildShards"]) == ["shardId-000000000001", "shardId-000000000002"]


def test_deregistering_ends_the_subscription(broker):
    k = client(broker)
    create_stream(k, "gone", shards=1)
    _, consumer = _consumer(k, "gone")
    events = _subscribe(k, consumer, {"Type": "LATEST"})
    k.deregister_stream_consumer(ConsumerARN=consumer)
    with pytest.raises(EventStreamError) as e:
        for _ in events:
            pass
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_subscribe_errors(broker):
    k = client(broker)
    create_stream(k, "errs", shards=1)
    arn, consumer = _consumer(k, "errs")
    bad_shard = error_400(
        k.subscribe_to_shard, ConsumerARN=consumer, ShardId="shardId-000000000009", StartingPosition={"Type": "LATEST"}
    )
    assert bad_shard["Code"] == "ResourceNotFoundException"
    unknown = error_400(
        k.subscribe_to_shard,
        ConsumerARN=f"{arn}/consumer/nobody:1",
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "LATEST"},
    )
    assert unknown["Code"] == "ResourceNotFoundException"


def test_resume_after_a_restart_from_the_continuation_number(server_factory, backend):
    server = server_factory(backend, workers=2).start()
    k = client(server)
    create_stream(k, "durable", shards=1)
    _, consumer = _consumer(k, "durable")
    for i in range(4):
        k.put_record(StreamName="durable", Data=f"r{i}".encode(), PartitionKey="p")
    events = _subscribe(k, consumer, {"Type": "TRIM_HORIZON"})
    data, continuation, _ = _collect(events, 2)
    events.close()
    server.kill()
    server.restart()
    k = server.client("kinesis")
    k.put_record(StreamName="durable", Data=b"r4", PartitionKey="p")
    resumed = _subscribe(k, consumer, {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": continuation})
    rest, _, _ = _collect(resumed, 5 - len(data))
    resumed.close()
    assert data + rest == [f"r{i}".encode() for i in range(5)]


def test_consumers_are_tagged_by_arn(broker):
    k = client(broker)
    create_stream(k, "tagged", shards=1)
    arn = k.describe_stream_summary(StreamName="tagged")["StreamDescriptionSummary"]["StreamARN"]
    consumer = k.register_stream_consumer(StreamARN=arn, ConsumerName="c", Tags={"team": "a"})["Consumer"]
    k.tag_resource(ResourceARN=consumer["ConsumerARN"], Tags={"env": "dev"})
    k.untag_resource(ResourceARN=consumer["ConsumerARN"], TagKeys=["team"])
    tags = k.list_tags_for_resource(ResourceARN=consumer["ConsumerARN"])["Tags"]
    assert tags == [{"Key": "env", "Value": "dev"}]
    assert k.list_tags_for_resource(ResourceARN=arn)["Tags"] == []  # the stream's own tags are separate
    gone = f"{arn}/consumer/nobody:1"
    assert error_400(k.tag_resource, ResourceARN=gone, Tags={"a": "b"})["Code"] == "ResourceNotFoundException"
