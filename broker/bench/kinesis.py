"""`broker bench kinesis`: PutRecords (500 × 1 KB) and PutRecord throughput, GetRecords read-back,
SubscribeToShard put-to-delivery latency, and a queue's ReceiveQueueRecords(10) + AcknowledgeQueueRecords rate,
against a fresh broker (durable SQLite unless --db-url, N workers)."""

from __future__ import annotations

import argparse
import base64
import http.client
import statistics
import threading
import time
from typing import Any

import botocore.session
import orjson
from botocore.config import Config

from broker.bench.sqs import running_broker
from broker.bench.wrk import report, require_wrk, run_wrk

STREAM = "bench"
SHARDS = 4
AUTH = "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0"
DATA_1K = base64.b64encode(b"x" * 1024).decode()

HEADERS_LUA = f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["Authorization"] = "{AUTH}"
items = 0
"""

PUT_RECORDS_LUA = (
    HEADERS_LUA
    + f"""
wrk.headers["X-Amz-Target"] = "Kinesis_20131202.PutRecords"
local parts = {{}}
for i = 1, 500 do parts[i] = '{{"Data":"{DATA_1K}","PartitionKey":"key-' .. i .. '"}}' end
wrk.body = '{{"StreamName":"{STREAM}","Records":[' .. table.concat(parts, ",") .. ']}}'
response = function(status, headers, body)
  if status == 200 and body:find('"FailedRecordCount":0') then items = items + 500 end
end
"""
)

PUT_RECORD_LUA = (
    HEADERS_LUA
    + f"""
wrk.headers["X-Amz-Target"] = "Kinesis_20131202.PutRecord"
local n = 0
request = function()
  n = n + 1
  local body = '{{"StreamName":"{STREAM}","PartitionKey":"k' .. tid .. '-' .. n .. '","Data":"{DATA_1K}"}}'
  return wrk.format(nil, "/", nil, body)
end
response = function(status, headers, body) if status == 200 then items = items + 1 end end
"""
)


def _client(port: int) -> Any:  # a botocore client: its methods are generated at runtime
    session = botocore.session.get_session()
    return session.create_client(
        "kinesis",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def _read_shard(port: int, iterator: str, counts: list[int], i: int) -> None:
    """Read a shard to its tip with raw GetRecords calls (10,000 records each) on a keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {
        "X-Amz-Target": "Kinesis_20131202.GetRecords",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": AUTH,
    }
    while iterator:
        conn.request("POST", "/", orjson.dumps({"ShardIterator": iterator, "Limit": 10000}), headers)
        response = conn.getresponse()
        out = orjson.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"GetRecords failed: {out}")
        counts[i] += len(out["Records"])
        if not out["Records"] or out.get("MillisBehindLatest", 0) == 0 and len(out["Records"]) < 10000:
            break
        iterator = out.get("NextShardIterator")
    conn.close()


