"""SNS Publish and PublishBatch delivered to SQS subscriptions: the JSON envelope, raw delivery, message
attributes, MessageStructure=json, batches, FIFO topics, and the input errors of AWS."""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.sns.helpers import bodies, queue_arn, receive_all, sns_client, topic_with_queue
from tests.sqs.clients import client as sqs_client
from tests.sqs.clients import error_400, outcome


@pytest.fixture
def sns(broker):
    return sns_client(broker)


@pytest.fixture
def sqs(broker):
    return sqs_client(broker)


def _verify(envelope: dict) -> None:
    """Check an envelope's signature the way AWS documents it: canonical string, SHA1/SHA256 with RSA."""
    cert = x509.load_pem_x509_certificate(httpx.get(envelope["SigningCertURL"]).content)
    if envelope["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{n}\n{envelope[n]}\n" for n in names if n in envelope)
    digest = hashes.SHA256() if envelope["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(envelope["Signature"]), text.encode(), padding.PKCS1v15(), digest)


def test_publish_delivers_the_signed_json_envelope(broker, sns, sqs):
    topic, url, sub = topic_with_queue(broker)
    attrs = {
        "s": {"DataType": "String", "StringValue": "v"},
        "n": {"DataType": "Number", "StringValue": "42"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        "a": {"DataType": "String.Array", "StringValue": '["x", 1, true]'},
    }
    r = sns.publish(TopicArn=topic, Message="hello", Subject="greeting", MessageAttributes=attrs)
    (msg,) = receive_all(sqs, url)
    env = json.loads(msg["Body"])
    assert env["Type"] == "Notification"
    assert env["MessageId"] == r["MessageId"]
    assert (env["TopicArn"], env["Subject"], env["Message"]) == (topic, "greeting", "hello")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", env["Timestamp"])
    assert env["SignatureVersion"] == "1"
    assert "Action=Unsubscribe" in env["UnsubscribeURL"] and "SubscriptionArn=" in env["UnsubscribeURL"]
    assert env["MessageAttributes"] == {
        "s": {"Type": "String", "Value": "v"},
        "n": {"Type": "Number", "Value": "42"},
        "b": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
        "a": {"Type": "String.Array", "Value": '["x", 1, true]'},
    }
    assert "MessageAttributes" not in msg  # the attributes travel inside the envelope
    assert msg["Attributes"]["SenderId"]
    _verify(env)
    assert list(env)[:3] == ["Type", "MessageId", "TopicArn"]


def test_signature_version_2(broker, sns, sqs):
    topic, url, _ = topic_with_queue(broker)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
    sns.publish(TopicArn=topic, Message="v2")
    (env,) = bodies(receive_all(sqs, url))
    assert env["SignatureVersion"] == "2"
    assert "Subject" not in env
    _verify(env)


def test_unsubscribe_url_unsubscribes(broker, sns, sqs):
    topic, url, sub = topic_with_queue(broker)
    sns.publish(TopicArn=topic, Message="one")
    (env,) = bodies(receive_all(sqs, url))
    assert httpx.get(env["UnsubscribeURL"]).status_code == 200
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    sns.publish(TopicArn=topic, Message="two")
    assert receive_all(sqs, url) == []


def test_raw_delivery_maps_message_attributes(broker, sns, sqs):
    topic, url, _ = topic_with_queue(broker, raw=True)
    sns.publish(
        TopicArn=topic,
        Message="raw body",
        MessageAttributes={
            "s": {"DataType": "String", "StringValue": "v"},
            "n": {"DataType": "Number.int", "StringValue": "7"},
            "b": {"DataType": "Binary", "BinaryValue": b"\xff"},
        },
    )
    (msg,) = receive_all(sqs, url)
    assert msg["Body"] == "raw body"
    assert msg["MessageAttributes"] == {
        "s": {"StringValue": "v", "DataType": "String"},
        "n": {"StringValue": "7", "DataType": "Number.int"},
        "b": {"BinaryValue": b"\xff", "DataType": "Binary"},
    }


def test_fan_out_to_many_queues_in_one_publish(broker, sns, sqs):
    topic = sns.create_topic(Name="fan")["TopicArn"]
    urls = []
    for i in range(5):
        url = sqs.create_queue(QueueName=f"fan-{i}")["QueueUrl"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url))
        urls.append(url)
    r = sns.publish(TopicArn=topic, Message="to all")
    for url in urls:
        (env,) = bodies(receive_all(sqs, url))
        assert (env["MessageId"], env["Message"]) == (r["MessageId"], "to all")


def test_message_structure_json_picks_the_sqs_entry(broker, sns, sqs):
    topic, url, _ = topic_with_queue(broker)
    raw_topic, raw_url, _ = topic_with_queue(broker, name="raw", raw=True)
    doc = json.dumps({"default": "for everyone", "sqs": "for queues", "email": "for mail"})
    sns.publish(TopicArn=topic, Message=doc, MessageStructure="json")
    sns.publish(TopicArn=raw_topic, Message=json.dumps({"default": "only default"}), MessageStructure="json")
    assert bodies(receive_all(sqs, url))[0]["Message"] == "for queues"
    assert receive_all(sqs, raw_url)[0]["Body"] == "only default"


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ("not json", "JSON message body failed to parse"),
        ('{"sqs": "no default"}', "No default entry in JSON message body"),
        ('["default"]', "JSON message body failed to parse"),
    ],
)
def test_bad_message_structure(broker, sns, message, fragment):
    topic = sns.create_topic(Name="structure")["TopicArn"]
    err = error_400(sns.publish, TopicArn=topic, Message=message, MessageStructure="json")
    assert err["Code"] == "InvalidParameter"
    assert fragment in err["Message"]


