"""A request for a service the broker does not serve gets an error in that service's own protocol that names it
(and what is served), so the SDK raises a readable ClientError: S3 (rest-xml), DynamoDB, SSM and Secrets Manager
(awsJson), EC2 (ec2), CloudWatch (Smithy RPC v2 CBOR), SES v2 (rest-json, signed like Pinpoint Email), SES (query).
Served services are not affected. Each such answer is counted in the request metrics."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import serve
from tests.server import BrokerServer


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "unserved")


CALLS = [
    ("s3", "list_buckets", {}, "S3 (Amazon Simple Storage Service)"),
    ("s3", "create_bucket", {"Bucket": "b"}, "S3 (Amazon Simple Storage Service)"),
    ("s3", "put_object", {"Bucket": "b", "Key": "k", "Body": b"x"}, "S3 (Amazon Simple Storage Service)"),
    ("dynamodb", "list_tables", {}, "DynamoDB (Amazon DynamoDB)"),
    ("ssm", "get_parameter", {"Name": "p"}, "SSM (Amazon Simple Systems Manager (SSM))"),
    ("secretsmanager", "get_secret_value", {"SecretId": "s"}, "Secrets Manager (AWS Secrets Manager)"),
    ("ec2", "describe_instances", {}, "EC2 (Amazon Elastic Compute Cloud)"),
    ("cloudwatch", "list_metrics", {}, "CloudWatch (Amazon CloudWatch)"),
    ("sesv2", "list_email_identities", {}, "SESv2 (Amazon Simple Email Service)"),
    ("ses", "list_identities", {}, "SES (Amazon Simple Email Service)"),
]


@pytest.mark.parametrize(("service", "operation", "params", "named"), CALLS, ids=[f"{c[0]}-{c[1]}" for c in CALLS])
def test_unserved_service_is_named_in_its_protocol(
    server: BrokerServer, service: str, operation: str, params: dict, named: str
) -> None:
    client = server.client(service)
    with pytest.raises(ClientError) as e:
        getattr(client, operation)(**params)
    response = e.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["Error"]["Code"] == "NotImplemented"
    message = response["Error"]["Message"]
    assert message.startswith(f"{named} is not provided by this broker; it serves SQS, SNS, Kinesis, ")
    assert "Lambda" in message and "EventBridge" in message
    assert response["ResponseMetadata"]["RequestId"]


def test_json_protocol_message_is_the_wire_format_of_dynamodb(server: BrokerServer) -> None:
    r = httpx.post(
        server.url + "/",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"},
        content=b"{}",
    )
    assert r.status_code == 501
    assert r.headers["content-type"] == "application/x-amz-json-1.0"
    assert r.json()["__type"] == "NotImplemented"
    assert r.json()["message"].startswith("DynamoDB (Amazon DynamoDB) is not provided by this broker")


def test_s3_presigned_url_and_head(server: BrokerServer) -> None:
    s3 = server.client("s3")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    r = httpx.get(url)
    assert r.status_code == 501
    assert "<Code>NotImplemented</Code>" in r.text and "S3 (Amazon Simple Storage Service)" in r.text
    # HEAD answers carry no body: the SDK can only show the status.
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="b")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_served_services_answer_as_before(server: BrokerServer) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="still-here")["QueueUrl"]
    assert sqs.get_queue_url(QueueName="still-here")["QueueUrl"] == url
    assert server.client("sts").get_caller_identity()["Account"] == "000000000000"
    # An unknown target of no AWS model still gets the JSON protocol's own answer.
    r = httpx.post(
        server.url + "/",
        headers={"X-Amz-Target": "NoSuchService_20990101.Op", "Content-Type": "application/x-amz-json-1.0"},
        content=b"{}",
    )
    assert r.status_code == 400 and r.json()["__type"] == "UnknownOperationException"


def test_unserved_requests_are_counted(server: BrokerServer) -> None:
    def counted() -> dict[tuple[str, str, str], float]:
        r = httpx.get(server.url + "/_broker/metrics", timeout=30)
        assert r.status_code == 200
        return {
            (s.labels["service"], s.labels["operation"], s.labels["outcome"]): s.value
            for family in text_string_to_metric_families(r.text)
            for s in family.samples
            if s.name == "broker_requests_total"
        }

    before = counted()
    with pytest.raises(ClientError):
        server.client("s3").list_buckets()
    with pytest.raises(ClientError):
        server.client("dynamodb").list_tables()
    after = counted()
    # By the name the request gives: the signing name, or the X-Amz-Target prefix of a JSON request.
    for service in ("s3", "DynamoDB_20120810"):
        key = (service, "unknown", "NotImplemented")
        assert after.get(key, 0) - before.get(key, 0) == 1, after
