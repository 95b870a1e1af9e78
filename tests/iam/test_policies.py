"""IAM managed policies (customer and AWS managed), their versions and attachments, and inline policies of roles
and users, through boto3."""

from __future__ import annotations

import json
import re

import pytest

from tests.iam.helpers import BASIC, POLICY, doc, error, make_role

ACCOUNT = "000000000000"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture
def iam(broker):
    return broker.client("iam")


def _statement(action: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}


def test_customer_policy_and_versions(iam):
    created = iam.create_policy(
        PolicyName="app", Path="/team/", PolicyDocument=doc(POLICY), Description="d", Tags=[{"Key": "k", "Value": "v"}]
    )["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT}:policy/team/app"
    assert created["Arn"] == arn and created["DefaultVersionId"] == "v1" and created["AttachmentCount"] == 0
    assert re.fullmatch(r"ANPA[A-Z0-9]{17}", created["PolicyId"]) and created["IsAttachable"]
    assert created["Tags"] == [{"Key": "k", "Value": "v"}]
    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert got["Description"] == "d" and got["PolicyId"] == created["PolicyId"]
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"] == POLICY
    assert error(iam.create_policy, PolicyName="APP", PolicyDocument=doc(POLICY)) == (
        "EntityAlreadyExists",
        "A policy called APP already exists. Duplicate names are not allowed.",
        409,
    )

    for i in range(2, 6):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(_statement(f"s3:Op{i}")), SetAsDefault=i == 3)
        assert v["PolicyVersion"]["VersionId"] == f"v{i}" and v["PolicyVersion"]["IsDefaultVersion"] == (i == 3)
    assert error(iam.create_policy_version, PolicyArn=arn, PolicyDocument=doc(POLICY)) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing"
        " version.",
        409,
    )
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [
        ("v5", False),
        ("v4", False),
        ("v3", True),
        ("v2", False),
        ("v1", False),
    ]
    assert "Document" not in versions[0]
    page = iam.list_policy_versions(PolicyArn=arn, MaxItems=2)
    assert page["IsTruncated"] and len(page["Versions"]) == 2
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn, Marker=page["Marker"])["Versions"]] == [
        "v3",
        "v2",
        "v1",
    ]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]["Document"] == _statement("s3:Op3")

    assert error(iam.delete_policy_version, PolicyArn=arn, VersionId="v3") == (
        "DeleteConflict",
        "Cannot delete the default version of a policy.",
        409,
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
    v6 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(POLICY))["PolicyVersion"]
    assert v6["VersionId"] == "v6"  # numbers are never reused
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v6")
    missing = ("NoSuchEntity", f"Policy {arn} version v5 does not exist or is not attachable.", 404)
    assert error(iam.get_policy_version, PolicyArn=arn, VersionId="v5") == missing
    assert error(iam.set_default_policy_version, PolicyArn=arn, VersionId="v5") == missing
    assert error(iam.delete_policy_version, PolicyArn=arn, VersionId="v5") == missing

    assert error(iam.delete_policy, PolicyArn=arn) == (
        "DeleteConflict",
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions."
        " The default version is deleted with the policy.",
        409,
    )
    for v in ("v1", "v2", "v3", "v4"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    gone = ("NoSuchEntity", f"Policy {arn} was not found.", 404)
    assert error(iam.get_policy, PolicyArn=arn) == gone
    assert error(iam.delete_policy, PolicyArn=arn) == gone
    assert error(iam.get_policy, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/app") == (
        "NoSuchEntity",
        f"Policy arn:aws:iam::{ACCOUNT}:policy/app was not found.",
        404,
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("This is not a json document", "Syntax errors in policy."),
        (doc({"Statement": POLICY["Statement"]}), "Policy document must be version 2012-10-17 or greater."),
        (doc({**POLICY, "Version": "2008-10-17"}), "Policy document must be version 2012-10-17 or greater."),
        (doc({**POLICY, "Version": "2013-10-17"}), "Syntax errors in policy."),
        (
            doc({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket"}}),
            "Policy statement must contain resources.",
        ),
        (
            doc({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Resource": "*"}}),
            "Policy statement must contain actions.",
        ),
        (
            doc(
                {
                    "Version": "2012-10-17",
                    "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"},
                }
            ),
            "Policy document should not specify a principal.",
        ),
        (
            doc(
                {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:List:Bucket", "Resource": "*"}}
            ),
            "Actions/Condition can contain only one colon.",
        ),
        (
            doc(
                {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "a a:ListBucket", "Resource": "*"}}
            ),
            "Vendor a a is not valid",
        ),
        (
            doc(
                {
                    "Version": "2012-10-17",
                    "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "invalid resource"},
                }
            ),
            'Resource invalid resource must be in ARN format or "*".',
        ),
        (
            doc(
                {
                    "Version": "2012-10-17",
                    "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "a:bsdfdsafsad"},
                }
            ),
            'Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".',
        ),
        (
            doc(
                {
                    "Version": "2012-10-17",
                    "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws"},
                }
            ),
            "Resource vendor must be fully qualified and cannot contain regexes.",
        ),
        (
            doc(
                {
                    "Version": "2012-10-17",
                    "Statement": {
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": "*",
                        "Condition": {"a": "b"},
                    },
                }
            ),
            "Syntax errors in policy.",
        ),
    ],
)
def test_malformed_identity_policies(iam, document, message):
    make_role(iam)
    expected = ("MalformedPolicyDocument", message, 400)
    assert error(iam.create_policy, PolicyName="p", PolicyDocument=document) == expected
    assert error(iam.put_role_policy, RoleName="r", PolicyName="p", PolicyDocument=document) == expected


def test_policy_size_quotas(iam):
    make_role(iam)
    iam.create_user(UserName="u")
    actions = [f"s3:Action{i:04d}" for i in range(400)]  # ~6.8k characters
    big = doc({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
    assert error(iam.create_policy, PolicyName="big", PolicyDocument=big) == (
        "LimitExceeded",
        "Cannot exceed quota for PolicySize: 6144",
        409,
    )
    iam.put_role_policy(RoleName="r", PolicyName="one", PolicyDocument=big)  # 10,240 for all of a role's together
    assert error(iam.put_role_policy, RoleName="r", PolicyName="two", PolicyDocument=big) == (
        "LimitExceeded",
        "Maximum policy size of 10240 bytes exceeded for role r",
        409,
    )
    iam.put_role_policy(RoleName="r", PolicyName="one", PolicyDocument=big)  # replacing counts once
    assert error(iam.put_user_policy, UserName="u", PolicyName="one", PolicyDocument=big) == (
        "LimitExceeded",
        "Maximum policy size of 2048 bytes exceeded for user u",
        409,
    )


def test_aws_managed_policies(iam):
    got = iam.get_policy(PolicyArn=BASIC)["Policy"]
    assert got["PolicyName"] == "AWSLambdaBasicExecutionRole" and got["Path"] == "/service-role/"
    assert got["DefaultVersionId"] == "v1" and got["Description"] == "Provides write permissions to CloudWatch Logs."
    version = iam.get_policy_version(PolicyArn=BASIC, VersionId="v1")["PolicyVersion"]
    assert version["IsDefaultVersion"] and version["Document"]["Statement"][0]["Action"] == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=BASIC)["Versions"]] == ["v1"]
    assert error(iam.get_policy_version, PolicyArn=BASIC, VersionId="v2")[0] == "NoSuchEntity"
    unknown = "arn:aws:iam::aws:policy/NoSuchManagedPolicy"
    assert error(iam.get_policy, PolicyArn=unknown) == ("NoSuchEntity", f"Policy {unknown} was not found.", 404)
    make_role(iam)
    assert error(iam.attach_role_policy, RoleName="r", PolicyArn=unknown) == (
        "NoSuchEntity",
        f"Policy {unknown} does not exist or is not attachable.",
        404,
    )
    assert error(iam.delete_policy, PolicyArn=ADMIN)[0] == "UnmodifiableEntity"
    assert error(iam.create_policy_version, PolicyArn=ADMIN, PolicyDocument=doc(POLICY))[0] == "UnmodifiableEntity"
    names = {
        "AWSLambdaExecute",
        "AWSLambdaRole",
        "AWSLambdaSQSQueueExecutionRole",
        "AWSLambdaKinesisExecutionRole",
        "AWSLambdaDynamoDBExecutionRole",
        "AWSLambdaVPCAccessExecutionRole",
        "AdministratorAccess",
        "PowerUserAccess",
        "ReadOnlyAccess",
        "AmazonSQSFullAccess",
        "AmazonSNSFullAccess",
        "AmazonKinesisFullAccess",
        "CloudWatchLogsFullAccess",
        "AmazonAPIGatewayInvokeFullAccess",
        "AmazonAPIGatewayPushToCloudWatchLogs",
        "IAMFullAccess",
        "AmazonS3FullAccess",
        "AmazonS3ReadOnlyAccess",
        "AmazonDynamoDBFullAccess",
        "AWSStepFunctionsFullAccess",
        "AmazonEventBridgeFullAccess",
    }
    listed = [p for page in iam.get_paginator("list_policies").paginate(Scope="AWS") for p in page["Policies"]]
    assert names <= {p["PolicyName"] for p in listed}
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") and "Description" not in p for p in listed)
    assert {p["PolicyName"] for p in iam.list_policies(Scope="AWS", PathPrefix="/service-role/")["Policies"]} >= {
        "AWSLambdaBasicExecutionRole",
        "AWSLambdaRole",
        "AmazonAPIGatewayPushToCloudWatchLogs",
    }


def test_list_policies_scopes_filters_and_pages(iam):
    for name, path in (("b-pol", "/x/"), ("a-pol", "/"), ("c-pol", "/x/y/")):
        iam.create_policy(PolicyName=name, Path=path, PolicyDocument=doc(POLICY))
    local = iam.list_policies(Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == ["a-pol", "b-pol", "c-pol"]
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local", PathPrefix="/x/")["Policies"]] == [
        "b-pol",
        "c-pol",
    ]
    everything = [
        p
        for page in iam.get_paginator("list_policies").paginate(PaginationConfig={"PageSize": 7})
        for p in page["Policies"]
    ]
    assert {"a-pol", "AdministratorAccess"} <= {p["PolicyName"] for p in everything}
    assert len(everything) == len({p["Arn"] for p in everything})
    assert [p["PolicyName"].lower() for p in everything] == sorted(p["PolicyName"].lower() for p in everything)
    make_role(iam)
    iam.attach_role_policy(RoleName="r", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/x/b-pol")
    iam.attach_role_policy(RoleName="r", PolicyArn=ADMIN)
    attached = iam.list_policies(OnlyAttached=True)["Policies"]
    assert [(p["PolicyName"], p["AttachmentCount"]) for p in attached] == [("AdministratorAccess", 1), ("b-pol", 1)]
    assert [p["PolicyName"] for p in iam.list_policies(OnlyAttached=True, Scope="Local")["Policies"]] == ["b-pol"]
    assert error(iam.list_policies, Scope="Everything")[0] == "ValidationError"


def test_attach_and_detach(iam):
    make_role(iam)
    iam.create_user(UserName="u")
    custom = iam.create_policy(PolicyName="c", PolicyDocument=doc(POLICY))["Policy"]["Arn"]
    for arn in (BASIC, custom, BASIC):  # attaching twice is accepted, once kept
        iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    iam.attach_user_policy(UserName="u", PolicyArn=custom)
    assert iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"] == [
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC},
        {"PolicyName": "c", "PolicyArn": custom},
    ]
    assert [
        p["PolicyArn"]
        for p in iam.list_attached_role_policies(RoleName="r", PathPrefix="/service-role/")["AttachedPolicies"]
    ] == [BASIC]
    assert iam.list_attached_user_policies(UserName="u")["AttachedPolicies"] == [
        {"PolicyName": "c", "PolicyArn": custom}
    ]
    assert iam.get_policy(PolicyArn=custom)["Policy"]["AttachmentCount"] == 2
    assert error(iam.delete_policy, PolicyArn=custom) == (
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
        409,
    )

    assert error(iam.attach_role_policy, RoleName="nope", PolicyArn=BASIC) == (
        "NoSuchEntity",
        "The role with name nope cannot be found.",
        404,
    )
    assert error(iam.attach_user_policy, UserName="nope", PolicyArn=BASIC) == (
        "NoSuchEntity",
        "The user with name nope cannot be found.",
        404,
    )
    other = "arn:aws:iam::123456789012:policy/c"
    assert error(iam.attach_role_policy, RoleName="r", PolicyArn=other)[:2] == (
        "NoSuchEntity",
        f"Policy {other} does not exist or is not attachable.",
    )
    assert error(iam.attach_role_policy, RoleName="r", PolicyArn="arn:aws:s3:::some-bucket-name") == (
        "InvalidInput",
        "ARN arn:aws:s3:::some-bucket-name is not valid.",
        400,
    )
    assert error(iam.detach_role_policy, RoleName="r", PolicyArn=ADMIN) == (
        "NoSuchEntity",
        f"Policy {ADMIN} was not found.",
        404,
    )
    for arn in (BASIC, custom):
        iam.detach_role_policy(RoleName="r", PolicyArn=arn)
    iam.detach_user_policy(UserName="u", PolicyArn=custom)
    assert iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"] == []
    iam.delete_policy(PolicyArn=custom)

    many = [iam.create_policy(PolicyName=f"p{i}", PolicyDocument=doc(POLICY))["Policy"]["Arn"] for i in range(11)]
    for arn in many[:10]:
        iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    assert error(iam.attach_role_policy, RoleName="r", PolicyArn=many[10]) == (
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerRole: 10",
        409,
    )
    page = iam.list_attached_role_policies(RoleName="r", MaxItems=4)
    rest = iam.list_attached_role_policies(RoleName="r", Marker=page["Marker"])
    assert [p["PolicyArn"] for p in page["AttachedPolicies"] + rest["AttachedPolicies"]] == many[:10]


def test_inline_policies(iam):
    make_role(iam)
    iam.create_user(UserName="u")
    text = (
        '{"Version": "2012-10-17",\n "Statement": {"Effect": "Deny", "NotAction": ["iam:*"],'
        ' "NotResource": "arn:aws:s3:::b/*"}}'
    )
    for name in ("zeta", "alpha", "Mid"):
        iam.put_role_policy(RoleName="r", PolicyName=name, PolicyDocument=text)
    got = iam.get_role_policy(RoleName="R", PolicyName="alpha")
    assert (got["RoleName"], got["PolicyName"], got["PolicyDocument"]) == ("r", "alpha", json.loads(text))
    assert iam.list_role_policies(RoleName="r")["PolicyNames"] == ["Mid", "alpha", "zeta"]
    page = iam.list_role_policies(RoleName="r", MaxItems=2)
    assert page["PolicyNames"] == ["Mid", "alpha"] and page["IsTruncated"]
    assert iam.list_role_policies(RoleName="r", Marker=page["Marker"])["PolicyNames"] == ["zeta"]
    iam.put_role_policy(RoleName="r", PolicyName="alpha", PolicyDocument=doc(POLICY))  # replaces
    assert iam.get_role_policy(RoleName="r", PolicyName="alpha")["PolicyDocument"] == POLICY
    iam.delete_role_policy(RoleName="r", PolicyName="alpha")
    missing = ("NoSuchEntity", "The role policy with name alpha cannot be found.", 404)
    assert error(iam.get_role_policy, RoleName="r", PolicyName="alpha") == missing
    assert error(iam.delete_role_policy, RoleName="r", PolicyName="alpha") == missing
    assert error(iam.put_role_policy, RoleName="nope", PolicyName="p", PolicyDocument=doc(POLICY))[0] == "NoSuchEntity"
    assert error(iam.list_role_policies, RoleName="nope")[0] == "NoSuchEntity"

    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=doc(POLICY))
    got = iam.get_user_policy(UserName="u", PolicyName="p")
    assert (got["UserName"], got["PolicyDocument"]) == ("u", POLICY)
    assert iam.list_user_policies(UserName="u")["PolicyNames"] == ["p"]
    assert error(iam.delete_user, UserName="u") == (
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
        409,
    )
    iam.delete_user_policy(UserName="u", PolicyName="p")
    assert error(iam.get_user_policy, UserName="u", PolicyName="p") == (
        "NoSuchEntity",
        "The user policy with name p cannot be found.",
        404,
    )
    iam.delete_user(UserName="u")


def test_policy_tags(iam):
    arn = iam.create_policy(PolicyName="p", PolicyDocument=doc(POLICY))["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["A"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "b", "Value": "2"}]
    assert "Tags" not in iam.list_policies(Scope="Local")["Policies"][0]
    missing = f"arn:aws:iam::{ACCOUNT}:policy/missing"
    assert error(iam.tag_policy, PolicyArn=missing, Tags=[{"Key": "a", "Value": "1"}]) == (
        "NoSuchEntity",
        f"Policy {missing} was not found.",
        404,
    )
    assert error(iam.list_policy_tags, PolicyArn=missing)[0] == "NoSuchEntity"
