"""IAM users and access keys through boto3, and the caller: the IAM user STS reports, whether created or not."""

from __future__ import annotations

import re

import pytest

from tests.iam.helpers import BASIC, error


@pytest.fixture
def iam(broker):
    return broker.client("iam")


def test_caller_is_the_user_sts_reports(iam, broker):
    me = broker.client("sts").get_caller_identity()
    user = iam.get_user()["User"]
    assert (user["Arn"], user["UserId"], user["Path"]) == (me["Arn"], me["UserId"], "/")
    assert iam.get_user()["User"] == user  # consistently, creation date included
    assert iam.get_user(UserName=user["UserName"])["User"] == user
    assert [u["Arn"] for u in iam.list_users()["Users"]] == [me["Arn"]]
    assert error(iam.create_user, UserName=user["UserName"]) == (
        "EntityAlreadyExists",
        f"User with name {user['UserName']} already exists.",
        409,
    )
    # Another account's caller is that account's user.
    other = broker.client("iam", access_key="123456789012").get_user()["User"]
    assert other["Arn"] == f"arn:aws:iam::123456789012:user/{user['UserName']}"
    assert broker.client("sts", access_key="123456789012").get_caller_identity()["UserId"] == other["UserId"]


def test_user_lifecycle(iam):
    created = iam.create_user(UserName="alice", Path="/staff/", Tags=[{"Key": "team", "Value": "a"}])["User"]
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", created["UserId"])
    assert created["Arn"] == "arn:aws:iam::000000000000:user/staff/alice" and created["Tags"] == [
        {"Key": "team", "Value": "a"}
    ]
    got = iam.get_user(UserName="ALICE")["User"]
    assert got["UserName"] == "alice" and got["CreateDate"] == created["CreateDate"]
    assert error(iam.create_user, UserName="Alice") == (
        "EntityAlreadyExists",
        "User with name Alice already exists.",
        409,
    )

    iam.tag_user(UserName="alice", Tags=[{"Key": "TEAM", "Value": "b"}, {"Key": "x", "Value": "y"}])
    iam.untag_user(UserName="alice", TagKeys=["x"])
    assert iam.list_user_tags(UserName="alice")["Tags"] == [{"Key": "TEAM", "Value": "b"}]
    iam.put_user_permissions_boundary(UserName="alice", PermissionsBoundary=BASIC)
    assert iam.get_user(UserName="alice")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == BASIC
    iam.delete_user_permissions_boundary(UserName="alice")

    iam.create_user(UserName="bob")
    assert error(iam.update_user, UserName="alice", NewUserName="BOB") == (
        "EntityAlreadyExists",
        "User with name BOB already exists.",
        409,
    )
    iam.update_user(UserName="alice", NewUserName="carol", NewPath="/ops/")
    moved = iam.get_user(UserName="carol")["User"]
    assert moved["UserId"] == created["UserId"] and moved["Arn"] == "arn:aws:iam::000000000000:user/ops/carol"
    assert error(iam.get_user, UserName="alice") == ("NoSuchEntity", "The user with name alice cannot be found.", 404)

    names = [u["UserName"] for u in iam.list_users()["Users"]]
    assert names[:2] == ["bob", "broker"] and "carol" in names
    page = iam.list_users(MaxItems=1)
    assert page["IsTruncated"] and len(page["Users"]) == 1
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/ops/")["Users"]] == ["carol"]
    assert all("Tags" not in u for u in iam.list_users()["Users"])

    iam.attach_user_policy(UserName="carol", PolicyArn=BASIC)
    assert error(iam.delete_user, UserName="carol") == (
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
        409,
    )
    iam.detach_user_policy(UserName="carol", PolicyArn=BASIC)
    iam.delete_user(UserName="carol")
    assert error(iam.delete_user, UserName="carol") == (
        "NoSuchEntity",
        "The user with name carol cannot be found.",
        404,
    )


def test_access_keys(iam):
    iam.create_user(UserName="u")
    first = iam.create_access_key(UserName="u")["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", first["AccessKeyId"]) and len(first["SecretAccessKey"]) == 40
    assert first["Status"] == "Active" and first["UserName"] == "u"
    second = iam.create_access_key(UserName="u")["AccessKey"]
    assert error(iam.create_access_key, UserName="u") == (
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
        409,
    )
    listed = iam.list_access_keys(UserName="u")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [first["AccessKeyId"], second["AccessKeyId"]]
    assert all("SecretAccessKey" not in k and k["UserName"] == "u" for k in listed)
    page = iam.list_access_keys(UserName="u", MaxItems=1)
    assert (
        page["IsTruncated"]
        and iam.list_access_keys(UserName="u", Marker=page["Marker"])["AccessKeyMetadata"] == listed[1:]
    )

    iam.update_access_key(UserName="u", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName="u")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    last = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])
    assert last["UserName"] == "u" and last["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}

    assert error(iam.delete_user, UserName="u") == (
        "DeleteConflict",
        "Cannot delete entity, must delete access keys first.",
        409,
    )
    unknown = "AKIAAAAAAAAAAAAAAAAA"
    missing = ("NoSuchEntity", f"The Access Key with id {unknown} cannot be found.", 404)
    assert error(iam.delete_access_key, UserName="u", AccessKeyId=unknown) == missing
    assert error(iam.update_access_key, UserName="u", AccessKeyId=unknown, Status="Active") == missing
    assert error(iam.get_access_key_last_used, AccessKeyId=unknown) == missing
    # A key belongs to its user only.
    assert error(iam.delete_access_key, AccessKeyId=first["AccessKeyId"])[0] == "NoSuchEntity"
    assert (
        error(iam.update_access_key, UserName="u", AccessKeyId=first["AccessKeyId"], Status="On")[0]
        == "ValidationError"
    )
    for key in (first, second):
        iam.delete_access_key(UserName="u", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="u")
    assert error(iam.create_access_key, UserName="u") == ("NoSuchEntity", "The user with name u cannot be found.", 404)

    # Without a user name: the caller's keys.
    mine = iam.create_access_key()["AccessKey"]
    assert mine["UserName"] == iam.get_user()["User"]["UserName"]
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [mine["AccessKeyId"]]
    iam.delete_access_key(AccessKeyId=mine["AccessKeyId"])
