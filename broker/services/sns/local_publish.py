"""Publishing to a standard SNS topic from another service, inside that service's transaction (Lambda's
asynchronous-invocation destinations, EventBridge targets): the message fans out exactly as a Publish would."""

from __future__ import annotations

from typing import Any

from broker import ids
from broker.services.base import Env
from broker.services.sns import fanout
from broker.services.sns import store as sns_store
from broker.services.sns.messages import Envelopes, Message
from broker.services.sns.signing import SIGNER, Signer
from broker.services.sns.topics import Subscription, Topic
from broker.services.sqs.queues import queue_by_arn
from broker.storage.db import Tx


def envelopes_for(env: Env) -> Envelopes | None:
    """This worker's envelopes (None when SNS is not served: it holds the signing key)."""
    try:
        signer: Signer = env.get(SIGNER)
    except KeyError:
        return None
    settings = env.settings
    base_url = f"http://{settings.public_host or f'127.0.0.1:{settings.port}'}"
    return Envelopes(signer, base_url, settings.sigv4)


def publish(
    tx: Tx, envelopes: Envelopes, arn: str, body: str, attrs: dict[str, dict[str, Any]], now: int, trace: str
) -> str | None:
    """Publish `body` to the standard topic `arn`; "no_topic" or "fifo" when it cannot take it, else None."""
    return publish_many(tx, envelopes, arn, [body], attrs, now, trace)


def publish_many(
    tx: Tx,
    envelopes: Envelopes,
    arn: str,
    bodies: list[str],
    attrs: dict[str, dict[str, Any]],
    now: int,
    trace: str,
) -> str | None:
    """publish() of several messages to one topic: the topic, its subscriptions and their queues are read once and
    the fan-out of all of them written together."""
    row = sns_store.get_topic(tx.conn, arn)
    if row is None:
        return "no_topic"
    if row["fifo"]:
        return "fifo"
    subs = [Subscription.from_row(s) for s in sns_store.topic_subscriptions(tx.conn, arn)]
    topic = Topic.from_row(row, subs)
    queues = {q: queue_by_arn(tx.conn, q) for sub in subs for q in sub.queue_arns}
    fan = fanout.Fanout(topic, queues, envelopes)
    work = fanout.Work()
    for body in bodies:
        msg = Message(
            message_id=ids.uuid4(),
            topic_arn=arn,
            message=body,
            subject=None,
            attributes=attrs,
            published_at=now,
            trace_header=trace or None,
        )
        work.add(fan.work(msg, now))
    fanout.apply(tx, work, now)
    return None
