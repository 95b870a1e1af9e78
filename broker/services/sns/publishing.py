"""Amazon SNS Publish and PublishBatch: checking messages, and fanning them out to a topic's subscriptions in one
transaction (publishes to a phone number or a mobile endpoint go to sms.py and mobile.py)."""

from __future__ import annotations

from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.services.sns import fanout, mobile, sms, validation
from broker.services.sns.arns import parse_topic_arn
from broker.services.sns.errors import (
    batch_entry_ids_not_distinct,
    batch_too_long,
    empty_batch,
    invalid_batch_entry_id,
    invalid_parameter,
    too_many_batch_entries,
)
from broker.services.sns.messages import Message, envelopes, sequence_number
from broker.services.sns.topics import Topic, topic
from broker.services.sqs import queues as sqs_queues
from broker.services.sqs.queues import Queue

MAX_BATCH_ENTRIES = 10
MAX_BATCH_ID = 80


def _message(t: Topic | None, p: dict[str, Any], now: int, trace: str = "") -> tuple[Message, int]:
    """Check one message of Publish / PublishBatch; returns it and its size in bytes."""
    per_protocol = validation.check_message(p.get("Message"), p.get("MessageStructure"))
    validation.check_subject(p.get("Subject"))
    attrs, attrs_size = validation.message_attributes(p.get("MessageAttributes"))
    size = len(p["Message"].encode()) + attrs_size
    if size > validation.MAX_MESSAGE_BYTES:
        raise invalid_parameter("Message too long")
    fifo = bool(t and t.fifo)
    group, dedup = validation.fifo_ids(
        fifo, bool(t and t.content_dedup), p["Message"], p.get("MessageGroupId"), p.get("MessageDeduplicationId")
    )
    msg = Message(
        message_id=ids.uuid4(),
        topic_arn=t.arn if t else "",
        message=p["Message"],
        subject=p.get("Subject"),
        attributes=attrs,
        published_at=now,
        per_protocol=per_protocol,
        group=group,
        dedup=dedup,
        trace_header=trace or None,
    )
    return msg, size


async def publish(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    validation.check_data_types_present(p.get("MessageAttributes"))
    targets = [k for k in ("TopicArn", "TargetArn", "PhoneNumber") if p.get(k) is not None]
    if not targets:
        raise invalid_parameter("TopicArn or TargetArn Reason: no value for required parameter")
    if len(targets) > 1:
        raise invalid_parameter(
            "TopicArn or TargetArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given"
        )
    now = clock.now_ms()
    if p.get("TopicArn") is not None or parse_topic_arn(p.get("TargetArn") or ""):
        member = "TopicArn" if p.get("TopicArn") is not None else "TargetArn"
        t = await topic(ctx, p[member], member, action="SNS:Publish")
        msg, _size = _message(t, p, now, ctx.trace_header)
        ((message_id, seq),) = await _publish(ctx, t, [msg])
        out = {"MessageId": message_id}
        if seq is not None:
            out["SequenceNumber"] = sequence_number(seq)
        return out
    if p.get("PhoneNumber") is not None:
        msg, _size = _message(None, p, now)
        return await sms.publish_sms(ctx, p["PhoneNumber"], msg)
    await mobile.check_target(ctx, p["TargetArn"])  # a disabled endpoint is refused whatever the message
    msg, _size = _message(None, p, now)
    return await mobile.publish_to_endpoint(ctx, p["TargetArn"], msg)


async def publish_batch(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    entries = p.get("PublishBatchRequestEntries") or []
    if not entries:
        raise empty_batch()
    if len(entries) > MAX_BATCH_ENTRIES:
        raise too_many_batch_entries()
    for i, entry in enumerate(entries, start=1):
        validation.check_data_types_present(
            entry.get("MessageAttributes"), f"publishBatchRequestEntries.{i}.member.messageAttributes"
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id") or ""
        if len(entry_id) > MAX_BATCH_ID:
            raise invalid_batch_entry_id(entry_id, too_long=True)
        if not validation.BATCH_ID.match(entry_id):
            raise invalid_batch_entry_id(entry_id, too_long=False)
        if entry_id in seen:
            raise batch_entry_ids_not_distinct()
        seen.add(entry_id)
    t = await topic(ctx, p["TopicArn"], action="SNS:Publish")
    now = clock.now_ms()
    ok: list[tuple[str, Message]] = []
    total = 0
    for entry in entries:
        # AWS checks every entry as Publish does and fails the whole request on the first bad one (message
        # structure, attributes, FIFO group and deduplication ids alike): nothing is published.
        msg, size = _message(t, entry, now, ctx.trace_header)
        total += size
        ok.append((entry["Id"], msg))
    if total > validation.MAX_MESSAGE_BYTES:
        raise batch_too_long()
    successful = []
    results = await _publish(ctx, t, [m for _, m in ok])
    for (entry_id, _), (message_id, seq) in zip(ok, results, strict=True):
        item = {"Id": entry_id, "MessageId": message_id}
        if seq is not None:
            item["SequenceNumber"] = sequence_number(seq)
        successful.append(item)
    return {"Successful": successful, "Failed": []}  # a refused entry fails the whole request (above)


async def _sqs_targets(ctx: RequestContext, t: Topic) -> dict[str, Queue | None]:
    """The local queue of each confirmed SQS subscription (None if it is gone), and of their dead-letter queues."""
    out: dict[str, Queue | None] = {}
    for sub in t.subscriptions:
        for arn in sub.queue_arns:
            if arn not in out:
                out[arn] = await sqs_queues.by_arn(ctx, arn)
    return out


async def _publish(ctx: RequestContext, t: Topic, msgs: list[Message]) -> list[tuple[str, int | None]]:
    """Deliver messages to every subscription in one transaction; (MessageId, sequence) per message."""
    fan = fanout.Fanout(t, await _sqs_targets(ctx, t), envelopes(ctx))
    if not t.fifo:
        now = msgs[0].published_at
        works = [fan.work(m, now) for m in msgs]
        await ctx.env.db.write(fanout.commit, works, now)
        return [(m.message_id, None) for m in msgs]
    # FIFO topics' notifications carry no signature (as AWS's): nothing to sign, before or inside the writer.
    return list(await ctx.env.db.write(fanout.commit_fifo, fan, msgs))
