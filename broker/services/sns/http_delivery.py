"""HTTP/S delivery of SNS notifications and confirmations, with AWS's delivery-policy retries.

Pending deliveries are rows (sns_deliveries), so they survive a restart. Every worker process runs a deliverer
on its event loop: it claims due rows for a while (lease_until), POSTs them concurrently, and deletes or
reschedules each one. A claim that is never finished (the process died) is taken again when its lease ends, so a
delivery may be repeated after a crash, never lost — as with AWS, subscribers should expect duplicates.
A publish only writes rows: a slow or dead endpoint never slows publishing down.
"""

from __future__ import annotations

import contextlib
import json
import logging
from functools import partial
from typing import Any

import httpx

from broker import clock
from broker.config import Settings
from broker.jobs.wake_loop import WakeLoop
from broker.metrics import instruments as metrics
from broker.notify import WAKE_ALL, Notifier
from broker.services.data_plane import own_url
from broker.services.sns import delivery_policy, delivery_store, grants
from broker.services.sns.delivery_store import WAKE_KEY
from broker.services.sns.fanout import SNS_SENDER_ID
from broker.services.sns.messages import decode_attributes, sqs_raw_attributes
from broker.services.sqs.enqueue import enqueue, message_row
from broker.services.sqs.queues import queue_by_arn
from broker.storage.db import Database, Tx

log = logging.getLogger("broker.sns.http")

CLAIM_MS = 60_000  # a claimed delivery is retried by anyone after this long without an outcome
REQUEST_TIMEOUT_S = 15.0  # AWS waits up to 15 s for an HTTP endpoint
MAX_IN_FLIGHT = 50  # per process; more only adds event-loop work (pool bookkeeping) when endpoints are slow
RETRY_S = 1.0  # after a failed pass
DUE_RECHECK_S = 5.0  # at most this long between looks while retries wait (the test clock may have moved)
IDLE_WAIT_S = 60.0  # nothing waiting: new deliveries wake the loop
BATCH_WINDOW_S = 0.02  # wakeups within this window share one claim and one outcome transaction

Delivery = dict[str, Any]  # an sns_deliveries row
Outcome = tuple[Delivery, bool]  # a claimed delivery and whether its POST succeeded


# -- claiming and finishing (writer thread) ---------------------------------------------------------------------
def claim(tx: Tx, now: int, limit: int) -> list[Delivery]:
    rows = _within_throttle(tx, delivery_store.due(tx, now, limit), now)
    if rows:
        delivery_store.lease(tx, [r["id"] for r in rows], now + CLAIM_MS)
        for r in rows:
            r["lease_until"] = now + CLAIM_MS  # the claim: an outcome only counts while the row still has it
    return rows


