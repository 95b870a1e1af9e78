"""SQS FIFO queues over the JSON protocol (boto3) and the query protocol: queue attributes, deduplication, message
groups, sequence numbers, receive request attempts.

AWS behaviour is the contract. Sources: the botocore SQS model (CreateQueue `Attributes`, SendMessage
`MessageGroupId` / `MessageDeduplicationId` / `DelaySeconds`, ReceiveMessage `ReceiveRequestAttemptId`), the SQS
Developer Guide ("FIFO queue delivery logic", "FIFO queue key terms", "Using the message deduplication ID", "Using the
message group ID", "High throughput for FIFO queues"), the AWS Knowledge Center article
"sqs-fifo-messages-not-returned", and responses recorded against real AWS by LocalStack's AWS-validated SQS suite
(tests/aws/services/sqs/test_sqs.py and its snapshot), cited test by test where the documentation is silent.
"""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.sqs.clients import client as _client
from tests.sqs.clients import queue_url
from tests.sqs.query_client import ACCOUNT, QueryClient, attributes

FIFO_DEFAULTS = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
FIFO_ONLY = set(FIFO_DEFAULTS)
DEDUP_WINDOW = 300  # seconds


@pytest.fixture
def sqs(broker):
    return _client(broker)


# -- helpers ---------------------------------------------------------------------------------------------------
def _fifo(sqs, name: str = "q.fifo", **attrs) -> str:
    attributes_ = {"FifoQueue": "true", **{k: str(v) for k, v in attrs.items()}}
    return sqs.create_queue(QueueName=name, Attributes=attributes_)["QueueUrl"]


def _standard(sqs, name: str = "std", **attrs) -> str:
    return sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]


def _send(sqs, url: str, body: str, group: str = "g", dedup: str | None = None, **kw) -> dict:
    params = {"QueueUrl": url, "MessageBody": body, "MessageGroupId": group, **kw}
    params["MessageDeduplicationId"] = dedup if dedup is not None else body
    return sqs.send_message(**params)


def _receive(sqs, url: str, n: int = 10, **kw) -> list[dict]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, **kw).get("Messages", [])


def _bodies(msgs: list[dict]) -> list[str]:
    return [m["Body"] for m in msgs]


def _delete(sqs, url: str, msgs: list[dict]) -> None:
    for m in msgs:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _drain(sqs, url: str) -> list[str]:
    """Bodies of everything receivable now, in the order received; each batch is deleted before the next."""
    out: list[str] = []
    for _ in range(100):
        msgs = _receive(sqs, url)
        if not msgs:
            return out
        out.extend(_bodies(msgs))
        _delete(sqs, url, msgs)
    raise AssertionError("queue never drained")


def _error(fn, **kw) -> dict:
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    resp = ei.value.response
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400, resp
    return resp["Error"]


def _attrs(sqs, url: str) -> dict[str, str]:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def _visible(sqs, url: str) -> int:
    return int(_attrs(sqs, url)["ApproximateNumberOfMessages"])


def _is_sequence_number(value: str) -> bool:
    # "SequenceNumber – The large, non-consecutive number that Amazon SQS assigns to each message"; AWS's are
    # 20-digit decimal strings (e.g. 18849496460467696128).
    return isinstance(value, str) and len(value) == 20 and value.isdigit()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- CreateQueue / queue attributes ----------------------------------------------------------------------------
def test_create_fifo_queue_and_its_default_attributes(sqs):
    url = _fifo(sqs, "orders.fifo")
    assert url.endswith(f"/{ACCOUNT}/orders.fifo")
    assert sqs.get_queue_url(QueueName="orders.fifo")["QueueUrl"] == url
    attrs = _attrs(sqs, url)
    for name, value in FIFO_DEFAULTS.items():
        assert attrs.get(name) == value, (name, attrs)
    assert attrs["VisibilityTimeout"] == "30" and attrs["DelaySeconds"] == "0"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders.fifo"
    selected = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["FifoQueue", "DeduplicationScope"])
    assert selected["Attributes"] == {"FifoQueue": "true", "DeduplicationScope": "queue"}


def test_create_fifo_queue_with_same_attributes_is_idempotent_different_conflicts(sqs):
    # LocalStack AWS-validated: test_create_fifo_queue_with_same_attributes_is_idempotent /
    # test_create_fifo_queue_with_different_attributes_raises_error.
    url = _fifo(sqs, "idem.fifo", ContentBasedDeduplication="true")
    assert _fifo(sqs, "idem.fifo", ContentBasedDeduplication="true") == url
    assert _fifo(sqs, "idem.fifo") == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as ei:
        _fifo(sqs, "idem.fifo", ContentBasedDeduplication="false")
    assert ei.value.response["Error"]["Code"] == "QueueAlreadyExists"


def test_fifo_queue_attribute_requires_the_fifo_suffix(sqs):
    err = _error(sqs.create_queue, QueueName="no-suffix", Attributes={"FifoQueue": "true"})
    assert err["Code"] == "InvalidParameterValue"
    assert "QueueUrls" not in sqs.list_queues()


def test_fifo_suffix_requires_the_fifo_queue_attribute(sqs):
    err = _error(sqs.create_queue, QueueName="looks-like.fifo")
    assert err["Code"] == "InvalidParameterValue"
    err = _error(sqs.create_queue, QueueName="looks-like.fifo", Attributes={"VisibilityTimeout": "10"})
    assert err["Code"] == "InvalidParameterValue"
    assert "QueueUrls" not in sqs.list_queues()


def test_standard_queue_has_no_fifo_attributes(sqs):
    url = _standard(sqs)
    assert not FIFO_ONLY & set(_attrs(sqs, url))


