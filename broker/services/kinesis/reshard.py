"""Resharding: the SplitShard, MergeShards and UpdateShardCount operations, and the write units that carry them out
as lineage of closed parents and open children.

Each runs as one write unit on fresh shard rows, so concurrent reshards and puts see one order. A split closes its
parent and opens two children; a merge closes two adjacent shards and opens one child with both as parents.
UpdateShardCount (UNIFORM_SCALING) is planned as AWS performs it: splits at every new boundary, then merges of the
pieces of each new range, so every child lists exactly the shards whose keys it continues (at most two parents),
and readers that finish parents before children keep per-key order. Intermediate shards are closed at once (empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.kinesis import store
from broker.services.kinesis.errors import (
    invalid,
    scale_down_limit,
    scale_up_limit,
    shard_limit_exceeded,
    shard_not_open,
    validation,
)
from broker.services.kinesis.lookup import active
from broker.services.kinesis.stream_operations import SHARD_LIMIT, updating_until
from broker.services.kinesis.streams import HASH_SPACE, STREAMS, Row, even_ranges, shard_id, shard_index
from broker.storage.db import Tx


@dataclass
class Piece:
    idx: int
    start: int
    end: int


class Plan:
    """New shard rows and shards to close, numbered from the stream's next shard index."""

    def __init__(self, next_idx: int) -> None:
        self.next_idx = next_idx
        self.new: list[Row] = []
        self.close: list[int] = []

    def child(self, start: int, end: int, parent: int, adjacent: int | None = None) -> Piece:
        piece = Piece(self.next_idx, start, end)
        self.new.append({"idx": piece.idx, "parent": parent, "adjacent_parent": adjacent, "start": start, "end": end})
        self.next_idx += 1
        return piece

    def split(self, piece: Piece, key: int) -> tuple[Piece, Piece]:
        self.close.append(piece.idx)
        return self.child(piece.start, key - 1, piece.idx), self.child(key, piece.end, piece.idx)

    def merge(self, a: Piece, b: Piece) -> Piece:
        self.close += [a.idx, b.idx]
        return self.child(a.start, b.end, a.idx, b.idx)


def _open(tx: Tx, stream_id: int) -> list[Piece]:
    return sorted(
        (
            Piece(r["idx"], int(r["hash_start"]), int(r["hash_end"]))
            for r in store.shards(tx.conn, stream_id)
            if r["closed_at"] is None
        ),
        key=lambda p: p.start,
    )


def _find(pieces: list[Piece], idx: int | None, name: str) -> Piece:
    for p in pieces:
        if p.idx == idx:
            return p
    raise shard_not_open(name)


def split(tx: Tx, stream_id: int, idx: int | None, name: str, key: int, now: int, until: int, limit: int) -> None:
    store.lock_stream(tx, stream_id)
    pieces = _open(tx, stream_id)
    parent = _find(pieces, idx, name)
    if not parent.start < key <= parent.end:
        raise invalid(
            f"NewStartingHashKey {key} used in SplitShard() on shard {shard_id(parent.idx)} is not both greater "
            f"than the shard's StartingHashKey {parent.start} and less than or equal to its EndingHashKey "
            f"{parent.end}."
        )
    _check_limit(tx, stream_id, 1, limit)
    plan = Plan(store.next_shard(tx.conn, stream_id))
    plan.split(parent, key)
    store.apply_reshard(tx, stream_id, plan.new, plan.close, plan.next_idx, now, until)


def merge(tx: Tx, stream_id: int, a: int | None, a_name: str, b: int | None, b_name: str, now: int, until: int) -> None:
    store.lock_stream(tx, stream_id)
    pieces = _open(tx, stream_id)
    first, second = _find(pieces, a, a_name), _find(pieces, b, b_name)
    if first.end + 1 == second.start:
        lo, hi = first, second
    elif second.end + 1 == first.start:
        lo, hi = second, first
    else:
        raise invalid(f"Shards {a_name} and {b_name} are not adjacent.")
    plan = Plan(store.next_shard(tx.conn, stream_id))
    child = plan.merge(lo, hi)
    # The child names ShardToMerge as its parent and AdjacentShardToMerge as the adjacent one, as AWS does.
    plan.new[-1].update(parent=first.idx, adjacent_parent=second.idx, start=child.start, end=child.end)
    store.apply_reshard(tx, stream_id, plan.new, plan.close, plan.next_idx, now, until)


def uniform(tx: Tx, stream_id: int, target: int, now: int, until: int, limit: int) -> int:
    """UpdateShardCount: returns the open shard count before."""
    store.lock_stream(tx, stream_id)
    pieces = _open(tx, stream_id)
    current = len(pieces)
    if target > 2 * current:
        raise scale_up_limit(current, target)
    if 2 * target < current:
        raise scale_down_limit(current, target)
    ranges = even_ranges(target)
    if [(p.start, p.end) for p in pieces] == ranges:
        return current  # already uniform at that count
    _check_limit(tx, stream_id, target - current, limit)
    plan = Plan(store.next_shard(tx.conn, stream_id))
    cuts = [start for start, _ in ranges[1:]]
    split_pieces: list[Piece] = []
    for piece in pieces:
        for key in [c for c in cuts if piece.start < c <= piece.end]:
            left, piece = plan.split(piece, key)
            split_pieces.append(left)
        split_pieces.append(piece)
    for start, end in ranges:
        inside = [p for p in split_pieces if start <= p.start and p.end <= end]
        acc = inside[0]
        for nxt in inside[1:]:
            acc = plan.merge(acc, nxt)
    # Pieces made and then split or merged again in the same plan were never open: they close at once.
    store.apply_reshard(tx, stream_id, plan.new, plan.close, plan.next_idx, now, until)
    return current


def _check_limit(tx: Tx, stream_id: int, more: int, limit: int) -> None:
    if more <= 0:
        return
    account, region = store.stream_scope(tx.conn, stream_id)
    shards, _ = store.open_shard_count(tx.conn, account, region)
    if shards + more > limit:
        raise shard_limit_exceeded(account, region, shards, limit)


# -- operations --------------------------------------------------------------------------------------------------
def _hash_key(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) >= HASH_SPACE:
        raise invalid(f"NewStartingHashKey {text} is not a hash key: an integer from 0 to {HASH_SPACE - 1}.")
    return int(text)


async def split_shard(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    name = p["ShardToSplit"]
    key = _hash_key(p["NewStartingHashKey"])
    await ctx.env.db.write(split, s.id, shard_index(name), name, key, clock.now_ms(), updating_until(ctx), SHARD_LIMIT)
    ctx.env.get(STREAMS).drop(s.cache_key)
    return {}


async def merge_shards(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    a, b = p["ShardToMerge"], p["AdjacentShardToMerge"]
    await ctx.env.db.write(merge, s.id, shard_index(a), a, shard_index(b), b, clock.now_ms(), updating_until(ctx))
    ctx.env.get(STREAMS).drop(s.cache_key)
    return {}


async def update_shard_count(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s = await active(ctx, p)
    if s.mode == "ON_DEMAND":
        raise validation("UpdateShardCount is not supported for on-demand streams.")
    target = p["TargetShardCount"]
    current = await ctx.env.db.write(uniform, s.id, target, clock.now_ms(), updating_until(ctx), SHARD_LIMIT)
    ctx.env.get(STREAMS).drop(s.cache_key)
    return {"StreamName": s.name, "StreamARN": s.arn, "CurrentShardCount": current, "TargetShardCount": target}


HANDLERS = {
    "SplitShard": split_shard,
    "MergeShards": merge_shards,
    "UpdateShardCount": update_shard_count,
}
