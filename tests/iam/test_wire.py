"""IAM on the wire: the query protocol's error documents, operations the broker does not serve, no answer above 499
for any input, the AWS CLI, and `store.role_exists` (what Lambda's strict role check calls)."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import create_engine

from broker.config import Settings
from broker.services.iam import store
from broker.services.registry import all_specs
from tests.awscli import MISSING, aws_json
from tests.iam.helpers import BASIC, POLICY, TRUST, doc, make_role

AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"
XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"


def _post(broker, params: dict) -> httpx.Response:
    return httpx.post(broker.url + "/", data={"Version": "2010-05-08", **params}, headers={"Authorization": AUTH})


def test_error_documents_and_unserved_operations(broker):
    r = _post(broker, {"Action": "GetRole", "RoleName": "missing"})
    assert r.status_code == 404
    assert r.text.startswith(f'<?xml version="1.0"?><ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type>')
    assert "<Code>NoSuchEntity</Code><Message>The role with name missing cannot be found.</Message></Error>" in r.text
    assert "<Detail" not in r.text  # IAM's errors carry no Detail element

    r = _post(broker, {"Action": "GetRole"})  # required member left out (boto3 would refuse to send it)
    null = "Member must not be null"
    assert r.status_code == 400
    assert (
        f"<Message>1 validation error detected: Value null at 'roleName' failed to satisfy constraint: {null}<"
        in r.text
    )

    r = _post(broker, {"Action": "CreateLoginProfile", "UserName": "u"})  # in the model, not served
    assert r.status_code == 501 and "<Code>NotImplemented</Code>" in r.text
    r = _post(broker, {"Action": "NoSuchAction"})
    assert r.status_code == 400 and "<Code>InvalidAction</Code>" in r.text

    r = _post(broker, {"Action": "ListRoles", "MaxItems": "many"})
    assert r.status_code == 400 and "<ErrorResponse" in r.text
    r = _post(
        broker, {"Action": "CreatePolicy", "PolicyName": "p", "PolicyDocument": doc(POLICY), "Description": "a\u0000"}
    )
    assert r.status_code == 400 and "at 'description' failed to satisfy constraint: Member must not contain" in r.text
    r = _post(broker, {"Action": "GetPolicy", "PolicyArn": "arn:aws:iam::000000000000:policy/\u0007bell"})
    assert r.status_code == 404 and "Policy arn:aws:iam::000000000000:policy/\\u0007bell was not found." in r.text
    r = _post(broker, {"Action": "ListRoles", "MaxItems": "0"})
    assert (
        "Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
        in r.text
    )


JUNK = ["", "x", "-1", "99999999999999999999", "{", "%7B%ZZ", "\u0000", "\u0007\ufffe", "A" * 70_000, "v99999999999"]
NESTED = ["Tags.member.1.Key", "Tags.member.1.Value", "TagKeys.member.1"]


def test_no_input_gets_a_server_error(broker):
    iam = broker.client("iam")
    make_role(iam, "fuzz")
    iam.create_user(UserName="fuzz")
    iam.create_group(GroupName="fuzz")
    iam.create_instance_profile(InstanceProfileName="fuzz")
    policy = iam.create_policy(PolicyName="fuzz", PolicyDocument=doc(POLICY))["Policy"]["Arn"]
    model = iam.meta.service_model
    bad, count = [], 0
    with httpx.Client(base_url=broker.url, timeout=30, headers={"Authorization": AUTH}) as http:
        for op_name in sorted(all_specs()["iam"].handlers):
            if op_name.startswith("Delete") or op_name in ("UpdateUser", "UpdateGroup"):
                continue  # keep the resources the others name
            shape = model.operation_model(op_name).input_shape
            members = list(shape.members) if shape is not None else []
            base = {
                "Action": op_name,
                "Version": "2010-05-08",
                "RoleName": "fuzz",
                "UserName": "fuzz",
                "GroupName": "fuzz",
                "InstanceProfileName": "fuzz",
                "PolicyArn": policy if op_name != "GetPolicyVersion" else BASIC,
            }
            for key in members + NESTED:
                for value in JUNK:
                    r = http.post("/", data={**base, key: value})
                    count += 1
                    if r.status_code >= 500 or (r.status_code >= 400 and b"<ErrorResponse" not in r.content):
                        bad.append((op_name, key, value[:20], r.status_code, r.text[:200]))
    assert count > 2000
    assert not bad, bad[:10]


def test_role_exists_for_other_services(broker):
    iam = broker.client("iam")
    arn = make_role(iam, "exec", Path="/service-role/")["Arn"]
    settings = Settings(db_url=broker.db_url) if broker.db_url else Settings(data_dir=str(broker.data_dir))
    engine = create_engine(settings.database_url())
    try:
        with engine.connect() as conn:
            assert store.role_exists(conn, "000000000000", arn)
            assert store.role_exists(conn, "000000000000", arn.replace("exec", "EXEC"))  # names ignore case
            assert not store.role_exists(conn, "000000000000", "arn:aws:iam::000000000000:role/exec")  # path differs
            assert not store.role_exists(conn, "000000000000", "arn:aws:iam::000000000000:role/service-role/other")
            assert not store.role_exists(conn, "000000000000", "arn:aws:iam::111111111111:role/service-role/exec")
            assert not store.role_exists(conn, "000000000000", "arn:aws:iam::000000000000:user/service-role/exec")
            assert not store.role_exists(conn, "000000000000", "not an arn")
    finally:
        engine.dispose()


@pytest.mark.skipif(MISSING, reason="the AWS CLI is not installed")
def test_aws_cli_reads_back_the_trust_policy(broker, tmp_path):
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(TRUST, indent=2))

    def aws(*args: str) -> dict:
        return aws_json(broker.url, tmp_path, "iam", *args)

    created = aws("create-role", "--role-name", "cli-role", "--assume-role-policy-document", f"file://{trust}")
    assert created["Role"]["AssumeRolePolicyDocument"] == TRUST
    aws("attach-role-policy", "--role-name", "cli-role", "--policy-arn", BASIC)
    assert aws("get-role", "--role-name", "cli-role")["Role"]["AssumeRolePolicyDocument"] == TRUST
    assert aws("list-attached-role-policies", "--role-name", "cli-role")["AttachedPolicies"][0]["PolicyArn"] == BASIC
