"""Read-only SQL of the console: what no AWS operation shows (accounts in use, peeked messages, pending retries and
move tasks). Nothing here writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, union

from broker.storage.tables import (
    apigateway_objects,
    events_deliveries,
    kinesis_streams,
    lambda_async_invocations,
    lambda_event_source_mappings,
    lambda_functions,
    logs_groups,
    sns_deliveries,
    sns_subscriptions,
    sns_topics,
    sqs_messages,
    sqs_move_tasks,
    sqs_queues,
)

_OWNED = (sqs_queues, sns_topics, kinesis_streams, lambda_functions, lambda_event_source_mappings, logs_groups)


def accounts(conn: Connection) -> list[tuple[str, str]]:
    """Every (account, region) that owns something the console shows."""
    parts = [select(t.c.account, t.c.region) for t in _OWNED]
    parts.append(select(apigateway_objects.c.account, apigateway_objects.c.region))
    rows = conn.execute(union(*parts)).all()
    return sorted((r[0], r[1]) for r in rows)


def peek(conn: Connection, queue_id: int, now: int, limit: int) -> list[dict[str, Any]]:
    """The next visible messages of a queue, in the order receives take them, without touching them."""
    m, q = sqs_messages, sqs_queues
    purged = select(q.c.purged_at).where(q.c.id == queue_id).scalar_subquery()
    rows = conn.execute(
        select(
            m.c.message_id,
            m.c.body,
            m.c.attributes,
            m.c.sent_at,
            m.c.receive_count,
            m.c.group_id,
            m.c.dedup_id,
            m.c.seq,
        )
        .where(
            and_(
                m.c.queue_id == queue_id,
                m.c.visible_at <= now,
                m.c.expires_at > now,
                or_(purged.is_(None), m.c.sent_at > purged),
            )
        )
        .order_by(m.c.seq, m.c.visible_at, m.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def move_tasks(conn: Connection, account: str, region: str, limit: int) -> list[dict[str, Any]]:
    t = sqs_move_tasks
    rows = conn.execute(
        select(t)
        .where(and_(t.c.account == account, t.c.region == region))
        .order_by(t.c.started_at.desc(), t.c.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def async_invocations(conn: Connection, account: str, region: str, limit: int) -> list[dict[str, Any]]:
    """Accepted asynchronous invocations not yet finished (first attempts and retries)."""
    a = lambda_async_invocations
    rows = conn.execute(
        select(
            a.c.request_id,
            a.c.function_arn,
            a.c.received_at,
            a.c.attempts,
            a.c.due_at,
            a.c.function_errors,
            a.c.throttles,
            a.c.last_outcome,
        )
        .where(and_(a.c.account == account, a.c.region == region))
        .order_by(a.c.due_at, a.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def http_deliveries(conn: Connection, account: str, region: str, limit: int) -> list[dict[str, Any]]:
    """Pending SNS HTTP/S deliveries of the account's subscriptions (a subscription ARN names its topic's account)."""
    d = sns_deliveries
    prefix = f"arn:aws:sns:{region}:{account}:"
    rows = conn.execute(
        select(d.c.id, d.c.subscription_arn, d.c.kind, d.c.attempts, d.c.due_at, d.c.created_at)
        .where(d.c.subscription_arn.startswith(prefix, autoescape=True))
        .order_by(d.c.due_at, d.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def event_deliveries(conn: Connection, account: str, region: str, limit: int) -> list[dict[str, Any]]:
    """Pending EventBridge and Scheduler target deliveries (first attempts and retries)."""
    e = events_deliveries
    rows = conn.execute(
        select(e.c.id, e.c.origin, e.c.source_arn, e.c.target, e.c.attempts, e.c.due_at, e.c.last_error)
        .where(and_(e.c.account == account, e.c.region == region))
        .order_by(e.c.due_at, e.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def failed_delivery_counts(conn: Connection, account: str, region: str) -> dict[tuple[str, str, str], int]:
    """Per (topic ARN, protocol, endpoint) of a subscription: pending HTTP/S deliveries that already failed at least
    once. Keyed by what ListSubscriptionsByTopic shows, since it hides the ARN of a pending subscription."""
    d, s = sns_deliveries, sns_subscriptions
    prefix = f"arn:aws:sns:{region}:{account}:"
    rows = conn.execute(
        select(s.c.topic_arn, s.c.protocol, s.c.endpoint, func.count())
        .select_from(d.join(s, s.c.arn == d.c.subscription_arn))
        .where(and_(d.c.subscription_arn.startswith(prefix, autoescape=True), d.c.attempts > 0))
        .group_by(s.c.topic_arn, s.c.protocol, s.c.endpoint)
    ).all()
    return {(topic, protocol, endpoint): int(n) for topic, protocol, endpoint, n in rows}
