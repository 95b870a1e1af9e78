"""Deliveries across accounts in sigv4 mode: an SNS topic reaches another account's queue (endpoint, subscription
confirmation, dead-letter queue) or function only when that resource's policy grants sns.amazonaws.com for the
topic (aws:SourceArn), and a Lambda function's destinations reach another account's queue only when its policy
grants the function's execution role; refused deliveries fail silently, as on AWS."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth.helpers import OTHER_ACCOUNT as B
from tests.auth.helpers import OTHER_KEY, OTHER_SECRET, sigv4_server_kw
from tests.conftest import serve
from tests.lambda_.helpers import python_zip, wait_until
from tests.server import BrokerServer

ROLE_B = f"arn:aws:iam::{B}:role/lambda-role"
ECHO = "def handler(event, context):\n    return {'got': event}\n"
# Appends each event to the file $OUT names: shows that the function ran.
RECORDING = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    return {"ok": True}
"""


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    # One worker: a policy change is seen by the next request at once (with more, another worker's cached queue
    # may lag behind by the broadcast's delay, which would blur what the negative checks prove).
    yield from serve(request, backend, "deliveries", workers=1, **sigv4_server_kw())


@pytest.fixture
def broker(server: BrokerServer) -> BrokerServer:
    server.reset()
    return server


def a(broker: BrokerServer, service: str) -> Any:
    return broker.client(service)


def b(broker: BrokerServer, service: str) -> Any:
    return broker.client(service, access_key=OTHER_KEY, secret=OTHER_SECRET)


def queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def policy(resource: str, principal: dict[str, str], action: str, source_arn: str | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}
    if source_arn is not None:
        statement["Condition"] = {"ArnEquals": {"aws:SourceArn": source_arn}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def sns_may_send(queue_arn: str, topic_arn: str) -> str:
    """The queue policy AWS's guides give for a topic's deliveries."""
    return policy(queue_arn, {"Service": "sns.amazonaws.com"}, "sqs:SendMessage", topic_arn)


def bodies(sqs: Any, url: str, wait: float = 0.0) -> list[str]:
    """Receive (and delete) the messages of a queue, and those that arrive within `wait` seconds; their bodies.
    SNS's deliveries to queues are committed with the publish: no wait is needed to see them, or their absence."""
    got: list[str] = []
    deadline = time.monotonic() + wait
    while True:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            got.append(m["Body"])
        if time.monotonic() >= deadline:
            return got
        time.sleep(0.2)


def messages(sqs: Any, url: str, wait: float = 0.0) -> list[str]:
    """The SNS notifications' Message texts among a queue's messages."""
    return [json.loads(body)["Message"] for body in bodies(sqs, url, wait)]


def wait_for(sqs: Any, url: str, timeout: float = 30) -> list[str]:
    """Bodies of the first messages to arrive in a queue, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = bodies(sqs, url)
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"nothing arrived in {url}")


# -- SNS to SQS --------------------------------------------------------------------------------------------------
def test_a_topic_reaches_another_accounts_queue_only_with_its_policys_grant(broker: BrokerServer) -> None:
    sns_a, sqs_b = a(broker, "sns"), b(broker, "sqs")
    topic = sns_a.create_topic(Name="orders")["TopicArn"]
    other_topic = sns_a.create_topic(Name="other")["TopicArn"]
    url, arn = queue(sqs_b, "inbox")
    # Without the queue's grant the confirmation is not sent (the subscription stays pending).
    pending = sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)
    assert bodies(sqs_b, url) == []
    attrs = sns_a.get_subscription_attributes(SubscriptionArn=pending["SubscriptionArn"])["Attributes"]
    assert attrs["PendingConfirmation"] == "true"
    sns_a.unsubscribe(SubscriptionArn=pending["SubscriptionArn"])

    sqs_b.set_queue_attributes(QueueUrl=url, Attributes={"Policy": sns_may_send(arn, topic)})
    sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    (confirmation,) = [json.loads(body) for body in wait_for(sqs_b, url)]
    assert (confirmation["Type"], confirmation["TopicArn"]) == ("SubscriptionConfirmation", topic)
    b(broker, "sns").confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    sns_a.publish(TopicArn=topic, Message="granted")
    assert messages(sqs_b, url) == ["granted"]

    # Policy gone, or granting another topic: the delivery fails silently (the publish succeeds).
    sqs_b.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    sns_a.publish(TopicArn=topic, Message="no policy")
    sqs_b.set_queue_attributes(QueueUrl=url, Attributes={"Policy": sns_may_send(arn, other_topic)})
    sns_a.publish(TopicArn=topic, Message="another topic's grant")
    assert messages(sqs_b, url) == []
    # The grant back: delivered again.
    sqs_b.set_queue_attributes(QueueUrl=url, Attributes={"Policy": sns_may_send(arn, topic)})
    sns_a.publish(TopicArn=topic, Message="granted again")
    assert messages(sqs_b, url) == ["granted again"]


def test_a_dead_letter_queue_of_another_account_needs_its_policys_grant(broker: BrokerServer) -> None:
    sns_a, sqs_a, sqs_b = a(broker, "sns"), a(broker, "sqs"), b(broker, "sqs")
    topic = sns_a.create_topic(Name="alerts")["TopicArn"]
    endpoint_url, endpoint = queue(sqs_a, "endpoint")
    dlq_url, dlq = queue(sqs_b, "their-dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq})
    sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint, Attributes={"RedrivePolicy": redrive})
    sqs_a.delete_queue(QueueUrl=endpoint_url)  # deliveries now fail: the messages go to the dead-letter queue
    sns_a.publish(TopicArn=topic, Message="lost without grant")
    assert bodies(sqs_b, dlq_url) == []
    sqs_b.set_queue_attributes(QueueUrl=dlq_url, Attributes={"Policy": sns_may_send(dlq, topic)})
    sns_a.publish(TopicArn=topic, Message="lost with grant")
    assert messages(sqs_b, dlq_url) == ["lost with grant"]


def test_the_topics_own_account_needs_no_grant(broker: BrokerServer) -> None:
    sns_b, sqs_b = b(broker, "sns"), b(broker, "sqs")
    topic = sns_b.create_topic(Name="own")["TopicArn"]
    url, arn = queue(sqs_b, "own-queue")
    sns_b.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns_b.publish(TopicArn=topic, Message="same account")
    assert messages(sqs_b, url) == ["same account"]


# -- SNS to Lambda -----------------------------------------------------------------------------------------------
def test_a_topic_invokes_another_accounts_function_only_with_its_policys_grant(broker: BrokerServer) -> None:
    sns_a, sqs_a, lam_b, sqs_b = a(broker, "sns"), a(broker, "sqs"), b(broker, "lambda"), b(broker, "sqs")
    results_url, results = queue(sqs_b, "results")  # the function's own account: its destination needs no grant
    fn = _function(lam_b, "consumer", ECHO)
    lam_b.put_function_event_invoke_config(
        FunctionName="consumer", DestinationConfig={"OnSuccess": {"Destination": results}}
    )
    topic = sns_a.create_topic(Name="jobs")["TopicArn"]
    dlq_url, dlq = queue(sqs_a, "jobs-dlq")
    sub = sns_a.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=fn,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    assert sns_a.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    # Refused invocation: a client-side error, so the notification goes to the subscription's dead-letter queue.
    sns_a.publish(TopicArn=topic, Message="no grant")
    assert messages(sqs_a, dlq_url) == ["no grant"]

    lam_b.add_permission(
        FunctionName="consumer",
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )
    sns_a.publish(TopicArn=topic, Message="granted")
    (record,) = [json.loads(body) for body in wait_for(sqs_b, results_url)]
    assert record["responsePayload"]["got"]["Records"][0]["Sns"]["Message"] == "granted"
    assert bodies(sqs_b, results_url, 1) == []  # the refused message never ran
    assert bodies(sqs_a, dlq_url) == []


# -- Lambda destinations -----------------------------------------------------------------------------------------
def test_lambda_destinations_of_another_account_need_the_targets_grant_of_the_execution_role(
    broker: BrokerServer, tmp_path: Path
) -> None:
    sqs_a, lam_b = a(broker, "sqs"), b(broker, "lambda")
    refused_url, refused = queue(sqs_a, "no-grant")
    granted_url, granted = queue(sqs_a, "granted")
    sqs_a.set_queue_attributes(
        QueueUrl=granted_url, Attributes={"Policy": policy(granted, {"AWS": ROLE_B}, "sqs:SendMessage")}
    )
    out = tmp_path / "ran.jsonl"
    for name, target in (("to-refused", refused), ("to-granted", granted)):
        _function(lam_b, name, RECORDING, Environment={"Variables": {"OUT": str(out)}})
        lam_b.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": target}}
        )
        lam_b.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"from": name}).encode())
    (record,) = [json.loads(body) for body in wait_for(sqs_a, granted_url)]
    assert record["requestPayload"] == {"from": "to-granted"}
    wait_until(lambda: out.exists() and '"to-refused"' in out.read_text())  # it ran; its record is refused
    assert bodies(sqs_a, refused_url, 2) == []


def _function(lam: Any, name: str, source: str, **kw: Any) -> str:
    arn: str = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE_B,
        Handler="handler.handler",
        Code={"ZipFile": python_zip(source)},
        **kw,
    )["FunctionArn"]
    return arn
