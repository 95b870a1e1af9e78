"""SQS errors over the JSON protocol: every class of bad input gets AWS's exact error code, never HTTP 500.

Codes as boto3 reports them (SQS is awsQueryCompatible: botocore takes Error.Code from the x-amzn-query-error
header, and client.exceptions.<Shape> from the __type shape name). Sources: SQS API Reference "Errors" of each
action and Common Errors (MissingParameter, InvalidParameterValue), the limits in each action's parameters.
"""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from botocore.exceptions import ClientError
from botocore.loaders import Loader

from tests.sqs.clients import client as _client
from tests.sqs.clients import error_400 as _err
from tests.sqs.clients import outcome as _outcome

JSON_CT = "application/x-amz-json-1.0"


@pytest.fixture
def sqs(broker):
    return _client(broker)


@pytest.fixture
def raw(broker):
    """A client that sends what it is given (no botocore-side validation)."""
    return _client(broker, parameter_validation=False)


@pytest.fixture
def url(sqs) -> str:
    return sqs.create_queue(QueueName="errors")["QueueUrl"]


def _code(fn, **kw) -> str:
    return _err(fn, **kw)["Code"]


def _raw_outcome(r: httpx.Response) -> tuple[int, str]:
    try:
        kind = r.json().get("__type", "")
    except ValueError:
        kind = f"<not JSON: {r.text[:60]!r}>"
    return r.status_code, kind


def _post(broker, op: str, payload, *, target: str | None = None, content_type: str = JSON_CT) -> httpx.Response:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"X-Amz-Target": target or f"AmazonSQS.{op}", "Content-Type": content_type}
    return httpx.post(broker.url + "/", headers=headers, content=content, timeout=30)


def _json_error(r: httpx.Response) -> dict:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body.get("__type"), str) and body["__type"], body
    return body


def _in_flight(sqs, url: str, body: str = "m") -> dict:
    sqs.send_message(QueueUrl=url, MessageBody=body)
    return sqs.receive_message(QueueUrl=url)["Messages"][0]


# -- missing required parameters -------------------------------------------------------------------------------
MISSING = [
    ("create_queue", {}),
    ("get_queue_url", {}),
    ("delete_queue", {}),
    ("get_queue_attributes", {}),
    ("set_queue_attributes", {"QueueUrl": "URL"}),
    ("purge_queue", {}),
    ("send_message", {"QueueUrl": "URL"}),
    ("send_message", {"MessageBody": "body"}),
    ("send_message_batch", {"QueueUrl": "URL"}),
    ("receive_message", {}),
    ("delete_message", {"QueueUrl": "URL"}),
    ("delete_message_batch", {"QueueUrl": "URL"}),
    ("change_message_visibility", {"QueueUrl": "URL", "ReceiptHandle": "x"}),
    ("change_message_visibility", {"QueueUrl": "URL", "VisibilityTimeout": 10}),
    ("change_message_visibility_batch", {"QueueUrl": "URL"}),
    ("tag_queue", {"QueueUrl": "URL"}),
    ("untag_queue", {"QueueUrl": "URL"}),
    ("list_queue_tags", {}),
]


def test_missing_required_parameter(raw, url):
    wrong = []
    for op, kw in MISSING:
        kw = {k: (url if v == "URL" else v) for k, v in kw.items()}
        got = _outcome(getattr(raw, op), **kw)
        if got != (400, "MissingParameter"):
            wrong.append((op, sorted(kw), got))
    assert wrong == []


