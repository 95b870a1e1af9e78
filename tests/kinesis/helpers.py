"""Shared by the Kinesis test modules: cached boto3 clients (building one takes ~0.1 s, so each is built once per
server and settings), error helpers, stream creation through the boto3 waiter, and reading shards to the end."""

from __future__ import annotations

from tests.sqs.clients import error_400, outcome  # noqa: F401 - shared by the Kinesis test modules

HASH_SPACE = 2**128
WAIT = {"Delay": 0.2, "MaxAttempts": 100}

_clients: dict[tuple, object] = {}


def client(broker, region: str = "us-east-1", access_key: str = "test", **config):
    key = (broker.url, region, access_key, tuple(sorted(config.items())))
    if key not in _clients:
        _clients[key] = broker.client("kinesis", region=region, access_key=access_key, **config)
    return _clients[key]


def wait_active(kinesis, name: str) -> dict:
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig=WAIT)
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]


def create_stream(kinesis, name: str, shards: int | None = 1, **kw) -> dict:
    """Create a stream (ON_DEMAND when shards is None), wait until ACTIVE; its DescribeStreamSummary."""
    if shards is None:
        kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"}, **kw)
    else:
        kinesis.create_stream(StreamName=name, ShardCount=shards, **kw)
    return wait_active(kinesis, name)


def list_shards(kinesis, name: str) -> list[dict]:
    shards, token = [], None
    while True:
        page = kinesis.list_shards(NextToken=token) if token else kinesis.list_shards(StreamName=name)
        shards.extend(page["Shards"])
        token = page.get("NextToken")
        if not token:
            return shards


def shard_ids(kinesis, name: str) -> list[str]:
    return [s["ShardId"] for s in list_shards(kinesis, name)]


def read_from(kinesis, iterator: str, limit: int | None = None, max_calls: int = 10_000) -> list[dict]:
    """Every record from `iterator` up to the tip of the shard (an empty response with MillisBehindLatest 0)."""
    records: list[dict] = []
    for _ in range(max_calls):
        kw = {"Limit": limit} if limit else {}
        resp = kinesis.get_records(ShardIterator=iterator, **kw)
        records.extend(resp["Records"])
        iterator = resp.get("NextShardIterator")
        if iterator is None or (not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0):
            return records
    raise AssertionError("the shard never reached its tip")


def read_shard(kinesis, name: str, shard_id: str, limit: int | None = None) -> list[dict]:
    """Every record of a shard, from TRIM_HORIZON."""
    it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
    return read_from(kinesis, it["ShardIterator"], limit)


def read_stream(kinesis, name: str) -> dict[str, list[dict]]:
    """Every record of every shard, from TRIM_HORIZON, by shard id."""
    return {sid: read_shard(kinesis, name, sid) for sid in shard_ids(kinesis, name)}


def shard_for(shards: list[dict], hash_key: int) -> str:
    """The id of the shard whose hash key range holds `hash_key`."""
    for s in shards:
        r = s["HashKeyRange"]
        if int(r["StartingHashKey"]) <= hash_key <= int(r["EndingHashKey"]):
            return s["ShardId"]
    raise AssertionError(f"no shard holds {hash_key}")
