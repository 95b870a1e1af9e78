"""The poller of an SQS event source mapping. It receives batches as ReceiveMessage does (the queue's visibility
timeout, FIFO group order, the queue's redrive policy), woken by the same commit notifications as long polls, so
a message sent to an idle queue reaches the function at once. Batches run concurrently up to the mapping's
MaximumConcurrency. A successful batch's messages are deleted; with ReportBatchItemFailures only the messages the
function lists stay (on a FIFO queue, with every later message of their group, so order holds); on a function
error, throttle or system error every message stays hidden and comes back after the visibility timeout (and to the
dead-letter queue after maxReceiveCount receives). Messages no filter matches are deleted without an invocation."""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.base import Env
from broker.services.lambda_.sources import filters, invoking
from broker.services.lambda_.sources.stoppable import Stoppable
from broker.services.sqs import consumer

log = logging.getLogger("broker.lambda.sources")

DEFAULT_CONCURRENCY = 8  # batches in flight per mapping without ScalingConfig.MaximumConcurrency
IDLE_WAIT_S = 20.0  # an idle poller looks again after this long even if nothing woke it (safety net)
QUEUE_GONE_WAIT_S = 5.0
# The attributes Lambda puts in a record, in its order (FIFO ones only on FIFO queues).
ATTRIBUTE_ORDER = (
    "ApproximateReceiveCount", "AWSTraceHeader", "SentTimestamp", "SequenceNumber", "MessageGroupId", "SenderId",
    "MessageDeduplicationId", "ApproximateFirstReceiveTimestamp", "DeadLetterQueueSourceArn",
)  # fmt: skip


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        raw = value["BinaryValue"]
        out["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
    out["stringListValues"] = []
    out["binaryListValues"] = []
    out["dataType"] = value["DataType"]
    return out


def record(queue: consumer.Queue, msg: dict[str, Any]) -> dict[str, Any]:
    """A message as Lambda's SQS event shows it."""
    attrs = msg.get("Attributes") or {}
    out: dict[str, Any] = {
        "messageId": msg["MessageId"],
        "receiptHandle": msg["ReceiptHandle"],
        "body": msg["Body"],
        "attributes": {k: attrs[k] for k in ATTRIBUTE_ORDER if k in attrs},
        "messageAttributes": {k: _attribute(v) for k, v in (msg.get("MessageAttributes") or {}).items()},
    }
    if "MD5OfMessageAttributes" in msg:
        out["md5OfMessageAttributes"] = msg["MD5OfMessageAttributes"]
    out["md5OfBody"] = msg["MD5OfBody"]
    out["eventSource"] = "aws:sqs"
    out["eventSourceARN"] = queue.arn
    out["awsRegion"] = queue.region
    return out


class SqsPoller(Stoppable):
    def __init__(self, env: Env, host: str, mapping: dict[str, Any]) -> None:
        super().__init__(env.notifier)
        self.env = env
        self.host = host
        self.mapping = mapping
        self.arn: str = mapping["EventSourceArn"]
        self.function_arn: str = mapping["FunctionArn"]
        self.batch_size = int(mapping.get("BatchSize") or 10)
        self.window_ms = int(mapping.get("MaximumBatchingWindowInSeconds") or 0) * 1000
        self.report_failures = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        self.tests = filters.compile_criteria(mapping.get("FilterCriteria"))
        limit = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency") or DEFAULT_CONCURRENCY
        self.room = asyncio.Semaphore(int(limit))
        self.tasks: set[asyncio.Task[None]] = set()
        parts = self.arn.split(":")
        self.ctx = RequestContext(env=env, account=parts[4], region=parts[3], host=host, trace_header="")

    async def run(self) -> None:
        try:
            while not self.stopping:
                queue = await consumer.by_arn(self.ctx, self.arn)
                if queue is None:
                    await self.pause(QUEUE_GONE_WAIT_S)
                    continue
                await self.room.acquire()
                try:
                    rows = [] if self.stopping else await self._collect(queue)
                except BaseException:
                    self.room.release()
                    raise
                if not rows:
                    self.room.release()
                    continue
                task = asyncio.get_running_loop().create_task(self._process(queue, rows))
                self.tasks.add(task)
                task.add_done_callback(self._done)
            if self.tasks:  # stopping: the batches in flight end as usual (deleted or left to come back)
                await asyncio.gather(*self.tasks, return_exceptions=True)
        finally:
            for task in list(self.tasks):
                task.cancel()  # cancelled outright: its messages come back after the visibility timeout

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.room.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("SQS mapping %s: batch failed", self.mapping["UUID"], exc_info=task.exception())

    async def _collect(self, queue: consumer.Queue) -> list[dict[str, Any]]:
        """A batch: as soon as messages are there without a batching window; with one, until the batch is full or
        the window (from the first message, on the broker's clock) has passed."""
        got: list[dict[str, Any]] = []
        deadline = 0
        while True:
            with self.watch([consumer.wake_key(queue)]) as watch:
                got += await consumer.receive(self.ctx, queue, self.batch_size - len(got))
                if got and not deadline:
                    deadline = clock.now_ms() + self.window_ms
                if len(got) >= self.batch_size or (got and clock.now_ms() >= deadline) or self.stopping:
                    return got
                if not got:
                    timeout = IDLE_WAIT_S
                    due = await consumer.next_visible(self.ctx, queue)
                    if due is not None:
                        timeout = min(timeout, max(0.0, (due - clock.now_ms()) / 1000) + 0.001)
                    if not await watch.wait(timeout):
                        return got  # an idle round: look the queue up again (it may be gone)
                else:
                    await watch.wait((deadline - clock.now_ms()) / 1000)

    async def _process(self, queue: consumer.Queue, rows: list[dict[str, Any]]) -> None:
        records = [record(queue, m) for m in consumer.messages(queue, rows)]
        passing, done = [], []
        for r in records:
            if self.tests is None or filters.passes(self.tests, filters.sqs_view(r)):
                passing.append(r)
            else:
                done.append(r["receiptHandle"])  # filtered out: deleted
        if passing:
            outcome = await invoking.invoke(self.env, self.host, self.function_arn, {"Records": passing})
            done += self._succeeded(queue, passing, outcome)
        await consumer.delete(self.ctx, queue, done)

    def _succeeded(
        self, queue: consumer.Queue, batch: list[dict[str, Any]], outcome: invoking.BatchOutcome
    ) -> list[str]:
        if outcome.kind != "ok":
            return []
        if not self.report_failures:
            return [r["receiptHandle"] for r in batch]
        failed = invoking.failed_items(outcome.payload, [r["messageId"] for r in batch])
        if failed is None:
            return []
        failing = set(failed)
        held_groups: set[str] = set()
        out = []
        for r in batch:
            group = r["attributes"].get("MessageGroupId")
            if r["messageId"] in failing or (queue.fifo and group in held_groups):
                if queue.fifo:
                    held_groups.add(group)
                continue
            out.append(r["receiptHandle"])
        return out