def test_empty_message_body_is_missing_parameter(sqs, url):
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="")
    assert err["Code"] == "MissingParameter"
    assert "MessageBody" in err["Message"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


# -- unknown queue ---------------------------------------------------------------------------------------------
def _missing_url(broker) -> str:
    return f"{broker.url}/000000000000/no-such-queue"


UNKNOWN_QUEUE_CALLS = {
    "get_queue_attributes": {"AttributeNames": ["All"]},
    "set_queue_attributes": {"Attributes": {"VisibilityTimeout": "10"}},
    "delete_queue": {},
    "purge_queue": {},
    "send_message": {"MessageBody": "x"},
    "send_message_batch": {"Entries": [{"Id": "a", "MessageBody": "x"}]},
    "receive_message": {},
    "delete_message": {"ReceiptHandle": "AQEBexample"},
    "delete_message_batch": {"Entries": [{"Id": "a", "ReceiptHandle": "AQEBexample"}]},
    "change_message_visibility": {"ReceiptHandle": "AQEBexample", "VisibilityTimeout": 10},
    "change_message_visibility_batch": {"Entries": [{"Id": "a", "ReceiptHandle": "AQEBexample"}]},
    "tag_queue": {"Tags": {"k": "v"}},
    "untag_queue": {"TagKeys": ["k"]},
    "list_queue_tags": {},
}


@pytest.mark.parametrize("op", sorted(UNKNOWN_QUEUE_CALLS))
def test_unknown_queue_is_non_existent_queue(broker, sqs, op):
    sqs.create_queue(QueueName="some-other-queue")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as ei:
        getattr(sqs, op)(QueueUrl=_missing_url(broker), **UNKNOWN_QUEUE_CALLS[op])
    resp = ei.value.response
    assert resp["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == (
        "AWS.SimpleQueueService.NonExistentQueue;Sender"
    )


def test_get_queue_url_of_unknown_queue(sqs):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as ei:
        sqs.get_queue_url(QueueName="nope")
    assert ei.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_unknown_queue_raw_json_response(broker):
    r = _post(broker, "GetQueueUrl", {"QueueName": "nope"})
    assert r.status_code == 400
    assert r.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    body = _json_error(r)
    assert body["__type"].rsplit("#", 1)[-1] == "QueueDoesNotExist"
    assert r.headers["content-type"].startswith(JSON_CT)


# -- attributes ------------------------------------------------------------------------------------------------
def test_invalid_attribute_names(sqs, url):
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as ei:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])
    assert ei.value.response["Error"]["Code"] == "InvalidAttributeName"
    assert _code(sqs.set_queue_attributes, QueueUrl=url, Attributes={"Bogus": "1"}) == "InvalidAttributeName"
    assert _code(sqs.create_queue, QueueName="x", Attributes={"Bogus": "1"}) == "InvalidAttributeName"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DelaySeconds", "901"),
        ("DelaySeconds", "-1"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("VisibilityTimeout", "43201"),
        ("VisibilityTimeout", "ten"),
        ("SqsManagedSseEnabled", "maybe"),
    ],
)
def test_invalid_attribute_values(sqs, url, name, value):
    with pytest.raises(sqs.exceptions.InvalidAttributeValue) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
    assert ei.value.response["Error"]["Code"] == "InvalidAttributeValue"
    assert _code(sqs.create_queue, QueueName="other", Attributes={name: value}) == "InvalidAttributeValue"


# -- message size and contents ---------------------------------------------------------------------------------
def test_message_longer_than_maximum_is_refused(sqs, url):
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="x" * 1048577)
    assert err["Code"] == "InvalidParameterValue"
    assert "Message must be shorter than 1048576 bytes" in err["Message"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_message_size_counts_attributes(sqs):
    url = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    attrs = {"ab": {"DataType": "String", "StringValue": "xyz"}}  # 11 bytes: name + type + value
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="b" * (1024 - 10), MessageAttributes=attrs)
    assert err["Code"] == "InvalidParameterValue"
    assert "Message must be shorter than 1024 bytes" in err["Message"]


def test_message_size_is_counted_in_utf8_bytes(sqs):
    # MaximumMessageSize: "The limit of how many bytes a message can contain before Amazon SQS rejects it."
    url = sqs.create_queue(QueueName="bytes", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="é" * 513)  # 513 characters, 1026 bytes
    assert err["Code"] == "InvalidParameterValue"
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="😀" * 300)  # 300 characters, 1200 bytes
    assert err["Code"] == "InvalidParameterValue"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_message_over_small_queue_maximum(sqs):
    url = sqs.create_queue(QueueName="tiny", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="x" * 1025)
    assert err["Code"] == "InvalidParameterValue"
    assert "Message must be shorter than 1024 bytes" in err["Message"]