@pytest.mark.parametrize(
    "name, value, message",
    [
        # AWS (acceptance suite): the FIFO-only attributes are unknown to a standard queue, and the high-throughput
        # settings say why.
        ("ContentBasedDeduplication", "true", "Unknown Attribute ContentBasedDeduplication."),
        ("ContentBasedDeduplication", "false", "Unknown Attribute ContentBasedDeduplication."),
        (
            "DeduplicationScope",
            "messageGroup",
            "You can specify the DeduplicationScope only when FifoQueue is set to true.",
        ),
        (
            "FifoThroughputLimit",
            "perMessageGroupId",
            "You can specify the FifoThroughputLimit only when FifoQueue is set to true.",
        ),
    ],
)
def test_fifo_only_attributes_on_a_standard_queue_are_invalid_attribute_names(sqs, name, value, message):
    err = _error(sqs.create_queue, QueueName="std-fifo-attr", Attributes={name: value})
    assert (err["Code"], err["Message"]) == ("InvalidAttributeName", message)
    assert "QueueUrls" not in sqs.list_queues()
    url = _standard(sqs)
    err = _error(sqs.set_queue_attributes, QueueUrl=url, Attributes={name: value})
    assert (err["Code"], err["Message"]) == ("InvalidAttributeName", message)
    assert not FIFO_ONLY & set(_attrs(sqs, url))


def test_create_standard_queue_with_fifo_queue_false_is_an_unknown_attribute(sqs):
    # AWS (acceptance suite): FifoQueue=false is no way to ask for a standard queue.
    err = _error(sqs.create_queue, QueueName="plain", Attributes={"FifoQueue": "false"})
    assert (err["Code"], err["Message"]) == ("InvalidAttributeName", "Unknown Attribute FifoQueue.")
    assert "QueueUrls" not in sqs.list_queues()


def test_set_fifo_queue_on_a_standard_queue_is_an_unknown_attribute(sqs):
    # "FifoQueue ... You can provide this attribute only during queue creation. You can't change it for an existing
    # queue." (CreateQueue). LocalStack snapshot test_set_unsupported_attribute_fifo: "Unknown Attribute FifoQueue."
    url = _standard(sqs)
    err = _error(sqs.set_queue_attributes, QueueUrl=url, Attributes={"FifoQueue": "true"})
    assert err["Code"] == "InvalidAttributeName"
    assert err["Message"] == "Unknown Attribute FifoQueue."
    assert "FifoQueue" not in _attrs(sqs, url)
    sqs.send_message(QueueUrl=url, MessageBody="still standard")  # no group id needed


def test_set_fifo_queue_false_on_a_standard_queue_is_refused(sqs):
    # AWS (acceptance suite): InvalidAttributeValue, the same words as for a FIFO queue set to false.
    url = _standard(sqs)
    err = _error(sqs.set_queue_attributes, QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert err["Code"] == "InvalidAttributeValue"
    assert err["Message"] == "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
    assert "FifoQueue" not in _attrs(sqs, url)


def test_set_fifo_queue_false_on_a_fifo_queue_is_refused(sqs):
    # LocalStack snapshot test_set_unsupported_attribute_fifo (recorded on AWS): InvalidAttributeValue,
    # "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
    url = _fifo(sqs)
    err = _error(sqs.set_queue_attributes, QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert err["Code"] == "InvalidAttributeValue"
    assert err["Message"] == "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
    assert _attrs(sqs, url)["FifoQueue"] == "true"
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="needs a group")


def test_set_fifo_queue_true_on_a_fifo_queue_is_accepted(sqs):
    # LocalStack test_set_unsupported_attribute_fifo (AWS-validated): setting the value it already has succeeds.
    url = _fifo(sqs)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    assert _attrs(sqs, url)["FifoQueue"] == "true"


def test_content_based_deduplication_can_be_changed(sqs):
    # LocalStack AWS-validated: test_fifo_set_content_based_deduplication_strategy.
    url = _fifo(sqs, ContentBasedDeduplication="true")
    assert _attrs(sqs, url)["ContentBasedDeduplication"] == "true"
    sqs.send_message(QueueUrl=url, MessageBody="hashed", MessageGroupId="g")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "false"})
    attrs = _attrs(sqs, url)
    assert attrs["ContentBasedDeduplication"] == "false" and attrs["FifoQueue"] == "true"
    err = _error(sqs.send_message, QueueUrl=url, MessageBody="no id now", MessageGroupId="g")
    assert err["Code"] == "InvalidParameterValue"


def test_high_throughput_mode_at_creation(sqs):
    url = _fifo(sqs, "ht.fifo", DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    attrs = _attrs(sqs, url)
    assert attrs["DeduplicationScope"] == "messageGroup"
    assert attrs["FifoThroughputLimit"] == "perMessageGroupId"
    assert attrs["FifoQueue"] == "true" and attrs["ContentBasedDeduplication"] == "false"


def test_high_throughput_mode_by_set_queue_attributes(sqs):
    url = _fifo(sqs)
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    )
    attrs = _attrs(sqs, url)
    assert (attrs["DeduplicationScope"], attrs["FifoThroughputLimit"]) == ("messageGroup", "perMessageGroupId")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoThroughputLimit": "perQueue"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "queue"})
    attrs = _attrs(sqs, url)
    assert (attrs["DeduplicationScope"], attrs["FifoThroughputLimit"]) == ("queue", "perQueue")


