"""`broker bench ordinary`: the broker against the emulators people pick instead (fauxqs, kinesalite, MiniStack), at
ordinary concurrency — the way a team's services and tests call a shared broker: 4 client processes, each with one
keep-alive connection and one request in flight. Per scenario: throughput, and the server's CPU (all its processes,
from /proc) per operation and as % of a core; also long-poll wake latency and the CPU an idle server burns.

Clients are processes (not threads: the GIL would make the generator the bottleneck) sending the headers botocore
sends (signed once per operation; neither the broker in auth "none" mode nor the peers check signatures) with bodies
built from precomputed text, so the generator's own share of the 2 cores stays small."""

from __future__ import annotations

import argparse
import datetime
import http.client
import itertools
import json
import multiprocessing
import os
import shlex
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from broker.bench.kinesis import DATA_1K
from broker.bench.lambda_ import Conn, percentiles
from broker.bench.peers import TARGETS, Running, Target, Unavailable, running

CLIENTS = 4
SHARDS = 4
GET_LIMIT = 1000  # records per GetRecords call
RECORDS_PER_SHARD = 2500  # GetRecords reads a shard of at least this many records, then starts over
IDLE_SECONDS = 20.0
SETTLE_SECONDS = 5.0  # after start-up, before the idle measurement
PARK_SECONDS = 0.05  # time given to a long poll to park before the wake-up message is sent
DEFAULT_TARGETS = ("broker", "fauxqs", "fauxqs-sqlite", "kinesalite", "kinesalite-leveldb", "ministack")

Headers = dict[str, dict[str, str]]
Step = Callable[[], int]

QUEUE_URL = "http://localhost/000000000000/q"
# One call per operation the benchmark sends, with valid parameters: botocore serializes and signs it, and the
# headers it would send are kept (the request itself never leaves the process).
SDK_CALLS: dict[str, dict[str, dict[str, Any]]] = {
    "sqs": {
        "CreateQueue": {"QueueName": "q"},
        "GetQueueAttributes": {"QueueUrl": QUEUE_URL, "AttributeNames": ["All"]},
        "SendMessage": {"QueueUrl": QUEUE_URL, "MessageBody": "m"},
        "SendMessageBatch": {"QueueUrl": QUEUE_URL, "Entries": [{"Id": "0", "MessageBody": "m"}]},
        "ReceiveMessage": {"QueueUrl": QUEUE_URL, "MaxNumberOfMessages": 10},
        "DeleteMessage": {"QueueUrl": QUEUE_URL, "ReceiptHandle": "r"},
        "DeleteMessageBatch": {"QueueUrl": QUEUE_URL, "Entries": [{"Id": "0", "ReceiptHandle": "r"}]},
    },
    "kinesis": {
        "CreateStream": {"StreamName": "s", "ShardCount": 1},
        "DescribeStream": {"StreamName": "s"},
        "PutRecord": {"StreamName": "s", "Data": b"x", "PartitionKey": "k"},
        "PutRecords": {"StreamName": "s", "Records": [{"Data": b"x", "PartitionKey": "k"}]},
        "GetShardIterator": {"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"},
        "GetRecords": {"ShardIterator": "i"},
    },
}