def test_invalid_characters_in_body(sqs, url):
    with pytest.raises(sqs.exceptions.InvalidMessageContents) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="null\x00inside")
    assert ei.value.response["Error"]["Code"] == "InvalidMessageContents"
    wrong = []
    for body in ["\x00", "\x08", "bell\x07", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff", "ok then \x01", "é\x02"]:
        got = _outcome(sqs.send_message, QueueUrl=url, MessageBody=body)
        if got != (400, "InvalidMessageContents"):
            wrong.append((body, got))
    assert wrong == []
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


# -- receipt handles -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("handle", ["garbage", "AQEB" + "x" * 40, "not a handle!", "MTox"])
def test_invalid_receipt_handle(sqs, url, handle):
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid) as ei:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert ei.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    err = _err(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)
    assert err["Code"] == "ReceiptHandleIsInvalid"


def test_empty_receipt_handle(raw, url):
    assert _code(raw.delete_message, QueueUrl=url, ReceiptHandle="") in ("ReceiptHandleIsInvalid", "MissingParameter")


def test_change_visibility_of_deleted_message(sqs, url):
    msg = _in_flight(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    err = _err(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=5)
    assert err["Code"] == "InvalidParameterValue"


def test_change_visibility_beyond_12_hours_from_receive(broker, sqs, url):
    # "If you attempt to set the VisibilityTimeout to a value greater than the maximum time left, Amazon SQS
    # returns an error." (ChangeMessageVisibility)
    msg = _in_flight(sqs, url)
    broker.advance(20)
    err = _err(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=43200)
    assert err["Code"] == "InvalidParameterValue"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=43000)


# -- batches ---------------------------------------------------------------------------------------------------
def _entries(op: str, n: int, handle: str = "AQEBexample") -> list[dict]:
    if op == "send_message_batch":
        return [{"Id": f"e{i}", "MessageBody": f"b{i}"} for i in range(n)]
    if op == "delete_message_batch":
        return [{"Id": f"e{i}", "ReceiptHandle": handle} for i in range(n)]
    return [{"Id": f"e{i}", "ReceiptHandle": handle, "VisibilityTimeout": 5} for i in range(n)]


BATCH_OPS = ["send_message_batch", "delete_message_batch", "change_message_visibility_batch"]


@pytest.mark.parametrize("op", BATCH_OPS)
def test_empty_batch(raw, sqs, url, op):
    with pytest.raises(raw.exceptions.EmptyBatchRequest) as ei:
        getattr(raw, op)(QueueUrl=url, Entries=[])
    assert ei.value.response["Error"]["Code"] == "AWS.SimpleQueueService.EmptyBatchRequest"


@pytest.mark.parametrize("op", BATCH_OPS)
def test_too_many_entries_in_batch(raw, sqs, url, op):
    with pytest.raises(raw.exceptions.TooManyEntriesInBatchRequest) as ei:
        getattr(raw, op)(QueueUrl=url, Entries=_entries(op, 11))
    assert ei.value.response["Error"]["Code"] == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


@pytest.mark.parametrize("op", BATCH_OPS)
def test_batch_entry_ids_not_distinct(sqs, url, op):
    entries = _entries(op, 3)
    entries[2]["Id"] = entries[0]["Id"]
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct) as ei:
        getattr(sqs, op)(QueueUrl=url, Entries=entries)
    assert ei.value.response["Error"]["Code"] == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


