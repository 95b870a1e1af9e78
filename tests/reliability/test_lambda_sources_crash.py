"""Event source mappings through kill -9: an SQS mapping killed with batches in flight processes every message
after a restart and leaves its queue empty; a Kinesis mapping killed mid-stream resumes right after its last
completed batch (per partition key in order, nothing skipped, at most the interrupted batch replayed); and a
poller whose worker process is killed is taken over once its lease ends.

The function under test records every invocation's start and end in a file and, while a "hold" file exists,
does not return: the tests let some batches complete, then hold the next ones, so the kill lands while batches
are known to be mid-flight (no timing guesswork)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.lambda_.helpers import create, queue_counts, queue_with_arn, runtime_pids
from tests.reliability.crash_rounds import advance_everywhere
from tests.server import BrokerServer

BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]

RECORDER = """
import base64, json, os, time

def _item(r):
    if "body" in r:
        return r["body"]
    k = r["kinesis"]
    n = json.loads(base64.b64decode(k["data"]))["n"]
    return [r["eventID"].split(":")[0], k["sequenceNumber"], k["partitionKey"], n]

def _note(phase, request_id, items):
    line = json.dumps({"phase": phase, "id": request_id, "items": items}) + "\\n"
    fd = os.open(os.environ["OUT"], os.O_WRONLY | os.O_APPEND)  # one write per line: appends do not interleave
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)

