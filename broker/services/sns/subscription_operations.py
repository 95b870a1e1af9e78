"""Amazon SNS operations on subscriptions: subscribing (and the confirmation it sends), confirming, unsubscribing,
attributes (with FIFO archive replays) and listing."""

from __future__ import annotations

import json
import re
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.identity import Identity
from broker.services.sns import delivery_policy, fanout, grants, listing, replay, store, validation
from broker.services.sns.arns import check_subscription_arn, parse_topic_arn
from broker.services.sns.errors import (
    authorization_error,
    in_attributes,
    invalid_parameter,
    invalid_parameter_bare,
    require,
    subscription_not_found,
)
from broker.services.sns.fanout import Work
from broker.services.sns.messages import base_url, dumps, envelopes, http_request
from broker.services.sns.store import Row
from broker.services.sns.topics import Subscription, Topic, authorize, cache_key, topic, topic_row
from broker.services.sqs import queues as sqs_queues
from broker.services.sqs.enqueue import message_row
from broker.services.sqs.queues import Queue
from broker.storage.db import Tx

PENDING = "pending confirmation"
# What a subscription has when its attributes do not say otherwise (a repeated Subscribe compares with these).
DEFAULTS = {"RawMessageDelivery": "false", "FilterPolicyScope": "MessageAttributes"}
# Attributes whose empty value means "none": an empty FilterPolicy or RedrivePolicy is not stored.
EMPTY_MEANS_NONE = ("FilterPolicy", "RedrivePolicy")
HEX_TOKEN = re.compile(r"^[0-9a-fA-F]+$")

ReplayWindow = tuple[int, int | None]  # (StartingPoint, EndingPoint) in ms