@pytest.mark.parametrize("op", BATCH_OPS)
def test_invalid_batch_entry_id(sqs, url, op):
    entries = _entries(op, 2)
    entries[1]["Id"] = "has space"
    with pytest.raises(sqs.exceptions.InvalidBatchEntryId) as ei:
        getattr(sqs, op)(QueueUrl=url, Entries=entries)
    assert ei.value.response["Error"]["Code"] == "AWS.SimpleQueueService.InvalidBatchEntryId"
    wrong = []
    for bad_id in ["dot.id", "bang!", "i" * 81, "ünï", "slash/id"]:
        entries[1]["Id"] = bad_id
        got = _outcome(getattr(sqs, op), QueueUrl=url, Entries=entries)
        if got != (400, "AWS.SimpleQueueService.InvalidBatchEntryId"):
            wrong.append((bad_id, got))
    assert wrong == []
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_batch_entry_ids_up_to_80_allowed_characters(sqs, url):
    ids = ["a", "Z-9_x", "i" * 80]
    resp = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": i, "MessageBody": i} for i in ids])
    assert sorted(e["Id"] for e in resp["Successful"]) == sorted(ids)


def test_batch_request_too_long(sqs, url):
    entries = [{"Id": "a", "MessageBody": "a" * 600_000}, {"Id": "b", "MessageBody": "b" * 600_000}]
    with pytest.raises(sqs.exceptions.BatchRequestTooLong) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert ei.value.response["Error"]["Code"] == "AWS.SimpleQueueService.BatchRequestTooLong"
    # Nothing of a refused batch is sent.
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_batch_of_ten_just_over_1_mib(sqs, url):
    entries = [{"Id": f"e{i}", "MessageBody": "x" * 104_858} for i in range(10)]  # 1,048,580 bytes
    assert _code(sqs.send_message_batch, QueueUrl=url, Entries=entries) == "AWS.SimpleQueueService.BatchRequestTooLong"
    entries = [{"Id": f"e{i}", "MessageBody": "x" * 104_857} for i in range(10)]  # 1,048,570 bytes
    assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == 10


def test_send_batch_entry_too_long_fails_alone(sqs):
    url = sqs.create_queue(QueueName="batch-small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    resp = sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "ok", "MessageBody": "fine"}, {"Id": "big", "MessageBody": "x" * 2000}]
    )
    assert [e["Id"] for e in resp["Successful"]] == ["ok"]
    (failed,) = resp["Failed"]
    assert failed["Id"] == "big"
    assert failed["SenderFault"] is True
    assert failed["Code"] == "InvalidParameterValue"
    assert "Message must be shorter than 1024 bytes" in failed["Message"]
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in msgs] == ["fine"]


def test_send_batch_entry_with_invalid_characters_fails_alone(sqs, url):
    # AWS-validated (LocalStack test_batch_send_with_invalid_char_should_succeed).
    entries = [{"Id": str(i), "MessageBody": str(i)} for i in range(9)] + [{"Id": "9", "MessageBody": "\x01"}]
    resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert sorted(e["Id"] for e in resp["Successful"]) == [str(i) for i in range(9)]
    (failed,) = resp["Failed"]
    assert failed["Id"] == "9" and failed["SenderFault"] is True
    assert failed["Code"] == "InvalidMessageContents"
    bodies = []
    for _ in range(5):
        bodies += [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
    assert sorted(bodies) == [str(i) for i in range(9)]


def test_delete_batch_reports_invalid_handle_per_entry(broker, sqs, url):
    msg = _in_flight(sqs, url)
    resp = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "good", "ReceiptHandle": msg["ReceiptHandle"]}, {"Id": "bad", "ReceiptHandle": "garbage"}],
    )
    assert [e["Id"] for e in resp["Successful"]] == ["good"]
    (failed,) = resp["Failed"]
    assert failed["Id"] == "bad" and failed["SenderFault"] is True
    assert failed["Code"] == "ReceiptHandleIsInvalid"
    broker.advance(31)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_change_visibility_batch_reports_failures_per_entry(broker, sqs, url):
    msg = _in_flight(sqs, url)
    resp = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "good", "ReceiptHandle": msg["ReceiptHandle"], "VisibilityTimeout": 300},
            {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 300},
        ],
    )
    assert [e["Id"] for e in resp["Successful"]] == ["good"]
    (failed,) = resp["Failed"]
    assert failed["Id"] == "bad" and failed["SenderFault"] is True
    assert failed["Code"] == "ReceiptHandleIsInvalid"
    broker.advance(31)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # the 300 s of "good" were applied


