"""SNS HTTP/S subscriptions against a loopback endpoint: the confirmation flow, signed notifications, raw
delivery, delivery-policy retries on the test clock, dead-lettering, restarts, and slow endpoints."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from tests.sns.helpers import Endpoint, bodies, queue_arn, receive_all, sns_client
from tests.sns.test_publish import _verify
from tests.sqs.clients import client as sqs_client


@pytest.fixture
def endpoint():
    ep = Endpoint()
    yield ep
    ep.close()


def _confirmed_http_subscription(broker, endpoint: Endpoint, name: str = "web", **attrs) -> tuple[str, str]:
    sns = sns_client(broker)
    topic = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, Attributes=attrs)
    (req,) = endpoint.wait_for(1)
    doc = json.loads(req["body"])
    sub = sns.confirm_subscription(TopicArn=topic, Token=doc["Token"])["SubscriptionArn"]
    endpoint.requests.clear()
    return topic, sub


def test_confirmation_post_and_subscribe_url(broker, endpoint):
    sns = sns_client(broker)
    topic = sns.create_topic(Name="confirm")["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)["SubscriptionArn"] == (
        "pending confirmation"
    )
    (req,) = endpoint.wait_for(1)
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-topic-arn"] == topic
    assert "x-amz-sns-subscription-arn" not in headers
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    doc = json.loads(req["body"])
    assert doc["Type"] == "SubscriptionConfirmation" and doc["TopicArn"] == topic
    assert headers["x-amz-sns-message-id"] == doc["MessageId"]
    _verify(doc)
    # Following the SubscribeURL (a plain GET, no credentials) confirms, as on AWS.
    answer = httpx.get(doc["SubscribeURL"])
    assert answer.status_code == 200 and "<SubscriptionArn>" in answer.text
    (listed,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"].startswith(topic + ":")


def test_notification_post(broker, endpoint):
    sns = sns_client(broker)
    topic, sub = _confirmed_http_subscription(broker, endpoint)
    r = sns.publish(
        TopicArn=topic,
        Message="over http",
        Subject="s",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    (req,) = endpoint.wait_for(1)
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-message-id"] == r["MessageId"]
    assert headers["x-amz-sns-subscription-arn"] == sub
    doc = json.loads(req["body"])
    assert (doc["Message"], doc["Subject"], doc["MessageAttributes"]) == (
        "over http",
        "s",
        {"k": {"Type": "String", "Value": "v"}},
    )
    _verify(doc)


def test_raw_http_delivery(broker, endpoint):
    sns = sns_client(broker)
    topic, sub = _confirmed_http_subscription(broker, endpoint, RawMessageDelivery="true")
    sns.publish(TopicArn=topic, Message="just the body")
    (req,) = endpoint.wait_for(1)
    assert req["body"] == "just the body"
    assert {k.lower(): v for k, v in req["headers"].items()}["x-amz-sns-rawdelivery"] == "true"


def test_failed_deliveries_are_retried_by_the_delivery_policy_then_dead_lettered(broker, endpoint):
    sns, sqs = sns_client(broker), sqs_client(broker)
    dlq = sqs.create_queue(QueueName="http-dlq")["QueueUrl"]
    policy = {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 30, "maxDelayTarget": 30}}
    topic, sub = _confirmed_http_subscription(
        broker,
        endpoint,
        DeliveryPolicy=json.dumps(policy),
        RedrivePolicy=json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq)}),
    )
    endpoint.status = 500
    r = sns.publish(TopicArn=topic, Message="flaky")
    endpoint.wait_for(1)
    time.sleep(0.5)
    assert len(endpoint.requests) == 1  # the retry waits for its delay
    _advance_until_retried(broker, endpoint, 31)
    _advance_until_retried(broker, endpoint, 31, count=3)
    (env,) = bodies(receive_all(sqs, dlq, expect=1, wait=10))
    assert (env["MessageId"], env["Message"]) == (r["MessageId"], "flaky")
    broker.advance(600)
    time.sleep(0.5)
    assert len(endpoint.requests) == 3  # 1 + numRetries, then no more


def test_a_retry_succeeds(broker, endpoint):
    sns = sns_client(broker)
    topic, sub = _confirmed_http_subscription(broker, endpoint, name="retry-ok")
    endpoint.status = 503
    sns.publish(TopicArn=topic, Message="eventually")
    endpoint.wait_for(1)
    endpoint.status = 200
    _advance_until_retried(broker, endpoint, 21)  # the default policy: 3 retries, 20 s apart
    broker.advance(100)
    time.sleep(0.5)
    assert len(endpoint.requests) == 2


def _advance_until_retried(broker, endpoint: Endpoint, seconds: float, count: int = 2) -> None:
    """Move the clock by `seconds` until the endpoint has seen `count` POSTs. A failure is recorded a moment after
    the endpoint saw it; a clock moved before that moves the retry's due time along, so move it again."""
    for _ in range(3):
        broker.advance(seconds)
        try:
            endpoint.wait_for(count, timeout=3)
            return
        except AssertionError:
            continue
    endpoint.wait_for(count)


