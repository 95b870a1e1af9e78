"""Lambda asynchronous invocations with EventBridge destinations: the invocation record arrives on the bus as the
detail of a "Lambda Function Invocation Result - Success" / "- Failure" event from source "lambda", which a rule
routes to an SQS queue."""

from __future__ import annotations

import json

from tests.events.helpers import ACCOUNT, REGION, bus_arn
from tests.lambda_.helpers import ARN, create, queue_with_arn, receive_json

HANDLER = """
def handler(event, context):
    if event.get("fail"):
        raise Exception("failed " + str(event["n"]))
    return {"doubled": event["n"] * 2}
"""


def test_success_and_failure_records_reach_the_bus(broker, events):
    sqs = broker.client("sqs")
    lam = broker.client("lambda", read_timeout=60)
    url, queue_arn = queue_with_arn(sqs, "results")
    events.create_event_bus(Name="results")
    events.put_rule(
        Name="from-lambda",
        EventBusName="results",
        EventPattern=json.dumps({"source": ["lambda"], "detail-type": [{"prefix": "Lambda Function Invocation"}]}),
    )
    events.put_targets(Rule="from-lambda", EventBusName="results", Targets=[{"Id": "q", "Arn": queue_arn}])

    create(lam, "doubler", source=HANDLER)
    lam.put_function_event_invoke_config(
        FunctionName="doubler",
        MaximumRetryAttempts=0,
        DestinationConfig={
            "OnSuccess": {"Destination": bus_arn("results")},
            "OnFailure": {"Destination": bus_arn("results")},
        },
    )
    lam.invoke(FunctionName="doubler", InvocationType="Event", Payload=json.dumps({"n": 21}))
    ok = receive_json(sqs, url, 60)
    assert ok["source"] == "lambda"
    assert ok["detail-type"] == "Lambda Function Invocation Result - Success"
    assert ok["account"] == ACCOUNT and ok["region"] == REGION and ok["version"] == "0"
    assert ok["resources"] == [f"{ARN}:doubler:$LATEST", bus_arn("results")]  # function, destination
    record = ok["detail"]
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"] == f"{ARN}:doubler:$LATEST"
    assert record["requestPayload"] == {"n": 21}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"doubled": 42}

    lam.invoke(FunctionName="doubler", InvocationType="Event", Payload=json.dumps({"n": 5, "fail": True}))
    failed = receive_json(sqs, url, 60)
    assert failed["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert failed["resources"] == [f"{ARN}:doubler:$LATEST", bus_arn("results")]  # function, destination
    record = failed["detail"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"n": 5, "fail": True}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "failed 5"