def test_publish_input_errors(broker, sns):
    topic = sns.create_topic(Name="errors")["TopicArn"]
    assert error_400(sns.publish, TopicArn=topic, Message="")["Message"] == "Invalid parameter: Empty message"
    assert error_400(sns.publish, TopicArn=topic, Message="x" * 262_145)["Message"] == (
        "Invalid parameter: Message too long"
    )
    sns.publish(TopicArn=topic, Message="x" * 262_144)  # exactly the limit
    for subject in ("", "x" * 101, "line\nbreak", " leading space"):
        assert error_400(sns.publish, TopicArn=topic, Message="m", Subject=subject)["Message"] == (
            "Invalid parameter: Subject"
        )
    err = error_400(sns.publish, TopicArn=topic, Message="m", MessageDeduplicationId="d")
    assert "MessageDeduplicationId" in err["Message"]


@pytest.mark.parametrize(
    ("attr", "fragment"),
    [
        ({"DataType": "Number", "StringValue": "abc"}, "Could not cast"),
        ({"DataType": "Integer", "StringValue": "1"}, "invalid message attribute type"),
        ({"DataType": "String", "StringValue": ""}, "must contain non-empty message attribute value"),
        ({"DataType": "String.Array", "StringValue": "not an array"}, "String.Array"),
        ({"DataType": "String.Array", "StringValue": '[{"nested": 1}]'}, "String.Array"),
    ],
)
def test_bad_message_attributes(broker, sns, attr, fragment):
    topic = sns.create_topic(Name="bad-attrs")["TopicArn"]
    err = error_400(sns.publish, TopicArn=topic, Message="m", MessageAttributes={"a": attr})
    assert err["Code"] == "ParameterValueInvalid"
    assert fragment in err["Message"]


@pytest.mark.parametrize("name", ["AWS.reserved", "Amazon.x", ".lead", "trail.", "two..dots", "sp ace"])
def test_bad_message_attribute_names(broker, sns, name):
    topic = sns.create_topic(Name="bad-names")["TopicArn"]
    attrs = {name: {"DataType": "String", "StringValue": "v"}}
    assert outcome(sns.publish, TopicArn=topic, Message="m", MessageAttributes=attrs) == (400, "ParameterValueInvalid")


def test_publish_needs_a_target(broker, sns):
    err = error_400(sns.publish, Message="m")
    assert err["Message"] == "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"


def test_unconfirmed_subscription_gets_nothing(broker, sns, sqs):
    topic = sns.create_topic(Name="pending")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="someone@example.com")
    sns.publish(TopicArn=topic, Message="m")
    outbox = broker.admin("GET", "/_broker/sns/outbox", params={"topic_arn": topic})["messages"]
    assert [o["message"]["Type"] for o in outbox] == ["SubscriptionConfirmation"]


def test_publish_batch(broker, sns, sqs):
    topic, url, _ = topic_with_queue(broker)
    r = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "ok1", "Message": "first"},
            {"Id": "ok2", "Message": "second", "Subject": "s"},
        ],
    )
    assert [s["Id"] for s in r["Successful"]] == ["ok1", "ok2"]
    assert r["Failed"] == []
    got = {e["MessageId"]: e["Message"] for e in bodies(receive_all(sqs, url))}
    assert got == {r["Successful"][0]["MessageId"]: "first", r["Successful"][1]["MessageId"]: "second"}
    # An entry AWS refuses fails the whole request, as Publish would: nothing of the batch is sent.
    bad = {"Id": "bad", "Message": "m", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "x"}}}
    err = error_400(
        sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[{"Id": "ok1", "Message": "first"}, bad]
    )
    assert (err["Code"], err["Message"]) == (
        "ParameterValueInvalid",
        "Could not cast message attribute 'n' value to number.",
    )
    assert receive_all(sqs, url) == []


