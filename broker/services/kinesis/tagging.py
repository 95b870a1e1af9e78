"""TagResource, UntagResource, ListTagsForResource: tags of streams, enhanced fan-out consumers, queues and
channels, by ARN."""

from __future__ import annotations

import json
from typing import Any

from broker.context import RequestContext
from broker.services.kinesis import consumers, resources, store
from broker.services.kinesis.errors import invalid
from broker.services.kinesis.lookup import resolve_arn
from broker.services.kinesis.stream_settings import set_tags
from broker.services.kinesis.tag_rules import changer, check_tags

_ATTACHED = {"queue": resources.QUEUE, "channel": resources.CHANNEL}


def _kind(arn: str) -> str:
    if ":kinesis:" in arn:
        if ":queue/" in arn:
            return "queue"
        if ":channel/" in arn:
            return "channel"
        if ":stream/" in arn:
            return "consumer" if "/consumer/" in arn else "stream"
    raise invalid(f"Invalid ResourceARN {arn}: a stream, consumer, queue or channel ARN is expected.")


async def _change(ctx: RequestContext, arn: str, add: dict[str, str], remove: list[str]) -> None:
    kind = _kind(arn)
    check_tags(add)
    if kind == "stream":
        await set_tags(ctx, await resolve_arn(ctx, arn), add, remove)
    elif kind == "consumer":
        s, row = await consumers.find(ctx, {"ConsumerARN": arn})
        await ctx.env.db.write(store.modify_consumer_tags, s.id, row["name"], changer(add, remove, kind))
    else:
        await resources.change_tags(ctx, _ATTACHED[kind], arn, changer(add, remove, kind))


async def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _change(ctx, p["ResourceARN"], p["Tags"], [])
    return {}


async def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _change(ctx, p["ResourceARN"], {}, p["TagKeys"])
    return {}


async def list_tags_for_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["ResourceARN"]
    kind = _kind(arn)
    tags: dict[str, str]
    if kind == "stream":
        tags = (await resolve_arn(ctx, arn)).tags
    elif kind == "consumer":
        tags = json.loads((await consumers.find(ctx, {"ConsumerARN": arn}))[1]["tags"])
    else:
        tags = await resources.tags(ctx, _ATTACHED[kind], arn)
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
