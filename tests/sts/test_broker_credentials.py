"""Credentials the broker hands out itself, on a broker in sigv4 mode (two workers): a Lambda function's execution
role session (its code calls STS and SQS through the broker with boto3, and an environment is replaced before its
credentials run out), and the broker's own loopback calls (an EventBridge Scheduler universal target, an API Gateway
AWS integration with a credentials role), signed with temporary credentials of their role."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from broker.config import Settings
from broker.services.lambda_.execution.install import install
from tests.auth.helpers import ADMIN_ACCOUNT, sigv4_server_kw
from tests.conftest import serve
from tests.lambda_.helpers import python_zip
from tests.scheduler.helpers import receive
from tests.server import BrokerServer
from tests.sts.helpers import trust

CALLER = """
import json, os
import boto3

def handler(event, context):
    me = boto3.client("sts").get_caller_identity()
    boto3.client("sqs").send_message(QueueUrl=event["queue"], MessageBody=json.dumps({"from": me["Arn"]}))
    return {"arn": me["Arn"], "user_id": me["UserId"], "account": me["Account"],
            "key": os.environ["AWS_ACCESS_KEY_ID"]}
"""
LIFETIME_S = 43200  # what an environment's credentials are issued for


@pytest.fixture(scope="module", autouse=True)
def runtimes() -> None:
    """awslambdaric + boto3 per Python version (a no-op once installed)."""
    install(Settings(), say=lambda _: None)


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "sts-own", workers=2, **sigv4_server_kw())


@pytest.fixture
def broker(server: BrokerServer) -> BrokerServer:
    server.reset()
    return server


def role(broker: BrokerServer, name: str, service: str) -> dict:
    return broker.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=trust({"Service": f"{service}.amazonaws.com"})
    )["Role"]


def invoke(lam, name: str, payload: dict) -> dict:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    return dict(body)


def test_lambda_code_acts_as_its_execution_role_session(broker):
    lam, sqs = broker.client("lambda", read_timeout=120), broker.client("sqs")
    execution = role(broker, "fn-exec", "lambda")
    url = sqs.create_queue(QueueName="from-lambda")["QueueUrl"]
    lam.create_function(
        FunctionName="whoami", Runtime="python3.12", Role=execution["Arn"], Handler="handler.handler",
        Code={"ZipFile": python_zip(CALLER)}, Timeout=30,
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="whoami")
    session = f"arn:aws:sts::{ADMIN_ACCOUNT}:assumed-role/fn-exec/whoami"
    first = [invoke(lam, "whoami", {"queue": url}) for _ in range(4)]  # on both workers
    for body in first:
        assert body["arn"] == session and body["account"] == ADMIN_ACCOUNT
        assert body["user_id"] == f"{execution['RoleId']}:whoami" and body["key"].startswith("ASIA")
    got = [json.loads(m["Body"]) for m in receive(sqs, url, count=4)]
    assert got == [{"from": session}] * 4
    # Twelve hours on (less the timeout and a margin), the warm environments' credentials would run out during an
    # invocation: new environments with new credentials answer instead.
    broker.advance(LIFETIME_S - 30)
    later = [invoke(lam, "whoami", {"queue": url}) for _ in range(4)]
    assert all(body["arn"] == session for body in later)
    assert not {b["key"] for b in later} & {b["key"] for b in first}
    assert len(receive(sqs, url, count=4)) == 4


def test_scheduler_universal_target_calls_as_its_role(broker):
    sqs, scheduler = broker.client("sqs"), broker.client("scheduler")
    url = sqs.create_queue(QueueName="scheduled")["QueueUrl"]
    target_role = role(broker, "scheduler-role", "scheduler")
    scheduler.create_schedule(
        Name="send-now", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "RoleArn": target_role["Arn"],
            "Input": json.dumps({"QueueUrl": url, "MessageBody": "scheduled hello"}),
        },
    )  # fmt: skip
    (message,) = receive(sqs, url, wait=20)
    assert message["Body"] == "scheduled hello"


def test_api_gateway_aws_integration_calls_as_its_credentials_role(broker):
    gw, sqs = broker.client("apigateway"), broker.client("sqs")
    url = sqs.create_queue(QueueName="from-api")["QueueUrl"]
    credentials = role(broker, "apigw", "apigateway")["Arn"]
    api = gw.create_rest_api(name="to-sqs")
    ids = {"restApiId": api["id"], "resourceId": api["rootResourceId"], "httpMethod": "POST"}
    gw.put_method(**ids, authorizationType="NONE")
    gw.put_integration(
        **ids, type="AWS", integrationHttpMethod="POST", credentials=credentials,
        uri="arn:aws:apigateway:us-east-1:sqs:action/SendMessage",
        requestParameters={
            "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'",
            "integration.request.querystring.QueueUrl": f"'{url}'",
        },
        requestTemplates={"application/json": "MessageBody=$util.urlEncode($input.body)"},
    )  # fmt: skip
    gw.put_method_response(**ids, statusCode="200")
    gw.put_integration_response(**ids, statusCode="200")
    gw.create_deployment(restApiId=api["id"], stageName="prod")
    for n in range(3):  # both workers, the second and third with reused credentials
        r = httpx.post(f"{broker.url}/_aws/execute-api/{api['id']}/prod/", json={"n": n}, timeout=60)
        assert r.status_code == 200, r.text
        assert "<SendMessageResponse" in r.text
    bodies = sorted(json.loads(m["Body"])["n"] for m in receive(sqs, url, count=3))
    assert bodies == [0, 1, 2]