def test_per_message_group_throughput_requires_message_group_deduplication(sqs):
    # CreateQueue: "The perMessageGroupId value is allowed only when the value for DeduplicationScope is
    # messageGroup."
    err = _error(
        sqs.create_queue,
        QueueName="bad-ht.fifo",
        Attributes={"FifoQueue": "true", "DeduplicationScope": "queue", "FifoThroughputLimit": "perMessageGroupId"},
    )
    assert err["Code"] in ("InvalidAttributeValue", "InvalidParameterValue")
    assert "QueueUrls" not in sqs.list_queues()
    url = _fifo(sqs, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    err = _error(sqs.set_queue_attributes, QueueUrl=url, Attributes={"DeduplicationScope": "queue"})
    assert err["Code"] in ("InvalidAttributeValue", "InvalidParameterValue")
    assert _attrs(sqs, url)["DeduplicationScope"] == "messageGroup"


@pytest.mark.parametrize("name, value", [("DeduplicationScope", "topic"), ("FifoThroughputLimit", "perGroup")])
def test_invalid_high_throughput_values(sqs, name, value):
    err = _error(sqs.create_queue, QueueName="bad.fifo", Attributes={"FifoQueue": "true", name: value})
    assert err["Code"] == "InvalidAttributeValue"


# -- SendMessage / SendMessageBatch: required ids, delays ------------------------------------------------------
def test_send_requires_message_group_id(sqs):
    # LocalStack snapshot test_posting_to_fifo_requires_deduplicationid_group_id: MissingParameter,
    # "The request must contain the parameter MessageGroupId."
    url = _fifo(sqs)
    err = _error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert err["Code"] == "MissingParameter"
    assert "MessageGroupId" in err["Message"]
    assert _receive(sqs, url) == []


def test_send_requires_deduplication_id_without_content_based_deduplication(sqs):
    # "If you don't provide a MessageDeduplicationId and the queue doesn't have ContentBasedDeduplication set,
    # the action fails with an error." (SendMessage); InvalidParameterValue per the LocalStack snapshot.
    url = _fifo(sqs)
    err = _error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert err["Code"] == "InvalidParameterValue"
    assert _receive(sqs, url) == []


def test_batch_missing_message_group_id_refuses_the_whole_batch(sqs):
    # LocalStack snapshot test_send_batch_missing_message_group_id_for_fifo_queue (recorded on AWS): the whole
    # request fails with InvalidParameterValue "The request must contain the parameter MessageGroupId.".
    url = _fifo(sqs)
    entries = [
        {"Id": "ok", "MessageBody": "a", "MessageGroupId": "g", "MessageDeduplicationId": "a"},
        {"Id": "no-group", "MessageBody": "b", "MessageDeduplicationId": "b"},
    ]
    err = _error(sqs.send_message_batch, QueueUrl=url, Entries=entries)
    assert err["Code"] == "InvalidParameterValue"
    assert "MessageGroupId" in err["Message"]
    assert _receive(sqs, url) == []


def test_batch_missing_deduplication_id_refuses_the_whole_batch(sqs):
    # LocalStack snapshot test_send_batch_missing_deduplication_id_for_fifo_queue (recorded on AWS): the whole
    # request fails with InvalidParameterValue.
    url = _fifo(sqs)
    entries = [
        {"Id": "ok", "MessageBody": "a", "MessageGroupId": "g", "MessageDeduplicationId": "a"},
        {"Id": "no-dedup", "MessageBody": "b", "MessageGroupId": "g"},
    ]
    err = _error(sqs.send_message_batch, QueueUrl=url, Entries=entries)
    assert err["Code"] == "InvalidParameterValue"
    assert _receive(sqs, url) == []


def test_per_message_delay_is_refused(sqs):
    # SendMessage DelaySeconds: "When you set FifoQueue, you can't set DelaySeconds per message." LocalStack
    # snapshot test_fifo_queue_send_message_with_delay_seconds_fails: InvalidParameterValue.
    url = _fifo(sqs, ContentBasedDeduplication="true")
    err = _error(sqs.send_message, QueueUrl=url, MessageBody="late", MessageGroupId="g", DelaySeconds=2)
    assert err["Code"] == "InvalidParameterValue"
    assert "DelaySeconds" in err["Message"]
    assert _receive(sqs, url) == []


def test_per_message_delay_of_zero_is_accepted(sqs):
    # LocalStack AWS-validated: test_send_message_with_delay_0_works_for_fifo.
    url = _fifo(sqs)
    sent = sqs.send_message(
        QueueUrl=url, MessageBody="now", MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=0
    )
    assert _is_sequence_number(sent["SequenceNumber"])
    assert _bodies(_receive(sqs, url)) == ["now"]


def test_batch_per_message_delay_is_refused(sqs):
    url = _fifo(sqs)
    entries = [
        {"Id": "plain", "MessageBody": "plain", "MessageGroupId": "g", "MessageDeduplicationId": "p"},
        {
            "Id": "delayed",
            "MessageBody": "late",
            "MessageGroupId": "g",
            "MessageDeduplicationId": "l",
            "DelaySeconds": 5,
        },
    ]
    try:
        resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    except ClientError as e:  # refused as a whole, like a missing group id
        assert e.response["Error"]["Code"] == "InvalidParameterValue"
    else:  # or only that entry
        failed = {f["Id"]: f for f in resp.get("Failed", [])}
        assert set(failed) == {"delayed"}, resp
        assert failed["delayed"]["Code"] == "InvalidParameterValue" and failed["delayed"]["SenderFault"] is True
        assert [e["Id"] for e in resp["Successful"]] == ["plain"]
    assert "late" not in _drain(sqs, url)


def test_queue_delay_applies_to_fifo_messages(broker, sqs):
    # LocalStack AWS-validated: test_fifo_queue_send_message_with_delay_on_queue_works.
    url = _fifo(sqs, DelaySeconds=5, ContentBasedDeduplication="true")
    for body in ("m1", "m2", "m3"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    assert _receive(sqs, url) == []
    broker.advance(6)
    assert _bodies(_receive(sqs, url, 3)) == ["m1", "m2", "m3"]


def test_message_deduplication_id_on_a_standard_queue_is_refused(sqs):
    # "The request includes a parameter that is not valid for this queue type."
    url = _standard(sqs)
    err = _error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert err["Code"] == "InvalidParameterValue"
    assert _receive(sqs, url) == []


def test_message_group_id_on_a_standard_queue_is_kept(sqs):
    # SendMessage MessageGroupId: "In standard queues, using MessageGroupId enables fair queues."; ReceiveMessage
    # returns it as the MessageGroupId system attribute. Standard queues have no sequence numbers.
    url = _standard(sqs)
    sent = sqs.send_message(QueueUrl=url, MessageBody="tenant", MessageGroupId="tenant-1")
    assert "SequenceNumber" not in sent
    (msg,) = _receive(sqs, url, MessageSystemAttributeNames=["All"])
    assert msg["MessageId"] == sent["MessageId"]
    assert msg["Attributes"]["MessageGroupId"] == "tenant-1"
    assert "SequenceNumber" not in msg["Attributes"] and "MessageDeduplicationId" not in msg["Attributes"]


# -- sequence numbers ------------------------------------------------------------------------------------------
def test_sequence_numbers_are_20_digit_and_strictly_increasing(sqs):
    # LocalStack AWS-validated: test_sequence_number, test_fifo_sequence_number_increases.
    url = _fifo(sqs)
    seqs = [_send(sqs, url, f"s{i}")["SequenceNumber"] for i in range(3)]
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": f"b{i}", "MessageBody": f"b{i}", "MessageGroupId": "g", "MessageDeduplicationId": f"b{i}"}
            for i in range(4)
        ],
    )
    assert batch.get("Failed", []) == []
    by_id = {e["Id"]: e for e in batch["Successful"]}
    seqs += [by_id[f"b{i}"]["SequenceNumber"] for i in range(4)]
    seqs.append(_send(sqs, url, "last")["SequenceNumber"])
    assert all(_is_sequence_number(s) for s in seqs), seqs
    numbers = [int(s) for s in seqs]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), seqs
    got = _receive(sqs, url, MessageSystemAttributeNames=["SequenceNumber"])
    assert [m["Attributes"]["SequenceNumber"] for m in got] == seqs[: len(got)]
    assert len(got) == 8


