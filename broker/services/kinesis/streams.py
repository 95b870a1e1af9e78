"""Streams and shards as requests need them: names, ids and ARNs, the hash key space, sequence numbers, shard ids,
statuses that end by themselves, wake keys, and a per-process cache of each stream with its open shards (dropped in
every process when the stream changes)."""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from broker.cache import TtlCache
from broker.services.base import Slot
from broker.services.kinesis.errors import invalid, no_open_shard

Row: TypeAlias = dict[str, Any]  # a row as store functions return it

HASH_SPACE = 1 << 128
CACHE_PREFIX = "kinesis:cache:"
STREAMS: Slot[TtlCache[Stream]] = Slot("kinesis.streams")  # definitions by cache_key, per process
WAKE_PREFIX = "kinesis:shard:"  # + stream row id:shard idx — records added, shard closed or stream deleted
ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream/([a-zA-Z0-9_.-]{1,128})$")
SEQ_PREFIX = "49"
SEQ_DIGITS = 56  # as long as AWS's
_IDX_DIGITS = 10
MAX_COUNTER = 1 << 62  # counters and ids are 64-bit integers in the database


def stream_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def stream_arn_of(stream: Row) -> str:
    """The ARN of a stream row (or of a dict with its account, region and name; a deleted one's name is "~<id>")."""
    return stream_arn(stream["region"], stream["account"], stream["name"].split("~")[-1])


def random_id(length: int) -> str:
    """Lower-case letters and digits, as AWS's stream, queue and channel ids (unique enough, not secret)."""
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=length))


def parse_arn(arn: str) -> tuple[str, str, str]:
    """(region, account, name) of a stream ARN."""
    m = ARN.match(arn)
    if m is None:
        raise invalid(f"Invalid StreamARN {arn}.")
    return m.group(1), m.group(2), m.group(3)


def shard_wake_key(stream_id: int, idx: int) -> str:
    return f"{WAKE_PREFIX}{stream_id}:{idx}"


def consumer_wake_key(stream_id: int, name: str) -> str:
    """Woken when a consumer is deregistered: its subscriptions end."""
    return f"kinesis:consumer:{stream_id}:{name}"


def shard_id(idx: int) -> str:
    return f"shardId-{idx:012d}"


def shard_index(text: str) -> int | None:
    """The index of a shard id (AWS also accepts the bare number), or None when it is not one."""
    digits = text[8:] if text.startswith("shardId-") else text
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 12 else None


def sequence_number(idx: int, counter: int) -> str:
    """Sequence numbers increase within a shard and are larger in a child shard than in its parents."""
    return f"{SEQ_PREFIX}{idx:0{_IDX_DIGITS}d}{counter:0{SEQ_DIGITS - 2 - _IDX_DIGITS}d}"


def parse_sequence(text: str) -> tuple[int, int] | None:
    """(shard index, counter) of a sequence number this broker issued, else None."""
    if len(text) != SEQ_DIGITS or not text.startswith(SEQ_PREFIX) or not (text.isascii() and text.isdigit()):
        return None
    idx, counter = int(text[2 : 2 + _IDX_DIGITS]), int(text[2 + _IDX_DIGITS :])
    return (idx, counter) if counter < MAX_COUNTER and idx < MAX_COUNTER else None


def hash_text(value: int) -> str:
    """A hash key as stored: zero-padded, so text order is numeric order."""
    return f"{value:039d}"


def even_ranges(count: int) -> list[tuple[int, int]]:
    """The hash key ranges of `count` shards that split the key space evenly, as AWS creates them."""
    starts = [i * HASH_SPACE // count for i in range(count)]
    return [(s, (starts[i + 1] if i + 1 < count else HASH_SPACE) - 1) for i, s in enumerate(starts)]


def partition_hash(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")  # AWS's routing, not security


@dataclass(slots=True)
class Stream:
    id: int
    account: str
    region: str
    name: str
    stream_id: str
    mode: str
    status: str
    status_until: int
    retention_hours: int
    encryption: str
    key_id: str | None
    metrics: list[str]
    tags: dict[str, str]
    attrs: dict[str, Any]
    next_shard: int
    created_at: int
    # Open shards, ordered by the start of their hash key range: (start, end, idx).
    open_shards: list[tuple[int, int, int]] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: Row, open_shards: list[tuple[int, int, int]]) -> Stream:
        shards = sorted(open_shards)
        return cls(
            id=row["id"],
            account=row["account"],
            region=row["region"],
            name=row["name"],
            stream_id=row["stream_id"],
            mode=row["mode"],
            status=row["status"],
            status_until=row["status_until"],
            retention_hours=row["retention_hours"],
            encryption=row["encryption"],
            key_id=row["key_id"],
            metrics=json.loads(row["metrics"]),
            tags=json.loads(row["tags"]),
            attrs=json.loads(row["attributes"]),
            next_shard=row["next_shard"],
            created_at=row["created_at"],
            open_shards=shards,
            _starts=[s[0] for s in shards],
        )

    @property
    def arn(self) -> str:
        return stream_arn(self.region, self.account, self.name)

    @property
    def cache_key(self) -> str:
        return cache_key(self.account, self.region, self.name)

    def status_at(self, now: int) -> str:
        return status_at(self.status, self.status_until, now)

    @property
    def auto_distribution(self) -> bool:
        return self.mode == "ON_DEMAND" and self.attrs.get("RecordDistributionStrategy") == "AUTO"

    @property
    def max_record_bytes(self) -> int:
        return int(self.attrs.get("MaxRecordSizeInKiB", 1024)) * 1024

    def shard_for(self, hash_key: int) -> int:
        """The open shard whose hash key range holds `hash_key`."""
        i = bisect.bisect_right(self._starts, hash_key) - 1
        start, end, idx = self.open_shards[i]
        if not start <= hash_key <= end:  # pragma: no cover - open shards always cover the whole key space
            raise no_open_shard()
        return idx


def status_at(status: str, until: int, now: int) -> str:
    """CREATING and UPDATING (streams, consumers) last until `until` (a setting; AWS takes seconds to minutes)."""
    return "ACTIVE" if status in ("CREATING", "UPDATING") and now >= until else status


def row_status(row: Row, now: int) -> str:
    """The status of a stream, consumer, queue or channel row (its `status` and `status_until`) at `now`."""
    return status_at(row["status"], row["status_until"], now)


def cache_key(account: str, region: str, name: str) -> str:
    return f"{CACHE_PREFIX}{account}:{region}:{name}"
