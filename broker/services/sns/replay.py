"""FIFO topic replay state: a subscription's ReplayPolicy redelivers the topic's archived messages from its
StartingPoint, in order, then (without an EndingPoint) goes on with new messages; with an EndingPoint it stops
there and the subscription stays paused until a new ReplayPolicy, as AWS documents.

The state is a broker_state row per subscription, so a replay resumes after a restart; the `sns.replay` job moves
it forward in chunks. While a replay runs, the subscription's new messages come through the archive, never live,
so their order holds.
"""

from __future__ import annotations

from sqlalchemy import Connection

from broker.services.sns import store
from broker.services.sns.store import ReplayState
from broker.storage.db import Tx

WAKE_KEY = "sns:replay"


def start(tx: Tx, sub_arn: str, topic_arn: str, starting: int, ending: int | None, base_url: str) -> None:
    state: ReplayState = {
        "topic_arn": topic_arn,
        "start": starting,
        "end": ending,
        "after": 0,
        "status": "Pending",
        "base_url": base_url,
    }
    store.save_replay(tx, sub_arn, state)
    tx.wake(WAKE_KEY)


def stop(tx: Tx, sub_arn: str) -> None:
    store.delete_replay(tx, sub_arn)


def held_subscriptions(conn: Connection, topic_arn: str) -> set[str]:
    """Subscriptions of a topic that take no live messages: replaying, or paused after a bounded replay."""
    return {
        arn for arn, st in store.replays(conn, topic_arn + ":") if st["status"] != "Completed" or st["end"] is not None
    }


def unfinished(conn: Connection) -> list[str]:
    return [arn for arn, st in store.replays(conn) if st["status"] != "Completed"]