def test_change_visibility_batch_entry_not_in_flight(sqs, url):
    # See NOT_INFLIGHT in test_messages.py: AWS answers this entry with success-and-no-change or MessageNotInflight.
    msg = _in_flight(sqs, url)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0)
    resp = sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": msg["ReceiptHandle"], "VisibilityTimeout": 60}]
    )
    if resp.get("Failed"):
        (failed,) = resp["Failed"]
        assert failed["Id"] == "a" and failed["SenderFault"] is True
        assert failed["Code"] == "AWS.SimpleQueueService.MessageNotInflight"
    else:
        assert [e["Id"] for e in resp["Successful"]] == ["a"]
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["MessageId"] == msg["MessageId"]


# -- message attributes ----------------------------------------------------------------------------------------
def _attr(value: str = "v", data_type: str = "String") -> dict:
    return {"DataType": data_type, "StringValue": value}


def test_too_many_message_attributes(sqs, url):
    attrs = {f"a{i}": _attr(str(i)) for i in range(11)}
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="b", MessageAttributes=attrs)
    assert err["Code"] == "InvalidParameterValue"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_invalid_message_attribute_names(sqs, url):
    names = ["AWS.reserved", "aws.lower", "Amazon.reserved", "AMAZON.upper", ".lead", "trail.", "a..b", "sp ace"]
    names += ["bad!", "n" * 257, "slash/name", "sym\u2603bol"]  # (letters of other scripts are valid)
    wrong = []
    for name in names:
        got = _outcome(sqs.send_message, QueueUrl=url, MessageBody="b", MessageAttributes={name: _attr()})
        if got != (400, "InvalidParameterValue"):
            wrong.append((name, got))
    assert wrong == []
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


@pytest.mark.parametrize(
    "attr",
    [
        {"DataType": "Foo", "StringValue": "v"},
        {"DataType": "Int", "StringValue": "1"},
        {"DataType": "string", "StringValue": "v"},
        {"DataType": "StringX", "StringValue": "v"},
        {"DataType": "", "StringValue": "v"},
    ],
    ids=["Foo", "Int", "lowercase", "StringX", "empty"],
)
def test_invalid_message_attribute_types(raw, url, attr):
    assert _code(raw.send_message, QueueUrl=url, MessageBody="b", MessageAttributes={"a": attr}) == (
        "InvalidParameterValue"
    )


@pytest.mark.parametrize(
    "attr",
    [
        {"DataType": "String", "StringValue": ""},
        {"DataType": "String"},
        {"DataType": "Number"},
        {"DataType": "Binary"},
        {"DataType": "Binary", "StringValue": "not binary"},
        {"DataType": "String", "BinaryValue": b"bytes"},
    ],
    ids=["empty-string", "no-string", "no-number", "no-binary", "binary-as-string", "string-as-binary"],
)
def test_message_attribute_without_a_matching_value(raw, url, attr):
    assert _code(raw.send_message, QueueUrl=url, MessageBody="b", MessageAttributes={"a": attr}) == (
        "InvalidParameterValue"
    )


def test_invalid_number_attribute_values(sqs, url):
    wrong = []
    for value in ["abc", "1.2.3", "12abc", "--1", "1e", "0x10", "1,5", "one"]:
        attrs = {"n": _attr(value, "Number")}
        got = _outcome(sqs.send_message, QueueUrl=url, MessageBody="b", MessageAttributes=attrs)
        if got != (400, "InvalidParameterValue"):
            wrong.append((value, got))
    assert wrong == []


