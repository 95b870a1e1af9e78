"""SNS mobile push (platform applications, endpoints, Publish to an endpoint) and SMS (Publish to a phone number,
account settings, opted-out numbers, the SMS sandbox) through boto3, with what "was sent" read from the outbox.

AWS behaviour is the contract (SNS API Reference of each operation; Developer Guide: mobile push, SMS sandbox).
"""

from __future__ import annotations

import json
import re

import pytest

from broker.services.sns import sms
from broker.services.sns.messages import Message
from tests.sns.helpers import error_of as _error

ACCOUNT = "000000000000"
REGION = "us-east-1"
GCM_ATTRS = {"PlatformCredential": "fcm-api-key"}
APNS_ATTRS = {"PlatformPrincipal": "-----BEGIN CERTIFICATE-----x", "PlatformCredential": "-----BEGIN KEY-----y"}
APNS_TOKEN = "a1b2c3d4" * 8
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

_clients: dict[tuple, object] = {}


def _client(broker, region: str = REGION, access_key: str = "test", **config):
    key = (broker.url, region, access_key, tuple(sorted(config.items())))
    if key not in _clients:
        _clients[key] = broker.client("sns", region=region, access_key=access_key, **config)
    return _clients[key]


def _unchecked(broker):
    """A client that sends what botocore would refuse, to see the server's own checks."""
    return _client(broker, parameter_validation=False)


@pytest.fixture
def sns(broker):
    return _client(broker)


def _outbox(broker, **filters) -> list[dict]:
    return broker.admin("GET", "/_broker/sns/outbox", params=filters)["messages"]


def _opt_out(broker, *phones: str) -> None:
    """Opt numbers out as their owners replying STOP would (no SNS API does it): the broker's admin endpoint."""
    for phone in phones:
        broker.admin("POST", "/_broker/sns/sms", json={"opt_out": phone, "account": ACCOUNT, "region": REGION})


def _gcm_app(sns, name: str = "app") -> str:
    return sns.create_platform_application(Name=name, Platform="GCM", Attributes=GCM_ATTRS)["PlatformApplicationArn"]


def _apns_app(sns, name: str = "ios", platform: str = "APNS") -> str:
    return sns.create_platform_application(Name=name, Platform=platform, Attributes=APNS_ATTRS)[
        "PlatformApplicationArn"
    ]


def _endpoint(sns, app: str, token: str = "tok-1", **kw) -> str:
    return sns.create_platform_endpoint(PlatformApplicationArn=app, Token=token, **kw)["EndpointArn"]


# -- platform applications -------------------------------------------------------------------------------------------
def test_create_platform_application_returns_its_arn_and_never_shows_credentials(sns):
    arn = _gcm_app(sns, "my.app_1-x")
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:app/GCM/my.app_1-x"
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attrs == {"Enabled": "true", "AuthenticationMethod": "Key"}

    fcm_token = sns.create_platform_application(
        Name="fcm", Platform="GCM", Attributes={"PlatformCredential": json.dumps({"type": "service_account"})}
    )["PlatformApplicationArn"]
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=fcm_token)["Attributes"]
    assert attrs["AuthenticationMethod"] == "Token" and "PlatformCredential" not in attrs

    cert = _apns_app(sns, "ios-cert")
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=cert)["Attributes"]
    assert attrs == {"Enabled": "true", "AuthenticationMethod": "Certificate"}

    token_auth = sns.create_platform_application(
        Name="ios-token",
        Platform="APNS_SANDBOX",
        Attributes={
            "PlatformPrincipal": "KEYID12345",
            "PlatformCredential": "-----BEGIN PRIVATE KEY-----z",
            "ApplePlatformTeamID": "TEAM123456",
            "ApplePlatformBundleID": "com.example.app",
        },
    )["PlatformApplicationArn"]
    assert token_auth == f"arn:aws:sns:{REGION}:{ACCOUNT}:app/APNS_SANDBOX/ios-token"
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=token_auth)["Attributes"]
    assert attrs == {
        "Enabled": "true",
        "AuthenticationMethod": "Token",
        "ApplePlatformTeamID": "TEAM123456",
        "ApplePlatformBundleID": "com.example.app",
    }


def test_every_platform_is_accepted(sns):
    for platform in ("ADM", "APNS", "APNS_SANDBOX", "BAIDU", "MPNS", "WNS"):
        arn = sns.create_platform_application(Name=f"p-{platform}", Platform=platform, Attributes=APNS_ATTRS)[
            "PlatformApplicationArn"
        ]
        assert arn.endswith(f":app/{platform}/p-{platform}")
    listed = sns.list_platform_applications()["PlatformApplications"]
    assert len(listed) == 6


def test_creating_an_existing_application_returns_it(sns):
    arn = _gcm_app(sns)
    again = sns.create_platform_application(
        Name="app", Platform="GCM", Attributes={"PlatformCredential": "rotated", "SuccessFeedbackSampleRate": "50"}
    )["PlatformApplicationArn"]
    assert again == arn
    (listed,) = sns.list_platform_applications()["PlatformApplications"]
    assert listed["PlatformApplicationArn"] == arn
    assert listed["Attributes"]["SuccessFeedbackSampleRate"] == "50"
    # The same name on another platform is another application.
    assert _apns_app(sns, "app") == f"arn:aws:sns:{REGION}:{ACCOUNT}:app/APNS/app"


