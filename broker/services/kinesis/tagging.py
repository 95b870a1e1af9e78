"""TagResource, UntagResource, ListTagsForResource: tags of streams, enhanced fan-out consumers, queues and
channels, by ARN."""

from __future__ import annotations

import json

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.kinesis import channels, consumers, queues, store
from broker.services.kinesis.operations import MAX_TAGS, check_tags, resolve, set_tags
from broker.services.kinesis.streams import invalid


def _kind(arn: str) -> str:
    if ":kinesis:" in arn:
        if ":queue/" in arn:
            return "queue"
        if ":channel/" in arn:
            return "channel"
        if ":stream/" in arn:
            return "consumer" if "/consumer/" in arn else "stream"
    raise invalid(f"Invalid ResourceARN {arn}: a stream, consumer, queue or channel ARN is expected.")


def _changer(add: dict[str, str], remove: list[str], what: str):  # noqa: ANN202 - the change function
    def change(tags: dict[str, str]) -> dict[str, str]:
        tags = {k: v for k, v in tags.items() if k not in remove}
        tags.update(add)
        if len(tags) > MAX_TAGS:
            raise ServiceError("LimitExceededException", f"A {what} cannot have more than {MAX_TAGS} tags.")
        return tags

    return change


async def _change(ctx: RequestContext, arn: str, add: dict[str, str], remove: list[str]) -> None:
    kind = _kind(arn)
    check_tags(add)
    if kind == "stream":
        await set_tags(ctx, await resolve(ctx, {"StreamARN": arn}, fresh=True), add, remove)
    elif kind == "consumer":
        s, row = await consumers.find(ctx, {"ConsumerARN": arn})
        await ctx.env.db.write(store.modify_consumer_tags, s.id, row["name"], _changer(add, remove, kind))
    elif kind == "queue":
        await queues.change_tags(ctx, arn, _changer(add, remove, kind))
    else:
        await channels.change_tags(ctx, arn, _changer(add, remove, kind))


async def tag_resource(ctx: RequestContext, p: dict) -> dict:
    await _change(ctx, p["ResourceARN"], p["Tags"], [])
    return {}


async def untag_resource(ctx: RequestContext, p: dict) -> dict:
    await _change(ctx, p["ResourceARN"], {}, p["TagKeys"])
    return {}


async def list_tags_for_resource(ctx: RequestContext, p: dict) -> dict:
    arn = p["ResourceARN"]
    kind = _kind(arn)
    if kind == "stream":
        tags = (await resolve(ctx, {"StreamARN": arn}, fresh=True)).tags
    elif kind == "consumer":
        tags = json.loads((await consumers.find(ctx, {"ConsumerARN": arn}))[1]["tags"])
    elif kind == "queue":
        tags = await queues.tags(ctx, arn)
    else:
        tags = await channels.tags(ctx, arn)
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