def test_invalid_characters_in_string_attribute_value(sqs, url):
    attrs = {"s": _attr("bad\x00value")}
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="b", MessageAttributes=attrs)
    assert err["Code"] in ("InvalidParameterValue", "InvalidMessageContents")


def test_unknown_message_system_attribute(sqs, url):
    sys_attrs = {"NotATraceHeader": {"DataType": "String", "StringValue": "x"}}
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="b", MessageSystemAttributes=sys_attrs)
    assert err["Code"] == "InvalidParameterValue"


# -- numeric parameter ranges ----------------------------------------------------------------------------------
@pytest.mark.parametrize("delay", [901, -1, 100000])
def test_send_delay_seconds_out_of_range(sqs, url, delay):
    err = _err(sqs.send_message, QueueUrl=url, MessageBody="b", DelaySeconds=delay)
    assert err["Code"] == "InvalidParameterValue"
    assert "DelaySeconds" in err["Message"]


def test_send_batch_entry_delay_out_of_range(sqs, url):
    resp = None
    try:
        resp = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": "ok", "MessageBody": "b"}, {"Id": "late", "MessageBody": "b", "DelaySeconds": 901}],
        )
    except ClientError as e:  # a whole-request refusal is acceptable too
        assert e.response["Error"]["Code"] == "InvalidParameterValue"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        return
    failed = {f["Id"]: f for f in resp["Failed"]}
    assert set(failed) == {"late"}
    assert failed["late"]["Code"] == "InvalidParameterValue" and failed["late"]["SenderFault"] is True


@pytest.mark.parametrize("wait", [21, -1])
def test_wait_time_seconds_out_of_range(sqs, url, wait):
    err = _err(sqs.receive_message, QueueUrl=url, WaitTimeSeconds=wait)
    assert err["Code"] == "InvalidParameterValue"
    assert "WaitTimeSeconds" in err["Message"]


@pytest.mark.parametrize("n", [0, 11, -1])
def test_max_number_of_messages_out_of_range(sqs, url, n):
    sqs.send_message(QueueUrl=url, MessageBody="still here")
    with pytest.raises(ClientError) as ei:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n)
    resp = ei.value.response
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert resp["Error"]["Code"] == "InvalidParameterValue"
    assert "MaxNumberOfMessages" in resp["Error"]["Message"]
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    # The refused receive did not hide the message.
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "still here"


@pytest.mark.parametrize("vt", [43201, -1])
def test_receive_visibility_timeout_out_of_range(sqs, url, vt):
    err = _err(sqs.receive_message, QueueUrl=url, VisibilityTimeout=vt)
    assert err["Code"] == "InvalidParameterValue"
    assert "VisibilityTimeout" in err["Message"]


@pytest.mark.parametrize("vt", [43201, -1])
def test_change_visibility_out_of_range(sqs, url, vt):
    msg = _in_flight(sqs, url)
    err = _err(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=vt)
    assert err["Code"] == "InvalidParameterValue"


@pytest.mark.parametrize("n", [0, 1001])
def test_list_queues_max_results_out_of_range(sqs, url, n):
    assert _code(sqs.list_queues, MaxResults=n) == "InvalidParameterValue"


def test_queue_already_exists(sqs):
    sqs.create_queue(QueueName="dupe", Attributes={"DelaySeconds": "1"})
    with pytest.raises(sqs.exceptions.QueueNameExists) as ei:
        sqs.create_queue(QueueName="dupe", Attributes={"DelaySeconds": "2"})
    assert ei.value.response["Error"]["Code"] == "QueueAlreadyExists"
    assert ei.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == "QueueAlreadyExists;Sender"


def test_invalid_queue_name(sqs):
    assert _code(sqs.create_queue, QueueName="bad name") == "InvalidParameterValue"
    assert _code(sqs.create_queue, QueueName="q" * 81) == "InvalidParameterValue"