@pytest.mark.parametrize(
    ("name", "platform", "attrs", "message"),
    [
        ("a", "FOO", GCM_ATTRS, "Invalid parameter: Platform Reason: FOO is not supported"),
        (
            "bad name!",
            "GCM",
            GCM_ATTRS,
            "Invalid parameter: bad name! Reason: must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', "
            "and '.'",
        ),
        ("x" * 257, "GCM", GCM_ATTRS, f"Invalid parameter: {'x' * 257} Reason: must be at most 256 characters long"),
        (
            "a",
            "GCM",
            {"PlatformPrincipal": "p"},
            "Invalid parameter: Attributes Reason: PlatformCredential attribute required",
        ),
        (
            "a",
            "APNS",
            {"PlatformCredential": "c"},
            "Invalid parameter: Attributes Reason: PlatformCredential attribute provided without PlatformPrincipal",
        ),
        (
            "a",
            "ADM",
            {"PlatformPrincipal": "p"},
            "Invalid parameter: Attributes Reason: PlatformPrincipal attribute provided without PlatformCredential",
        ),
        (
            "a",
            "APNS",
            {"SuccessFeedbackSampleRate": "10"},
            "Invalid parameter: Attributes Reason: PlatformPrincipal and PlatformCredential attributes required",
        ),
        (
            "a",
            "APNS",
            {**APNS_ATTRS, "ApplePlatformTeamID": "T"},
            "Invalid parameter: Attributes Reason: ApplePlatformTeamID and ApplePlatformBundleID are both required "
            "for token-based authentication",
        ),
        (
            "a",
            "GCM",
            {**GCM_ATTRS, "Colour": "red"},
            "Invalid parameter: Attributes Reason: Invalid attribute name: Colour",
        ),
        (
            "a",
            "GCM",
            {**GCM_ATTRS, "ApplePlatformTeamID": "T"},
            "Invalid parameter: Attributes Reason: ApplePlatformTeamID is only valid for Apple platforms",
        ),
        (
            "a",
            "GCM",
            {**GCM_ATTRS, "EventEndpointCreated": "not-a-topic"},
            "Invalid parameter: Attributes Reason: EventEndpointCreated: Invalid value [not-a-topic]. Must be a "
            "topic ARN",
        ),
        (
            "a",
            "GCM",
            {**GCM_ATTRS, "SuccessFeedbackSampleRate": "101"},
            "Invalid parameter: Attributes Reason: SuccessFeedbackSampleRate: must be an integer from 0 to 100",
        ),
    ],
)
def test_create_platform_application_errors(sns, name, platform, attrs, message):
    status, code, text = _error(sns.create_platform_application, Name=name, Platform=platform, Attributes=attrs)
    assert (status, code, text) == (400, "InvalidParameter", message)


def test_create_platform_application_without_attributes(sns):
    # AWS's request validation answers first (the query protocol cannot send an empty map: it is left out).
    assert _error(sns.create_platform_application, Name="a", Platform="FOO", Attributes={}) == (
        400,
        "ValidationError",
        "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: Member must not be null",
    )
    assert sns.list_platform_applications()["PlatformApplications"] == []


def test_set_platform_application_attributes(sns):
    arn = _gcm_app(sns)
    topic = sns.create_topic(Name="events")["TopicArn"]
    sns.set_platform_application_attributes(
        PlatformApplicationArn=arn,
        Attributes={
            "EventEndpointCreated": topic,
            "EventDeliveryFailure": topic,
            "SuccessFeedbackRoleArn": "arn:aws:iam::000000000000:role/feedback",
            "SuccessFeedbackSampleRate": "25",
            "PlatformCredential": "new-key",
        },
    )
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attrs == {
        "Enabled": "true",
        "AuthenticationMethod": "Key",
        "EventEndpointCreated": topic,
        "EventDeliveryFailure": topic,
        "SuccessFeedbackRoleArn": "arn:aws:iam::000000000000:role/feedback",
        "SuccessFeedbackSampleRate": "25",
    }
    # An empty value clears an optional attribute; Enabled can be switched.
    sns.set_platform_application_attributes(
        PlatformApplicationArn=arn, Attributes={"EventDeliveryFailure": "", "Enabled": "FALSE"}
    )
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert "EventDeliveryFailure" not in attrs and attrs["Enabled"] == "false"

    assert _error(sns.set_platform_application_attributes, PlatformApplicationArn=arn, Attributes={"Foo": "1"}) == (
        400,
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Invalid attribute name: Foo",
    )
    assert _error(
        sns.set_platform_application_attributes, PlatformApplicationArn=arn, Attributes={"Enabled": "maybe"}
    ) == (
        400,
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Enabled: Invalid value [maybe]. Must be true or false.",
    )
    assert _error(
        sns.set_platform_application_attributes, PlatformApplicationArn=arn, Attributes={"PlatformCredential": ""}
    ) == (400, "InvalidParameter", "Invalid parameter: Attributes Reason: PlatformCredential must not be empty")
    missing = arn.replace("/app", "/gone")
    assert _error(
        sns.set_platform_application_attributes, PlatformApplicationArn=missing, Attributes={"Enabled": "true"}
    ) == (
        404,
        "NotFound",
        "PlatformApplication does not exist",
    )