def sdk_headers() -> Headers:
    """The headers botocore sends for each operation in SDK_CALLS (but Host and Content-Length, which
    http.client sets per request)."""
    import botocore
    import botocore.session
    from botocore.awsrequest import AWSResponse

    captured: Headers = {}

    class Empty:
        def stream(self, **_: Any) -> Any:
            yield b"{}"

    def capture(request: Any, **_: Any) -> AWSResponse:
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        target = headers["X-Amz-Target"].split(".")[-1]
        captured[target] = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        return AWSResponse(request.url, 200, {}, Empty())

    session = botocore.session.get_session()
    for service, calls in SDK_CALLS.items():
        client = session.create_client(
            service,
            endpoint_url="http://127.0.0.1:1",
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        client.meta.events.register("before-send", capture)
        for op, params in calls.items():
            getattr(client, botocore.xform_name(op))(**params)
    return captured


class Refused(Exception):
    """The server answered with an error status."""


class Api:
    """One keep-alive connection speaking the AWS JSON protocols with the headers an SDK sends."""

    def __init__(self, port: int, headers: Headers) -> None:
        self.conn = Conn(port)
        self.headers = headers
        self.requests = 0

    def call(self, op: str, doc: dict[str, Any]) -> dict[str, Any]:
        status, body = self.conn.call("POST", "/", orjson.dumps(doc), self.headers[op])
        self.requests += 1
        if status != 200:
            raise Refused(f"{op}: HTTP {status} {body[:300].decode(errors='replace')}")
        out: dict[str, Any] = orjson.loads(body) if body else {}
        return out


@dataclass(frozen=True)
class Job:
    """What one client process does: `scenario`'s step, repeated until stop_at; what completes from start_at on
    is counted."""

    scenario: str
    index: int
    port: int
    headers: Headers
    params: dict[str, Any]
    start_at: float  # time.monotonic() (CLOCK_MONOTONIC: the same clock in every process)
    stop_at: float


def _message_text(job: Job) -> str:
    return f"ordinary benchmark message from client {job.index}, number "


def _send(api: Api, job: Job) -> Step:
    url, text, n = job.params["queue_url"], _message_text(job), itertools.count()

    def step() -> int:
        api.call("SendMessage", {"QueueUrl": url, "MessageBody": text + str(next(n))})
        return 1

    return step


def _send_batch(api: Api, job: Job) -> Step:
    url, text, n = job.params["queue_url"], _message_text(job), itertools.count()

    def step() -> int:
        base = next(n) * 10
        entries = [{"Id": str(i), "MessageBody": f"{text}{base + i}"} for i in range(10)]
        return len(api.call("SendMessageBatch", {"QueueUrl": url, "Entries": entries}).get("Successful") or ())

    return step


def _receive_delete(api: Api, job: Job) -> Step:
    url = job.params["queue_url"]

    def step() -> int:
        messages = api.call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10}).get("Messages") or ()
        if not messages:
            return 0
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        return len(api.call("DeleteMessageBatch", {"QueueUrl": url, "Entries": entries}).get("Successful") or ())

    return step


def _put_record(api: Api, job: Job) -> Step:
    stream, key, n = job.params["stream"], f"client-{job.index}-", itertools.count()

    def step() -> int:
        api.call("PutRecord", {"StreamName": stream, "PartitionKey": key + str(next(n)), "Data": DATA_1K})
        return 1

    return step


def _get_records(api: Api, job: Job) -> Step:
    """Iterate one shard from TRIM_HORIZON to its tip, then start over with a new iterator."""
    stream, shards = job.params["stream"], job.params["shards"]
    shard = shards[job.index % len(shards)]
    iterator: str | None = None

    def step() -> int:
        nonlocal iterator
        if iterator is None:
            doc = {"StreamName": stream, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
            iterator = api.call("GetShardIterator", doc)["ShardIterator"]
        out = api.call("GetRecords", {"ShardIterator": iterator, "Limit": GET_LIMIT})
        records = out.get("Records") or ()
        at_tip = not records or (out.get("MillisBehindLatest") == 0 and len(records) < GET_LIMIT)
        iterator = None if at_tip else out.get("NextShardIterator")
        return len(records)

    return step


@dataclass(frozen=True)
class Scenario:
    key: str
    service: str
    label: str  # the table's row
    item: str  # what throughput counts
    step: Callable[[Api, Job], Step]


SCENARIOS = (
    Scenario("send", "sqs", "SendMessage", "msg", _send),
    Scenario("send_batch", "sqs", "SendMessageBatch(10)", "msg", _send_batch),
    Scenario("receive_delete", "sqs", "ReceiveMessage(10)+DeleteMessageBatch", "msg", _receive_delete),
    Scenario("put_record", "kinesis", "Kinesis PutRecord (1 KB)", "rec", _put_record),
    Scenario("get_records", "kinesis", f"Kinesis GetRecords (Limit {GET_LIMIT})", "rec", _get_records),
)
BY_KEY = {s.key: s for s in SCENARIOS}
SERVICE_OF = {**{s.key: s.service for s in SCENARIOS}, "long_poll_wake": "sqs", "idle": ""}


def _client_main(job: Job, out: Connection) -> None:
    """A client process: items and requests completed within [start_at, stop_at), errors, the first error."""
    # Ctrl-C is the parent's to handle: interrupted, it ends its clients (SIGTERM) and stops the server.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    counts: dict[str, Any] = {"items": 0, "requests": 0, "errors": 0, "error": None}
    try:
        api = Api(job.port, job.headers)
        step = BY_KEY[job.scenario].step(api, job)
        now = time.monotonic()
        while now < job.stop_at:
            before = api.requests
            try:
                items, failed = step(), 0
            except Refused as e:  # an error answer leaves the connection usable: go on, and count it
                items, failed = 0, 1
                counts["error"] = counts["error"] or str(e)
            now = time.monotonic()
            if job.start_at <= now < job.stop_at:
                counts["items"] += items
                counts["requests"] += api.requests - before
                counts["errors"] += failed
    except Exception as e:  # noqa: BLE001 - a client that cannot go on reports why with the results
        counts["error"] = f"{type(e).__name__}: {e}"
    out.send(counts)


CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of `root` and all its descendants, with the children they have reaped, from
    /proc/<pid>/stat."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # it exited meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": fields from the 3rd (state) on
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        ticks[pid] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total / CLOCK_TICK


def _sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.monotonic()))


