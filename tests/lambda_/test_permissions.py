"""Resource-based policies of functions through boto3: AddPermission, RemovePermission, GetPolicy (statement form,
qualified policies, RevisionIds) and the whole-document Put/Get/DeleteResourcePolicy, with Lambda's errors."""

from __future__ import annotations

import json

from tests.lambda_.helpers import ARN, create, error_of


def _statements(lam, **kw) -> list[dict]:
    return json.loads(lam.get_policy(**kw)["Policy"])["Statement"]


def test_add_get_remove_permissions(lam):
    create(lam, "fn")
    lam.publish_version(FunctionName="fn")
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    before = lam.get_function_configuration(FunctionName="fn")["RevisionId"]

    added = lam.add_permission(
        FunctionName="fn",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
        SourceAccount="111122223333",
    )
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": f"{ARN}:fn",
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "111122223333"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"},
        },
    }
    after = lam.get_function_configuration(FunctionName="fn")["RevisionId"]
    assert after != before  # a policy change is a change of the function
    account = lam.add_permission(
        FunctionName=f"{ARN}:fn", StatementId="acct", Action="lambda:GetFunction", Principal="111122223333"
    )
    assert json.loads(account["Statement"])["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    url = lam.add_permission(
        FunctionName="fn",
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
        RevisionId=lam.get_function_configuration(FunctionName="fn")["RevisionId"],
    )
    assert json.loads(url["Statement"])["Principal"] == "*"
    assert json.loads(url["Statement"])["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}

    policy = lam.get_policy(FunctionName="fn")
    document = json.loads(policy["Policy"])
    assert (document["Version"], document["Id"]) == ("2012-10-17", "default")
    assert [s["Sid"] for s in document["Statement"]] == ["s3", "acct", "url"]
    assert policy["RevisionId"] == lam.get_function_configuration(FunctionName="fn")["RevisionId"]
    assert [s["Sid"] for s in _statements(lam, FunctionName="fn", Qualifier="$LATEST")] == ["s3", "acct", "url"]

    err = error_of(lam.add_permission, 409, FunctionName="fn", StatementId="s3", Action="lambda:*", Principal="*")
    assert err["Message"] == (
        "The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing "
        "statement."
    )
    err = error_of(
        lam.add_permission,
        412,
        FunctionName="fn",
        StatementId="x",
        Action="lambda:*",
        Principal="*",
        RevisionId="00000000-0000-0000-0000-000000000000",
    )
    assert err["Message"] == (
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to "
        "retrieve the latest Revision Id"
    )

    # Versions and aliases have policies of their own; the same statement id may be used in each.
    alias_rev = lam.get_alias(FunctionName="fn", Name="live")["RevisionId"]
    lam.add_permission(FunctionName="fn", Qualifier="live", StatementId="s3", Action="lambda:*", Principal="*")
    assert lam.get_alias(FunctionName="fn", Name="live")["RevisionId"] != alias_rev
    lam.add_permission(FunctionName="fn:1", StatementId="v1", Action="lambda:*", Principal="*")
    live = _statements(lam, FunctionName="fn", Qualifier="live")
    assert [(s["Sid"], s["Resource"]) for s in live] == [("s3", f"{ARN}:fn:live")]
    assert [s["Resource"] for s in _statements(lam, FunctionName=f"{ARN}:fn:1")] == [f"{ARN}:fn:1"]
    assert len(_statements(lam, FunctionName="fn")) == 3

    lam.remove_permission(FunctionName="fn", StatementId="acct")
    assert [s["Sid"] for s in _statements(lam, FunctionName="fn")] == ["s3", "url"]
    err = error_of(lam.remove_permission, 404, FunctionName="fn", StatementId="acct")
    assert err["Message"] == "Statement acct is not found in resource policy."
    err = error_of(lam.remove_permission, 412, FunctionName="fn", StatementId="s3", RevisionId="nope")
    assert err["Code"] == "PreconditionFailedException"
    lam.remove_permission(FunctionName="fn", StatementId="s3")
    lam.remove_permission(FunctionName="fn", StatementId="url")
    err = error_of(lam.get_policy, 404, FunctionName="fn")
    assert err == {"Code": "ResourceNotFoundException", "Message": "The resource you requested does not exist."}
    err = error_of(lam.remove_permission, 404, FunctionName="fn", StatementId="s3")
    assert err["Message"] == "No policy is associated with the given resource."
    assert [s["Sid"] for s in _statements(lam, FunctionName="fn", Qualifier="live")] == ["s3"]

    # Deleting the alias takes its policy with it.
    lam.delete_alias(FunctionName="fn", Name="live")
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    error_of(lam.get_policy, 404, FunctionName="fn", Qualifier="live")


def test_permission_errors(lam):
    create(lam, "fn")
    base = {"StatementId": "s", "Action": "lambda:InvokeFunction", "Principal": "sns.amazonaws.com"}
    err = error_of(lam.add_permission, 404, FunctionName="nope", **base)
    assert err["Message"] == f"Function not found: {ARN}:nope"
    err = error_of(lam.add_permission, 400, FunctionName="fn", Qualifier="$LATEST", **base)
    assert err["Message"] == "We currently do not support adding policies for $LATEST."
    err = error_of(lam.add_permission, 400, FunctionName="fn:1", Qualifier="2", **base)
    assert err["Message"] == "The derived qualifier from the function name does not match the specified qualifier."
    err = error_of(lam.add_permission, 404, FunctionName="fn", Qualifier="nope", **base)
    assert err["Message"] == f"Cannot find alias arn: {ARN}:fn:nope"
    err = error_of(lam.add_permission, 404, FunctionName="fn", Qualifier="42", **base)
    assert err["Message"] == f"Function not found: {ARN}:fn:42"
    err = error_of(lam.add_permission, 400, FunctionName="fn", **{**base, "Principal": "invalid"})
    assert err == {
        "Code": "InvalidParameterValueException",
        "Message": "The provided principal was invalid. Please check the principal and try again.",
    }
    err = error_of(lam.add_permission, 400, FunctionName="fn", FunctionUrlAuthType="BAD", **base)
    assert err["Message"] == (
        "1 validation error detected: Value 'BAD' at 'functionUrlAuthType' failed to satisfy constraint: Member "
        "must satisfy enum value set: [NONE, AWS_IAM]"
    )
    err = error_of(lam.add_permission, 400, FunctionName="fn", **{**base, "StatementId": "example.com"})
    assert err["Code"] == "ValidationException" and "at 'statementId'" in err["Message"]
    err = error_of(lam.remove_permission, 404, FunctionName="nope", StatementId="s")
    assert err["Message"] == f"No policy found for: {ARN}:nope"
    assert error_of(lam.get_policy, 404, FunctionName="nope")["Message"] == f"Function not found: {ARN}:nope"
    err = error_of(lam.get_policy, 404, FunctionName="fn", Qualifier="7")
    assert err["Message"] == "The resource you requested does not exist."

    # A policy holds at most 20 KB.
    long_arn = "arn:aws:s3:::" + "b" * 9000
    for sid in ("big1", "big2"):
        lam.add_permission(FunctionName="fn", SourceArn=long_arn, **{**base, "StatementId": sid})
    err = error_of(lam.add_permission, 400, FunctionName="fn", SourceArn=long_arn, **{**base, "StatementId": "big3"})
    assert err["Code"] == "PolicyLengthExceededException"
    assert err["Message"].startswith("The final policy size (") and err["Message"].endswith(
        ") is bigger than the limit (20480)."
    )
    assert len(_statements(lam, FunctionName="fn")) == 2


def test_resource_policy_documents(lam):
    create(lam, "fn")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "all", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"}],
    }
    put = lam.put_resource_policy(ResourceArn=f"{ARN}:fn", Policy=json.dumps(document))
    assert json.loads(put["Policy"]) == document
    assert put["RevisionId"] == lam.get_function_configuration(FunctionName="fn")["RevisionId"]
    got = lam.get_resource_policy(ResourceArn=f"{ARN}:fn")
    assert json.loads(got["Policy"]) == document and got["RevisionId"] == put["RevisionId"]
    assert [s["Sid"] for s in _statements(lam, FunctionName="fn")] == ["all"]  # the same policy GetPolicy answers
    lam.add_permission(FunctionName="fn", StatementId="more", Action="lambda:*", Principal="*")
    assert len(json.loads(lam.get_resource_policy(ResourceArn=f"{ARN}:fn")["Policy"])["Statement"]) == 2

    err = error_of(lam.put_resource_policy, 400, ResourceArn=f"{ARN}:fn", Policy="{not json")
    assert err["Code"] == "InvalidParameterValueException"
    err = error_of(
        lam.delete_resource_policy, 412, ResourceArn=f"{ARN}:fn", RevisionId="00000000-0000-0000-0000-000000000000"
    )
    assert err["Code"] == "PreconditionFailedException"
    lam.delete_resource_policy(ResourceArn=f"{ARN}:fn")
    error_of(lam.get_resource_policy, 404, ResourceArn=f"{ARN}:fn")
    lam.delete_resource_policy(ResourceArn=f"{ARN}:fn")  # nothing left: still succeeds
    err = error_of(lam.get_resource_policy, 404, ResourceArn=f"{ARN}:nope")
    assert err["Message"] == f"Function not found: {ARN}:nope"