def test_platform_application_lookups_check_the_arn(broker, sns):
    arn = _gcm_app(sns)
    assert _error(sns.get_platform_application_attributes, PlatformApplicationArn=arn + "x") == (
        404,
        "NotFound",
        "PlatformApplication does not exist",
    )
    assert _error(sns.get_platform_application_attributes, PlatformApplicationArn="nope") == (
        400,
        "InvalidParameter",
        "Invalid parameter: PlatformApplicationArn Reason: An ARN must have at least 6 elements, not 1",
    )
    assert _error(sns.get_platform_application_attributes, PlatformApplicationArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:t")[
        :2
    ] == (400, "InvalidParameter")
    # Another account does not see it; another region's client cannot name it.
    other = _client(broker, access_key="111111111111")
    assert _error(other.get_platform_application_attributes, PlatformApplicationArn=arn)[:2] == (404, "NotFound")
    assert other.list_platform_applications()["PlatformApplications"] == []
    west = _client(broker, region="us-west-2")
    assert _error(west.get_platform_application_attributes, PlatformApplicationArn=arn)[:2] == (400, "InvalidParameter")
    assert west.list_platform_applications()["PlatformApplications"] == []


def test_delete_platform_application_deletes_its_endpoints_and_is_idempotent(broker, sns):
    app = _gcm_app(sns)
    keep = _gcm_app(sns, "keep")
    e1, e2 = _endpoint(sns, app, "t1"), _endpoint(sns, app, "t2")
    kept = _endpoint(sns, keep, "t1")
    sns.delete_platform_application(PlatformApplicationArn=app)
    sns.delete_platform_application(PlatformApplicationArn=app)
    assert _error(sns.get_platform_application_attributes, PlatformApplicationArn=app)[:2] == (404, "NotFound")
    for arn in (e1, e2):
        assert _error(sns.get_endpoint_attributes, EndpointArn=arn) == (404, "NotFound", "Endpoint does not exist")
    assert sns.get_endpoint_attributes(EndpointArn=kept)["Attributes"]["Token"] == "t1"
    assert _error(sns.list_endpoints_by_platform_application, PlatformApplicationArn=app)[:2] == (404, "NotFound")
    assert [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]] == [keep]


def test_list_platform_applications_pages_by_100(sns):
    created = {_gcm_app(sns, f"app-{i:03d}") for i in range(105)}
    first = sns.list_platform_applications()
    assert len(first["PlatformApplications"]) == 100 and first["NextToken"]
    second = sns.list_platform_applications(NextToken=first["NextToken"])
    assert len(second["PlatformApplications"]) == 5 and "NextToken" not in second
    seen = [a["PlatformApplicationArn"] for a in first["PlatformApplications"] + second["PlatformApplications"]]
    assert set(seen) == created and len(seen) == 105
    assert all(a["Attributes"]["Enabled"] == "true" for a in first["PlatformApplications"])
    assert _error(sns.list_platform_applications, NextToken="garbage") == (
        400,
        "InvalidParameter",
        "Invalid parameter: NextToken",
    )


# -- endpoints -------------------------------------------------------------------------------------------------------
def test_create_platform_endpoint_and_its_attributes(sns):
    app = _gcm_app(sns)
    arn = _endpoint(sns, app, "registration-id-1", CustomUserData="user 42")
    assert re.fullmatch(rf"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/app/{UUID}", arn)
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {
        "Enabled": "true",
        "Token": "registration-id-1",
        "CustomUserData": "user 42",
    }
    disabled = _endpoint(sns, app, "registration-id-2", Attributes={"Enabled": "false"})
    assert sns.get_endpoint_attributes(EndpointArn=disabled)["Attributes"] == {
        "Enabled": "false",
        "Token": "registration-id-2",
    }


def test_create_platform_endpoint_is_idempotent_on_the_token(sns):
    app = _gcm_app(sns)
    arn = _endpoint(sns, app, "tok", CustomUserData="u1")
    assert _endpoint(sns, app, "tok", CustomUserData="u1") == arn
    assert _endpoint(sns, app, "tok", Attributes={"CustomUserData": "u1", "Enabled": "true"}) == arn
    message = (
        f"Invalid parameter: Token Reason: Endpoint {arn} already exists with the same Token, but different attributes."
    )
    assert _error(sns.create_platform_endpoint, PlatformApplicationArn=app, Token="tok") == (
        400,
        "InvalidParameter",
        message,
    )
    assert (
        _error(sns.create_platform_endpoint, PlatformApplicationArn=app, Token="tok", CustomUserData="u2")[2] == message
    )
    # Once disabled, asking for the same token with the default attributes conflicts too.
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    assert (
        _error(sns.create_platform_endpoint, PlatformApplicationArn=app, Token="tok", CustomUserData="u1")[2] == message
    )
    other = _endpoint(sns, app, "tok-2")
    assert other != arn
    # The same token in another application is another endpoint.
    assert _endpoint(sns, _gcm_app(sns, "second"), "tok", CustomUserData="u1") != arn
    assert len(sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]) == 2


def test_apple_device_tokens_are_hexadecimal_and_kept_in_lowercase(sns):
    app = _apns_app(sns)
    arn = _endpoint(sns, app, APNS_TOKEN.upper())
    assert re.fullmatch(rf"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/APNS/ios/{UUID}", arn)
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Token"] == APNS_TOKEN
    assert _endpoint(sns, app, APNS_TOKEN) == arn
    ios_message = "Invalid parameter: Token Reason: iOS device tokens must be no more than 400 hexadecimal characters"
    for bad in ("not-hex", "a" * 401):
        assert _error(sns.create_platform_endpoint, PlatformApplicationArn=app, Token=bad) == (
            400,
            "InvalidParameter",
            ios_message,
        )
    assert _error(sns.create_platform_endpoint, PlatformApplicationArn=_gcm_app(sns), Token="x" * 8193) == (
        400,
        "InvalidParameter",
        "Invalid parameter: Token Reason: must be at most 8192 bytes long in UTF-8 encoding",
    )