def test_slow_endpoint_does_not_hold_up_publishing(broker):
    gate = threading.Event()
    ep = Endpoint()
    try:
        sns = sns_client(broker)
        topic, _sub = _confirmed_http_subscription(broker, ep, name="slow")

        # Hold every POST until the gate opens; publishes meanwhile must all be acknowledged.
        handler = ep.server.RequestHandlerClass
        post = handler.do_POST

        # Held for at most 12 s: below the 15 s delivery timeout, so that however slow publishing is on a loaded
        # machine no delivery times out into a retry the test would have to wait for.
        def held(self) -> None:
            gate.wait(12)
            post(self)

        handler.do_POST = held
        t0 = time.monotonic()
        ids = [sns.publish(TopicArn=topic, Message=f"m{i}")["MessageId"] for i in range(20)]
        # Had publishing waited for a delivery, the first publish alone would have taken 12 s.
        assert len(set(ids)) == 20 and time.monotonic() - t0 < 12
        gate.set()
        got = ep.wait_for(20, timeout=30)
        assert sorted(json.loads(r["body"])["MessageId"] for r in got) == sorted(ids)
    finally:
        gate.set()
        ep.close()


def test_unsubscribe_sends_an_unsubscribe_confirmation(broker, endpoint):
    sns = sns_client(broker)
    topic, sub = _confirmed_http_subscription(broker, endpoint, name="bye")
    sns.unsubscribe(SubscriptionArn=sub)
    (req,) = endpoint.wait_for(1)
    doc = json.loads(req["body"])
    assert doc["Type"] == "UnsubscribeConfirmation"
    _verify(doc)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_pending_retries_survive_kill_9(server_factory, backend):
    ep = Endpoint()
    try:
        server = server_factory(backend, workers=2).start()
        sns = server.client("sns")
        topic = sns.create_topic(Name="durable")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=ep.url)
        token = json.loads(ep.wait_for(1)[0]["body"])["Token"]
        sns.confirm_subscription(TopicArn=topic, Token=token)
        ep.status = 500
        ids = [sns.publish(TopicArn=topic, Message=f"m{i}")["MessageId"] for i in range(5)]
        ep.wait_for(6)  # each failed once
        server.kill()
        ep.status = 200
        server.start()
        server.advance(61)  # past the retry delay (20 s) and any claim the killed process held (60 s)
        got = ep.wait_for(11, timeout=20)
        delivered = {json.loads(r["body"]).get("MessageId") for r in got[6:]}
        assert delivered == set(ids)
    finally:
        ep.close()


def _effective(sns, sub: str) -> dict:
    return json.loads(sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["EffectiveDeliveryPolicy"])


