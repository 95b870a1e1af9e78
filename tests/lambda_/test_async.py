"""Asynchronous invocation (InvocationType=Event): dispatch, retries on the test clock, destinations, dead-letter
queues, throttles, aliases and durability across kill -9."""

from __future__ import annotations

import json
import time

import httpx

from tests.lambda_.helpers import ARN, create

FAIL = """
def handler(event, context):
    print("attempt", event.get("n"))
    raise Exception("boom " + str(event.get("n")))
"""

STAMP = """
import time

def handler(event, context):
    print("attempt", event.get("n"))
    return {"got": event, "at": time.time(), "version": context.function_version}
"""


def _queue(broker, name: str) -> tuple[str, str]:
    sqs = broker.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _receive(broker, url: str, timeout: float = 30, attributes: bool = False) -> dict:
    sqs = broker.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages")
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return got[0] if attributes else json.loads(got[0]["Body"])
    raise AssertionError(f"nothing arrived in {url}")


def _empty(broker, url: str) -> bool:
    return not broker.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")


def _attempts(broker, name: str) -> int:
    logs = broker.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern="attempt")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return 0
    return sum(1 for e in events if e["message"].startswith("attempt"))


def _until(broker, check, timeout: float = 30) -> None:
    """Run the safety-net job until `check()` holds (another worker may hold the job's lease and run it itself)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        broker.run_job("lambda.async")
        time.sleep(0.2)
    assert check()


def _event(lam, name: str, payload: dict, **kw) -> None:
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload), **kw)["StatusCode"] == 202


def test_success_record_reaches_on_success_queue_at_once(broker, lam):
    url, arn = _queue(broker, "ok-dest")
    create(lam, "stamp", source=STAMP)
    lam.put_function_event_invoke_config(FunctionName="stamp", DestinationConfig={"OnSuccess": {"Destination": arn}})
    # The safety-net job runs every 10 s: each event is dispatched on its wakeup, well before.
    for n in (3, 2, 1):
        sent = time.time()
        _event(lam, "stamp", {"n": n})
        record = _receive(broker, url)
        assert record["responsePayload"]["at"] - sent < 1.5, record["responsePayload"]["at"] - sent
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    ctx = record["requestContext"]
    assert ctx["functionArn"] == f"{ARN}:stamp:$LATEST"
    assert ctx["condition"] == "Success" and ctx["approximateInvokeCount"] == 1
    assert len(ctx["requestId"]) == 36
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"]["got"] == {"n": 1}


def test_function_errors_are_retried_one_then_two_minutes_apart(broker, lam):
    url, arn = _queue(broker, "fail-dest")
    create(lam, "failing", source=FAIL)
    lam.put_function_event_invoke_config(
        FunctionName="failing", MaximumRetryAttempts=2, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    _event(lam, "failing", {"n": 7})
    _until(broker, lambda: _attempts(broker, "failing") == 1)
    broker.advance(55)
    broker.run_job("lambda.async")
    assert _attempts(broker, "failing") == 1  # not before a minute
    broker.advance(6)
    _until(broker, lambda: _attempts(broker, "failing") == 2)
    broker.advance(110)
    broker.run_job("lambda.async")
    assert _attempts(broker, "failing") == 2 and _empty(broker, url)  # the second retry waits two minutes
    broker.advance(11)
    _until(broker, lambda: _attempts(broker, "failing") == 3)
    record = _receive(broker, url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"] == f"{ARN}:failing:$LATEST"
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "boom 7"
    broker.advance(600)
    broker.run_job("lambda.async")
    assert _attempts(broker, "failing") == 3


def test_no_retries_and_event_age_and_dead_letter_queue(broker, lam):
    url, arn = _queue(broker, "fail-once")
    dlq_url, dlq_arn = _queue(broker, "dlq")
    create(lam, "once", source=FAIL)
    lam.put_function_event_invoke_config(
        FunctionName="once", MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    _event(lam, "once", {"n": 1})
    record = _receive(broker, url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    # Event age: the retry a minute later finds the event older than its 60 seconds.
    create(lam, "aging", source=FAIL)
    lam.put_function_event_invoke_config(
        FunctionName="aging", MaximumEventAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    _event(lam, "aging", {"n": 2})
    _until(broker, lambda: _attempts(broker, "aging") == 1)
    broker.advance(61)
    _until(broker, lambda: not _empty_peek(broker, url))
    record = _receive(broker, url)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert _attempts(broker, "aging") == 1
    # No OnFailure destination: the function's dead-letter queue gets the event with Lambda's attributes.
    create(lam, "dead", source=FAIL, DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(FunctionName="dead", MaximumRetryAttempts=0)
    _event(lam, "dead", {"n": 3})
    msg = _receive(broker, dlq_url, attributes=True)
    assert json.loads(msg["Body"]) == {"n": 3}
    attrs = msg["MessageAttributes"]
    assert attrs["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attrs["ErrorMessage"] == {"StringValue": "boom 3", "DataType": "String"}
    assert attrs["RequestID"]["DataType"] == "String" and len(attrs["RequestID"]["StringValue"]) == 36


def _empty_peek(broker, url: str) -> bool:
    attrs = broker.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_sns_and_lambda_destinations_and_alias_config(broker, lam):
    url, queue_arn = _queue(broker, "via-sns")
    sns = broker.client("sns")
    topic = sns.create_topic(Name="records")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    create(lam, "stamp", source=STAMP)
    lam.put_function_event_invoke_config(FunctionName="stamp", DestinationConfig={"OnSuccess": {"Destination": topic}})
    _event(lam, "stamp", {"n": 1})
    record = _receive(broker, url)
    assert record["requestContext"]["condition"] == "Success" and record["requestPayload"] == {"n": 1}
    # Another function as the destination: it is invoked asynchronously with the record as its event.
    create(lam, "receiver", source=STAMP)
    lam.put_function_event_invoke_config(
        FunctionName="receiver", DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )
    lam.publish_version(FunctionName="stamp")
    lam.create_alias(FunctionName="stamp", Name="live", FunctionVersion="1")
    lam.put_function_event_invoke_config(
        FunctionName="stamp", Qualifier="live", DestinationConfig={"OnSuccess": {"Destination": f"{ARN}:receiver"}}
    )
    _event(lam, "stamp", {"n": 2}, Qualifier="live")
    record = _receive(broker, url)
    assert record["requestContext"]["functionArn"] == f"{ARN}:receiver:$LATEST"
    inner = record["responsePayload"]["got"]
    assert inner["requestContext"]["functionArn"] == f"{ARN}:stamp:live"
    assert inner["responseContext"]["executedVersion"] == "1"
    assert inner["requestPayload"] == {"n": 2}


def test_throttled_event_is_retried_until_concurrency_returns(broker, lam):
    url, arn = _queue(broker, "after-throttle")
    create(lam, "held", source=STAMP)
    lam.put_function_event_invoke_config(FunctionName="held", DestinationConfig={"OnSuccess": {"Destination": arn}})
    lam.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=0)
    _event(lam, "held", {"n": 1})
    time.sleep(1.5)  # a few throttled attempts (1 s backoff, real time while the clock runs)
    broker.advance(10)
    broker.run_job("lambda.async")
    assert _empty(broker, url) and _attempts(broker, "held") == 0
    lam.delete_function_concurrency(FunctionName="held")
    broker.advance(600)  # past any backoff (at most 5 minutes)
    _until(broker, lambda: not _empty_peek(broker, url))
    record = _receive(broker, url)
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] >= 2
    assert _attempts(broker, "held") == 1


def test_pending_retry_survives_kill_9(server_factory, backend):
    server = server_factory(backend, workers=2).start()
    lam = server.client("lambda", read_timeout=60)
    url, arn = _queue(server, "durable-dest")
    create(lam, "failing", source=FAIL)
    lam.put_function_event_invoke_config(
        FunctionName="failing", MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    _event(lam, "failing", {"n": 1})
    _until(server, lambda: _attempts(server, "failing") == 1)
    logs = server.client("logs").filter_log_events(logGroupName="/aws/lambda/failing", filterPattern="attempt")
    first_at = logs["events"][0]["timestamp"]  # broker clock, ms
    server.kill()
    server.start()
    # 50 s after the first attempt on the broker clock, however long the restart took in real time.
    now = httpx.get(server.url + "/_broker/clock", timeout=10).json()["now_ms"]
    server.advance(max(0.0, (first_at + 50_000 - now) / 1000))
    server.run_job("lambda.async")
    assert _attempts(server, "failing") == 1  # due a minute after the first attempt, not sooner
    server.advance(11)
    _until(server, lambda: _attempts(server, "failing") == 2)
    record = _receive(server, url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
