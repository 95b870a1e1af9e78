"""Amazon SNS operations on topics, subscriptions and publishing: one function per AWS operation."""

from __future__ import annotations

import json
from typing import Any

from broker import clock, ids, paging
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.sns import delivery_policy, fanout, mobile, replay, store, validation
from broker.services.sns.delivery import (
    Envelopes,
    Message,
    dumps,
    http_request,
    sequence_number,
    timestamp,
)
from broker.services.sns.errors import (
    invalid_parameter,
    resource_not_found,
    subscription_not_found,
    topic_not_found,
)
from broker.services.sns.signing import SIGNER
from broker.services.sns.topics import Subscription, Topic, cache_key, check_topic_arn, parse_topic_arn, topic
from broker.services.sqs import queues as sqs_queues
from broker.services.sqs.enqueue import message_row
from broker.services.sqs.queues import Queue

PENDING = "pending confirmation"
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


def base_url(ctx: RequestContext) -> str:
    return f"http://{ctx.env.settings.public_host or ctx.host}"


def envelopes(ctx: RequestContext) -> Envelopes:
    return Envelopes(ctx.env.get(SIGNER), base_url(ctx))


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


def _tags_map(tags: list[dict] | None) -> dict[str, str]:
    tags = tags or []
    validation.check_tags(tags)
    return {t["Key"]: t.get("Value", "") for t in tags}


# -- topics ----------------------------------------------------------------------------------------------------
async def create_topic(ctx: RequestContext, p: dict) -> dict:
    name = p["Name"]
    raw = p.get("Attributes") or {}
    fifo_flag = raw.get("FifoTopic")
    if fifo_flag is not None and fifo_flag.lower() not in ("true", "false"):
        raise invalid_parameter(
            "Attributes Reason: FifoTopic: Invalid value [" + fifo_flag + "]. Must be true or false."
        )
    fifo = (fifo_flag or "").lower() == "true"
    validation.check_topic_name(name, fifo)  # a .fifo name without FifoTopic=true is refused, as on AWS
    attrs = {k: validation.topic_attribute(k, v, fifo) for k, v in raw.items() if k != "FifoTopic"}
    tags = _tags_map(p.get("Tags"))
    if p.get("DataProtectionPolicy"):
        _check_json("DataProtectionPolicy", p["DataProtectionPolicy"])
    arn = f"arn:aws:sns:{ctx.region}:{ctx.account}:{name}"
    await ctx.env.db.write(_create_topic, arn, ctx.account, ctx.region, name, fifo, attrs, tags, p)
    return {"TopicArn": arn}


def _create_topic(tx, arn, account, region, name, fifo, attrs, tags, p):  # noqa: ANN001, ANN202
    store.create_topic(tx, arn, account, region, name, fifo, attrs, tags, clock.now_ms())
    if p.get("DataProtectionPolicy"):
        store.put_data_protection_policy(tx, arn, p["DataProtectionPolicy"])
    tx.wake(cache_key(arn))


def _check_json(member: str, value: str) -> None:
    try:
        json.loads(value)
    except ValueError:
        raise invalid_parameter(f"{member}: failed to parse JSON.") from None


async def delete_topic(ctx: RequestContext, p: dict) -> dict:
    arn = p["TopicArn"]
    check_topic_arn(ctx, arn)
    await ctx.env.db.write(_delete_topic, arn)
    return {}


def _delete_topic(tx, arn):  # noqa: ANN001, ANN202
    store.delete_topic(tx, arn)  # deleting a topic that does not exist succeeds, as on AWS
    tx.wake(cache_key(arn))


async def _topic_row(ctx: RequestContext, arn: str) -> dict:
    check_topic_arn(ctx, arn)
    row = await ctx.env.db.read(store.get_topic, arn)
    if row is None:
        raise topic_not_found()
    return row


async def get_topic_attributes(ctx: RequestContext, p: dict) -> dict:
    row = await _topic_row(ctx, p["TopicArn"])
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
    if row["fifo"]:
        attrs.update(FifoTopic="true", ContentBasedDeduplication="false", FifoThroughputScope="Topic")
    attrs.update(stored)
    if stored.get("ArchivePolicy"):
        attrs["BeginningArchiveTime"] = timestamp(row["created_at"])
    return {"Attributes": attrs}


