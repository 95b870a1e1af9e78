"""The crash-round driver: a mixed load (SQS standard and FIFO send/receive/delete, SNS publish to a queue, Kinesis
puts) against a broker that is killed with SIGKILL at a random moment of each round and restarted on the same data.

A `Ledger` keeps what the broker acknowledged and what the consumers saw; `check_*` functions hold the promises:
every acknowledged message or record is there or was consumed as acknowledged, no message is received twice within
its visibility timeout, FIFO order holds per group, Kinesis sequence numbers increase per shard.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.server import BrokerServer, drain

VT = 120  # seconds: every receipt in a run is checked against it
ACCOUNT = "000000000000"
GROUPS = 4


@dataclass
class Ledger:
    sent: set[str] = field(default_factory=set)  # acknowledged SendMessage(Batch) to the standard queue
    deleted: dict[str, float] = field(default_factory=dict)  # acknowledged deletes (standard, FIFO) -> when
    unanswered: set[str] = field(default_factory=set)  # deletes sent whose answer never came (a kill)
    delete_sent: dict[str, float] = field(default_factory=dict)  # body -> when its last delete was sent
    receipts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # body -> receive times
    fifo_sent: set[str] = field(default_factory=set)
    fifo_first: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # group -> first receipts
    # group -> every receipt as (time, message number, receive call): what the group lock is checked on
    fifo_receipts: dict[int, list[tuple[float, int, int]]] = field(default_factory=lambda: defaultdict(list))
    published: set[str] = field(default_factory=set)  # acknowledged SNS publishes
    records: dict[bytes, tuple[str, str]] = field(default_factory=dict)  # Kinesis data -> (shard, sequence number)
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receipt(self, body: str) -> None:
        with self.lock:
            self.receipts[body].append(time.monotonic())


class Load:
    """The clients and names of one run; `round` drives the threads until the kill."""

    def __init__(self, server: BrokerServer, ledger: Ledger) -> None:
        self.server = server
        self.ledger = ledger
        self.round_no = 0
        sqs, sns, kinesis = server.client("sqs"), server.client("sns"), server.client("kinesis")
        self.std = sqs.create_queue(QueueName="crash-std", Attributes={"VisibilityTimeout": str(VT)})["QueueUrl"]
        self.fifo = sqs.create_queue(
            QueueName="crash.fifo",
            Attributes={"FifoQueue": "true", "VisibilityTimeout": str(VT), "ContentBasedDeduplication": "false"},
        )["QueueUrl"]
        self.fanout = sqs.create_queue(QueueName="crash-sns")["QueueUrl"]
        topic = sns.create_topic(Name="crash-topic")["TopicArn"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:crash-sns",
            Attributes={"RawMessageDelivery": "true"},
        )
        self.topic = topic
        kinesis.create_stream(StreamName="crash-stream", ShardCount=2)
        kinesis.get_waiter("stream_exists").wait(StreamName="crash-stream", WaiterConfig={"Delay": 0.2})

    def run_round(
        self,
        rng: random.Random,
        min_acks: int = 60,
        max_extra_s: float = 1.5,
        interrupt: Callable[[], None] | None = None,
    ) -> None:
        """Start the load, wait until it got going, let it run a random while longer, then SIGKILL the broker. With
        `interrupt`, call it instead and require the load to go on afterwards (the broker recovers), then stop."""
        self.round_no += 1
        stop = threading.Event()
        clients = {name: self.server.client(svc) for name, svc in self._workers()}
        threads = [
            threading.Thread(target=getattr(self, f"_{name}"), args=(clients[name], stop), daemon=True)
            for name in clients
        ]
        for t in threads:
            t.start()
        self._wait_for(min_acks)
        time.sleep(rng.uniform(0, max_extra_s))
        if interrupt is None:
            self.server.kill()
        else:
            interrupt()
            self._wait_for(min_acks)  # it keeps going
        stop.set()
        for t in threads:
            t.join(timeout=60)

    def _wait_for(self, acks: int, timeout: float = 30) -> None:
        start, deadline = self._acks(), time.monotonic() + timeout
        while self._acks() - start < acks:
            if time.monotonic() > deadline:
                raise AssertionError(f"round {self.round_no}: the load stalled: {self.ledger.errors[-3:]}")
            time.sleep(0.02)

    @staticmethod
    def _workers() -> list[tuple[str, str]]:
        return [
            ("send_std", "sqs"),
            ("consume_std", "sqs"),
            ("send_fifo", "sqs"),
            ("consume_fifo", "sqs"),
            ("publish", "sns"),
            ("put_records", "kinesis"),
        ]

    def _acks(self) -> int:
        led = self.ledger
        return len(led.sent) + len(led.fifo_sent) + len(led.published) + len(led.records)

    def _loop(self, stop: threading.Event, step) -> None:
        while not stop.is_set():
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - the broker is being killed; unacknowledged work may be lost
                if stop.is_set():
                    return
                self.ledger.errors.append(repr(exc))
                time.sleep(0.01)

    # -- the load ----------------------------------------------------------------------------------------------
    def _send_std(self, sqs, stop: threading.Event) -> None:
        led, prefix = self.ledger, f"r{self.round_no}"

        def step() -> None:
            n = led.counters["std"] = led.counters["std"] + 1
            if n % 2:
                sqs.send_message(QueueUrl=self.std, MessageBody=f"{prefix}-s{n}")
                led.sent.add(f"{prefix}-s{n}")
            else:
                entries = [{"Id": str(i), "MessageBody": f"{prefix}-s{n}-{i}"} for i in range(5)]
                out = sqs.send_message_batch(QueueUrl=self.std, Entries=entries)
                led.sent.update(f"{prefix}-s{n}-{e['Id']}" for e in out.get("Successful", []))

        self._loop(stop, step)

    def _consume(self, sqs, url: str, stop: threading.Event, on_receipt=None) -> None:
        led = self.ledger
        calls = [0]

        def step() -> None:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            calls[0] += 1
            for m in got:
                first = m["Body"] not in led.receipts
                led.receipt(m["Body"])
                if on_receipt is not None:
                    on_receipt(m["Body"], first, calls[0])
            if not got:
                return
            bodies = [m["Body"] for m in got]
            led.unanswered.update(bodies)  # until the answer says what happened
            sent_at = time.monotonic()
            led.delete_sent.update((b, sent_at) for b in bodies)
            out = sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
            )
            led.unanswered.difference_update(bodies)
            now = time.monotonic()
            for e in out.get("Successful", []):
                led.deleted[bodies[int(e["Id"])]] = now
            for e in out.get("Failed", []):
                led.errors.append(f"delete of {bodies[int(e['Id'])]} failed: {e}")

        self._loop(stop, step)

    def _consume_std(self, sqs, stop: threading.Event) -> None:
        self._consume(sqs, self.std, stop)

    def _send_fifo(self, sqs, stop: threading.Event) -> None:
        led = self.ledger

        def step() -> None:
            n = led.counters["fifo"] = led.counters["fifo"] + 1
            group = n % GROUPS
            body = fifo_body(group, n)
            sqs.send_message(
                QueueUrl=self.fifo, MessageBody=body, MessageGroupId=f"g{group}", MessageDeduplicationId=body
            )
            led.fifo_sent.add(body)

        self._loop(stop, step)

    def _consume_fifo(self, sqs, stop: threading.Event) -> None:
        def receipt(body: str, first: bool, call: int) -> None:
            group, n = fifo_key(body)
            self.ledger.fifo_receipts[group].append((time.monotonic(), n, call))
            if first:
                self.ledger.fifo_first[group].append(n)

        self._consume(sqs, self.fifo, stop, receipt)

    def _publish(self, sns, stop: threading.Event) -> None:
        led, prefix = self.ledger, f"r{self.round_no}"

        def step() -> None:
            n = led.counters["sns"] = led.counters["sns"] + 1
            sns.publish(TopicArn=self.topic, Message=f"{prefix}-p{n}")
            led.published.add(f"{prefix}-p{n}")

        self._loop(stop, step)

    def _put_records(self, kinesis, stop: threading.Event) -> None:
        led, prefix = self.ledger, f"r{self.round_no}"

        def step() -> None:
            n = led.counters["kinesis"] = led.counters["kinesis"] + 1
            entries = [{"Data": f"{prefix}-k{n}-{i}".encode(), "PartitionKey": f"key{i}"} for i in range(10)]
            out = kinesis.put_records(StreamName="crash-stream", Records=entries)
            for e, r in zip(entries, out["Records"], strict=True):
                if "ErrorCode" not in r:
                    led.records[e["Data"]] = (r["ShardId"], r["SequenceNumber"])

        self._loop(stop, step)


def fifo_body(group: int, n: int) -> str:
    return f"f{group}-{n:09d}"


def fifo_key(body: str) -> tuple[int, int]:
    group, n = body[1:].split("-")
    return int(group), int(n)


# -- checks ------------------------------------------------------------------------------------------------------
def integrity_ok(data_dir: Path) -> str:
    """PRAGMA integrity_check of a stopped broker's SQLite database."""
    conn = sqlite3.connect(data_dir / "broker.db")
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def check_no_early_redelivery(ledger: Ledger) -> None:
    """No message was received twice within its visibility timeout (a second of slack for clock reads)."""
    early = {b: t for b, t in ledger.receipts.items() if any(y - x < VT - 1 for x, y in zip(t, t[1:], strict=False))}
    assert not early, f"{len(early)} messages received twice within {VT} s, e.g. {sorted(early)[:3]}"