def test_send_response_shape(sqs):
    url = _fifo(sqs)
    sent = _send(sqs, url, "shape")
    assert set(sent) - {"ResponseMetadata"} == {"MessageId", "MD5OfMessageBody", "SequenceNumber"}
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"shape").hexdigest()


# -- deduplication ---------------------------------------------------------------------------------------------
def test_duplicate_within_the_window_answers_with_the_original_and_is_not_enqueued(sqs):
    url = _fifo(sqs)
    first = _send(sqs, url, "original", dedup="d-1")
    again = _send(sqs, url, "original", dedup="d-1")
    other_body = _send(sqs, url, "different body", dedup="d-1")
    for dup in (again, other_body):
        assert dup["MessageId"] == first["MessageId"]
        assert dup["SequenceNumber"] == first["SequenceNumber"]
    assert _visible(sqs, url) == 1
    got = _receive(sqs, url)
    assert [(m["MessageId"], m["Body"]) for m in got] == [(first["MessageId"], "original")]


def test_duplicate_after_delete_is_still_not_delivered(sqs):
    # "Amazon SQS continues to keep track of the message deduplication ID even after the message is received and
    # deleted." (SendMessage). LocalStack AWS-validated: test_fifo_deduplication_arrives_once_after_delete.
    url = _fifo(sqs)
    first = _send(sqs, url, "once", dedup="d")
    (msg,) = _receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    again = _send(sqs, url, "once", dedup="d")
    assert again["MessageId"] == first["MessageId"]
    assert _receive(sqs, url) == []


def test_deduplication_window_is_five_minutes(broker, sqs):
    url = _fifo(sqs)
    first = _send(sqs, url, "v1", dedup="d")
    broker.advance(DEDUP_WINDOW - 30)
    assert _send(sqs, url, "v1-dup", dedup="d")["MessageId"] == first["MessageId"]
    broker.advance(31)  # 301 s after the first send
    later = _send(sqs, url, "v2", dedup="d")
    assert later["MessageId"] != first["MessageId"]
    assert int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    got = _receive(sqs, url)
    assert [(m["MessageId"], m["Body"]) for m in got] == [(first["MessageId"], "v1"), (later["MessageId"], "v2")]
    # ... and the new message opened a new window.
    assert _send(sqs, url, "v2-dup", dedup="d")["MessageId"] == later["MessageId"]


def test_content_based_deduplication_uses_sha256_of_the_body(sqs):
    # "Amazon SQS uses a SHA-256 hash to generate the MessageDeduplicationId using the body of the message (but not
    # the attributes of the message)." (SendMessage)
    url = _fifo(sqs, ContentBasedDeduplication="true")
    body = '{"order": 1, "ü": "€"}'
    first = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    dup = sqs.send_message(
        QueueUrl=url,
        MessageBody=body,
        MessageGroupId="g",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "not hashed"}},
    )
    assert dup["MessageId"] == first["MessageId"]
    other = sqs.send_message(QueueUrl=url, MessageBody=body + " ", MessageGroupId="g")
    assert other["MessageId"] != first["MessageId"]
    got = _receive(sqs, url, MessageSystemAttributeNames=["MessageDeduplicationId"])
    assert [(m["Body"], m["Attributes"]["MessageDeduplicationId"]) for m in got] == [
        (body, sha256(body)),
        (body + " ", sha256(body + " ")),
    ]


def test_explicit_deduplication_id_overrides_the_content_hash(sqs):
    # "If the queue has ContentBasedDeduplication set, your MessageDeduplicationId overrides the generated one."
    url = _fifo(sqs, ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="a")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="b")
    assert a["MessageId"] != b["MessageId"]
    got = _receive(sqs, url, MessageSystemAttributeNames=["MessageDeduplicationId"])
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == ["a", "b"]


def test_explicit_id_equal_to_an_earlier_content_hash_is_a_duplicate(sqs):
    # "If you send one message with ContentBasedDeduplication enabled and then another message with a
    # MessageDeduplicationId that is the same as the one generated for the first MessageDeduplicationId, the two
    # messages are treated as duplicates" (SendMessage).
    url = _fifo(sqs, ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="hashed body", MessageGroupId="g")
    dup = sqs.send_message(
        QueueUrl=url, MessageBody="another body", MessageGroupId="g", MessageDeduplicationId=sha256("hashed body")
    )
    assert dup["MessageId"] == first["MessageId"]
    assert _bodies(_receive(sqs, url)) == ["hashed body"]


@pytest.mark.parametrize("content_based", [False, True])
def test_queue_scope_deduplicates_across_groups(sqs, content_based):
    # Default DeduplicationScope is queue. LocalStack AWS-validated: test_fifo_deduplication_not_on_message_group_id.
    url = _fifo(sqs, ContentBasedDeduplication=str(content_based).lower())
    kw = {} if content_based else {"MessageDeduplicationId": "d"}
    first = sqs.send_message(QueueUrl=url, MessageBody="item", MessageGroupId="group-1", **kw)
    dup = sqs.send_message(QueueUrl=url, MessageBody="item", MessageGroupId="group-2", **kw)
    assert dup["MessageId"] == first["MessageId"]
    got = _receive(sqs, url, MessageSystemAttributeNames=["MessageGroupId"])
    assert [m["Attributes"]["MessageGroupId"] for m in got] == ["group-1"]