def test_create_platform_endpoint_errors(broker, sns):
    app = _gcm_app(sns)
    assert _error(sns.create_platform_endpoint, PlatformApplicationArn=app + "-gone", Token="t") == (
        404,
        "NotFound",
        "PlatformApplication does not exist",
    )
    assert _error(
        _client(broker, access_key="111111111111").create_platform_endpoint, PlatformApplicationArn=app, Token="t"
    )[:2] == (404, "NotFound")
    assert _error(sns.create_platform_endpoint, PlatformApplicationArn=app, Token="t", Attributes={"Colour": "x"}) == (
        400,
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Invalid attribute name: Colour",
    )
    assert _error(sns.create_platform_endpoint, PlatformApplicationArn=app, Token="t", CustomUserData="x" * 2049) == (
        400,
        "InvalidParameter",
        "Invalid parameter: CustomUserData Reason: must be at most 2048 bytes long in UTF-8 encoding",
    )
    assert _error(
        sns.create_platform_endpoint, PlatformApplicationArn=app, Token="t", Attributes={"CustomUserData": "é" * 1025}
    )[2] == (
        "Invalid parameter: Attributes Reason: Invalid value for attribute: CustomUserData: must be at most 2048 "
        "bytes long in UTF-8 encoding"
    )
    assert _error(sns.create_platform_endpoint, PlatformApplicationArn="arn:aws:sns:x", Token="t")[:2] == (
        400,
        "InvalidParameter",
    )
    assert sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"] == []


def test_set_endpoint_attributes(sns):
    app = _apns_app(sns)
    arn = _endpoint(sns, app, APNS_TOKEN, CustomUserData="old")
    new_token = "ff" * 32
    sns.set_endpoint_attributes(
        EndpointArn=arn, Attributes={"Enabled": "False", "Token": new_token.upper(), "CustomUserData": "new"}
    )
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {
        "Enabled": "false",
        "Token": new_token,
        "CustomUserData": "new",
    }
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "true"})
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Enabled"] == "true"
    # The endpoint is now found by its new token.
    assert _endpoint(sns, app, new_token, CustomUserData="new") == arn

    assert _error(sns.set_endpoint_attributes, EndpointArn=arn, Attributes={"Colour": "x"}) == (
        400,
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Invalid attribute name: Colour",
    )
    assert _error(sns.set_endpoint_attributes, EndpointArn=arn, Attributes={"Enabled": "yes"})[2] == (
        "Invalid parameter: Attributes Reason: Enabled: Invalid value [yes]. Must be true or false."
    )
    assert _error(sns.set_endpoint_attributes, EndpointArn=arn, Attributes={"Token": "zz"})[2].startswith(
        "Invalid parameter: Token Reason: iOS device tokens"
    )
    gone = arn[:-36] + "00000000-0000-4000-8000-000000000000"
    assert _error(sns.set_endpoint_attributes, EndpointArn=gone, Attributes={"Enabled": "true"}) == (
        404,
        "NotFound",
        "Endpoint does not exist",
    )
    assert _error(sns.get_endpoint_attributes, EndpointArn="arn:aws:sns:us-east-1:000000000000:topic")[:2] == (
        400,
        "InvalidParameter",
    )


def test_delete_endpoint_is_idempotent(sns):
    app = _gcm_app(sns)
    arn = _endpoint(sns, app)
    keep = _endpoint(sns, app, "tok-2")
    sns.delete_endpoint(EndpointArn=arn)
    sns.delete_endpoint(EndpointArn=arn)
    assert _error(sns.get_endpoint_attributes, EndpointArn=arn) == (404, "NotFound", "Endpoint does not exist")
    assert [
        e["EndpointArn"] for e in sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    ] == [keep]
    # Its token is free again: a new endpoint gets a new ARN.
    assert _endpoint(sns, app) not in (arn, keep)


def test_list_endpoints_by_platform_application_pages_by_100(sns):
    app = _gcm_app(sns)
    other = _gcm_app(sns, "other")
    _endpoint(sns, other, "elsewhere")
    created = {_endpoint(sns, app, f"token-{i}", CustomUserData=str(i)) for i in range(103)}
    first = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)
    assert len(first["Endpoints"]) == 100 and first["NextToken"]
    second = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app, NextToken=first["NextToken"])
    assert len(second["Endpoints"]) == 3 and "NextToken" not in second
    endpoints = first["Endpoints"] + second["Endpoints"]
    assert {e["EndpointArn"] for e in endpoints} == created
    for e in endpoints:
        i = e["Attributes"]["CustomUserData"]
        assert e["Attributes"] == {"Enabled": "true", "Token": f"token-{i}", "CustomUserData": i}
    assert _error(sns.list_endpoints_by_platform_application, PlatformApplicationArn=app + "x") == (
        404,
        "NotFound",
        "PlatformApplication does not exist",
    )


