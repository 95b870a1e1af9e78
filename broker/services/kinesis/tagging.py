"""TagResource, UntagResource, ListTagsForResource: tags of streams and of enhanced fan-out consumers, by ARN."""

from __future__ import annotations

import json

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.kinesis import consumers, store
from broker.services.kinesis.operations import MAX_TAGS, check_tags, resolve, set_tags
from broker.services.kinesis.streams import invalid


def _is_consumer(arn: str) -> bool:
    return "/consumer/" in arn


async def _change_consumer_tags(ctx: RequestContext, arn: str, add: dict[str, str], remove: list[str]) -> None:
    s, row = await consumers.find(ctx, {"ConsumerARN": arn})
    check_tags(add)

    def change(tags: dict[str, str]) -> dict[str, str]:
        tags = {k: v for k, v in tags.items() if k not in remove}
        tags.update(add)
        if len(tags) > MAX_TAGS:
            raise ServiceError("LimitExceededException", f"A consumer cannot have more than {MAX_TAGS} tags.")
        return tags

    await ctx.runtime.db.write(store.modify_consumer_tags, s.id, row["name"], change)


def _check_arn(arn: str) -> None:
    if ":kinesis:" not in arn or ":stream/" not in arn:
        raise invalid(f"Invalid ResourceARN {arn}: a stream or consumer ARN is expected.")


async def tag_resource(ctx: RequestContext, p: dict) -> dict:
    _check_arn(p["ResourceARN"])
    if _is_consumer(p["ResourceARN"]):
        await _change_consumer_tags(ctx, p["ResourceARN"], p["Tags"], [])
    else:
        await set_tags(ctx, await resolve(ctx, {"StreamARN": p["ResourceARN"]}, fresh=True), p["Tags"], [])
    return {}


async def untag_resource(ctx: RequestContext, p: dict) -> dict:
    _check_arn(p["ResourceARN"])
    if _is_consumer(p["ResourceARN"]):
        await _change_consumer_tags(ctx, p["ResourceARN"], {}, p["TagKeys"])
    else:
        await set_tags(ctx, await resolve(ctx, {"StreamARN": p["ResourceARN"]}, fresh=True), {}, p["TagKeys"])
    return {}


async def list_tags_for_resource(ctx: RequestContext, p: dict) -> dict:
    _check_arn(p["ResourceARN"])
    if _is_consumer(p["ResourceARN"]):
        _, row = await consumers.find(ctx, {"ConsumerARN": p["ResourceARN"]})
        tags = json.loads(row["tags"])
    else:
        tags = (await resolve(ctx, {"StreamARN": p["ResourceARN"]}, fresh=True)).tags
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
