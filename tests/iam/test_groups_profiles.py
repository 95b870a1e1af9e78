"""IAM groups (members, inline and attached policies), instance profiles (their one role), and the entities that
use a policy, through boto3."""

from __future__ import annotations

import re

import pytest

from tests.iam.helpers import BASIC, POLICY, TRUST, doc, error, make_role


@pytest.fixture
def iam(broker):
    return broker.client("iam")


def test_groups(iam):
    created = iam.create_group(GroupName="devs", Path="/eng/")["Group"]
    assert re.fullmatch(r"AGPA[A-Z0-9]{17}", created["GroupId"])
    assert created["Arn"] == "arn:aws:iam::000000000000:group/eng/devs"
    assert error(iam.create_group, GroupName="DEVS") == (
        "EntityAlreadyExists",
        "Group with name DEVS already exists.",
        409,
    )
    iam.create_group(GroupName="ops")
    for name in ("zed", "amy"):
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="devs", UserName=name)
    iam.add_user_to_group(GroupName="devs", UserName="amy")  # already a member: accepted
    iam.add_user_to_group(GroupName="ops", UserName="amy")
    got = iam.get_group(GroupName="devs")
    assert got["Group"] == created and [u["UserName"] for u in got["Users"]] == ["amy", "zed"]
    page = iam.get_group(GroupName="devs", MaxItems=1)
    assert page["IsTruncated"] and [u["UserName"] for u in page["Users"]] == ["amy"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="amy")["Groups"]] == ["devs", "ops"]
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["devs", "ops"]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/eng/")["Groups"]] == ["devs"]

    iam.put_group_policy(GroupName="devs", PolicyName="read", PolicyDocument=doc(POLICY))
    assert iam.get_group_policy(GroupName="devs", PolicyName="read")["PolicyDocument"] == POLICY
    assert iam.list_group_policies(GroupName="devs")["PolicyNames"] == ["read"]
    iam.attach_group_policy(GroupName="devs", PolicyArn=BASIC)
    assert iam.list_attached_group_policies(GroupName="devs")["AttachedPolicies"][0]["PolicyArn"] == BASIC

    assert error(iam.delete_user, UserName="zed") == (
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
        409,
    )
    assert error(iam.delete_group, GroupName="devs")[:2] == (
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
    )
    for name in ("amy", "zed"):
        iam.remove_user_from_group(GroupName="devs", UserName=name)
    assert error(iam.remove_user_from_group, GroupName="devs", UserName="amy") == (
        "NoSuchEntity",
        "The user with name amy cannot be found.",
        404,
    )
    assert error(iam.delete_group, GroupName="devs")[1] == "Cannot delete entity, must delete policies first."
    iam.delete_group_policy(GroupName="devs", PolicyName="read")
    assert error(iam.delete_group, GroupName="devs")[1] == "Cannot delete entity, must detach all policies first."
    iam.detach_group_policy(GroupName="devs", PolicyArn=BASIC)
    iam.update_group(GroupName="devs", NewGroupName="builders", NewPath="/")
    assert iam.get_group(GroupName="builders")["Group"]["GroupId"] == created["GroupId"]
    iam.delete_group(GroupName="builders")
    for i in range(10):
        iam.create_group(GroupName=f"g{i}")
        iam.add_user_to_group(GroupName=f"g{i}", UserName="zed")
    assert error(iam.add_user_to_group, GroupName="ops", UserName="zed") == (
        "LimitExceeded",
        "Cannot exceed quota for GroupsPerUser: 10",
        409,
    )
    missing = ("NoSuchEntity", "The group with name builders cannot be found.", 404)
    assert error(iam.get_group, GroupName="builders") == missing
    assert error(iam.add_user_to_group, GroupName="builders", UserName="amy") == missing
    assert error(iam.list_group_policies, GroupName="builders") == missing