@dataclass(frozen=True)
class Plan:
    duration: float
    warmup: float
    idle: float
    settle: float
    wake_rounds: int
    headers: Headers


def _drive(run: Running, plan: Plan, scenario: Scenario, params: dict[str, Any]) -> dict[str, Any]:
    """CLIENTS processes run `scenario` (warm-up, then the measured window); the server's CPU is read at the
    window's edges."""
    ctx = multiprocessing.get_context("fork")  # the clients need nothing from a fresh interpreter
    start_at = time.monotonic() + 0.5 + plan.warmup
    stop_at = start_at + plan.duration
    procs, readers, finished = [], [], False
    try:
        for i in range(CLIENTS):
            reader, writer = ctx.Pipe(duplex=False)
            job = Job(scenario.key, i, run.port, plan.headers, params, start_at, stop_at)
            proc = ctx.Process(target=_client_main, args=(job, writer), daemon=True)
            proc.start()
            writer.close()
            procs.append(proc)
            readers.append(reader)
        _sleep_until(start_at)
        cpu0 = tree_cpu_seconds(run.proc.pid)
        _sleep_until(stop_at)
        cpu1 = tree_cpu_seconds(run.proc.pid)
        counts: list[dict[str, Any]] = [
            r.recv() if r.poll(max(60.0, plan.duration)) else {"error": "no answer from a client"} for r in readers
        ]
        finished = True
    finally:
        for proc in procs:
            proc.join(5 if finished else 0)  # interrupted: end them now
            if proc.is_alive():
                proc.terminate()
                proc.join()
    items: int = sum(c.get("items", 0) for c in counts)
    requests = sum(c.get("requests", 0) for c in counts)
    cpu, seconds = cpu1 - cpu0, stop_at - start_at
    out: dict[str, Any] = {
        "items_per_s": round(items / seconds, 1),
        "requests_per_s": round(requests / seconds, 1),
        "cpu_ms_per_item": round(cpu * 1000 / items, 4) if items else None,
        "core_percent": round(cpu / seconds * 100, 1),
        "items": items,
        "requests": requests,
        "errors": sum(c.get("errors", 0) for c in counts),
        "seconds": seconds,
        "cpu_seconds": round(cpu, 3),
    }
    errors = [c["error"] for c in counts if c.get("error")]
    if errors:
        out["first_error"] = errors[0]
    if not items:
        out["failed"] = errors[0] if errors else "no operation completed within the window"
    return out


def _idle(run: Running, plan: Plan) -> dict[str, Any]:
    time.sleep(plan.settle)
    cpu0, t0 = tree_cpu_seconds(run.proc.pid), time.monotonic()
    time.sleep(plan.idle)
    cpu1, t1 = tree_cpu_seconds(run.proc.pid), time.monotonic()
    return {
        "seconds": round(t1 - t0, 2),
        "cpu_seconds": round(cpu1 - cpu0, 3),
        "core_percent": round((cpu1 - cpu0) / (t1 - t0) * 100, 2),
    }


def _worker_pid(api: Api) -> int | None:
    """The broker process serving this connection (peers have no such route: None)."""
    status, body = api.conn.call("GET", "/_broker/health", b"", {})
    return int(json.loads(body)["pid"]) if status == 200 else None


def _receiver(run: Running, plan: Plan, sender: Api) -> tuple[Api, bool | None]:
    """A connection for the long poll and whether another process serves it than the sender's: on the broker it is
    made so (the wake-up then crosses worker processes, as between a team's services); peers run one process."""
    if not run.target.name.startswith("broker"):
        return Api(run.port, plan.headers), None
    sender_pid = _worker_pid(sender)
    for _ in range(40):
        api = Api(run.port, plan.headers)
        if _worker_pid(api) != sender_pid:
            return api, True
    return api, False  # one worker (--workers 1)