# -- publishing to endpoints -------------------------------------------------------------------------------------------
def test_publish_to_an_endpoint_records_the_push(broker, sns):
    arn = _endpoint(sns, _gcm_app(sns))
    r = sns.publish(
        TargetArn=arn,
        Message="hello",
        MessageAttributes={
            "AWS.SNS.MOBILE.FCM.TTL": {"DataType": "String", "StringValue": "60"},
            "colour": {"DataType": "String", "StringValue": "red"},
        },
    )
    (sent,) = _outbox(broker, protocol="application")
    assert (sent["endpoint"], sent["topic_arn"], sent["subscription_arn"]) == (arn, None, None)
    assert (sent["account"], sent["region"]) == (ACCOUNT, REGION)
    assert sent["message"] == {
        "TargetArn": arn,
        "MessageId": r["MessageId"],
        "Platform": "GCM",
        "Message": "hello",
        "Payload": {"data": {"default": "hello"}},
        # Only the attributes that shape a push; the others are not delivered to devices.
        "MessageAttributes": {"AWS.SNS.MOBILE.FCM.TTL": "60"},
    }
    assert re.fullmatch(UUID, r["MessageId"])


def test_publish_with_message_structure_json_picks_the_platform_key(broker, sns):
    apns = _endpoint(sns, _apns_app(sns), APNS_TOKEN)
    sandbox = _endpoint(sns, _apns_app(sns, "ios-dev", "APNS_SANDBOX"), APNS_TOKEN)
    gcm = _endpoint(sns, _gcm_app(sns))
    message = json.dumps(
        {
            "default": "fallback",
            "APNS": json.dumps({"aps": {"alert": "for apple", "badge": 3}}),
            "GCM": json.dumps({"fcmV1Message": {"message": {"notification": {"title": "t", "body": "for fcm"}}}}),
        }
    )
    for target in (apns, sandbox, gcm):
        sns.publish(TargetArn=target, Message=message, MessageStructure="json")
    by_endpoint = {m["endpoint"]: m["message"] for m in _outbox(broker, protocol="application")}
    assert by_endpoint[apns]["Payload"] == {"aps": {"alert": "for apple", "badge": 3}}
    assert by_endpoint[apns]["Platform"] == "APNS"
    # No APNS_SANDBOX key: the default message, wrapped the way APNs expects it.
    assert by_endpoint[sandbox]["Message"] == "fallback"
    assert by_endpoint[sandbox]["Payload"] == {"aps": {"alert": "fallback"}}
    assert by_endpoint[gcm]["Payload"] == {
        "fcmV1Message": {"message": {"notification": {"title": "t", "body": "for fcm"}}}
    }
    malformed = json.dumps({"default": "d", "APNS": "not json"})
    assert _error(sns.publish, TargetArn=apns, Message=malformed, MessageStructure="json") == (
        400,
        "InvalidParameter",
        "Invalid parameter: Message Reason: Invalid notification for protocol APNS: Notification is malformed",
    )
    assert _error(sns.publish, TargetArn=apns, Message="x" * 5000) == (
        400,
        "InvalidParameter",
        "Invalid parameter: Message Reason: Invalid notification for protocol APNS: Notification is too long",
    )
    assert _error(sns.publish, TargetArn=gcm, Message="x" * 5000)[2] == (
        "Invalid parameter: Message Reason: Invalid notification for protocol GCM: Notification data is larger than "
        "allowed limit"
    )
    assert len(_outbox(broker, protocol="application")) == 3


def test_publish_to_an_unusable_endpoint_fails(broker, sns):
    app = _gcm_app(sns)
    arn = _endpoint(sns, app)
    gone = arn[:-36] + "00000000-0000-4000-8000-000000000000"
    assert _error(sns.publish, TargetArn=gone, Message="hi") == (
        400,
        "InvalidParameter",
        "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified",
    )
    # An endpoint of a deleted application is gone with it.
    other_app = _gcm_app(sns, "other")
    orphan = _endpoint(sns, other_app)
    sns.delete_platform_application(PlatformApplicationArn=other_app)
    assert _error(sns.publish, TargetArn=orphan, Message="hi")[2] == (
        "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"
    )
    assert _error(sns.publish, TargetArn="endpoint", Message="hi") == (
        400,
        "InvalidParameter",
        "Invalid parameter: TargetArn Reason: An ARN must have at least 6 elements, not 1",
    )
    assert _error(_client(broker, access_key="111111111111").publish, TargetArn=arn, Message="hi")[:2] == (
        400,
        "InvalidParameter",
    )
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    assert _error(sns.publish, TargetArn=arn, Message="hi") == (400, "EndpointDisabled", "Endpoint is disabled")
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "true"})
    sns.set_platform_application_attributes(PlatformApplicationArn=app, Attributes={"Enabled": "false"})
    assert _error(sns.publish, TargetArn=arn, Message="hi") == (
        400,
        "PlatformApplicationDisabled",
        "Platform application is disabled",
    )
    assert _outbox(broker, protocol="application") == []
    sns.set_platform_application_attributes(PlatformApplicationArn=app, Attributes={"Enabled": "true"})
    sns.publish(TargetArn=arn, Message="hi")
    assert [m["message"]["Message"] for m in _outbox(broker, protocol="application")] == ["hi"]


