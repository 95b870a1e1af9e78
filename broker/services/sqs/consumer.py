"""SQS as another service consumes it in-process (Lambda's event source mappings): receive a batch the way
ReceiveMessage does (visibility timeout, FIFO group order, dead-letter redrive), see each message with all its
attributes, delete by receipt handle, and the key a commit wakes when messages arrive."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.sqs import message_operations as ops
from broker.services.sqs import receive_store, redrive
from broker.services.sqs.message_store import waiters_key
from broker.services.sqs.queues import Queue, by_arn

__all__ = ["Queue", "by_arn", "receive", "messages", "delete", "wake_key", "next_visible"]


async def receive(ctx: RequestContext, queue: Queue, n: int) -> list[dict[str, Any]]:
    """Up to `n` messages, hidden for the queue's visibility timeout; no waiting."""
    dead_letter = await redrive.dead_letter_target(ctx, queue)
    return await ops.receive_rows(ctx, queue, n, queue.visibility_timeout, 0, dead_letter, None)


def messages(queue: Queue, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as ReceiveMessage answers them with every system and message attribute."""
    return [ops.message_view(queue, r, {"All"}, ["All"]) for r in rows]


async def delete(ctx: RequestContext, queue: Queue, handles: list[str]) -> None:
    """Delete by receipt handle; a handle that expired (FIFO) deletes nothing, as DeleteMessage."""
    if handles:
        await ops.delete_handles(ctx, queue, [ops.parse_handle(queue, h) for h in handles])


def wake_key(queue: Queue) -> str:
    return waiters_key(queue.id)


async def next_visible(ctx: RequestContext, queue: Queue) -> int | None:
    """When the next hidden or delayed message becomes visible (ms, broker clock), if any."""
    return await ctx.env.db.read(receive_store.next_due, queue.id, clock.now_ms())