@pytest.mark.parametrize("throughput", ["perMessageGroupId", "perQueue"])
def test_message_group_scope_deduplicates_per_group(sqs, throughput):
    # DeduplicationScope "Specifies whether message deduplication occurs at the message group or queue level."
    url = _fifo(sqs, DeduplicationScope="messageGroup", FifoThroughputLimit=throughput)
    a = _send(sqs, url, "for A", group="A", dedup="same")
    b = _send(sqs, url, "for B", group="B", dedup="same")
    assert a["MessageId"] != b["MessageId"]
    a_dup = _send(sqs, url, "for A again", group="A", dedup="same")
    assert (a_dup["MessageId"], a_dup["SequenceNumber"]) == (a["MessageId"], a["SequenceNumber"])
    got = _receive(sqs, url, MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"])
    assert sorted((m["Body"], m["Attributes"]["MessageGroupId"]) for m in got) == [("for A", "A"), ("for B", "B")]
    assert {m["Attributes"]["MessageDeduplicationId"] for m in got} == {"same"}


def test_duplicates_inside_one_batch(sqs):
    url = _fifo(sqs)
    entries = [
        {"Id": "e1", "MessageBody": "one", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
        {"Id": "e2", "MessageBody": "two", "MessageGroupId": "g", "MessageDeduplicationId": "d2"},
        {"Id": "e3", "MessageBody": "one again", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
    ]
    resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert resp.get("Failed", []) == []
    by_id = {e["Id"]: e for e in resp["Successful"]}
    assert set(by_id) == {"e1", "e2", "e3"}
    assert by_id["e3"]["MessageId"] == by_id["e1"]["MessageId"]
    assert by_id["e3"]["SequenceNumber"] == by_id["e1"]["SequenceNumber"]
    assert by_id["e2"]["MessageId"] != by_id["e1"]["MessageId"]
    assert int(by_id["e1"]["SequenceNumber"]) < int(by_id["e2"]["SequenceNumber"])
    got = _receive(sqs, url)
    assert [(m["MessageId"], m["Body"]) for m in got] == [
        (by_id["e1"]["MessageId"], "one"),
        (by_id["e2"]["MessageId"], "two"),
    ]


def test_batch_entry_duplicating_an_earlier_send(sqs):
    url = _fifo(sqs)
    first = _send(sqs, url, "first", dedup="d")
    resp = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "dup", "MessageBody": "dup", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
            {"Id": "new", "MessageBody": "new", "MessageGroupId": "g", "MessageDeduplicationId": "n"},
        ],
    )
    by_id = {e["Id"]: e for e in resp["Successful"]}
    assert by_id["dup"]["MessageId"] == first["MessageId"]
    assert by_id["dup"]["SequenceNumber"] == first["SequenceNumber"]
    assert _bodies(_receive(sqs, url)) == ["first", "new"]


def test_purge_clears_the_deduplication_history(sqs):
    # LocalStack AWS-validated: test_purge_queue_clears_fifo_deduplication_cache.
    url = _fifo(sqs)
    first = _send(sqs, url, "message-1", dedup="d")
    sqs.purge_queue(QueueUrl=url)
    second = _send(sqs, url, "message-2", dedup="d")
    assert second["MessageId"] != first["MessageId"]
    assert _bodies(_receive(sqs, url)) == ["message-2"]


# -- ReceiveMessage: ordering and message groups ---------------------------------------------------------------
def test_strict_order_within_a_group(sqs):
    # LocalStack AWS-validated: test_fifo_queue_send_multiple_messages_multiple_single_receives.
    url = _fifo(sqs)
    sent = [_send(sqs, url, f"m{i}") for i in range(6)]
    for i in range(6):
        (msg,) = _receive(sqs, url, 1)
        assert (msg["Body"], msg["MessageId"]) == (f"m{i}", sent[i]["MessageId"])
        assert msg["MD5OfBody"] == sent[i]["MD5OfMessageBody"]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert _receive(sqs, url) == []


def test_group_is_blocked_while_a_message_is_in_flight_other_groups_are_not(sqs):
    # ReceiveMessage: "While messages with a particular MessageGroupId are invisible, no more messages belonging to
    # the same MessageGroupId are returned until the visibility timeout expires. You can still receive messages with
    # another MessageGroupId from your FIFO queue as long as they are visible."
    url = _fifo(sqs)
    _send(sqs, url, "a1", group="A")
    _send(sqs, url, "a2", group="A")
    _send(sqs, url, "b1", group="B")
    _send(sqs, url, "a3", group="A")
    _send(sqs, url, "b2", group="B")
    assert _bodies(_receive(sqs, url, 1)) == ["a1"]
    assert _bodies(_receive(sqs, url)) == ["b1", "b2"]
    assert _receive(sqs, url) == []
    counts = _attrs(sqs, url)
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "3"


def test_expired_visibility_delivers_the_same_message_before_later_ones(broker, sqs):
    # LocalStack AWS-validated: test_fifo_messages_in_order_after_timeout.
    url = _fifo(sqs)
    for i in range(3):
        _send(sqs, url, f"m{i}")
    (first,) = _receive(sqs, url, 1, MessageSystemAttributeNames=["ApproximateReceiveCount"])
    assert first["Body"] == "m0"
    broker.advance(29)
    assert _receive(sqs, url) == []
    broker.advance(2)
    again = _receive(sqs, url, MessageSystemAttributeNames=["ApproximateReceiveCount"])
    assert _bodies(again) == ["m0", "m1", "m2"]
    assert again[0]["MessageId"] == first["MessageId"]
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in again] == ["2", "1", "1"]
    assert again[0]["ReceiptHandle"] != first["ReceiptHandle"]


