"""IAM roles through boto3: create/get/list/update/delete, trust policies read back as AWS returns them, request
validation, tags and permissions boundaries."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from tests.iam.helpers import BASIC, POLICY, TRUST, doc, error, make_role


@pytest.fixture
def iam(broker):
    return broker.client("iam")


def test_role_lifecycle_and_trust_policy_round_trip(iam, broker):
    # The document exactly as the caller wrote it (spacing and key order kept), as AWS keeps it.
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Principal": {"Service":'
        ' ["lambda.amazonaws.com", "states.amazonaws.com"]}, "Action": "sts:AssumeRole",'
        ' "Condition": {"StringEquals": {"aws:SourceAccount": "000000000000"}}}]\n}'
    )
    created = iam.create_role(
        RoleName="app-role",
        Path="/service/",
        AssumeRolePolicyDocument=text,
        Description="the app",
        MaxSessionDuration=7200,
    )["Role"]
    assert re.fullmatch(r"AROA[A-Z0-9]{17}", created["RoleId"])
    assert created["Arn"] == "arn:aws:iam::000000000000:role/service/app-role"
    assert created["Path"] == "/service/" and created["Description"] == "the app"
    assert created["AssumeRolePolicyDocument"] == json.loads(text)
    assert "RoleLastUsed" not in created

    got = iam.get_role(RoleName="APP-ROLE")["Role"]  # names are case-insensitive
    assert got["RoleName"] == "app-role" and got["RoleId"] == created["RoleId"]
    assert got["AssumeRolePolicyDocument"] == json.loads(text)
    assert got["MaxSessionDuration"] == 7200 and got["RoleLastUsed"] == {}
    assert got["CreateDate"] == created["CreateDate"]

    # On the wire the document is URL-encoded (RFC 3986), and decodes to exactly what was sent.
    raw = _raw(broker, {"Action": "GetRole", "RoleName": "app-role"})
    assert f"<AssumeRolePolicyDocument>{quote(text, safe='')}</AssumeRolePolicyDocument>" in raw
    assert "<RoleLastUsed></RoleLastUsed>" in raw

    # The URL-encoded form IAM hands out is accepted back.
    iam.update_assume_role_policy(RoleName="app-role", PolicyDocument=quote(doc(TRUST), safe=""))
    assert iam.get_role(RoleName="app-role")["Role"]["AssumeRolePolicyDocument"] == TRUST

    iam.update_role(RoleName="app-role", Description="", MaxSessionDuration=43200)
    got = iam.get_role(RoleName="app-role")["Role"]
    assert got["MaxSessionDuration"] == 43200 and got.get("Description", "") == ""
    updated = iam.update_role_description(RoleName="app-role", Description="new words")["Role"]
    assert updated["Description"] == "new words" and updated["Arn"] == created["Arn"]

    assert error(iam.create_role, RoleName="App-Role", AssumeRolePolicyDocument=doc(TRUST)) == (
        "EntityAlreadyExists",
        "Role with name App-Role already exists.",
        409,
    )
    iam.delete_role(RoleName="app-role")
    for call in (iam.get_role, iam.delete_role, iam.list_role_tags):
        assert error(call, RoleName="app-role") == ("NoSuchEntity", "The role with name app-role cannot be found.", 404)
    assert error(iam.update_role, RoleName="gone") == ("NoSuchEntity", "The role with name gone cannot be found.", 404)


def test_list_roles_pages_and_filters_by_path(iam):
    names = [f"role-{i:02d}" for i in range(7)]
    for i, name in enumerate(reversed(names)):
        make_role(iam, name, Path="/a/" if i % 2 else "/b/x/")
    seen, marker, pages = [], None, 0
    while True:
        kw = {"Marker": marker} if marker else {}
        page = iam.list_roles(MaxItems=3, **kw)
        pages += 1
        seen += [r["RoleName"] for r in page["Roles"]]
        assert all("Tags" not in r and "RoleLastUsed" not in r for r in page["Roles"])
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    assert seen == names and pages == 3
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/b/")["Roles"]] == [
        "role-00",
        "role-02",
        "role-04",
        "role-06",
    ]
    assert iam.list_roles(PathPrefix="/c/")["Roles"] == []
    paginator = iam.get_paginator("list_roles")
    assert [r["RoleName"] for p in paginator.paginate(PaginationConfig={"PageSize": 2}) for r in p["Roles"]] == names
    assert error(iam.list_roles, Marker="not-a-marker")[0] == "InvalidInput"


def test_request_validation_as_iam_words_it(iam, broker):
    loose = broker.client("iam", parameter_validation=False)  # boto3 checks ranges itself
    code, message, status = error(iam.create_role, RoleName="a b", AssumeRolePolicyDocument=doc(TRUST))
    assert (code, status) == ("ValidationError", 400)
    assert message == (
        "1 validation error detected: Value 'a b' at 'roleName' failed to satisfy constraint: Member must satisfy"
        " regular expression pattern: [\\w+=,.@-]+"
    )
    code, message, _ = error(
        loose.create_role, RoleName="r" * 65, AssumeRolePolicyDocument=doc(TRUST), MaxSessionDuration=100, Path="x"
    )
    assert message.startswith("3 validation errors detected: ")
    assert "Value 'x' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern" in message
    too_long = "Member must have length less than or equal to 64"
    assert f"Value '{'r' * 65}' at 'roleName' failed to satisfy constraint: {too_long}" in message
    too_short = "Member must have value greater than or equal to 3600"
    assert f"Value '100' at 'maxSessionDuration' failed to satisfy constraint: {too_short}" in message
    message = error(loose.update_role, RoleName="r", MaxSessionDuration=43201)[1]
    assert message.endswith(
        "at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"
    )
    message = error(iam.tag_role, RoleName="r", Tags=[{"Key": "k\u0007", "Value": "v"}])[1]
    assert error(loose.get_role, RoleName="")[1] == (
        "2 validation errors detected: Value '' at 'roleName' failed to satisfy constraint: Member must satisfy"
        " regular expression pattern: [\\w+=,.@-]+; Value '' at 'roleName' failed to satisfy constraint: Member must"
        " have length greater than or equal to 1"
    )
    assert "at 'tags.1.member.key' failed to satisfy constraint" in message
    # Tag patterns are Unicode: letters, spaces and digits of any script are fine.
    make_role(iam, "unicode", Tags=[{"Key": "Ünïcode ключ", "Value": "值 ٣"}])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{", "This policy contains invalid Json"),
        ("AWSLambdaBasicExecutionRole", "This policy contains invalid Json"),
        (doc({"Version": "2012-10-17"}), "Syntax errors in policy."),
        (doc({"Version": "2012-10-17", "Statement": []}), "Syntax errors in policy."),
        (doc({**TRUST, "Extra": 1}), "Syntax errors in policy."),
        (
            doc(
                {
                    "Version": "2012-10-17",
                    "Statement": {"Effect": "Maybe", "Principal": "*", "Action": "sts:AssumeRole"},
                }
            ),
            "Syntax errors in policy.",
        ),
        (
            doc(
                {
                    "Version": "2012-10-17",
                    "Statement": {"Effect": "allow", "Principal": "*", "Action": "sts:AssumeRole"},
                }
            ),
            "The policy failed legacy parsing",
        ),
        (
            doc({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*"}}),
            "Policy statement must contain actions.",
        ),
        (
            doc(
                {
                    "Version": "2012-10-17",
                    "Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"},
                }
            ),
            "Has prohibited field Resource",
        ),
        (
            doc({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}}),
            "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a"
            " statement with no principals!",
        ),
        (
            doc(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Sid": "a", "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}] * 2,
                }
            ),
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (
            doc({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "AssumeRole"}}),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
    ],
)
def test_malformed_trust_policies(iam, document, message):
    assert error(iam.create_role, RoleName="r", AssumeRolePolicyDocument=document) == (
        "MalformedPolicyDocument",
        message,
        400,
    )


def test_trust_policy_size_quota(iam):
    make_role(iam)
    big = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{i:012d}:root" for i in range(80)]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    assert error(iam.update_assume_role_policy, RoleName="r", PolicyDocument=doc(big)) == (
        "LimitExceeded",
        "Cannot exceed quota for ACLSizePerRole: 2048",
        409,
    )
    assert error(iam.update_assume_role_policy, RoleName="r", PolicyDocument="[]")[:2] == (
        "MalformedPolicyDocument",
        "Syntax errors in policy.",
    )


def test_role_tags(iam):
    created = make_role(iam, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}])
    assert created["Tags"] == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}]
    iam.tag_role(RoleName="r", Tags=[{"Key": "ENV", "Value": "prod"}, {"Key": "cost", "Value": ""}])
    assert iam.list_role_tags(RoleName="r")["Tags"] == [
        {"Key": "ENV", "Value": "prod"},
        {"Key": "team", "Value": "a"},
        {"Key": "cost", "Value": ""},
    ]
    iam.untag_role(RoleName="r", TagKeys=["Team", "absent"])
    assert iam.get_role(RoleName="r")["Role"]["Tags"] == [{"Key": "ENV", "Value": "prod"}, {"Key": "cost", "Value": ""}]
    page = iam.list_role_tags(RoleName="r", MaxItems=1)
    assert page["IsTruncated"] and page["Tags"] == [{"Key": "ENV", "Value": "prod"}]
    assert iam.list_role_tags(RoleName="r", Marker=page["Marker"])["Tags"] == [{"Key": "cost", "Value": ""}]

    dup = [{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]
    expected = ("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400)
    assert error(iam.tag_role, RoleName="r", Tags=dup) == expected
    assert error(iam.create_role, RoleName="r2", AssumeRolePolicyDocument=doc(TRUST), Tags=dup) == expected
    iam.tag_role(RoleName="r", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(48)])
    assert error(iam.tag_role, RoleName="r", Tags=[{"Key": "one-more", "Value": "v"}]) == (
        "LimitExceeded",
        "Cannot exceed quota for TagsPerRole: 50",
        409,
    )
    iam.tag_role(RoleName="r", Tags=[{"Key": "k0", "Value": "replaced"}])  # replacing stays within the limit
    assert len(iam.list_role_tags(RoleName="r")["Tags"]) == 50
    assert (
        error(iam.tag_role, RoleName="r", Tags=[{"Key": f"x{i}", "Value": "v"} for i in range(51)])[0]
        == "ValidationError"
    )


def test_permissions_boundary(iam):
    custom = iam.create_policy(PolicyName="boundary", PolicyDocument=doc(POLICY))["Policy"]["Arn"]
    role = make_role(iam, PermissionsBoundary=BASIC)
    assert role["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": BASIC,
    }
    iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=custom)
    assert iam.get_role(RoleName="r")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == custom
    assert iam.get_policy(PolicyArn=custom)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    missing = "arn:aws:iam::000000000000:policy/nope"
    assert error(iam.put_role_permissions_boundary, RoleName="r", PermissionsBoundary=missing) == (
        "NoSuchEntity",
        f"Scope ARN: {missing} does not exist or is not attachable.",
        404,
    )
    assert error(
        iam.create_role,
        RoleName="r2",
        AssumeRolePolicyDocument=doc(TRUST),
        PermissionsBoundary="not-an-arn-at-all-really",
    ) == (
        "InvalidInput",
        "ARN not-an-arn-at-all-really is not valid.",
        400,
    )
    iam.delete_role_permissions_boundary(RoleName="r")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="r")["Role"]


def test_delete_role_conflicts(iam):
    make_role(iam)
    iam.put_role_policy(RoleName="r", PolicyName="inline", PolicyDocument=doc(POLICY))
    iam.attach_role_policy(RoleName="r", PolicyArn=BASIC)
    assert error(iam.delete_role, RoleName="r") == (
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
        409,
    )
    iam.delete_role_policy(RoleName="r", PolicyName="inline")
    assert error(iam.delete_role, RoleName="r") == (
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
        409,
    )
    iam.detach_role_policy(RoleName="r", PolicyArn=BASIC)
    iam.delete_role(RoleName="r")
    assert iam.list_roles()["Roles"] == []


def _raw(broker, params: dict) -> str:
    import httpx

    auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"
    r = httpx.post(broker.url + "/", data={**params, "Version": "2010-05-08"}, headers={"Authorization": auth})
    assert r.status_code == 200, r.text
    return r.text