def handler(event, context):
    items = [_item(r) for r in event["Records"]]
    _note("start", context.aws_request_id, items)
    time.sleep(float(os.environ["PAUSE"]))
    deadline = time.monotonic() + 60
    while os.path.exists(os.environ["HOLD"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    _note("end", context.aws_request_id, items)
"""


class Journal:
    """The recorder's file: one line per invocation start and end, with the batch's items (SQS bodies; Kinesis
    (shard, sequence number, partition key, counter))."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "journal.jsonl"
        self.path.touch()
        self.hold_path = directory / "hold"

    def lines(self) -> list[dict[str, Any]]:
        text = self.path.read_text()
        complete = text[: text.rfind("\n") + 1]  # a line being written is read next time
        return [json.loads(line) for line in complete.splitlines() if line]

    def hold(self) -> None:
        self.hold_path.touch()

    def release(self) -> None:
        self.hold_path.unlink(missing_ok=True)


def _items(lines: list[dict[str, Any]], phase: str) -> list[Any]:
    return [_key(i) for line in lines if line["phase"] == phase for i in line["items"]]


def _key(item: Any) -> Any:
    return tuple(item) if isinstance(item, list) else item


def _in_flight(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The invocations that started and have not ended."""
    ended = {line["id"] for line in lines if line["phase"] == "end"}
    return [line for line in lines if line["phase"] == "start" and line["id"] not in ended]


def _wait(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    assert check(), f"timed out after {timeout} s waiting for {what}"


def _recorder(lam, name: str, journal: Journal, pause: float) -> None:
    env = {"OUT": str(journal.path), "HOLD": str(journal.hold_path), "PAUSE": str(pause)}
    create(lam, name, source=RECORDER, Timeout=90, Environment={"Variables": env})


def _kill(server: BrokerServer, function: str) -> None:
    """kill -9 of the whole broker; its runtimes die with their workers (parent-death signal) — wait for that,
    so the journal read afterwards is final for the killed run."""
    server.kill()
    _wait(lambda: not runtime_pids(function, server.port), "the killed broker's runtimes to exit", 10)


# -- 1. SQS: kill -9 with batches in flight ----------------------------------------------------------------------
VT = 300  # the queue's visibility timeout: far longer than a restart takes, so only the test clock ends it
N_MESSAGES = 200


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sqs_mapping_processes_every_message_after_kill_9(server_factory, backend, tmp_path):
    server = server_factory(backend, workers=2).start()
    journal = Journal(tmp_path)
    sqs, lam = server.client("sqs"), server.client("lambda", read_timeout=60)
    url, arn = queue_with_arn(sqs, "jobs", VisibilityTimeout=str(VT))
    bodies = [f"m-{i:03d}" for i in range(N_MESSAGES)]
    for i in range(0, N_MESSAGES, 10):
        entries = [{"Id": str(k), "MessageBody": b} for k, b in enumerate(bodies[i : i + 10])]
        assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == len(entries)
    _recorder(lam, "worker", journal, pause=0.3)
    # Two batches at once: once both are held, the poller waits for room and has received nothing else.
    concurrency = 2
    lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=arn, BatchSize=10, ScalingConfig={"MaximumConcurrency": concurrency}
    )
    _wait(lambda: len(_items(journal.lines(), "end")) >= 20, "the first batches to complete")
    journal.hold()
    _wait(lambda: len(_in_flight(journal.lines())) == concurrency, "every batch slot to hold a batch")
    _kill(server, "worker")

    before = journal.lines()
    interrupted = set(_items(_in_flight(before), "start"))
    started = set(_items(before, "start"))
    assert 0 < len(interrupted) <= 10 * concurrency, before[-4:]
    assert len(started) < N_MESSAGES, "every message had started before the kill"
    journal.release()

    server.start()
    sqs = server.client("sqs")
    # Never received before the kill: processed at once (once the dead poller's lease has expired).
    fresh = set(bodies) - started
    _wait(lambda: fresh <= set(_items(journal.lines()[len(before) :], "end")), "the unreceived messages", 60)
    # Both batch slots were held at the kill, so the poller had received nothing else: what is left is exactly the
    # interrupted batches, hidden for their visibility timeout and not delivered again before it ends.
    _wait(lambda: queue_counts(sqs, url) == (0, len(interrupted)), "only the interrupted messages to be left")
    after = _items(journal.lines()[len(before) :], "start")
    assert not interrupted & set(after), "a message came back before its visibility timeout"
    assert len(after) == len(set(after)), "a message was delivered twice within its visibility timeout"

    advance_everywhere(server, VT + 1)
    _wait(lambda: set(bodies) <= set(_items(journal.lines(), "end")), "every message to be processed", 60)
    _wait(lambda: queue_counts(sqs, url) == (0, 0), "the queue to end empty")
    processed = _items(journal.lines()[len(before) :], "end")
    assert interrupted <= set(processed), "an interrupted message was not processed after the restart"
    assert not set(processed) - set(bodies)


# -- 2. Kinesis: kill -9 mid-stream --------------------------------------------------------------------------------
KEYS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]  # their hash keys fall on both of two shards
BATCH = 10


def _put(kinesis, stream: str, counters: range) -> dict[tuple[str, int], tuple[str, int]]:
    """Records of every key with the given counters, in counter order per key: (key, n) -> (shard, sequence)."""
    placed: dict[tuple[str, int], tuple[str, int]] = {}
    for start in range(counters.start, counters.stop, 5):
        # Within one call, the records of a key keep their order.
        entries = [(key, n) for n in range(start, min(start + 5, counters.stop)) for key in KEYS]
        out = kinesis.put_records(
            StreamName=stream,
            Records=[{"PartitionKey": key, "Data": json.dumps({"n": n}).encode()} for key, n in entries],
        )
        assert not out.get("FailedRecordCount"), out
        for (key, n), r in zip(entries, out["Records"], strict=True):
            placed[(key, n)] = (r["ShardId"], int(r["SequenceNumber"]))
    return placed


def _seen(lines: list[dict[str, Any]], phase: str) -> list[tuple[str, int, str, int]]:
    """Kinesis items as (shard, sequence, key, counter) in journal order (SQS bodies left out)."""
    return [(i[0], int(i[1]), i[2], i[3]) for i in _items(lines, phase) if isinstance(i, tuple)]


def _check_key_order(lines: list[dict[str, Any]], kill_at: int, total: int) -> None:
    """Per key, in the order the function saw them: the counters start at 0 and rise by one, except for at most one
    step back at the restart (the replay of a suffix); every counter below `total` is seen."""
    per_key: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for i, line in enumerate(lines):
        if line["phase"] == "start":
            for _, _, key, n in _seen([line], "start"):
                per_key[key].append((n, i >= kill_at))
    for key in KEYS:
        seen = per_key[key]
        assert seen and seen[0][0] == 0, f"{key}: starts at {seen[:1]}"
        back = 0
        for (prev, _), (n, restarted) in zip(seen, seen[1:], strict=False):
            if n == prev + 1:
                continue
            assert n <= prev, f"{key}: gap from {prev} to {n}"
            assert restarted, f"{key}: went back from {prev} to {n} before the kill"
            back += 1
        assert back <= 1, f"{key}: replayed {back} times: {[n for n, _ in seen]}"
        assert {n for n, _ in seen} == set(range(total)), f"{key}: missing {set(range(total)) - {n for n, _ in seen}}"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_kinesis_mapping_resumes_after_last_completed_batch_after_kill_9(server_factory, backend, tmp_path):
    server = server_factory(backend, workers=2).start()
    journal = Journal(tmp_path)
    kinesis, lam = server.client("kinesis"), server.client("lambda", read_timeout=60)
    kinesis.create_stream(StreamName="events", ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName="events", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    arn = kinesis.describe_stream_summary(StreamName="events")["StreamDescriptionSummary"]["StreamARN"]
    placed = _put(kinesis, "events", range(40))
    shards = sorted({shard for shard, _ in placed.values()})
    assert len(shards) == 2, "the keys must spread over both shards"
    _recorder(lam, "reader", journal, pause=0.15)
    lam.create_event_source_mapping(
        FunctionName="reader", EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=BATCH,
        ParallelizationFactor=2,
    )  # fmt: skip

    def per_shard(lines: list[dict[str, Any]], phase: str) -> dict[str, int]:
        count: dict[str, int] = defaultdict(int)
        for line in lines:
            if line["phase"] == phase:
                count[line["items"][0][0]] += 1
        return count

    _wait(lambda: min(per_shard(journal.lines(), "end")[s] for s in shards) >= 2, "two batches done per shard")
    journal.hold()
    _wait(lambda: len(per_shard(_in_flight(journal.lines()), "start")) == 2, "a batch in flight on each shard")
    _kill(server, "reader")

    before = journal.lines()
    kill_at = len(before)
    started_before = _seen(before, "start")
    ended_before = {(s, q) for s, q, _, _ in _seen(before, "end")}
    interrupted = {(s, q) for s, q, _, _ in _seen(_in_flight(before), "start")}
    assert len({s for s, _ in interrupted}) == 2
    assert len({(k, n) for _, _, k, n in started_before}) < len(placed), "the stream was read to its end already"
    journal.release()

    server.start()
    kinesis = server.client("kinesis")
    placed |= _put(kinesis, "events", range(40, 60))
    everything = set(placed.values())
    _wait(lambda: everything <= {(s, q) for s, q, _, _ in _seen(journal.lines(), "end")}, "every record processed", 60)

    lines = journal.lines()
    seen = _seen(lines, "start")
    assert {(s, q) for s, q, _, _ in seen} == everything  # none skipped, nothing foreign
    for (key, n), where in placed.items():
        assert any(x[:2] == where and x[2:] == (key, n) for x in seen), f"{key} {n} arrived with another content"
    _check_key_order(lines, kill_at, 60)
    # Per shard, the run after the restart starts where the last committed batch ended: what it read again is a
    # suffix of what the killed run had started, at most one batch, covering the interrupted invocations; every
    # record before it had completed.
    after = _seen(lines[kill_at:], "start")
    replayed: set[tuple[str, int]] = set()
    for shard in shards:
        old = sorted(q for s, q, _, _ in started_before if s == shard)
        resumed_from = min(q for s, q, _, _ in after if s == shard)
        again = sorted({q for s, q, _, _ in after if s == shard} & set(old))
        assert again == [q for q in old if q >= resumed_from], f"{shard}: replay is not a suffix: {again}"
        assert len(again) <= BATCH, f"{shard}: {len(again)} records replayed, more than one batch"
        assert {q for s, q in interrupted if s == shard} <= set(again), f"{shard}: an interrupted record was skipped"
        assert all((shard, q) in ended_before for q in old if q < resumed_from), f"{shard}: resumed past a gap"
        duplicated = [q for q in again if sum(1 for s, x, _, _ in seen if (s, x) == (shard, q)) != 2]
        assert not duplicated, f"{shard}: replayed more than once: {duplicated}"
        replayed |= {(shard, q) for q in again}
    counts = Counter((s, q) for s, q, _, _ in seen)
    assert {r for r, c in counts.items() if c > 1} <= replayed, "records seen twice outside the replay after the kill"


# -- 3. Lease takeover when the poller's worker is killed ----------------------------------------------------------
def _lease_owner(server: BrokerServer, name: str) -> str | None:
    with httpx.Client(timeout=10) as client:
        for lease in client.get(server.url + "/_broker/leases").json()["leases"]:
            if lease["name"] == name and lease["live"]:
                return str(lease["owner"])
    return None


def _owner_pid(owner: str) -> int:
    return int(owner.rsplit(":", 2)[1])  # host:pid:nonce


def _workers(server: BrokerServer) -> set[int]:
    """The broker's worker processes: the children of its supervisor."""
    assert server.proc is not None
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == server.proc.pid and fields[0] != "Z":
                found.add(int(entry))
    return found


def _kill_poller_worker(server: BrokerServer, lease: str) -> str:
    """kill -9 of the one worker process that holds `lease`; its owner name."""

    def holder() -> str | None:
        owner = _lease_owner(server, lease)
        return owner if owner is not None and _owner_pid(owner) in _workers(server) else None

    # A unit whose worker was killed before stays leased to it until the lease ends: wait for a running holder.
    _wait(lambda: holder() is not None, f"a running worker to hold {lease}", 10)
    owner = holder()
    assert owner is not None
    pid = _owner_pid(owner)
    os.kill(pid, signal.SIGKILL)
    _wait(lambda: pid not in _workers(server), f"worker {pid} to die", 10)
    return owner


def _taken_over(server: BrokerServer, lease: str, old: str) -> bool:
    owner = _lease_owner(server, lease)
    return owner is not None and owner != old


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_pollers_are_taken_over_when_their_worker_is_killed(server_factory, backend, tmp_path):
    server = server_factory(backend, workers=2).start()
    journal = Journal(tmp_path)
    sqs, lam = server.client("sqs"), server.client("lambda", read_timeout=60)
    kinesis = server.client("kinesis")
    url, queue_arn = queue_with_arn(sqs, "jobs")
    kinesis.create_stream(StreamName="events", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="events", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    stream_arn = kinesis.describe_stream_summary(StreamName="events")["StreamDescriptionSummary"]["StreamARN"]
    _recorder(lam, "rec", journal, pause=0)
    sqs_uuid = lam.create_event_source_mapping(FunctionName="rec", EventSourceArn=queue_arn)["UUID"]
    kinesis_uuid = lam.create_event_source_mapping(
        FunctionName="rec", EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=BATCH
    )["UUID"]

    def processed() -> set[Any]:
        return set(_items(journal.lines(), "end"))

    def put(n: int) -> tuple[str, int]:
        r = kinesis.put_record(StreamName="events", PartitionKey="k", Data=json.dumps({"n": n}))
        return r["ShardId"], int(r["SequenceNumber"])

    sqs.send_message(QueueUrl=url, MessageBody="before")
    records = [put(0)]
    _wait(lambda: "before" in processed() and _seen_keys(journal) >= {0}, "both pollers to run")
    _wait(lambda: queue_counts(sqs, url) == (0, 0), "the first message to be deleted")

    # The SQS poller: its worker dies; another worker (or the one uvicorn starts in its place) takes it over.
    old = _kill_poller_worker(server, f"esm:{sqs_uuid}")
    sqs = server.client("sqs")  # new connections: the old ones may have gone to the dead worker
    later = [f"after-{i}" for i in range(10)]
    for body in later:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    _wait(lambda: set(later) <= processed(), "messages sent after the kill to be processed")
    _wait(lambda: queue_counts(sqs, url) == (0, 0), "the queue to end empty")
    assert _taken_over(server, f"esm:{sqs_uuid}", old)

    # The Kinesis shard's poller: the same, resuming from its checkpoint.
    old = _kill_poller_worker(server, f"esm:{kinesis_uuid}:0")
    kinesis = server.client("kinesis")
    records += [put(n) for n in range(1, 21)]
    _wait(lambda: _seen_keys(journal) >= set(range(21)), "records put after the kill to be processed")
    assert _taken_over(server, f"esm:{kinesis_uuid}:0", old)
    seen = [(s, q) for s, q, _, _ in _seen(journal.lines(), "start")]
    assert set(seen) == set(records)
    counters = [n for _, _, _, n in _seen(journal.lines(), "start")]
    assert counters == sorted(counters), f"records of one key out of order: {counters}"


def _seen_keys(journal: Journal) -> set[int]:
    """The counters of the Kinesis records whose invocations completed."""
    return {n for _, _, _, n in _seen(journal.lines(), "end")}
