"""SNS subscriptions: Subscribe per protocol, confirmation, Unsubscribe, attributes, listing with pagination."""

from __future__ import annotations

import json

import pytest

from tests.sns.helpers import queue_arn, sns_client, topic_with_queue
from tests.sqs.clients import client as sqs_client
from tests.sqs.clients import error_400, outcome


@pytest.fixture
def sns(broker):
    return sns_client(broker)


def _outbox(broker, **filters) -> list[dict]:
    return broker.admin("GET", "/_broker/sns/outbox", params=filters)["messages"]


def test_sqs_subscription_is_confirmed_at_once(broker, sns):
    topic, _url, sub = topic_with_queue(broker)
    assert sub.startswith(topic + ":")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["ConfirmationWasAuthenticated"] == "true"
    assert (attrs["Protocol"], attrs["TopicArn"], attrs["Owner"]) == ("sqs", topic, "000000000000")
    assert attrs["RawMessageDelivery"] == "false"
    # The subscriber's IAM identity, as STS reports it for the same key.
    assert attrs["SubscriptionPrincipal"] == broker.client("sts").get_caller_identity()["Arn"]
    assert attrs["SubscriptionPrincipal"] == "arn:aws:iam::000000000000:user/broker"
    topic_attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (topic_attrs["SubscriptionsConfirmed"], topic_attrs["SubscriptionsPending"]) == ("1", "0")


def test_subscribe_is_idempotent(broker, sns):
    topic, url, sub = topic_with_queue(broker)
    sqs = sqs_client(broker)
    again = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url))["SubscriptionArn"]
    assert again == sub
    err = error_400(
        sns.subscribe,
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, url),
        Attributes={"RawMessageDelivery": "true"},
    )
    assert "already exists with different attributes" in err["Message"]
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1


def test_email_subscription_is_pending_until_confirmed_with_the_token(broker, sns):
    topic = sns.create_topic(Name="mail")["TopicArn"]
    r = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    assert r["SubscriptionArn"] == "pending confirmation"
    (listed,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"] == "PendingConfirmation"
    (mail,) = _outbox(broker, protocol="email", endpoint="ops@example.com")
    confirmation = mail["message"]
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["TopicArn"] == topic
    assert "Action=ConfirmSubscription" in confirmation["SubscribeURL"]
    assert outcome(sns.confirm_subscription, TopicArn=topic, Token="wrong") == (400, "InvalidParameter")
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert "RawMessageDelivery" not in attrs  # email has no raw delivery
    sns.publish(TopicArn=topic, Message="the body", Subject="the subject")
    confirm_mail, mail = _outbox(broker, subscription_arn=arn)
    assert confirm_mail["message"]["Type"] == "SubscriptionConfirmation"
    assert (mail["message"]["Subject"], mail["message"]["Body"]) == ("the subject", "the body")


def test_return_subscription_arn_shows_the_arn_of_a_pending_subscription(broker, sns):
    topic = sns.create_topic(Name="mail2")["TopicArn"]
    r = sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="a@example.com", ReturnSubscriptionArn=True)
    assert r["SubscriptionArn"].startswith(topic + ":")
    assert (
        sns.get_subscription_attributes(SubscriptionArn=r["SubscriptionArn"])["Attributes"]["PendingConfirmation"]
        == "true"
    )


def test_email_json_and_sms_deliveries_go_to_the_outbox(broker, sns):
    topic = sns.create_topic(Name="outbox")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="j@example.com")
    (confirm,) = _outbox(broker, protocol="email-json")
    sns.confirm_subscription(TopicArn=topic, Token=confirm["message"]["Token"])
    r = sns.publish(TopicArn=topic, Message="note")
    (sms,) = _outbox(broker, protocol="sms", topic_arn=topic)
    assert (sms["endpoint"], sms["message"]["Message"]) == ("+15555550100", "note")
    doc = _outbox(broker, protocol="email-json")[-1]["message"]
    assert (doc["Type"], doc["MessageId"], doc["Message"]) == ("Notification", r["MessageId"], "note")


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [
        ("carrier-pigeon", "x"),
        ("sqs", "not-an-arn"),
        ("http", "https://wrong-scheme.example.com"),
        ("https", "http://wrong-scheme.example.com"),
        ("email", "no-at-sign"),
        ("sms", "call me"),
        ("lambda", "arn:aws:sqs:us-east-1:000000000000:q"),
    ],
)
def test_invalid_protocol_or_endpoint(broker, sns, protocol, endpoint):
    topic = sns.create_topic(Name="bad-sub")["TopicArn"]
    assert outcome(sns.subscribe, TopicArn=topic, Protocol=protocol, Endpoint=endpoint) == (400, "InvalidParameter")


