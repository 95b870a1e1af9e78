"""SQS operations on queues: creating, finding, listing, deleting and purging them, their attributes and tags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from broker import clock
from broker.context import RequestContext
from broker.services.sqs import message_store, redrive, store, sweep_store, validation
from broker.services.sqs.errors import (
    invalid_attribute_value,
    invalid_parameter,
    queue_does_not_exist,
    too_many_tags,
    unknown_attribute,
)
from broker.services.sqs.message_store import waiters_key
from broker.services.sqs.queues import Queue, cache_key, load, lookup, name_page, queue_url, resolve
from broker.storage.db import Tx


async def create_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["QueueName"]
    raw = p.get("Attributes") or {}
    fifo = validation.is_fifo_request(raw)
    validation.check_queue_name(name, fifo)
    attrs = validation.normalize_attributes(raw, creating=True, fifo=fifo)
    _check_fifo_settings(attrs)
    arn = f"arn:aws:sqs:{ctx.region}:{ctx.account}:{name}"
    await redrive.check_redrive_policy(ctx, arn, fifo, attrs.get("RedrivePolicy"))
    tags = p.get("tags") or {}
    _check_tags(tags)
    now = clock.now_ms()
    await ctx.env.db.write(_create, ctx.account, ctx.region, name, attrs, tags, now, fifo)
    return {"QueueUrl": queue_url(ctx, ctx.account, name)}


def _check_fifo_settings(attrs: dict[str, str]) -> None:
    if attrs.get("FifoThroughputLimit") == "perMessageGroupId" and attrs.get("DeduplicationScope") == "queue":
        raise invalid_attribute_value(
            "Invalid value for the parameter FifoThroughputLimit. Reason: perMessageGroupId requires "
            "DeduplicationScope messageGroup."
        )


def _create(
    tx: Tx,
    account: str,
    region: str,
    name: str,
    attrs: dict[str, str],
    tags: dict[str, str],
    now: int,
    fifo: bool,
) -> dict[str, Any]:
    row, created = store.create_queue(tx, account, region, name, attrs, tags, now, fifo)
    if created:
        tx.wake(cache_key(account, region, name))
    return row


async def get_queue_url(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    account = p.get("QueueOwnerAWSAccountId") or ctx.account
    queue = await lookup(ctx, account, p["QueueName"], "sqs:GetQueueUrl")
    return {"QueueUrl": queue_url(ctx, queue.account, queue.name)}


async def list_queues(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    prefix = p.get("QueueNamePrefix") or ""
    possible = len(prefix) <= 80 and validation.QUEUE_NAME_CHARS.match(prefix)  # else no name starts like that

    def fetch(conn: Connection, after: str | None, limit: int) -> list[str]:
        return store.list_queues(conn, ctx.account, ctx.region, prefix, after, limit) if possible else []

    names, token = await name_page(ctx, p, fetch)
    out: dict[str, Any] = {}
    if names:
        out["QueueUrls"] = [queue_url(ctx, ctx.account, n) for n in names]
    if token:
        out["NextToken"] = token
    return out


async def delete_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await _fresh(ctx, p["QueueUrl"], "sqs:DeleteQueue")
    await ctx.env.db.write(_delete_queue, queue, clock.now_ms())
    return {}


def _delete_queue(tx: Tx, queue: Queue, now: int) -> None:
    store.delete_queue(tx, queue.id, queue.account, queue.region, queue.name, now)
    tx.wake(queue.cache_key)
    tx.wake(waiters_key(queue.id))


async def _fresh(ctx: RequestContext, url: str, action: str) -> Queue:
    """The queue as stored now (not from the cache): for operations that read or change its attributes."""
    queue = await resolve(ctx, url, action)
    fresh = await load(ctx, queue.account, queue.region, queue.name)
    if fresh is None:
        raise queue_does_not_exist()
    return fresh


async def get_queue_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    names = p.get("AttributeNames") or []
    for n in names:
        if n != "All" and n not in validation.READABLE:
            raise unknown_attribute(n)
    queue = await _fresh(ctx, p["QueueUrl"], "sqs:GetQueueAttributes")
    wanted = set(validation.READABLE) if "All" in names else set(names)
    if not wanted:
        return {}
    out: dict[str, str] = {}
    for k, v in queue.attrs.items():
        if k in wanted:
            out[k] = v
    if "KmsMasterKeyId" in queue.attrs and "KmsDataKeyReusePeriodSeconds" in wanted:
        out.setdefault("KmsDataKeyReusePeriodSeconds", "300")
    if wanted & {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    }:
        counts = await ctx.env.db.read(message_store.counts, queue.id, clock.now_ms())
        out.update({k: str(v) for k, v in counts.items() if k in wanted})
    if "CreatedTimestamp" in wanted:
        out["CreatedTimestamp"] = str(queue.created_at // 1000)
    if "LastModifiedTimestamp" in wanted:
        out["LastModifiedTimestamp"] = str(queue.modified_at // 1000)
    if "QueueArn" in wanted:
        out["QueueArn"] = queue.arn
    return {"Attributes": out} if out else {}


async def set_queue_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await _fresh(ctx, p["QueueUrl"], "sqs:SetQueueAttributes")
    changes = validation.normalize_attributes(p.get("Attributes") or {}, creating=False, fifo=queue.fifo)
    _check_fifo_settings({**queue.attrs, **changes})
    if changes.get("RedrivePolicy"):
        await redrive.check_redrive_policy(ctx, queue.arn, queue.fifo, changes["RedrivePolicy"])
    if changes:
        await ctx.env.db.write(_set_attributes, queue, changes, clock.now_ms())
    return {}


def _set_attributes(tx: Tx, queue: Queue, changes: dict[str, str], now: int) -> None:
    store.set_attributes(tx, queue.id, changes, now)
    tx.wake(queue.cache_key)
    tx.wake(waiters_key(queue.id))  # long polls re-read the queue's settings


async def purge_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await resolve(ctx, p["QueueUrl"], "sqs:PurgeQueue")
    await ctx.env.db.write(sweep_store.purge, queue.id, clock.now_ms())
    return {}


def _check_tags(tags: dict[str, str]) -> None:
    if len(tags) > 50:
        raise too_many_tags()
    for k, v in tags.items():
        if validation.INVALID_BODY_CHAR.search(k + v):
            raise invalid_parameter(f"Tag '{k}' contains invalid characters.")
        if not 1 <= len(k) <= 128:
            raise invalid_parameter(f"Tag key '{k}' must be between 1 and 128 characters long.")
        if len(v) > 256:
            raise invalid_parameter(f"Tag value for key '{k}' must be at most 256 characters long.")


async def tag_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = p["Tags"]
    _check_tags(tags)
    queue = await resolve(ctx, p["QueueUrl"], "sqs:TagQueue")
    await ctx.env.db.write(store.change_tags, queue.id, tags, [])
    return {}


async def untag_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await resolve(ctx, p["QueueUrl"], "sqs:UntagQueue")
    keys = [k for k in p["TagKeys"] if not validation.INVALID_BODY_CHAR.search(k)]
    await ctx.env.db.write(store.change_tags, queue.id, {}, keys)
    return {}


async def list_queue_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await resolve(ctx, p["QueueUrl"], "sqs:ListQueueTags")
    tags = await ctx.env.db.read(store.get_tags, queue.id)
    return {"Tags": tags} if tags else {}