def _long_poll_wake(run: Running, plan: Plan, url: str) -> dict[str, Any]:
    """A receiver long-polls (WaitTimeSeconds 20); once it is parked, a sender on another connection sends one
    message. Wake = SendMessage answered -> ReceiveMessage answered."""
    sender = Api(run.port, plan.headers)
    receiver, cross_process = _receiver(run, plan, sender)
    wakes: list[float] = []
    send_to_receive: list[float] = []
    missed = 0
    deadline = time.monotonic() + max(30.0, 3 * plan.duration)
    for i in range(plan.wake_rounds):
        if time.monotonic() > deadline:
            break
        got: dict[str, Any] = {}

        def poll(out: dict[str, Any] = got) -> None:
            try:
                doc = {"QueueUrl": url, "WaitTimeSeconds": 20, "MaxNumberOfMessages": 1}
                out["messages"] = receiver.call("ReceiveMessage", doc).get("Messages") or []
                out["t"] = time.perf_counter()
            except (Refused, OSError, http.client.HTTPException) as e:
                out["error"] = str(e)

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        time.sleep(PARK_SECONDS)
        t0 = time.perf_counter()
        sender.call("SendMessage", {"QueueUrl": url, "MessageBody": f"wake {i}"})
        acked = time.perf_counter()
        thread.join(25)
        if thread.is_alive():  # the connection is still the poll's: it cannot be used for the next round
            return {"failed": "a long poll of 20 s did not answer within 25 s"}
        if got.get("error"):
            return {"failed": got["error"]}
        if not got.get("messages"):
            missed += 1
            continue
        # The receive can be answered before the send's answer is read: that is a wake of 0.
        wakes.append(max(0.0, got["t"] - acked))
        send_to_receive.append(got["t"] - t0)
        receiver.call("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": got["messages"][0]["ReceiptHandle"]})
    if not wakes:
        return {"failed": "no long poll was woken"}
    return {
        "wake": percentiles(wakes),
        "send_to_receive": percentiles(send_to_receive),
        "missed": missed,
        "receiver_on_another_worker": cross_process,
    }


def _sqs(run: Running, plan: Plan, suffix: str, out: dict[str, Any]) -> None:
    api = Api(run.port, plan.headers)
    urls = {
        k: api.call("CreateQueue", {"QueueName": f"ordinary-{k}-{suffix}"})["QueueUrl"]
        for k in ("send", "batch", "wake")
    }
    for scenario in (s for s in SCENARIOS if s.service == "sqs"):
        # SendMessageBatch fills the queue that ReceiveMessage+DeleteMessageBatch then drains.
        url = urls["send" if scenario.key == "send" else "batch"]
        if scenario.key == "receive_delete":
            # Topped up by half as much again (unmeasured), as a receive with its delete may outpace a batch send.
            _drive(
                run,
                replace(plan, warmup=0.0, duration=plan.duration / 2),
                BY_KEY["send_batch"],
                {"queue_url": url},
            )
        out[scenario.key] = r = _drive(run, plan, scenario, {"queue_url": url})
        _progress(run, scenario, r)
    attrs = Api(run.port, plan.headers).call(
        "GetQueueAttributes", {"QueueUrl": urls["batch"], "AttributeNames": ["All"]}
    )
    # A queue drained before the end would make the figure one of empty receives: the table marks it.
    out["receive_delete"]["left_in_queue"] = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    out["long_poll_wake"] = wake = _long_poll_wake(run, plan, urls["wake"])
    if "failed" in wake:
        print(f"  {run.target.name}: long-poll wake failed: {wake['failed']}", flush=True)
    else:
        print(
            f"  {run.target.name}: long-poll wake p50 {wake['wake']['p50_ms']} ms, p99 {wake['wake']['p99_ms']} ms",
            flush=True,
        )


