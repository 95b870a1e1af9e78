"""SQS (and STS) over the AWS query protocol: form-encoded `Action=` requests answered with XML.

The requests are written out by hand with the member names of AWS's SQS API Reference (the "Using AWS query
protocol" examples of each API_<Action> page and the `Attribute.N.Name` / `MessageAttribute.N.Value.*` notation of
its Request Parameters), signed with botocore's SigV4 signer; answers are parsed with xml.etree and checked element
by element against the XML examples AWS publishes. The second half drives a botocore client switched to the query
protocol (see query_client.py) through the same operations.
"""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from botocore.exceptions import ClientError

from tests.sqs.clients import queue_url
from tests.sqs.query_client import (
    ACCOUNT,
    SQS_NS,
    STS_NS,
    QueryClient,
    attributes,
    message_attributes,
    query_protocol_sqs_client,
)

SYSTEM_ATTRIBUTES_ALL = {"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}
MESSAGE_CHILDREN = {
    "MessageId",
    "ReceiptHandle",
    "MD5OfBody",
    "Body",
    "Attribute",
    "MD5OfMessageAttributes",
    "MessageAttribute",
}


# -- helpers -----------------------------------------------------------------------------------------------
def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def md5_of_attributes(attrs: dict[str, tuple[str, str | bytes]]) -> str:
    """AWS's documented MD5 of message attributes: sorted names; length-prefixed name, type, transport byte, value."""
    h = hashlib.md5()
    for name in sorted(attrs):
        data_type, value = attrs[name]
        for part in (name.encode(), data_type.encode()):
            h.update(struct.pack(">I", len(part)) + part)
        raw = value if isinstance(value, bytes) else value.encode()
        h.update(b"\x02" if isinstance(value, bytes) else b"\x01")
        h.update(struct.pack(">I", len(raw)) + raw)
    return h.hexdigest()


def queue_path(name: str) -> str:
    return f"/{ACCOUNT}/{name}"


@pytest.fixture
def q(broker) -> QueryClient:
    return QueryClient(broker.url)


# -- envelopes ---------------------------------------------------------------------------------------------
def test_create_queue_response_envelope(q, broker):
    r = q.call(
        "CreateQueue",
        [
            ("QueueName", "envelope"),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "40"),
            ("Attribute.2.Name", "DelaySeconds"),
            ("Attribute.2.Value", "2"),
            ("Tag.1.Key", "QueueType"),
            ("Tag.1.Value", "Production"),
            ("Tag.2.Key", "team"),
            ("Tag.2.Value", "a b_c:d/e=f+g-h@i"),
        ],
    )
    assert r.namespace == SQS_NS
    assert r.headers["content-type"].startswith("text/xml")
    result = r.result("CreateQueue")
    assert [c.tag for c in result] == ["QueueUrl"]
    assert result.findtext("QueueUrl") == queue_url(broker, "envelope")
    assert r.headers["x-amzn-requestid"] == r.root.findtext("ResponseMetadata/RequestId")

    got = q.call(
        "GetQueueAttributes",
        [
            ("QueueUrl", result.findtext("QueueUrl")),
            ("AttributeName.1", "VisibilityTimeout"),
            ("AttributeName.2", "DelaySeconds"),
        ],
    ).result("GetQueueAttributes")
    assert attributes(got) == {"VisibilityTimeout": "40", "DelaySeconds": "2"}
    tags = q.call("ListQueueTags", {"QueueUrl": result.findtext("QueueUrl")}).result("ListQueueTags")
    assert attributes(tags, "Tag", "Key") == {"QueueType": "Production", "team": "a b_c:d/e=f+g-h@i"}