def test_delete_unblocks_the_next_message_of_the_group(sqs):
    url = _fifo(sqs)
    for i in range(3):
        _send(sqs, url, f"m{i}")
    (m0,) = _receive(sqs, url, 1)
    assert _receive(sqs, url) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m0["ReceiptHandle"])
    assert _bodies(_receive(sqs, url, 1)) == ["m1"]


def test_deleting_again_succeeds_also_when_a_later_message_took_the_row(sqs):
    """A retried delete of a message already deleted succeeds (a client retrying after a lost answer must not be
    told its handle expired), also when the next message sent is stored where the deleted one was (SQLite reuses
    the highest row id); the later message is untouched."""
    url = _fifo(sqs, "reuse.fifo")
    _send(sqs, url, "first")
    (first,) = _receive(sqs, url, 1)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    _send(sqs, url, "second")
    out = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": first["ReceiptHandle"]}])
    assert out["Successful"] == [{"Id": "a"}] and not out.get("Failed")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert _bodies(_receive(sqs, url, 1)) == ["second"]


def test_several_messages_of_a_group_in_one_receive_in_order(sqs):
    url = _fifo(sqs)
    sent = [_send(sqs, url, f"m{i}")["MessageId"] for i in range(7)]
    got = _receive(sqs, url, 5)
    assert _bodies(got) == [f"m{i}" for i in range(5)]
    assert [m["MessageId"] for m in got] == sent[:5]
    assert _receive(sqs, url) == []  # the rest of the group waits for these
    _delete(sqs, url, got)
    assert _bodies(_receive(sqs, url)) == ["m5", "m6"]


