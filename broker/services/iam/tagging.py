"""IAM tags: at most 50 per role, user or policy; keys are unique regardless of case (a tag added with an existing
key in another case replaces it); kept in the order they were added."""

from __future__ import annotations

import json
from collections.abc import Iterable

from broker.services.iam.errors import duplicate_tag_keys, quota

LIMIT = 50
Tags = list[tuple[str, str]]


def load(text: str) -> Tags:
    return [(k, v) for k, v in json.loads(text)]


def dump(tags: Tags) -> str:
    return json.dumps([[k, v] for k, v in tags])


def output(tags: Tags) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def from_request(tags: Iterable[dict[str, str]] | None) -> Tags:
    """The tags of a request (InvalidInput when two keys differ only in case, or not at all)."""
    out = [(t["Key"], t["Value"]) for t in tags or []]
    if len({k.lower() for k, _ in out}) != len(out):
        raise duplicate_tag_keys()
    return out


def added(tags: Tags, new: Tags, quota_name: str) -> Tags:
    out = list(tags)
    for k, v in new:
        at = next((i for i, (old, _) in enumerate(out) if old.lower() == k.lower()), None)
        if at is None:
            out.append((k, v))
        else:
            out[at] = (k, v)
    if len(out) > LIMIT:
        raise quota(quota_name, LIMIT)
    return out


def removed(tags: Tags, keys: Iterable[str]) -> Tags:
    gone = {k.lower() for k in keys}
    return [(k, v) for k, v in tags if k.lower() not in gone]
