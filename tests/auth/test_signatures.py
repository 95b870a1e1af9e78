"""auth = "sigv4": every served service accepts its own boto3 client's signature and the AWS CLI's, presigned URLs
work, and each bad signature is refused the way that service's family answers (query: 403 with the query codes;
awsJson: 400 with the *Exception codes; rest-json control planes: 403)."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import xml.etree.ElementTree as ET

import botocore.auth
import cbor2
import httpx
import pytest
from botocore.exceptions import ClientError

from tests.auth.helpers import (
    ADMIN_ACCOUNT,
    ADMIN_KEY,
    ADMIN_SECRET,
    OTHER_ACCOUNT,
    OTHER_KEY,
    OTHER_SECRET,
    signed,
)
from tests.awscli import MISSING, run_aws
from tests.sqs.query_client import query_protocol_sqs_client

# service -> (a read operation, its family's code for a wrong secret, for an unknown key, the HTTP status)
SERVICES = {
    "sqs": ("list_queues", "SignatureDoesNotMatch", "InvalidClientTokenId", 403),
    "sns": ("list_topics", "SignatureDoesNotMatch", "InvalidClientTokenId", 403),
    "sts": ("get_caller_identity", "SignatureDoesNotMatch", "InvalidClientTokenId", 403),
    "iam": ("list_users", "SignatureDoesNotMatch", "InvalidClientTokenId", 403),
    "kinesis": ("list_streams", "InvalidSignatureException", "UnrecognizedClientException", 400),
    "logs": ("describe_log_groups", "InvalidSignatureException", "UnrecognizedClientException", 400),
    "events": ("list_event_buses", "InvalidSignatureException", "UnrecognizedClientException", 400),
    "lambda": ("list_functions", "InvalidSignatureException", "UnrecognizedClientException", 403),
    "apigateway": ("get_rest_apis", "InvalidSignatureException", "UnrecognizedClientException", 403),
    "apigatewayv2": ("get_apis", "InvalidSignatureException", "UnrecognizedClientException", 403),
    "scheduler": ("list_schedules", "InvalidSignatureException", "UnrecognizedClientException", 403),
}
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


def _error(call) -> ClientError:
    with pytest.raises(ClientError) as e:
        call()
    return e.value


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_takes_its_clients_signature_and_refuses_bad_ones(signed_broker, service):
    op, mismatch, unknown, status = SERVICES[service]
    answer = getattr(signed_broker.client(service), op)()
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200

    wrong = signed_broker.client(service, access_key=ADMIN_KEY, secret="not-the-secret")
    err = _error(getattr(wrong, op))
    assert err.response["Error"]["Code"] == mismatch
    assert err.response["Error"]["Message"] == MISMATCH
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status

    stranger = signed_broker.client(service, access_key="AKIDNOBODYKNOWS1", secret="x")
    err = _error(getattr(stranger, op))
    assert err.response["Error"]["Code"] == unknown
    assert err.response["Error"]["Message"] == INVALID_TOKEN
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_each_key_acts_in_its_own_account(signed_broker):
    admin = signed_broker.client("sts").get_caller_identity()
    assert admin["Account"] == ADMIN_ACCOUNT
    assert admin["Arn"] == f"arn:aws:iam::{ADMIN_ACCOUNT}:user/broker"
    other = signed_broker.client("sts", access_key=OTHER_KEY, secret=OTHER_SECRET).get_caller_identity()
    assert other["Account"] == OTHER_ACCOUNT
    assert other["Arn"] == f"arn:aws:iam::{OTHER_ACCOUNT}:user/other-admin"

    url = signed_broker.client("sqs").create_queue(QueueName="mine")["QueueUrl"]
    assert f"/{ADMIN_ACCOUNT}/mine" in url
    theirs = signed_broker.client("sqs", access_key=OTHER_KEY, secret=OTHER_SECRET)
    assert theirs.list_queues().get("QueueUrls", []) == []
    # A 12-digit access key no longer picks the account: only configured and IAM keys sign.
    err = _error(signed_broker.client("sqs", access_key=OTHER_ACCOUNT, secret="x").list_queues)
    assert err.response["Error"]["Code"] == "InvalidClientTokenId"


def test_sqs_on_both_protocols_and_kinesis_over_cbor(signed_broker, tmp_path):
    query = query_protocol_sqs_client(signed_broker.url, tmp_path, access_key=ADMIN_KEY)
    url = query.create_queue(QueueName="q")["QueueUrl"]
    query.send_message(QueueUrl=url, MessageBody="over query")
    got = signed_broker.client("sqs").receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in got] == ["over query"]

    signed_broker.client("kinesis").create_stream(StreamName="s", ShardCount=1)
    headers = {"Content-Type": "application/x-amz-cbor-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecord"}
    body = cbor2.dumps({"StreamName": "s", "Data": b"signed", "PartitionKey": "k"})
    ok = signed("POST", signed_broker.url + "/", service="kinesis", body=body, headers=headers)
    assert ok.status_code == 200, ok.content
    assert cbor2.loads(ok.content)["ShardId"] == "shardId-000000000000"
    bad = signed("POST", signed_broker.url + "/", service="kinesis", body=body, headers=headers, secret="nope")
    assert bad.status_code == 400
    assert cbor2.loads(bad.content)["__type"] == "InvalidSignatureException"


def test_presigned_urls(signed_broker, tmp_path):
    # SQS's query protocol puts the action in the URL (a JSON-protocol presign signs headers a URL cannot carry);
    # botocore signs a query operation's presigned URL for its HTTP method, POST. A GET signed as GET: see below.
    sqs = query_protocol_sqs_client(signed_broker.url, tmp_path, access_key=ADMIN_KEY)
    sqs.create_queue(QueueName="presigned")
    url = sqs.generate_presigned_url("list_queues", Params={}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    r = httpx.post(url)
    assert r.status_code == 200, r.text
    assert "presigned" in r.text

    sts_url = signed_broker.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    r = httpx.get(sts_url)
    assert r.status_code == 200, r.text
    assert f"<Account>{ADMIN_ACCOUNT}</Account>" in r.text
    assert httpx.post(sts_url).status_code == 403  # signed for GET

    tampered = re.sub(r"X-Amz-Signature=([0-9a-f])", lambda m: "X-Amz-Signature=" + "0f"[m.group(1) == "0"], url)
    r = httpx.post(tampered)
    assert r.status_code == 403
    assert _query_error(r.text) == ("SignatureDoesNotMatch", MISMATCH)


def _query_error(text: str) -> tuple[str, str]:
    root = ET.fromstring(text)
    code = next(el.text for el in root.iter() if el.tag.endswith("Code"))
    message = next(el.text for el in root.iter() if el.tag.endswith("Message"))
    return code, message


def _signed_at(monkeypatch, when: datetime.datetime) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when)


def test_signatures_older_or_newer_than_15_minutes_are_refused(signed_broker, monkeypatch, tmp_path):
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    # The test clock does not matter: the window is measured on the wall clock.
    signed_broker.advance(7200)
    sqs = signed_broker.client("sqs")
    _signed_at(monkeypatch, now - datetime.timedelta(minutes=14))
    assert sqs.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200

    _signed_at(monkeypatch, now - datetime.timedelta(minutes=20))
    err = _error(sqs.list_queues)
    assert err.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert re.fullmatch(
        r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)",
        err.response["Error"]["Message"],
    ), err.response["Error"]["Message"]

    _signed_at(monkeypatch, now + datetime.timedelta(minutes=20))
    err = _error(signed_broker.client("kinesis").list_streams)
    assert err.response["Error"]["Code"] == "InvalidSignatureException"
    assert err.response["Error"]["Message"].startswith("Signature not yet current: ")
    assert err.response["Error"]["Message"].endswith(" + 15 min.)")

    # A presigned URL lives for its X-Amz-Expires.
    _signed_at(monkeypatch, now - datetime.timedelta(minutes=3))
    query = query_protocol_sqs_client(signed_broker.url, tmp_path, access_key=ADMIN_KEY)
    url = query.generate_presigned_url("list_queues", Params={}, ExpiresIn=60)
    r = httpx.post(url)
    assert r.status_code == 403
    assert _query_error(r.text)[1].endswith(" - 1 min.)")


def test_missing_and_malformed_signatures(signed_broker):
    url = signed_broker.url + "/"
    r = httpx.post(url, data={"Action": "ListQueues"})
    assert r.status_code == 403
    assert _query_error(r.text) == ("MissingAuthenticationToken", "Request is missing Authentication Token")

    r = httpx.post(
        url,
        content=b"{}",
        headers={"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert r.status_code == 400
    assert r.json() == {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"}

    r = httpx.get(signed_broker.url + "/2015-03-31/functions/")
    assert r.status_code == 403
    assert r.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"

    header = f"AWS4-HMAC-SHA256 Credential={ADMIN_KEY}/20260101/us-east-1/sqs/aws4_request"
    r = httpx.post(url, data={"Action": "ListQueues"}, headers={"Authorization": header})
    assert r.status_code == 403
    code, message = _query_error(r.text)
    assert code == "IncompleteSignature"
    assert message == (
        "Authorization header requires 'SignedHeaders' parameter. Authorization header requires 'Signature' "
        f"parameter. Authorization={header}"
    )

    sigv4a = (
        f"AWS4-ECDSA-P256-SHA256 Credential={ADMIN_KEY}/20260101/sqs/aws4_request, SignedHeaders=host, Signature=00"
    )
    r = httpx.post(url, data={"Action": "ListQueues"}, headers={"Authorization": sigv4a})
    assert r.status_code == 403
    assert _query_error(r.text)[0] == "IncompleteSignature"

    header = (
        f"AWS4-HMAC-SHA256 Credential={ADMIN_KEY}/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00"
    )
    r = httpx.post(url, data={"Action": "ListQueues"}, headers={"Authorization": header})
    assert r.status_code == 403
    assert _query_error(r.text)[1].startswith("Authorization header requires existence of either a 'X-Amz-Date'")


def test_a_declared_payload_hash_must_be_the_bodys(signed_broker):
    body = b"Action=ListQueues&Version=2012-11-05"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Amz-Content-SHA256": "0" * 64,  # signed, but not this body's hash
    }
    r = signed("POST", signed_broker.url + "/", service="sqs", body=body, headers=headers)
    assert r.status_code == 403
    assert _query_error(r.text)[0] == "SignatureDoesNotMatch"
    headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    r = signed("POST", signed_broker.url + "/", service="sqs", body=body, headers=headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "request_kw",
    [
        {"content": b"\xff\xfe garbage", "headers": {"Authorization": "AWS4-HMAC-SHA256 \x7f"}},
        {"content": b"{", "headers": {"X-Amz-Target": "Nope.Nothing", "Authorization": "x"}},
        {"content": b"", "headers": {"Authorization": "AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=, Signature="}},
        {
            "content": b"Action=ListQueues",
            "headers": {
                "X-Amz-Date": "yesterday",
                "Authorization": "AWS4-HMAC-SHA256 "
                f"Credential={ADMIN_KEY}/x/us-east-1/sqs/aws4_request, "
                "SignedHeaders=host;x-amz-date, Signature=ab",
            },
        },
    ],
)
def test_garbage_is_refused_never_a_500(signed_broker, request_kw):
    for path in ("/", "/2015-03-31/functions/", "/restapis"):
        r = httpx.post(signed_broker.url + path, timeout=30, **request_kw)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
    r = httpx.get(
        signed_broker.url + "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&X-Amz-Expires=x", timeout=30
    )
    assert r.status_code == 403


@pytest.mark.skipif(MISSING, reason="the AWS CLI is not installed")
def test_the_aws_cli(signed_broker, tmp_path):
    def aws(secret: str, *args: str) -> subprocess.CompletedProcess[str]:
        return run_aws(signed_broker.url, tmp_path, *args, key=ADMIN_KEY, secret=secret, region="eu-west-1")

    done = aws(ADMIN_SECRET, "sts", "get-caller-identity")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Account"] == ADMIN_ACCOUNT
    done = aws(ADMIN_SECRET, "sqs", "create-queue", "--queue-name", "from-cli")
    assert done.returncode == 0, done.stderr
    assert "eu-west-1" in json.loads(done.stdout)["QueueUrl"]
    done = aws("wrong", "sqs", "list-queues")
    assert done.returncode != 0
    assert "SignatureDoesNotMatch" in done.stderr


def test_sns_subscribe_and_unsubscribe_links_work_unsigned(signed_broker):
    sns = signed_broker.client("sns")
    topic = sns.create_topic(Name="links")["TopicArn"]
    queue_arn = f"arn:aws:sqs:us-east-1:{ADMIN_ACCOUNT}:nowhere"
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    # A SubscribeURL with a token SNS never made: SNS's own answer, not a signature refusal.
    r = httpx.get(
        signed_broker.url + "/", params={"Action": "ConfirmSubscription", "TopicArn": topic, "Token": "ab" * 64}
    )
    assert r.status_code == 400, r.text
    assert _query_error(r.text)[0] == "InvalidParameter"
    r = httpx.get(signed_broker.url + "/", params={"Action": "Unsubscribe", "SubscriptionArn": sub})
    assert r.status_code == 200, r.text
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    # Any other action still needs a signature.
    r = httpx.get(signed_broker.url + "/", params={"Action": "ListTopics"})
    assert _query_error(r.text)[0] == "MissingAuthenticationToken"
