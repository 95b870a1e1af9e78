"""PutRule as AWS answers it for what the other rule tests leave out: a schedule no firing time can hold is not
valid, and updating a rule ignores the Tags given ("If you are updating an existing rule, any tags you specify in
the PutRule operation are ignored")."""

from __future__ import annotations

import json

from tests.events.helpers import error, rule_arn

INVALID = ("ValidationException", "Parameter ScheduleExpression is not valid.")


def test_schedules_past_2199_are_not_valid(events):
    for expression in ("rate(99999999999999 days)", "rate(100000 days)", "cron(0 0 * * ? 2200)", "cron(0\t0 * * ? *)"):
        assert error(events.put_rule, Name="r", ScheduleExpression=expression) == INVALID
    assert events.list_rules()["Rules"] == []
    events.put_rule(Name="r", ScheduleExpression="rate(60000 days)")  # first firing in 2191
    assert events.describe_rule(Name="r")["ScheduleExpression"] == "rate(60000 days)"


def test_updating_a_rule_keeps_its_tags(events):
    pattern = json.dumps({"source": ["x"]})
    events.put_rule(Name="r", EventPattern=pattern, Tags=[{"Key": "team", "Value": "a"}])
    events.put_rule(
        Name="r",
        EventPattern=pattern,
        Description="changed",
        Tags=[{"Key": "team", "Value": "b"}, {"Key": "n", "Value": "1"}],
    )
    assert events.describe_rule(Name="r")["Description"] == "changed"
    assert events.list_tags_for_resource(ResourceARN=rule_arn("r"))["Tags"] == [{"Key": "team", "Value": "a"}]
    events.put_rule(Name="r", EventPattern=pattern)  # no Tags: still kept
    assert events.list_tags_for_resource(ResourceARN=rule_arn("r"))["Tags"] == [{"Key": "team", "Value": "a"}]
