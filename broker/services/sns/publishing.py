"""Amazon SNS Publish and PublishBatch: checking messages, and fanning them out to a topic's subscriptions in one
transaction (publishes to a phone number or a mobile endpoint go to sms.py and mobile.py)."""

from __future__ import annotations

from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
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


def _message(t: Topic | None, p: dict[str, Any], now: int) -> tuple[Message, int]:
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
    )
    return msg, size


async def publish(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    targets = [k for k in ("TopicArn", "TargetArn", "PhoneNumber") if p.get(k)]
    if not targets:
        raise invalid_parameter("TopicArn or TargetArn Reason: no value for required parameter")
    if len(targets) > 1:
        raise invalid_parameter(
            "TopicArn or TargetArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given"
        )
    now = clock.now_ms()
    if p.get("TopicArn") or (p.get("TargetArn") and parse_topic_arn(p["TargetArn"])):
        t = await topic(ctx, p.get("TopicArn") or p["TargetArn"], "TopicArn" if p.get("TopicArn") else "TargetArn")
        msg, _size = _message(t, p, now)
        ((message_id, seq),) = await _publish(ctx, t, [msg])
        out = {"MessageId": message_id}
        if seq is not None:
            out["SequenceNumber"] = sequence_number(seq)
        return out
    msg, _size = _message(None, p, now)
    if p.get("PhoneNumber"):
        return await sms.publish_sms(ctx, p["PhoneNumber"], msg)
    return await mobile.publish_to_endpoint(ctx, p["TargetArn"], msg)


async def publish_batch(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    entries = p.get("PublishBatchRequestEntries") or []
    if not entries:
        raise empty_batch()
    if len(entries) > MAX_BATCH_ENTRIES:
        raise too_many_batch_entries()
    seen: set[str] = set()
    for entry in entries:
        if not validation.BATCH_ID.match(entry.get("Id") or ""):
            raise invalid_batch_entry_id()
        if entry["Id"] in seen:
            raise batch_entry_ids_not_distinct()
        seen.add(entry["Id"])
    t = await topic(ctx, p["TopicArn"])
    if t.fifo:
        for entry in entries:
            if entry.get("MessageGroupId") is None:
                raise invalid_parameter("The MessageGroupId parameter is required for FIFO topics")
    now = clock.now_ms()
    ok: list[tuple[str, Message]] = []
    failed: list[dict[str, Any]] = []
    total = 0
    for entry in entries:
        try:
            msg, size = _message(t, entry, now)
        except ServiceError as e:
            failed.append({"Id": entry["Id"], "Code": e.code, "Message": e.message, "SenderFault": e.sender_fault})
            continue
        total += size
        ok.append((entry["Id"], msg))
    if total > validation.MAX_MESSAGE_BYTES:
        raise batch_too_long()
    successful = []
    if ok:
        results = await _publish(ctx, t, [m for _, m in ok])
        for (entry_id, _), (message_id, seq) in zip(ok, results, strict=True):
            item = {"Id": entry_id, "MessageId": message_id}
            if seq is not None:
                item["SequenceNumber"] = sequence_number(seq)
            successful.append(item)
    return {"Successful": successful, "Failed": failed}


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
