"""Shard iterators and pagination tokens: self-contained strings, so any worker process or node can serve them.

An iterator names the stream (row id and creation time, so a re-created stream of the same name does not accept
it), the shard, the position (the counter of the last record read, -1 before the first) and when it was issued:
AWS's iterators expire after 5 minutes.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from broker import paging
from broker.services.kinesis.errors import invalid, invalid_next_token, iterator_expired, next_token_expired
from broker.services.kinesis.streams import MAX_COUNTER

ITERATOR_TTL_MS = 300_000
TOKEN_TTL_MS = 300_000


@dataclass(frozen=True, slots=True)
class Position:
    stream_id: int
    created_at: int
    shard: int
    after: int  # counter of the last record read; -1: before the first
    issued_at: int


def encode(pos: Position) -> str:
    raw = f"{pos.stream_id}:{pos.created_at}:{pos.shard}:{pos.after}:{pos.issued_at}".encode()
    return "AAAAAAAAAAE" + base64.urlsafe_b64encode(raw).decode()


def decode(text: str, now: int) -> Position:
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1]  # AWS accepts an iterator still wrapped in the JSON quotes a shell script kept
    try:
        raw = base64.urlsafe_b64decode(text.removeprefix("AAAAAAAAAAE").encode()).decode()
        stream_id, created_at, shard, after, issued = (int(x) for x in raw.split(":"))
        if not all(-2 < v < MAX_COUNTER for v in (stream_id, created_at, shard, after, issued)):
            raise ValueError("out of range")  # a forged iterator must not reach the database as a huge integer
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid(f"Invalid ShardIterator {text[:64]}.") from None
    if now - issued > ITERATOR_TTL_MS:
        raise iterator_expired(issued)
    return Position(stream_id, created_at, shard, after, issued)


def encode_token(state: dict[str, Any], now: int) -> str:
    return paging.encode({**state, "t": now})


def decode_token(text: str, now: int) -> dict[str, Any]:
    state = paging.decode(text)
    try:
        issued = int(state.pop("t")) if state is not None else None
    except (KeyError, TypeError, ValueError):
        issued = None
    if state is None or issued is None:
        raise invalid_next_token()
    if now - issued > TOKEN_TTL_MS:
        raise next_token_expired()
    return state
