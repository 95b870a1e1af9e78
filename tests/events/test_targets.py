"""PutTargets, RemoveTargets, ListTargetsByRule and ListRuleNamesByTarget through boto3: targets stored as given,
at most five per rule."""

from __future__ import annotations

import json

from tests.events.helpers import error

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"
PATTERN = json.dumps({"source": ["my.app"]})


def test_targets_stored_as_given(events):
    events.put_rule(Name="r", EventPattern=PATTERN)
    targets = [
        {
            "Id": "a",
            "Arn": QUEUE,
            "Input": '{"k": 1}',
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
            "DeadLetterConfig": {"Arn": QUEUE + "-dlq"},
            "SqsParameters": {"MessageGroupId": "g"},
        },
        {"Id": "b", "Arn": QUEUE, "InputPath": "$.detail"},
        {
            "Id": "c",
            "Arn": "arn:aws:kinesis:us-east-1:000000000000:stream/s",
            "KinesisParameters": {"PartitionKeyPath": "$.id"},
            "InputTransformer": {"InputPathsMap": {"src": "$.source"}, "InputTemplate": '{"s": <src>}'},
        },
    ]
    out = events.put_targets(Rule="r", Targets=targets)
    assert (out["FailedEntryCount"], out["FailedEntries"]) == (0, [])
    assert events.list_targets_by_rule(Rule="r")["Targets"] == targets


def test_replace_and_remove(events):
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "a", "Arn": QUEUE}])
    events.put_targets(Rule="r", Targets=[{"Id": "a", "Arn": QUEUE + "2"}])
    assert events.list_targets_by_rule(Rule="r")["Targets"] == [{"Id": "a", "Arn": QUEUE + "2"}]
    out = events.remove_targets(Rule="r", Ids=["a", "missing"])
    assert out["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule="r")["Targets"] == []


def test_five_targets_per_rule(events):
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": f"t{i}", "Arn": QUEUE} for i in range(5)])
    assert error(events.put_targets, Rule="r", Targets=[{"Id": "t5", "Arn": QUEUE}]) == (
        "LimitExceededException",
        "The requested resource exceeds the maximum number allowed.",
    )
    events.put_targets(Rule="r", Targets=[{"Id": "t0", "Arn": QUEUE + "x"}])  # a replacement is no new target
    assert len(events.list_targets_by_rule(Rule="r")["Targets"]) == 5


def test_missing_rule(events):
    missing = ("ResourceNotFoundException", "Rule nope does not exist on EventBus default.")
    assert error(events.put_targets, Rule="nope", Targets=[{"Id": "a", "Arn": QUEUE}]) == missing
    assert error(events.remove_targets, Rule="nope", Ids=["a"]) == missing
    assert error(events.list_targets_by_rule, Rule="nope") == missing


def test_input_validation(events):
    events.put_rule(Name="r", EventPattern=PATTERN)
    code, message = error(events.put_targets, Rule="r", Targets=[{"Id": "a", "Arn": QUEUE, "Input": "{not json"}])
    assert code == "ValidationException"
    assert message.startswith("JSON syntax error in input for target a: ")
    assert error(events.put_targets, Rule="r", Targets=[{"Id": "a", "Arn": QUEUE, "InputPath": "detail"}])[0] == (
        "ValidationException"
    )
    code, message = error(events.put_targets, Rule="r", Targets=[{"Id": "bad id", "Arn": QUEUE}])
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'bad id' at 'targets.")
    assert events.list_targets_by_rule(Rule="r")["Targets"] == []


def test_list_paging_and_rule_names_by_target(events):
    for name in ("r1", "r2", "r3"):
        events.put_rule(Name=name, EventPattern=PATTERN)
        events.put_targets(Rule=name, Targets=[{"Id": "a", "Arn": QUEUE}, {"Id": "b", "Arn": QUEUE + "-other"}])
    page = events.list_targets_by_rule(Rule="r1", Limit=1)
    assert [t["Id"] for t in page["Targets"]] == ["a"]
    rest = events.list_targets_by_rule(Rule="r1", Limit=1, NextToken=page["NextToken"])
    assert [t["Id"] for t in rest["Targets"]] == ["b"]
    assert events.list_rule_names_by_target(TargetArn=QUEUE)["RuleNames"] == ["r1", "r2", "r3"]
    first = events.list_rule_names_by_target(TargetArn=QUEUE, Limit=2)
    assert first["RuleNames"] == ["r1", "r2"]
    assert events.list_rule_names_by_target(TargetArn=QUEUE, NextToken=first["NextToken"])["RuleNames"] == ["r3"]
    assert events.list_rule_names_by_target(TargetArn="arn:aws:sqs:us-east-1:000000000000:none")["RuleNames"] == []
