"""No input produces HTTP 500: every member of every SNS operation (and the members one level inside its lists and
maps), given values of every wrong kind over the query protocol, gets an AWS error document or a success."""

from __future__ import annotations

import httpx
import pytest

from broker.services.registry import all_specs
from tests.sns.helpers import sns_client

AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0"
JUNK = ["", "x", "-1", "99999999999999999999", "true", "{", '{"a": [1]}', "\u0000", "A" * 70_000]
NESTED = [
    "Attributes.entry.1.key",
    "Attributes.entry.1.value",
    "MessageAttributes.entry.1.Name",
    "MessageAttributes.entry.1.Value.DataType",
    "MessageAttributes.entry.1.Value.StringValue",
    "MessageAttributes.entry.1.Value.BinaryValue",
    "PublishBatchRequestEntries.member.1.Id",
    "PublishBatchRequestEntries.member.1.Message",
    "PublishBatchRequestEntries.member.1.MessageStructure",
    "PublishBatchRequestEntries.member.1.MessageGroupId",
    "Tags.member.1.Key",
    "Tags.member.1.Value",
    "TagKeys.member.1",
    "AWSAccountId.member.1",
    "ActionName.member.1",
]


@pytest.mark.parametrize("value", JUNK, ids=range(len(JUNK)))
def test_query_protocol_never_500(broker, value):
    sns = sns_client(broker)
    topic = sns.create_topic(Name="fuzz")["TopicArn"]
    fifo = sns.create_topic(Name="fuzz.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    model = broker.client("sns").meta.service_model
    bad, count = [], 0
    with httpx.Client(base_url=broker.url, timeout=30, headers={"Authorization": AUTH}) as http:
        for op_name in sorted(all_specs()["sns"].handlers):
            if op_name == "DeleteTopic":
                continue
            shape = model.operation_model(op_name).input_shape
            members = list(shape.members) if shape is not None else []
            for arn in (topic, fifo):
                base = {"Action": op_name, "Version": "2010-03-31", "TopicArn": arn, "ResourceArn": arn}
                for key in members + NESTED:
                    r = http.post("/", data={**base, key: value})
                    count += 1
                    if r.status_code >= 500 or (r.status_code >= 400 and b"<ErrorResponse" not in r.content):
                        bad.append((op_name, key, r.status_code, r.text[:200]))
    assert count > 1000
    assert not bad, bad[:10]


def test_nul_and_invalid_characters_get_aws_errors(broker):
    """Values PostgreSQL's text cannot hold, in the members that are stored as they come."""
    sns = sns_client(broker)
    topic = sns.create_topic(Name="nul")["TopicArn"]
    app = sns.create_platform_application(Name="nul-app", Platform="GCM", Attributes={"PlatformCredential": "k"})[
        "PlatformApplicationArn"
    ]
    calls = [
        ("Subscribe", {"TopicArn": topic, "Protocol": "http", "Endpoint": "http://x\u0000"}),
        ("Publish", {"TopicArn": topic, "Message": "a\u0000b"}),
        ("Publish", {"TopicArn": topic, "Message": "m", "Subject": "s\u0000"}),
        ("ConfirmSubscription", {"TopicArn": topic, "Token": "\u0000"}),
        ("CreatePlatformEndpoint", {"PlatformApplicationArn": app, "Token": "t\u0000"}),
        ("CreatePlatformEndpoint", {"PlatformApplicationArn": app, "Token": "t", "CustomUserData": "\u0000"}),
        ("SetSMSAttributes", {"attributes.entry.1.key": "DefaultSenderID", "attributes.entry.1.value": "\u0000"}),
        ("CreateSMSSandboxPhoneNumber", {"PhoneNumber": "+1555\u0000"}),
        ("CheckIfPhoneNumberIsOptedOut", {"phoneNumber": "\u0000"}),
        ("TagResource", {"ResourceArn": topic, "Tags.member.1.Key": "\u0000", "Tags.member.1.Value": "v"}),
    ]
    with httpx.Client(base_url=broker.url, timeout=30, headers={"Authorization": AUTH}) as http:
        for action, params in calls:
            r = http.post("/", data={"Action": action, "Version": "2010-03-31", **params})
            assert r.status_code < 500 and (r.status_code < 400 or b"<ErrorResponse" in r.content), (
                action,
                r.status_code,
                r.text[:300],
            )
