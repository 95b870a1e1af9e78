"""The poller of one shard of a Kinesis event source mapping. It reads after its checkpoint (a row), woken by the
commits that add records to the shard, and invokes the function with batches of BatchSize records (after the
MaximumBatchingWindowInSeconds, on the broker's clock). With a ParallelizationFactor above 1 the batch's records
are split by partition key into that many lanes that run at once, so records of one key keep their order.

A failed batch is retried (on a function error at once, then backing off; throttles and system errors back off
from 1 second) until it succeeds, MaximumRetryAttempts is spent or its oldest record is older than
MaximumRecordAgeInSeconds; BisectBatchOnFunctionError splits a failed batch in halves first;
ReportBatchItemFailures retries from the lowest failed sequence number. A batch given up on is described to the
OnFailure destination (SQS or SNS) with Lambda's KinesisBatchInfo record and skipped. With TumblingWindowInSeconds
the function's state is carried from batch to batch of a window (by arrival time) and a final invocation closes
each window. The checkpoint, the window state, the failure records and LastProcessingResult are written in one
transaction, fenced by the poller's lease: a poller that lost its lease writes nothing."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from broker import clock
from broker.jobs import leases
from broker.metrics import instruments as metrics
from broker.services.base import Env
from broker.services.kinesis import store as kinesis_store
from broker.services.kinesis.iterators import Position
from broker.services.kinesis.record_operations import read_batch
from broker.services.kinesis.streams import shard_id, shard_wake_key
from broker.services.lambda_ import mapping_store, store
from broker.services.lambda_.destinations import executor, sender_for
from broker.services.lambda_.sources import checkpoint_store, filters, invoking
from broker.services.lambda_.sources.checkpoint_store import Checkpoint
from broker.services.lambda_.sources.stoppable import Stoppable, Stopped
from broker.storage.db import Tx

log = logging.getLogger("broker.lambda.sources")

MAX_BATCH_BYTES = 4 * 1024 * 1024  # base64 makes 6 MB of event from it: Lambda's synchronous payload limit
IDLE_WAIT_S = 20.0
RETRY_FIRST_MS, RETRY_MAX_MS = 200, 60_000  # backoff between attempts of a failed batch (broker clock)
OK, PROBLEM = "OK", "PROBLEM: Function call failed"


class LeaseLost(Exception):
    """Another process owns this shard's poller now."""


@dataclass
class Lease:
    name: str
    owner: str
    ttl_ms: int


