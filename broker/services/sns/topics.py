"""Topics and their subscriptions as a publish needs them, with a per-process cache kept coherent across processes
(every change wakes `sns:cache:<topic arn>` at commit; entries also expire after a couple of seconds)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlalchemy import Connection

from broker.cache import TtlCache
from broker.context import RequestContext
from broker.services.base import Slot
from broker.services.sns import filter_policy, store
from broker.services.sns.errors import invalid_parameter, topic_not_found

TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$|^[A-Za-z0-9_-]{1,251}\.fifo$")
CACHE_PREFIX = "sns:cache:"
TOPICS: Slot[TtlCache[Topic]] = Slot("sns.topics")  # topics with their subscriptions by cache_key, per process


@dataclass(slots=True)
class Subscription:
    arn: str
    protocol: str
    endpoint: str
    owner: str
    confirmed: bool
    attrs: dict[str, str]
    raw: bool = False
    policy: filter_policy.Policy | None = None
    scope: str = "MessageAttributes"

    @classmethod
    def from_row(cls, row: dict) -> Subscription:
        attrs = json.loads(row["attributes"])
        scope = attrs.get("FilterPolicyScope", "MessageAttributes")
        text = attrs.get("FilterPolicy")
        return cls(
            arn=row["arn"],
            protocol=row["protocol"],
            endpoint=row["endpoint"],
            owner=row["owner"],
            confirmed=bool(row["confirmed"]),
            attrs=attrs,
            raw=attrs.get("RawMessageDelivery") == "true",
            policy=filter_policy.validate(text, scope) if text else None,
            scope=scope,
        )

    @property
    def queue_arns(self) -> list[str]:
        """The SQS queues this subscription may deliver to: its endpoint, and its dead-letter queue."""
        arns = [self.endpoint] if self.protocol == "sqs" else []
        if self.attrs.get("RedrivePolicy"):
            arns.append(json.loads(self.attrs["RedrivePolicy"])["deadLetterTargetArn"])
        return arns

    def accepts(self, attributes: dict[str, dict], message: str) -> bool:
        if self.policy is None:
            return True
        if self.scope == "MessageBody":
            return self.policy.matches({}, message)
        return self.policy.matches(attributes, None)


@dataclass(slots=True)
class Topic:
    id: int
    arn: str
    account: str
    region: str
    name: str
    fifo: bool
    attrs: dict[str, str]
    subscriptions: list[Subscription] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: dict, subscriptions: list[Subscription]) -> Topic:
        return cls(
            id=row["id"],
            arn=row["arn"],
            account=row["account"],
            region=row["region"],
            name=row["name"],
            fifo=bool(row["fifo"]),
            attrs=json.loads(row["attributes"]),
            subscriptions=subscriptions,
        )

    @property
    def content_dedup(self) -> bool:
        return self.attrs.get("ContentBasedDeduplication") == "true"

    @property
    def group_scope(self) -> bool:
        return self.attrs.get("FifoThroughputScope") == "MessageGroup"

    @property
    def signature_version(self) -> str:
        return self.attrs.get("SignatureVersion", "1")


def cache_key(arn: str) -> str:
    return CACHE_PREFIX + arn


def parse_topic_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of an SNS topic ARN, or None."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[1] != "aws" or parts[2] != "sns":
        return None
    if not parts[3] or not (parts[4].isdigit() and len(parts[4]) == 12) or not TOPIC_NAME.match(parts[5]):
        return None  # e.g. a platform endpoint ARN (".../endpoint/GCM/app/id") is not a topic
    return parts[3], parts[4], parts[5]


def check_topic_arn(ctx: RequestContext, arn: str, member: str = "TopicArn") -> None:
    parsed = parse_topic_arn(arn)
    if parsed is None:
        if not arn.startswith("arn"):
            raise invalid_parameter(f"{member} Reason: {arn} does not start with arn")
        raise invalid_parameter(member)
    if parsed[0] != ctx.region:
        raise invalid_parameter(member)


def _load(conn: Connection, arn: str) -> Topic | None:
    row = store.get_topic(conn, arn)
    if row is None:
        return None
    return Topic.from_row(row, [Subscription.from_row(sub) for sub in store.topic_subscriptions(conn, arn)])


async def topic(ctx: RequestContext, arn: str, member: str = "TopicArn") -> Topic:
    """The topic an ARN names (with its subscriptions), or NotFound."""
    check_topic_arn(ctx, arn, member)
    found = await ctx.env.get(TOPICS).get_or_load(cache_key(arn), lambda: ctx.env.db.read(_load, arn))
    if found is None:
        raise topic_not_found()
    return found
