"""AWS service integrations (type AWS) of deployed REST APIs: the rendered request template sent, signed, to the
broker's own SQS (query form by action and by queue path, JSON form), SNS, Kinesis and Lambda (non-proxy) as an AWS
client sends it; the service's answer mapped back through the integration responses (by status code, by a Lambda
function's errorMessage), service errors, timeouts and uris naming no served service."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from tests.lambda_.helpers import create

ACCOUNT = "000000000000"
FORM = {"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"}


def _uri(service: str, rest: str) -> str:
    return f"arn:aws:apigateway:us-east-1:{service}:{rest}"


def _api(gw, name: str, responses: list[dict[str, Any]] | None = None, **integration: Any) -> str:
    """An API whose POST /{thing} has the AWS integration `integration` and the integration responses `responses`
    (default: one default 200 response), deployed as stage prod."""
    rest = gw.create_rest_api(name=name)
    api_id, root = rest["id"], rest["rootResourceId"]
    thing = gw.create_resource(restApiId=api_id, parentId=root, pathPart="{thing}")["id"]
    ids = {"restApiId": api_id, "resourceId": thing, "httpMethod": "POST"}
    gw.put_method(**ids, authorizationType="NONE")
    integration.setdefault("integrationHttpMethod", "POST")
    gw.put_integration(**ids, type="AWS", credentials=f"arn:aws:iam::{ACCOUNT}:role/apigw", **integration)
    for response in responses or [{"statusCode": "200"}]:
        gw.put_method_response(**ids, statusCode=response["statusCode"])
        gw.put_integration_response(**ids, **response)
    gw.create_deployment(restApiId=api_id, stageName="prod")
    return str(api_id)


def _call(broker, api_id: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.post(f"{broker.url}/_aws/execute-api/{api_id}/prod{path}", timeout=60, **kw)


def _receive(sqs, url: str) -> list[dict[str, Any]]:
    return list(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=10).get("Messages", []))


def test_sqs_send_message_by_action_and_by_queue_path(broker):
    gw, sqs = broker.client("apigateway"), broker.client("sqs")
    url = sqs.create_queue(QueueName="awsint-orders")["QueueUrl"]
    as_json = '{"raw": "$util.escapeJavaScript($input.body)"}'
    # The action form: Action from the uri, QueueUrl from a query string mapping, the body from the template.
    by_action = _api(
        gw, "sqs-action", uri=_uri("sqs", "action/SendMessage"),
        requestParameters={**FORM, "integration.request.querystring.QueueUrl": f"'{url}'"},
        requestTemplates={"application/json": "MessageBody=$util.urlEncode($input.body)"},
        responses=[{"statusCode": "200", "responseTemplates": {"application/json": as_json}}],
    )  # fmt: skip
    # The path form: the queue's URL path in the uri, the whole query request in the template (AWS's tutorial).
    by_path = _api(
        gw, "sqs-path", uri=_uri("sqs", f"path/{ACCOUNT}/awsint-orders"), requestParameters=FORM,
        requestTemplates={"application/json": "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"},
    )  # fmt: skip

    sent = {"order": 1, "note": "a & b = c?"}
    r = _call(broker, by_action, "/orders", json=sent)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    # SQS's XML answer made JSON by the response template.
    raw = r.json()["raw"]
    assert raw.startswith("<?xml") and "<SendMessageResponse" in raw
    messages = _receive(sqs, url)
    assert [json.loads(m["Body"]) for m in messages] == [sent]
    assert f"<MessageId>{messages[0]['MessageId']}</MessageId>" in raw
    sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])

    r = _call(broker, by_path, "/orders", content=b"plain text + more", headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    # No response template: SQS's answer passed through.
    assert "<SendMessageResponse" in r.text and "<MD5OfMessageBody>" in r.text
    assert [m["Body"] for m in _receive(sqs, url)] == ["plain text + more"]


def test_sqs_json_protocol_and_response_template(broker):
    gw, sqs = broker.client("apigateway"), broker.client("sqs")
    url = sqs.create_queue(QueueName="awsint-json")["QueueUrl"]
    api_id = _api(
        gw, "sqs-json", uri=_uri("sqs", "action/SendMessage"),
        requestParameters={"integration.request.header.Content-Type": "'application/x-amz-json-1.0'"},
        requestTemplates={"application/json": f'{{"QueueUrl": "{url}", "MessageBody": "$input.path(\'$.text\')",'
                                              ' "DelaySeconds": 0}'},
        responses=[{"statusCode": "200", "responseTemplates": {
            "application/json": '{"id": "$input.path(\'$.MessageId\')", "md5": "$input.path(\'$.MD5OfMessageBody\')"}'
        }}],
    )  # fmt: skip
    r = _call(broker, api_id, "/x", json={"text": "hello json"})
    assert r.status_code == 200, r.text
    messages = _receive(sqs, url)
    assert [m["Body"] for m in messages] == ["hello json"]
    assert r.json() == {"id": messages[0]["MessageId"], "md5": hashlib.md5(b"hello json").hexdigest()}


def test_service_error_selects_the_integration_response_by_status(broker):
    gw = broker.client("apigateway")
    missing = _uri("sqs", f"path/{ACCOUNT}/awsint-no-such-queue")
    template = {"application/json": "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"}
    # Only a default response: AWS's error comes back as a 200 carrying the service's error document.
    default_only = _api(gw, "sqs-missing", uri=missing, requestParameters=FORM, requestTemplates=template)
    r = _call(broker, default_only, "/x", json={"a": 1})
    assert r.status_code == 200
    assert "AWS.SimpleQueueService.NonExistentQueue" in r.text and "<ErrorResponse" in r.text
    assert r.headers["content-type"] == "application/json"

    # A 4xx pattern matched against SQS's status code; the service's headers are there for the mappings.
    mapped = _api(
        gw, "sqs-missing-mapped", uri=missing, requestParameters=FORM, requestTemplates=template,
        responses=[
            {"statusCode": "200"},
            {"statusCode": "404", "selectionPattern": "4\\d{2}",
             "responseTemplates": {"application/json": '{"failed": true}'},
             "responseParameters": {
                 "method.response.header.x-request": "integration.response.header.x-amzn-RequestId"}},
        ],
    )  # fmt: skip
    r = _call(broker, mapped, "/x", json={"a": 1})
    assert (r.status_code, r.json()) == (404, {"failed": True})
    assert r.headers.get("x-request")


def test_sns_publish_reaches_a_subscribed_queue(broker):
    gw, sqs, sns = broker.client("apigateway"), broker.client("sqs"), broker.client("sns")
    url = sqs.create_queue(QueueName="awsint-fanout")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="awsint-topic")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    api_id = _api(
        gw, "sns-publish", uri=_uri("sns", "action/Publish"),
        requestParameters={**FORM, "integration.request.querystring.TopicArn": f"'{topic}'"},
        requestTemplates={"application/json": "Message=$util.urlEncode($input.path('$.message'))"
                                              "&Subject=$util.urlEncode($input.params('thing'))"},
        responses=[{"statusCode": "200", "responseTemplates": {"application/json": '{"published": true}'}}],
    )  # fmt: skip
    r = _call(broker, api_id, "/news", json={"message": "hello subscribers"})
    assert (r.status_code, r.json()) == (200, {"published": True})
    assert [m["Body"] for m in _receive(sqs, url)] == ["hello subscribers"]


def test_kinesis_put_record_then_get_records(broker):
    gw, kinesis = broker.client("apigateway"), broker.client("kinesis")
    kinesis.create_stream(StreamName="awsint-stream", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="awsint-stream", WaiterConfig={"Delay": 0.2})
    api_id = _api(
        gw, "kinesis-put", uri=_uri("kinesis", "action/PutRecord"),
        requestTemplates={"application/json": '{"StreamName": "awsint-stream",'
                                              ' "Data": "$util.base64Encode($input.json(\'$.event\'))",'
                                              ' "PartitionKey": "$input.params(\'thing\')"}'},
        responses=[{"statusCode": "200", "responseTemplates": {
            "application/json": '{"shard": "$input.path(\'$.ShardId\')", "seq": "$input.path(\'$.SequenceNumber\')"}'
        }}],
    )  # fmt: skip
    r = _call(broker, api_id, "/device-7", json={"event": {"t": 21.5, "unit": "C"}})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["shard"] == "shardId-000000000000" and answer["seq"]
    iterator = kinesis.get_shard_iterator(
        StreamName="awsint-stream", ShardId=answer["shard"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [(json.loads(x["Data"]), x["PartitionKey"], x["SequenceNumber"]) for x in records] == [
        ({"t": 21.5, "unit": "C"}, "device-7", answer["seq"])
    ]
    # An AWS error (no such stream) is Kinesis's 400, selected by status like any service's.
    missing = _api(
        gw, "kinesis-missing", uri=_uri("kinesis", "action/PutRecord"),
        requestTemplates={"application/json": '{"StreamName": "awsint-none", "Data": "AA==", "PartitionKey": "k"}'},
        responses=[{"statusCode": "200"}, {"statusCode": "400", "selectionPattern": "400", "responseTemplates": {
            "application/json": '{"type": "$input.path(\'$.__type\')"}'}}],
    )  # fmt: skip
    r = _call(broker, missing, "/x", json={})
    assert (r.status_code, r.json()) == (400, {"type": "ResourceNotFoundException"})


ADDER = """
import time

