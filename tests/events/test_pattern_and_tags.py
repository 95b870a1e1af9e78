"""TestEventPattern (the broker's pattern grammar, AWS's required event fields) and tags of buses and rules by
ARN, through boto3."""

from __future__ import annotations

import json

import pytest

from tests.events.helpers import bus_arn, error, rule_arn

EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated", "size": 12.5},
}


@pytest.mark.parametrize(
    ("pattern", "result"),
    [
        ({"source": ["aws.ec2"]}, True),
        ({"source": ["aws.s3"]}, False),
        ({"detail": {"state": [{"prefix": "term"}]}}, True),
        ({"detail": {"state": [{"anything-but": "terminated"}]}}, False),
        ({"detail": {"size": [{"numeric": [">", 10, "<=", 12.5]}]}}, True),
        ({"detail": {"missing": [{"exists": False}]}}, True),
        ({"detail-type": [{"wildcard": "EC2 * Notification"}]}, True),
    ],
)
def test_patterns(events, pattern, result):
    out = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))
    assert out["Result"] is result


@pytest.mark.parametrize("field", ["id", "account", "source", "time", "region", "resources", "detail-type"])
def test_event_needs_the_required_fields(events, field):
    event = {k: v for k, v in EVENT.items() if k != field}
    assert error(events.test_event_pattern, EventPattern='{"source": ["aws.ec2"]}', Event=json.dumps(event)) == (
        "ValidationException",
        "Parameter Event is not valid.",
    )


def test_invalid_event_and_pattern(events):
    assert (
        error(events.test_event_pattern, EventPattern='{"source": ["x"]}', Event="not json")[0] == "ValidationException"
    )
    code, message = error(events.test_event_pattern, EventPattern='{"source": 1}', Event=json.dumps(EVENT))
    assert code == "InvalidEventPatternException"
    assert message.startswith("Event pattern is not valid. Reason: ")


def test_tags_of_rules_and_buses(events):
    events.create_event_bus(Name="orders", Tags=[{"Key": "a", "Value": "1"}])
    events.put_rule(
        Name="r", EventBusName="orders", EventPattern='{"source": ["x"]}', Tags=[{"Key": "x", "Value": "y"}]
    )
    assert events.list_tags_for_resource(ResourceARN=bus_arn("orders"))["Tags"] == [{"Key": "a", "Value": "1"}]
    arn = rule_arn("r", "orders")
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "x", "Value": "y"}]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "x", "Value": "z"}])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "b", "Value": "2"},
        {"Key": "x", "Value": "z"},
    ]
    events.untag_resource(ResourceARN=arn, TagKeys=["x"])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    # the default bus takes tags too, and keeps existing
    events.tag_resource(ResourceARN=bus_arn("default"), Tags=[{"Key": "d", "Value": "v"}])
    assert events.list_tags_for_resource(ResourceARN=bus_arn("default"))["Tags"] == [{"Key": "d", "Value": "v"}]
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default", "orders"]


def test_tags_of_missing_resources(events):
    assert error(events.list_tags_for_resource, ResourceARN=rule_arn("nope")) == (
        "ResourceNotFoundException",
        "Rule nope does not exist on EventBus default.",
    )
    assert error(events.tag_resource, ResourceARN=bus_arn("nope"), Tags=[{"Key": "a", "Value": "b"}]) == (
        "ResourceNotFoundException",
        "Event bus nope does not exist.",
    )
    assert error(events.untag_resource, ResourceARN="not-an-arn", TagKeys=["a"])[0] == "ValidationException"