def check_fifo_order(ledger: Ledger) -> None:
    """Each group's messages were first received in the order they were sent, and no message was received while an
    earlier one of its group was held by a consumer (received, neither deleted nor past its visibility timeout) —
    except together with it, in one receive. A delete whose answer a kill cut off may have happened when sent."""
    for group, ns in ledger.fifo_first.items():
        assert ns == sorted(ns), f"group {group} out of order: {ns[:20]}"
    for group, events in ledger.fifo_receipts.items():
        held: dict[int, tuple[float, int]] = {}  # message number -> (last receipt, receive call)
        for t, n, call in sorted(events):
            for k, (tk, ck) in list(held.items()):
                body = fifo_body(group, k)
                done = ledger.deleted.get(body)
                if done is None and body in ledger.unanswered:
                    done = ledger.delete_sent[body]  # its delete may have happened; the answer was lost to a kill
                if (done is not None and done <= t) or t - tk >= VT - 1:
                    del held[k]
                elif k < n and ck != call:
                    raise AssertionError(
                        f"group {group}: message {n} received at {t:.3f} (call {call}) while {k} was held since "
                        f"{tk:.3f} (call {ck}); its delete: answered {ledger.deleted.get(body)}, sent "
                        f"{ledger.delete_sent.get(body)}, unanswered {body in ledger.unanswered}; errors "
                        f"{ledger.errors[-5:]}; receipts of {k}: {ledger.receipts.get(body)}"
                    )
            held[n] = (t, call)


