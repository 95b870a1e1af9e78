"""Differences from AWS that an acceptance suite recorded against AWS found, each pinned here through a real broker
process, on both SQS protocols where both apply: `api` is boto3's JSON client or a botocore client speaking the
query protocol (tests/sqs/query_client.py), so one test body checks both wire formats."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.sqs.clients import client as _client
from tests.sqs.clients import queue_url
from tests.sqs.query_client import ACCOUNT, SQS_NS, QueryClient, query_protocol_sqs_client

JSON_CT = "application/x-amz-json-1.0"
BATCH_LIMIT = 1_048_576


@pytest.fixture(params=["json", "query"])
def api(request, broker, tmp_path):
    """The same SQS calls over the JSON protocol (boto3) or the query protocol (botocore, query model)."""
    if request.param == "json":
        return _client(broker)
    return query_protocol_sqs_client(broker.url, tmp_path / "models")


@pytest.fixture
def sqs(broker):
    return _client(broker)


@pytest.fixture
def q(broker) -> QueryClient:
    return QueryClient(broker.url)


def _error(fn, status: int = 400, **kw) -> dict:
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    resp = ei.value.response
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == status, resp
    return resp["Error"]


def _json(broker, op: str, payload: dict, headers: dict | None = None) -> httpx.Response:
    return httpx.post(
        broker.url + "/",
        headers={"X-Amz-Target": f"AmazonSQS.{op}", "Content-Type": JSON_CT, **(headers or {})},
        content=json.dumps(payload).encode(),
        timeout=30,
    )


def _fifo(api, name: str = "q.fifo", **attrs: str) -> str:
    return api.create_queue(QueueName=name, Attributes={"FifoQueue": "true", **attrs})["QueueUrl"]


def _receive(api, url: str, n: int = 10, **kw) -> list[dict]:
    return api.receive_message(QueueUrl=url, MaxNumberOfMessages=n, **kw).get("Messages", [])


def _bodies(msgs: list[dict]) -> list[str]:
    return [m["Body"] for m in msgs]


# -- 1. JSON errors: __type is the JSON model's exception name -------------------------------------------------------
def test_json_validation_errors_use_the_json_exception_names(broker, sqs):
    url = sqs.create_queue(QueueName="types")["QueueUrl"]
    r = _json(broker, "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 11})
    assert r.status_code == 400
    assert r.json()["__type"] == "com.amazonaws.sqs#InvalidParameterValueException"
    assert r.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    r = _json(broker, "SendMessage", {"QueueUrl": url})
    assert r.status_code == 400
    assert r.json()["__type"] == "com.amazonaws.sqs#MissingRequiredParameterException"
    assert r.headers["x-amzn-query-error"] == "MissingParameter;Sender"
    # boto3 reports the legacy codes (from x-amzn-query-error), as against AWS.
    assert _error(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=11)["Code"] == "InvalidParameterValue"


def test_every_json_error_type_is_a_model_shape_or_a_json_exception_name(broker, sqs):
    from botocore.loaders import Loader

    shapes = {n for n, s in Loader().load_service_model("sqs", "service-2")["shapes"].items() if s.get("exception")}
    allowed = shapes | {"InvalidParameterValueException", "MissingRequiredParameterException"}
    url = sqs.create_queue(QueueName="shapes")["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    requests = [
        ("GetQueueUrl", {"QueueName": "missing"}),
        ("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["Bogus"]}),
        ("SetQueueAttributes", {"QueueUrl": url, "Attributes": {"VisibilityTimeout": "-1"}}),
        ("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "garbage"}),
        ("SendMessageBatch", {"QueueUrl": url, "Entries": []}),
        ("SendMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "a", "MessageBody": "x"}] * 2}),
        ("SendMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "bad id!", "MessageBody": "x"}]}),
        ("DeleteMessageBatch", {"QueueUrl": url, "Entries": [{"Id": str(i), "ReceiptHandle": "h"} for i in range(11)]}),
        ("SendMessage", {"QueueUrl": url, "MessageBody": "\u0000"}),
        ("SendMessage", {"QueueUrl": url, "MessageBody": "x", "DelaySeconds": 901}),
        ("CreateQueue", {"QueueName": "bad name!"}),
        ("CreateQueue", {}),
        ("ChangeMessageVisibility", {"QueueUrl": url, "ReceiptHandle": "garbage", "VisibilityTimeout": 1}),
        ("PurgeQueue", {"QueueUrl": url}),  # the second purge within 60 s
        ("ListMessageMoveTasks", {"SourceArn": "arn:aws:sqs:us-east-1:000000000000:none"}),
        ("TagQueue", {"QueueUrl": url, "Tags": {f"k{i}": "v" for i in range(51)}}),
    ]
    wrong = []
    for op, payload in requests:
        r = _json(broker, op, payload)
        kind = r.json().get("__type", "") if r.status_code >= 400 else "<ok>"
        prefix, _, name = kind.partition("#")
        if r.status_code < 400 or prefix != "com.amazonaws.sqs" or name not in allowed:
            wrong.append((op, r.status_code, kind))
    assert wrong == []


# -- 2. QueueUrl: a bare queue name; any URL naming no queue is NonExistentQueue --------------------------------------
def test_a_bare_queue_name_is_a_queue_url(api):
    api.create_queue(QueueName="bare")
    api.send_message(QueueUrl="bare", MessageBody="by name")
    (msg,) = _receive(api, "bare")
    assert msg["Body"] == "by name"
    api.delete_message(QueueUrl="bare", ReceiptHandle=msg["ReceiptHandle"])
    assert _receive(api, "bare") == []


@pytest.mark.parametrize(
    "url",
    [
        "http://elsewhere.example.com/000000000000/none",
        "https://sqs.eu-west-1.amazonaws.com/000000000000/none",
        "http://elsewhere.example.com/only-a-name",
        "http://elsewhere.example.com/000000000000/known/extra",
        "http://elsewhere.example.com/",
        "none",
        "http://[::1/000000000000/hostile",
    ],
)
def test_a_queue_url_naming_no_queue_is_non_existent_queue(api, url):
    api.create_queue(QueueName="known")
    err = _error(api.send_message, QueueUrl=url, MessageBody="x")
    assert err["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


# -- 3. FIFO group rotation; standard queues give back expired messages first -----------------------------------------
def _send_groups(api, url: str) -> None:
    for body, group in [("g1-m1", "g1"), ("g2-m1", "g2"), ("g2-m2", "g2"), ("g3-m1", "g3"), ("g1-m2", "g1")]:
        api.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body)


def test_fifo_received_groups_go_to_the_back_of_the_rotation(api):
    url = _fifo(api)
    _send_groups(api, url)
    assert _bodies(_receive(api, url, 3, VisibilityTimeout=0)) == ["g1-m1", "g1-m2", "g2-m1"]
    assert _bodies(_receive(api, url, 10)) == ["g3-m1", "g1-m1", "g1-m2", "g2-m1", "g2-m2"]


def test_fifo_rotation_after_a_visibility_timeout(api, broker):
    url = _fifo(api, VisibilityTimeout="5")
    _send_groups(api, url)
    assert _bodies(_receive(api, url, 3)) == ["g1-m1", "g1-m2", "g2-m1"]
    assert _bodies(_receive(api, url, 10)) == ["g3-m1"]  # g1 and g2 are in flight
    broker.advance(6)
    assert _bodies(_receive(api, url, 10)) == ["g1-m1", "g1-m2", "g2-m1", "g2-m2", "g3-m1"]


def test_fifo_rotation_after_change_message_visibility(api):
    url = _fifo(api)
    _send_groups(api, url)
    taken = _receive(api, url, 2)
    assert _bodies(taken) == ["g1-m1", "g1-m2"]
    for m in taken:
        api.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    # g1 was received: it comes after g2 and g3, which were not.
    assert _bodies(_receive(api, url, 10)) == ["g2-m1", "g2-m2", "g3-m1", "g1-m1", "g1-m2"]


def test_fifo_deleting_a_groups_head_keeps_the_group_at_the_back(api):
    url = _fifo(api)
    _send_groups(api, url)
    (first,) = _receive(api, url, 1)
    assert first["Body"] == "g1-m1"
    api.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    # g1's next message waits its group's turn: after g2 and g3.
    assert _bodies(_receive(api, url, 10)) == ["g2-m1", "g2-m2", "g3-m1", "g1-m2"]


def test_fifo_message_sent_to_a_group_in_flight_is_delivered_once_the_group_is_free(api):
    url = _fifo(api)
    api.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a", MessageDeduplicationId="a1")
    (a1,) = _receive(api, url, 10)
    api.send_message(QueueUrl=url, MessageBody="a2", MessageGroupId="a", MessageDeduplicationId="a2")
    api.send_message(QueueUrl=url, MessageBody="a3", MessageGroupId="a", MessageDeduplicationId="a3")
    assert _receive(api, url, 10) == []
    api.delete_message(QueueUrl=url, ReceiptHandle=a1["ReceiptHandle"])
    assert _bodies(_receive(api, url, 10)) == ["a2", "a3"]


def test_standard_message_whose_visibility_expired_comes_back_before_later_messages(api, broker):
    url = api.create_queue(QueueName="std-order")["QueueUrl"]
    api.send_message(QueueUrl=url, MessageBody="first")
    assert _bodies(_receive(api, url, 1, VisibilityTimeout=10)) == ["first"]
    for i in range(12):
        api.send_message(QueueUrl=url, MessageBody=f"later-{i}")
    broker.advance(11)
    assert _bodies(_receive(api, url, 1)) == ["first"]
    assert _bodies(_receive(api, url, 10)) == [f"later-{i}" for i in range(10)]


# -- 4. Queue URLs carry the region ----------------------------------------------------------------------------------
def test_queue_urls_carry_the_region(broker):
    east = _client(broker, region="us-east-1")
    west = _client(broker, region="eu-west-1")
    url_east = east.create_queue(QueueName="twin")["QueueUrl"]
    url_west = west.create_queue(QueueName="twin")["QueueUrl"]
    assert url_east == queue_url(broker, "twin", "us-east-1")
    assert url_west == queue_url(broker, "twin", "eu-west-1")
    assert west.get_queue_url(QueueName="twin")["QueueUrl"] == url_west
    assert west.list_queues()["QueueUrls"] == [url_west]


def test_query_queue_urls_carry_the_region(broker):
    for region in ("us-east-1", "ap-southeast-2"):
        q = QueryClient(broker.url, region=region)
        url = q.create_queue("regional")
        assert url == queue_url(broker, "regional", region)
        listed = q.call("ListQueues").result("ListQueues").findtext("QueueUrl")
        assert listed == url


def test_a_regional_queue_url_reaches_the_broker(broker, sqs):
    # Addressed by a host name, the broker prefixes sqs.<region>. to it, as AWS's sqs.<region>.amazonaws.com.
    form = {"Action": "CreateQueue", "Version": "2012-11-05", "QueueName": "reach"}
    r = httpx.post(broker.url + "/", data=form, headers={"Host": f"localhost:{broker.port}"}, timeout=30)
    url = f"http://sqs.us-east-1.localhost:{broker.port}/{ACCOUNT}/reach"
    assert r.status_code == 200 and f"<QueueUrl>{url}</QueueUrl>" in r.text
    parts = urlsplit(url)
    # A query client that sends to the queue URL itself (as the Java SDK v1 does): the Host names the queue's
    # regional host, the path the queue; the QueueUrl parameter is left out.
    form = {"Action": "SendMessage", "Version": "2012-11-05", "MessageBody": "via the queue url"}
    r = httpx.post(broker.url + parts.path, data=form, headers={"Host": parts.netloc}, timeout=30)
    assert r.status_code == 200, r.text
    (msg,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert msg["Body"] == "via the queue url"
    # The URLs the broker hands out on that request are built on the same host, not prefixed twice.
    form = {"Action": "GetQueueUrl", "Version": "2012-11-05", "QueueName": "reach"}
    r = httpx.post(broker.url + "/", data=form, headers={"Host": parts.netloc}, timeout=30)
    assert r.status_code == 200 and f"<QueueUrl>{url}</QueueUrl>" in r.text
    # Addressed by an IP address (no subdomain of which resolves), the region goes in the path; that URL reaches
    # the queue too, by SDK and by a client that posts to it.
    ip_url = sqs.get_queue_url(QueueName="reach")["QueueUrl"]
    assert ip_url == f"{broker.url}/queue/us-east-1/{ACCOUNT}/reach"
    form = {"Action": "SendMessage", "Version": "2012-11-05", "MessageBody": "via the ip url"}
    assert httpx.post(ip_url, data=form, timeout=30).status_code == 200
    assert sqs.receive_message(QueueUrl=ip_url)["Messages"][0]["Body"] == "via the ip url"
    r = httpx.post(broker.url + "/", data=form, headers={"Host": f"[::1]:{broker.port}"}, timeout=30)
    assert r.status_code == 400  # no QueueUrl: the form names no queue
    form = {"Action": "GetQueueUrl", "Version": "2012-11-05", "QueueName": "reach"}
    r = httpx.post(broker.url + "/", data=form, headers={"Host": f"[::1]:{broker.port}"}, timeout=30)
    assert f"<QueueUrl>http://[::1]:{broker.port}/queue/us-east-1/{ACCOUNT}/reach</QueueUrl>" in r.text


def test_queue_url_style_and_public_host_settings(server_factory):
    plain = server_factory(env={"BROKER_SQS_QUEUE_URL_STYLE": "host"}).start()
    url = plain.client("sqs", region="eu-west-1").create_queue(QueueName="plain")["QueueUrl"]
    assert url == f"{plain.url}/{ACCOUNT}/plain"
    public = server_factory(env={"BROKER_PUBLIC_HOST": "broker.example:8443"}).start()
    sqs = public.client("sqs", region="eu-west-1")
    url = sqs.create_queue(QueueName="public")["QueueUrl"]
    assert url == f"http://sqs.eu-west-1.broker.example:8443/{ACCOUNT}/public"
    sqs.send_message(QueueUrl=url, MessageBody="any host")  # only the path of a QueueUrl counts
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "any host"


# -- 5. NonExistentQueue words differ per protocol -------------------------------------------------------------------
def test_non_existent_queue_message_per_protocol(api):
    err = _error(api.get_queue_url, QueueName="nowhere")
    assert err["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    if api.meta.service_model.protocol == "query":
        assert err["Message"] == "The specified queue does not exist for this wsdl version."
    else:
        assert err["Message"] == "The specified queue does not exist."


# -- 6. queue URL paths: GET without Action, account operations ------------------------------------------------------
def test_get_of_a_queue_url_without_action_is_404_unknown_operation(broker, sqs):
    url = sqs.create_queue(QueueName="browse")["QueueUrl"]
    r = httpx.get(broker.url + urlsplit(url).path, timeout=30)
    assert r.status_code == 404
    assert r.content == b"<UnknownOperationException/>"
    r = httpx.get(broker.url + "/000000000000/no-such-queue", timeout=30)
    assert (r.status_code, r.content) == (404, b"<UnknownOperationException/>")


@pytest.mark.parametrize("action, params", [("CreateQueue", {"QueueName": "other"}), ("ListQueues", {})])
def test_account_actions_on_a_queue_url_are_invalid_actions(q, action, params):
    q.create_queue("target")
    kind, code, message = q.call(action, params, path=f"/{ACCOUNT}/target").error()
    assert (kind, code) == ("Sender", "InvalidAction")
    assert message == f"The action {action} is not valid for this endpoint."
    assert q.call("GetQueueUrl", {"QueueName": "other"}).error()[1] == "AWS.SimpleQueueService.NonExistentQueue"
    # The same actions on "/" work.
    assert q.call(action, params).status == 200


# -- 7. empty and alternative response forms -------------------------------------------------------------------------
def test_query_get_accepting_json_answers_json(broker, sqs):
    url = sqs.create_queue(QueueName="as-json")["QueueUrl"]
    r = httpx.get(
        broker.url + "/",
        params={"Action": "ListQueues", "Version": "2012-11-05"},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert list(doc) == ["ListQueuesResponse"]
    assert doc["ListQueuesResponse"]["ListQueuesResult"] == {"QueueUrl": url}
    assert doc["ListQueuesResponse"]["ResponseMetadata"]["RequestId"]
    r = httpx.get(
        broker.url + "/",
        params={"Action": "GetQueueUrl", "Version": "2012-11-05", "QueueName": "nowhere"},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert r.status_code == 400
    error = r.json()["ErrorResponse"]["Error"]
    assert (error["Type"], error["Code"]) == ("Sender", "AWS.SimpleQueueService.NonExistentQueue")
    # Without the Accept header the same request answers XML.
    r = httpx.get(broker.url + "/", params={"Action": "ListQueues", "Version": "2012-11-05"}, timeout=30)
    assert r.headers["content-type"].startswith("text/xml") and r.text.startswith("<?xml")


def test_empty_query_receive_is_a_self_closing_result(q):
    url = q.create_queue("empty")
    r = q.call("ReceiveMessage", {"QueueUrl": url})
    assert r.status == 200
    assert "<ReceiveMessageResult/>" in r.text
    assert r.namespace == SQS_NS


def test_empty_query_results_are_self_closing(q):
    # The same form for every SQS answer without members (found along with ReceiveMessage's).
    url = q.create_queue("quiet")
    assert "<ListQueueTagsResult/>" in q.call("ListQueueTags", {"QueueUrl": url}).text
    assert "<GetQueueAttributesResult/>" in q.call("GetQueueAttributes", {"QueueUrl": url}).text
    assert "<ListQueuesResult/>" in q.call("ListQueues", {"QueueNamePrefix": "none"}).text
    # Answers with members keep the open/close form.
    assert "<ListQueuesResult><QueueUrl>" in q.call("ListQueues").text


def test_json_batches_leave_out_empty_lists(broker, sqs):
    url = sqs.create_queue(QueueName="batches")["QueueUrl"]
    r = _json(broker, "SendMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "a", "MessageBody": "x"}]})
    assert r.status_code == 200 and "Failed" not in r.json() and [e["Id"] for e in r.json()["Successful"]] == ["a"]
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]
    entries = [{"Id": "a", "ReceiptHandle": handle, "VisibilityTimeout": 0}]
    r = _json(broker, "ChangeMessageVisibilityBatch", {"QueueUrl": url, "Entries": entries})
    assert r.status_code == 200 and "Failed" not in r.json()
    r = _json(broker, "DeleteMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "a", "ReceiptHandle": handle}]})
    assert r.status_code == 200 and "Failed" not in r.json()
    r = _json(broker, "DeleteMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "b", "ReceiptHandle": "garbage"}]})
    assert r.status_code == 200 and "Successful" not in r.json()
    assert [e["Code"] for e in r.json()["Failed"]] == ["ReceiptHandleIsInvalid"]


def test_batches_report_entries_on_both_protocols(api):
    url = api.create_queue(QueueName="batches")["QueueUrl"]
    resp = api.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}])
    assert [e["Id"] for e in resp["Successful"]] == ["a"] and not resp.get("Failed")


# -- 8. X-Amzn-Trace-Id ----------------------------------------------------------------------------------------------
def _with_trace_header(api, value: str) -> None:
    def add(request, **_kw) -> None:
        request.headers["X-Amzn-Trace-Id"] = value

    api.meta.events.register("before-sign.sqs.SendMessage", add)
    api.meta.events.register("before-sign.sqs.SendMessageBatch", add)


def test_trace_id_header_becomes_the_aws_trace_header(api, broker):
    if api.meta.service_model.protocol == "json":
        api = broker.client("sqs")  # a client of its own (not the shared cached one): the hook stays with it
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    _with_trace_header(api, trace)
    url = api.create_queue(QueueName="traced")["QueueUrl"]
    sent = api.send_message(QueueUrl=url, MessageBody="one")
    assert "MD5OfMessageSystemAttributes" not in sent  # the client sent no system attributes
    api.send_message_batch(QueueUrl=url, Entries=[{"Id": "b", "MessageBody": "two"}])
    explicit = "Root=1-00000000-000000000000000000000000"
    api.send_message(
        QueueUrl=url,
        MessageBody="three",
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": explicit}},
    )
    got = {m["Body"]: m.get("Attributes", {}) for m in _receive(api, url, 10, MessageSystemAttributeNames=["All"])}
    assert got["one"]["AWSTraceHeader"] == trace
    assert got["two"]["AWSTraceHeader"] == trace
    assert got["three"]["AWSTraceHeader"] == explicit  # the system attribute wins over the header


def test_no_trace_header_no_aws_trace_header(api):
    url = api.create_queue(QueueName="untraced")["QueueUrl"]
    api.send_message(QueueUrl=url, MessageBody="plain")
    (msg,) = _receive(api, url, 1, MessageSystemAttributeNames=["All"])
    assert "AWSTraceHeader" not in msg["Attributes"]


# -- 9./10./11. visibility and deletes with older handles ------------------------------------------------------------
def test_change_visibility_of_a_message_whose_visibility_expired_succeeds(api, broker):
    url = api.create_queue(QueueName="expired-vis")["QueueUrl"]
    api.send_message(QueueUrl=url, MessageBody="m")
    (msg,) = _receive(api, url, 1, VisibilityTimeout=5)
    broker.advance(6)
    api.change_message_visibility(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=60)
    resp = api.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": msg["ReceiptHandle"], "VisibilityTimeout": 60}]
    )
    assert [e["Id"] for e in resp["Successful"]] == ["a"] and not resp.get("Failed")
    assert _bodies(_receive(api, url, 1)) == ["m"]  # still visible: nothing was changed


def test_delete_with_an_older_receipt_handle_deletes(api, broker):
    url = api.create_queue(QueueName="older-handle")["QueueUrl"]
    api.send_message(QueueUrl=url, MessageBody="m")
    (first,) = _receive(api, url, 1, VisibilityTimeout=5)
    broker.advance(6)
    (second,) = _receive(api, url, 1, VisibilityTimeout=5)
    assert first["ReceiptHandle"] != second["ReceiptHandle"]
    api.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    broker.advance(6)
    assert _receive(api, url, 10) == []
    attrs = api.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_a_handle_never_deletes_a_later_message(api):
    # SQLite may give a new row the id of a deleted last row: the handle's MessageId keeps them apart.
    url = api.create_queue(QueueName="reused")["QueueUrl"]
    api.send_message(QueueUrl=url, MessageBody="old")
    (old,) = _receive(api, url, 1)
    api.delete_message(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"])
    api.send_message(QueueUrl=url, MessageBody="new")
    api.delete_message(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"])
    assert _bodies(_receive(api, url, 1)) == ["new"]


def test_fifo_delete_with_an_expired_handle_names_the_handle(api, broker):
    url = _fifo(api, VisibilityTimeout="5")
    api.send_message(QueueUrl=url, MessageBody="slow", MessageGroupId="g", MessageDeduplicationId="slow")
    (msg,) = _receive(api, url, 1)
    broker.advance(6)
    handle = msg["ReceiptHandle"]
    err = _error(api.delete_message, QueueUrl=url, ReceiptHandle=handle)
    assert err["Code"] == "InvalidParameterValue"
    assert (
        err["Message"]
        == f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
    )
    resp = api.delete_message_batch(QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": handle}])
    (failed,) = resp["Failed"]
    assert failed["Message"] == err["Message"]
    assert _bodies(_receive(api, url, 1)) == ["slow"]


# -- 12. FIFO: a message's DelaySeconds=0 does not cancel the queue's delay ------------------------------------------
def test_fifo_queue_delay_applies_to_messages_sent_with_delay_zero(api, broker):
    url = _fifo(api, DelaySeconds="5")
    api.send_message(QueueUrl=url, MessageBody="d", MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=0)
    api.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "b", "MessageBody": "b", "MessageGroupId": "h", "MessageDeduplicationId": "b", "DelaySeconds": 0}
        ],
    )
    assert _receive(api, url, 10) == []
    broker.advance(6)
    assert sorted(_bodies(_receive(api, url, 10))) == ["b", "d"]


# -- 13. MessageAttributeNames -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "names, expected",
    [
        (["All"], {"Hello", "Help.Me", "Hi"}),
        ([".*"], {"Hello", "Help.Me", "Hi"}),
        (["Hel.*"], {"Hello", "Help.Me"}),
        (["Help.*"], {"Help.Me"}),
        (["Hi", "Hello"], {"Hi", "Hello"}),
        (["Hel"], set()),
    ],
)
def test_message_attribute_names_and_prefixes(api, names, expected):
    url = api.create_queue(QueueName="attr-names")["QueueUrl"]
    attrs = {n: {"DataType": "String", "StringValue": n.lower()} for n in ("Hello", "Help.Me", "Hi")}
    api.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attrs)
    (msg,) = _receive(api, url, 1, MessageAttributeNames=names)
    assert set(msg.get("MessageAttributes", {})) == expected


# -- 14. AddPermission / RemovePermission ----------------------------------------------------------------------------
def test_permission_policy_version_and_unknown_label(api):
    url = api.create_queue(QueueName="perm")["QueueUrl"]
    api.add_permission(QueueUrl=url, Label="L1", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    policy = json.loads(api.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Version"] == "2008-10-17"
    err = _error(api.remove_permission, QueueUrl=url, Label="X")
    assert (err["Code"], err["Message"]) == (
        "InvalidParameterValue",
        "Value X for parameter Label is invalid. Reason: can't find label.",
    )


# -- 15. FIFO-only attributes on standard queues ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "attrs, code, message",
    [
        ({"FifoQueue": "false"}, "InvalidAttributeName", "Unknown Attribute FifoQueue."),
        ({"ContentBasedDeduplication": "true"}, "InvalidAttributeName", "Unknown Attribute ContentBasedDeduplication."),
        (
            {"DeduplicationScope": "queue"},
            "InvalidAttributeName",
            "You can specify the DeduplicationScope only when FifoQueue is set to true.",
        ),
        (
            {"FifoThroughputLimit": "perQueue"},
            "InvalidAttributeName",
            "You can specify the FifoThroughputLimit only when FifoQueue is set to true.",
        ),
    ],
)
def test_create_standard_queue_with_fifo_attributes(api, attrs, code, message):
    err = _error(api.create_queue, QueueName="standard", Attributes=attrs)
    assert (err["Code"], err["Message"]) == (code, message)
    assert not api.list_queues().get("QueueUrls")


def test_set_fifo_queue_false_on_a_standard_queue(api):
    url = api.create_queue(QueueName="standard")["QueueUrl"]
    err = _error(api.set_queue_attributes, QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert (err["Code"], err["Message"]) == (
        "InvalidAttributeValue",
        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
    )


# -- 16. DeduplicationScope queue -> messageGroup keeps the ids already seen -----------------------------------------
def test_deduplication_scope_change_keeps_queue_wide_ids(api):
    url = _fifo(api)
    first = api.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g1", MessageDeduplicationId="d")
    api.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "messageGroup"})
    again = api.send_message(QueueUrl=url, MessageBody="y", MessageGroupId="g2", MessageDeduplicationId="d")
    assert again["MessageId"] == first["MessageId"]
    # New ids are now per group.
    a = api.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g1", MessageDeduplicationId="e")
    b = api.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g2", MessageDeduplicationId="e")
    assert a["MessageId"] != b["MessageId"]
    assert sorted(_bodies(_receive(api, url, 10))) == ["a", "b", "x"]


# -- 17. message attribute names and values --------------------------------------------------------------------------
def test_message_attribute_names_of_other_scripts(api):
    url = api.create_queue(QueueName="intl")["QueueUrl"]
    attrs = {
        "Grüße": {"DataType": "String", "StringValue": "hallo"},
        "名前.値": {"DataType": "Number", "StringValue": "7"},
    }
    sent = api.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attrs)
    (msg,) = _receive(api, url, 1, MessageAttributeNames=["All"])
    assert {k: v["StringValue"] for k, v in msg["MessageAttributes"].items()} == {"Grüße": "hallo", "名前.値": "7"}
    assert msg["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]


@pytest.mark.parametrize("data_type", ["String", "Number"])
def test_empty_attribute_value(api, data_type):
    url = api.create_queue(QueueName="empty-value")["QueueUrl"]
    err = _error(
        api.send_message,
        QueueUrl=url,
        MessageBody="m",
        MessageAttributes={"X": {"DataType": data_type, "StringValue": ""}},
    )
    assert (err["Code"], err["Message"]) == (
        "InvalidParameterValue",
        f"Message (user) attribute 'X' must contain a non-empty value of type '{data_type}'.",
    )


# -- 18. CancelMessageMoveTask decodes its handle --------------------------------------------------------------------
def _handle(task_id: str, source_arn: str) -> str:
    return base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn}).encode()).decode()


def test_cancel_move_task_of_unknown_queue_or_task(api):
    err = _error(api.cancel_message_move_task, 404, TaskHandle=_handle("t", f"arn:aws:sqs:us-east-1:{ACCOUNT}:gone"))
    assert (err["Code"], err["Message"]) == (
        "ResourceNotFoundException",
        "The resource that you specified for the SourceArn parameter doesn't exist.",
    )
    api.create_queue(QueueName="dlq")
    err = _error(
        api.cancel_message_move_task, 404, TaskHandle=_handle("no-such-task", f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq")
    )
    assert (err["Code"], err["Message"]) == ("ResourceNotFoundException", "Task does not exist.")


def test_cancel_move_task_by_its_handle(api, sqs):
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    sqs.create_queue(QueueName="src", Attributes={"RedrivePolicy": policy})
    sqs.send_message_batch(QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": "m"} for i in range(10)])
    handle = api.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    decoded = json.loads(base64.b64decode(handle))
    assert decoded["sourceArn"] == dlq_arn
    # The same handle, written by hand (other key order and spacing), names the same task.
    again = base64.b64encode(
        json.dumps({"sourceArn": dlq_arn, "taskId": decoded["taskId"]}, indent=1).encode()
    ).decode()
    assert "ApproximateNumberOfMessagesMoved" in api.cancel_message_move_task(TaskHandle=again)


# -- 19. SendMessageBatch over 1 MiB in total ------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [[BATCH_LIMIT + 1], [600_000, 600_000]])
def test_batch_over_the_limit_fails_as_a_whole(api, sizes):
    url = api.create_queue(QueueName="big")["QueueUrl"]
    entries = [{"Id": str(i), "MessageBody": "x" * size} for i, size in enumerate(sizes)]
    err = _error(api.send_message_batch, QueueUrl=url, Entries=entries)
    assert err["Code"] == "AWS.SimpleQueueService.BatchRequestTooLong"
    assert err["Message"] == f"Batch requests cannot be longer than 1048576 bytes. You have sent {sum(sizes)} bytes."
    assert _receive(api, url, 10) == []


def test_batch_size_counts_attributes(api):
    url = api.create_queue(QueueName="big-attrs")["QueueUrl"]
    attrs = {"name": {"DataType": "String", "StringValue": "v" * 100}}
    entries = [{"Id": "a", "MessageBody": "x" * (BATCH_LIMIT - 100), "MessageAttributes": attrs}]
    err = _error(api.send_message_batch, QueueUrl=url, Entries=entries)
    total = BATCH_LIMIT - 100 + len("name") + len("String") + 100
    assert err["Message"] == f"Batch requests cannot be longer than 1048576 bytes. You have sent {total} bytes."


# -- 20. FIFO sequence numbers ---------------------------------------------------------------------------------------
def test_fifo_sequence_numbers_are_time_based(api, broker):
    first_queue = _fifo(api, "first.fifo")
    seqs = [
        api.send_message(QueueUrl=first_queue, MessageBody=f"m{i}", MessageGroupId="g", MessageDeduplicationId=str(i))[
            "SequenceNumber"
        ]
        for i in range(3)
    ]
    assert all(len(s) >= 20 and s.isdigit() for s in seqs)
    assert [int(s) for s in seqs] == sorted({int(s) for s in seqs})
    broker.advance(10)
    later_queue = _fifo(api, "later.fifo")
    later = api.send_message(QueueUrl=later_queue, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="x")
    assert int(later["SequenceNumber"]) > int(seqs[-1])  # a queue created later starts later


def test_fifo_sequence_numbers_never_embed_the_account(broker):
    api = _client(broker, access_key="123456789012")
    url = _fifo(api)
    seq = api.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="m")[
        "SequenceNumber"
    ]
    assert "123456789012" not in seq
    (msg,) = _receive(api, url, 1, MessageSystemAttributeNames=["SequenceNumber"])
    assert msg["Attributes"]["SequenceNumber"] == seq
