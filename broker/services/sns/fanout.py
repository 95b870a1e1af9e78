"""Fan-out: what one published message becomes for each subscription that accepts it, and the transaction that
commits all of it at once (SQS rows, pending HTTP deliveries, outbox entries, Lambda invocations, the FIFO
archive)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from broker.metrics import instruments as metrics
from broker.services.sns import delivery_policy, delivery_store, grants, lambda_delivery, mobile, replay, store
from broker.services.sns.lambda_delivery import Invocation
from broker.services.sns.messages import (
    Envelopes,
    Message,
    encode_attributes,
    http_request,
    sqs_raw_attributes,
    sqs_system_attributes,
)
from broker.services.sns.store import Row
from broker.services.sns.topics import Subscription, Topic
from broker.services.sqs.enqueue import enqueue_many, message_row
from broker.services.sqs.queues import Queue
from broker.storage.db import Tx

SNS_SENDER_ID = "AIDAIT2UOQQY3AUEKVGXU"  # the SenderId SQS shows for messages SNS delivered


@dataclass(slots=True)
class Work:
    """The rows a message (or a subscription's confirmation) becomes, written in one transaction."""

    deliveries: list[Row] = field(default_factory=list)  # pending HTTP/S deliveries
    outbox: list[Row] = field(default_factory=list)  # email, SMS and push: what would have been sent
    sqs: list[tuple[Queue, list[Row]]] = field(default_factory=list)  # messages of SQS queues
    invocations: list[Invocation] = field(default_factory=list)  # lambda subscriptions' asynchronous invocations

    def add(self, other: Work) -> None:
        self.deliveries += other.deliveries
        self.outbox += other.outbox
        self.sqs += other.sqs
        self.invocations += other.invocations


def delivery_row(sub_arn: str, kind: str, request: dict[str, Any], now: int) -> Row:
    return {
        "subscription_arn": sub_arn,
        "kind": kind,
        "payload": json.dumps(request),
        "attempts": 0,
        "due_at": now,
        "created_at": now,
        "lease_until": 0,
    }


def subscription_outbox_row(t: Topic, sub: Subscription, message: dict[str, Any], now: int) -> Row:
    """The outbox entry of a topic's delivery to an email, email-json, SMS or push subscription."""
    return store.outbox_row(t.account, t.region, sub.protocol, sub.endpoint, message, now, t.arn, sub.arn)


def apply(tx: Tx, work: Work, now: int) -> None:
    enqueue_many(tx, work.sqs, now)
    store.add_outbox(tx, work.outbox)
    delivery_store.add(tx, work.deliveries)
    if work.invocations:  # reads the functions: only for messages a lambda subscription took
        lambda_delivery.deliver(tx, work.invocations, now)
    if work.sqs or work.invocations or work.outbox:  # HTTP/S deliveries are counted when they are made
        outbox = [row["protocol"] for row in work.outbox]
        tx.after_commit(partial(metrics.sns_fanout, len(work.sqs), len(work.invocations), outbox))


class Fanout:
    """Turns a message into the work of each subscription of a topic that accepts it."""

    def __init__(self, t: Topic, queues: dict[str, Queue | None], env: Envelopes) -> None:
        self.t = t
        # SQS endpoints and dead-letter queues by ARN (None: the queue is gone, or may not be sent to)
        self.queues = grants.granted_queues(t.arn, queues) if env.grants else queues
        self.env = env

    def work(self, msg: Message, now: int, subs: list[Subscription] | None = None) -> Work:
        work = Work()
        for sub in self.t.subscriptions if subs is None else subs:
            if not sub.confirmed or not sub.accepts(msg.attributes, msg.text_for(sub.protocol)):
                continue
            proto = sub.protocol
            if proto == "sqs":
                self._to_queue(work, msg, sub, now)
            elif proto in ("http", "https"):
                if sub.raw:
                    body, raw = msg.text_for(proto), True
                else:
                    body, raw = self.env.notification(msg, self.t, sub), False
                req = http_request(sub, self.t.arn, "Notification", msg.message_id, body, raw)
                if raw and msg.attributes:  # for the dead-letter copy, which carries them as SQS attributes
                    req["attributes"] = encode_attributes(msg.attributes)
                policy = delivery_policy.effective(self.t.attrs, sub.attrs, proto)
                req["headers"]["Content-Type"] = delivery_policy.content_type(policy)
                work.deliveries.append(delivery_row(sub.arn, "Notification", req, now))
            elif proto == "email":
                out = {
                    "Subject": msg.subject or self.t.attrs.get("DisplayName") or "AWS Notification Message",
                    "Body": msg.text_for(proto),
                    "MessageId": msg.message_id,
                    "UnsubscribeURL": self.env.unsubscribe_url(sub.arn),
                }
                work.outbox.append(subscription_outbox_row(self.t, sub, out, now))
            elif proto == "email-json":
                out = json.loads(self.env.notification(msg, self.t, sub))
                work.outbox.append(subscription_outbox_row(self.t, sub, out, now))
            elif proto == "sms":
                out = {"PhoneNumber": sub.endpoint, "Message": msg.text_for(proto), "MessageId": msg.message_id}
                work.outbox.append(subscription_outbox_row(self.t, sub, out, now))
            elif proto == "application":
                work.outbox.append(subscription_outbox_row(self.t, sub, mobile.push_payload(sub.endpoint, msg), now))
            elif proto == "lambda":
                work.invocations.append(self._to_function(msg, sub, now))
            # firehose subscriptions are kept; their delivery comes with that service.
        return work

    def _to_function(self, msg: Message, sub: Subscription, now: int) -> Invocation:
        """The function's event, and (when the subscription has a dead-letter queue) the notification that goes
        there instead if the function turns out not to exist: prepared here, where the envelopes are."""
        dead_letter = None
        policy = sub.attrs.get("RedrivePolicy")
        queue = self.queues.get(json.loads(policy)["deadLetterTargetArn"]) if policy else None
        if queue is not None and not queue.fifo:  # a FIFO queue needs group ids a standard topic's message lacks
            body = self.env.notification(msg, self.t, sub)
            row = message_row(queue, body, {}, sqs_system_attributes(msg), SNS_SENDER_ID, now)
            dead_letter = (queue, row)
        event = self.env.lambda_event(msg, self.t, sub)
        source = self.t.arn if self.env.grants else None
        return Invocation(sub.endpoint, event, msg.trace_header or "", dead_letter, source)

    def _to_queue(self, work: Work, msg: Message, sub: Subscription, now: int) -> None:
        queue = self.queues.get(sub.endpoint)
        if sub.raw:
            body, attrs = msg.text_for("sqs"), sqs_raw_attributes(msg.attributes)
        else:
            body, attrs = self.env.notification(msg, self.t, sub), {}
        if queue is None:
            # The queue is gone: the message goes to the subscription's dead-letter queue, if it has one, in the
            # same form (raw, with its attributes as SQS attributes, or the JSON notification).
            policy = sub.attrs.get("RedrivePolicy")
            queue = self.queues.get(json.loads(policy)["deadLetterTargetArn"]) if policy else None
            if queue is None:
                return
        group = msg.group if (queue.fifo or not self.t.fifo) else None
        dedup = msg.dedup if queue.fifo else None
        if queue.fifo and group is None:
            return  # a standard topic cannot feed a FIFO queue (refused at Subscribe)
        system = sqs_system_attributes(msg)
        row = message_row(queue, body, attrs, system, SNS_SENDER_ID, now, group=group, dedup=dedup)
        work.sqs.append((queue, [row]))


def commit(tx: Tx, works: list[Work], now: int) -> None:
    """One transaction for the work of several messages (a standard topic's Publish or PublishBatch)."""
    merged = Work()
    for work in works:
        merged.add(work)
    apply(tx, merged, now)  # enqueue_many writes every standard queue's rows in one statement


def commit_fifo(tx: Tx, fanout: Fanout, msgs: list[Message]) -> list[tuple[str, int]]:
    """A FIFO topic's publish: sequence numbers, deduplication, fan-out and archive in one transaction.
    Subscriptions that are replaying from the archive get the message from the replay, in order."""
    t = fanout.t
    now = msgs[0].published_at
    first = store.allocate_seq(tx, t.id, len(msgs))  # also serializes the topic's publishes on PostgreSQL
    archive = bool(t.attrs.get("ArchivePolicy"))
    held = replay.held_subscriptions(tx.conn, t.arn) if archive else set()
    live = [s for s in t.subscriptions if s.arn not in held]
    results = []
    for k, msg in enumerate(msgs):
        # validation.fifo_ids gives every message of a FIFO topic a group and a deduplication id
        assert msg.group is not None and msg.dedup is not None
        scope = msg.group if t.group_scope else ""
        hit = store.dedup_hit(tx, t.id, scope, msg.dedup, now)
        if hit is not None:
            results.append(hit)
            continue
        msg.seq = first + k
        store.remember_dedup(tx, t.id, scope, msg.dedup, msg.message_id, msg.seq, now)
        apply(tx, fanout.work(msg, now, live), now)
        if archive:
            store.archive(tx, t.id, msg.seq, msg.message_id, now, msg.payload())
        results.append((msg.message_id, msg.seq))
    return results
