"""SNS topics delivering to Lambda functions: the event AWS sends (shape, key order, signature), filter policies,
MessageStructure=json, qualified endpoints, missing functions and qualifiers (dead-lettered at once, never retried,
as AWS treats a client-side error) and function errors (retried by Lambda's asynchronous invocation)."""

from __future__ import annotations

import base64
import json
import re
import time

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.lambda_.helpers import ARN, ECHO, create

FAIL = """
def handler(event, context):
    print("attempt", event["Records"][0]["Sns"]["Message"])
    raise Exception("cannot handle it")
"""

RECORD_KEYS = ["EventSource", "EventVersion", "EventSubscriptionArn", "Sns"]
SNS_KEYS = [
    "Type",
    "MessageId",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertUrl",
    "UnsubscribeUrl",
    "MessageAttributes",
]


def _queue(broker, name: str) -> tuple[str, str]:
    sqs = broker.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _records(broker, url: str, count: int, timeout: float = 30) -> list[dict]:
    """Receive (and delete) `count` messages of a queue, as JSON documents, within `timeout` seconds."""
    sqs = broker.client("sqs")
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            got.append(json.loads(m["Body"]))
    assert len(got) == count, got
    return got


def _empty(broker, url: str, wait: int = 0) -> bool:
    return not broker.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=wait).get("Messages")


def _echo_to_queue(broker, lam, name: str, qualifier: str | None = None) -> str:
    """An echo function (created unless a qualifier of an existing one is given) whose successful invocations
    are recorded in a queue; the queue's URL."""
    url, queue_arn = _queue(broker, f"{name}-records")
    if qualifier is None:
        create(lam, name)
    extra = {"Qualifier": qualifier} if qualifier else {}
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}, **extra
    )
    return url


def _subscribe(sns, topic: str, endpoint: str, **attrs: str) -> str:
    return sns.subscribe(
        TopicArn=topic, Protocol="lambda", Endpoint=endpoint, Attributes=attrs, ReturnSubscriptionArn=True
    )["SubscriptionArn"]


def _verify(notification: dict, cert_url: str) -> None:
    """Check a notification's signature as AWS documents it (canonical string, SHA1/SHA256 with RSA)."""
    cert = x509.load_pem_x509_certificate(httpx.get(cert_url).content)
    names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    text = "".join(f"{n}\n{notification[n]}\n" for n in names if notification.get(n) is not None)
    digest = hashes.SHA256() if notification["SignatureVersion"] == "2" else hashes.SHA1()
    signature = base64.b64decode(notification["Signature"])
    cert.public_key().verify(signature, text.encode(), padding.PKCS1v15(), digest)