# -- raw JSON protocol -----------------------------------------------------------------------------------------
def test_raw_json_success_round_trip(broker):
    r = _post(broker, "CreateQueue", {"QueueName": "raw"})
    assert r.status_code == 200
    url = r.json()["QueueUrl"]
    r = _post(broker, "SendMessage", {"QueueUrl": url, "MessageBody": "raw body"})
    assert r.status_code == 200
    assert r.json()["MD5OfMessageBody"] == hashlib.md5(b"raw body").hexdigest()
    r = _post(broker, "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10})
    assert r.status_code == 200
    assert [m["Body"] for m in r.json()["Messages"]] == ["raw body"]


def test_malformed_json_body(broker):
    _json_error(_post(broker, "CreateQueue", b'{"QueueName": '))
    payloads = [b"{", b"{'QueueName': 'single-quotes'}", b"not json at all", b'{"QueueName": "a",}', b"\xff\xfe"]
    payloads += [b'{"QueueName": "a"} trailing', b'{"QueueName": }']
    wrong = []
    for payload in payloads:
        status, kind = _raw_outcome(_post(broker, "CreateQueue", payload))
        if status != 400 or not kind:
            wrong.append((payload, status, kind))
    assert wrong == []
    assert _post(broker, "ListQueues", {}).json().get("QueueUrls", []) == []


def test_json_body_that_is_not_an_object(broker):
    wrong = []
    for payload in [b"[]", b'"string"', b"42", b"null", b"true", b'[{"QueueName": "a"}]']:
        status, kind = _raw_outcome(_post(broker, "ListQueues", payload))
        if status != 400 or not kind:
            wrong.append((payload, status, kind))
    assert wrong == []


WRONG_TYPES = [
    ("ReceiveMessage", {"QueueUrl": "URL", "MaxNumberOfMessages": "5"}),
    ("ReceiveMessage", {"QueueUrl": "URL", "WaitTimeSeconds": 1.5}),
    ("ReceiveMessage", {"QueueUrl": "URL", "VisibilityTimeout": True}),
    ("ReceiveMessage", {"QueueUrl": "URL", "AttributeNames": "All"}),
    ("SendMessage", {"QueueUrl": "URL", "MessageBody": 123}),
    ("SendMessage", {"QueueUrl": "URL", "MessageBody": {"nested": 1}}),
    ("SendMessage", {"QueueUrl": "URL", "MessageBody": "b", "DelaySeconds": "5"}),
    ("SendMessage", {"QueueUrl": "URL", "MessageBody": "b", "MessageAttributes": {"a": "b"}}),
    ("SendMessage", {"QueueUrl": "URL", "MessageBody": "b", "MessageAttributes": []}),
    (
        "SendMessage",
        {
            "QueueUrl": "URL",
            "MessageBody": "b",
            "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": 5}},
        },
    ),
    (
        "SendMessage",
        {
            "QueueUrl": "URL",
            "MessageBody": "b",
            "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": "not base64!"}},
        },
    ),
    ("SendMessageBatch", {"QueueUrl": "URL", "Entries": {"Id": "a"}}),
    ("SendMessageBatch", {"QueueUrl": "URL", "Entries": ["a"]}),
    ("SendMessageBatch", {"QueueUrl": "URL", "Entries": [{"Id": 1, "MessageBody": "b"}]}),
    ("CreateQueue", {"QueueName": ["list"]}),
    ("CreateQueue", {"QueueName": "q", "Attributes": {"VisibilityTimeout": 30}}),
    ("CreateQueue", {"QueueName": "q", "Attributes": "VisibilityTimeout=30"}),
    ("SetQueueAttributes", {"QueueUrl": "URL", "Attributes": [["VisibilityTimeout", "30"]]}),
    ("GetQueueAttributes", {"QueueUrl": 42}),
    ("ChangeMessageVisibility", {"QueueUrl": "URL", "ReceiptHandle": "x", "VisibilityTimeout": "10"}),
    ("ListQueues", {"MaxResults": "10"}),
    ("TagQueue", {"QueueUrl": "URL", "Tags": {"k": 1}}),
    ("UntagQueue", {"QueueUrl": "URL", "TagKeys": "k"}),
]