def check_kinesis(kinesis, ledger: Ledger) -> None:
    """Every acknowledged record is in its shard under its sequence number; sequence numbers increase per shard."""
    stored: dict[bytes, tuple[str, str]] = {}
    for shard in [s["ShardId"] for s in kinesis.list_shards(StreamName="crash-stream")["Shards"]]:
        it = kinesis.get_shard_iterator(StreamName="crash-stream", ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        last = -1
        while it:
            out = kinesis.get_records(ShardIterator=it, Limit=10_000)
            for r in out["Records"]:
                seq = int(r["SequenceNumber"])
                assert seq > last, f"{shard}: sequence numbers do not increase at {r['SequenceNumber']}"
                last = seq
                assert r["Data"] not in stored, f"record {r['Data']!r} stored twice"
                stored[r["Data"]] = (shard, r["SequenceNumber"])
            if not out["Records"] and out.get("MillisBehindLatest", 0) == 0:
                break
            it = out.get("NextShardIterator")
    lost = {d: where for d, where in ledger.records.items() if stored.get(d) != where}
    assert not lost, f"{len(lost)} acknowledged records lost or moved, e.g. {sorted(lost)[:3]}"


def advance_everywhere(server: BrokerServer, seconds: float, workers: int = 2) -> None:
    """Move the test clock and wait until every worker process has it (the others hear of it asynchronously)."""
    target = httpx.post(server.url + "/_broker/clock", json={"advance_seconds": seconds}, timeout=10).json()
    seen: set[int] = set()
    deadline = time.monotonic() + 30  # which worker accepts a new connection is the kernel's choice
    while len(seen) < workers and time.monotonic() < deadline:
        with httpx.Client(timeout=10) as fresh:  # a new connection: either worker may answer
            health = fresh.get(server.url + "/_broker/health").json()
            now = fresh.get(server.url + "/_broker/clock").json()
        if now["offset_ms"] >= target["offset_ms"]:
            seen.add(health["pid"])
    assert len(seen) >= workers, "a worker did not take the new clock"


def check_final(server: BrokerServer, load: Load, ledger: Ledger) -> dict:
    """After the last round: every in-flight message reappears (clock moved past the visibility timeout), every
    acknowledged send is consumed or still queued, no acknowledged delete comes back, every publish arrived once,
    FIFO messages still come in order."""
    sqs = server.client("sqs")
    advance_everywhere(server, VT + 1)
    std_left = drain(sqs, load.std)
    fifo_left = drain(sqs, load.fifo)
    fanout = drain(sqs, load.fanout)
    back = set(ledger.deleted) & set(std_left + fifo_left)
    assert not back, f"{len(back)} messages came back after an acknowledged delete, e.g. {sorted(back)[:3]}"
    # Gone may only be what was deleted — acknowledged, or with the answer lost to a kill.
    gone = set(ledger.deleted) | ledger.unanswered
    lost = ledger.sent - gone - set(std_left)
    assert not lost, f"{len(lost)} acknowledged standard sends lost, e.g. {sorted(lost)[:3]}"
    fifo_lost = ledger.fifo_sent - gone - set(fifo_left)
    assert not fifo_lost, f"{len(fifo_lost)} acknowledged FIFO sends lost, e.g. {sorted(fifo_lost)[:3]}"
    by_group: dict[int, list[int]] = defaultdict(list)
    for body in fifo_left:
        group, n = fifo_key(body)
        by_group[group].append(n)
    assert all(ns == sorted(ns) for ns in by_group.values()), f"FIFO order broken in the final drain: {by_group}"
    published_missing = ledger.published - set(fanout)
    assert not published_missing, f"{len(published_missing)} acknowledged publishes lost"
    assert len(fanout) == len(set(fanout)), "a publish was delivered twice"
    check_kinesis(server.client("kinesis"), ledger)
    return {
        "sqs_sent": len(ledger.sent),
        "fifo_sent": len(ledger.fifo_sent),
        "deleted": len(ledger.deleted),
        "receipts": sum(len(t) for t in ledger.receipts.values()),
        "published": len(ledger.published),
        "kinesis_records": len(ledger.records),
        "left_after_last_round": len(std_left) + len(fifo_left),
    }
