"""auth = "sigv4": a signed request acts only in the scope its signature was verified with (one Credential, a real
region, the service it reaches, the host signed), duplicated headers are signed as AWS signs them, expired
temporary credentials answer ExpiredToken, text that is not ASCII where a signature or token belongs is refused
(never a 500), an SNS subscription confirmed with AuthenticateOnUnsubscribe needs a signed Unsubscribe, and the
admin API's OpenAPI document needs an admin."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.auth.helpers import ADMIN_KEY, ADMIN_SECRET, ADMIN_TOKEN, signed
from tests.server import make_client
from tests.sqs.query_client import query_protocol_sqs_client

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
LIST_QUEUES = b"Action=ListQueues&Version=2012-11-05"


def _query_error(r: httpx.Response) -> tuple[str, str]:
    root = ET.fromstring(r.text)
    code = next(el.text for el in root.iter() if el.tag.endswith("Code"))
    message = next(el.text for el in root.iter() if el.tag.endswith("Message"))
    return code or "", message or ""


def _signed_headers(
    url: str, service: str, body: bytes, headers: dict[str, str], region: str = "us-east-1", auth: type = SigV4Auth
) -> list[tuple[str, str]]:
    req = AWSRequest(method="POST", url=url, data=body, headers=headers)
    auth(Credentials(ADMIN_KEY, ADMIN_SECRET), service, region).add_auth(req)
    return [(k, v) for k, v in req.headers.items() if k.lower() != "content-length"]


def _with_authorization(headers: list[tuple[str, str]], authorization: str) -> list[tuple[str, str]]:
    return [(k, authorization if k.lower() == "authorization" else v) for k, v in headers]


def _authorization(headers: list[tuple[str, str]]) -> str:
    return next(v for k, v in headers if k.lower() == "authorization")


def test_a_second_credential_is_refused_and_routing_takes_the_verified_scope(signed_broker):
    url = signed_broker.url + "/"
    eu = signed_broker.client("sqs", region="eu-west-1").create_queue(QueueName="in-eu")["QueueUrl"]
    signed_broker.client("sqs", region="us-west-2").create_queue(QueueName="in-us-west")
    headers = _signed_headers(url, "sqs", LIST_QUEUES, FORM, region="eu-west-1")
    algorithm, _, rest = _authorization(headers).partition(" ")
    date = next(v for k, v in headers if k.lower() == "x-amz-date")[:8]

    # Two Credential= parameters: refused, whichever would have been verified.
    twice = f"{algorithm} Credential={ADMIN_KEY}/{date}/us-west-2/sns/aws4_request, {rest}"
    r = httpx.post(url, headers=_with_authorization(headers, twice), content=LIST_QUEUES)
    assert r.status_code == 403, r.text
    code, message = _query_error(r)
    assert code == "IncompleteSignature"
    assert message.startswith("Authorization header has a duplicate 'Credential' parameter.")

    # Text that merely contains "Credential=" does not route the request: the verified scope (eu-west-1, sqs) does.
    decoy = f"{algorithm} XCredential={ADMIN_KEY}/{date}/us-west-2/sns/aws4_request, {rest}"
    r = httpx.post(url, headers=_with_authorization(headers, decoy), content=LIST_QUEUES)
    assert r.status_code == 200, r.text
    assert [el.text for el in ET.fromstring(r.text).iter() if el.tag.endswith("QueueUrl")] == [eu]


def test_the_scope_must_name_the_service_reached_and_a_real_region(signed_broker):
    url = signed_broker.url + "/"
    kinesis = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.ListStreams"}
    r = signed("POST", url, service="logs", body=b"{}", headers=kinesis)
    assert r.status_code == 400, r.text
    assert r.json() == {
        "__type": "InvalidSignatureException",
        "message": "Credential should be scoped to correct service: 'kinesis'. ",
    }
    r = signed("GET", signed_broker.url + "/2015-03-31/functions/", service="apigateway")
    assert r.status_code == 403, r.text
    assert r.headers["x-amzn-errortype"] == "InvalidSignatureException"
    body = {k.lower(): v for k, v in r.json().items()}
    assert body["message"] == "Credential should be scoped to correct service: 'lambda'. "

    r = signed("POST", url, service="sqs", body=LIST_QUEUES, headers=FORM, region="mars")
    assert r.status_code == 403, r.text
    assert _query_error(r) == ("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'mars'. ")


def test_a_presigned_rest_request_acts_in_the_region_of_its_scope(signed_broker):
    apigw = signed_broker.client("apigateway", region="eu-west-1")
    api = apigw.create_rest_api(name="in-eu")["id"]
    r = httpx.get(apigw.generate_presigned_url("get_rest_apis", Params={}), timeout=30)
    assert r.status_code == 200, r.text
    assert [item["id"] for item in r.json()["item"]] == [api]


def test_the_host_must_be_signed(signed_broker):
    class WithoutHost(SigV4Auth):
        def headers_to_sign(self, request):
            headers = super().headers_to_sign(request)
            del headers["host"]
            return headers

    url = signed_broker.url + "/"
    headers = _signed_headers(url, "sqs", LIST_QUEUES, FORM, auth=WithoutHost)
    assert "host;" not in _authorization(headers)
    r = httpx.post(url, headers=headers, content=LIST_QUEUES)
    assert r.status_code == 403, r.text
    assert _query_error(r) == (
        "IncompleteSignature",
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    )


def test_a_repeated_header_is_signed_as_its_values_joined(signed_broker):
    url = signed_broker.url + "/"
    req = AWSRequest(method="POST", url=url, data=LIST_QUEUES, headers=FORM)
    req.headers["X-Custom"] = "first"
    req.headers["X-Custom"] = "second   value"  # botocore's headers keep both: it signs "first,second value"
    SigV4Auth(Credentials(ADMIN_KEY, ADMIN_SECRET), "sqs", "us-east-1").add_auth(req)
    headers = [(k, v) for k, v in req.headers.items() if k.lower() != "content-length"]
    assert [v for k, v in headers if k == "X-Custom"] == ["first", "second   value"]
    r = httpx.post(url, headers=headers, content=LIST_QUEUES)
    assert r.status_code == 200, r.text
    # The same two values in the other order are another request.
    swapped = [(k, v) for k, v in headers if k != "X-Custom"] + [
        ("X-Custom", "second   value"),
        ("X-Custom", "first"),
    ]
    r = httpx.post(url, headers=swapped, content=LIST_QUEUES)
    assert r.status_code == 403
    assert _query_error(r)[0] == "SignatureDoesNotMatch"


def test_expired_temporary_credentials_answer_expired_token(signed_broker):
    creds = signed_broker.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    key, secret, token = creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    clients = {
        name: make_client(name, signed_broker.url, key, secret, config=config, session_token=token)
        for name in ("sqs", "kinesis", "lambda")
    }
    clients["sqs"].list_queues()
    signed_broker.advance(901)
    expired = "The security token included in the request is expired"
    for name, call, code, status in (
        ("sqs", "list_queues", "ExpiredToken", 403),
        ("kinesis", "list_streams", "ExpiredTokenException", 400),
        ("lambda", "list_functions", "ExpiredTokenException", 403),
    ):
        with pytest.raises(ClientError) as e:
            getattr(clients[name], call)()
        error = e.value.response["Error"]
        assert (error["Code"], error["Message"]) == (code, expired), name
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, name


def test_signatures_and_tokens_that_are_not_ascii_are_refused_not_a_500(signed_broker, tmp_path):
    url = signed_broker.url + "/"
    headers = _signed_headers(url, "sqs", LIST_QUEUES, FORM)
    head, _, _ = _authorization(headers).rpartition("Signature=")
    raw = [(k.encode(), v.encode()) for k, v in _with_authorization(headers, head + "Signature=" + "é" * 32)]
    r = httpx.post(url, headers=raw, content=LIST_QUEUES)
    assert r.status_code == 403, r.text
    assert _query_error(r)[0] == "SignatureDoesNotMatch"

    query = query_protocol_sqs_client(signed_broker.url, tmp_path, access_key=ADMIN_KEY)
    presigned = query.generate_presigned_url("list_queues", Params={})
    base, _, _ = presigned.rpartition("X-Amz-Signature=")
    r = httpx.post(base + urlencode({"X-Amz-Signature": "é" * 32}), timeout=30)
    assert r.status_code == 403, r.text
    assert _query_error(r)[0] == "SignatureDoesNotMatch"

    leases = signed_broker.url + "/_broker/leases"
    r = httpx.get(leases, headers=[(b"Authorization", "Bearer é".encode())])
    assert r.status_code == 401, r.text
    r = httpx.get(leases, headers=[(b"Cookie", "broker_console=x.é".encode())])
    assert r.status_code == 401, r.text


def test_authenticate_on_unsubscribe_needs_a_signed_unsubscribe(signed_broker):
    sns = signed_broker.client("sns")
    topic = sns.create_topic(Name="guarded")["TopicArn"]

    def confirmed(endpoint: str, with_signature: bool) -> str:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=endpoint)
        (mail,) = signed_broker.admin("GET", "/_broker/sns/outbox", params={"endpoint": endpoint})["messages"]
        params = {"TopicArn": topic, "Token": mail["message"]["Token"], "AuthenticateOnUnsubscribe": "true"}
        if with_signature:
            return sns.confirm_subscription(**params)["SubscriptionArn"]
        r = httpx.get(signed_broker.url + "/", params={"Action": "ConfirmSubscription", **params})
        assert r.status_code == 200, r.text
        return next(el.text for el in ET.fromstring(r.text).iter() if el.tag.endswith("SubscriptionArn"))

    def unsigned_unsubscribe(arn: str) -> httpx.Response:
        return httpx.get(signed_broker.url + "/", params={"Action": "Unsubscribe", "SubscriptionArn": arn})

    guarded = confirmed("guarded@example.com", with_signature=True)
    assert "AuthenticateOnUnsubscribe" not in sns.get_subscription_attributes(SubscriptionArn=guarded)["Attributes"]
    r = unsigned_unsubscribe(guarded)
    assert r.status_code == 403, r.text
    assert _query_error(r)[0] == "AuthorizationError"
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [guarded]
    sns.unsubscribe(SubscriptionArn=guarded)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []

    # The flag counts only on a signed ConfirmSubscription (AWS: "and the request has an AWS signature").
    open_one = confirmed("open@example.com", with_signature=False)
    assert unsigned_unsubscribe(open_one).status_code == 200
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_the_openapi_document_needs_an_admin(signed_broker):
    url = signed_broker.url + "/_broker/openapi.json"
    r = httpx.get(url)
    assert r.status_code == 401, r.text
    r = httpx.get(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200, r.text
    assert "/_broker/health" in r.json()["paths"]