def test_effective_delivery_policy_combines_the_topic_and_the_subscription(broker, endpoint):
    sns = sns_client(broker)
    topic, sub = _confirmed_http_subscription(broker, endpoint, name="combined")
    default = _effective(sns, sub)
    assert default["healthyRetryPolicy"]["numRetries"] == 3
    assert default["throttlePolicy"] is None
    assert default["requestPolicy"] == {"headerContentType": "text/plain; charset=UTF-8"}
    topic_policy = {
        "http": {
            "defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2, "maxDelayTarget": 9},
            "defaultThrottlePolicy": {"maxReceivesPerSecond": 7},
            "defaultRequestPolicy": {"headerContentType": "application/json"},
        }
    }
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(topic_policy))
    inherited = _effective(sns, sub)
    assert inherited["healthyRetryPolicy"]["numRetries"] == 5
    assert inherited["healthyRetryPolicy"]["minDelayTarget"] == 2
    assert inherited["throttlePolicy"] == {"maxReceivesPerSecond": 7}
    assert inherited["requestPolicy"] == {"headerContentType": "application/json"}
    own = {"healthyRetryPolicy": {"numRetries": 1}, "throttlePolicy": {"maxReceivesPerSecond": 3}}
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(own))
    overridden = _effective(sns, sub)
    assert overridden["healthyRetryPolicy"]["numRetries"] == 1
    assert overridden["healthyRetryPolicy"]["maxDelayTarget"] == 9  # the rest still from the topic
    assert overridden["throttlePolicy"] == {"maxReceivesPerSecond": 3}
    topic_policy["http"]["disableSubscriptionOverrides"] = True
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(topic_policy))
    assert _effective(sns, sub) == inherited


def test_the_topic_delivery_policy_drives_the_retries(broker, endpoint):
    sns = sns_client(broker)
    topic, sub = _confirmed_http_subscription(broker, endpoint, name="topic-retries")
    policy = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 40, "maxDelayTarget": 40}}}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    endpoint.status = 500
    sns.publish(TopicArn=topic, Message="per the topic")
    endpoint.wait_for(1)
    time.sleep(0.5)  # the failure is recorded (and the retry scheduled) a moment after the endpoint saw the POST
    broker.advance(25)  # the default policy would retry after 20 s; the topic's waits 40 s
    time.sleep(0.5)
    assert len(endpoint.requests) == 1
    _advance_until_retried(broker, endpoint, 20)
    broker.advance(600)
    time.sleep(0.5)
    assert len(endpoint.requests) == 2  # numRetries 1


def test_request_policy_sets_the_content_type(broker, endpoint):
    sns = sns_client(broker)
    policy = {"requestPolicy": {"headerContentType": "application/json"}}
    topic, _sub = _confirmed_http_subscription(broker, endpoint, name="json-type", DeliveryPolicy=json.dumps(policy))
    sns.publish(TopicArn=topic, Message="typed")
    (req,) = endpoint.wait_for(1)
    assert {k.lower(): v for k, v in req["headers"].items()}["content-type"] == "application/json"


@pytest.mark.parametrize(
    "policy",
    [
        {"requestPolicy": {"headerContentType": "not a type"}},
        {"requestPolicy": {"headerContentType": "text/plain\r\nX-Injected: 1"}},
        {"requestPolicy": {"headerContentType": 5}},
        {"requestPolicy": "application/json"},
        {"throttlePolicy": {"maxReceivesPerSecond": 0}},
    ],
)
def test_invalid_request_or_throttle_policy(broker, endpoint, policy):
    sns = sns_client(broker)
    _topic, sub = _confirmed_http_subscription(broker, endpoint, name="bad-policy")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy)
        )


def test_throttle_limits_deliveries_per_second_across_workers(server_factory, backend):
    """maxReceivesPerSecond holds for the subscription as a whole: two worker processes share its counter."""
    server = server_factory(backend, workers=2).start()
    ep = Endpoint()
    try:
        policy = {"throttlePolicy": {"maxReceivesPerSecond": 2}}
        topic, _sub = _confirmed_http_subscription(server, ep, name="throttled", DeliveryPolicy=json.dumps(policy))
        sns = sns_client(server)
        for i in range(8):
            sns.publish(TopicArn=topic, Message=f"m{i}")
        arrivals = [r["at"] for r in ep.wait_for(8, timeout=15)]
        span = arrivals[-1] - arrivals[0]
        # Two per wall-clock second: 8 deliveries need at least 4 seconds' buckets, over 2 s from first to last.
        assert span > 2.0, [round(a - arrivals[0], 2) for a in arrivals]
        for a in arrivals:
            assert sum(1 for b in arrivals if a <= b < a + 1.0) <= 4  # two buckets at most in any 1-second window
    finally:
        ep.close()