def _iso(ms: int) -> str:
    t = datetime.fromtimestamp(ms / 1000, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _window_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Record:
    arrived: int  # ms
    event: dict[str, Any]  # as the function sees it

    @property
    def seq(self) -> str:
        return str(self.event["kinesis"]["sequenceNumber"])


@dataclass
class Pending:
    """What one batch round leaves to write with the checkpoint."""

    failures: list[tuple[str, str]] = field(default_factory=list)  # (destination ARN, record JSON)
    problem: bool = False


class KinesisPoller(Stoppable):
    def __init__(self, env: Env, host: str, mapping: dict[str, Any], idx: int, lease: Lease) -> None:
        super().__init__(env.notifier)
        self.env = env
        self.host = host
        self.mapping = mapping
        self.uuid: str = mapping["UUID"]
        self.arn: str = mapping["EventSourceArn"]
        self.function_arn: str = mapping["FunctionArn"]
        self.idx = idx
        self.shard = shard_id(idx)
        self.lease = lease
        self.batch_size = int(mapping.get("BatchSize") or 100)
        self.window_ms = int(mapping.get("MaximumBatchingWindowInSeconds") or 0) * 1000
        self.factor = int(mapping.get("ParallelizationFactor") or 1)
        self.bisect = bool(mapping.get("BisectBatchOnFunctionError"))
        self.max_retries = int(mapping.get("MaximumRetryAttempts", -1))
        self.max_age_ms = int(mapping.get("MaximumRecordAgeInSeconds", -1)) * 1000
        self.tumbling_ms = int(mapping.get("TumblingWindowInSeconds") or 0) * 1000
        self.report_failures = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        self.on_failure = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        self.tests = filters.compile_criteria(mapping.get("FilterCriteria"))
        _, _, _, self.region, self.account, *_ = self.arn.split(":")
        fn = self.function_arn.split(":")
        self.fn_region, self.fn_account, self.fn_name = fn[3], fn[4], fn[6]
        self.sender = sender_for(env, host)
        self.role = ""

    # -- the loop ------------------------------------------------------------------------------------------------
    async def run(self) -> None:
        db = self.env.db
        name = self.arn.split("/", 1)[1]
        stream = await db.read(kinesis_store.get_stream, self.account, self.region, name)
        if stream is None:
            return
        version = await db.read(store.get_version, self.fn_account, self.fn_region, self.fn_name, store.LATEST)
        self.role = str(version.config.get("Role", "")) if version else ""
        cp = await db.read(checkpoint_store.get, self.uuid, self.idx)
        if cp is None or cp.stream_id != stream.id or cp.stream_created != stream.created_at:
            cp = await self._start(stream.id, stream.created_at)
        while not cp.finished and not self.stopping:
            records, last, closed = await self._collect(cp)
            if records is None:
                return  # the stream or shard is gone, or the poller is to stop
            pending = Pending()
            try:
                if self.tumbling_ms:
                    await self._tumbling(cp, records, pending)
                else:
                    await self._lanes(records, pending)
            except Stopped:
                return  # a batch was waiting to be retried: the next owner runs it again from the checkpoint
            cp.after = last
            cp.finished = closed
            await db.write(self._commit, cp, pending, bool(records) or pending.problem)

    async def _start(self, stream_id: int, created: int) -> Checkpoint:
        position = self.mapping.get("StartingPosition", "LATEST")
        row = await self.env.db.read(kinesis_store.shard, stream_id, self.idx)
        assert row is not None
        after = row["next_seq"] - 1
        if position == "TRIM_HORIZON":
            after = row["seq_start"]
        elif position == "AT_TIMESTAMP":
            at = int(self.mapping.get("StartingPositionTimestamp") or 0)
            first = await self.env.db.read(kinesis_store.first_at, stream_id, self.idx, at)
            after = (first if first is not None else row["next_seq"]) - 1
        cp = Checkpoint(self.uuid, self.idx, stream_id, created, after)
        await self.env.db.write(self._commit, cp, Pending(), False)
        return cp

    async def _collect(self, cp: Checkpoint) -> tuple[list[Record] | None, int, bool]:
        """The next batch: (records, the counter to checkpoint after them, whether the shard ended there)."""
        got: list[Record] = []
        after = cp.after
        deadline = 0
        while True:
            with self.watch([shard_wake_key(cp.stream_id, self.idx)]) as watch:
                pos = Position(cp.stream_id, cp.stream_created, self.idx, after, clock.now_ms())
                result = await self.env.db.read(
                    read_batch, pos, self.batch_size - len(got), clock.now_ms(), MAX_BATCH_BYTES
                )
                if result is None:
                    return None, after, False
                out, after, more = result
                metrics.kinesis_read(
                    self.account,
                    self.region,
                    self.arn.split("/", 1)[1],
                    self.shard,
                    f"lambda:{self.uuid}",
                    len(out["Records"]),
                    out["MillisBehindLatest"],
                )
                got += [self._record(r) for r in out["Records"]]
                closed = "ChildShards" in out
                if got and not deadline:
                    deadline = clock.now_ms() + self.window_ms
                if closed or len(got) >= self.batch_size or more or (got and clock.now_ms() >= deadline):
                    return got, after, closed
                if self.stopping:
                    return (got or None), after, False
                if self.tumbling_ms and cp.window_start is not None:
                    ends = cp.window_start + self.tumbling_ms
                    if clock.now_ms() >= ends:
                        return got, after, False  # the open window ended: its final invocation is due
                    wait = (ends - clock.now_ms()) / 1000 + 0.001
                else:
                    wait = IDLE_WAIT_S
                if got:
                    wait = min(wait, (deadline - clock.now_ms()) / 1000)
                await watch.wait(wait)

    def _record(self, r: dict[str, Any]) -> Record:
        arrived = clock.to_ms(r["ApproximateArrivalTimestamp"])
        seq = r["SequenceNumber"]
        event = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": r.get("PartitionKey", ""),
                "sequenceNumber": seq,
                "data": base64.b64encode(r["Data"]).decode(),
                "approximateArrivalTimestamp": arrived / 1000,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{self.shard}:{seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": self.role,
            "awsRegion": self.region,
            "eventSourceARN": self.arn,
        }
        return Record(arrived, event)

    # -- batches -------------------------------------------------------------------------------------------------
    async def _lanes(self, records: list[Record], pending: Pending) -> None:
        records = self._matching(records)
        if not records:
            return
        if self.factor <= 1:
            await self._deliver(records, pending, self._plain_event)
            return
        lanes: dict[int, list[Record]] = {}
        for r in records:
            key = r.event["kinesis"]["partitionKey"].encode()
            lanes.setdefault(zlib.crc32(key) % self.factor, []).append(r)
        await asyncio.gather(*(self._deliver(lane, pending, self._plain_event) for lane in lanes.values()))

    def _matching(self, records: list[Record]) -> list[Record]:
        if self.tests is None:
            return records
        return [r for r in records if filters.passes(self.tests, filters.kinesis_view(r.event))]

    @staticmethod
    def _plain_event(batch: list[Record]) -> dict[str, Any]:
        return {"Records": [r.event for r in batch]}

    async def _deliver(
        self, records: list[Record], pending: Pending, event_of: Callable[[list[Record]], dict[str, Any]]
    ) -> Any:
        """Run `records` to success or give up on them; the last successful answer (for window state)."""
        todo = [records]
        answer: Any = None
        while todo:
            batch = todo.pop(0)
            retries = 0
            while True:
                outcome = await invoking.invoke(self.env, self.host, self.function_arn, event_of(batch))
                failed_from: int | None = None
                if outcome.kind == "ok":
                    answer = outcome.answer()
                    if not self.report_failures:
                        break
                    failed = invoking.failed_items(outcome.payload, [r.seq for r in batch])
                    if failed == []:
                        break
                    if failed is not None:
                        lowest = min(failed, key=lambda s: int(s))
                        failed_from = next(i for i, r in enumerate(batch) if r.seq == lowest)
                if failed_from is None and self.bisect and outcome.kind == "error" and len(batch) > 1:
                    half = len(batch) // 2  # splitting does not count toward the retry limit
                    todo[:0] = [batch[:half], batch[half:]]
                    break
                condition = self._exhausted(batch, retries)
                if condition is not None:
                    self._give_up(batch, outcome, condition, retries + 1, pending)
                    break
                if failed_from is not None:
                    batch = batch[failed_from:]  # the records before the lowest failure are done
                retries += 1
                await self._pause(outcome.kind, retries)
        return answer

    def _exhausted(self, batch: list[Record], retries: int) -> str | None:
        if self.max_age_ms >= 0 and clock.now_ms() - batch[0].arrived > self.max_age_ms:
            return "RecordAgeExceeded"
        if self.max_retries >= 0 and retries >= self.max_retries:
            return "RetryAttemptsExhausted"
        return None

    async def _pause(self, kind: str, retries: int) -> None:
        """Wait before the next attempt, on the broker's clock (moving the test clock ends it); Stopped when the
        poller is asked to stop meanwhile."""
        first = RETRY_FIRST_MS if kind == "error" else 1_000
        due = clock.now_ms() + min(first * 2 ** (retries - 1), RETRY_MAX_MS)
        while clock.now_ms() < due and not self.stopping:
            await self.pause((due - clock.now_ms()) / 1000)
        if self.stopping:
            raise Stopped

    def _give_up(
        self, batch: list[Record], outcome: invoking.BatchOutcome, condition: str, count: int, pending: Pending
    ) -> None:
        pending.problem = True
        log.info("Kinesis mapping %s gives up on %d records of %s (%s)", self.uuid, len(batch), self.shard, condition)
        if not self.on_failure:
            return
        context: dict[str, Any] = {"statusCode": outcome.status, "executedVersion": outcome.executed_version}
        if outcome.function_error:
            context["functionError"] = outcome.function_error
        body = {
            "requestContext": {
                "requestId": outcome.request_id,
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": count,
            },
            "responseContext": context,
            "version": "1.0",
            "timestamp": _iso(clock.now_ms()),
            "KinesisBatchInfo": {
                "shardId": self.shard,
                "startSequenceNumber": batch[0].seq,
                "endSequenceNumber": batch[-1].seq,
                "approximateArrivalOfFirstRecord": _iso(batch[0].arrived),
                "approximateArrivalOfLastRecord": _iso(batch[-1].arrived),
                "batchSize": len(batch),
                "streamArn": self.arn,
            },
        }
        pending.failures.append((self.on_failure, json.dumps(body)))

    # -- tumbling windows ----------------------------------------------------------------------------------------
    async def _tumbling(self, cp: Checkpoint, records: list[Record], pending: Pending) -> None:
        records = self._matching(records)
        groups: list[tuple[int, list[Record]]] = []
        for r in records:
            start = r.arrived - r.arrived % self.tumbling_ms
            if groups and groups[-1][0] == start:
                groups[-1][1].append(r)
            else:
                groups.append((start, [r]))
        for start, batch in groups:
            if cp.window_start is not None and cp.window_start != start:
                await self._close_window(cp, pending)
            cp.window_start = start
            answer = await self._deliver(batch, pending, functools.partial(self._window_event, cp, start, final=False))
            cp.state = json.dumps(answer.get("state") or {}) if isinstance(answer, dict) else "{}"
        if cp.window_start is not None and clock.now_ms() >= cp.window_start + self.tumbling_ms:
            await self._close_window(cp, pending)

    async def _close_window(self, cp: Checkpoint, pending: Pending) -> None:
        assert cp.window_start is not None
        start = cp.window_start
        await self._deliver([], pending, functools.partial(self._window_event, cp, start, final=True))
        cp.window_start, cp.state = None, None

    def _window_event(self, cp: Checkpoint, start: int, batch: list[Record], *, final: bool) -> dict[str, Any]:
        return {
            "Records": [r.event for r in batch],
            "window": {"start": _window_iso(start), "end": _window_iso(start + self.tumbling_ms)},
            "state": json.loads(cp.state or "{}"),
            "shardId": self.shard,
            "eventSourceARN": self.arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": False,
        }

    # -- the outcome's transaction -------------------------------------------------------------------------------
    def _commit(self, tx: Tx, cp: Checkpoint, pending: Pending, processed: bool) -> None:
        if not leases.acquire(tx, self.lease.name, self.lease.owner, self.lease.ttl_ms):
            raise LeaseLost(self.lease.name)
        checkpoint_store.put(tx, cp)
        now = clock.now_ms()
        for target, body in pending.failures:
            self.sender.send(tx, target, body, {}, now, "", executor(self.fn_account, self.fn_name, self.role))
        if processed:
            result = PROBLEM if pending.problem else OK
            config = mapping_store.get(tx.conn, self.fn_account, self.fn_region, self.uuid)
            if config is not None and config.get("LastProcessingResult") != result:
                mapping_store.put(tx, self.uuid, {**config, "LastProcessingResult": result})