def test_receive_returns_as_many_messages_of_one_group_as_possible(sqs):
    # Knowledge Center "sqs-fifo-messages-not-returned": "When you specify a MaxNumberOfMessages parameter in the
    # ReceiveMessage API call, SQS returns as many messages with the same message group ID as possible."
    # LocalStack AWS-validated: test_fifo_receive_message_group_id_ordering (g1-m1, g1-m2, g1-m3, g2-m1).
    url = _fifo(sqs, ContentBasedDeduplication="true")
    for body, group in (("g1-m1", "group-1"), ("g2-m1", "group-2"), ("g1-m2", "group-1"), ("g1-m3", "group-1")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    assert _bodies(_receive(sqs, url)) == ["g1-m1", "g1-m2", "g1-m3", "g2-m1"]


def test_one_group_fills_a_receive_even_when_groups_are_interleaved(sqs):
    # 30 groups sent round-robin, 12 messages each: a receive of 10 takes g0's first ten, the next one g1's, so that
    # each consumer holds one group and the others stay free for other consumers.
    url = _fifo(sqs)
    for i in range(0, 360, 10):
        entries = [
            {"Id": str(k), "MessageBody": f"g{(i + k) % 30}-{(i + k) // 30}", "MessageGroupId": f"g{(i + k) % 30}"}
            for k in range(10)
        ]
        entries = [{**e, "MessageDeduplicationId": e["MessageBody"]} for e in entries]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert _bodies(_receive(sqs, url)) == [f"g0-{n}" for n in range(10)]
    assert _bodies(_receive(sqs, url)) == [f"g1-{n}" for n in range(10)]


def test_max_number_of_messages_takes_from_the_first_group(sqs):
    # LocalStack AWS-validated: test_fifo_receive_message_visibility_timeout_shared_in_group.
    url = _fifo(sqs, ContentBasedDeduplication="true")
    for body in ("g1-m1", "g1-m2", "g1-m3", "g1-m4", "g2-m1", "g3-m1"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body[:2])
    assert _bodies(_receive(sqs, url, 2)) == ["g1-m1", "g1-m2"]
    assert _bodies(_receive(sqs, url, 1)) == ["g2-m1"]
    assert _bodies(_receive(sqs, url)) == ["g3-m1"]


def test_partial_delete_keeps_the_group_blocked(sqs):
    # After LocalStack's AWS-validated test_fifo_message_group_visibility_after_partial_delete (sent here so that the
    # first receive does not depend on how groups are picked).
    url = _fifo(sqs, ContentBasedDeduplication="true")
    for body in ("g1-m1", "g1-m2", "g2-m1", "g2-m2", "g1-m3", "g3-m1"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body[:2])
    first = _receive(sqs, url, 2)
    assert _bodies(first) == ["g1-m1", "g1-m2"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert sorted(_bodies(_receive(sqs, url))) == ["g2-m1", "g2-m2", "g3-m1"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"])
    assert _bodies(_receive(sqs, url)) == ["g1-m3"]


def test_change_visibility_to_zero_releases_the_group(sqs):
    url = _fifo(sqs)
    _send(sqs, url, "m0")
    _send(sqs, url, "m1")
    (m0,) = _receive(sqs, url, 1)
    assert _receive(sqs, url) == []
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m0["ReceiptHandle"], VisibilityTimeout=0)
    again = _receive(sqs, url, 1, MessageSystemAttributeNames=["ApproximateReceiveCount"])
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in again] == [("m0", "2")]


def test_message_made_visible_again_is_delivered_while_a_later_one_is_in_flight(sqs):
    # LocalStack AWS-validated: test_fifo_message_group_visibility_after_terminate_visibility_timeout — "a message
    # group becomes visible as soon as a message within it has become visible again": g1-m1 comes back (with g2-m1)
    # although g1-m2 is still in flight.
    url = _fifo(sqs, VisibilityTimeout=30, ContentBasedDeduplication="true")
    for body in ("g1-m1", "g1-m2", "g2-m1"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body[:2])
    got = _receive(sqs, url, 2)
    assert _bodies(got) == ["g1-m1", "g1-m2"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert sorted(_bodies(_receive(sqs, url, 3))) == ["g1-m1", "g2-m1"]


def test_receive_with_visibility_timeout_zero_leaves_the_group_open(sqs):
    url = _fifo(sqs)
    _send(sqs, url, "m0")
    _send(sqs, url, "m1")
    assert _bodies(_receive(sqs, url, 1, VisibilityTimeout=0)) == ["m0"]
    assert _bodies(_receive(sqs, url, 1, VisibilityTimeout=0)) == ["m0"]
    assert _bodies(_receive(sqs, url)) == ["m0", "m1"]


def test_approximate_number_of_messages(sqs):
    # LocalStack AWS-validated: test_fifo_approx_number_of_messages.
    url = _fifo(sqs, ContentBasedDeduplication="true")
    for body, group in (("g1-m1", "1"), ("g1-m2", "1"), ("g1-m3", "1"), ("g2-m1", "2"), ("g3-m1", "3")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    assert _visible(sqs, url) == 5
    got = _receive(sqs, url, 4)
    assert len(got) == 4
    assert _visible(sqs, url) == 1
    _delete(sqs, url, got)
    assert _visible(sqs, url) == 1


def test_delete_with_an_expired_receipt_handle_is_refused(broker, sqs):
    # LocalStack snapshot test_fifo_delete_message_with_expired_receipt_handle (recorded on AWS):
    # InvalidParameterValue, "Value <handle> for parameter ReceiptHandle is invalid. Reason: The receipt handle has
    # expired." The message stays in the queue.
    url = _fifo(sqs)
    sent = _send(sqs, url, "slow consumer", dedup="slow")
    (msg,) = _receive(sqs, url, 1, VisibilityTimeout=5)
    broker.advance(6)
    err = _error(sqs.delete_message, QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert err["Code"] == "InvalidParameterValue"
    (again,) = _receive(sqs, url, 1)
    assert again["MessageId"] == sent["MessageId"]


# -- system attributes -----------------------------------------------------------------------------------------
def test_fifo_system_attributes(sqs):
    # LocalStack snapshot test_fifo_message_attributes: All returns MessageDeduplicationId, MessageGroupId and
    # SequenceNumber besides the four standard system attributes.
    url = _fifo(sqs, VisibilityTimeout=0)
    sent = _send(sqs, url, "message-body-1", group="group-1", dedup="dedup-1")
    (msg,) = _receive(sqs, url, MessageSystemAttributeNames=["All"])
    assert msg["Attributes"]["MessageGroupId"] == "group-1"
    assert msg["Attributes"]["MessageDeduplicationId"] == "dedup-1"
    assert msg["Attributes"]["SequenceNumber"] == sent["SequenceNumber"]
    assert msg["Attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SenderId", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(msg["Attributes"])
    (msg,) = _receive(sqs, url, MessageSystemAttributeNames=["MessageGroupId", "SequenceNumber"])
    assert msg["Attributes"] == {"MessageGroupId": "group-1", "SequenceNumber": sent["SequenceNumber"]}
    (msg,) = _receive(sqs, url, AttributeNames=["MessageDeduplicationId"])
    assert msg["Attributes"] == {"MessageDeduplicationId": "dedup-1"}
    (msg,) = _receive(sqs, url)
    assert "Attributes" not in msg


# -- ReceiveRequestAttemptId -----------------------------------------------------------------------------------
def test_retry_with_the_same_attempt_id_returns_the_same_messages_and_handles(sqs):
    # ReceiveRequestAttemptId: "During a visibility timeout, subsequent calls with the same ReceiveRequestAttemptId
    # return the same messages and receipt handles."
    url = _fifo(sqs)
    for body, group in (("a1", "A"), ("a2", "A"), ("b1", "B")):
        _send(sqs, url, body, group=group)
    first = _receive(sqs, url, 2, ReceiveRequestAttemptId="attempt-1")
    assert _bodies(first) == ["a1", "a2"]
    retry = _receive(sqs, url, 2, ReceiveRequestAttemptId="attempt-1")
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in retry] == [
        (m["MessageId"], m["ReceiptHandle"]) for m in first
    ]
    other = _receive(sqs, url, 2, ReceiveRequestAttemptId="attempt-2")
    assert _bodies(other) == ["b1"]
    assert _receive(sqs, url) == []
    # The handles of the retried answer are real: deleting with them frees group A.
    _delete(sqs, url, retry)
    assert _receive(sqs, url) == []
    assert _attrs(sqs, url)["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_a_new_attempt_id_does_not_get_messages_of_a_group_in_flight(sqs):
    url = _fifo(sqs)
    _send(sqs, url, "a1", group="A")
    _send(sqs, url, "a2", group="A")
    assert _bodies(_receive(sqs, url, 1, ReceiveRequestAttemptId="one")) == ["a1"]
    assert _receive(sqs, url, 1, ReceiveRequestAttemptId="two") == []
    assert _bodies(_receive(sqs, url, 1, ReceiveRequestAttemptId="one")) == ["a1"]


def test_retry_with_the_same_attempt_id_resets_the_visibility_timeout(broker, sqs):
    # ReceiveRequestAttemptId: "If a retry occurs within the deduplication interval, it resets the visibility
    # timeout."
    url = _fifo(sqs)
    _send(sqs, url, "m")
    (first,) = _receive(sqs, url, 1, ReceiveRequestAttemptId="retry-me")
    broker.advance(20)
    (retry,) = _receive(sqs, url, 1, ReceiveRequestAttemptId="retry-me")
    assert retry["ReceiptHandle"] == first["ReceiptHandle"]
    broker.advance(20)  # 40 s after the receive, 20 s after the retry
    assert _receive(sqs, url) == []
    broker.advance(11)
    assert _bodies(_receive(sqs, url)) == ["m"]


def test_invalid_attempt_id_is_refused(sqs):
    url = _fifo(sqs)
    err = _error(sqs.receive_message, QueueUrl=url, ReceiveRequestAttemptId="x" * 129)
    assert err["Code"] == "InvalidParameterValue"


# -- long polling ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("release", ["delete", "change_visibility"])
def test_long_poll_is_woken_when_the_group_is_unblocked(broker, sqs, release):
    url = _fifo(sqs)
    _send(sqs, url, "m0")
    _send(sqs, url, "m1")
    (m0,) = _receive(sqs, url, 1)
    other = _client(broker, access_key="other-thread")

    def unblock() -> None:
        if release == "delete":
            other.delete_message(QueueUrl=url, ReceiptHandle=m0["ReceiptHandle"])
        else:
            other.change_message_visibility(QueueUrl=url, ReceiptHandle=m0["ReceiptHandle"], VisibilityTimeout=0)

    timer = threading.Timer(0.5, unblock)
    start = time.monotonic()
    timer.start()
    try:
        got = _receive(sqs, url, 1, WaitTimeSeconds=3)
    finally:
        timer.join()
    elapsed = time.monotonic() - start
    assert _bodies(got) == (["m1"] if release == "delete" else ["m0"])
    assert 0.4 <= elapsed < 2.0, elapsed


def test_long_poll_on_a_blocked_group_waits_for_the_whole_time(sqs):
    url = _fifo(sqs)
    _send(sqs, url, "m0")
    _send(sqs, url, "m1")
    _receive(sqs, url, 1)
    start = time.monotonic()
    assert _receive(sqs, url, WaitTimeSeconds=1) == []
    assert time.monotonic() - start >= 0.9


# -- query protocol --------------------------------------------------------------------------------------------
@pytest.fixture
def q(broker) -> QueryClient:
    return QueryClient(broker.url)


def test_query_fifo_send_and_receive(q, broker):
    url = q.create_queue("query.fifo", [("Attribute.1.Name", "FifoQueue"), ("Attribute.1.Value", "true")])
    assert url == queue_url(broker, "query.fifo")
    got = q.call("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"}).result("GetQueueAttributes")
    attrs = attributes(got)
    for name, value in FIFO_DEFAULTS.items():
        assert attrs[name] == value, attrs

    sent = q.send(url, "first", {"MessageGroupId": "grp", "MessageDeduplicationId": "dd-1"})
    assert sent.findtext("MessageId") and sent.findtext("MD5OfMessageBody") == hashlib.md5(b"first").hexdigest()
    seq = sent.findtext("SequenceNumber")
    assert _is_sequence_number(seq), seq
    dup = q.send(url, "first again", {"MessageGroupId": "grp", "MessageDeduplicationId": "dd-1"})
    assert (dup.findtext("MessageId"), dup.findtext("SequenceNumber")) == (sent.findtext("MessageId"), seq)
    second = q.send(url, "second", {"MessageGroupId": "grp", "MessageDeduplicationId": "dd-2"})
    assert int(second.findtext("SequenceNumber")) > int(seq)

    msgs = q.receive(url, [("AttributeName.1", "All"), ("MaxNumberOfMessages", "10")])
    assert [m.findtext("Body") for m in msgs] == ["first", "second"]
    system = attributes(msgs[0])
    assert system["MessageGroupId"] == "grp"
    assert system["MessageDeduplicationId"] == "dd-1"
    assert system["SequenceNumber"] == seq
    assert system["ApproximateReceiveCount"] == "1"
    assert {"SenderId", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(system)
    assert msgs[0].findtext("MessageId") == sent.findtext("MessageId")
    # The group is in flight now.
    assert q.receive(url, {"MaxNumberOfMessages": "10"}) == []


def test_query_fifo_errors(q):
    url = q.create_queue("qerr.fifo", {"Attribute.1.Name": "FifoQueue", "Attribute.1.Value": "true"})
    _, code, message = q.call(
        "SendMessage", {"QueueUrl": url, "MessageBody": "x", "MessageDeduplicationId": "d"}
    ).error()
    assert code == "MissingParameter" and "MessageGroupId" in message
    _, code, _ = q.call("SendMessage", {"QueueUrl": url, "MessageBody": "x", "MessageGroupId": "g"}).error()
    assert code == "InvalidParameterValue"
    _, code, _ = q.call(
        "SendMessage",
        {
            "QueueUrl": url,
            "MessageBody": "x",
            "MessageGroupId": "g",
            "MessageDeduplicationId": "d",
            "DelaySeconds": "3",
        },
    ).error()
    assert code == "InvalidParameterValue"
    _, code, _ = q.call(
        "CreateQueue", {"QueueName": "plain-name", "Attribute.1.Name": "FifoQueue", "Attribute.1.Value": "true"}
    ).error()
    assert code == "InvalidParameterValue"
    assert q.receive(url) == []


def test_query_fifo_batch_and_receive_attempt(q):
    url = q.create_queue(
        "qbatch.fifo",
        [
            ("Attribute.1.Name", "FifoQueue"),
            ("Attribute.1.Value", "true"),
            ("Attribute.2.Name", "ContentBasedDeduplication"),
            ("Attribute.2.Value", "true"),
        ],
    )
    params = [("QueueUrl", url)]
    for i, (body, group) in enumerate((("a1", "A"), ("b1", "B"), ("a2", "A"), ("a1", "A")), start=1):
        params += [
            (f"SendMessageBatchRequestEntry.{i}.Id", f"e{i}"),
            (f"SendMessageBatchRequestEntry.{i}.MessageBody", body),
            (f"SendMessageBatchRequestEntry.{i}.MessageGroupId", group),
        ]
    result = q.call("SendMessageBatch", params).result("SendMessageBatch")
    assert result.findall("BatchResultErrorEntry") == []
    ok = {e.findtext("Id"): e for e in result.findall("SendMessageBatchResultEntry")}
    assert set(ok) == {"e1", "e2", "e3", "e4"}
    assert all(_is_sequence_number(e.findtext("SequenceNumber")) for e in ok.values())
    assert ok["e4"].findtext("MessageId") == ok["e1"].findtext("MessageId")  # content-based duplicate

    first = q.receive(
        url, [("MaxNumberOfMessages", "10"), ("ReceiveRequestAttemptId", "qa-1"), ("AttributeName.1", "All")]
    )
    bodies = [m.findtext("Body") for m in first]
    assert sorted(bodies) == ["a1", "a2", "b1"]
    assert bodies.index("a1") < bodies.index("a2")
    for m in first:
        assert attributes(m)["MessageDeduplicationId"] == sha256(m.findtext("Body"))
    retry = q.receive(url, [("MaxNumberOfMessages", "10"), ("ReceiveRequestAttemptId", "qa-1")])
    assert [(m.findtext("MessageId"), m.findtext("ReceiptHandle")) for m in retry] == [
        (m.findtext("MessageId"), m.findtext("ReceiptHandle")) for m in first
    ]