def _read_back(port: int, kinesis: Any) -> dict[str, Any]:
    shards = [s["ShardId"] for s in kinesis.list_shards(StreamName=STREAM)["Shards"]]
    iterators = [
        kinesis.get_shard_iterator(StreamName=STREAM, ShardId=s, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for s in shards
    ]
    counts = [0] * len(shards)
    started = time.perf_counter()
    threads = [threading.Thread(target=_read_shard, args=(port, it, counts, i)) for i, it in enumerate(iterators)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    total = sum(counts)
    return {"records": total, "seconds": elapsed, "records_per_s": total / elapsed}


def _subscribe_latency(port: int, kinesis: Any, count: int) -> dict[str, Any]:
    """Put one record at a time (20 per second) while a SubscribeToShard consumer receives them; each latency is
    from just before the PutRecord call to the event's arrival."""
    arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="bench")["Consumer"]["ConsumerARN"]
    shard = kinesis.list_shards(StreamName=STREAM)["Shards"][0]
    key = str(int(shard["HashKeyRange"]["StartingHashKey"]))
    sent: dict[bytes, float] = {}
    latencies: list[float] = []
    ready, done = threading.Event(), threading.Event()

    def consume() -> None:
        reader = _client(port)
        events = reader.subscribe_to_shard(
            ConsumerARN=consumer, ShardId=shard["ShardId"], StartingPosition={"Type": "LATEST"}
        )["EventStream"]
        ready.set()
        for event in events:
            now = time.perf_counter()
            for record in event["SubscribeToShardEvent"]["Records"]:
                if record["Data"] in sent:
                    latencies.append(now - sent[record["Data"]])
            if len(latencies) >= count:
                break
        events.close()
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    ready.wait(30)
    time.sleep(0.5)
    for i in range(count):
        data = f"latency-{i}".encode()
        sent[data] = time.perf_counter()
        kinesis.put_record(StreamName=STREAM, Data=data, PartitionKey="p", ExplicitHashKey=key)
        time.sleep(0.05)
    done.wait(30)
    ms = sorted(x * 1000 for x in latencies)
    return {
        "events": len(ms),
        "p50_ms": statistics.median(ms) if ms else None,
        "p99_ms": ms[int(len(ms) * 0.99) - 1] if ms else None,
    }


QUEUE_RECORDS = 20_000
QUEUE_CONSUMERS = 4


def _queue_consumer(port: int, queue: str, taken: list[bytes], stop: threading.Event) -> None:
    """Receive 10 at a time and acknowledge each batch, on a keep-alive connection, until the queue stays empty."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(op: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {
            "X-Amz-Target": f"Kinesis_20131202.{op}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": AUTH,
        }
        conn.request("POST", "/", orjson.dumps(body), headers)
        response = conn.getresponse()
        out: dict[str, Any] = orjson.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"{op} failed: {out}")
        return out

    while not stop.is_set():
        records = call("ReceiveQueueRecords", {"QueueARN": queue, "Limit": 10, "WaitTimeSeconds": 1})["QueueRecords"]
        if not records:
            stop.set()  # every record was put before the consumers started: empty means drained
            break
        done = call(
            "AcknowledgeQueueRecords",
            {"QueueARN": queue, "Entries": [{"ReceiptHandle": r["ReceiptHandle"]} for r in records]},
        )
        if done["Failed"]:
            raise SystemExit(f"AcknowledgeQueueRecords failed: {done['Failed'][:3]}")
        taken.extend(r["Data"] for r in records)
    conn.close()


def _queue_phase(port: int, kinesis: Any) -> dict[str, Any]:
    """Fill an on-demand stream, then drain a TRIM_HORIZON queue on it with concurrent consumers."""
    kinesis.create_stream(StreamName="bench-queue", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    kinesis.get_waiter("stream_exists").wait(StreamName="bench-queue", WaiterConfig={"Delay": 1})
    arn = kinesis.describe_stream_summary(StreamName="bench-queue")["StreamDescriptionSummary"]["StreamARN"]
    payload = b"x" * 1024
    for start in range(0, QUEUE_RECORDS, 500):
        records = [{"Data": payload, "PartitionKey": f"k{i}"} for i in range(start, start + 500)]
        if kinesis.put_records(StreamName="bench-queue", Records=records)["FailedRecordCount"]:
            raise SystemExit("PutRecords failed while filling the queue's stream")
    queue = kinesis.create_queue(
        QueueName="bench",
        StreamConfigurationList=[{"StreamARN": arn, "StartingPosition": {"Type": "TRIM_HORIZON"}}],
    )["QueueDescription"]["QueueARN"]
    taken: list[bytes] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_queue_consumer, args=(port, queue, taken, stop)) for _ in range(QUEUE_CONSUMERS)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if len(taken) != QUEUE_RECORDS:
        raise SystemExit(f"the queue delivered {len(taken)} records of {QUEUE_RECORDS}")
    return {
        "records": len(taken),
        "consumers": QUEUE_CONSUMERS,
        "seconds": elapsed,
        "records_per_s": len(taken) / elapsed,
    }


def main(args: argparse.Namespace) -> int:
    require_wrk()
    d, c = args.duration, args.connections
    results: dict[str, Any] = {"workers": args.workers, "duration_s": d, "shards": SHARDS}
    with running_broker(args) as port:
        base = f"http://127.0.0.1:{port}/"
        kinesis = _client(port)
        kinesis.create_stream(StreamName=STREAM, ShardCount=SHARDS)
        kinesis.get_waiter("stream_exists").wait(StreamName=STREAM, WaiterConfig={"Delay": 1})
        results["put_records_500x1k"] = r = run_wrk(base, PUT_RECORDS_LUA, d, min(c, 8))
        print(f"PutRecords (500 x 1 KB): {r['items_per_s']:.0f} records/s, p50 {r['p50_us'] / 1000:.1f} ms")
        results["put_record_1k"] = r = run_wrk(base, PUT_RECORD_LUA, d, c)
        print(f"PutRecord (1 KB): {r['items_per_s']:.0f} records/s, p50 {r['p50_us'] / 1000:.2f} ms")
        acked = results["put_records_500x1k"]["items"] + results["put_record_1k"]["items"]
        results["get_records_read_back"] = rb = _read_back(port, kinesis)
        rb["acknowledged"] = acked
        print(f"GetRecords read-back: {rb['records_per_s']:.0f} records/s ({rb['records']} of {acked} acked)")
        if rb["records"] < acked:
            raise SystemExit(f"{acked - rb['records']} acknowledged records are missing")
        results["subscribe_to_shard"] = sub = _subscribe_latency(port, kinesis, 200)
        print(f"SubscribeToShard put-to-delivery: p50 {sub['p50_ms']:.2f} ms, p99 {sub['p99_ms']:.2f} ms")
        results["queue_receive_ack"] = qr = _queue_phase(port, kinesis)
        print(f"Queue Receive(10)+Acknowledge, {qr['consumers']} consumers: {qr['records_per_s']:.0f} records/s")
    return report(args, results)
