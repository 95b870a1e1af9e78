"""Resharding: SplitShard, MergeShards, UpdateShardCount — lineage, hash ranges, closed parents readable to their end
with ChildShards, and per-key order for a reader that finishes parents before children."""

from __future__ import annotations

import pytest

from tests.kinesis.helpers import HASH_SPACE, client, create_stream, error_400


def _shards(k, name: str) -> dict[str, dict]:
    return {s["ShardId"]: s for s in k.list_shards(StreamName=name)["Shards"]}


def _open(shards: dict[str, dict]) -> list[dict]:
    return sorted(
        (s for s in shards.values() if "EndingSequenceNumber" not in s["SequenceNumberRange"]),
        key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]),
    )


def _covers_key_space(open_shards: list[dict]) -> None:
    ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in open_shards]
    assert ranges[0][0] == 0 and ranges[-1][1] == HASH_SPACE - 1
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        assert start == end + 1


def _read_all(k, name: str, shard: str) -> tuple[list[bytes], dict]:
    it = k.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    data: list[bytes] = []
    while True:
        out = k.get_records(ShardIterator=it)
        data += [r["Data"] for r in out["Records"]]
        if out.get("NextShardIterator") is None or (not out["Records"] and out["MillisBehindLatest"] == 0):
            return data, out
        it = out["NextShardIterator"]