def test_function_receives_the_sns_event_exactly(broker, lam):
    url = _echo_to_queue(broker, lam, "sns-echo")
    sns = broker.client("sns")
    topic = sns.create_topic(Name="to-lambda")["TopicArn"]
    sub = _subscribe(sns, topic, f"{ARN}:sns-echo")
    attrs = {
        "s": {"DataType": "String", "StringValue": "v"},
        "n": {"DataType": "Number", "StringValue": "42"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    sent = sns.publish(TopicArn=topic, Message="hello λ", Subject="greeting", MessageAttributes=attrs)
    (record,) = _records(broker, url, 1)
    assert record["requestContext"]["functionArn"] == f"{ARN}:sns-echo:$LATEST"
    assert record["requestContext"]["condition"] == "Success"
    event = record["requestPayload"]  # the payload exactly as stored, key order included
    assert record["responsePayload"]["event"] == event  # and what the function got
    assert list(event) == ["Records"] and len(event["Records"]) == 1
    rec = event["Records"][0]
    assert list(rec) == RECORD_KEYS
    assert (rec["EventSource"], rec["EventVersion"], rec["EventSubscriptionArn"]) == ("aws:sns", "1.0", sub)
    n = rec["Sns"]
    assert list(n) == SNS_KEYS
    assert (n["Type"], n["MessageId"], n["TopicArn"]) == ("Notification", sent["MessageId"], topic)
    assert (n["Subject"], n["Message"]) == ("greeting", "hello λ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", n["Timestamp"])
    assert n["SignatureVersion"] == "1"
    assert re.fullmatch(re.escape(broker.url) + r"/_broker/sns/SimpleNotificationService-\w+\.pem", n["SigningCertUrl"])
    assert n["UnsubscribeUrl"] == f"{broker.url}/?Action=Unsubscribe&SubscriptionArn={sub}"
    assert n["MessageAttributes"] == {
        "s": {"Type": "String", "Value": "v"},
        "n": {"Type": "Number", "Value": "42"},
        "b": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
    }
    _verify(n, n["SigningCertUrl"])

    # No subject: null; no attributes: an empty object. SignatureVersion 2 signs with SHA256.
    sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
    deadline = time.monotonic() + 10
    while True:  # topics are cached per worker for a couple of seconds
        sns.publish(TopicArn=topic, Message="plain")
        n = _records(broker, url, 1)[0]["requestPayload"]["Records"][0]["Sns"]
        if n["SignatureVersion"] == "2" or time.monotonic() > deadline:
            break
    assert list(n) == SNS_KEYS
    assert (n["Subject"], n["Message"], n["MessageAttributes"], n["SignatureVersion"]) == (None, "plain", {}, "2")
    _verify(n, n["SigningCertUrl"])


def test_filter_policies_on_attributes_and_body(broker, lam):
    url_attr = _echo_to_queue(broker, lam, "by-attr")
    url_body = _echo_to_queue(broker, lam, "by-body")
    sns = broker.client("sns")
    topic = sns.create_topic(Name="filtered")["TopicArn"]
    _subscribe(sns, topic, f"{ARN}:by-attr", FilterPolicy=json.dumps({"color": ["red"]}))
    _subscribe(
        sns, topic, f"{ARN}:by-body", FilterPolicy=json.dumps({"kind": ["order"]}), FilterPolicyScope="MessageBody"
    )

    def entry(i: int, body: str, color: str | None) -> dict:
        attrs = {"color": {"DataType": "String", "StringValue": color}} if color else {}
        return {"Id": str(i), "Message": body, "MessageAttributes": attrs}

    sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            entry(1, '{"kind": "order", "n": 1}', "blue"),  # the body matches: by-body only
            entry(2, '{"kind": "refund", "n": 2}', "red"),  # the attribute matches: by-attr only
            entry(3, "not json", None),  # neither
        ],
    )
    sns.publish(  # both, published after the others
        TopicArn=topic,
        Message='{"kind": "order", "n": 4}',
        MessageAttributes={"color": {"DataType": "String", "StringValue": "red"}},
    )

    def messages(url: str, count: int) -> list[str]:
        return sorted(r["requestPayload"]["Records"][0]["Sns"]["Message"] for r in _records(broker, url, count))

    assert messages(url_attr, 2) == ['{"kind": "order", "n": 4}', '{"kind": "refund", "n": 2}']
    assert messages(url_body, 2) == ['{"kind": "order", "n": 1}', '{"kind": "order", "n": 4}']
    assert _empty(broker, url_attr, wait=1) and _empty(broker, url_body, wait=1)


def test_message_structure_json_takes_the_lambda_member(broker, lam):
    url = _echo_to_queue(broker, lam, "structured")
    sns = broker.client("sns")
    topic = sns.create_topic(Name="structured")["TopicArn"]
    _subscribe(sns, topic, f"{ARN}:structured")
    per_protocol = {"default": "for everyone", "lambda": "for functions", "sqs": "for queues"}
    sns.publish(TopicArn=topic, Message=json.dumps(per_protocol), MessageStructure="json")
    n = _records(broker, url, 1)[0]["requestPayload"]["Records"][0]["Sns"]
    assert n["Message"] == "for functions"
    _verify(n, n["SigningCertUrl"])  # signed over the text the function got
    sns.publish(TopicArn=topic, Message=json.dumps({"default": "fallback"}), MessageStructure="json")
    n = _records(broker, url, 1)[0]["requestPayload"]["Records"][0]["Sns"]
    assert n["Message"] == "fallback"
    _verify(n, n["SigningCertUrl"])


def test_alias_qualified_endpoint_invokes_the_alias(broker, lam):
    create(lam, "aliased", source=ECHO)
    lam.publish_version(FunctionName="aliased")
    lam.create_alias(FunctionName="aliased", Name="live", FunctionVersion="1")
    url = _echo_to_queue(broker, lam, "aliased", qualifier="live")
    sns = broker.client("sns")
    topic = sns.create_topic(Name="to-alias")["TopicArn"]
    sub = _subscribe(sns, topic, f"{ARN}:aliased:live")
    sns.publish(TopicArn=topic, Message="via alias")
    (record,) = _records(broker, url, 1)
    assert record["requestContext"]["functionArn"] == f"{ARN}:aliased:live"
    assert record["responseContext"]["executedVersion"] == "1"
    assert record["responsePayload"]["version"] == "1"
    rec = record["requestPayload"]["Records"][0]
    assert rec["EventSubscriptionArn"] == sub and rec["Sns"]["Message"] == "via alias"