def _within_throttle(tx: Tx, rows: list[Delivery], now: int) -> list[Delivery]:
    """Keep the deliveries their subscription's maxReceivesPerSecond allows in this (wall-clock) second; the
    others wait for the next second. Counters live on the subscription rows, so all processes share them."""
    if not rows:
        return rows
    arns = sorted({r["subscription_arn"] for r in rows})
    rates = {}
    for arn, protocol, attrs, topic_attrs in delivery_store.policy_sources(tx, arns):
        if "hrottlePolicy" not in attrs and "hrottlePolicy" not in (topic_attrs or ""):
            continue  # the common case: no throttle anywhere, nothing to parse
        policy = delivery_policy.effective(json.loads(topic_attrs or "{}"), json.loads(attrs), protocol)
        if (rate := delivery_policy.max_per_second(policy)) is not None:
            rates[arn] = rate
    if not rates:
        return rows
    counters = delivery_store.throttle_counters(tx, list(rates))
    wall = clock.wall_ms()
    second = wall // 1000
    used = {arn: count if at == second else 0 for arn, at, count in counters}
    kept: list[Delivery] = []
    held: dict[int, list[int]] = {}  # due time -> ids
    waiting: dict[str, int] = {}
    for r in rows:
        arn = r["subscription_arn"]
        if arn not in rates or arn not in used:
            kept.append(r)
        elif used[arn] < rates[arn]:
            used[arn] += 1
            kept.append(r)
        else:
            # Each held delivery gets its own later second, so a backlog is rescheduled once, not every second
            # (and does not stand in front of other subscriptions' deliveries).
            k = waiting[arn] = waiting.get(arn, -1) + 1
            held.setdefault(now + 1000 - wall % 1000 + (k // rates[arn]) * 1000, []).append(r["id"])
    for arn, count in used.items():
        delivery_store.set_throttle_counter(tx, arn, second, count)
    for due, ids in held.items():
        delivery_store.postpone(tx, ids, due)
    return kept


def finish_all(tx: Tx, outcomes: list[Outcome], now: int, grants_needed: bool) -> None:
    """Record finished attempts; `grants_needed` (auth = "sigv4"): a dead-letter queue of another account than the
    topic's takes the message only when its policy allows the topic to send (grants.py)."""
    results = [(row, finish(tx, row, ok, now, grants_needed)) for row, ok in outcomes]
    tx.after_commit(partial(_count, results))


def _count(results: list[tuple[Delivery, str]]) -> None:
    """Metrics of the notifications' attempts (confirmations are not notifications)."""
    for row, result in results:
        if row["kind"] != "Notification" or result not in _COUNTED:
            continue
        protocol = json.loads(row["payload"])["url"].split(":", 1)[0].lower()
        if result == "retry":
            metrics.sns_retry(protocol)
        else:
            metrics.sns_delivered(protocol, _COUNTED[result])


_COUNTED = {"delivered": metrics.DELIVERED, "retry": "", "dead-lettered": "dead_lettered", "dropped": "dropped"}


def finish(tx: Tx, row: Delivery, ok: bool, now: int, grants_needed: bool) -> str:
    """Record the outcome of one attempt: delivered, retry later, or dead-lettered/dropped."""
    if not delivery_store.still_claimed(tx, row["id"], row["lease_until"]):
        return "gone"  # deleted meanwhile (its subscription went), or claimed again after this claim expired
    if ok:
        delivery_store.remove(tx, row["id"])
        return "delivered"
    sub = delivery_store.subscription_settings(tx, row["subscription_arn"])
    if sub is None:
        delivery_store.remove(tx, row["id"])
        return "dropped"
    sub_attrs = json.loads(sub[0])
    topic_attrs_text = delivery_store.topic_attributes(tx, sub[1])
    protocol = json.loads(row["payload"])["url"].split(":", 1)[0].lower()
    policy = delivery_policy.effective(json.loads(topic_attrs_text or "{}"), sub_attrs, protocol)
    attempts = row["attempts"] + 1
    delay = delivery_policy.retry_delay_s(policy["healthyRetryPolicy"], attempts)
    if delay is not None:
        delivery_store.retry_at(tx, row["id"], attempts, now + int(delay * 1000))
        return "retry"
    delivery_store.remove(tx, row["id"])
    if row["kind"] == "Notification" and sub_attrs.get("RedrivePolicy"):
        topic_arn = sub[1] if grants_needed else None
        _dead_letter(tx, json.loads(sub_attrs["RedrivePolicy"])["deadLetterTargetArn"], row, now, topic_arn)
        return "dead-lettered"
    return "dropped"


def _dead_letter(tx: Tx, arn: str, row: Delivery, now: int, topic_arn: str | None) -> None:
    """After the last retry the notification goes to the subscription's dead-letter queue as it was to be sent:
    the JSON notification, or (raw delivery) the message with its attributes as SQS message attributes. With a
    `topic_arn`, only if the topic may send to the queue."""
    queue = queue_by_arn(tx.conn, arn)
    if queue is None or (topic_arn is not None and not grants.may_send(topic_arn, queue)):
        return
    if queue.fifo:
        return  # a FIFO dead-letter queue needs group ids a standard topic's notification lacks
    request = json.loads(row["payload"])
    attrs = sqs_raw_attributes(decode_attributes(request.get("attributes") or {}))
    enqueue(tx, queue, [message_row(queue, request["body"], attrs, {}, SNS_SENDER_ID, now)], now)


# -- the deliverer (event loop of each worker) ----------------------------------------------------------------
class Deliverer(WakeLoop):
    def __init__(self, db: Database, notifier: Notifier, settings: Settings) -> None:
        # New deliveries (any process) and clock changes (test mode) end the wait for the next pass.
        keys = (WAKE_KEY, "clock:", WAKE_ALL)
        super().__init__(notifier, keys, log, "SNS HTTP delivery pass failed", RETRY_S, settle_s=BATCH_WINDOW_S)
        self.db = db
        self.settings = settings
        self._grants = settings.sigv4
        self._client: httpx.AsyncClient | None = None
        self._outcomes: list[Outcome] = []

    def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT_S,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT),
        )
        super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._outcomes:  # what finished before the stop is recorded; the cancelled ones are retried
            with contextlib.suppress(Exception):
                await self.db.write(finish_all, self._outcomes, clock.now_ms(), self._grants)
        if self._client is not None:
            await self._client.aclose()

    async def run_pass(self) -> float | None:
        if self._outcomes:
            outcomes, self._outcomes = self._outcomes, []
            await self.db.write(finish_all, outcomes, clock.now_ms(), self._grants)
        return await self._tick()

    async def _tick(self) -> float:
        """Start the due deliveries; returns how long to sleep before the next pass."""
        room = MAX_IN_FLIGHT - len(self._in_flight)
        due = await self.db.read(delivery_store.next_due, clock.now_ms())
        if room > 0 and due is not None and due <= clock.now_ms():
            rows = await self.db.write(claim, clock.now_ms(), room)
            for row in rows:
                self.spawn(self._deliver(row))
        now = clock.now_ms()
        due = await self.db.read(delivery_store.next_due, now)
        if due is None:
            # Every pending delivery is claimed: look again when the first claim ends (its worker may be gone).
            claimed = await self.db.read(delivery_store.next_claim_end, now)
            return IDLE_WAIT_S if claimed is None else min(max((claimed - now) / 1000, 0.0), IDLE_WAIT_S)
        return min(max((due - now) / 1000, 0.0), DUE_RECHECK_S)

    async def _deliver(self, row: Delivery) -> None:
        request = json.loads(row["payload"])
        assert self._client is not None
        try:
            # An endpoint on one of the broker's own host names is served by the broker on loopback.
            url = httpx.URL(request["url"])
            headers = {"host": url.netloc.decode("ascii"), **request["headers"]}
            response = await self._client.post(
                own_url(url, self.settings), content=request["body"].encode(), headers=headers
            )
            ok = 200 <= response.status_code < 300
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError):
            ok = False
        self._outcomes.append((row, ok))  # recorded by the next pass, with the others that finished meanwhile
        self._wake.set()
