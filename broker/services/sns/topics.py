"""Topics and their subscriptions as a publish needs them, with a per-process cache kept coherent across processes
(every change wakes `sns:cache:<topic arn>` at commit; entries also expire after a couple of seconds)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from broker.auth.resource_policy import denial, not_authorized
from broker.cache import TtlCache
from broker.context import RequestContext
from broker.services.base import Slot
from broker.services.sns import filter_policy, store
from broker.services.sns.arns import check_topic_arn
from broker.services.sns.errors import authorization_error, require, topic_not_found
from broker.services.sns.store import Row

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
    def from_row(cls, row: Row) -> Subscription:
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

    def accepts(self, attributes: dict[str, dict[str, Any]], message: str) -> bool:
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
    def from_row(cls, row: Row, subscriptions: list[Subscription]) -> Topic:
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


def _load(conn: Connection, arn: str) -> Topic | None:
    row = store.get_topic(conn, arn)
    if row is None:
        return None
    return Topic.from_row(row, [Subscription.from_row(sub) for sub in store.topic_subscriptions(conn, arn)])


async def topic(ctx: RequestContext, arn: str, member: str = "TopicArn", *, action: str | None) -> Topic:
    """The topic an ARN names (with its subscriptions), or NotFound; with an `action` ("SNS:Publish"), one the
    caller may act on (see `authorize`)."""
    check_topic_arn(ctx, arn, member)
    cache, key = ctx.env.get(TOPICS), cache_key(arn)
    found = cache.get(key) or await cache.load(key, lambda: ctx.env.db.read(_load, arn))
    if action is not None and ctx.authenticated:
        authorize(ctx, arn, found.attrs.get("Policy") if found else None, action)
    return require(found, topic_not_found)


async def topic_row(ctx: RequestContext, arn: str, action: str) -> Row:
    """The row of the topic an ARN names, read now (not from the cache), or NotFound; one the caller may `action`
    on (see `authorize`)."""
    check_topic_arn(ctx, arn)
    row = await ctx.env.db.read(store.get_topic, arn)
    if ctx.authenticated:
        authorize(ctx, arn, json.loads(row["attributes"]).get("Policy") if row else None, action)
    return require(row, topic_not_found)


def authorize(ctx: RequestContext, arn: str, policy: str | None, action: str) -> None:
    """AuthorizationError unless the caller may `action` on the topic: with auth = "sigv4", a caller of another
    account needs the topic policy's grant (a missing topic grants nothing, so another account learns nothing of
    its names); one of the owner's account is refused only by an explicit Deny."""
    if not ctx.authenticated:
        return
    reason = denial(ctx, arn.split(":")[4], policy, action, arn)
    if reason is not None:
        raise authorization_error(not_authorized(ctx.caller, action, arn, reason))