def test_wrong_json_types(broker, url):
    wrong = []
    for op, payload in WRONG_TYPES:
        payload = {k: (url if v == "URL" else v) for k, v in payload.items()}
        status, kind = _raw_outcome(_post(broker, op, payload))
        if status != 400 or "SerializationException" not in kind:
            wrong.append((op, payload, status, kind))
    assert wrong == []


def test_wrong_json_type_changes_nothing(broker, sqs, url):
    sqs.send_message(QueueUrl=url, MessageBody="keep")
    r = _post(broker, "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "10"})
    assert r.status_code == 400
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "keep"


def test_unknown_operation_target(broker):
    wrong = []
    for target in ["AmazonSQS.NoSuchOperation", "AmazonSQS.", "AmazonSQS.createqueue", "NotAService.Op", "CreateQueue"]:
        status, kind = _raw_outcome(_post(broker, "", {"QueueName": "x"}, target=target))
        if status != 400 or "UnknownOperation" not in kind:
            wrong.append((target, status, kind))
    assert wrong == []
    assert _post(broker, "ListQueues", {}).json().get("QueueUrls", []) == []


def test_empty_body_for_operation_with_required_members(broker):
    # AWS: __type is the JSON model's exception name, x-amzn-query-error keeps the legacy code.
    r = _post(broker, "SendMessage", b"")
    assert _json_error(r)["__type"] == "com.amazonaws.sqs#MissingRequiredParameterException"
    assert r.headers["x-amzn-query-error"] == "MissingParameter;Sender"
    wrong = []
    for op in ["CreateQueue", "ReceiveMessage", "DeleteMessage", "GetQueueUrl", "SendMessageBatch", "TagQueue"]:
        for payload in (b"", b"{}"):
            status, kind = _raw_outcome(_post(broker, op, payload))
            if status != 400 or kind != "com.amazonaws.sqs#MissingRequiredParameterException":
                wrong.append((op, payload, status, kind))
    assert wrong == []


def test_empty_body_for_list_queues_is_fine(broker):
    r = _post(broker, "ListQueues", b"")
    assert r.status_code == 200
    assert r.json().get("QueueUrls", []) == []


def _wrong_value(shape_type: str):
    return {
        "string": 12345,
        "integer": "not a number",
        "long": "not a number",
        "boolean": "yes",
        "list": "not a list",
        "map": ["not", "a", "map"],
        "structure": "not a structure",
        "blob": 7,
    }[shape_type]


def _model_cases() -> list[tuple[str, str, str]]:
    model = Loader().load_service_model("sqs", "service-2")
    shapes = model["shapes"]
    ops = [
        "CreateQueue",
        "GetQueueUrl",
        "ListQueues",
        "DeleteQueue",
        "GetQueueAttributes",
        "SetQueueAttributes",
        "PurgeQueue",
        "TagQueue",
        "UntagQueue",
        "ListQueueTags",
        "SendMessage",
        "SendMessageBatch",
        "ReceiveMessage",
        "DeleteMessage",
        "DeleteMessageBatch",
        "ChangeMessageVisibility",
        "ChangeMessageVisibilityBatch",
    ]
    cases = []
    for op in ops:
        members = shapes[model["operations"][op]["input"]["shape"]]["members"]
        for name, ref in members.items():
            cases.append((op, name, shapes[ref["shape"]]["type"]))
    return cases


def test_every_member_with_a_wrong_type_is_a_client_error(broker, url):
    cases = _model_cases()
    assert len(cases) > 40
    wrong = []
    for op, member, shape_type in cases:
        payload = {"QueueUrl": url, "QueueName": "errors", member: _wrong_value(shape_type)}
        status, kind = _raw_outcome(_post(broker, op, payload))
        if status != 400 or not kind:
            wrong.append((op, member, status, kind))
    assert wrong == []
