"""AssumeRole, GetSessionToken and GetAccessKeyInfo on a broker in sigv4 mode (two workers): credentials that work
with boto3 in every worker, trust policies deciding who may assume a role (across accounts too), session limits,
expiry by the test clock, tampered tokens, and tokens of another broker refused while those of this one outlive a
restart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.auth.helpers import ADMIN_ACCOUNT, ADMIN_KEY, OTHER_ACCOUNT, OTHER_KEY, OTHER_SECRET, sigv4_server_kw
from tests.conftest import serve
from tests.server import BrokerServer
from tests.sts.helpers import error_of, trust, with_credentials

# SQLite only in make test: make soak runs the module on PostgreSQL too.

ROOT = f"arn:aws:iam::{ADMIN_ACCOUNT}:root"
ADMIN_USER = f"arn:aws:iam::{ADMIN_ACCOUNT}:user/broker"
DENIED = "User: {who} is not authorized to perform: {action} on resource: {role}"


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "sts-sigv4", workers=2, **sigv4_server_kw())


@pytest.fixture
def broker(server: BrokerServer) -> BrokerServer:
    server.reset()
    return server


def other_client(broker: BrokerServer, service: str):
    return broker.client(service, access_key=OTHER_KEY, secret=OTHER_SECRET)


def broker_now(broker: BrokerServer) -> datetime:
    return datetime.fromtimestamp(int(broker.admin("GET", "/_broker/clock")["now_ms"]) / 1000, UTC)


def test_assumed_role_credentials_work_in_every_worker(broker):
    iam, sts = broker.client("iam"), broker.client("sts")
    role = iam.create_role(RoleName="app", Path="/team/", AssumeRolePolicyDocument=trust({"AWS": ROOT}))["Role"]
    before = broker_now(broker)
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="alice@example.com")
    creds, user = out["Credentials"], out["AssumedRoleUser"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", creds["AccessKeyId"]) and len(creds["SecretAccessKey"]) == 40
    assert abs((creds["Expiration"] - before).total_seconds() - 3600) < 30
    assert user == {
        "Arn": f"arn:aws:sts::{ADMIN_ACCOUNT}:assumed-role/app/alice@example.com",  # without the role's path
        "AssumedRoleId": f"{role['RoleId']}:alice@example.com",
    }
    assert "PackedPolicySize" not in out and "SourceIdentity" not in out
    as_role = with_credentials(broker, "sts", creds)
    for _ in range(6):  # two workers: each verifies the token with the same server key
        me = as_role.get_caller_identity()
        assert (me["Account"], me["Arn"], me["UserId"]) == (ADMIN_ACCOUNT, user["Arn"], user["AssumedRoleId"])
    # Other services take them too, in the role's account.
    sqs = with_credentials(broker, "sqs", creds)
    url = sqs.create_queue(QueueName="role-queue")["QueueUrl"]
    assert f"/{ADMIN_ACCOUNT}/role-queue" in url
    sqs.send_message(QueueUrl=url, MessageBody="from the role")
    assert broker.client("sqs").receive_message(QueueUrl=url)["Messages"][0]["Body"] == "from the role"
    # GetAccessKeyInfo: the account of temporary, configured and unknown keys.
    assert sts.get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == ADMIN_ACCOUNT
    assert sts.get_access_key_info(AccessKeyId=OTHER_KEY)["Account"] == OTHER_ACCOUNT
    assert as_role.get_access_key_info(AccessKeyId=ADMIN_KEY)["Account"] == ADMIN_ACCOUNT


def test_trust_policy_decides_who_may_assume(broker):
    iam, sts = broker.client("iam"), broker.client("sts")
    service_only = iam.create_role(
        RoleName="fn-role", AssumeRolePolicyDocument=trust({"Service": "lambda.amazonaws.com"})
    )["Role"]["Arn"]
    err = error_of(sts.assume_role, 403, RoleArn=service_only, RoleSessionName="s1")
    assert err == {
        "Code": "AccessDenied",
        "Message": DENIED.format(who=ADMIN_USER, action="sts:AssumeRole", role=service_only),
        "Type": "Sender",
    }
    # A role that does not exist answers the same (AWS does not reveal which).
    missing = f"arn:aws:iam::{ADMIN_ACCOUNT}:role/nope"
    err = error_of(sts.assume_role, 403, RoleArn=missing, RoleSessionName="s1")
    assert err["Message"] == DENIED.format(who=ADMIN_USER, action="sts:AssumeRole", role=missing)
    # Across accounts: a role of the other account trusting this account.
    shared = other_client(broker, "iam").create_role(
        RoleName="shared", AssumeRolePolicyDocument=trust({"AWS": ADMIN_ACCOUNT})
    )["Role"]
    creds = sts.assume_role(RoleArn=shared["Arn"], RoleSessionName="visit")["Credentials"]
    me = with_credentials(broker, "sts", creds).get_caller_identity()
    assert me["Account"] == OTHER_ACCOUNT and me["Arn"] == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/shared/visit"
    # ... which the other account's own user may not assume, not being trusted.
    err = error_of(other_client(broker, "sts").assume_role, 403, RoleArn=shared["Arn"], RoleSessionName="s2")
    who = f"arn:aws:iam::{OTHER_ACCOUNT}:user/other-admin"
    assert err["Message"] == DENIED.format(who=who, action="sts:AssumeRole", role=shared["Arn"])


def test_external_id_tags_and_source_identity_conditions(broker):
    iam, sts = broker.client("iam"), broker.client("sts")
    vendor = iam.create_role(
        RoleName="vendor",
        AssumeRolePolicyDocument=trust({"AWS": ROOT}, condition={"StringEquals": {"sts:ExternalId": "ex-123"}}),
    )["Role"]["Arn"]
    assert error_of(sts.assume_role, 403, RoleArn=vendor, RoleSessionName="s0")["Code"] == "AccessDenied"
    error_of(sts.assume_role, 403, RoleArn=vendor, RoleSessionName="s0", ExternalId="ex-999")
    assert sts.assume_role(RoleArn=vendor, RoleSessionName="s0", ExternalId="ex-123")["Credentials"]
    # Session tags need sts:TagSession in the trust policy, a source identity sts:SetSourceIdentity.
    tags = [{"Key": "team", "Value": "blue"}]
    err = error_of(sts.assume_role, 403, RoleArn=vendor, RoleSessionName="s0", ExternalId="ex-123", Tags=tags)
    assert err["Message"] == DENIED.format(who=ADMIN_USER, action="sts:TagSession", role=vendor)
    tagged = iam.create_role(
        RoleName="tagged",
        AssumeRolePolicyDocument=trust(
            {"AWS": ROOT},
            actions=["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            condition={"StringEquals": {"aws:RequestTag/team": "blue"}},
        ),
    )["Role"]["Arn"]
    out = sts.assume_role(
        RoleArn=tagged, RoleSessionName="s0", Tags=tags, TransitiveTagKeys=["team"], SourceIdentity="alice"
    )
    assert out["SourceIdentity"] == "alice" and 0 < out["PackedPolicySize"] <= 100
    other_tags = [{"Key": "team", "Value": "red"}]
    error_of(sts.assume_role, 403, RoleArn=tagged, RoleSessionName="s0", Tags=other_tags)


def test_session_durations_and_role_chaining(broker):
    iam, sts = broker.client("iam"), broker.client("sts")
    short = iam.create_role(RoleName="short", AssumeRolePolicyDocument=trust({"AWS": ROOT}))["Role"]["Arn"]
    err = error_of(sts.assume_role, 400, RoleArn=short, RoleSessionName="s0", DurationSeconds=3601)
    assert err == {
        "Code": "ValidationError",
        "Message": "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        "Type": "Sender",
    }
    long = iam.create_role(RoleName="long", MaxSessionDuration=43200, AssumeRolePolicyDocument=trust({"AWS": ROOT}))[
        "Role"
    ]["Arn"]
    out = sts.assume_role(RoleArn=long, RoleSessionName="s0", DurationSeconds=43200)
    start = broker_now(broker)
    assert abs((out["Credentials"]["Expiration"] - start).total_seconds() - 43200) < 30
    # Role chaining: a role session assuming a role gets one hour at most.
    chained = iam.create_role(
        RoleName="chained", MaxSessionDuration=43200, AssumeRolePolicyDocument=trust({"AWS": long})
    )["Role"]
    as_long = with_credentials(broker, "sts", out["Credentials"])
    err = error_of(as_long.assume_role, 400, RoleArn=chained["Arn"], RoleSessionName="hop", DurationSeconds=3601)
    assert err["Message"] == (
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    )
    hop = as_long.assume_role(RoleArn=chained["Arn"], RoleSessionName="hop", DurationSeconds=3600)
    me = with_credentials(broker, "sts", hop["Credentials"]).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{ADMIN_ACCOUNT}:assumed-role/chained/hop"
    assert me["UserId"] == f"{chained['RoleId']}:hop"


def test_get_session_token(broker):
    sts = broker.client("sts")
    own = sts.get_caller_identity()
    before = broker_now(broker)
    creds = sts.get_session_token()["Credentials"]
    assert abs((creds["Expiration"] - before).total_seconds() - 43200) < 30
    assert creds["AccessKeyId"].startswith("ASIA")
    me = with_credentials(broker, "sts", creds).get_caller_identity()
    assert me == {**me, "Account": own["Account"], "Arn": own["Arn"], "UserId": own["UserId"]}
    assert own["Arn"] == ADMIN_USER
    short = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert abs((short["Expiration"] - before).total_seconds() - 900) < 30
    # Role sessions cannot.
    role = broker.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=trust({"AWS": ROOT}))["Role"]
    session = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0")["Credentials"]
    err = error_of(with_credentials(broker, "sts", session).get_session_token, 403)
    assert err == {
        "Code": "AccessDenied",
        "Message": "Cannot call GetSessionToken with session credentials",
        "Type": "Sender",
    }


def test_expired_and_tampered_credentials_are_refused(broker):
    iam, sts = broker.client("iam"), broker.client("sts")
    role = iam.create_role(RoleName="brief", AssumeRolePolicyDocument=trust({"AWS": ROOT}))["Role"]["Arn"]
    creds = sts.assume_role(RoleArn=role, RoleSessionName="s0", DurationSeconds=900)["Credentials"]
    as_role = with_credentials(broker, "sts", creds)
    # Expiry is measured with the broker's clock (the test clock), as Expiration is given.
    broker.advance(890)
    assert as_role.get_caller_identity()["Arn"].endswith(":assumed-role/brief/s0")
    broker.advance(20)
    expired = error_of(as_role.get_caller_identity, 403)
    assert expired["Code"] in ("ExpiredToken", "InvalidClientTokenId"), expired
    fresh = sts.assume_role(RoleArn=role, RoleSessionName="s0")["Credentials"]
    token = fresh["SessionToken"]
    # A token changed anywhere, a token of another key, a wrong secret: all refused.
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    other = sts.assume_role(RoleArn=role, RoleSessionName="t0")["Credentials"]
    for forged in (
        {**fresh, "SessionToken": flipped},
        {**fresh, "SessionToken": other["SessionToken"]},
        {**fresh, "SessionToken": "bm90IGEgdG9rZW4="},
    ):
        err = error_of(with_credentials(broker, "sts", forged).get_caller_identity, 403)
        assert err["Code"] == "InvalidClientTokenId", err
    wrong_secret = {**fresh, "SecretAccessKey": other["SecretAccessKey"]}
    assert error_of(with_credentials(broker, "sqs", wrong_secret).list_queues, 403)["Code"] in (
        "SignatureDoesNotMatch",
        "AWS.SimpleQueueService.SignatureDoesNotMatch",
    )
    assert with_credentials(broker, "sts", fresh).get_caller_identity()["Account"] == ADMIN_ACCOUNT


def test_tokens_of_another_broker_are_refused_and_own_ones_outlive_a_restart(broker, server_factory):
    other = server_factory(**sigv4_server_kw()).start()
    role = other.client("iam").create_role(RoleName="elsewhere", AssumeRolePolicyDocument=trust({"AWS": ROOT}))
    creds = other.client("sts").assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="s0")["Credentials"]
    assert with_credentials(other, "sts", creds).get_caller_identity()["Account"] == ADMIN_ACCOUNT
    # Same accounts, same role name, another database: another server key.
    err = error_of(with_credentials(broker, "sts", creds).get_caller_identity, 403)
    assert err["Code"] == "InvalidClientTokenId"
    # The key is stored: after a kill -9 the broker's earlier tokens still verify.
    other.restart()
    assert with_credentials(other, "sts", creds).get_caller_identity()["Arn"].endswith("assumed-role/elsewhere/s0")


def test_get_session_token_refuses_its_own_credentials(broker):
    # AWS refuses any temporary credentials, not only a role session's: GetSessionToken's cannot be renewed by
    # themselves (their identity is the long-term key's user, so only the key tells them apart).
    creds = broker.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    as_session = with_credentials(broker, "sts", creds)
    assert as_session.get_caller_identity()["Arn"] == ADMIN_USER
    assert error_of(as_session.get_session_token, 403) == {
        "Code": "AccessDenied",
        "Message": "Cannot call GetSessionToken with session credentials",
        "Type": "Sender",
    }