async def set_topic_attributes(ctx: RequestContext, p: dict) -> dict:
    row = await _topic_row(ctx, p["TopicArn"])
    name, value = p["AttributeName"], p.get("AttributeValue") or ""
    if name == "FifoTopic":
        raise invalid_parameter("AttributeName")
    if not (value == "" and name in ("Policy", "DeliveryPolicy", "KmsMasterKeyId", "ArchivePolicy")):
        value = validation.topic_attribute(name, value, bool(row["fifo"]))
    await ctx.env.db.write(_set_topic_attributes, row["arn"], {name: value})
    return {}


def _set_topic_attributes(tx, arn, changes):  # noqa: ANN001, ANN202
    store.set_topic_attributes(tx, arn, changes)
    tx.wake(cache_key(arn))


async def list_topics(ctx: RequestContext, p: dict) -> dict:
    after = _decode_token(p.get("NextToken"))
    arns = await ctx.env.db.read(store.list_topics, ctx.account, ctx.region, after)
    out: dict[str, Any] = {"Topics": [{"TopicArn": a} for a in arns[: store.PAGE]]}
    if len(arns) > store.PAGE:
        out["NextToken"] = paging.after_token(arns[store.PAGE - 1])
    return out


def _decode_token(token: str | None, kind: type = str) -> Any:
    if not token:
        return None if kind is str else 0
    after = paging.after_of(token)
    if not isinstance(after, kind) or isinstance(after, bool):
        raise invalid_parameter("NextToken")
    return after


# -- tags, permissions, data protection ------------------------------------------------------------------------
async def tag_resource(ctx: RequestContext, p: dict) -> dict:
    arn = p["ResourceArn"]
    tags = _tags_map(p.get("Tags"))
    await _tag_target(ctx, arn)
    await ctx.env.db.write(_set_tags, arn, tags, [])
    return {}


async def untag_resource(ctx: RequestContext, p: dict) -> dict:
    arn = p["ResourceArn"]
    await _tag_target(ctx, arn)
    await ctx.env.db.write(_set_tags, arn, {}, list(p.get("TagKeys") or []))
    return {}


async def list_tags_for_resource(ctx: RequestContext, p: dict) -> dict:
    row = await _tag_target(ctx, p["ResourceArn"])
    return {"Tags": [{"Key": k, "Value": v} for k, v in json.loads(row["tags"]).items()]}


async def _tag_target(ctx: RequestContext, arn: str) -> dict:
    if parse_topic_arn(arn) is None:
        raise invalid_parameter("ResourceArn")
    row = await ctx.env.db.read(store.get_topic, arn)
    if row is None:
        raise resource_not_found("Resource does not exist")
    return row


def _set_tags(tx, arn, add, remove):  # noqa: ANN001, ANN202
    store.set_tags(tx, arn, add, remove)


async def add_permission(ctx: RequestContext, p: dict) -> dict:
    row = await _topic_row(ctx, p["TopicArn"])
    label = p["Label"]
    accounts, actions = p.get("AWSAccountId") or [], p.get("ActionName") or []
    if not accounts or not actions:
        raise invalid_parameter("AWSAccountId and ActionName must not be empty")
    policy = json.loads(json.loads(row["attributes"]).get("Policy") or default_policy(row["arn"], row["account"]))
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


async def remove_permission(ctx: RequestContext, p: dict) -> dict:
    row = await _topic_row(ctx, p["TopicArn"])
    policy = json.loads(json.loads(row["attributes"]).get("Policy") or default_policy(row["arn"], row["account"]))
    statements = policy.get("Statement", [])
    kept = [s for s in statements if s.get("Sid") != p["Label"]]
    if len(kept) != len(statements):
        policy["Statement"] = kept
        await ctx.env.db.write(_set_topic_attributes, row["arn"], {"Policy": json.dumps(policy)})
    return {}


async def get_data_protection_policy(ctx: RequestContext, p: dict) -> dict:
    arn = p["ResourceArn"]
    if parse_topic_arn(arn) is None:
        raise invalid_parameter("ResourceArn")
    row = await ctx.env.db.read(store.get_topic, arn)
    if row is None:
        raise topic_not_found()
    return {"DataProtectionPolicy": row["data_protection_policy"]} if row["data_protection_policy"] else {}


async def put_data_protection_policy(ctx: RequestContext, p: dict) -> dict:
    arn = p["ResourceArn"]
    if parse_topic_arn(arn) is None:
        raise invalid_parameter("ResourceArn")
    _check_json("DataProtectionPolicy", p["DataProtectionPolicy"])
    await ctx.env.db.write(store.put_data_protection_policy, arn, p["DataProtectionPolicy"])
    return {}


