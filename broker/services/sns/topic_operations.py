"""Amazon SNS operations on topics: creating, deleting, attributes and listing, tags, permissions (the topic's
access policy) and data protection policies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.sns import delivery_policy, listing, store, validation
from broker.services.sns.arns import check_topic_arn, parse_topic_arn
from broker.services.sns.errors import (
    invalid_parameter,
    require,
    resource_not_found,
    topic_not_found,
)
from broker.services.sns.messages import timestamp
from broker.services.sns.store import Row
from broker.services.sns.topics import authorize, cache_key, topic_row
from broker.storage.db import Tx

# The actions AddPermission may grant (a topic's own API): anything else is "out of service scope".
PERMISSION_ACTIONS = frozenset(
    {
        "GetTopicAttributes",
        "SetTopicAttributes",
        "AddPermission",
        "RemovePermission",
        "DeleteTopic",
        "Subscribe",
        "ListSubscriptionsByTopic",
        "Publish",
        "Receive",
    }
)
ALL_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]


def default_policy(arn: str, account: str) -> str:
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ALL_ACTIONS,
                    "Resource": arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
                }
            ],
        }
    )


def _tags_map(tags: list[dict[str, str]] | None) -> dict[str, str]:
    tags = tags or []
    validation.check_tags(tags)
    return {t["Key"]: t.get("Value", "") for t in tags}


async def _resource_topic(
    ctx: RequestContext, arn: str, action: str, missing: Callable[[], ServiceError] = topic_not_found
) -> Row:
    """The topic a ResourceArn names (tags, data protection: actions no topic policy grants another account)."""
    _check_resource_arn(arn)
    row = await ctx.env.db.read(store.get_topic, arn)
    authorize(ctx, arn, None, action)
    return require(row, missing)


def _check_resource_arn(arn: str) -> None:
    if parse_topic_arn(arn) is None:
        raise invalid_parameter("ResourceArn")


# -- topics ----------------------------------------------------------------------------------------------------
async def create_topic(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    raw = p.get("Attributes") or {}
    fifo_flag = raw.get("FifoTopic")
    fifo = validation.boolean("FifoTopic", fifo_flag) == "true" if fifo_flag is not None else False
    validation.check_topic_name(name, fifo)  # a .fifo name without FifoTopic=true is refused, as on AWS
    attrs = {k: validation.topic_attribute(k, v, fifo) for k, v in raw.items() if k != "FifoTopic"}
    tags = _tags_map(p.get("Tags"))
    data_protection = p.get("DataProtectionPolicy")
    if data_protection:
        validation.parse_json("DataProtectionPolicy", data_protection)
    arn = f"arn:aws:sns:{ctx.region}:{ctx.account}:{name}"
    await ctx.env.db.write(_create_topic, arn, ctx.account, ctx.region, name, fifo, attrs, tags, data_protection)
    return {"TopicArn": arn}


def _create_topic(
    tx: Tx,
    arn: str,
    account: str,
    region: str,
    name: str,
    fifo: bool,
    attrs: dict[str, str],
    tags: dict[str, str],
    data_protection: str | None,
) -> None:
    store.create_topic(tx, arn, account, region, name, fifo, attrs, tags, clock.now_ms())
    if data_protection:
        store.put_data_protection_policy(tx, arn, data_protection)
    tx.wake(cache_key(arn))


async def delete_topic(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["TopicArn"]
    check_topic_arn(ctx, arn)
    if ctx.authenticated:
        row = await ctx.env.db.read(store.get_topic, arn)
        authorize(ctx, arn, json.loads(row["attributes"]).get("Policy") if row else None, "SNS:DeleteTopic")
    await ctx.env.db.write(_delete_topic, arn)
    return {}


def _delete_topic(tx: Tx, arn: str) -> None:
    store.delete_topic(tx, arn)  # deleting a topic that does not exist succeeds, as on AWS
    tx.wake(cache_key(arn))


async def get_topic_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await topic_row(ctx, p["TopicArn"], "SNS:GetTopicAttributes")
    confirmed, pending = await ctx.env.db.read(store.subscription_counts, row["arn"])
    stored = json.loads(row["attributes"])
    attrs = {
        "TopicArn": row["arn"],
        "Owner": row["account"],
        "Policy": default_policy(row["arn"], row["account"]),
        "DisplayName": "",
        "SubscriptionsConfirmed": str(confirmed),
        "SubscriptionsPending": str(pending),
        "SubscriptionsDeleted": "0",
        "EffectiveDeliveryPolicy": json.dumps(delivery_policy.effective_topic(stored)),
    }
    if row["fifo"]:  # FifoThroughputScope is listed only once it is set
        attrs.update(FifoTopic="true", ContentBasedDeduplication="false")
    attrs.update(stored)
    if stored.get("ArchivePolicy"):
        attrs["BeginningArchiveTime"] = timestamp(row["created_at"])
    return {"Attributes": attrs}


async def set_topic_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await topic_row(ctx, p["TopicArn"], "SNS:SetTopicAttributes")
    name, value = p["AttributeName"], p.get("AttributeValue") or ""
    if name == "FifoTopic":
        raise invalid_parameter("AttributeName")
    if not (value == "" and name in ("Policy", "DeliveryPolicy", "KmsMasterKeyId", "ArchivePolicy")):
        value = validation.topic_attribute(name, value, bool(row["fifo"]))
    await ctx.env.db.write(_set_topic_attributes, row["arn"], {name: value})
    return {}


def _set_topic_attributes(tx: Tx, arn: str, changes: dict[str, str]) -> None:
    store.set_topic_attributes(tx, arn, changes)
    tx.wake(cache_key(arn))


async def list_topics(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    after = listing.after_str(p.get("NextToken"))
    arns = await ctx.env.db.read(store.list_topics, ctx.account, ctx.region, after)
    shown, token = listing.page(arns, store.PAGE, lambda arn: arn)
    out: dict[str, Any] = {"Topics": [{"TopicArn": a} for a in shown]}
    if token is not None:
        out["NextToken"] = token
    return out


# -- tags, permissions, data protection ------------------------------------------------------------------------
async def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["ResourceArn"]
    tags = _tags_map(p.get("Tags"))
    await _resource_topic(ctx, arn, "SNS:TagResource", resource_not_found)
    await ctx.env.db.write(store.set_tags, arn, tags, [])
    return {}


async def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["ResourceArn"]
    await _resource_topic(ctx, arn, "SNS:UntagResource", resource_not_found)
    await ctx.env.db.write(store.set_tags, arn, {}, list(p.get("TagKeys") or []))
    return {}


async def list_tags_for_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _resource_topic(ctx, p["ResourceArn"], "SNS:ListTagsForResource", resource_not_found)
    return {"Tags": [{"Key": k, "Value": v} for k, v in json.loads(row["tags"]).items()]}


async def add_permission(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await topic_row(ctx, p["TopicArn"], "SNS:AddPermission")
    label = p["Label"]
    accounts, actions = p.get("AWSAccountId") or [], p.get("ActionName") or []
    if not accounts or not actions:
        raise invalid_parameter("AWSAccountId and ActionName must not be empty")
    if any(a not in PERMISSION_ACTIONS for a in actions):
        raise invalid_parameter("Policy statement action out of service scope!")
    policy = _access_policy(row)
    if any(s.get("Sid") == label for s in policy.get("Statement", [])):
        raise invalid_parameter("Statement already exists")
    principals = [f"arn:aws:iam::{a}:root" for a in accounts]
    policy.setdefault("Statement", []).append(
        {
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": [f"SNS:{a}" for a in actions] if len(actions) > 1 else f"SNS:{actions[0]}",
            "Resource": row["arn"],
        }
    )
    await ctx.env.db.write(_set_topic_attributes, row["arn"], {"Policy": json.dumps(policy)})
    return {}


async def remove_permission(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await topic_row(ctx, p["TopicArn"], "SNS:RemovePermission")
    policy = _access_policy(row)
    statements = policy.get("Statement", [])
    kept = [s for s in statements if s.get("Sid") != p["Label"]]
    if len(kept) != len(statements):
        policy["Statement"] = kept
        await ctx.env.db.write(_set_topic_attributes, row["arn"], {"Policy": json.dumps(policy)})
    return {}


def _access_policy(row: Row) -> dict[str, Any]:
    """The topic's Policy attribute, or the default one."""
    policy: dict[str, Any] = json.loads(
        json.loads(row["attributes"]).get("Policy") or default_policy(row["arn"], row["account"])
    )
    return policy


async def get_data_protection_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _resource_topic(ctx, p["ResourceArn"], "SNS:GetDataProtectionPolicy")
    return {"DataProtectionPolicy": row["data_protection_policy"]} if row["data_protection_policy"] else {}


async def put_data_protection_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["ResourceArn"]
    _check_resource_arn(arn)
    if ctx.authenticated:
        authorize(ctx, arn, None, "SNS:PutDataProtectionPolicy")
    validation.parse_json("DataProtectionPolicy", p["DataProtectionPolicy"])
    await ctx.env.db.write(store.put_data_protection_policy, arn, p["DataProtectionPolicy"])
    return {}
