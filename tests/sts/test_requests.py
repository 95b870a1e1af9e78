"""STS requests on a broker in auth none mode: AWS's validation of AssumeRole and GetSessionToken (every violation
at once, lowerCamelCase member paths), its refusals (ARNs, tags, policies, missing roles), the answers' shapes, and
temporary credentials acting in their own account and as their session although auth none checks no signature."""

from __future__ import annotations

import json
import re
import secrets

import httpx
import pytest

from tests.awscli import aws_json
from tests.sts.helpers import ACCOUNT, ROLE, error_of, with_credentials

NO_CHECKS = {"parameter_validation": False}


@pytest.fixture
def sts(broker):
    return broker.client("sts", access_key=ACCOUNT, **NO_CHECKS)


def validation(message: str) -> dict[str, str]:
    return {"Code": "ValidationError", "Message": message, "Type": "Sender"}


def test_assume_role_validation_as_aws_words_it(sts):
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="a b", DurationSeconds=899)
    assert err == validation(
        "2 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [\\w+=,.@-]*; Value '899' at 'durationSeconds' failed to satisfy "
        "constraint: Member must have value greater than or equal to 900"
    )
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="s" * 65)
    assert err == validation(
        f"1 validation error detected: Value '{'s' * 65}' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64"
    )
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="ok", DurationSeconds=43201)
    assert err["Message"].endswith("at 'durationSeconds' failed to satisfy constraint: Member must have value less "
                                   "than or equal to 43200")  # fmt: skip
    err = error_of(sts.assume_role, 400, RoleArn="short", RoleSessionName="ok")
    assert err["Message"] == (
        "1 validation error detected: Value 'short' at 'roleArn' failed to satisfy constraint: Member must have "
        "length greater than or equal to 20"
    )
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="ok", ExternalId="x y")
    assert (
        "at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern"
        in (err["Message"])
    )
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="ok", Tags=tags)
    assert err["Message"].startswith("1 validation error detected: Value '[")
    assert err["Message"].endswith("at 'tags' failed to satisfy constraint: Member must have length less than or "
                                   "equal to 50")  # fmt: skip
    err = error_of(sts.assume_role, 400, RoleSessionName="ok")
    assert err == validation(
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
    )
    err = error_of(sts.assume_role, 400, RoleArn="not-an-arn-but-long-enough", RoleSessionName="ok")
    assert err == validation("not-an-arn-but-long-enough is invalid")


def test_assume_role_refusals(sts):
    tag = {"Key": "Team", "Value": "a"}
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="ok", Tags=[tag, {**tag, "Key": "team"}])
    assert err == {
        "Code": "InvalidParameterValue",
        "Message": "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        "Type": "Sender",
    }
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="ok", Tags=[tag], TransitiveTagKeys=["x"])
    assert err["Message"] == "The specified transitive tag key must be included in the requested tags."
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="ok", Policy="{not json")
    assert err["Code"] == "MalformedPolicyDocument"
    long_policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*" + " " * 2100,
                              "Resource": "*"}]})  # fmt: skip
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="ok", Policy=long_policy)
    assert err["Code"] == "ValidationError" and err["Message"].endswith(
        "at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048"
    )
    noisy = [{"Key": f"k{i}", "Value": secrets.token_hex(100)} for i in range(50)]
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="ok", Tags=noisy)
    assert err["Code"] == "PackedPolicyTooLarge"
    assert re.fullmatch(r"Packed policy consumes \d+% of allotted space, please use smaller policy\.", err["Message"])
    # A role IAM does not have: AccessDenied, as for a role whose trust policy refuses.
    missing = f"arn:aws:iam::{ACCOUNT}:role/missing"
    err = error_of(sts.assume_role, 403, RoleArn=missing, RoleSessionName="ok")
    assert err["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/broker is not authorized to perform: sts:AssumeRole on resource: {missing}"
    )
    err = error_of(sts.assume_role, 400, RoleArn=ROLE, RoleSessionName="ok", DurationSeconds=7200)
    assert err["Message"] == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."


def test_get_session_token_validation(sts):
    err = error_of(sts.get_session_token, 400, DurationSeconds=129601)
    assert err == validation(
        "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must "
        "have value less than or equal to 129600"
    )
    err = error_of(sts.get_session_token, 400, DurationSeconds=10, TokenCode="12")
    assert err["Message"].startswith("2 validation errors detected: Value '10' at 'durationSeconds'")
    err = error_of(sts.get_access_key_info, 400, AccessKeyId="short")
    assert (
        "at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16"
        in (err["Message"])
    )


ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def test_auth_none_takes_the_account_and_session_from_the_token(broker, sts):
    """With auth none, the trust policy is not evaluated (any caller may act in any account); the credentials act
    in the role's account although their key id is no account id."""
    out = sts.assume_role(
        RoleArn=ROLE,
        RoleSessionName="job-7",
        Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    assert 0 < out["PackedPolicySize"] <= 100
    creds = out["Credentials"]
    me = with_credentials(broker, "sts", creds).get_caller_identity()
    assert me["Account"] == ACCOUNT and me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/job-7"
    sqs = with_credentials(broker, "sqs", creds)
    url = sqs.create_queue(QueueName="of-the-role")["QueueUrl"]
    assert f"/{ACCOUNT}/of-the-role" in url
    assert sts.get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == ACCOUNT
    assert sts.get_access_key_info(AccessKeyId="AKIAUNKNOWNKEY123456")["Account"] == "000000000000"
    # Expired credentials still name their account with auth none (no key is refused).
    broker.advance(3601)
    assert with_credentials(broker, "sqs", creds).list_queues()["QueueUrls"] == [url]
    # A token that does not verify names nothing: the default account, as any other key.
    forged = {**creds, "SessionToken": creds["SessionToken"][:-4] + "AAAA"}
    assert with_credentials(broker, "sts", forged).get_caller_identity()["Account"] == "000000000000"
    # A presigned URL carries the token in its query string.
    url_signed = with_credentials(broker, "sts", creds).generate_presigned_url("get_caller_identity")
    assert f"<Account>{ACCOUNT}</Account>" in httpx.get(url_signed, timeout=30).text


def test_get_session_token_acts_as_the_caller(broker, sts):
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    me = with_credentials(broker, "sts", creds).get_caller_identity()
    own = sts.get_caller_identity()
    assert (me["Account"], me["Arn"], me["UserId"]) == (ACCOUNT, own["Arn"], own["UserId"])


def test_bad_requests_never_500(broker):
    for body in (
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/x&RoleSessionName=ok&DurationSeconds=abc",
        "Action=AssumeRole&Version=2011-06-15&RoleArn=%FF%FE&RoleSessionName=ok",
        "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=99999999999999999999",
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/worker&RoleSessionName=ok"
        "&Tags.member.1.Key=a",
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/worker&RoleSessionName=ok"
        "&Policy=%00",
    ):
        r = httpx.post(broker.url, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
        assert "<Code>" in r.text


def test_cli_assume_role(broker, tmp_path):
    """The AWS CLI (installed with the dev extras) reads the answer as boto3 does."""
    out = aws_json(broker.url, tmp_path, "sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "cli",
                   key=ACCOUNT, secret="x")  # fmt: skip
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/cli"