# -- subscriptions ---------------------------------------------------------------------------------------------
async def subscribe(ctx: RequestContext, p: dict) -> dict:
    t = await topic(ctx, p["TopicArn"])
    protocol = (p.get("Protocol") or "").lower()
    endpoint = validation.check_endpoint(protocol, p.get("Endpoint"))
    raw_attrs = p.get("Attributes") or {}
    attrs: dict[str, str] = {}
    for name in sorted(raw_attrs, key=lambda n: n != "FilterPolicyScope"):  # the scope first: it shapes the policy
        attrs[name] = validation.subscription_attribute(name, raw_attrs[name], protocol, attrs)
    if protocol == "firehose" and "SubscriptionRoleArn" not in attrs:
        raise invalid_parameter("Attributes Reason: SubscriptionRoleArn is required for firehose")
    queue: Queue | None = None
    if protocol == "sqs":
        queue = await sqs_queues.by_arn(ctx, endpoint)
        if queue is not None and queue.fifo and not t.fifo:
            raise invalid_parameter("Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
    elif t.fifo:
        raise invalid_parameter(f"Endpoint Reason: FIFO topics support only SQS subscriptions, not {protocol}")
    existing = next((s for s in t.subscriptions if s.protocol == protocol and s.endpoint == endpoint), None)
    if existing is not None:
        if any(existing.attrs.get(k) != v for k, v in attrs.items()):
            raise invalid_parameter("Attributes Reason: Subscription already exists with different attributes")
        shown = existing.arn if existing.confirmed or p.get("ReturnSubscriptionArn") else PENDING
        return {"SubscriptionArn": shown}
    arn = f"{t.arn}:{ids.uuid4()}"
    endpoint_account = endpoint.split(":")[4] if protocol == "sqs" else ctx.account
    needs_confirmation = protocol in ("http", "https", "email", "email-json") or (
        protocol == "sqs" and endpoint_account != t.account
    )
    token = ids.token() + ids.token() if needs_confirmation else None
    now = clock.now_ms()
    values = {
        "arn": arn,
        "topic_arn": t.arn,
        "owner": ctx.account,
        "protocol": protocol,
        "endpoint": endpoint,
        "attributes": json.dumps(attrs),
        "confirmed": not needs_confirmation,
        "token": token,
        "created_at": now,
    }
    sub = Subscription.from_row(values)
    replay_from = _replay_window(t, attrs.get("ReplayPolicy"))
    work = _confirmation_work(ctx, t, sub, queue, token, now)
    await ctx.env.db.write(_subscribe, values, work, replay_from, base_url(ctx))
    shown = arn if not needs_confirmation or p.get("ReturnSubscriptionArn") else PENDING
    return {"SubscriptionArn": shown}


def _confirmation_work(
    ctx: RequestContext, t: Topic, sub: Subscription, queue: Queue | None, token: str | None, now: int
) -> dict:
    """What asking for a confirmation sends: an HTTP POST, an outbox email, or an SQS message."""
    work: dict[str, list] = {"deliveries": [], "outbox": [], "sqs": []}
    if token is None:
        return work
    message_id = ids.uuid4()
    doc = envelopes(ctx).confirmation("SubscriptionConfirmation", t.arn, message_id, token, now, t.signature_version)
    body = dumps(doc)
    if sub.protocol in ("http", "https"):
        req = http_request(sub, t.arn, "SubscriptionConfirmation", message_id, body)
        work["deliveries"].append(fanout.delivery_row(sub.arn, "SubscriptionConfirmation", req, now))
    elif sub.protocol in ("email", "email-json"):
        work["outbox"].append(
            fanout.outbox_row(ctx.account, ctx.region, t.arn, sub, {"Type": "SubscriptionConfirmation", **doc}, now)
        )
    elif queue is not None:
        work["sqs"].append((queue, [message_row(queue, body, {}, {}, fanout.SNS_SENDER_ID, now)]))
    return work


def _subscribe(tx, values, work, replay_from, url):  # noqa: ANN001, ANN202
    store.add_subscription(tx, values)
    fanout.apply(tx, work, clock.now_ms())
    if replay_from is not None:
        replay.start(tx, values["arn"], values["topic_arn"], *replay_from, url)
    tx.wake(cache_key(values["topic_arn"]))


def _replay_window(t: Topic, policy: str | None) -> tuple[int, int | None] | None:
    """(start, end) of a ReplayPolicy; only FIFO topics with an archive can replay."""
    if not policy:
        return None
    window = validation.check_replay_policy(policy)
    if not t.fifo or not t.attrs.get("ArchivePolicy"):
        raise invalid_parameter("ReplayPolicy: the topic has no message archive (ArchivePolicy)")
    return window


async def confirm_subscription(ctx: RequestContext, p: dict) -> dict:
    arn = p["TopicArn"]
    if parse_topic_arn(arn) is None:
        raise invalid_parameter("TopicArn")
    if not validation.TOKEN.match(p["Token"]):
        raise invalid_parameter("Token")
    row = await ctx.env.db.write(_confirm, arn, p["Token"])
    if row is None:
        raise invalid_parameter("Token")
    return {"SubscriptionArn": row["arn"]}


def _confirm(tx, topic_arn, token):  # noqa: ANN001, ANN202
    if store.get_topic(tx.conn, topic_arn) is None:
        raise topic_not_found()
    row = store.confirm(tx, topic_arn, token)
    if row is not None:
        tx.wake(cache_key(topic_arn))
    return row


def _check_subscription_arn(arn: str) -> None:
    parts = arn.split(":")
    if len(parts) < 6:
        raise invalid_parameter(f"SubscriptionArn Reason: An ARN must have at least 6 elements, not {len(parts)}")
    if len(parts) != 7 or parts[2] != "sns" or parse_topic_arn(":".join(parts[:6])) is None:
        raise invalid_parameter("SubscriptionArn")


async def unsubscribe(ctx: RequestContext, p: dict) -> dict:
    arn = p["SubscriptionArn"]
    _check_subscription_arn(arn)
    row = await ctx.env.db.read(store.get_subscription, arn)
    if row is None:
        return {}  # unsubscribing twice succeeds, as on AWS
    work: dict[str, list] = {"deliveries": [], "outbox": [], "sqs": []}
    if row["protocol"] in ("http", "https") and row["confirmed"]:
        now = clock.now_ms()
        message_id = ids.uuid4()
        topic_arn = row["topic_arn"]
        doc = envelopes(ctx).confirmation("UnsubscribeConfirmation", topic_arn, message_id, ids.token(), now, "1")
        sub = Subscription.from_row(row)
        body = dumps(doc)
        req = http_request(sub, topic_arn, "UnsubscribeConfirmation", message_id, body)
        work["deliveries"].append(fanout.delivery_row(arn, "UnsubscribeConfirmation", req, now))
    await ctx.env.db.write(_unsubscribe, arn, row["topic_arn"], work)
    return {}


def _unsubscribe(tx, arn, topic_arn, work):  # noqa: ANN001, ANN202
    store.delete_subscription(tx, arn)
    fanout.apply(tx, work, clock.now_ms())
    tx.wake(cache_key(topic_arn))


async def _subscription(ctx: RequestContext, arn: str) -> dict:
    _check_subscription_arn(arn)
    row = await ctx.env.db.read(store.get_subscription, arn)
    if row is None:
        raise subscription_not_found()
    return row


async def get_subscription_attributes(ctx: RequestContext, p: dict) -> dict:
    row = await _subscription(ctx, p["SubscriptionArn"])
    stored = json.loads(row["attributes"])
    attrs = {
        "SubscriptionArn": row["arn"],
        "TopicArn": row["topic_arn"],
        "Owner": row["owner"],
        "Protocol": row["protocol"],
        "Endpoint": row["endpoint"],
        "ConfirmationWasAuthenticated": "true" if row["confirmed"] else "false",
        "PendingConfirmation": "false" if row["confirmed"] else "true",
        "SubscriptionPrincipal": f"arn:aws:iam::{row['owner']}:root",
    }
    if row["protocol"] in validation.RAW_PROTOCOLS:
        attrs["RawMessageDelivery"] = "false"
    if row["protocol"] in ("http", "https"):
        topic_row = await ctx.env.db.read(store.get_topic, row["topic_arn"])
        topic_attrs = json.loads(topic_row["attributes"]) if topic_row else {}
        effective = delivery_policy.effective(topic_attrs, stored, row["protocol"])
        attrs["EffectiveDeliveryPolicy"] = json.dumps(effective)
    attrs.update(stored)
    replaying = await ctx.env.db.read(replay.state, row["arn"])
    if replaying is not None:
        attrs["ReplayStatus"] = replaying["status"]
    if "FilterPolicy" in stored and "FilterPolicyScope" not in stored:
        attrs["FilterPolicyScope"] = "MessageAttributes"
    return {"Attributes": attrs}


async def set_subscription_attributes(ctx: RequestContext, p: dict) -> dict:
    row = await _subscription(ctx, p["SubscriptionArn"])
    name, value = p["AttributeName"], p.get("AttributeValue") or ""
    attrs = json.loads(row["attributes"])
    if name == "FilterPolicy" and value == "":
        attrs.pop("FilterPolicy", None)
        attrs.pop("FilterPolicyScope", None)
    elif name in ("RedrivePolicy", "DeliveryPolicy", "ReplayPolicy") and value == "":
        validation.subscription_attribute(name, value, row["protocol"], attrs)
        attrs.pop(name, None)
    else:
        attrs[name] = validation.subscription_attribute(name, value, row["protocol"], attrs)
    window = None
    if name == "ReplayPolicy" and value:
        window = _replay_window(await topic(ctx, row["topic_arn"]), value)
    await ctx.env.db.write(
        _set_subscription_attributes, row["arn"], row["topic_arn"], attrs, name, window, base_url(ctx)
    )
    return {}


def _set_subscription_attributes(tx, arn, topic_arn, attrs, name, window, url):  # noqa: ANN001, ANN202
    store.set_subscription_attributes(tx, arn, attrs)
    if window is not None:
        replay.start(tx, arn, topic_arn, *window, url)  # a new replay replaces the one before
    elif name == "ReplayPolicy":
        replay.stop(tx, arn)
    tx.wake(cache_key(topic_arn))


def _listed(row: dict) -> dict:
    return {
        "SubscriptionArn": row["arn"] if row["confirmed"] else "PendingConfirmation",
        "Owner": row["owner"],
        "Protocol": row["protocol"],
        "Endpoint": row["endpoint"],
        "TopicArn": row["topic_arn"],
    }


async def list_subscriptions(ctx: RequestContext, p: dict) -> dict:
    after = _decode_token(p.get("NextToken"), int)
    rows = await ctx.env.db.read(store.list_subscriptions, ctx.account, None, after)
    return _subscription_page(rows)


async def list_subscriptions_by_topic(ctx: RequestContext, p: dict) -> dict:
    row = await _topic_row(ctx, p["TopicArn"])
    after = _decode_token(p.get("NextToken"), int)
    rows = await ctx.env.db.read(store.list_subscriptions, None, row["arn"], after)
    return _subscription_page(rows)


def _subscription_page(rows: list[dict]) -> dict:
    out: dict[str, Any] = {"Subscriptions": [_listed(r) for r in rows[: store.PAGE]]}
    if len(rows) > store.PAGE:
        out["NextToken"] = paging.after_token(rows[store.PAGE - 1]["id"])
    return out


# -- publishing ------------------------------------------------------------------------------------------------
def _message(t: Topic | None, p: dict, now: int) -> tuple[Message, int]:
    """Check one message of Publish / PublishBatch; returns it and its size in bytes."""
    per_protocol = validation.check_message(p.get("Message"), p.get("MessageStructure"))
    validation.check_subject(p.get("Subject"))
    attrs, attrs_size = validation.message_attributes(p.get("MessageAttributes"))
    size = len(p["Message"].encode()) + attrs_size
    if size > validation.MAX_MESSAGE_BYTES:
        raise invalid_parameter("Message too long")
    fifo = bool(t and t.fifo)
    group, dedup = validation.fifo_ids(
        fifo, bool(t and t.content_dedup), p["Message"], p.get("MessageGroupId"), p.get("MessageDeduplicationId")
    )
    msg = Message(
        message_id=ids.uuid4(),
        topic_arn=t.arn if t else "",
        message=p["Message"],
        subject=p.get("Subject"),
        attributes=attrs,
        published_at=now,
        per_protocol=per_protocol,
        group=group,
        dedup=dedup,
    )
    return msg, size


async def publish(ctx: RequestContext, p: dict) -> dict:
    targets = [k for k in ("TopicArn", "TargetArn", "PhoneNumber") if p.get(k)]
    if not targets:
        raise invalid_parameter("TopicArn or TargetArn Reason: no value for required parameter")
    if len(targets) > 1:
        raise invalid_parameter(
            "TopicArn or TargetArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given"
        )
    now = clock.now_ms()
    if p.get("TopicArn") or (p.get("TargetArn") and parse_topic_arn(p["TargetArn"])):
        t = await topic(ctx, p.get("TopicArn") or p["TargetArn"], "TopicArn" if p.get("TopicArn") else "TargetArn")
        msg, _size = _message(t, p, now)
        ((message_id, seq),) = await _publish(ctx, t, [msg])
        out = {"MessageId": message_id}
        if seq is not None:
            out["SequenceNumber"] = sequence_number(seq)
        return out
    msg, _size = _message(None, p, now)
    if p.get("PhoneNumber"):
        return await mobile.publish_sms(ctx, p["PhoneNumber"], msg)
    return await mobile.publish_to_endpoint(ctx, p["TargetArn"], msg)


async def publish_batch(ctx: RequestContext, p: dict) -> dict:
    entries = p.get("PublishBatchRequestEntries") or []
    if not entries:
        raise ServiceError("EmptyBatchRequest", "The batch request doesn't contain any entries.")
    if len(entries) > 10:
        raise ServiceError("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.")
    seen: set[str] = set()
    for entry in entries:
        if not validation.BATCH_ID.match(entry.get("Id") or ""):
            raise ServiceError(
                "InvalidBatchEntryId",
                "The Id of a batch entry in a batch request doesn't abide by the specification.",
            )
        if entry["Id"] in seen:
            raise ServiceError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")
        seen.add(entry["Id"])
    t = await topic(ctx, p["TopicArn"])
    if t.fifo:
        for entry in entries:
            if entry.get("MessageGroupId") is None:
                raise invalid_parameter("The MessageGroupId parameter is required for FIFO topics")
    now = clock.now_ms()
    ok: list[tuple[str, Message]] = []
    failed: list[dict] = []
    total = 0
    for entry in entries:
        try:
            msg, size = _message(t, entry, now)
        except ServiceError as e:
            failed.append({"Id": entry["Id"], "Code": e.code, "Message": e.message, "SenderFault": e.sender_fault})
            continue
        total += size
        ok.append((entry["Id"], msg))
    if total > validation.MAX_MESSAGE_BYTES:
        raise ServiceError("BatchRequestTooLong", "The length of all the messages put together is more than the limit.")
    successful = []
    if ok:
        results = await _publish(ctx, t, [m for _, m in ok])
        for (entry_id, _), (message_id, seq) in zip(ok, results, strict=True):
            item = {"Id": entry_id, "MessageId": message_id}
            if seq is not None:
                item["SequenceNumber"] = sequence_number(seq)
            successful.append(item)
    return {"Successful": successful, "Failed": failed}


async def _sqs_targets(ctx: RequestContext, t: Topic) -> dict[str, Queue | None]:
    """The local queue of each confirmed SQS subscription (None if it is gone), and of their dead-letter queues."""
    out: dict[str, Queue | None] = {}
    for sub in t.subscriptions:
        for arn in sub.queue_arns:
            if arn not in out:
                out[arn] = await sqs_queues.by_arn(ctx, arn)
    return out


async def _publish(ctx: RequestContext, t: Topic, msgs: list[Message]) -> list[tuple[str, int | None]]:
    """Deliver messages to every subscription in one transaction; (MessageId, sequence) per message."""
    fan = fanout.Fanout(t, await _sqs_targets(ctx, t), envelopes(ctx))
    if not t.fifo:
        now = msgs[0].published_at
        works = [fan.work(m, now) for m in msgs]
        await ctx.env.db.write(fanout.commit, works, now)
        return [(m.message_id, None) for m in msgs]
    for m in msgs:  # signatures do not cover the sequence number: sign outside the writer
        for sub in t.subscriptions:
            if sub.protocol == "sqs" and not sub.raw:
                fan.env.sign(m, t, sub)
                break
    return await ctx.env.db.write(fanout.commit_fifo, fan, msgs)


HANDLERS = {
    "CreateTopic": create_topic,
    "DeleteTopic": delete_topic,
    "GetTopicAttributes": get_topic_attributes,
    "SetTopicAttributes": set_topic_attributes,
    "ListTopics": list_topics,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "AddPermission": add_permission,
    "RemovePermission": remove_permission,
    "GetDataProtectionPolicy": get_data_protection_policy,
    "PutDataProtectionPolicy": put_data_protection_policy,
    "Subscribe": subscribe,
    "ConfirmSubscription": confirm_subscription,
    "Unsubscribe": unsubscribe,
    "GetSubscriptionAttributes": get_subscription_attributes,
    "SetSubscriptionAttributes": set_subscription_attributes,
    "ListSubscriptions": list_subscriptions,
    "ListSubscriptionsByTopic": list_subscriptions_by_topic,
    "Publish": publish,
    "PublishBatch": publish_batch,
}