def test_publish_batch_errors(broker, sns):
    topic = sns.create_topic(Name="batch-errors")["TopicArn"]
    assert outcome(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[]) == (400, "EmptyBatchRequest")
    eleven = [{"Id": str(i), "Message": "m"} for i in range(11)]
    assert outcome(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=eleven) == (
        400,
        "TooManyEntriesInBatchRequest",
    )
    same = [{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "n"}]
    assert outcome(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=same) == (
        400,
        "BatchEntryIdsNotDistinct",
    )
    bad_id = [{"Id": "no spaces", "Message": "m"}]
    assert outcome(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=bad_id) == (
        400,
        "InvalidBatchEntryId",
    )
    big = [{"Id": str(i), "Message": "x" * 100_000} for i in range(3)]
    assert outcome(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=big) == (400, "BatchRequestTooLong")


def test_deleted_queue_sends_to_the_subscription_dead_letter_queue(broker, sns, sqs):
    dlq = sqs.create_queue(QueueName="sub-dlq")["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq)})
    topic, url, _ = topic_with_queue(broker, name="lossy", RedrivePolicy=policy)
    sqs.delete_queue(QueueUrl=url)
    r = sns.publish(TopicArn=topic, Message="undeliverable")
    (env,) = bodies(receive_all(sqs, dlq))
    assert (env["MessageId"], env["Message"]) == (r["MessageId"], "undeliverable")


# -- FIFO topics -------------------------------------------------------------------------------------------------
def test_fifo_topic_to_fifo_queue_keeps_order_group_and_dedup(broker, sns, sqs):
    topic, url, _ = topic_with_queue(broker, name="ordered", fifo=True)
    seqs = []
    for i in range(5):
        r = sns.publish(TopicArn=topic, Message=f"m{i}", MessageGroupId="g1")
        seqs.append(int(r["SequenceNumber"]))
    dup = sns.publish(TopicArn=topic, Message="m0", MessageGroupId="g1")  # content-based duplicate
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert len(dup["SequenceNumber"]) == 20
    msgs = receive_all(sqs, url)
    envs = bodies(msgs)
    assert [e["Message"] for e in envs] == [f"m{i}" for i in range(5)]
    assert [int(e["SequenceNumber"]) for e in envs] == seqs
    assert {m["Attributes"]["MessageGroupId"] for m in msgs} == {"g1"}


def test_fifo_topic_requires_group_and_dedup(broker, sns):
    topic = sns.create_topic(Name="strict.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    err = error_400(sns.publish, TopicArn=topic, Message="m", MessageDeduplicationId="d")
    assert "MessageGroupId" in err["Message"]
    err = error_400(sns.publish, TopicArn=topic, Message="m", MessageGroupId="g")
    assert "ContentBasedDeduplication" in err["Message"]
    r = sns.publish(TopicArn=topic, Message="m", MessageGroupId="g", MessageDeduplicationId="d1")
    again = sns.publish(TopicArn=topic, Message="other", MessageGroupId="g", MessageDeduplicationId="d1")
    assert again["MessageId"] == r["MessageId"]


def test_fifo_deduplication_window_is_five_minutes(broker, sns, sqs):
    topic, url, _ = topic_with_queue(broker, name="window", fifo=True)
    first = sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")
    broker.advance(299)
    assert sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")["MessageId"] == first["MessageId"]
    broker.advance(2)
    assert sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")["MessageId"] != first["MessageId"]


def test_standard_topic_cannot_subscribe_a_fifo_queue(broker, sns, sqs):
    topic = sns.create_topic(Name="plain")["TopicArn"]
    url = sqs.create_queue(QueueName="strict.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    err = error_400(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url))
    assert "FIFO" in err["Message"]


def test_fifo_topic_accepts_only_sqs_subscriptions(broker, sns):
    topic = sns.create_topic(Name="only-sqs.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    assert outcome(sns.subscribe, TopicArn=topic, Protocol="email", Endpoint="a@example.com") == (
        400,
        "InvalidParameter",
    )
