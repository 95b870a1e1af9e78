"""FIFO topic archive (ArchivePolicy) and replay to subscriptions (ReplayPolicy), on the test clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.sns.helpers import bodies, queue_arn, receive_all, sns_client
from tests.sqs.clients import client as sqs_client
from tests.sqs.clients import error_400


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _now(broker) -> int:
    return broker.admin("GET", "/_broker/clock")["now_ms"]


@pytest.fixture
def archived_topic(broker):
    sns = sns_client(broker)
    return sns.create_topic(
        Name="archived.fifo",
        Attributes={
            "FifoTopic": "true",
            "ContentBasedDeduplication": "true",
            "ArchivePolicy": json.dumps({"MessageRetentionPeriod": "7"}),
        },
    )["TopicArn"]


def _fifo_queue(broker, name: str) -> tuple[str, str]:
    sqs = sqs_client(broker)
    url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    return url, queue_arn(sqs, url)


def _run_replays(broker) -> None:
    for _ in range(50):
        broker.run_job("sns.replay")
        if not any(
            a.get("ReplayStatus") not in (None, "Completed")
            for a in (
                sns_client(broker).get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
                for s in sns_client(broker).list_subscriptions()["Subscriptions"]
            )
        ):
            return
    raise AssertionError("replays did not finish")


def test_archive_policy_attributes(broker, archived_topic):
    attrs = sns_client(broker).get_topic_attributes(TopicArn=archived_topic)["Attributes"]
    assert json.loads(attrs["ArchivePolicy"]) == {"MessageRetentionPeriod": "7"}
    assert attrs["BeginningArchiveTime"].endswith("Z")


@pytest.mark.parametrize("period", ["0", "366", "x"])
def test_invalid_archive_policy(broker, period):
    sns = sns_client(broker)
    err = error_400(
        sns.create_topic,
        Name="bad.fifo",
        Attributes={"FifoTopic": "true", "ArchivePolicy": json.dumps({"MessageRetentionPeriod": period})},
    )
    assert err["Code"] == "InvalidParameter"


def test_replay_redelivers_archived_messages_in_order_then_goes_live(broker, archived_topic):
    sns, sqs = sns_client(broker), sqs_client(broker)
    start = _now(broker)
    sent = [sns.publish(TopicArn=archived_topic, Message=f"m{i}", MessageGroupId="g")["MessageId"] for i in range(250)]
    url, arn = _fifo_queue(broker, "late")
    policy = json.dumps({"PointType": "Timestamp", "StartingPoint": _iso(start)})
    sub = sns.subscribe(TopicArn=archived_topic, Protocol="sqs", Endpoint=arn, Attributes={"ReplayPolicy": policy})[
        "SubscriptionArn"
    ]
    status = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["ReplayStatus"]
    assert status in ("Pending", "In progress", "Completed")
    live = sns.publish(TopicArn=archived_topic, Message="during the replay", MessageGroupId="g")["MessageId"]
    _run_replays(broker)
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["ReplayStatus"] == "Completed"
    after = sns.publish(TopicArn=archived_topic, Message="after the replay", MessageGroupId="g")["MessageId"]
    envs = bodies(receive_all(sqs, url, expect=252, wait=10))
    assert [e["MessageId"] for e in envs] == [*sent, live, after]  # in order, none twice
    assert all(e.get("Replayed") is True for e in envs[:251])
    assert "Replayed" not in envs[-1]


def test_replay_with_an_ending_point_pauses_the_subscription(broker, archived_topic):
    sns, sqs = sns_client(broker), sqs_client(broker)
    url, arn = _fifo_queue(broker, "window")
    sub = sns.subscribe(TopicArn=archived_topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    start = _now(broker)
    first = sns.publish(TopicArn=archived_topic, Message="first", MessageGroupId="g")["MessageId"]
    broker.advance(10)
    end = _now(broker)
    broker.advance(10)
    sns.publish(TopicArn=archived_topic, Message="outside the window", MessageGroupId="g")
    assert len(receive_all(sqs, url, expect=2, wait=5)) == 2  # delivered live
    broker.advance(301)  # past the queue's 5-minute deduplication window, which would drop the replayed copies
    policy = json.dumps({"PointType": "Timestamp", "StartingPoint": _iso(start), "EndingPoint": _iso(end)})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="ReplayPolicy", AttributeValue=policy)
    _run_replays(broker)
    assert [e["MessageId"] for e in bodies(receive_all(sqs, url, expect=1, wait=5))] == [first]
    sns.publish(TopicArn=archived_topic, Message="while paused", MessageGroupId="g")
    assert receive_all(sqs, url) == []
    # A new replay without an EndingPoint resumes: from the old end on, the missed messages come too.
    resume = json.dumps({"PointType": "Timestamp", "StartingPoint": _iso(end + 1)})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="ReplayPolicy", AttributeValue=resume)
    _run_replays(broker)
    got = [e["Message"] for e in bodies(receive_all(sqs, url, expect=2, wait=5))]
    assert got == ["outside the window", "while paused"]


def test_replay_needs_an_archived_fifo_topic(broker):
    sns, sqs = sns_client(broker), sqs_client(broker)
    topic = sns.create_topic(Name="plain-replay")["TopicArn"]
    url = sqs.create_queue(QueueName="plain-replay-q")["QueueUrl"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url))["SubscriptionArn"]
    policy = json.dumps({"PointType": "Timestamp", "StartingPoint": "2026-01-01T00:00:00Z"})
    err = error_400(
        sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="ReplayPolicy", AttributeValue=policy
    )
    assert "archive" in err["Message"]
    for bad in (
        {"PointType": "Sequence", "StartingPoint": "x"},
        {"PointType": "Timestamp"},
        {"PointType": "Timestamp", "StartingPoint": "yesterday"},
    ):
        err = error_400(
            sns.set_subscription_attributes,
            SubscriptionArn=sub,
            AttributeName="ReplayPolicy",
            AttributeValue=json.dumps(bad),
        )
        assert err["Code"] == "InvalidParameter"


def test_archive_keeps_messages_for_its_retention_period(broker, archived_topic):
    sns, sqs = sns_client(broker), sqs_client(broker)
    start = _now(broker)
    sns.publish(TopicArn=archived_topic, Message="old", MessageGroupId="g")
    broker.advance(6 * 86400)
    sns.publish(TopicArn=archived_topic, Message="recent", MessageGroupId="g")
    broker.advance(86400 + 60)  # "old" is now past 7 days
    broker.run_job("sns.sweep")
    url, arn = _fifo_queue(broker, "retention")
    policy = json.dumps({"PointType": "Timestamp", "StartingPoint": _iso(start)})
    sns.subscribe(TopicArn=archived_topic, Protocol="sqs", Endpoint=arn, Attributes={"ReplayPolicy": policy})
    _run_replays(broker)
    assert [e["Message"] for e in bodies(receive_all(sqs, url, expect=1, wait=5))] == ["recent"]


def test_replay_on_a_topic_with_the_longest_name(broker):
    """The replay's stored progress is keyed by the subscription ARN, which a 256-character topic name makes long."""
    sns, sqs = sns_client(broker), sqs_client(broker)
    name = "t" * 251 + ".fifo"
    topic = sns.create_topic(
        Name=name,
        Attributes={"FifoTopic": "true", "ArchivePolicy": json.dumps({"MessageRetentionPeriod": "1"})},
    )["TopicArn"]
    start = _now(broker)
    sent = sns.publish(TopicArn=topic, Message="kept", MessageGroupId="g", MessageDeduplicationId="d")["MessageId"]
    url, arn = _fifo_queue(broker, "long-replay")
    policy = json.dumps({"PointType": "Timestamp", "StartingPoint": _iso(start)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"ReplayPolicy": policy})
    _run_replays(broker)
    assert [e["MessageId"] for e in bodies(receive_all(sqs, url, expect=1, wait=10))] == [sent]