def test_lambda_and_firehose_subscriptions_are_kept(broker, sns):
    topic = sns.create_topic(Name="later")["TopicArn"]
    fn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["Endpoint"] == fn
    stream = "arn:aws:firehose:us-east-1:000000000000:deliverystream/s"
    assert outcome(sns.subscribe, TopicArn=topic, Protocol="firehose", Endpoint=stream) == (400, "InvalidParameter")
    role = "arn:aws:iam::000000000000:role/r"
    sns.subscribe(TopicArn=topic, Protocol="firehose", Endpoint=stream, Attributes={"SubscriptionRoleArn": role})
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 2


def test_set_subscription_attributes(broker, sns):
    _topic, _url, sub = topic_with_queue(broker)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    policy = json.dumps({"color": ["red"]})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=policy)
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert (attrs["RawMessageDelivery"], attrs["FilterPolicy"], attrs["FilterPolicyScope"]) == (
        "true",
        policy,
        "MessageAttributes",
    )
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="")
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RawMessageDelivery", "maybe"),
        ("FilterPolicy", "{not json"),
        ("FilterPolicy", json.dumps({"a": [{"unknown-operator": 1}]})),
        ("FilterPolicyScope", "Everything"),
        ("RedrivePolicy", json.dumps({"deadLetterTargetArn": "not-an-arn"})),
        ("DeliveryPolicy", json.dumps({"healthyRetryPolicy": {"numRetries": 3}})),  # sqs has none
        ("Unknown", "x"),
    ],
)
def test_invalid_subscription_attributes(broker, sns, name, value):
    _topic, _url, sub = topic_with_queue(broker)
    err = error_400(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName=name, AttributeValue=value)
    assert err["Code"] == "InvalidParameter"


def test_raw_delivery_is_refused_for_email(broker, sns):
    topic = sns.create_topic(Name="raw-mail")["TopicArn"]
    err = error_400(
        sns.subscribe,
        TopicArn=topic,
        Protocol="email",
        Endpoint="a@example.com",
        Attributes={"RawMessageDelivery": "true"},
    )
    assert "does not support raw message delivery" in err["Message"]


def test_unsubscribe(broker, sns):
    topic, _url, sub = topic_with_queue(broker)
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)  # twice is fine
    assert outcome(sns.get_subscription_attributes, SubscriptionArn=sub) == (404, "NotFound")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert outcome(sns.unsubscribe, SubscriptionArn="arn:aws:sns") == (400, "InvalidParameter")


def test_list_subscriptions_pages_by_100(broker, sns):
    topic = sns.create_topic(Name="many")["TopicArn"]
    other = sns.create_topic(Name="other")["TopicArn"]
    arns = [
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=f"+1555555{i:04d}")["SubscriptionArn"]
        for i in range(103)
    ]
    sns.subscribe(TopicArn=other, Protocol="sms", Endpoint="+15555559999")
    first = sns.list_subscriptions_by_topic(TopicArn=topic)
    second = sns.list_subscriptions_by_topic(TopicArn=topic, NextToken=first["NextToken"])
    assert len(first["Subscriptions"]) == 100 and "NextToken" not in second
    assert [s["SubscriptionArn"] for s in first["Subscriptions"] + second["Subscriptions"]] == arns
    every = sns.list_subscriptions()
    rest = sns.list_subscriptions(NextToken=every["NextToken"])
    assert len(every["Subscriptions"]) + len(rest["Subscriptions"]) == 104
    assert sns_client(broker, access_key="111111111111").list_subscriptions()["Subscriptions"] == []