def test_instance_profiles(iam):
    role = make_role(iam, "ec2")
    created = iam.create_instance_profile(InstanceProfileName="web", Path="/app/", Tags=[{"Key": "a", "Value": "b"}])
    profile = created["InstanceProfile"]
    assert re.fullmatch(r"AIPA[A-Z0-9]{17}", profile["InstanceProfileId"]) and profile["Roles"] == []
    assert profile["Arn"] == "arn:aws:iam::000000000000:instance-profile/app/web"
    assert error(iam.create_instance_profile, InstanceProfileName="WEB") == (
        "EntityAlreadyExists",
        "Instance Profile WEB already exists.",
        409,
    )
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ec2")
    got = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [r["RoleId"] for r in got["Roles"]] == [role["RoleId"]] and got["Roles"][0][
        "AssumeRolePolicyDocument"
    ] == TRUST
    assert got["Tags"] == [{"Key": "a", "Value": "b"}]
    make_role(iam, "other")
    assert error(iam.add_role_to_instance_profile, InstanceProfileName="web", RoleName="other") == (
        "LimitExceeded",
        "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
        409,
    )
    listed = iam.list_instance_profiles_for_role(RoleName="ec2")["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in listed] == ["web"]
    assert iam.list_instance_profiles_for_role(RoleName="other")["InstanceProfiles"] == []
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/app/")["InstanceProfiles"]] == [
        "web"
    ]

    iam.tag_instance_profile(InstanceProfileName="web", Tags=[{"Key": "c", "Value": "d"}])
    iam.untag_instance_profile(InstanceProfileName="web", TagKeys=["a"])
    assert iam.list_instance_profile_tags(InstanceProfileName="web")["Tags"] == [{"Key": "c", "Value": "d"}]

    conflict = ("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409)
    assert error(iam.delete_role, RoleName="ec2") == conflict
    assert error(iam.delete_instance_profile, InstanceProfileName="web") == conflict
    assert error(iam.remove_role_from_instance_profile, InstanceProfileName="web", RoleName="other") == (
        "NoSuchEntity",
        "The role with name other cannot be found.",
        404,
    )
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="ec2")
    iam.delete_instance_profile(InstanceProfileName="web")
    iam.delete_role(RoleName="ec2")
    assert error(iam.get_instance_profile, InstanceProfileName="web") == (
        "NoSuchEntity",
        "Instance Profile web cannot be found.",
        404,
    )


def test_entities_for_policy(iam):
    arn = iam.create_policy(PolicyName="shared", PolicyDocument=doc(POLICY))["Policy"]["Arn"]
    make_role(iam, "r1", Path="/svc/")
    make_role(iam, "r2", PermissionsBoundary=arn)
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.attach_role_policy(RoleName="r1", PolicyArn=arn)
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)

    def names(**kw):
        out = iam.list_entities_for_policy(PolicyArn=arn, **kw)
        return (
            [g["GroupName"] for g in out["PolicyGroups"]],
            [u["UserName"] for u in out["PolicyUsers"]],
            [r["RoleName"] for r in out["PolicyRoles"]],
        )

    assert names() == (["g"], ["u"], ["r1", "r2"])
    assert names(PolicyUsageFilter="PermissionsPolicy") == (["g"], ["u"], ["r1"])
    assert names(PolicyUsageFilter="PermissionsBoundary") == ([], [], ["r2"])
    assert names(EntityFilter="Role", PathPrefix="/svc/") == ([], [], ["r1"])
    assert names(EntityFilter="AWSManagedPolicy") == ([], [], [])
    page = iam.list_entities_for_policy(PolicyArn=arn, MaxItems=2)
    assert page["IsTruncated"] and len(page["PolicyGroups"] + page["PolicyUsers"] + page["PolicyRoles"]) == 2
    assert iam.list_entities_for_policy(PolicyArn=BASIC)["PolicyRoles"] == []
    missing = "arn:aws:iam::000000000000:policy/none"
    assert error(iam.list_entities_for_policy, PolicyArn=missing) == (
        "NoSuchEntity",
        f"Policy {missing} was not found.",
        404,
    )