def test_missing_function_or_qualifier_is_dead_lettered_at_once_and_not_retried(broker, lam):
    sqs = broker.client("sqs")
    dlq_url, dlq_arn = _queue(broker, "sns-lambda-dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn})
    ok_url = _echo_to_queue(broker, lam, "present")
    sns = broker.client("sns")
    topic = sns.create_topic(Name="partly-missing")["TopicArn"]
    ghost_sub = _subscribe(sns, topic, f"{ARN}:ghost", RedrivePolicy=redrive)
    alias_sub = _subscribe(sns, topic, f"{ARN}:present:no-such-alias", RedrivePolicy=redrive)
    _subscribe(sns, topic, f"{ARN}:present:7")  # no such version, no dead-letter queue: dropped
    _subscribe(sns, topic, f"{ARN}:present")
    sent = sns.publish(TopicArn=topic, Message="first", Subject="s1")

    # The dead-lettered notifications were committed with the publish: there before it was answered.
    got = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    if len(got) < 2:  # a receive may return part of a queue; nothing may still be on its way
        got += sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    envelopes = sorted((json.loads(m["Body"]) for m in got), key=lambda e: e["UnsubscribeURL"])
    assert len(envelopes) == 2
    assert {e["UnsubscribeURL"].rsplit("=", 1)[1] for e in envelopes} == {ghost_sub, alias_sub}
    for env in envelopes:  # SNS's JSON notification, as every dead-lettered non-raw delivery
        assert (env["Type"], env["MessageId"], env["TopicArn"]) == ("Notification", sent["MessageId"], topic)
        assert (env["Subject"], env["Message"]) == ("s1", "first")
        _verify(env, env["SigningCertURL"])
    for m in got:
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
    (record,) = _records(broker, ok_url, 1)  # the existing function got it all the same
    assert record["requestPayload"]["Records"][0]["Sns"]["Message"] == "first"

    # A client-side error is not retried: once the function exists, only later messages reach it.
    ghost_url = _echo_to_queue(broker, lam, "ghost")
    broker.advance(60)  # past the whole pre-backoff and backoff phases of SNS's retries
    broker.run_job("lambda.async")
    sns.publish(TopicArn=topic, Message="second")
    (record,) = _records(broker, ghost_url, 1)
    assert record["requestPayload"]["Records"][0]["Sns"]["Message"] == "second"
    assert record["requestPayload"]["Records"][0]["EventSubscriptionArn"] == ghost_sub
    assert _records(broker, ok_url, 1)[0]["requestPayload"]["Records"][0]["Sns"]["Message"] == "second"
    (env,) = _records(broker, dlq_url, 1)  # the alias is still missing
    assert env["Message"] == "second" and env["UnsubscribeURL"].endswith(alias_sub)
    assert _empty(broker, ghost_url, wait=1) and _empty(broker, dlq_url)


def test_function_errors_are_retried_by_lambda(broker, lam):
    url, queue_arn = _queue(broker, "sns-lambda-failures")
    create(lam, "sns-fails", source=FAIL)
    lam.put_function_event_invoke_config(
        FunctionName="sns-fails", MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
    )
    sns = broker.client("sns")
    topic = sns.create_topic(Name="to-failing")["TopicArn"]
    _subscribe(sns, topic, f"{ARN}:sns-fails")
    sns.publish(TopicArn=topic, Message="will fail")
    logs = broker.client("logs")

    def attempts() -> int:
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/sns-fails", filterPattern="attempt")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return 0
        return sum(1 for e in events if e["message"].startswith("attempt will fail"))

    def until(count: int) -> None:
        deadline = time.monotonic() + 30
        while attempts() < count and time.monotonic() < deadline:
            broker.run_job("lambda.async")
            time.sleep(0.2)
        assert attempts() == count

    until(1)
    assert _empty(broker, url)
    broker.advance(61)  # Lambda retries a function error a minute later
    until(2)
    (record,) = _records(broker, url, 1)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"]["Records"][0]["Sns"]["Message"] == "will fail"
    assert record["responsePayload"]["errorMessage"] == "cannot handle it"