def test_topic_fan_out_to_an_application_subscription_uses_the_push_payload(broker, sns):
    arn = _endpoint(sns, _apns_app(sns), APNS_TOKEN)
    topic = sns.create_topic(Name="news")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=arn)["SubscriptionArn"]
    r = sns.publish(TopicArn=topic, Message="breaking")
    (sent,) = _outbox(broker, protocol="application")
    assert (sent["endpoint"], sent["topic_arn"], sent["subscription_arn"]) == (arn, topic, sub)
    assert sent["message"] == {
        "TargetArn": arn,
        "MessageId": r["MessageId"],
        "Platform": "APNS",
        "Message": "breaking",
        "Payload": {"aps": {"alert": "breaking"}},
    }


# -- SMS: publishing -------------------------------------------------------------------------------------------------
def test_publish_to_a_phone_number_records_the_sms(broker, sns):
    r = sns.publish(PhoneNumber="+15555550100", Message="your code is 1234", Subject="ignored")
    (sent,) = _outbox(broker, protocol="sms")
    assert (sent["endpoint"], sent["topic_arn"], sent["subscription_arn"]) == ("+15555550100", None, None)
    assert sent["message"] == {
        "PhoneNumber": "+15555550100",
        "Message": "your code is 1234",
        "MessageId": r["MessageId"],
        "SMSType": "Promotional",
    }
    # The account's defaults apply to later messages.
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional", "DefaultSenderID": "MyBrand"})
    r2 = sns.publish(
        PhoneNumber="+447700900123", Message=json.dumps({"default": "d", "sms": "short"}), MessageStructure="json"
    )
    (sent,) = _outbox(broker, protocol="sms", endpoint="+447700900123")
    assert sent["message"] == {
        "PhoneNumber": "+447700900123",
        "Message": "short",
        "MessageId": r2["MessageId"],
        "SMSType": "Transactional",
        "SenderID": "MyBrand",
    }


@pytest.mark.parametrize("phone", ["12ab", "+0123456", "+1234567890123456", "+"])
def test_publish_to_an_invalid_phone_number_fails(broker, sns, phone):
    assert _error(sns.publish, PhoneNumber=phone, Message="hi") == (
        400,
        "InvalidParameter",
        f"Invalid parameter: PhoneNumber Reason: {phone} is not valid to publish to",
    )
    assert _outbox(broker, protocol="sms") == []


def test_sms_payload_takes_the_message_attributes_over_the_account_defaults():
    attrs = {
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Shop"},
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.MaxPrice": {"DataType": "Number", "StringValue": "0.50"},
        "AWS.MM.SMS.OriginationNumber": {"DataType": "String", "StringValue": "+18005550100"},
        "AWS.MM.SMS.EntityId": {"DataType": "String", "StringValue": "entity"},
        "AWS.MM.SMS.TemplateId": {"DataType": "String", "StringValue": "template"},
        "other": {"DataType": "String", "StringValue": "not sent"},
    }
    msg = Message(
        message_id="m-1", topic_arn="", message="hi", subject=None, attributes=attrs, published_at=0, per_protocol=None
    )
    defaults = {"DefaultSMSType": "Promotional", "DefaultSenderID": "Default", "MonthlySpendLimit": "5"}
    assert sms.sms_payload("+15555550100", msg, defaults) == {
        "PhoneNumber": "+15555550100",
        "Message": "hi",
        "MessageId": "m-1",
        "SMSType": "Transactional",
        "SenderID": "Shop",
        "MaxPrice": "0.50",
        "OriginationNumber": "+18005550100",
        "EntityId": "entity",
        "TemplateId": "template",
    }


def test_publish_sms_with_sms_message_attributes(broker, sns):
    sns.set_sms_attributes(attributes={"DefaultSenderID": "Default"})
    r = sns.publish(
        PhoneNumber="+15555550100",
        Message="hi",
        MessageAttributes={
            "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Shop"},
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            "AWS.SNS.SMS.MaxPrice": {"DataType": "Number", "StringValue": "0.50"},
            "AWS.MM.SMS.OriginationNumber": {"DataType": "String", "StringValue": "+18005550100"},
        },
    )
    (sent,) = _outbox(broker, protocol="sms")
    assert sent["message"] == {
        "PhoneNumber": "+15555550100",
        "Message": "hi",
        "MessageId": r["MessageId"],
        "SMSType": "Transactional",
        "SenderID": "Shop",
        "MaxPrice": "0.50",
        "OriginationNumber": "+18005550100",
    }


