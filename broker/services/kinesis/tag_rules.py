"""Tag rules shared by every Kinesis resource (streams, enhanced fan-out consumers, queues, channels): what a key and
a value may be, the limit of tags, and a tag change as the stores apply it (inside the writing transaction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from broker.services.kinesis.errors import invalid, too_many_tags
from broker.tags import changed

MAX_TAGS = 50

# What a store applies to a resource's current tags, in the write unit (no lost updates between requests).
TagChange: TypeAlias = Callable[[dict[str, str]], dict[str, str]]


def check_tags(tags: dict[str, str]) -> None:
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise invalid(f"Invalid tag key {key!r}: 1 to 128 characters, not starting with aws:.")
        if len(value) > 256:
            raise invalid(f"Invalid value for tag {key!r}: at most 256 characters.")
    if len(tags) > MAX_TAGS:
        raise too_many_tags("stream", MAX_TAGS)


def changer(add: dict[str, str], remove: list[str], kind: str) -> TagChange:
    """TagResource / UntagResource on a consumer, queue or channel (`kind`): at most MAX_TAGS tags after."""

    def change(tags: dict[str, str]) -> dict[str, str]:
        return changed(tags, add, remove, MAX_TAGS, lambda: too_many_tags(kind, MAX_TAGS))

    return change
