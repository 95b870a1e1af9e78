"""`broker bench lambda-esm`: event source mappings and asynchronous invocation against a fresh broker (durable
SQLite unless --db-url, N workers): send-to-function-start latency of an idle SQS mapping, messages/s drained
through an SQS mapping, Kinesis records/s through a mapping (1 and 4 shards), and the accept rate of
InvocationType=Event invokes under wrk.

The mapping figures count what the functions themselves saw or what the queue says is gone: the functions write
their start times and record counts to files in the run's temporary directory, which the client reads. The
accept rate counts 202 answers; how fast the accepted events then run is reported beside it.

--quick runs every part with small counts (a check that it works, not a measurement)."""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import botocore.session
import orjson
from botocore.config import Config

from broker.bench.lambda_ import LAMBDA_AUTH, Conn, create_function, percentiles, zip_file
from broker.bench.sqs import Client, running_broker
from broker.bench.wrk import report, require_wrk, run_wrk

RUNTIME = "python3.12"
KINESIS_AUTH = LAMBDA_AUTH.replace("/lambda/", "/kinesis/")
RECORD_BYTES = 1024  # Kinesis record payload, as `broker bench kinesis` puts
SQS_BATCH, KINESIS_BATCH = 10, 500
T = TypeVar("T")

# The functions. Each writes what it saw with one O_APPEND write per invocation (atomic for these short lines, so
# several environments can share a file); OUT is filled in per function.
STARTS_FN = """import os, time
OUT = {out!r}

def handler(event, context):
    t = time.time()  # first thing: the start of the function
    lines = "".join(f"{{r['body']}} {{t!r}}\\n" for r in event["Records"])
    fd = os.open(OUT, os.O_WRONLY | os.O_APPEND)
    os.write(fd, lines.encode())
    os.close(fd)
"""
NOOP_FN = "def handler(event, context):\n    return None\n"
COUNT_FN = """import os, time
OUT = {out!r}

def handler(event, context):
    recs = event["Records"]
    line = f"{{len(recs)}} {{recs[0]['eventID'] if recs else '-'}} {{time.time()!r}}\\n"
    fd = os.open(OUT, os.O_WRONLY | os.O_APPEND)
    os.write(fd, line.encode())
    os.close(fd)
"""
TICK_FN = """import os
OUT = {out!r}

def handler(event, context):
    fd = os.open(OUT, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b".")
    os.close(fd)
"""

ASYNC_LUA = f"""
items = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "{LAMBDA_AUTH}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Amz-Invocation-Type"] = "Event"
wrk.body = '{{"bench": true}}'
response = function(status, headers, body) if status == 202 then items = items + 1 end end
"""


@dataclass(frozen=True)
class Sizes:
    latency_messages: int
    sqs_messages: int
    kinesis_records: int
    wrk_seconds: float
    drain_seconds: float  # how long to wait for accepted async events to run before the next wrk run


def _sizes(args: argparse.Namespace) -> Sizes:
    if getattr(args, "quick", False):
        return Sizes(30, 2_000, 5_000, 2, 15)
    return Sizes(200, 20_000, 100_000, args.duration, 60)


def _client(service: str, port: int) -> Any:  # a botocore client: its methods are generated at runtime
    return botocore.session.get_session().create_client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="000000000000",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def _function(port: int, tmp: Path, name: str, source: str) -> Path:
    """A Python function whose OUT file (created empty) is returned. On a connection of its own: the server
    closes keep-alive connections left idle between phases."""
    out = tmp / f"{name}.out"
    out.touch()
    code = zip_file("handler.py", source.format(out=str(out)))
    create_function(Conn(port), name, RUNTIME, "handler.handler", code)
    return out


