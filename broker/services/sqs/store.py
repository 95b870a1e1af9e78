"""All SQL of SQS. Functions take a Tx (writes, run on the writer thread) or a Connection (reads)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, delete, func, insert, select, text, update

from broker import ids
from broker.errors import ServiceError
from broker.services.sqs.validation import DEFAULTS, FIFO_DEFAULTS
from broker.storage.db import Tx
from broker.storage.helpers import upsert
from broker.storage.prepared import Prepared
from broker.storage.tables import sqs_fifo_dedup as dd
from broker.storage.tables import sqs_messages as m
from broker.storage.tables import sqs_move_tasks as mt
from broker.storage.tables import sqs_queue_tombstones as tomb
from broker.storage.tables import sqs_queues as q
from broker.storage.tables import sqs_receive_attempts as ra

DELETED_RECENTLY_MS = 60_000
PURGE_INTERVAL_MS = 60_000

_QUEUE_COLUMNS = [
    q.c.id,
    q.c.account,
    q.c.region,
    q.c.name,
    q.c.fifo,
    q.c.attributes,
    q.c.created_at,
    q.c.modified_at,
    q.c.purged_at,
    q.c.dlq_arn,
]

_by_name = select(*_QUEUE_COLUMNS).where(
    and_(q.c.account == bindparam("account"), q.c.region == bindparam("region"), q.c.name == bindparam("name"))
)


def get_queue(conn: Connection, account: str, region: str, name: str) -> dict | None:
    row = conn.execute(_by_name, {"account": account, "region": region, "name": name}).mappings().first()
    return dict(row) if row else None


def _dlq_arn(attrs: dict[str, str]) -> str | None:
    policy = attrs.get("RedrivePolicy")
    return json.loads(policy)["deadLetterTargetArn"] if policy else None


def create_queue(
    tx: Tx,
    account: str,
    region: str,
    name: str,
    attrs: dict[str, str],
    tags: dict[str, str],
    now: int,
    fifo: bool = False,
) -> tuple[dict, bool]:
    """Create the queue, or return the existing one if the given attributes match; (row, created)."""
    existing = get_queue(tx.conn, account, region, name)
    if existing is not None:
        defaults = {**DEFAULTS, **(FIFO_DEFAULTS if existing["fifo"] else {})}
        current = {**defaults, **json.loads(existing["attributes"])}
        for k, v in attrs.items():
            if current.get(k) != v:
                raise ServiceError(
                    "QueueNameExists",
                    f"A queue already exists with the same name and a different value for attribute {k}",
                )
        return existing, False
    recent = tx.conn.execute(
        select(tomb.c.queue_id)
        .where(
            and_(
                tomb.c.account == account,
                tomb.c.region == region,
                tomb.c.name == name,
                tomb.c.deleted_at > now - DELETED_RECENTLY_MS,
            )
        )
        .limit(1)
    ).first()
    if recent is not None:
        raise ServiceError(
            "QueueDeletedRecently",
            "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
        )
    values = {
        "account": account,
        "region": region,
        "name": name,
        "fifo": fifo,
        "attributes": json.dumps({k: v for k, v in attrs.items() if v != ""}),
        "dlq_arn": _dlq_arn(attrs),
        "tags": json.dumps(tags),
        "created_at": now,
        "modified_at": now,
        "purged_at": None,
    }
    qid = tx.conn.execute(insert(q).values(**values).returning(q.c.id)).scalar_one()
    return {**values, "id": qid}, True


def delete_queue(tx: Tx, queue: dict, now: int) -> None:
    """Drop the queue at once; its messages are removed in chunks by the sweep job (tombstone)."""
    tx.conn.execute(delete(q).where(q.c.id == queue["id"]))
    tx.conn.execute(
        insert(tomb).values(
            queue_id=queue["id"],
            account=queue["account"],
            region=queue["region"],
            name=queue["name"],
            deleted_at=now,
        )
    )


def set_attributes(tx: Tx, queue_id: int, changes: dict[str, str], now: int) -> dict[str, str]:
    row = tx.conn.execute(select(q.c.attributes).where(q.c.id == queue_id)).first()
    if row is None:
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
    attrs = json.loads(row[0])
    old_retention = attrs.get("MessageRetentionPeriod")
    attrs.update(changes)
    for name in ("KmsMasterKeyId", "Policy", "RedrivePolicy", "RedriveAllowPolicy"):
        if name in attrs and attrs[name] == "":
            attrs.pop(name)  # an empty value removes the attribute
            if name == "KmsMasterKeyId":
                attrs.pop("KmsDataKeyReusePeriodSeconds", None)
    tx.conn.execute(
        update(q)
        .where(q.c.id == queue_id)
        .values(attributes=json.dumps(attrs), modified_at=now, dlq_arn=_dlq_arn(attrs))
    )
    new_retention = attrs.get("MessageRetentionPeriod")
    if new_retention != old_retention:
        # AWS applies a changed retention period to the messages already in the queue.
        tx.conn.execute(
            update(m).where(m.c.queue_id == queue_id).values(expires_at=m.c.sent_at + int(new_retention) * 1000)
        )
    return attrs


def get_tags(conn: Connection, queue_id: int) -> dict[str, str]:
    row = conn.execute(select(q.c.tags).where(q.c.id == queue_id)).first()
    return json.loads(row[0]) if row else {}


def change_tags(tx: Tx, queue_id: int, add: dict[str, str], remove: list[str]) -> None:
    row = tx.conn.execute(select(q.c.tags).where(q.c.id == queue_id)).first()
    if row is None:
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
    tags = json.loads(row[0])
    tags.update(add)
    for k in remove:
        tags.pop(k, None)
    if len(tags) > 50:
        raise ServiceError("InvalidParameterValue", "Too many tags added for queue. Maximum is 50.")
    tx.conn.execute(update(q).where(q.c.id == queue_id).values(tags=json.dumps(tags)))


def list_queues(conn: Connection, account: str, region: str, prefix: str, after: str | None, limit: int) -> list[str]:
    stmt = select(q.c.name).where(and_(q.c.account == account, q.c.region == region))
    if prefix:
        # substr, not LIKE: SQLite's LIKE ignores case, and queue names are case-sensitive.
        stmt = stmt.where(func.substr(q.c.name, 1, len(prefix)) == prefix)
    if after is not None:
        stmt = stmt.where(q.c.name > after)
    return list(conn.execute(stmt.order_by(q.c.name).limit(limit)).scalars())


def purge(tx: Tx, queue_id: int, now: int) -> None:
    last = tx.conn.execute(select(q.c.purged_at).where(q.c.id == queue_id)).scalar()
    if last is not None and now - last < PURGE_INTERVAL_MS:
        raise ServiceError(
            "PurgeQueueInProgress", "Only one PurgeQueue operation on each queue is allowed every 60 seconds."
        )
    tx.conn.execute(delete(m).where(and_(m.c.queue_id == queue_id, m.c.sent_at <= now)))
    tx.conn.execute(update(q).where(q.c.id == queue_id).values(purged_at=now))


def counts(conn: Connection, queue_id: int, now: int) -> dict[str, int]:
    """ApproximateNumberOfMessages(+NotVisible, +Delayed) from the visible_at model, in one pass."""
    hidden = m.c.visible_at > now
    row = conn.execute(
        select(
            func.count(case((~hidden, 1))),
            func.count(case((and_(hidden, m.c.receive_count > 0), 1))),
            func.count(case((and_(hidden, m.c.receive_count == 0), 1))),
        ).where(and_(m.c.queue_id == queue_id, m.c.expires_at > now))
    ).one()
    return {
        "ApproximateNumberOfMessages": row[0],
        "ApproximateNumberOfMessagesNotVisible": row[1],
        "ApproximateNumberOfMessagesDelayed": row[2],
    }


# -- messages ----------------------------------------------------------------------------------------------
MESSAGE_COLUMNS = [c.name for c in m.columns if c.name != "id"]
_insert = Prepared(insert(m), column_keys=MESSAGE_COLUMNS)


def insert_messages(tx: Tx, queue_id: int, rows: list[dict[str, Any]]) -> None:
    _insert.executemany(tx.conn, rows)
    tx.wake(f"sqs:{queue_id}")


_RETURNED = [
    m.c.id,
    m.c.message_id,
    m.c.body,
    m.c.attributes,
    m.c.system_attributes,
    m.c.md5_body,
    m.c.md5_attributes,
    m.c.md5_system_attributes,
    m.c.sender_id,
    m.c.sent_at,
    m.c.receive_count,
    m.c.first_received_at,
    m.c.receipt,
    m.c.group_id,
    m.c.dedup_id,
    m.c.seq,
    m.c.source_arn,
]


def _receive_statement(for_pg: bool):  # noqa: ANN202
    pick = (
        select(m.c.id)
        .where(
            and_(
                m.c.queue_id == bindparam("q"),
                m.c.visible_at <= bindparam("now"),
                m.c.expires_at > bindparam("now"),
            )
        )
        .order_by(m.c.visible_at)
        .limit(bindparam("n"))
    )
    if for_pg:
        pick = pick.with_for_update(skip_locked=True)
    return (
        update(m)
        .where(m.c.id.in_(pick.scalar_subquery()))
        .values(
            visible_at=bindparam("until"),
            receipt=bindparam("token"),
            receive_count=m.c.receive_count + 1,
            first_received_at=func.coalesce(m.c.first_received_at, bindparam("now")),
            received_at=bindparam("now"),
        )
        .returning(*_RETURNED)
    )


_receive_sqlite = Prepared(_receive_statement(False))
_receive_pg = Prepared(_receive_statement(True))


def receive(tx: Tx, queue_id: int, now: int, n: int, until: int, token: str) -> list[dict]:
    stmt = _receive_pg if tx.is_pg else _receive_sqlite
    out = stmt.fetch_dicts(tx.conn, {"q": queue_id, "now": now, "n": n, "until": until, "token": token})
    out.sort(key=lambda r: r["id"])
    return out


_has_visible = (
    select(m.c.id)
    .where(
        and_(
            m.c.queue_id == bindparam("q"),
            m.c.visible_at <= bindparam("now"),
            m.c.expires_at > bindparam("now"),
        )
    )
    .limit(1)
)
_next_due = select(func.min(m.c.visible_at)).where(
    and_(m.c.queue_id == bindparam("q"), m.c.visible_at > bindparam("now"))
)


def has_visible(conn: Connection, queue_id: int, now: int) -> bool:
    return conn.execute(_has_visible, {"q": queue_id, "now": now}).first() is not None


def next_due(conn: Connection, queue_id: int, now: int) -> int | None:
    return conn.execute(_next_due, {"q": queue_id, "now": now}).scalar()


_delete = Prepared(
    delete(m).where(and_(m.c.id == bindparam("id"), m.c.queue_id == bindparam("q"), m.c.receipt == bindparam("token")))
)


def delete_messages(tx: Tx, queue_id: int, handles: list[tuple[int, str]], unblocks: bool = False) -> None:
    """Delete by (row id, receipt token). A stale or already-used handle deletes nothing, as on AWS.
    `unblocks`: a FIFO delete may free its message group for waiting receivers."""
    _delete.executemany(tx.conn, [{"id": i, "q": queue_id, "token": t} for i, t in handles])
    if unblocks:
        tx.wake(f"sqs:{queue_id}")


VISIBILITY_LIMIT_MS = 43_200_000


def change_visibility(tx: Tx, queue_id: int, entries: list[tuple[int, str, int]], now: int) -> list[str | None]:
    """Set visible_at = now + timeout for in-flight messages; per entry None or an error code."""
    results: list[str | None] = []
    woke = False
    for row_id, _token, timeout_s in entries:
        # By message, not by the latest receipt token: AWS accepts an older handle of a message in flight.
        row = tx.conn.execute(
            select(m.c.visible_at, m.c.received_at).where(and_(m.c.id == row_id, m.c.queue_id == queue_id))
        ).first()
        if row is None:
            results.append("gone")
            continue
        visible_at, received_at = row
        if visible_at <= now:
            results.append("not-inflight")
            continue
        if received_at is not None and now + timeout_s * 1000 - received_at > VISIBILITY_LIMIT_MS:
            results.append("too-long")
            continue
        tx.conn.execute(update(m).where(m.c.id == row_id).values(visible_at=now + timeout_s * 1000))
        woke = woke or timeout_s == 0
        results.append(None)
    if woke:
        tx.wake(f"sqs:{queue_id}")
    return results


# -- sweeping ----------------------------------------------------------------------------------------------
def sweep_expired(tx: Tx, now: int, limit: int) -> int:
    ids = select(m.c.id).where(m.c.expires_at <= now).limit(limit).scalar_subquery()
    n = tx.conn.execute(delete(m).where(m.c.id.in_(ids))).rowcount
    tx.conn.execute(delete(dd).where(dd.c.expires_at <= now))
    tx.conn.execute(delete(ra).where(ra.c.expires_at <= now))
    return n


def sweep_deleted_queues(tx: Tx, now: int, limit: int) -> int:
    """Remove messages of deleted queues in chunks; forget tombstones once empty and older than 60 s."""
    removed = 0
    for (qid,) in tx.conn.execute(select(tomb.c.queue_id)).all():
        ids = select(m.c.id).where(m.c.queue_id == qid).limit(limit).scalar_subquery()
        n = tx.conn.execute(delete(m).where(m.c.id.in_(ids))).rowcount
        removed += n
        if n < limit:
            tx.conn.execute(
                delete(tomb).where(and_(tomb.c.queue_id == qid, tomb.c.deleted_at <= now - DELETED_RECENTLY_MS))
            )
        if removed >= limit:
            break
    return removed


# -- FIFO --------------------------------------------------------------------------------------------------
DEDUP_WINDOW_MS = 300_000
ATTEMPT_WINDOW_MS = 300_000
SEQ_BASE = 18_000_000_000_000_000_000  # SequenceNumbers are 20-digit decimal strings, like AWS's


def sequence_number(seq: int) -> str:
    return str(SEQ_BASE + seq)


def _allocate_seqs(tx: Tx, queue_id: int, count: int) -> int:
    """Reserve `count` sequence numbers of the queue; returns the first."""
    last = tx.conn.execute(
        update(q).where(q.c.id == queue_id).values(seq=q.c.seq + count).returning(q.c.seq)
    ).scalar_one()
    return last - count + 1


def insert_fifo(tx: Tx, queue_id: int, rows: list[dict[str, Any]], group_scope: bool, now: int) -> list[tuple]:
    """Insert FIFO messages within the 5-minute deduplication window.

    Returns per row (message_id, seq, duplicate): a duplicate answers with the original message and is not
    enqueued again."""
    results: list[tuple | None] = []
    fresh: list[tuple[int, dict]] = []
    seen: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows):
        scope = row["group_id"] if group_scope else ""
        key = (scope, row["dedup_id"])
        if key in seen:  # a duplicate within this very batch
            results.append(("same", seen[key]))
            continue
        hit = tx.conn.execute(
            select(dd.c.message_id, dd.c.seq).where(
                and_(
                    dd.c.queue_id == queue_id,
                    dd.c.scope == scope,
                    dd.c.dedup_id == row["dedup_id"],
                    dd.c.expires_at > now,
                )
            )
        ).first()
        if hit is not None:
            results.append((hit[0], hit[1], True))
            continue
        seen[key] = i
        fresh.append((i, row))
        results.append(None)
    if fresh:
        first = _allocate_seqs(tx, queue_id, len(fresh))
        for k, (i, row) in enumerate(fresh):
            row["seq"] = first + k
            results[i] = (row["message_id"], row["seq"], False)
            upsert(
                tx.conn,
                dd,
                {
                    "queue_id": queue_id,
                    "scope": row["group_id"] if group_scope else "",
                    "dedup_id": row["dedup_id"],
                    "message_id": row["message_id"],
                    "seq": row["seq"],
                    "expires_at": now + DEDUP_WINDOW_MS,
                },
                ["queue_id", "scope", "dedup_id"],
            )
        _insert.executemany(tx.conn, [row for _i, row in fresh])
        tx.wake(f"sqs:{queue_id}")
    out = []
    for r in results:
        if r is not None and r[0] == "same":
            orig = results[r[1]]
            out.append((orig[0], orig[1], True))
        else:
            out.append(r)
    return out


# -- receiving with FIFO groups and dead-letter redrive ---------------------------------------------------
_PICK_STANDARD = (
    "SELECT id, receive_count FROM sqs_messages WHERE queue_id = :q AND visible_at <= :now AND expires_at > :now "
    "ORDER BY visible_at LIMIT :n"
)
# FIFO: oldest first by sequence, skipping every group that has a message in flight. "+visible_at" keeps
# SQLite on the (queue_id, seq) index, which also serves the ORDER BY.
_PICK_FIFO = (
    "SELECT id, receive_count FROM sqs_messages WHERE queue_id = :q AND +visible_at <= :now AND expires_at > :now "
    "AND (group_id IS NULL OR group_id NOT IN (SELECT f.group_id FROM sqs_messages f WHERE f.queue_id = :q "
    "AND f.visible_at > :now AND f.receive_count > 0 AND f.group_id IS NOT NULL)) ORDER BY seq LIMIT :n"
)


def receive_general(
    tx: Tx, queue_id: int, now: int, n: int, until: int, token: str, fifo: bool, dead_letter: dict | None
) -> list[dict]:
    """Receive from a FIFO queue and/or a queue with a redrive policy.

    Messages already received maxReceiveCount times are moved to the dead-letter queue instead of being
    delivered (atomically, in this transaction), and more are picked in their place."""
    if fifo and tx.is_pg:
        # One FIFO receive at a time per queue across nodes, so two receivers never split a group.
        tx.conn.execute(select(q.c.id).where(q.c.id == queue_id).with_for_update())
    sql = _PICK_FIFO if fifo else _PICK_STANDARD
    if tx.is_pg and not fifo:
        sql += " FOR UPDATE SKIP LOCKED"
    got: list[int] = []
    for _ in range(20):
        picked = tx.conn.execute(text(sql), {"q": queue_id, "now": now, "n": n - len(got)}).all()
        if not picked:
            break
        over = [r[0] for r in picked if dead_letter and r[1] >= dead_letter["max_receives"]]
        keep = [r[0] for r in picked if not (dead_letter and r[1] >= dead_letter["max_receives"])]
        if keep:
            tx.conn.execute(
                update(m)
                .where(m.c.id.in_(keep))
                .values(
                    visible_at=until,
                    receipt=token,
                    receive_count=m.c.receive_count + 1,
                    first_received_at=func.coalesce(m.c.first_received_at, now),
                    received_at=now,
                )
            )
            got.extend(keep)
        if over:
            _dead_letter(tx, over, dead_letter, now)
        if len(got) >= n or not over:
            break
    if not got:
        return []
    rows = [dict(r) for r in tx.conn.execute(select(*_RETURNED).where(m.c.id.in_(got))).mappings()]
    rows.sort(key=lambda r: (r["seq"] or 0, r["id"]) if fifo else r["id"])
    return rows


def _dead_letter(tx: Tx, ids: list[int], target: dict, now: int) -> None:
    """Move messages to the dead-letter queue: same MessageId, body and attributes. Standard queues keep the
    original enqueue time; FIFO queues restart it and use the MessageId as deduplication id."""
    rows = [dict(r) for r in tx.conn.execute(select(m).where(m.c.id.in_(ids)).order_by(m.c.id)).mappings()]
    first = _allocate_seqs(tx, target["id"], len(rows)) if target["fifo"] else 0
    out = []
    for k, row in enumerate(rows):
        row.pop("id")
        sent_at = now if target["fifo"] else row["sent_at"]
        row.update(
            queue_id=target["id"],
            visible_at=now,
            sent_at=sent_at,
            expires_at=sent_at + target["retention"] * 1000,
            receipt=None,
            source_arn=target["source_arn"],
        )
        if target["fifo"]:
            row.update(seq=first + k, dedup_id=row["message_id"])
        out.append(row)
    _insert.executemany(tx.conn, out)
    tx.conn.execute(delete(m).where(m.c.id.in_(ids)))
    tx.wake(f"sqs:{target['id']}")


def receive_with_attempt(
    tx: Tx, queue_id: int, attempt_id: str, now: int, n: int, until: int, token: str, dead_letter: dict | None
) -> list[dict]:
    """FIFO ReceiveRequestAttemptId: a retry within 5 minutes gets the same messages and receipt handles."""
    hit = tx.conn.execute(
        select(ra.c.token, ra.c.message_ids).where(
            and_(ra.c.queue_id == queue_id, ra.c.attempt_id == attempt_id, ra.c.expires_at > now)
        )
    ).first()
    if hit is not None:
        ids = json.loads(hit[1])
        rows = [
            dict(r)
            for r in tx.conn.execute(
                select(*_RETURNED).where(and_(m.c.id.in_(ids), m.c.receipt == hit[0], m.c.visible_at > now))
            ).mappings()
        ]
        rows.sort(key=lambda r: (r["seq"] or 0, r["id"]))
        return rows
    rows = receive_general(tx, queue_id, now, n, until, token, True, dead_letter)
    upsert(
        tx.conn,
        ra,
        {
            "queue_id": queue_id,
            "attempt_id": attempt_id,
            "token": token,
            "message_ids": json.dumps([r["id"] for r in rows]),
            "expires_at": now + ATTEMPT_WINDOW_MS,
        },
        ["queue_id", "attempt_id"],
    )
    return rows


def dead_letter_sources(
    conn: Connection, account: str, region: str, arn: str, after: str | None, limit: int
) -> list[str]:
    stmt = select(q.c.name).where(and_(q.c.dlq_arn == arn, q.c.account == account, q.c.region == region))
    if after is not None:
        stmt = stmt.where(q.c.name > after)
    return list(conn.execute(stmt.order_by(q.c.name).limit(limit)).scalars())


def has_dead_letter_sources(conn: Connection, arn: str) -> bool:
    return conn.execute(select(q.c.id).where(q.c.dlq_arn == arn).limit(1)).first() is not None


# -- message move tasks (dead-letter queue redrive) -------------------------------------------------------
ACTIVE = ("RUNNING", "CANCELLING")


def _queue_by_arn(conn: Connection, arn: str) -> dict | None:
    parts = arn.split(":")
    if len(parts) != 6:
        return None
    row = (
        conn.execute(
            select(q.c.id, q.c.fifo, q.c.attributes).where(
                and_(q.c.region == parts[3], q.c.account == parts[4], q.c.name == parts[5])
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    attrs = {**DEFAULTS, **json.loads(row["attributes"])}
    return {
        "id": row["id"],
        "fifo": bool(row["fifo"]),
        "retention": int(attrs["MessageRetentionPeriod"]),
        "delay": int(attrs["DelaySeconds"]),
    }


def start_move_task(tx: Tx, values: dict) -> None:
    active = tx.conn.execute(
        select(mt.c.id).where(and_(mt.c.source_arn == values["source_arn"], mt.c.status.in_(ACTIVE))).limit(1)
    ).first()
    if active is not None:
        raise ServiceError(
            "UnsupportedOperation",
            "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
        )
    source = _queue_by_arn(tx.conn, values["source_arn"])
    if source is None:
        raise ServiceError(
            "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist."
        )
    count = tx.conn.execute(select(func.count(), func.max(m.c.id)).where(m.c.queue_id == source["id"])).one()
    tx.conn.execute(insert(mt).values(**values, moved=0, to_move=count[0], high_water=count[1] or 0))
    tx.wake("sqs:moves")


def list_move_tasks(conn: Connection, source_arn: str, limit: int) -> list[dict]:
    rows = conn.execute(
        select(mt).where(mt.c.source_arn == source_arn).order_by(mt.c.started_at.desc(), mt.c.id.desc()).limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def cancel_move_task(tx: Tx, handle: str) -> dict:
    row = tx.conn.execute(select(mt).where(mt.c.handle == handle)).mappings().first()
    if row is None:
        raise ServiceError("ResourceNotFoundException", "The specified task handle doesn't exist.")
    if row["status"] != "RUNNING":
        raise ServiceError(
            "ResourceNotFoundException", f"Only a RUNNING task can be cancelled; this task is {row['status']}."
        )
    tx.conn.execute(update(mt).where(mt.c.id == row["id"]).values(status="CANCELLED"))
    return dict(row)


def active_move_tasks(conn: Connection) -> list[int]:
    return list(conn.execute(select(mt.c.id).where(mt.c.status == "RUNNING")).scalars())


def move_step(tx: Tx, task_id: int, now: int, wall_ms: int, default_rate: int, chunk: int) -> int:
    """Move the messages this task may move now (by its rate), as one transaction with its progress: a crash
    either keeps the whole step or none of it, so every message moves exactly once. Returns how many moved."""
    task = tx.conn.execute(select(mt).where(mt.c.id == task_id)).mappings().first()
    if task is None or task["status"] != "RUNNING":
        return 0
    rate = task["rate"] or default_rate
    since = max(task["progress_at"], wall_ms - 1000)  # after a stall, allow at most one second of catch-up
    budget = min(chunk, int((wall_ms - since) * rate / 1000))
    if budget < 1:
        return 0
    source = _queue_by_arn(tx.conn, task["source_arn"])
    if source is None:
        return _finish(tx, task_id, "FAILED", "The source queue no longer exists.")
    rows = [
        dict(r)
        for r in tx.conn.execute(
            select(m)
            .where(
                and_(
                    m.c.queue_id == source["id"],
                    m.c.id <= task["high_water"],
                    m.c.visible_at <= now,
                    m.c.expires_at > now,
                )
            )
            .order_by(m.c.id)
            .limit(budget)
        ).mappings()
    ]
    targets: dict[str, dict | None] = {}
    out = []
    for row in rows:
        arn = task["destination_arn"] or row["source_arn"]
        if arn is None:
            return _finish(
                tx,
                task_id,
                "FAILED",
                "A message in the source queue has no source queue to return to; give a DestinationArn.",
            )
        if arn not in targets:
            targets[arn] = _queue_by_arn(tx.conn, arn)
        dest = targets[arn]
        if dest is None:
            return _finish(tx, task_id, "FAILED", f"The destination queue {arn} does not exist.")
        out.append((dest, row))
    moved_ids = []
    for dest, row in out:
        # Redriven messages are new messages: new MessageId and enqueue time (AWS's redrive behaviour).
        moved_ids.append(row.pop("id"))
        new_id = ids.uuid4()
        row.update(
            queue_id=dest["id"],
            message_id=new_id,
            sent_at=now,
            visible_at=now + dest["delay"] * 1000,
            expires_at=now + dest["retention"] * 1000,
            receive_count=0,
            first_received_at=None,
            received_at=None,
            receipt=None,
            source_arn=None,
        )
        if dest["fifo"]:
            row.update(seq=_allocate_seqs(tx, dest["id"], 1), dedup_id=row["dedup_id"] or new_id)
        else:
            row.update(seq=None)
        tx.wake(f"sqs:{dest['id']}")
    if out:
        _insert.executemany(tx.conn, [row for _d, row in out])
        tx.conn.execute(delete(m).where(m.c.id.in_(moved_ids)))
    remaining = tx.conn.execute(
        select(m.c.id).where(and_(m.c.queue_id == source["id"], m.c.id <= task["high_water"])).limit(1)
    ).first()
    values: dict[str, Any] = {
        "moved": task["moved"] + len(out),
        "progress_at": since + int(len(out) * 1000 / rate) if out else task["progress_at"],
    }
    if remaining is None:
        values["status"] = "COMPLETED"
    tx.conn.execute(update(mt).where(mt.c.id == task_id).values(**values))
    return len(out)


def _finish(tx: Tx, task_id: int, status: str, reason: str | None) -> int:
    tx.conn.execute(update(mt).where(mt.c.id == task_id).values(status=status, failure_reason=reason))
    return 0