async def subscribe(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    t = await topic(ctx, p["TopicArn"], action="SNS:Subscribe")
    protocol = (p.get("Protocol") or "").lower()
    endpoint = validation.check_endpoint(protocol, p.get("Endpoint"))
    raw_attrs = p.get("Attributes") or {}
    given: dict[str, str] = {}
    try:
        for name in sorted(raw_attrs, key=lambda n: n != "FilterPolicyScope"):  # the scope first: it shapes the policy
            given[name] = validation.subscription_attribute(name, raw_attrs[name], protocol, given)
    except ServiceError as e:
        raise in_attributes(e) from None
    attrs = {k: v for k, v in given.items() if not (k in EMPTY_MEANS_NONE and v == "")}
    if protocol == "firehose" and "SubscriptionRoleArn" not in attrs:
        raise invalid_parameter("Attributes Reason: SubscriptionRoleArn is required for firehose")
    queue: Queue | None = None
    if protocol == "sqs":
        queue = await sqs_queues.by_arn(ctx, endpoint)
        if _is_fifo_queue(endpoint, queue) and not t.fifo:
            raise invalid_parameter(
                "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"
            )
        try:
            _check_fifo_dead_letter_queue(t, endpoint, queue, attrs)
        except ServiceError as e:
            raise in_attributes(e) from None
    elif t.fifo:
        raise invalid_parameter(f"Endpoint Reason: FIFO topics support only SQS subscriptions, not {protocol}")
    existing = next((s for s in t.subscriptions if s.protocol == protocol and s.endpoint == endpoint), None)
    if existing is not None:
        # The same subscription again: fine if every attribute given equals the existing one's (defaults count).
        effective = {**DEFAULTS, **existing.attrs}
        if any(effective.get(k, "") != v for k, v in given.items()):
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


def _is_fifo_queue(queue_arn: str, queue: Queue | None) -> bool:
    return queue.fifo if queue is not None else queue_arn.endswith(".fifo")


def _check_fifo_dead_letter_queue(t: Topic, endpoint: str, queue: Queue | None, attrs: dict[str, str]) -> None:
    """A FIFO queue's subscription to a FIFO topic needs a FIFO dead-letter queue."""
    policy = attrs.get("RedrivePolicy")
    if not policy or not t.fifo or not _is_fifo_queue(endpoint, queue):
        return
    dead_letter_arn = json.loads(policy)["deadLetterTargetArn"]
    if not dead_letter_arn.endswith(".fifo"):
        raise invalid_parameter("RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.")


def _confirmation_work(
    ctx: RequestContext, t: Topic, sub: Subscription, queue: Queue | None, token: str | None, now: int
) -> Work:
    """What asking for a confirmation sends: an HTTP POST, an outbox email, or an SQS message (with auth = "sigv4",
    only to a queue whose policy lets the topic send to it: AWS's delivery fails silently otherwise, and the
    subscription stays pending)."""
    work = Work()
    if token is None:
        return work
    message_id = ids.uuid4()
    env = envelopes(ctx)
    doc = env.confirmation("SubscriptionConfirmation", t.arn, message_id, token, now, t.signature_version)
    body = dumps(doc)
    if sub.protocol in ("http", "https"):
        req = http_request(sub, t.arn, "SubscriptionConfirmation", message_id, body)
        work.deliveries.append(fanout.delivery_row(sub.arn, "SubscriptionConfirmation", req, now))
    elif sub.protocol in ("email", "email-json"):
        out = {"Type": "SubscriptionConfirmation", **doc}
        work.outbox.append(
            store.outbox_row(ctx.account, ctx.region, sub.protocol, sub.endpoint, out, now, t.arn, sub.arn)
        )
    elif queue is not None and (not env.grants or grants.may_send(t.arn, queue)):
        work.sqs.append((queue, [message_row(queue, body, {}, {}, fanout.SNS_SENDER_ID, now)]))
    return work


def _subscribe(tx: Tx, values: Row, work: Work, replay_from: ReplayWindow | None, url: str) -> None:
    store.add_subscription(tx, values)
    fanout.apply(tx, work, clock.now_ms())
    if replay_from is not None:
        replay.start(tx, values["arn"], values["topic_arn"], *replay_from, url)
    tx.wake(cache_key(values["topic_arn"]))


def _replay_window(t: Topic, policy: str | None) -> ReplayWindow | None:
    """(start, end) of a ReplayPolicy; only FIFO topics with an archive can replay."""
    if not policy:
        return None
    window = validation.check_replay_policy(policy)
    if not t.fifo or not t.attrs.get("ArchivePolicy"):
        raise invalid_parameter("ReplayPolicy: the topic has no message archive (ArchivePolicy)")
    return window


async def confirm_subscription(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn, token = p["TopicArn"], p["Token"]
    parsed = parse_topic_arn(arn)
    if parsed is None or parsed[0] != ctx.region:
        raise invalid_parameter("Topic")
    if not HEX_TOKEN.match(token):
        raise invalid_parameter_bare("Invalid token")  # not a token SNS could have made
    if not validation.TOKEN.match(token):
        raise invalid_parameter("Token")
    # Honoured only from a signed request (AWS: "if the value is true and the request has an AWS signature").
    authenticate = ctx.authenticated and str(p.get("AuthenticateOnUnsubscribe", "")).lower() == "true"
    row = await ctx.env.db.write(_confirm, arn, token, authenticate)
    if row is None:  # no such token (or no such topic)
        raise invalid_parameter("Token")
    return {"SubscriptionArn": row["arn"]}


def _confirm(tx: Tx, topic_arn: str, token: str, authenticate_on_unsubscribe: bool) -> Row | None:
    if store.get_topic(tx.conn, topic_arn) is None:
        return None
    row = store.confirm(tx, topic_arn, token, authenticate_on_unsubscribe)
    if row is not None:
        tx.wake(cache_key(topic_arn))
    return row


async def unsubscribe(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["SubscriptionArn"]
    check_subscription_arn(arn)
    row = await ctx.env.db.read(store.get_subscription, arn)
    _authorize_subscription(ctx, arn, row, "SNS:Unsubscribe")
    if row is None:
        return {}  # unsubscribing twice succeeds, as on AWS
    if (
        ctx.env.settings.sigv4
        and not ctx.authenticated
        and json.loads(row["attributes"]).get(store.AUTHENTICATE_ON_UNSUBSCRIBE) == "true"
    ):
        # An unsigned Unsubscribe (the UnsubscribeURL) may end only subscriptions confirmed without that flag.
        raise authorization_error(
            "Unsubscribe requires authentication: the subscription was confirmed with AuthenticateOnUnsubscribe"
        )
    work = Work()
    if row["protocol"] in ("http", "https") and row["confirmed"]:
        now = clock.now_ms()
        message_id = ids.uuid4()
        topic_arn = row["topic_arn"]
        doc = envelopes(ctx).confirmation(
            "UnsubscribeConfirmation", topic_arn, message_id, ids.token(), now, "1", sub_arn=arn
        )
        sub = Subscription.from_row(row)
        body = dumps(doc)
        req = http_request(sub, topic_arn, "UnsubscribeConfirmation", message_id, body)
        work.deliveries.append(fanout.delivery_row(arn, "UnsubscribeConfirmation", req, now))
    await ctx.env.db.write(_unsubscribe, arn, row["topic_arn"], work)
    return {}


def _unsubscribe(tx: Tx, arn: str, topic_arn: str, work: Work) -> None:
    store.delete_subscription(tx, arn)
    fanout.apply(tx, work, clock.now_ms())
    tx.wake(cache_key(topic_arn))


async def _subscription(ctx: RequestContext, arn: str, action: str) -> Row:
    check_subscription_arn(arn)
    row = await ctx.env.db.read(store.get_subscription, arn)
    _authorize_subscription(ctx, arn, row, action)
    return require(row, subscription_not_found)


def _authorize_subscription(ctx: RequestContext, arn: str, row: Row | None, action: str) -> None:
    """A subscription is its topic owner's and its subscriber's: a verified caller of any other account (no policy
    grants subscription actions) is refused, also for one that does not exist."""
    if ctx.authenticated and ctx.caller.account not in (arn.split(":")[4], row["owner"] if row else None):
        authorize(ctx, arn, None, action)


async def get_subscription_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _subscription(ctx, p["SubscriptionArn"], "SNS:GetSubscriptionAttributes")
    stored = json.loads(row["attributes"])
    attrs = {
        "SubscriptionArn": row["arn"],
        "TopicArn": row["topic_arn"],
        "Owner": row["owner"],
        "Protocol": row["protocol"],
        "Endpoint": row["endpoint"],
        "ConfirmationWasAuthenticated": "true" if row["confirmed"] else "false",
        "PendingConfirmation": "false" if row["confirmed"] else "true",
        "SubscriptionPrincipal": Identity(row["owner"], ctx.env.settings.user_name).arn,
    }
    if row["protocol"] in validation.SHOWS_RAW:
        attrs["RawMessageDelivery"] = "false"
    if row["protocol"] in ("http", "https"):
        topic_attrs_row = await ctx.env.db.read(store.get_topic, row["topic_arn"])
        topic_attrs = json.loads(topic_attrs_row["attributes"]) if topic_attrs_row else {}
        effective = delivery_policy.effective(topic_attrs, stored, row["protocol"])
        attrs["EffectiveDeliveryPolicy"] = json.dumps(effective)
    stored.pop(store.AUTHENTICATE_ON_UNSUBSCRIBE, None)  # kept for Unsubscribe, not an attribute AWS lists
    attrs.update(stored)
    replaying = await ctx.env.db.read(store.replay_state, row["arn"])
    if replaying is not None:
        attrs["ReplayStatus"] = replaying["status"]
    if "FilterPolicy" in stored:
        attrs.setdefault("FilterPolicyScope", "MessageAttributes")
    else:
        attrs.pop("FilterPolicyScope", None)  # the scope is listed only while there is a policy
    return {"Attributes": attrs}


async def set_subscription_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _subscription(ctx, p["SubscriptionArn"], "SNS:SetSubscriptionAttributes")
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
    if name == "RedrivePolicy" and value and row["protocol"] == "sqs":
        t = await topic(ctx, row["topic_arn"], action=None)
        _check_fifo_dead_letter_queue(t, row["endpoint"], await sqs_queues.by_arn(ctx, row["endpoint"]), attrs)
    window = None
    if name == "ReplayPolicy" and value:
        window = _replay_window(await topic(ctx, row["topic_arn"], action=None), value)
    await ctx.env.db.write(
        _set_subscription_attributes, row["arn"], row["topic_arn"], attrs, name, window, base_url(ctx)
    )
    return {}


def _set_subscription_attributes(
    tx: Tx, arn: str, topic_arn: str, attrs: dict[str, str], name: str, window: ReplayWindow | None, url: str
) -> None:
    store.set_subscription_attributes(tx, arn, attrs)
    if window is not None:
        replay.start(tx, arn, topic_arn, *window, url)  # a new replay replaces the one before
    elif name == "ReplayPolicy":
        replay.stop(tx, arn)
    tx.wake(cache_key(topic_arn))


def _listed(row: Row) -> dict[str, Any]:
    return {
        "SubscriptionArn": row["arn"] if row["confirmed"] else "PendingConfirmation",
        "Owner": row["owner"],
        "Protocol": row["protocol"],
        "Endpoint": row["endpoint"],
        "TopicArn": row["topic_arn"],
    }


async def list_subscriptions(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    after = listing.after_id(p.get("NextToken"))
    rows = await ctx.env.db.read(store.list_subscriptions, ctx.account, None, after)
    return _subscription_page(rows)


async def list_subscriptions_by_topic(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await topic_row(ctx, p["TopicArn"], "SNS:ListSubscriptionsByTopic")
    after = listing.after_id(p.get("NextToken"))
    rows = await ctx.env.db.read(store.list_subscriptions, None, row["arn"], after)
    return _subscription_page(rows)


def _subscription_page(rows: list[Row]) -> dict[str, Any]:
    shown, token = listing.page(rows, store.PAGE, lambda r: r["id"])
    out: dict[str, Any] = {"Subscriptions": [_listed(r) for r in shown]}
    if token is not None:
        out["NextToken"] = token
    return out