def _kinesis(run: Running, plan: Plan, suffix: str, out: dict[str, Any]) -> None:
    api = Api(run.port, plan.headers)
    stream = f"ordinary-{suffix}"
    api.call("CreateStream", {"StreamName": stream, "ShardCount": SHARDS})
    deadline = time.monotonic() + 60
    while (desc := api.call("DescribeStream", {"StreamName": stream})["StreamDescription"])["StreamStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise Refused(f"stream still {desc['StreamStatus']} after 60 s")
        time.sleep(0.1)
    shards = [s["ShardId"] for s in desc["Shards"]]
    put, get = BY_KEY["put_record"], BY_KEY["get_records"]
    out[put.key] = r = _drive(run, plan, put, {"stream": stream})
    _progress(run, put, r)
    # GetRecords reads shards of RECORDS_PER_SHARD records or more (what PutRecord left, topped up).
    api = Api(run.port, plan.headers)
    for start in range(r["items"], SHARDS * RECORDS_PER_SHARD, 500):
        records = [{"Data": DATA_1K, "PartitionKey": f"fill-{i}"} for i in range(start, start + 500)]
        if api.call("PutRecords", {"StreamName": stream, "Records": records}).get("FailedRecordCount"):
            raise Refused("PutRecords failed while filling the stream")
    out[get.key] = r = _drive(run, plan, get, {"stream": stream, "shards": shards})
    _progress(run, get, r)


def _progress(run: Running, scenario: Scenario, r: dict[str, Any]) -> None:
    if "failed" in r:
        print(f"  {run.target.name}: {scenario.label}: failed: {r['failed']}", flush=True)
        return
    print(
        f"  {run.target.name}: {scenario.label}: {r['items_per_s']:,.0f} {scenario.item}/s, "
        f"server CPU {r['cpu_ms_per_item']:.3f} ms/{scenario.item}, {r['core_percent']:.0f}% of a core"
        + (f", {r['errors']} errors ({r['first_error']})" if r["errors"] else ""),
        flush=True,
    )


def _measure(target: Target, args: argparse.Namespace, plan: Plan) -> dict[str, Any]:
    out: dict[str, Any] = {"storage": target.storage, "durable": target.durable, "services": sorted(target.services)}
    try:
        with running(target, args) as run:
            out["version"] = run.version
            print(f"{target.name}: {run.version} on port {run.port}, {target.storage}", flush=True)
            out["idle"] = idle = _idle(run, plan)
            print(
                f"  {target.name}: idle {idle['core_percent']:.2f}% of a core over {idle['seconds']:.0f} s", flush=True
            )
            suffix = uuid.uuid4().hex[:8]  # a reused PostgreSQL database may hold an earlier run's resources
            for service, measure in (("sqs", _sqs), ("kinesis", _kinesis)):
                if service in target.services:
                    try:
                        measure(run, plan, suffix, out)
                    except (Refused, OSError, http.client.HTTPException, KeyError) as e:
                        out[f"{service}_failed"] = f"{type(e).__name__}: {e}"
                        print(f"  {target.name}: {service} failed: {e}", flush=True)
    except Unavailable as e:
        out["unavailable"] = str(e)
        print(f"{target.name}: unavailable: {e}", flush=True)
    return out


# --- the table -------------------------------------------------------------------------------------------------


def _peer_kind(target: str) -> str | None:
    if target.startswith("broker"):
        return None
    return "durable" if TARGETS[target].durable else "in memory"


Fmt = Callable[[dict[str, Any]], str]


def _fastest(results: dict[str, Any], key: str, kind: str) -> str | None:
    """The peer of this kind with the highest throughput in scenario `key`."""
    ok = [(r[key]["items_per_s"], n) for n, r in results.items() if _peer_kind(n) == kind and _ok(r, key)]
    return max(ok)[1] if ok else None


def _lowest(results: dict[str, Any], key: str, value: Callable[[dict[str, Any]], float], kind: str) -> str | None:
    ok = [(value(r[key]), n) for n, r in results.items() if _peer_kind(n) == kind and _ok(r, key)]
    return min(ok)[1] if ok else None


def _ok(r: dict[str, Any], key: str) -> bool:
    return key in r and "failed" not in r[key]


def _rate(x: dict[str, Any]) -> str:
    return f"{x['items_per_s']:,.0f}" + ("*" if x.get("left_in_queue") == 0 else "")


def _cpu(x: dict[str, Any]) -> str:
    return f"{x['cpu_ms_per_item']:.3f}"


def _core(x: dict[str, Any]) -> str:
    return f"{x['core_percent']:.0f}%"


def _wake(x: dict[str, Any]) -> str:
    return f"{x['wake']['p50_ms']:.1f} / {x['wake']['p99_ms']:.1f}"


def _idle_core(x: dict[str, Any]) -> str:
    return f"{x['core_percent']:.2f}%"


def table(results: dict[str, Any]) -> list[list[str]]:
    """Rows of the printed table: one column per target, then the fastest in-memory and durable peers and the
    broker's ratio to the fastest in-memory one (throughput, and CPU per operation)."""
    names = list(results)
    rows = [["scenario", *names, "fastest in-memory peer", "fastest durable peer", "broker ÷ in-memory"]]

    def cell(name: str, key: str, fmt: Fmt) -> str:
        r = results[name]
        if "unavailable" in r:
            return "unavailable"
        if key not in r:  # a scenario this target does not serve, or not reached as its service failed
            return "failed" if f"{SERVICE_OF[key]}_failed" in r else "—"
        return "failed" if "failed" in r[key] else fmt(r[key])

    def best(name: str | None, key: str, fmt: Fmt) -> str:
        return f"{cell(name, key, fmt)} ({name})" if name else "—"

    for s in SCENARIOS:
        mem, dur = _fastest(results, s.key, "in memory"), _fastest(results, s.key, "durable")
        rate = cost = "—"
        if mem and _ok(results.get("broker", {}), s.key):
            ours, theirs = results["broker"][s.key], results[mem][s.key]
            rate = f"{ours['items_per_s'] / theirs['items_per_s']:.2f}"
            if theirs["cpu_ms_per_item"]:
                cost = f"{ours['cpu_ms_per_item'] / theirs['cpu_ms_per_item']:.1f}× the cost"
        for label, fmt, ratio in (
            (f"{s.label} {s.item}s/s", _rate, rate),
            (f"  server CPU ms per {s.item}", _cpu, cost),
            ("  server % of a core", _core, ""),
        ):
            rows.append(
                [label, *(cell(n, s.key, fmt) for n in names), best(mem, s.key, fmt), best(dur, s.key, fmt), ratio]
            )
    for label, key, fmt, value in (
        ("long-poll wake p50 / p99 ms", "long_poll_wake", _wake, lambda x: float(x["wake"]["p50_ms"])),
        ("idle server % of a core", "idle", _idle_core, lambda x: float(x["core_percent"])),
    ):
        mem, dur = (_lowest(results, key, value, kind) for kind in ("in memory", "durable"))
        rows.append([label, *(cell(n, key, fmt) for n in names), best(mem, key, fmt), best(dur, key, fmt), ""])
    return rows


def _format(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    )


def _targets(args: argparse.Namespace) -> list[Target]:
    names = [n.strip() for n in args.targets.split(",") if n.strip()] if args.targets else list(DEFAULT_TARGETS)
    if not args.targets and args.db_url:
        names.insert(1, "broker-pg")
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        raise SystemExit(f"unknown targets {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    return [TARGETS[n] for n in dict.fromkeys(names)]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """`kill` ends a run as Ctrl-C does: on the way out, every server it started is stopped."""
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    if not Path("/proc/self/stat").exists():
        raise SystemExit("broker bench ordinary reads server CPU from /proc (Linux)")
    targets = _targets(args)
    signal.signal(signal.SIGTERM, _interrupt)
    duration = args.duration
    plan = Plan(
        duration=duration,
        warmup=min(2.0, duration / 2),
        idle=IDLE_SECONDS if duration >= 10 else 2 * duration,
        settle=SETTLE_SECONDS if duration >= 10 else 2.0,
        wake_rounds=max(50, min(200, int(20 * duration))),
        headers=sdk_headers(),
    )
    results: dict[str, Any] = {
        "command": shlex.join(sys.argv),
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "clients": CLIENTS,
        "workers": args.workers,
        "duration_s": duration,
        "warmup_s": plan.warmup,
        "idle_s": plan.idle,
        "long_poll_rounds": plan.wake_rounds,
        "targets": {},
    }
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    print(f"load average at start: {results['load_average_at_start']} on {cpus} cores", flush=True)
    if load > cpus / 2:
        print("warning: the machine is busy; figures of this run are not comparable with a quiet run's", flush=True)
    for target in targets:
        results["targets"][target.name] = _measure(target, args, plan)
    rows = table(results["targets"])
    results["table"] = rows
    text = _format(rows)
    print(f"\n{results['command']}\n{text}")
    if any(r.get("receive_delete", {}).get("left_in_queue") == 0 for r in results["targets"].values()):
        print("* the queue ran empty before the end: the figure includes empty receives")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2))
    return 0
