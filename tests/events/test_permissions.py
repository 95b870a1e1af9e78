"""EventBridge bus resource policies (PutPermission, RemovePermission, DescribeEventBus's Policy) and
UpdateEventBus, through boto3 against the shared broker."""

from __future__ import annotations

import json

from tests.events.helpers import ACCOUNT, bus_arn, error

OTHER = "111122223333"


def _policy(events, bus: str = "default") -> dict | None:
    out = events.describe_event_bus(Name=bus)
    return json.loads(out["Policy"]) if "Policy" in out else None


def test_put_permission_builds_statements_on_the_default_bus(events):
    events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="one")
    events.put_permission(
        Action="events:PutEvents",
        Principal="*",
        StatementId="org",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-abc"},
    )
    try:
        policy = _policy(events)
        assert policy["Version"] == "2012-10-17"
        one, org = policy["Statement"]
        assert one == {
            "Sid": "one",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": "events:PutEvents",
            "Resource": bus_arn("default"),
        }
        assert org["Principal"] == "*"
        assert org["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}
        # The same StatementId again replaces its statement.
        events.put_permission(Action="events:PutEvents", Principal="444455556666", StatementId="one")
        sids = [(s["Sid"], s["Principal"]) for s in _policy(events)["Statement"]]
        assert sids == [("org", "*"), ("one", {"AWS": "arn:aws:iam::444455556666:root"})]
        events.remove_permission(StatementId="org")
        assert [s["Sid"] for s in _policy(events)["Statement"]] == ["one"]
        events.remove_permission(StatementId="one")
        assert _policy(events) is None
    finally:
        events.remove_permission(RemoveAllPermissions=True)


def test_put_permission_with_a_whole_policy_on_a_custom_bus(events):
    events.create_event_bus(Name="perm-bus")
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "all",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "events:PutEvents",
                "Resource": bus_arn("perm-bus"),
            }
        ],
    }
    events.put_permission(EventBusName="perm-bus", Policy=json.dumps(doc))
    assert _policy(events, "perm-bus") == doc
    events.remove_permission(EventBusName="perm-bus", RemoveAllPermissions=True)
    assert _policy(events, "perm-bus") is None
    events.delete_event_bus(Name="perm-bus")


def test_permission_errors(events):
    assert error(
        events.put_permission, EventBusName="nope", Action="events:PutEvents", Principal=OTHER, StatementId="x"
    ) == ("ResourceNotFoundException", "Event bus nope does not exist.")
    code, message = error(events.put_permission, Action="events:PutEvents", StatementId="x")
    assert code == "ValidationException" and "Principal" in message
    code, _ = error(events.put_permission, Action="events:PutRule", Principal=OTHER, StatementId="x")
    assert code == "ValidationException"
    code, _ = error(events.put_permission, Action="events:PutEvents", Principal="12", StatementId="x")
    assert code == "ValidationException"
    code, _ = error(events.put_permission, Policy="{not json")
    assert code == "ValidationException"
    big = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "x" * 11_000}]})
    assert error(events.put_permission, Policy=big)[0] == "PolicyLengthExceededException"
    assert error(events.remove_permission, StatementId="none") == (
        "ResourceNotFoundException",
        "EventBus does not have a policy.",
    )
    events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="there")
    try:
        assert error(events.remove_permission, StatementId="none") == (
            "ResourceNotFoundException",
            "Statement with the provided id does not exist.",
        )
        assert error(events.remove_permission, StatementId="there", RemoveAllPermissions=True)[0] == (
            "ValidationException"
        )
    finally:
        events.remove_permission(RemoveAllPermissions=True)


def test_update_event_bus(events):
    events.create_event_bus(Name="upd-bus", Description="before")
    out = events.update_event_bus(
        Name="upd-bus", Description="after", DeadLetterConfig={"Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"}
    )
    assert out["Arn"] == bus_arn("upd-bus") and out["Name"] == "upd-bus"
    assert out["Description"] == "after" and out["DeadLetterConfig"]["Arn"].endswith(":dlq")
    described = events.describe_event_bus(Name="upd-bus")
    assert described["Description"] == "after"
    assert described["LastModifiedTime"] >= described["CreationTime"]
    events.delete_event_bus(Name="upd-bus")
    assert error(events.update_event_bus, Name="upd-bus", Description="x") == (
        "ResourceNotFoundException",
        "Event bus upd-bus does not exist.",
    )
