"""PutRule, DescribeRule, ListRules, EnableRule, DisableRule, DeleteRule through boto3: patterns and schedules
validated, ARNs per bus, AWS's errors."""

from __future__ import annotations

import json

import pytest

from tests.events.helpers import error, rule_arn

PATTERN = json.dumps({"source": ["my.app"], "detail": {"size": [{"numeric": [">", 10]}]}})


def test_put_describe_rule_on_default_bus(events):
    arn = events.put_rule(Name="r1", EventPattern=PATTERN, Description="d")["RuleArn"]
    assert arn == rule_arn("r1")
    rule = events.describe_rule(Name="r1")
    assert rule["Arn"] == arn
    assert rule["EventPattern"] == PATTERN
    assert rule["State"] == "ENABLED"
    assert rule["Description"] == "d"
    assert rule["EventBusName"] == "default"
    assert rule["CreatedBy"] == "000000000000"


def test_rule_on_custom_bus_has_bus_in_arn(events):
    events.create_event_bus(Name="orders")
    arn = events.put_rule(Name="r", EventBusName="orders", EventPattern=PATTERN, State="DISABLED")["RuleArn"]
    assert arn == rule_arn("r", "orders")
    assert events.describe_rule(Name="r", EventBusName="orders")["State"] == "DISABLED"
    assert error(events.describe_rule, Name="r") == (
        "ResourceNotFoundException",
        "Rule r does not exist on EventBus default.",
    )


def test_put_rule_on_missing_bus(events):
    assert error(events.put_rule, Name="r", EventBusName="nope", EventPattern=PATTERN) == (
        "ResourceNotFoundException",
        "Event bus nope does not exist.",
    )


def test_rule_needs_pattern_or_schedule(events):
    assert error(events.put_rule, Name="r") == (
        "ValidationException",
        "Parameter(s) EventPattern or ScheduleExpression must be specified.",
    )


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minute)", "rate(5 minutes)", "rate(2 hours)", "rate(1 day)", "cron(0 12 * * ? *)",
     "cron(15 10 ? * 6L 2019-2022)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 8 1 * ? *)", "cron(0 9 ? * 2#1 *)"],
)  # fmt: skip
def test_valid_schedules(events, expression):
    events.put_rule(Name="s", ScheduleExpression=expression)
    assert events.describe_rule(Name="s")["ScheduleExpression"] == expression


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(x hours)", "cron(0 12 * * * *)",
     "cron(0 12 ? * ? *)", "cron(0 12 * *)", "cron(60 12 * * ? *)", "cron(0 24 * * ? *)", "every day"],
)  # fmt: skip
def test_invalid_schedules(events, expression):
    assert (
        error(events.put_rule, Name="s", ScheduleExpression=expression, EventPattern=PATTERN)
        == (
            "ValidationException",
            "Parameter ScheduleExpression is not valid.",
        )
        or expression == ""
    )


def test_schedule_only_on_default_bus(events):
    events.create_event_bus(Name="custom")
    assert error(events.put_rule, Name="s", EventBusName="custom", ScheduleExpression="rate(1 day)") == (
        "ValidationException",
        "ScheduleExpression is supported only on the default event bus.",
    )


@pytest.mark.parametrize("pattern", ["not json", "[1]", '{"source": "x"}', '{"a": [{"numeric": [">"]}]}'])
def test_invalid_patterns(events, pattern):
    code, message = error(events.put_rule, Name="p", EventPattern=pattern)
    assert code == "InvalidEventPatternException"
    assert message.startswith("Event pattern is not valid. Reason: ")


def test_put_rule_replaces(events):
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_rule(Name="r", ScheduleExpression="rate(1 hour)")
    rule = events.describe_rule(Name="r")
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    assert "EventPattern" not in rule


def test_enable_disable(events):
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.disable_rule(Name="r")
    assert events.describe_rule(Name="r")["State"] == "DISABLED"
    events.enable_rule(Name="r")
    assert events.describe_rule(Name="r")["State"] == "ENABLED"
    missing = ("ResourceNotFoundException", "Rule nope does not exist on EventBus default.")
    assert error(events.enable_rule, Name="nope") == missing
    assert error(events.disable_rule, Name="nope") == missing


def test_list_rules_prefix_and_paging(events):
    for name in ("a1", "a2", "a3", "b1"):
        events.put_rule(Name=name, EventPattern=PATTERN)
    first = events.list_rules(NamePrefix="a", Limit=2)
    assert [r["Name"] for r in first["Rules"]] == ["a1", "a2"]
    assert first["Rules"][0]["Arn"] == rule_arn("a1")
    second = events.list_rules(NamePrefix="a", Limit=2, NextToken=first["NextToken"])
    assert [r["Name"] for r in second["Rules"]] == ["a3"]
    assert "NextToken" not in second
    assert [r["Name"] for r in events.list_rules()["Rules"]] == ["a1", "a2", "a3", "b1"]
    assert error(events.list_rules, EventBusName="nope") == (
        "ResourceNotFoundException",
        "Event bus nope does not exist.",
    )


def test_delete_rule(events):
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"}])
    assert error(events.delete_rule, Name="r") == ("ValidationException", "Rule can't be deleted since it has targets.")
    events.remove_targets(Rule="r", Ids=["t"])
    events.delete_rule(Name="r")
    assert error(events.describe_rule, Name="r")[0] == "ResourceNotFoundException"
    events.delete_rule(Name="r")  # idempotent


def test_deleting_a_bus_removes_its_rules(events):
    events.create_event_bus(Name="gone")
    events.put_rule(Name="r", EventBusName="gone", EventPattern=PATTERN)
    events.delete_event_bus(Name="gone")
    events.create_event_bus(Name="gone")
    assert events.list_rules(EventBusName="gone")["Rules"] == []
