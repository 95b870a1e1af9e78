"""FIFO topic replay state: a subscription's ReplayPolicy redelivers the topic's archived messages from its
StartingPoint, in order, then (without an EndingPoint) goes on with new messages; with an EndingPoint it stops
there and the subscription stays paused until a new ReplayPolicy, as AWS documents.

The state is a broker_state row per subscription, so a replay resumes after a restart; the `sns.replay` job moves
it forward in chunks. While a replay runs, the subscription's new messages come through the archive, never live,
so their order holds.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, and_, delete, select

from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.tables import broker_state as bs

PREFIX = "sns.replay."


def _key(sub_arn: str) -> str:
    return PREFIX + sub_arn


def start(tx: Tx, sub_arn: str, topic_arn: str, starting: int, ending: int | None, base_url: str) -> None:
    state = {
        "topic_arn": topic_arn,
        "start": starting,
        "end": ending,
        "after": 0,
        "status": "Pending",
        "base_url": base_url,
    }
    upsert(tx.conn, bs, {"key": _key(sub_arn), "value": json.dumps(state)}, ["key"])
    tx.wake("sns:replay")


def stop(tx: Tx, sub_arn: str) -> None:
    tx.conn.execute(delete(bs).where(bs.c.key == _key(sub_arn)))


def state(conn: Connection, sub_arn: str) -> dict | None:
    value = conn.execute(select(bs.c.value).where(bs.c.key == _key(sub_arn))).scalar()
    return json.loads(value) if value else None


def save(tx: Tx, sub_arn: str, st: dict) -> None:
    upsert(tx.conn, bs, {"key": _key(sub_arn), "value": json.dumps(st)}, ["key"])


def _of_topic(conn: Connection, topic_arn: str) -> list[tuple[str, dict]]:
    prefix = _key(topic_arn + ":")
    rows = conn.execute(select(bs.c.key, bs.c.value).where(and_(bs.c.key >= prefix, bs.c.key < prefix + "\uffff")))
    return [(k[len(PREFIX) :], json.loads(v)) for k, v in rows]


def held_subscriptions(conn: Connection, topic_arn: str) -> set[str]:
    """Subscriptions of a topic that take no live messages: replaying, or paused after a bounded replay."""
    return {arn for arn, st in _of_topic(conn, topic_arn) if st["status"] != "Completed" or st["end"] is not None}


def unfinished(conn: Connection) -> list[str]:
    rows = conn.execute(select(bs.c.key, bs.c.value).where(and_(bs.c.key >= PREFIX, bs.c.key < PREFIX + "\uffff")))
    return [k[len(PREFIX) :] for k, v in rows if json.loads(v)["status"] != "Completed"]
