"""Timed work of SNS: forgetting FIFO deduplication ids after 5 minutes, trimming FIFO archives to their policy,
and replaying archives to subscriptions (chunk by chunk, resumable)."""

from __future__ import annotations

import json

from broker import clock
from broker.services.sns import fanout, replay, store
from broker.services.sns.messages import Envelopes, Message
from broker.services.sns.signing import Signer
from broker.services.sns.topics import Subscription, Topic
from broker.services.sqs.queues import queue_by_arn
from broker.storage.db import Database, Tx


def sweep(db: Database) -> int:
    now = clock.now_ms()
    cutoffs = {
        topic_id: now - store.archive_retention_ms(attrs) for topic_id, attrs in db.read_sync(store.archiving_topics)
    }
    return db.write_sync(store.sweep, now, cutoffs)


def sweep_due(db: Database) -> int | None:
    return db.read_sync(store.next_sweep_due)


REPLAY_CHUNK = 200


def has_replays(db: Database) -> bool:
    return bool(db.read_sync(replay.unfinished))


def run_replays(db: Database, signer: Signer, grants: bool) -> int:
    """Move every unfinished replay forward by a chunk of archived messages; returns how many were replayed.
    `grants`: auth = "sigv4" (see Envelopes)."""
    done = 0
    for sub_arn in db.read_sync(replay.unfinished):
        done += db.write_sync(_replay_step, sub_arn, signer, grants, clock.now_ms())
    return done


def _replay_step(tx: Tx, sub_arn: str, signer: Signer, grants: bool, now: int) -> int:
    st = store.replay_state(tx.conn, sub_arn)
    row = store.get_subscription(tx.conn, sub_arn)
    topic_row = store.get_topic(tx.conn, st["topic_arn"]) if st else None
    if st is None or row is None or topic_row is None:
        replay.stop(tx, sub_arn)
        return 0
    store.allocate_seq(tx, topic_row["id"], 0)  # in step with the topic's publishes (row lock on PostgreSQL)
    sub = Subscription.from_row(row)
    t = Topic.from_row(topic_row, [sub])
    queues = {arn: queue_by_arn(tx.conn, arn) for arn in sub.queue_arns}
    fan = fanout.Fanout(t, queues, Envelopes(signer, st["base_url"], grants))
    archived = store.archived(tx.conn, t.id, st["start"], st["end"], st["after"], REPLAY_CHUNK)
    for item in archived:
        msg = Message.from_payload(t.arn, json.loads(item["payload"]))
        msg.replayed = True
        fanout.apply(tx, fan.work(msg, now, [sub]), now)
        st["after"] = item["seq"]
    st["status"] = "In progress" if len(archived) == REPLAY_CHUNK else "Completed"
    store.save_replay(tx, sub_arn, st)
    return len(archived)
