"""Kinesis page: streams with their shards and registered consumers."""

from __future__ import annotations

from typing import Any

from broker.console.operations import Operations
from broker.console.paging import Pager
from broker.context import RequestContext
from broker.errors import ServiceError


async def gather(ctx: RequestContext, ops: Operations, page: int = 1) -> dict[str, Any]:
    names = await ops.pages(ctx, "kinesis", "ListStreams", {}, "StreamNames", "NextToken", "NextToken")
    pager = Pager(page, len(names))
    streams: list[dict[str, Any]] = []
    for name in pager.of(names):
        try:
            summary = (await ops.call(ctx, "kinesis", "DescribeStreamSummary", {"StreamName": name}))[
                "StreamDescriptionSummary"
            ]
            # One page: a ListShards with NextToken may not name the stream, and 10,000 shards is the page limit.
            listed = await ops.call(ctx, "kinesis", "ListShards", {"StreamName": name, "MaxResults": 10000})
            shards = listed.get("Shards") or []
            consumers = await ops.pages(
                ctx,
                "kinesis",
                "ListStreamConsumers",
                {"StreamARN": summary["StreamARN"]},
                "Consumers",
                "NextToken",
                "NextToken",
            )
        except ServiceError:
            continue  # deleted since it was listed
        for shard in shards:
            shard["Open"] = "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {})
        streams.append({"name": name, "summary": summary, "shards": shards, "consumers": consumers})
    return {"streams": streams, "pager": pager}