# -- SMS: account settings -------------------------------------------------------------------------------------------
def test_sms_attributes(broker, sns):
    assert sns.get_sms_attributes()["attributes"] == {"MonthlySpendLimit": "1"}
    settings = {
        "MonthlySpendLimit": "25",
        "DeliveryStatusIAMRole": "arn:aws:iam::000000000000:role/sms-logs",
        "DeliveryStatusSuccessSamplingRate": "10",
        "DefaultSenderID": "MyBrand1",
        "DefaultSMSType": "Transactional",
        "UsageReportS3Bucket": "sms-usage.reports",
    }
    sns.set_sms_attributes(attributes=settings)
    assert sns.get_sms_attributes()["attributes"] == settings
    assert sns.get_sms_attributes(attributes=["DefaultSMSType", "Unknown"])["attributes"] == {
        "DefaultSMSType": "Transactional"
    }
    sns.set_sms_attributes(attributes={"DefaultSenderID": ""})
    assert "DefaultSenderID" not in sns.get_sms_attributes()["attributes"]
    # Settings are per account and region.
    assert _client(broker, region="eu-west-1").get_sms_attributes()["attributes"] == {"MonthlySpendLimit": "1"}


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("MonthlySpendLimit", "lots", "must be a whole number of USD"),
        ("DeliveryStatusSuccessSamplingRate", "101", "must be an integer from 0 to 100"),
        ("DefaultSenderID", "12345", "must be 1-11 alphanumeric characters and contain at least one letter"),
        ("DefaultSenderID", "WayTooLongSender", "must be 1-11 alphanumeric characters and contain at least one letter"),
        ("DeliveryStatusIAMRole", "role", "must be an IAM role ARN"),
        ("UsageReportS3Bucket", "Bad_Bucket", "must be an S3 bucket name"),
    ],
)
def test_set_sms_attributes_errors(sns, name, value, reason):
    assert _error(sns.set_sms_attributes, attributes={name: value}) == (
        400,
        "InvalidParameter",
        f"Invalid parameter: {name} Reason: {reason}",
    )
    assert sns.get_sms_attributes()["attributes"] == {"MonthlySpendLimit": "1"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("DefaultSMSType", "Spam", "DefaultSMSType is invalid"), ("Colour", "red", "Colour is not a valid attribute")],
)
def test_set_sms_attributes_errors_aws_words_without_a_prefix(sns, name, value, message):
    assert _error(sns.set_sms_attributes, attributes={name: value}) == (400, "InvalidParameter", message)
    assert sns.get_sms_attributes()["attributes"] == {"MonthlySpendLimit": "1"}


# -- SMS: opted-out numbers ------------------------------------------------------------------------------------------
def test_opted_out_numbers(broker, sns):
    _opt_out(broker, "+15555550111")
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15555550111")["isOptedOut"] is True
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15555550112")["isOptedOut"] is False
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == ["+15555550111"]
    # AWS accepts the publish and fails the delivery ("Phone number is opted out"): nothing is sent.
    r = sns.publish(PhoneNumber="+15555550111", Message="hi")
    assert re.fullmatch(UUID, r["MessageId"])
    assert _outbox(broker, protocol="sms") == []

    sns.opt_in_phone_number(phoneNumber="+15555550111")
    sns.opt_in_phone_number(phoneNumber="+15555550111")  # a number that is not opted out: nothing to do
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15555550111")["isOptedOut"] is False
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == []
    sns.publish(PhoneNumber="+15555550111", Message="back")
    assert [m["message"]["Message"] for m in _outbox(broker, protocol="sms")] == ["back"]

    for call in (sns.check_if_phone_number_is_opted_out, sns.opt_in_phone_number):
        assert _error(call, phoneNumber="phone") == (
            400,
            "InvalidParameter",
            "Invalid parameter: PhoneNumber Reason: input incorrectly formatted",
        )


def test_list_phone_numbers_opted_out_pages_by_100(broker, sns):
    phones = [f"+1555555{i:04d}" for i in range(150)]
    _opt_out(broker, *phones)
    first = sns.list_phone_numbers_opted_out()
    assert len(first["phoneNumbers"]) == 100 and first["nextToken"]
    second = sns.list_phone_numbers_opted_out(nextToken=first["nextToken"])
    assert len(second["phoneNumbers"]) == 50 and "nextToken" not in second
    assert first["phoneNumbers"] + second["phoneNumbers"] == sorted(phones)
    assert _error(sns.list_phone_numbers_opted_out, nextToken="garbage")[:2] == (400, "InvalidParameter")


# -- SMS sandbox -----------------------------------------------------------------------------------------------------
def _otp(broker, phone: str) -> str:
    return _outbox(broker, protocol="sms", endpoint=phone)[-1]["message"]["OneTimePassword"]


def test_sandbox_verification_end_to_end(broker, sns):
    assert sns.get_sms_sandbox_account_status()["IsInSandbox"] is False
    phone = "+15555550123"
    sns.create_sms_sandbox_phone_number(PhoneNumber=phone, LanguageCode="de-DE")
    (sent,) = _outbox(broker, protocol="sms", endpoint=phone)
    otp = sent["message"]["OneTimePassword"]
    assert re.fullmatch(r"\d{6}", otp)
    assert otp in sent["message"]["Message"]
    assert (sent["message"]["PhoneNumber"], sent["message"]["LanguageCode"]) == (phone, "de-DE")
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [{"PhoneNumber": phone, "Status": "Pending"}]

    wrong = "000000" if otp != "000000" else "111111"
    assert _error(sns.verify_sms_sandbox_phone_number, PhoneNumber=phone, OneTimePassword=wrong) == (
        400,
        "VerificationException",
        "Invalid one-time password",
    )
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"][0]["Status"] == "Pending"
    sns.verify_sms_sandbox_phone_number(PhoneNumber=phone, OneTimePassword=otp)
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [{"PhoneNumber": phone, "Status": "Verified"}]
    sns.verify_sms_sandbox_phone_number(PhoneNumber=phone, OneTimePassword=otp)  # verified already: fine
    assert _error(sns.create_sms_sandbox_phone_number, PhoneNumber=phone) == (
        400,
        "UserError",
        f"Phone number {phone} is already verified",
    )