def handler(event, context):
    if event["a"] < 0:
        raise ValueError("Bad input: a is negative")
    if event["a"] == 99:
        time.sleep(3)
    if event["a"] == 13:
        raise RuntimeError("unlucky")
    return {"sum": event["a"] + event["b"], "thing": event["thing"]}
"""


@pytest.fixture
def adder(broker) -> str:
    lam = broker.client("lambda", read_timeout=60)
    try:
        return str(lam.get_function(FunctionName="awsint-adder")["Configuration"]["FunctionArn"])
    except lam.exceptions.ResourceNotFoundException:
        return str(create(lam, "awsint-adder", source=ADDER)["FunctionArn"])


def test_lambda_non_proxy_templates_and_function_errors(broker, adder):
    gw = broker.client("apigateway")
    api_id = _api(
        gw, "lambda-custom", uri=_uri("lambda", f"path/2015-03-31/functions/{adder}/invocations"),
        requestTemplates={"application/json": '{"a": $input.json(\'$.a\'), "b": $input.json(\'$.b\'),'
                                              ' "thing": "$input.params(\'thing\')"}'},
        responses=[
            {"statusCode": "200", "responseTemplates": {"application/json": '{"result": $input.json(\'$.sum\')}'}},
            # Matched against the function's errorMessage, not a status code.
            {"statusCode": "400", "selectionPattern": "Bad input.*",
             "responseTemplates": {"application/json": '{"error": "$input.path(\'$.errorMessage\')",'
                                                       ' "type": "$input.path(\'$.errorType\')"}'}},
            {"statusCode": "500", "selectionPattern": "5\\d{2}"},
        ],
    )  # fmt: skip
    r = _call(broker, api_id, "/sum", json={"a": 2, "b": 40})
    assert (r.status_code, r.json()) == (200, {"result": 42})
    r = _call(broker, api_id, "/sum", json={"a": -1, "b": 1})
    assert (r.status_code, r.json()) == (400, {"error": "Bad input: a is negative", "type": "ValueError"})
    # An error no pattern matches (a status-code pattern never matches a Lambda error) takes the default response.
    r = _call(broker, api_id, "/sum", json={"a": 13, "b": 1})
    assert (r.status_code, r.json()) == (200, {"result": ""})


def test_lambda_event_invocation_and_timeout(broker, adder):
    gw = broker.client("apigateway")
    uri = _uri("lambda", f"path/2015-03-31/functions/{adder}/invocations")
    template = {"application/json": '{"a": $input.json(\'$.a\'), "b": 1, "thing": "t"}'}
    event = _api(
        gw, "lambda-event", uri=uri, requestTemplates=template,
        requestParameters={"integration.request.header.X-Amz-Invocation-Type": "'Event'"},
        responses=[{"statusCode": "200", "responseParameters": {
            "method.response.header.x-status": "integration.response.header.x-amzn-RequestId"}}],
    )  # fmt: skip
    r = _call(broker, event, "/x", json={"a": 99})
    # Lambda's 202 with an empty body, through the default response.
    assert (r.status_code, r.content) == (200, b"")
    assert r.headers.get("x-status")

    slow = _api(gw, "lambda-slow", uri=uri, requestTemplates=template, timeoutInMillis=200)
    r = _call(broker, slow, "/x", json={"a": 99})
    assert (r.status_code, r.json()) == (504, {"message": "Endpoint request timed out"})


def test_configuration_errors(broker):
    gw = broker.client("apigateway")
    unknown = _api(gw, "unknown-service", uri=_uri("nosuchservice", "action/DoIt"))
    r = _call(broker, unknown, "/x", json={})
    assert (r.status_code, r.json()) == (500, {"message": "Internal server error"})
    # A function that does not exist: Lambda refuses the invocation, a configuration error to API Gateway.
    missing = _uri("lambda", f"path/2015-03-31/functions/arn:aws:lambda:us-east-1:{ACCOUNT}:function:nope/invocations")
    r = _call(broker, _api(gw, "missing-function", uri=missing), "/x", json={})
    assert (r.status_code, r.json()) == (500, {"message": "Internal server error"})


def test_sts_and_json_targets_of_other_services(broker):
    gw, logs = broker.client("apigateway"), broker.client("logs")
    # A query service answering its caller's identity: the API's account.
    sts = _api(
        gw, "sts-identity", uri=_uri("sts", "action/GetCallerIdentity"), requestParameters=FORM,
        requestTemplates={"application/json": "Version=2011-06-15"},
    )  # fmt: skip
    r = _call(broker, sts, "/x", json={})
    assert r.status_code == 200 and f"<Account>{ACCOUNT}</Account>" in r.text
    # An awsJson 1.1 target (CloudWatch Logs) built from the action.
    group = _api(
        gw, "logs-create", uri=_uri("logs", "action/CreateLogGroup"),
        requestTemplates={"application/json": '{"logGroupName": "/awsint/$input.params(\'thing\')"}'},
    )  # fmt: skip
    assert _call(broker, group, "/orders", json={}).status_code == 200
    names = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/awsint/")["logGroups"]]
    assert names == ["/awsint/orders"]