def _until(check: Callable[[], T | None], timeout: float, what: str, pause: float = 0.005) -> T:
    """Poll `check` until it answers something true (bounded: the benchmark ends if it never does)."""
    deadline = time.monotonic() + timeout
    while not (got := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(pause)
    return got


def _join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _queue(sqs: Client, name: str) -> tuple[str, str]:
    url: str = sqs.call("CreateQueue", {"QueueName": name})["QueueUrl"]
    attrs = sqs.call("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]})["Attributes"]
    return url, str(attrs["QueueArn"])


def _depth(sqs: Client, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attrs = sqs.call("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": names})["Attributes"]
    return sum(int(attrs[n]) for n in names)


def _poller_pids(port: int, uuid: str) -> set[int]:
    """The worker processes holding the leases of a mapping's pollers (one per SQS mapping, one per Kinesis
    shard: esm:<uuid>[:<shard>]; the owner is host:pid:random)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/_broker/leases")
    leases = json.loads(c.getresponse().read())["leases"]
    return {int(x["owner"].rsplit(":", 2)[1]) for x in leases if x["name"].startswith(f"esm:{uuid}") and x["live"]}


def _clients_per_worker(port: int, workers: int) -> dict[int, Client]:
    """A keep-alive connection to each worker process, as far as found: the kernel hands new connections to the
    workers unevenly, so open them a few at a time, all held open while looking."""
    found: dict[int, Client] = {}
    held: list[Client] = []
    for _ in range(10):
        batch: list[tuple[int, Client]] = []

        def connect(out: list[tuple[int, Client]] = batch) -> None:
            c = Client(port)
            out.append((c.pid(), c))

        _join([threading.Thread(target=connect) for _ in range(4)])
        for pid, c in batch:
            found.setdefault(pid, c)
            held.append(c)
        if len(found) >= workers:
            break
    for c in held:
        if c not in found.values():
            c.conn.close()
    return found


class _Lines:
    """Reads the lines a function appends to its OUT file, as they come."""

    def __init__(self, path: Path) -> None:
        self.f = path.open("rb")
        self.rest = b""

    def new(self) -> list[str]:
        data = self.rest + self.f.read()
        *lines, self.rest = data.split(b"\n")
        return [ln.decode() for ln in lines]


# -- 1. send -> function start, idle SQS mapping -----------------------------------------------------------------
def _latency(port: int, workers: int, lam: Any, tmp: Path, count: int) -> dict[str, Any]:
    out = _function(port, tmp, "esm-latency", STARTS_FN)
    admin = Client(port)
    url, arn = _queue(admin, "esm-latency")
    uuid = lam.create_event_source_mapping(FunctionName="esm-latency", EventSourceArn=arn, BatchSize=1)["UUID"]
    poller = _until(lambda: _poller_pids(port, uuid), 30, "the mapping's poller to start", pause=0.05).pop()
    senders = _clients_per_worker(port, workers)
    lines = _Lines(out)
    starts: dict[str, float] = {}

    def one(sender: Client, body: str) -> tuple[float, float, float]:
        t_send = time.time()
        sender.call("SendMessage", {"QueueUrl": url, "MessageBody": body})
        t_ack = time.time()

        def seen() -> bool:
            for ln in lines.new():
                b, t = ln.rsplit(" ", 1)
                starts[b] = float(t)
            return body in starts

        _until(seen, 20, f"message {body} to reach the function", pause=0.002)
        # Idle again before the next one: the message is deleted once the invocation ended.
        _until(lambda: _depth(admin, url) == 0, 20, "the queue to empty", pause=0.002)
        return t_send, t_ack, starts[body]

    order = list(senders.items())
    for i in range(5 * len(order)):  # a warm environment and warm connections
        one(order[i % len(order)][1], f"warm-{i}")
    total: list[float] = []
    after_ack: list[float] = []
    by_worker: dict[int, list[float]] = {pid: [] for pid in senders}
    for i in range(count):
        pid, sender = order[i % len(order)]
        t_send, t_ack, t_start = one(sender, f"m-{i}")
        total.append(t_start - t_send)
        after_ack.append(t_start - t_ack)
        by_worker[pid].append(t_start - t_send)
    lam.delete_event_source_mapping(UUID=uuid)
    result: dict[str, Any] = {**percentiles(total), "p90_ms": round(_quantile(total, 0.9) * 1000, 3)}
    result["start_after_send_ack_p50_ms"] = round(statistics.median(after_ack) * 1000, 3)
    result["sending_workers"] = len(senders)
    result["by_sending_worker_p50_ms"] = {
        ("poller's worker" if pid == poller else "other worker"): round(statistics.median(s) * 1000, 3)
        for pid, s in by_worker.items()
        if s
    }
    return result


def _quantile(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * q))]


# -- 2. messages/s through an SQS mapping ------------------------------------------------------------------------
def _send_batches(port: int, url: str, count: int, threads: int = 4) -> None:
    """`count` messages with SendMessageBatch(10) over a few keep-alive connections."""
    calls = count // SQS_BATCH

    def work(first: int) -> None:
        c = Client(port)
        for i in range(first, calls, threads):
            entries = [{"Id": str(k), "MessageBody": f"message {i * SQS_BATCH + k}"} for k in range(SQS_BATCH)]
            if c.call("SendMessageBatch", {"QueueUrl": url, "Entries": entries}).get("Failed"):
                raise SystemExit("SendMessageBatch failed entries while preloading")

    _join([threading.Thread(target=work, args=(t,)) for t in range(threads)])


def _sqs_throughput(port: int, lam: Any, count: int) -> dict[str, Any]:
    create_function(Conn(port), "esm-sqs-noop", RUNTIME, "handler.handler", zip_file("handler.py", NOOP_FN))
    admin = Client(port)
    url, arn = _queue(admin, "esm-throughput")
    uuid = lam.create_event_source_mapping(
        FunctionName="esm-sqs-noop", EventSourceArn=arn, BatchSize=SQS_BATCH, Enabled=False
    )["UUID"]
    t0 = time.perf_counter()
    _send_batches(port, url, count)
    preload_s = time.perf_counter() - t0
    if (depth := _depth(admin, url)) != count:
        raise SystemExit(f"preloaded {count} messages but the queue holds {depth}")
    samples: list[tuple[float, int]] = []
    deadline = max(60.0, count / 200)
    t0 = time.perf_counter()
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    while True:
        depth = _depth(admin, url)
        samples.append((time.perf_counter() - t0, depth))
        if depth == 0 or samples[-1][0] > deadline:
            break
        time.sleep(0.05)
    elapsed = samples[-1][0]
    lam.delete_event_source_mapping(UUID=uuid)
    if depth:
        raise SystemExit(f"{depth} of {count} messages still in the queue after {elapsed:.0f} s")

    def first_below(n: float) -> float:
        return next(t for t, d in samples if d <= n)

    started = first_below(count - 1)
    steady = first_below(count * 0.1) - first_below(count * 0.9)
    return {
        "messages": count,
        "batch_size": SQS_BATCH,
        "preload_messages_per_s": round(count / preload_s, 1),
        "drain_s": round(elapsed, 3),
        "messages_per_s": round(count / elapsed, 1),
        "first_delete_after_enable_s": round(started, 3),
        # Between 90 % and 10 % left: the rate once the poller and its environments are up.
        "steady_messages_per_s": round(count * 0.8 / steady, 1) if steady > 0 else None,
    }


# -- 3. Kinesis records/s through a mapping ----------------------------------------------------------------------
def _put_records(port: int, stream: str, count: int, threads: int = 4) -> None:
    """`count` records of RECORD_BYTES with PutRecords(500), random partition keys (spread over the shards)."""
    data = base64.b64encode(b"x" * RECORD_BYTES).decode()
    calls = count // KINESIS_BATCH
    headers = {
        "X-Amz-Target": "Kinesis_20131202.PutRecords",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": KINESIS_AUTH,
    }

    def work(first: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for _ in range(first, calls, threads):
            records = [{"Data": data, "PartitionKey": os.urandom(8).hex()} for _ in range(KINESIS_BATCH)]
            c.request("POST", "/", orjson.dumps({"StreamName": stream, "Records": records}), headers)
            r = c.getresponse()
            body = r.read()
            if r.status != 200 or orjson.loads(body)["FailedRecordCount"]:
                raise SystemExit(f"PutRecords answered {r.status}: {body[:300]!r}")

    _join([threading.Thread(target=work, args=(t,)) for t in range(threads)])


def _kinesis_throughput(port: int, lam: Any, tmp: Path, shards: int, count: int) -> dict[str, Any]:
    kinesis = _client("kinesis", port)
    stream = f"esm-{shards}-shards"
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1})
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    name = f"esm-kinesis-{shards}"
    out = _function(port, tmp, name, COUNT_FN)
    t0 = time.perf_counter()
    _put_records(port, stream, count)
    preload_s = time.perf_counter() - t0
    lines = _Lines(out)
    first_ids: list[str] = []
    batches: list[tuple[float, int]] = []  # (the function's start time, records in the batch)
    t_create = time.time()
    uuid = lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=arn, BatchSize=KINESIS_BATCH, StartingPosition="TRIM_HORIZON"
    )["UUID"]
    deadline = time.monotonic() + max(60.0, count / 2_000)
    seen = 0
    spread: set[int] = set()  # the worker processes running the shards' pollers
    while seen < count and time.monotonic() < deadline:
        time.sleep(0.05)
        for ln in lines.new():
            n, first, t = ln.split(" ")
            seen += int(n)
            first_ids.append(first)
            batches.append((float(t), int(n)))
        if batches and not spread:
            spread = _poller_pids(port, uuid)
    lam.delete_event_source_mapping(UUID=uuid)
    if seen < count:
        raise SystemExit(f"the function saw {seen} of {count} records in {time.time() - t_create:.0f} s")
    batches.sort()
    elapsed = batches[-1][0] - t_create  # until the start of the invocation that saw the last records
    # The records of every batch but the last over the span from the first batch's start to the last one's: the
    # rate once the pollers and their environments are up.
    span = batches[-1][0] - batches[0][0]
    return {
        "shards": shards,
        "records": count,
        "record_bytes": RECORD_BYTES,
        "batch_size": KINESIS_BATCH,
        "preload_records_per_s": round(count / preload_s, 1),
        "records_seen": seen,
        "workers_running_pollers": len(spread),
        "invocations": len(batches),
        "duplicate_batches": len(first_ids) - len(set(first_ids)),
        "elapsed_s": round(elapsed, 3),
        "records_per_s": round(count / elapsed, 1),
        "first_invocation_after_create_s": round(batches[0][0] - t_create, 3),
        "steady_records_per_s": round((seen - batches[-1][1]) / span, 1) if span > 0 else None,
    }


# -- 4. asynchronous invoke accept rate --------------------------------------------------------------------------
def _async_accept(port: int, tmp: Path, sizes: Sizes) -> dict[str, Any]:
    out = _function(port, tmp, "esm-async", TICK_FN)
    Conn(port).invoke("esm-async")  # a warm environment
    url = f"http://127.0.0.1:{port}/2015-03-31/functions/esm-async/invocations"
    results: dict[str, Any] = {}
    accepted = 0
    for connections in (4, 32):
        ran_before = out.stat().st_size - 1  # the file holds one tick per run invocation (minus the warm-up)
        r = run_wrk(url, ASYNC_LUA, sizes.wrk_seconds, connections)
        accepted += r["items"]
        ran_during = out.stat().st_size - 1 - ran_before
        backlog = max(0, accepted + 1 - out.stat().st_size)
        # Let the accepted events run before the next run (bounded), so each run starts without a backlog; the
        # rate they run at then is a figure of its own. (wrk leaves out answers still in flight when it stops, so
        # a few more events may run than it counted.)
        t0 = time.perf_counter()
        while out.stat().st_size < accepted + 1 and time.perf_counter() - t0 < sizes.drain_seconds:
            time.sleep(0.05)
        drain_s = time.perf_counter() - t0
        left = max(0, accepted + 1 - out.stat().st_size)
        results[f"{connections}_connections"] = {
            "events_accepted": r["items"],
            "accepted_per_s": round(r["items_per_s"], 1),
            "non_202": r["non2xx"] + r["errors"],
            "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000,
            "ran_during_accept": ran_during,
            "backlog_after_accept": backlog,
            "backlog_ran_per_s": round((backlog - left) / drain_s, 1) if backlog else None,
            "left_to_run": left,
        }
    return results


def main(args: argparse.Namespace) -> int:
    require_wrk()
    sizes = _sizes(args)
    results: dict[str, Any] = {
        "backend": "postgresql" if args.db_url else "sqlite",
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "quick": bool(getattr(args, "quick", False)),
        "runtime": RUNTIME,
        "targets": {
            "sqs_send_to_start_p50_ms": "<= 9",
            "sqs_mapping_messages_per_s": ">= 2000",
            "kinesis_mapping_records_per_s": ">= 20000",
            "async_accepted_per_s": ">= 2000",
        },
    }
    with tempfile.TemporaryDirectory() as tmpdir, running_broker(args) as port:
        tmp = Path(tmpdir)
        lam = _client("lambda", port)
        r = results["sqs_send_to_start"] = _latency(port, args.workers, lam, tmp, sizes.latency_messages)
        print(
            f"SQS send -> function start: p50 {r['p50_ms']} ms, p90 {r['p90_ms']} ms, p99 {r['p99_ms']} ms", flush=True
        )
        r = results["sqs_mapping_throughput"] = _sqs_throughput(port, lam, sizes.sqs_messages)
        print(f"SQS mapping: {r['messages_per_s']} msg/s (steady {r['steady_messages_per_s']})", flush=True)
        for shards in (1, 4):
            r = _kinesis_throughput(port, lam, tmp, shards, sizes.kinesis_records)
            results[f"kinesis_mapping_{shards}_shards"] = r
            print(
                f"Kinesis mapping, {shards} shard(s): {r['records_per_s']} rec/s (steady {r['steady_records_per_s']})",
                flush=True,
            )
        r = results["async_invoke_accept"] = _async_accept(port, tmp, sizes)
        for key, v in r.items():
            print(f"async Invoke accept, {key}: {v['accepted_per_s']} events/s", flush=True)
    return report(args, results)