def test_split_then_merge_keeps_lineage_and_order(broker):
    k = client(broker)
    create_stream(k, "split", shards=1)
    for i in range(5):
        k.put_record(StreamName="split", Data=f"before-{i}".encode(), PartitionKey="same")
    k.split_shard(StreamName="split", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(HASH_SPACE // 2))
    shards = _shards(k, "split")
    children = [s for s in shards.values() if s.get("ParentShardId") == "shardId-000000000000"]
    assert len(children) == 2
    _covers_key_space(_open(shards))
    assert "EndingSequenceNumber" in shards["shardId-000000000000"]["SequenceNumberRange"]
    for i in range(5):
        k.put_record(StreamName="split", Data=f"after-{i}".encode(), PartitionKey="same")
    # The parent reads to its end, then names its children.
    data, last = _read_all(k, "split", "shardId-000000000000")
    assert data == [f"before-{i}".encode() for i in range(5)]
    assert last.get("NextShardIterator") is None
    assert sorted(c["ShardId"] for c in last["ChildShards"]) == sorted(c["ShardId"] for c in children)
    assert all(c["ParentShards"] == ["shardId-000000000000"] for c in last["ChildShards"])
    later = [d for c in children for d in _read_all(k, "split", c["ShardId"])[0]]
    assert later == [f"after-{i}".encode() for i in range(5)]
    # Children carry larger sequence numbers than their parent.
    parent_end = int(shards["shardId-000000000000"]["SequenceNumberRange"]["EndingSequenceNumber"])
    assert all(int(c["SequenceNumberRange"]["StartingSequenceNumber"]) > parent_end for c in children)

    a, b = (c["ShardId"] for c in sorted(children, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"])))
    k.merge_shards(StreamName="split", ShardToMerge=b, AdjacentShardToMerge=a)
    merged = [s for s in _shards(k, "split").values() if s.get("ParentShardId") == b]
    assert len(merged) == 1 and merged[0]["AdjacentParentShardId"] == a
    assert merged[0]["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(HASH_SPACE - 1)}
    assert k.describe_stream_summary(StreamName="split")["StreamDescriptionSummary"]["OpenShardCount"] == 1


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "0"}, "InvalidArgumentException"),
        ({"ShardToSplit": "shardId-000000000000", "NewStartingHashKey": str(HASH_SPACE)}, "InvalidArgumentException"),
        ({"ShardToSplit": "shardId-000000000009", "NewStartingHashKey": "5"}, "ResourceNotFoundException"),
    ],
)
def test_split_errors(broker, kwargs, code):
    k = client(broker)
    create_stream(k, "bad-split", shards=1)
    assert error_400(k.split_shard, StreamName="bad-split", **kwargs)["Code"] == code


def test_merge_needs_adjacent_open_shards(broker):
    k = client(broker)
    create_stream(k, "bad-merge", shards=3)
    err = error_400(
        k.merge_shards,
        StreamName="bad-merge",
        ShardToMerge="shardId-000000000000",
        AdjacentShardToMerge="shardId-000000000002",
    )
    assert err["Code"] == "InvalidArgumentException"
    k.merge_shards(
        StreamName="bad-merge", ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000001"
    )
    err = error_400(
        k.merge_shards,
        StreamName="bad-merge",
        ShardToMerge="shardId-000000000000",
        AdjacentShardToMerge="shardId-000000000002",
    )
    assert err["Code"] == "ResourceNotFoundException"  # shard 0 is closed now


@pytest.mark.parametrize(("start", "target"), [(2, 4), (4, 2), (3, 5), (5, 3), (3, 6)])
def test_update_shard_count_is_uniform_and_every_child_lists_its_parents(broker, start, target):
    k = client(broker)
    create_stream(k, "scale", shards=start)
    keys = [f"key-{i}" for i in range(40)]
    for key in keys:
        k.put_record(StreamName="scale", Data=f"old-{key}".encode(), PartitionKey=key)
    out = k.update_shard_count(StreamName="scale", TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    assert (out["CurrentShardCount"], out["TargetShardCount"]) == (start, target)
    shards = _shards(k, "scale")
    opened = _open(shards)
    assert len(opened) == target
    _covers_key_space(opened)
    widths = {int(s["HashKeyRange"]["EndingHashKey"]) - int(s["HashKeyRange"]["StartingHashKey"]) for s in opened}
    assert max(widths) - min(widths) <= 1  # uniform
    for s in shards.values():  # a child's range lies within the union of its (at most two) parents
        parents = [shards[p] for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")) if p]
        if parents:
            lo = min(int(p["HashKeyRange"]["StartingHashKey"]) for p in parents)
            hi = max(int(p["HashKeyRange"]["EndingHashKey"]) for p in parents)
            assert lo <= int(s["HashKeyRange"]["StartingHashKey"]) and int(s["HashKeyRange"]["EndingHashKey"]) <= hi
    for key in keys:
        k.put_record(StreamName="scale", Data=f"new-{key}".encode(), PartitionKey=key)
    # Reading shards parents-first, every key's records come out in the order they were put.
    order: list[str] = []
    done: set[str] = set()
    while len(done) < len(shards):
        for sid, s in sorted(shards.items()):
            parents = [p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")) if p in shards]
            if sid not in done and all(p in done for p in parents):
                order += [d.decode() for d in _read_all(k, "scale", sid)[0]]
                done.add(sid)
    for key in keys:
        assert [x for x in order if x.endswith(f"-{key}")] == [f"old-{key}", f"new-{key}"]


@pytest.mark.parametrize("target", [9, 1])
def test_update_shard_count_limits(broker, target):
    """At most double, at least half the open shards (4 here)."""
    k = client(broker)
    create_stream(k, "limits", shards=4)
    err = error_400(k.update_shard_count, StreamName="limits", TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    assert err["Code"] == "LimitExceededException"


def test_puts_route_to_children_after_a_split(broker):
    k = client(broker)
    create_stream(k, "route", shards=1)
    k.split_shard(StreamName="route", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(HASH_SPACE // 2))
    low = k.put_record(StreamName="route", Data=b"x", PartitionKey="p", ExplicitHashKey="1")
    high = k.put_record(StreamName="route", Data=b"x", PartitionKey="p", ExplicitHashKey=str(HASH_SPACE - 1))
    assert (low["ShardId"], high["ShardId"]) == ("shardId-000000000001", "shardId-000000000002")


def test_puts_during_reshards_are_all_kept(server_factory, backend):
    """Producers keep putting while the stream is resharded from other processes: every acknowledged record is
    readable, none twice (puts routed with a stale routing table are routed again, not lost)."""
    import threading
    import time

    server = server_factory(backend, workers=2).start()
    k = client(server)
    create_stream(k, "busy", shards=2)
    acked: list[bytes] = []
    stop = threading.Event()

    def produce(n: int) -> None:
        writer = server.client("kinesis")
        i = 0
        while not stop.is_set():
            batch = [{"Data": f"{n}-{i}-{j}".encode(), "PartitionKey": f"{n}-{j}"} for j in range(20)]
            out = writer.put_records(StreamName="busy", Records=batch)
            acked.extend(b["Data"] for b, r in zip(batch, out["Records"], strict=True) if "SequenceNumber" in r)
            i += 1

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(2)]

    def grown_by(n: int) -> None:
        target, deadline = len(acked) + n, time.monotonic() + 30
        while len(acked) < target and time.monotonic() < deadline:
            time.sleep(0.01)

    for t in threads:
        t.start()
    resharder = server.client("kinesis")
    for target in (3, 5, 4, 2):
        grown_by(40)  # producers are busy while each reshard happens
        resharder.update_shard_count(StreamName="busy", TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    grown_by(40)
    stop.set()
    for t in threads:
        t.join()
    stored = [d for sid in _shards(k, "busy") for d in _read_all(k, "busy", sid)[0]]
    assert len(acked) >= 200
    assert sorted(stored) == sorted(acked)
