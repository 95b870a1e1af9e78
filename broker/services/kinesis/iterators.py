"""Shard iterators and pagination tokens: self-contained strings, so any worker process or node can serve them.

An iterator names the stream (row id and creation time, so a re-created stream of the same name does not accept
it; account, region and name, so GetRecords checks the stream's policy without a database read), the shard, the
position (the counter of the last record read, -1 before the first) and when it was issued: AWS's iterators expire
after 5 minutes. An HMAC with the server key every process holds (the STS server key, under its own label) makes
it unforgeable: without it a caller could name any stream and position.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from broker import paging
from broker.auth.temporary import SESSION_KEYS
from broker.services.kinesis.errors import invalid, invalid_next_token, iterator_expired, next_token_expired

if TYPE_CHECKING:
    from broker.services.base import Env

PREFIX = "AAAAAAAAAAE"  # how AWS's iterators start
_LABEL = b"kinesis-iterator\x00"  # the server key also authenticates session tokens: a separate domain
_MAC_BYTES = 32
ITERATOR_TTL_MS = 300_000
TOKEN_TTL_MS = 300_000


@dataclass(frozen=True, slots=True)
class Position:
    stream_id: int
    created_at: int
    shard: int
    after: int  # counter of the last record read; -1: before the first
    issued_at: int


@dataclass(frozen=True, slots=True)
class ShardIterator:
    position: Position
    account: str
    region: str
    name: str


def encode(env: Env, it: ShardIterator) -> str:
    pos = it.position
    fields = (pos.stream_id, pos.created_at, pos.shard, pos.after, pos.issued_at, it.account, it.region, it.name)
    payload = ":".join(map(str, fields)).encode()
    return PREFIX + base64.urlsafe_b64encode(payload + _mac(env, payload)).decode()


def decode(env: Env, text: str, now: int) -> ShardIterator:
    """The iterator `text` is (InvalidArgumentException when it is not one this broker issued, or was altered)."""
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1]  # AWS accepts an iterator still wrapped in the JSON quotes a shell script kept
    try:
        if not text.startswith(PREFIX):
            raise ValueError("not an iterator")
        raw = base64.urlsafe_b64decode(text[len(PREFIX) :].encode())
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not payload or not hmac.compare_digest(mac, _mac(env, payload)):
            raise ValueError("forged or altered")
        *numbers, account, region, name = payload.decode().split(":")
        stream_id, created_at, shard, after, issued = (int(x) for x in numbers)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid("Invalid ShardIterator.") from None
    if now - issued > ITERATOR_TTL_MS:
        raise iterator_expired(issued)
    return ShardIterator(Position(stream_id, created_at, shard, after, issued), account, region, name)


def _mac(env: Env, payload: bytes) -> bytes:
    return hmac.digest(env.get(SESSION_KEYS).key, _LABEL + payload, "sha256")  # one-shot: half hmac.new's time


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