def test_sandbox_errors(broker, sns):
    assert _error(sns.verify_sms_sandbox_phone_number, PhoneNumber="+15555550199", OneTimePassword="123456")[:2] == (
        404,
        "ResourceNotFound",
    )
    assert _error(sns.delete_sms_sandbox_phone_number, PhoneNumber="+15555550199")[:2] == (404, "ResourceNotFound")
    assert _error(sns.create_sms_sandbox_phone_number, PhoneNumber="5555") == (
        400,
        "InvalidParameter",
        "Invalid parameter: PhoneNumber Reason: input incorrectly formatted",
    )
    assert _error(sns.create_sms_sandbox_phone_number, PhoneNumber="phone")[:2] == (400, "InvalidParameter")
    assert _error(_unchecked(broker).verify_sms_sandbox_phone_number, PhoneNumber="+15555550199", OneTimePassword="12")[
        :2
    ] == (
        400,
        "InvalidParameter",
    )
    _opt_out(broker, "+15555550177")
    assert _error(sns.create_sms_sandbox_phone_number, PhoneNumber="+15555550177")[:2] == (400, "OptedOut")
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == []
    assert _outbox(broker, protocol="sms") == []


def test_sandbox_numbers_can_be_deleted_24_hours_after_the_last_verification(broker, sns):
    phone = "+15555550123"
    sns.create_sms_sandbox_phone_number(PhoneNumber=phone)
    status, code, _ = _error(sns.delete_sms_sandbox_phone_number, PhoneNumber=phone)
    assert (status, code) == (400, "UserError")
    broker.advance(23 * 3600)
    sns.verify_sms_sandbox_phone_number(PhoneNumber=phone, OneTimePassword=_otp(broker, phone))
    broker.advance(23 * 3600)
    assert _error(sns.delete_sms_sandbox_phone_number, PhoneNumber=phone)[:2] == (400, "UserError")
    broker.advance(3600 + 1)
    sns.delete_sms_sandbox_phone_number(PhoneNumber=phone)
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == []


def test_sandbox_limits(broker, sns):
    phones = [f"+1555555{i:04d}" for i in range(10)]
    for phone in phones:
        sns.create_sms_sandbox_phone_number(PhoneNumber=phone)
    assert _error(sns.create_sms_sandbox_phone_number, PhoneNumber="+15555559999") == (
        400,
        "UserError",
        "You can have at most 10 destination phone numbers in the SMS sandbox",
    )
    # The OTP can be sent again, up to five times every 24 hours; the latest one is the one that counts.
    for _ in range(4):
        sns.create_sms_sandbox_phone_number(PhoneNumber=phones[0])
    assert len(_outbox(broker, protocol="sms", endpoint=phones[0])) == 5
    assert _error(sns.create_sms_sandbox_phone_number, PhoneNumber=phones[0])[:2] == (400, "UserError")
    broker.advance(86_400 + 1)
    sns.create_sms_sandbox_phone_number(PhoneNumber=phones[0])
    sns.verify_sms_sandbox_phone_number(PhoneNumber=phones[0], OneTimePassword=_otp(broker, phones[0]))
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"][0] == {"PhoneNumber": phones[0], "Status": "Verified"}


def test_list_sms_sandbox_phone_numbers_pages(broker, sns):
    phones = [f"+4477009001{i:02d}" for i in range(7)]
    for phone in phones:
        sns.create_sms_sandbox_phone_number(PhoneNumber=phone)
    seen, token, sizes = [], None, []
    while True:
        page = sns.list_sms_sandbox_phone_numbers(MaxResults=3, **({"NextToken": token} if token else {}))
        sizes.append(len(page["PhoneNumbers"]))
        seen += [p["PhoneNumber"] for p in page["PhoneNumbers"]]
        token = page.get("NextToken")
        if not token:
            break
    assert (sizes, seen) == ([3, 3, 1], phones)
    for bad in (0, 101):
        assert _error(_unchecked(broker).list_sms_sandbox_phone_numbers, MaxResults=bad)[:2] == (
            400,
            "InvalidParameter",
        )


def test_an_account_in_the_sandbox_sends_only_to_verified_numbers(broker, sns):
    broker.admin("POST", "/_broker/sns/sms", json={"in_sandbox": True, "account": ACCOUNT, "region": REGION})
    assert sns.get_sms_sandbox_account_status()["IsInSandbox"] is True
    phone = "+15555550144"
    sns.publish(PhoneNumber=phone, Message="not yet")
    assert _outbox(broker, protocol="sms") == []
    sns.create_sms_sandbox_phone_number(PhoneNumber=phone)
    sns.publish(PhoneNumber=phone, Message="still pending")
    assert [m["message"]["Message"] for m in _outbox(broker, protocol="sms")] == [
        f"Your verification code is {_otp(broker, phone)}"
    ]
    sns.verify_sms_sandbox_phone_number(PhoneNumber=phone, OneTimePassword=_otp(broker, phone))
    sns.publish(PhoneNumber=phone, Message="verified")
    assert _outbox(broker, protocol="sms")[-1]["message"]["Message"] == "verified"
    # Other accounts are not in the sandbox.
    assert _client(broker, access_key="111111111111").get_sms_sandbox_account_status()["IsInSandbox"] is False


def test_list_origination_numbers_is_empty(broker, sns):
    assert sns.list_origination_numbers()["PhoneNumbers"] == []
    assert sns.list_origination_numbers(MaxResults=30)["PhoneNumbers"] == []
    for bad in (0, 31):
        assert _error(_unchecked(broker).list_origination_numbers, MaxResults=bad)[:2] == (400, "InvalidParameter")
    assert _error(sns.list_origination_numbers, NextToken="abc") == (
        400,
        "InvalidParameter",
        "Invalid parameter: NextToken",
    )