def test_create_queue_same_attributes_returns_url_different_conflicts(q):
    url = q.create_queue("twice", {"Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "40"})
    assert q.create_queue("twice", {"Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "40"}) == url
    r = q.call(
        "CreateQueue",
        {"QueueName": "twice", "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "41"},
    )
    kind, code, _ = r.error()
    assert (kind, code) == ("Sender", "QueueAlreadyExists")


def test_get_queue_url(q):
    url = q.create_queue("findme")
    r = q.call("GetQueueUrl", {"QueueName": "findme"}).result("GetQueueUrl")
    assert r.findtext("QueueUrl") == url
    owned = q.call("GetQueueUrl", {"QueueName": "findme", "QueueOwnerAWSAccountId": ACCOUNT})
    assert owned.result("GetQueueUrl").findtext("QueueUrl") == url
    kind, code, _ = q.call("GetQueueUrl", {"QueueName": "missing"}).error()
    assert (kind, code) == ("Sender", "AWS.SimpleQueueService.NonExistentQueue")


def test_list_queues_prefix_and_pagination(q):
    empty = q.call("ListQueues").result("ListQueues")
    assert list(empty) == []
    urls = {n: q.create_queue(n) for n in ("alpha-1", "alpha-2", "beta")}

    every = q.call("ListQueues").result("ListQueues")
    assert {u.text for u in every.findall("QueueUrl")} == set(urls.values())
    alpha = q.call("ListQueues", {"QueueNamePrefix": "alpha"}).result("ListQueues")
    assert sorted(u.text for u in alpha.findall("QueueUrl")) == [urls["alpha-1"], urls["alpha-2"]]

    page1 = q.call("ListQueues", {"QueueNamePrefix": "alpha", "MaxResults": "1"}).result("ListQueues")
    token = page1.findtext("NextToken")
    assert len(page1.findall("QueueUrl")) == 1 and token
    page2 = q.call("ListQueues", {"QueueNamePrefix": "alpha", "MaxResults": "1", "NextToken": token}).result(
        "ListQueues"
    )
    seen = [page1.findtext("QueueUrl"), page2.findtext("QueueUrl")]
    assert sorted(seen) == [urls["alpha-1"], urls["alpha-2"]]
    assert page2.find("NextToken") is None


def test_delete_queue(q):
    url = q.create_queue("doomed")
    q.call("DeleteQueue", {"QueueUrl": url}).empty_result("DeleteQueue")
    assert q.call("GetQueueUrl", {"QueueName": "doomed"}).error()[1] == "AWS.SimpleQueueService.NonExistentQueue"
    assert q.call("ListQueues").result("ListQueues").findall("QueueUrl") == []


def test_get_queue_attributes_all_and_counts(q):
    url = q.create_queue("attrs")
    q.send(url, "one")
    q.send(url, "two")
    q.send(url, "later", {"DelaySeconds": "60"})
    q.receive(url)
    res = q.call("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"}).result("GetQueueAttributes")
    for a in res.findall("Attribute"):
        assert [c.tag for c in a] == ["Name", "Value"]
    got = attributes(res)
    assert got["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:attrs"
    assert got["VisibilityTimeout"] == "30"
    assert got["DelaySeconds"] == "0"
    assert got["MaximumMessageSize"] == "1048576"
    assert got["MessageRetentionPeriod"] == "345600"
    assert got["ReceiveMessageWaitTimeSeconds"] == "0"
    assert got["ApproximateNumberOfMessages"] == "1"
    assert got["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert got["ApproximateNumberOfMessagesDelayed"] == "1"
    assert got["CreatedTimestamp"].isdigit() and got["LastModifiedTimestamp"].isdigit()

    none = q.call("GetQueueAttributes", {"QueueUrl": url}).result("GetQueueAttributes")
    assert list(none) == []


def test_set_queue_attributes(q):
    url = q.create_queue("settable")
    policy = (
        '{"Version":"2012-10-17","Id":"a&b<c>","Statement":[{"Sid":"s1","Effect":"Allow","Principal":"*",'
        '"Action":"sqs:ReceiveMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:settable"}]}'
    )
    q.call(
        "SetQueueAttributes",
        [
            ("QueueUrl", url),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "45"),
            ("Attribute.2.Name", "ReceiveMessageWaitTimeSeconds"),
            ("Attribute.2.Value", "5"),
            ("Attribute.3.Name", "Policy"),
            ("Attribute.3.Value", policy),
        ],
    ).empty_result("SetQueueAttributes")
    res = q.call(
        "GetQueueAttributes",
        [
            ("QueueUrl", url),
            ("AttributeName.1", "VisibilityTimeout"),
            ("AttributeName.2", "ReceiveMessageWaitTimeSeconds"),
            ("AttributeName.3", "Policy"),
        ],
    ).result("GetQueueAttributes")
    assert attributes(res) == {"VisibilityTimeout": "45", "ReceiveMessageWaitTimeSeconds": "5", "Policy": policy}

    kind, code, _ = q.call(
        "SetQueueAttributes",
        {"QueueUrl": url, "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "43201"},
    ).error()
    assert (kind, code) == ("Sender", "InvalidAttributeValue")


def test_purge_queue(q):
    url = q.create_queue("purged")
    for i in range(3):
        q.send(url, f"m{i}")
    q.call("PurgeQueue", {"QueueUrl": url}).empty_result("PurgeQueue")
    assert q.receive(url, {"MaxNumberOfMessages": "10"}) == []
    got = q.call("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "ApproximateNumberOfMessages"}).result(
        "GetQueueAttributes"
    )
    assert attributes(got) == {"ApproximateNumberOfMessages": "0"}


# -- messages ----------------------------------------------------------------------------------------------
def test_send_message_as_in_the_api_reference(q):
    """API_SendMessage, "Using AWS query protocol": the request body and the MD5s of its sample response."""
    q.create_queue("MyQueue")
    r = q.call(
        "SendMessage",
        [
            ("MessageBody", "This is a test message"),
            ("MessageAttribute.1.Name", "my_attribute_name_1"),
            ("MessageAttribute.1.Value.StringValue", "my_attribute_value_1"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.2.Name", "my_attribute_name_2"),
            ("MessageAttribute.2.Value.StringValue", "my_attribute_value_2"),
            ("MessageAttribute.2.Value.DataType", "String"),
        ],
        path=queue_path("MyQueue") + "/",
    )
    result = r.result("SendMessage")
    assert sorted(c.tag for c in result) == ["MD5OfMessageAttributes", "MD5OfMessageBody", "MessageId"]
    assert result.findtext("MD5OfMessageBody") == "fafb00f5732ab283681e124bf8747ed1"
    assert result.findtext("MD5OfMessageAttributes") == "c48838208d2b4e14e3ca0093a8443f09"

    got = q.call("ReceiveMessage", {"MessageAttributeName.1": "All"}, path=queue_path("MyQueue") + "/")
    (msg,) = got.result("ReceiveMessage").findall("Message")
    assert msg.findtext("MessageId") == result.findtext("MessageId")
    assert msg.findtext("MD5OfBody") == "fafb00f5732ab283681e124bf8747ed1"
    assert msg.findtext("MD5OfMessageAttributes") == "c48838208d2b4e14e3ca0093a8443f09"
    assert message_attributes(msg) == {
        "my_attribute_name_1": {"StringValue": "my_attribute_value_1", "DataType": "String"},
        "my_attribute_name_2": {"StringValue": "my_attribute_value_2", "DataType": "String"},
    }


def test_send_message_batch_as_in_the_api_reference(q, broker):
    """API_SendMessageBatch, "Using AWS query protocol": entries, DelaySeconds, attributes and the sample MD5s."""
    q.create_queue("MyQueue")
    r = q.call(
        "SendMessageBatch",
        [
            ("SendMessageBatchRequestEntry.1.Id", "test_msg_001"),
            ("SendMessageBatchRequestEntry.1.MessageBody", "test message body 1"),
            ("SendMessageBatchRequestEntry.2.Id", "test_msg_002"),
            ("SendMessageBatchRequestEntry.2.MessageBody", "test message body 2"),
            ("SendMessageBatchRequestEntry.2.DelaySeconds", "60"),
            ("SendMessageBatchRequestEntry.2.MessageAttribute.1.Name", "test_attribute_name_1"),
            ("SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue", "test_attribute_value_1"),
            ("SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType", "String"),
        ],
        path=queue_path("MyQueue") + "/",
    )
    result = r.result("SendMessageBatch")
    entries = {e.findtext("Id"): e for e in result.findall("SendMessageBatchResultEntry")}
    assert result.findall("BatchResultErrorEntry") == []
    assert set(entries) == {"test_msg_001", "test_msg_002"}
    assert entries["test_msg_001"].findtext("MD5OfMessageBody") == "0e024d309850c78cba5eabbeff7cae71"
    assert entries["test_msg_001"].find("MD5OfMessageAttributes") is None
    assert entries["test_msg_002"].findtext("MD5OfMessageBody") == "7fb8146a82f95e0af155278f406862c2"
    assert entries["test_msg_002"].findtext("MD5OfMessageAttributes") == "ba056227cfd9533dba1f72ad9816d233"
    assert all(e.findtext("MessageId") for e in entries.values())

    url = f"{broker.url}{queue_path('MyQueue')}"
    first = q.receive(url, {"MaxNumberOfMessages": "10", "VisibilityTimeout": "600"})
    assert [m.findtext("Body") for m in first] == ["test message body 1"]
    assert first[0].findtext("MessageId") == entries["test_msg_001"].findtext("MessageId")
    broker.advance(61)
    (second,) = q.receive(url, {"MaxNumberOfMessages": "10", "MessageAttributeName.1": "All"})
    assert second.findtext("Body") == "test message body 2"
    assert message_attributes(second) == {
        "test_attribute_name_1": {"StringValue": "test_attribute_value_1", "DataType": "String"}
    }


def test_receive_message_full_shape(q):
    url = q.create_queue("shape")
    blob = bytes(range(256))
    sent = q.send(
        url,
        "hello shape",
        [
            ("MessageAttribute.1.Name", "color"),
            ("MessageAttribute.1.Value.StringValue", "blue"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.2.Name", "weight"),
            ("MessageAttribute.2.Value.StringValue", "230.000000000000000001"),
            ("MessageAttribute.2.Value.DataType", "Number"),
            ("MessageAttribute.3.Name", "raw"),
            ("MessageAttribute.3.Value.BinaryValue", base64.b64encode(blob).decode()),
            ("MessageAttribute.3.Value.DataType", "Binary.gz"),
        ],
    )
    expected_attr_md5 = md5_of_attributes(
        {"color": ("String", "blue"), "weight": ("Number", "230.000000000000000001"), "raw": ("Binary.gz", blob)}
    )
    assert sent.findtext("MD5OfMessageAttributes") == expected_attr_md5

    (msg,) = q.receive(
        url,
        [("AttributeName.1", "All"), ("MessageAttributeName.1", "All"), ("MaxNumberOfMessages", "10")],
    )
    assert {c.tag for c in msg} == MESSAGE_CHILDREN
    assert msg.findtext("MessageId") == sent.findtext("MessageId")
    assert msg.findtext("Body") == "hello shape"
    assert msg.findtext("MD5OfBody") == md5("hello shape")
    assert msg.findtext("ReceiptHandle")
    system = attributes(msg)
    assert set(system) == SYSTEM_ATTRIBUTES_ALL
    assert system["ApproximateReceiveCount"] == "1"
    assert system["SentTimestamp"].isdigit() and system["ApproximateFirstReceiveTimestamp"].isdigit()
    assert system["SenderId"]
    for a in msg.findall("MessageAttribute"):
        assert [c.tag for c in a] == ["Name", "Value"]
    assert message_attributes(msg) == {
        "color": {"StringValue": "blue", "DataType": "String"},
        "weight": {"StringValue": "230.000000000000000001", "DataType": "Number"},
        "raw": {"BinaryValue": base64.b64encode(blob).decode(), "DataType": "Binary.gz"},
    }
    assert msg.findtext("MD5OfMessageAttributes") == expected_attr_md5


def test_receive_message_selected_attributes(q):
    url = q.create_queue("selected")
    q.send(
        url,
        "pick",
        [
            ("MessageAttribute.1.Name", "trace.id"),
            ("MessageAttribute.1.Value.StringValue", "t1"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.2.Name", "trace.span"),
            ("MessageAttribute.2.Value.StringValue", "s1"),
            ("MessageAttribute.2.Value.DataType", "String"),
            ("MessageAttribute.3.Name", "other"),
            ("MessageAttribute.3.Value.StringValue", "o"),
            ("MessageAttribute.3.Value.DataType", "String"),
        ],
    )
    (msg,) = q.receive(
        url,
        [
            ("AttributeName.1", "SentTimestamp"),
            ("MessageSystemAttributeName.1", "ApproximateReceiveCount"),
            ("MessageAttributeName.1", "other"),
            ("VisibilityTimeout", "0"),
        ],
    )
    assert set(attributes(msg)) == {"SentTimestamp", "ApproximateReceiveCount"}
    assert message_attributes(msg) == {"other": {"StringValue": "o", "DataType": "String"}}
    assert msg.findtext("MD5OfMessageAttributes") == md5_of_attributes({"other": ("String", "o")})

    (again,) = q.receive(url, [("MessageAttributeName.1", "trace.*")])
    assert set(message_attributes(again)) == {"trace.id", "trace.span"}
    assert attributes(again) == {}


def test_receive_with_no_messages_is_an_empty_result(q):
    url = q.create_queue("quiet")
    res = q.call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "10"}).result("ReceiveMessage")
    assert list(res) == []


def test_visibility_timeout_and_change_message_visibility(q, broker):
    url = q.create_queue("vis")
    q.send(url, "v")
    (msg,) = q.receive(url, {"VisibilityTimeout": "30"})
    assert q.receive(url) == []
    q.call(
        "ChangeMessageVisibility",
        {"QueueUrl": url, "ReceiptHandle": msg.findtext("ReceiptHandle"), "VisibilityTimeout": "0"},
    ).empty_result("ChangeMessageVisibility")
    (again,) = q.receive(url, {"AttributeName.1": "ApproximateReceiveCount"})
    assert attributes(again) == {"ApproximateReceiveCount": "2"}

    q.call(
        "ChangeMessageVisibility",
        {"QueueUrl": url, "ReceiptHandle": again.findtext("ReceiptHandle"), "VisibilityTimeout": "100"},
    ).empty_result("ChangeMessageVisibility")
    broker.advance(60)
    assert q.receive(url) == []
    broker.advance(41)
    assert [m.findtext("Body") for m in q.receive(url)] == ["v"]


def test_delete_message(q, broker):
    url = q.create_queue("del")
    q.send(url, "gone")
    (msg,) = q.receive(url)
    q.call("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": msg.findtext("ReceiptHandle")}).empty_result(
        "DeleteMessage"
    )
    broker.advance(31)
    assert q.receive(url) == []
    kind, code, _ = q.call("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "not-a-handle"}).error()
    assert (kind, code) == ("Sender", "ReceiptHandleIsInvalid")


def test_send_message_batch_partial_failure(q):
    url = q.create_queue("batch")
    r = q.call(
        "SendMessageBatch",
        [
            ("QueueUrl", url),
            ("SendMessageBatchRequestEntry.1.Id", "ok-1"),
            ("SendMessageBatchRequestEntry.1.MessageBody", "first"),
            ("SendMessageBatchRequestEntry.2.Id", "bad_chars"),
            ("SendMessageBatchRequestEntry.2.MessageBody", "nul \x01 here"),
            ("SendMessageBatchRequestEntry.3.Id", "ok-3"),
            ("SendMessageBatchRequestEntry.3.MessageBody", "third"),
            ("SendMessageBatchRequestEntry.3.MessageAttribute.1.Name", "n"),
            ("SendMessageBatchRequestEntry.3.MessageAttribute.1.Value.StringValue", "7"),
            ("SendMessageBatchRequestEntry.3.MessageAttribute.1.Value.DataType", "Number"),
        ],
    )
    result = r.result("SendMessageBatch")
    ok = {e.findtext("Id"): e for e in result.findall("SendMessageBatchResultEntry")}
    assert set(ok) == {"ok-1", "ok-3"}
    assert ok["ok-1"].findtext("MD5OfMessageBody") == md5("first")
    assert ok["ok-3"].findtext("MD5OfMessageAttributes") == md5_of_attributes({"n": ("Number", "7")})
    (failed,) = result.findall("BatchResultErrorEntry")
    assert failed.findtext("Id") == "bad_chars"
    assert failed.findtext("SenderFault") == "true"
    assert failed.findtext("Code") == "InvalidMessageContents"
    assert failed.findtext("Message")
    bodies = sorted(m.findtext("Body") for m in q.receive(url, {"MaxNumberOfMessages": "10"}))
    assert bodies == ["first", "third"]


def test_delete_message_batch(q, broker):
    url = q.create_queue("delbatch")
    for i in range(3):
        q.send(url, f"d{i}")
    msgs = q.receive(url, {"MaxNumberOfMessages": "10"})
    assert len(msgs) == 3
    params = [("QueueUrl", url)]
    for i, m in enumerate(msgs[:2], 1):
        params += [
            (f"DeleteMessageBatchRequestEntry.{i}.Id", f"msg{i}"),
            (f"DeleteMessageBatchRequestEntry.{i}.ReceiptHandle", m.findtext("ReceiptHandle")),
        ]
    params += [("DeleteMessageBatchRequestEntry.3.Id", "junk"), ("DeleteMessageBatchRequestEntry.3.ReceiptHandle", "x")]
    result = q.call("DeleteMessageBatch", params).result("DeleteMessageBatch")
    assert sorted(e.findtext("Id") for e in result.findall("DeleteMessageBatchResultEntry")) == ["msg1", "msg2"]
    (failed,) = result.findall("BatchResultErrorEntry")
    assert (failed.findtext("Id"), failed.findtext("SenderFault"), failed.findtext("Code")) == (
        "junk",
        "true",
        "ReceiptHandleIsInvalid",
    )
    broker.advance(31)
    assert [m.findtext("Body") for m in q.receive(url, {"MaxNumberOfMessages": "10"})] == [msgs[2].findtext("Body")]


def test_change_message_visibility_batch(q, broker):
    url = q.create_queue("visbatch")
    q.send(url, "a")
    q.send(url, "b")
    msgs = {m.findtext("Body"): m for m in q.receive(url, {"MaxNumberOfMessages": "10"})}
    assert set(msgs) == {"a", "b"}
    result = q.call(
        "ChangeMessageVisibilityBatch",
        [
            ("QueueUrl", url),
            ("ChangeMessageVisibilityBatchRequestEntry.1.Id", "now"),
            ("ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle", msgs["a"].findtext("ReceiptHandle")),
            ("ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout", "0"),
            ("ChangeMessageVisibilityBatchRequestEntry.2.Id", "later"),
            ("ChangeMessageVisibilityBatchRequestEntry.2.ReceiptHandle", msgs["b"].findtext("ReceiptHandle")),
            ("ChangeMessageVisibilityBatchRequestEntry.2.VisibilityTimeout", "300"),
            ("ChangeMessageVisibilityBatchRequestEntry.3.Id", "broken"),
            ("ChangeMessageVisibilityBatchRequestEntry.3.ReceiptHandle", "nope"),
            ("ChangeMessageVisibilityBatchRequestEntry.3.VisibilityTimeout", "5"),
        ],
    ).result("ChangeMessageVisibilityBatch")
    ok = sorted(e.findtext("Id") for e in result.findall("ChangeMessageVisibilityBatchResultEntry"))
    assert ok == ["later", "now"]
    (failed,) = result.findall("BatchResultErrorEntry")
    assert (failed.findtext("Id"), failed.findtext("Code"), failed.findtext("SenderFault")) == (
        "broken",
        "ReceiptHandleIsInvalid",
        "true",
    )
    assert [m.findtext("Body") for m in q.receive(url, {"MaxNumberOfMessages": "10"})] == ["a"]
    broker.advance(301)
    assert "b" in [m.findtext("Body") for m in q.receive(url, {"MaxNumberOfMessages": "10"})]


def _entries(kind: str, ids: list[str]) -> list[tuple[str, str]]:
    out = []
    for i, eid in enumerate(ids, 1):
        out.append((f"{kind}RequestEntry.{i}.Id", eid))
        if kind == "SendMessageBatch":
            out.append((f"{kind}RequestEntry.{i}.MessageBody", "x"))
        else:
            out.append((f"{kind}RequestEntry.{i}.ReceiptHandle", "handle"))
    return out


@pytest.mark.parametrize("kind", ["SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"])
@pytest.mark.parametrize(
    ("ids", "code"),
    [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        ([f"e{i}" for i in range(11)], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
        (["same", "same"], "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
        (["not valid!"], "AWS.SimpleQueueService.InvalidBatchEntryId"),
    ],
    ids=["empty", "eleven", "duplicate", "bad-id"],
)
def test_whole_batch_refusals(q, kind, ids, code):
    url = q.create_queue("refusals")
    kind_, got, message = q.call(kind, [("QueueUrl", url), *_entries(kind, ids)]).error()
    assert (kind_, got) == ("Sender", code)
    assert message


def test_tag_untag_list_queue_tags(q):
    url = q.create_queue("tagged")
    assert list(q.call("ListQueueTags", {"QueueUrl": url}).result("ListQueueTags")) == []
    q.call(
        "TagQueue",
        [
            ("QueueUrl", url),
            ("Tag.1.Key", "QueueType"),
            ("Tag.1.Value", "Production"),
            ("Tag.2.Key", "Owner"),
            ("Tag.2.Value", "Developer123"),
            ("Tag.3.Key", "empty"),
            ("Tag.3.Value", ""),
        ],
    ).empty_result("TagQueue")
    res = q.call("ListQueueTags", {"QueueUrl": url}).result("ListQueueTags")
    for t in res.findall("Tag"):
        assert [c.tag for c in t] == ["Key", "Value"]
    assert attributes(res, "Tag", "Key") == {"QueueType": "Production", "Owner": "Developer123", "empty": ""}

    q.call("UntagQueue", [("QueueUrl", url), ("TagKey.1", "Owner"), ("TagKey.2", "empty")]).empty_result("UntagQueue")
    res = q.call("ListQueueTags", {"QueueUrl": url}).result("ListQueueTags")
    assert attributes(res, "Tag", "Key") == {"QueueType": "Production"}


# -- the queue URL as the request path ---------------------------------------------------------------------
@pytest.mark.parametrize("slash", ["", "/"], ids=["no-trailing-slash", "trailing-slash"])
def test_requests_posted_to_the_queue_url_without_queueurl(q, broker, slash):
    """Older SDKs POST to the queue's URL and leave QueueUrl out (as every API_<Action> query example does)."""
    url = q.create_queue("bypath")
    path = queue_path("bypath") + slash

    sent = q.call("SendMessage", {"MessageBody": "via path"}, path=path).result("SendMessage")
    q.call(
        "SendMessageBatch",
        [
            ("SendMessageBatchRequestEntry.1.Id", "b1"),
            ("SendMessageBatchRequestEntry.1.MessageBody", "batched"),
        ],
        path=path,
    ).result("SendMessageBatch")
    got = q.call("ReceiveMessage", {"MaxNumberOfMessages": "10"}, path=path).result("ReceiveMessage")
    msgs = {m.findtext("Body"): m for m in got.findall("Message")}
    assert set(msgs) == {"via path", "batched"}
    assert msgs["via path"].findtext("MessageId") == sent.findtext("MessageId")

    q.call(
        "ChangeMessageVisibility",
        {"ReceiptHandle": msgs["batched"].findtext("ReceiptHandle"), "VisibilityTimeout": "0"},
        path=path,
    ).empty_result("ChangeMessageVisibility")
    q.call(
        "ChangeMessageVisibilityBatch",
        [
            ("ChangeMessageVisibilityBatchRequestEntry.1.Id", "c1"),
            ("ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle", msgs["via path"].findtext("ReceiptHandle")),
            ("ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout", "600"),
        ],
        path=path,
    ).result("ChangeMessageVisibilityBatch")
    q.call("DeleteMessage", {"ReceiptHandle": msgs["via path"].findtext("ReceiptHandle")}, path=path).empty_result(
        "DeleteMessage"
    )
    (again,) = q.call("ReceiveMessage", {}, path=path).result("ReceiveMessage").findall("Message")
    dm = q.call(
        "DeleteMessageBatch",
        [
            ("DeleteMessageBatchRequestEntry.1.Id", "d1"),
            ("DeleteMessageBatchRequestEntry.1.ReceiptHandle", again.findtext("ReceiptHandle")),
        ],
        path=path,
    ).result("DeleteMessageBatch")
    assert [e.findtext("Id") for e in dm.findall("DeleteMessageBatchResultEntry")] == ["d1"]

    q.call(
        "SetQueueAttributes", {"Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "3"}, path=path
    ).empty_result("SetQueueAttributes")
    attrs = q.call("GetQueueAttributes", {"AttributeName.1": "All"}, path=path).result("GetQueueAttributes")
    assert attributes(attrs)["DelaySeconds"] == "3"
    assert attributes(attrs)["ApproximateNumberOfMessages"] == "0"

    q.call("TagQueue", {"Tag.1.Key": "via", "Tag.1.Value": "path"}, path=path).empty_result("TagQueue")
    tags = q.call("ListQueueTags", {}, path=path).result("ListQueueTags")
    assert attributes(tags, "Tag", "Key") == {"via": "path"}
    q.call("UntagQueue", {"TagKey.1": "via"}, path=path).empty_result("UntagQueue")
    assert list(q.call("ListQueueTags", {}, path=path).result("ListQueueTags")) == []

    q.send(url, "to purge")
    q.call("PurgeQueue", {}, path=path).empty_result("PurgeQueue")
    q.call("DeleteQueue", {}, path=path).empty_result("DeleteQueue")
    assert q.call("GetQueueUrl", {"QueueName": "bypath"}).error()[1] == "AWS.SimpleQueueService.NonExistentQueue"


def test_queue_url_path_of_a_missing_queue(q):
    kind, code, _ = q.call("SendMessage", {"MessageBody": "x"}, path=queue_path("ghost")).error()
    assert (kind, code) == ("Sender", "AWS.SimpleQueueService.NonExistentQueue")


def test_explicit_queueurl_wins_over_the_path(q):
    a = q.create_queue("path-a")
    q.create_queue("path-b")
    q.call("SendMessage", {"QueueUrl": a, "MessageBody": "for a"}, path=queue_path("path-b")).result("SendMessage")
    assert [m.findtext("Body") for m in q.receive(a)] == ["for a"]


# -- GET with the parameters in the query string -----------------------------------------------------------
def test_get_requests_with_query_string_parameters(q, broker):
    r = q.call(
        "CreateQueue",
        {"QueueName": "viaget", "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "40"},
        method="GET",
    )
    url = r.result("CreateQueue").findtext("QueueUrl")
    assert url == queue_url(broker, "viaget")
    body = "get body with spaces & ampersands = equals + plus"
    sent = q.call("SendMessage", {"MessageBody": body}, path=queue_path("viaget"), method="GET")
    assert sent.result("SendMessage").findtext("MD5OfMessageBody") == md5(body)
    got = q.call("ReceiveMessage", {"QueueUrl": url, "AttributeName.1": "All"}, method="GET")
    (msg,) = got.result("ReceiveMessage").findall("Message")
    assert msg.findtext("Body") == body
    assert set(attributes(msg)) == SYSTEM_ATTRIBUTES_ALL
    attrs = q.call(
        "GetQueueAttributes", {"AttributeName.1": "VisibilityTimeout"}, path=queue_path("viaget"), method="GET"
    )
    assert attributes(attrs.result("GetQueueAttributes")) == {"VisibilityTimeout": "40"}
    listed = q.call("ListQueues", {"QueueNamePrefix": "via"}, method="GET").result("ListQueues")
    assert [u.text for u in listed.findall("QueueUrl")] == [url]


# -- escaping and unicode ----------------------------------------------------------------------------------
ESCAPE_BODY = "a<b>c&d\"e'f\rg\r\nh\ti ]]> &amp; &#xD; <!-- -->"


def test_xml_escaping_of_bodies_and_attribute_values(q):
    url = q.create_queue("escape")
    q.send(
        url,
        ESCAPE_BODY,
        [
            ("MessageAttribute.1.Name", "raw"),
            ("MessageAttribute.1.Value.StringValue", ESCAPE_BODY),
            ("MessageAttribute.1.Value.DataType", "String"),
        ],
    )
    r = q.call("ReceiveMessage", {"QueueUrl": url, "MessageAttributeName.1": "All"})
    (msg,) = r.result("ReceiveMessage").findall("Message")
    # A bare CR would be normalized away by any XML parser: it must travel as a character reference.
    assert b"\r" not in r.raw
    assert b"&#xD;" in r.raw or b"&#13;" in r.raw
    assert msg.findtext("Body") == ESCAPE_BODY
    assert msg.findtext("MD5OfBody") == md5(ESCAPE_BODY)
    assert message_attributes(msg)["raw"] == {"StringValue": ESCAPE_BODY, "DataType": "String"}
    assert msg.findtext("MD5OfMessageAttributes") == md5_of_attributes({"raw": ("String", ESCAPE_BODY)})


def test_carriage_return_alone_survives(q):
    url = q.create_queue("cr")
    for body in ["\r", "line1\rline2", "\r\n\r\n", "ends with cr\r"]:
        q.send(url, body)
        (msg,) = q.receive(url)
        assert msg.findtext("Body") == body
        assert msg.findtext("MD5OfBody") == md5(body)
        q.call("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": msg.findtext("ReceiptHandle")}).empty_result(
            "DeleteMessage"
        )


@pytest.mark.parametrize(
    "body",
    [
        "héllo wörld ñ ç ß",
        "日本語のメッセージ",
        "emoji 🎉🚀 and astral 𝄞",
        "mixed: Ωμέγα — «quotes» € \u00a0 nbsp",
        "\ue000 private use \ufffd replacement",
    ],
    ids=["latin", "cjk", "astral", "mixed", "private-use"],
)
def test_unicode_bodies(q, broker, body):
    url = q.create_queue("unicode")
    sent = q.send(
        url,
        body,
        [
            ("MessageAttribute.1.Name", "label"),
            ("MessageAttribute.1.Value.StringValue", body),
            ("MessageAttribute.1.Value.DataType", "String"),
        ],
    )
    assert sent.findtext("MD5OfMessageBody") == md5(body)
    assert sent.findtext("MD5OfMessageAttributes") == md5_of_attributes({"label": ("String", body)})
    r = q.call("ReceiveMessage", {"QueueUrl": url, "MessageAttributeName.1": "All", "VisibilityTimeout": "0"})
    assert r.headers["content-type"].startswith("text/xml")
    (msg,) = r.result("ReceiveMessage").findall("Message")
    assert msg.findtext("Body") == body
    assert message_attributes(msg)["label"]["StringValue"] == body
    # The same message read over JSON.
    (m,) = broker.client("sqs").receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert m["Body"] == body and m["MD5OfBody"] == md5(body)


# -- one store, two protocols ------------------------------------------------------------------------------
def test_send_over_query_receive_over_json(q, broker):
    sqs = broker.client("sqs")
    url = q.create_queue("q2j")
    blob = b"\x00\xffbinary\r\n"
    sent = q.send(
        url,
        "from query <&>\r",
        [
            ("MessageAttribute.1.Name", "s"),
            ("MessageAttribute.1.Value.StringValue", "string value"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.2.Name", "b"),
            ("MessageAttribute.2.Value.BinaryValue", base64.b64encode(blob).decode()),
            ("MessageAttribute.2.Value.DataType", "Binary"),
        ],
    )
    assert sqs.get_queue_url(QueueName="q2j")["QueueUrl"] == url
    assert sqs.list_queues()["QueueUrls"] == [url]
    (m,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
    assert m["MessageId"] == sent.findtext("MessageId")
    assert m["Body"] == "from query <&>\r"
    assert m["MD5OfBody"] == sent.findtext("MD5OfMessageBody")
    assert m["MessageAttributes"] == {
        "s": {"StringValue": "string value", "DataType": "String"},
        "b": {"BinaryValue": blob, "DataType": "Binary"},
    }
    assert m["MD5OfMessageAttributes"] == sent.findtext("MD5OfMessageAttributes")
    assert set(m["Attributes"]) == SYSTEM_ATTRIBUTES_ALL
    # A handle from JSON works over query.
    q.call("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]}).empty_result("DeleteMessage")
    broker.advance(31)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_send_over_json_receive_over_query(q, broker):
    sqs = broker.client("sqs")
    url = sqs.create_queue(QueueName="j2q", Attributes={"VisibilityTimeout": "20"}, tags={"from": "json"})["QueueUrl"]
    blob = bytes(range(200, 256))
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody='from json & "friends" \r end',
        MessageAttributes={
            "n": {"DataType": "Number", "StringValue": "42"},
            "b": {"DataType": "Binary", "BinaryValue": blob},
        },
    )
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "x", "MessageBody": "batched over json"}])
    assert [e["Id"] for e in batch["Successful"]] == ["x"]

    assert q.call("GetQueueUrl", {"QueueName": "j2q"}).result("GetQueueUrl").findtext("QueueUrl") == url
    attrs = q.call("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "VisibilityTimeout"})
    assert attributes(attrs.result("GetQueueAttributes")) == {"VisibilityTimeout": "20"}
    tags = q.call("ListQueueTags", {"QueueUrl": url}).result("ListQueueTags")
    assert attributes(tags, "Tag", "Key") == {"from": "json"}

    msgs = q.receive(url, {"MaxNumberOfMessages": "10", "MessageAttributeName.1": "All"})
    by_id = {m.findtext("MessageId"): m for m in msgs}
    assert set(by_id) == {sent["MessageId"], batch["Successful"][0]["MessageId"]}
    m = by_id[sent["MessageId"]]
    assert m.findtext("Body") == 'from json & "friends" \r end'
    assert m.findtext("MD5OfBody") == sent["MD5OfMessageBody"]
    assert m.findtext("MD5OfMessageAttributes") == sent["MD5OfMessageAttributes"]
    assert message_attributes(m) == {
        "n": {"StringValue": "42", "DataType": "Number"},
        "b": {"BinaryValue": base64.b64encode(blob).decode(), "DataType": "Binary"},
    }
    # A handle from query works over JSON.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m.findtext("ReceiptHandle"))
    broker.advance(21)
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [x["Body"] for x in left] == ["batched over json"]


# -- errors ------------------------------------------------------------------------------------------------
MISSING = f"http://127.0.0.1:1/{ACCOUNT}/does-not-exist"


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("SendMessage", {"MessageBody": "x"}),
        ("ReceiveMessage", {}),
        ("GetQueueAttributes", {"AttributeName.1": "All"}),
        ("SetQueueAttributes", {"Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "1"}),
        ("DeleteQueue", {}),
        ("PurgeQueue", {}),
        ("ListQueueTags", {}),
        ("TagQueue", {"Tag.1.Key": "k", "Tag.1.Value": "v"}),
        (
            "SendMessageBatch",
            {"SendMessageBatchRequestEntry.1.Id": "a", "SendMessageBatchRequestEntry.1.MessageBody": "b"},
        ),
    ],
)
def test_unknown_queue(q, action, params):
    r = q.call(action, {"QueueUrl": MISSING, **params})
    assert r.namespace == SQS_NS
    assert r.headers["content-type"].startswith("text/xml")
    kind, code, message = r.error()
    assert (kind, code) == ("Sender", "AWS.SimpleQueueService.NonExistentQueue")
    assert message
    assert r.headers["x-amzn-requestid"] == r.root.findtext("RequestId")


@pytest.mark.parametrize(
    ("action", "params", "missing"),
    [
        ("CreateQueue", {}, "QueueName"),
        ("GetQueueUrl", {}, "QueueName"),
        ("SendMessage", {"QueueUrl": "@queue"}, "MessageBody"),
        ("DeleteMessage", {"QueueUrl": "@queue"}, "ReceiptHandle"),
        ("ChangeMessageVisibility", {"QueueUrl": "@queue", "ReceiptHandle": "h"}, "VisibilityTimeout"),
    ],
)
def test_missing_parameter(q, action, params, missing):
    url = q.create_queue("present")
    params = {k: (url if v == "@queue" else v) for k, v in params.items()}
    kind, code, message = q.call(action, params).error()
    assert (kind, code) == ("Sender", "MissingParameter")
    assert missing in message


def test_unknown_action(q):
    r = q.call("LaunchRockets", {"QueueName": "x"})
    kind, code, _ = r.error()
    assert (kind, code) == ("Sender", "InvalidAction")


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("GetQueueAttributes", {"AttributeName.1": "NoSuchAttribute"}, "InvalidAttributeName"),
        ("ReceiveMessage", {"MaxNumberOfMessages": "11"}, "InvalidParameterValue"),
        ("ReceiveMessage", {"WaitTimeSeconds": "21"}, "InvalidParameterValue"),
        ("SendMessage", {"MessageBody": "x", "DelaySeconds": "901"}, "InvalidParameterValue"),
        ("SendMessage", {"MessageBody": "bell \x07"}, "InvalidMessageContents"),
        ("CreateQueue", {"QueueName": "bad name!"}, "InvalidParameterValue"),
        (
            "SetQueueAttributes",
            {"Attribute.1.Name": "NoSuchAttribute", "Attribute.1.Value": "1"},
            "InvalidAttributeName",
        ),
    ],
)
def test_invalid_values(q, action, params, code):
    url = q.create_queue("values")
    r = q.call(action, {"QueueUrl": url, **params} if action != "CreateQueue" else params)
    kind, got, message = r.error()
    assert (kind, got) == ("Sender", code)
    assert message


def test_error_message_is_escaped(q):
    r = q.call("GetQueueAttributes", {"QueueUrl": q.create_queue("esc"), "AttributeName.1": '<&>"x'})
    _, code, message = r.error()
    assert code == "InvalidAttributeName"
    assert '<&>"x' in message


# -- documented single-entry spellings ----------------------------------------------------------------------
def test_set_queue_attributes_unindexed_as_documented(q):
    """API_SetQueueAttributes query example: `Attribute.Name=VisibilityTimeout&Attribute.Value=35`."""
    q.create_queue("MyQueue")
    path = queue_path("MyQueue") + "/"
    q.call(
        "SetQueueAttributes", {"Attribute.Name": "VisibilityTimeout", "Attribute.Value": "35"}, path=path
    ).empty_result("SetQueueAttributes")
    got = q.call("GetQueueAttributes", {"AttributeName.1": "VisibilityTimeout"}, path=path)
    assert attributes(got.result("GetQueueAttributes")) == {"VisibilityTimeout": "35"}


def test_create_queue_unindexed_tag_as_documented(q):
    """API_CreateQueue query example: `...&Attribute.1.Name=VisibilityTimeout&...&Tag.Key=QueueType&Tag.Value=...`."""
    r = q.call(
        "CreateQueue",
        [
            ("QueueName", "MyQueue"),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "40"),
            ("Tag.Key", "QueueType"),
            ("Tag.Value", "Production"),
        ],
    )
    url = r.result("CreateQueue").findtext("QueueUrl")
    tags = q.call("ListQueueTags", {"QueueUrl": url}).result("ListQueueTags")
    assert attributes(tags, "Tag", "Key") == {"QueueType": "Production"}


def test_tag_and_untag_queue_unindexed_as_documented(q):
    """API_TagQueue / API_UntagQueue query examples: `Tag.Key=QueueType&Tag.Value=Production`, `TagKey=QueueType`."""
    q.create_queue("MyQueue")
    path = queue_path("MyQueue") + "/"
    q.call("TagQueue", {"Tag.Key": "QueueType", "Tag.Value": "Production"}, path=path).empty_result("TagQueue")
    tags = q.call("ListQueueTags", {}, path=queue_path("MyQueue")).result("ListQueueTags")
    assert attributes(tags, "Tag", "Key") == {"QueueType": "Production"}
    q.call("UntagQueue", {"TagKey": "QueueType"}, path=path).empty_result("UntagQueue")
    assert list(q.call("ListQueueTags", {}, path=path).result("ListQueueTags")) == []


def test_receive_message_unindexed_attribute_name_as_documented(q):
    """API_ReceiveMessage query example: `MaxNumberOfMessages=5&VisibilityTimeout=15&AttributeName=All`."""
    q.create_queue("MyQueue")
    path = queue_path("MyQueue") + "/"
    q.call("SendMessage", {"MessageBody": "test message body 1"}, path=path).result("SendMessage")
    res = q.call(
        "ReceiveMessage", {"MaxNumberOfMessages": "5", "VisibilityTimeout": "15", "AttributeName": "All"}, path=path
    ).result("ReceiveMessage")
    (msg,) = res.findall("Message")
    assert msg.findtext("Body") == "test message body 1"
    assert set(attributes(msg)) == SYSTEM_ATTRIBUTES_ALL


# -- STS ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(("key", "account"), [("test", "000000000000"), ("123456789012", "123456789012")])
def test_sts_get_caller_identity_over_query(broker, method, key, account):
    client = QueryClient(broker.url, access_key=key)
    r = client.call("GetCallerIdentity", service="sts", version="2011-06-15", method=method)
    assert r.namespace == STS_NS
    result = r.result("GetCallerIdentity")
    assert result.findtext("Account") == account
    assert result.findtext("Arn") == f"arn:aws:iam::{account}:user/broker"
    assert result.findtext("UserId")


# -- a botocore client speaking the query protocol ---------------------------------------------------------
@pytest.fixture
def qc(broker, tmp_path):
    client = query_protocol_sqs_client(broker.url, tmp_path / "models")
    bodies: list[bytes] = []
    client.meta.events.register("before-send.sqs.*", lambda request, **_: bodies.append(request.body))
    client.sent_bodies = bodies
    return client


def test_botocore_query_client_really_sends_query(qc):
    url = qc.create_queue(QueueName="proof", Attributes={"VisibilityTimeout": "40"}, tags={"k": "v"})["QueueUrl"]
    qc.send_message(QueueUrl=url, MessageBody="b", MessageAttributes={"a": {"DataType": "String", "StringValue": "v"}})
    create, send = (b.decode() if isinstance(b, bytes) else b for b in qc.sent_bodies)
    assert create.startswith("Action=CreateQueue&Version=2012-11-05")
    assert "Attribute.1.Name=VisibilityTimeout" in create and "Tag.1.Key=k" in create
    assert "MessageAttribute.1.Name=a" in send and "MessageAttribute.1.Value.StringValue=v" in send


def test_botocore_query_client_round_trip(qc, broker):
    url = qc.create_queue(QueueName="bq", Attributes={"VisibilityTimeout": "40"}, tags={"team": "core"})["QueueUrl"]
    assert url == queue_url(broker, "bq")
    assert qc.get_queue_url(QueueName="bq")["QueueUrl"] == url
    assert qc.list_queues(QueueNamePrefix="b")["QueueUrls"] == [url]
    assert "QueueUrls" not in qc.list_queues(QueueNamePrefix="zzz")

    blob = b"\x00\x01\x02\xff"
    attrs = {
        "s": {"DataType": "String", "StringValue": "text <&> \r"},
        "n": {"DataType": "Number.int", "StringValue": "-12"},
        "b": {"DataType": "Binary", "BinaryValue": blob},
    }
    sent = qc.send_message(QueueUrl=url, MessageBody="round <&> trip \r ü", MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == md5("round <&> trip \r ü")
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(
        {"s": ("String", "text <&> \r"), "n": ("Number.int", "-12"), "b": ("Binary", blob)}
    )
    (m,) = qc.receive_message(QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "round <&> trip \r ü"
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert set(m["Attributes"]) == SYSTEM_ATTRIBUTES_ALL
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"

    qc.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    (m2,) = qc.receive_message(QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert m2["Attributes"] == {"ApproximateReceiveCount": "2"}
    assert "MessageAttributes" not in m2
    qc.delete_message(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"])
    broker.advance(41)
    assert "Messages" not in qc.receive_message(QueueUrl=url)
    qc.delete_queue(QueueUrl=url)
    assert "QueueUrls" not in qc.list_queues()


def test_botocore_query_client_batches(qc, broker):
    url = qc.create_queue(QueueName="bqb")["QueueUrl"]
    sent = qc.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "A"},
            {"Id": "b", "MessageBody": "B", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
            {"Id": "c", "MessageBody": "C", "DelaySeconds": 5},
            {"Id": "bad", "MessageBody": "nul \x00"},
        ],
    )
    assert sorted(e["Id"] for e in sent["Successful"]) == ["a", "b", "c"]
    assert [(f["Id"], f["SenderFault"], f["Code"]) for f in sent["Failed"]] == [("bad", True, "InvalidMessageContents")]
    by_id = {e["Id"]: e for e in sent["Successful"]}
    assert by_id["b"]["MD5OfMessageAttributes"] == md5_of_attributes({"k": ("String", "v")})

    msgs = qc.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in msgs) == ["A", "B"]
    handles = {m["Body"]: m["ReceiptHandle"] for m in msgs}
    changed = qc.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "A", "ReceiptHandle": handles["A"], "VisibilityTimeout": 0},
            {"Id": "junk", "ReceiptHandle": "junk", "VisibilityTimeout": 0},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["A"]
    assert [(f["Id"], f["Code"]) for f in changed["Failed"]] == [("junk", "ReceiptHandleIsInvalid")]

    broker.advance(6)
    again = qc.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in again) == ["A", "C"]
    handles.update({m["Body"]: m["ReceiptHandle"] for m in again})
    deleted = qc.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": k, "ReceiptHandle": handles[k]} for k in ("A", "B", "C")] + [{"Id": "x", "ReceiptHandle": "x"}],
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["A", "B", "C"]
    assert [(f["Id"], f["SenderFault"]) for f in deleted["Failed"]] == [("x", True)]
    broker.advance(31)
    assert "Messages" not in qc.receive_message(QueueUrl=url, MaxNumberOfMessages=10)


def test_botocore_query_client_attributes_tags_purge(qc):
    url = qc.create_queue(QueueName="bqa")["QueueUrl"]
    qc.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "7", "MaximumMessageSize": "2048"})
    got = qc.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds", "MaximumMessageSize", "QueueArn"])
    assert got["Attributes"] == {
        "DelaySeconds": "7",
        "MaximumMessageSize": "2048",
        "QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:bqa",
    }
    every = qc.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert every["DelaySeconds"] == "7" and every["VisibilityTimeout"] == "30"

    qc.tag_queue(QueueUrl=url, Tags={"a": "1", "b": "2", "c": "3"})
    qc.untag_queue(QueueUrl=url, TagKeys=["b", "c"])
    assert qc.list_queue_tags(QueueUrl=url)["Tags"] == {"a": "1"}
    qc.untag_queue(QueueUrl=url, TagKeys=["a"])
    assert "Tags" not in qc.list_queue_tags(QueueUrl=url)

    qc.send_message(QueueUrl=url, MessageBody="x")
    qc.purge_queue(QueueUrl=url)
    counts = qc.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert counts["Attributes"] == {"ApproximateNumberOfMessagesDelayed": "0"}


def test_botocore_query_client_and_json_client_share_messages(qc, broker):
    sqs = broker.client("sqs")
    url = qc.create_queue(QueueName="shared")["QueueUrl"]
    a = qc.send_message(
        QueueUrl=url, MessageBody="q->j", MessageAttributes={"x": {"DataType": "Binary", "BinaryValue": b"\x01"}}
    )
    (m,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert (m["MessageId"], m["Body"], m["MessageAttributes"]) == (
        a["MessageId"],
        "q->j",
        {"x": {"DataType": "Binary", "BinaryValue": b"\x01"}},
    )
    qc.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    b = sqs.send_message(QueueUrl=url, MessageBody="j->q")
    (m,) = qc.receive_message(QueueUrl=url)["Messages"]
    assert (m["MessageId"], m["Body"], m["MD5OfBody"]) == (b["MessageId"], "j->q", b["MD5OfMessageBody"])


@pytest.mark.parametrize(
    ("call", "code", "exception"),
    [
        (
            lambda c, u: c.get_queue_url(QueueName="nope"),
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ),
        (
            lambda c, u: c.send_message(QueueUrl=u.replace("errs", "gone"), MessageBody="x"),
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ),
        (
            lambda c, u: c.create_queue(QueueName="errs", Attributes={"DelaySeconds": "9"}),
            "QueueAlreadyExists",
            "QueueNameExists",
        ),
        (
            lambda c, u: c.send_message_batch(
                QueueUrl=u, Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "a", "MessageBody": "2"}]
            ),
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "BatchEntryIdsNotDistinct",
        ),
        (
            lambda c, u: c.delete_message_batch(
                QueueUrl=u, Entries=[{"Id": str(i), "ReceiptHandle": "h"} for i in range(11)]
            ),
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "TooManyEntriesInBatchRequest",
        ),
        (lambda c, u: c.delete_message(QueueUrl=u, ReceiptHandle="bogus"), "ReceiptHandleIsInvalid", None),
        (lambda c, u: c.get_queue_attributes(QueueUrl=u, AttributeNames=["Bogus"]), "InvalidAttributeName", None),
        (lambda c, u: c.receive_message(QueueUrl=u, MaxNumberOfMessages=11), "InvalidParameterValue", None),
    ],
    ids=["get-url", "send", "exists", "dup-ids", "too-many", "handle", "attr-name", "max-messages"],
)
def test_botocore_query_client_errors(qc, call, code, exception):
    url = qc.create_queue(QueueName="errs")["QueueUrl"]
    with pytest.raises(ClientError) as info:
        call(qc, url)
    err = info.value.response
    assert err["Error"]["Code"] == code
    assert err["Error"]["Type"] == "Sender"
    assert err["Error"]["Message"]
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["ResponseMetadata"]["RequestId"]
    if exception:
        assert isinstance(info.value, getattr(qc.exceptions, exception))


def test_error_text_echoing_characters_xml_cannot_carry_still_parses(broker):
    # An attribute name with a control character is echoed in the message; XML 1.0 cannot carry U+0001 even as a
    # reference, so it arrives as U+FFFD and the document stays parseable.
    q = QueryClient(broker.url)
    url = q.create_queue("xmlsafe")
    kind, code, message = q.call("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "Bad\x01Name"}).error()
    assert code == "InvalidAttributeName" and message == "Unknown Attribute Bad\ufffdName."
