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
    assert error(events.put_targets, Rule="r", Targets=[{"Id": "a", "Arn": QUEUE, "InputPath": "detail"}]) == (
        "ValidationException",
        "InputPath for target a is invalid.",
    )
    # InputPathsMap takes JSON dot notation (and array indices) only; InputPath may use brackets.
    for path in ("$.detail['x']", "$['detail']", "detail.x"):
        transformer = {"InputPathsMap": {"x": path}, "InputTemplate": "<x>"}
        assert error(
            events.put_targets, Rule="r", Targets=[{"Id": "a", "Arn": QUEUE, "InputTransformer": transformer}]
        ) == ("ValidationException", "InputPathsMap for target a is invalid.")
    code, message = error(events.put_targets, Rule="r", Targets=[{"Id": "bad id", "Arn": QUEUE}])
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'bad id' at 'targets.")
    assert events.list_targets_by_rule(Rule="r")["Targets"] == []
    ok = [
        {"Id": "p", "Arn": QUEUE, "InputPath": "$.detail['x'][0]"},
        {"Id": "t", "Arn": QUEUE, "InputTransformer": {"InputPathsMap": {"x": "$.detail.x"}, "InputTemplate": "<x>"}},
        {
            "Id": "u",
            "Arn": QUEUE,
            "InputTransformer": {"InputPathsMap": {"r": "$.resources[0]"}, "InputTemplate": "<r>"},
        },
    ]
    events.put_targets(Rule="r", Targets=ok)
    assert [t["Id"] for t in events.list_targets_by_rule(Rule="r")["Targets"]] == ["p", "t", "u"]


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


def test_target_kinds_checked_as_aws(events):
    """AWS refuses the whole request (nothing is stored) for these; FailedEntries stays for concurrent changes."""
    events.put_rule(Name="r", EventPattern=PATTERN)
    fifo = "arn:aws:sqs:us-east-1:000000000000:ordered.fifo"
    assert error(events.put_targets, Rule="r", Targets=[{"Id": "a", "Arn": QUEUE}, {"Id": "f", "Arn": fifo}]) == (
        "ValidationException",
        "Parameter(s) SqsParameters must be specified for target: f.",
    )
    machine = "arn:aws:states:us-east-1:000000000000:stateMachine:flow"
    assert error(events.put_targets, Rule="r", Targets=[{"Id": "s", "Arn": machine}]) == (
        "ValidationException",
        f"RoleArn is required for target {machine}.",
    )
    assert error(events.put_targets, Rule="r", Targets=[{"Id": "x", "Arn": "not-an-arn"}]) == (
        "ValidationException",
        "Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format.",
    )
    both = {"Id": "i", "Arn": QUEUE, "Input": "{}", "InputPath": "$.detail"}
    assert error(events.put_targets, Rule="r", Targets=[both]) == (
        "ValidationException",
        "Only one of Input, InputPath, or InputTransformer must be provided.",
    )
    assert events.list_targets_by_rule(Rule="r")["Targets"] == []

    # What AWS accepts is stored: a FIFO queue with its group id, a role-driven target with its role.
    role = "arn:aws:iam::000000000000:role/events"
    ok = [
        {"Id": "f", "Arn": fifo, "SqsParameters": {"MessageGroupId": "g"}},
        {"Id": "s", "Arn": machine, "RoleArn": role},
        {"Id": "k", "Arn": "arn:aws:kinesis:us-east-1:000000000000:stream/s"},
    ]
    assert events.put_targets(Rule="r", Targets=ok)["FailedEntryCount"] == 0
    assert [t["Id"] for t in events.list_targets_by_rule(Rule="r")["Targets"]] == ["f", "k", "s"]


def test_role_required_for_api_destinations_and_buses_elsewhere(events):
    """AWS refuses these without RoleArn ("RoleArn is required for target <arn>."); a bus of another account takes
    no Input, InputPath or InputTransformer (PutTargets)."""
    events.put_rule(Name="r", EventPattern=PATTERN)
    role = "arn:aws:iam::000000000000:role/events"
    api = "arn:aws:events:us-east-1:000000000000:api-destination/dest/0a1b2c3d-0000-4000-8000-000000000000"
    other_account = "arn:aws:events:us-east-1:111111111111:event-bus/central"
    other_region = "arn:aws:events:us-west-2:000000000000:event-bus/default"
    for arn in (api, other_account, other_region):
        assert error(events.put_targets, Rule="r", Targets=[{"Id": "x", "Arn": arn}]) == (
            "ValidationException",
            f"RoleArn is required for target {arn}.",
        )
    for extra in ({"Input": "{}"}, {"InputPath": "$.detail"}):
        assert error(
            events.put_targets, Rule="r", Targets=[{"Id": "x", "Arn": other_account, "RoleArn": role, **extra}]
        ) == (
            "ValidationException",
            f"Input, InputPath, and InputTransformer are not supported for target {other_account}.",
        )
    assert events.list_targets_by_rule(Rule="r")["Targets"] == []

    same = "arn:aws:events:us-east-1:000000000000:event-bus/default"  # the same account and Region: no role needed
    ok = [
        {"Id": "api", "Arn": api, "RoleArn": role},
        {"Id": "acct", "Arn": other_account, "RoleArn": role},
        {"Id": "region", "Arn": other_region, "RoleArn": role, "InputPath": "$.detail"},
        {"Id": "same", "Arn": same, "InputPath": "$.detail"},
    ]
    assert events.put_targets(Rule="r", Targets=ok)["FailedEntryCount"] == 0
    assert [t["Id"] for t in events.list_targets_by_rule(Rule="r")["Targets"]] == ["acct", "api", "region", "same"]


def test_a_bus_that_does_not_exist(events):
    missing = ("ResourceNotFoundException", "Event bus nope does not exist.")
    assert error(events.list_rule_names_by_target, TargetArn=QUEUE, EventBusName="nope") == missing
    assert error(events.delete_rule, Name="r", EventBusName="nope") == missing
    events.create_event_bus(Name="there")
    events.delete_rule(Name="never-made", EventBusName="there")  # a missing rule of an existing bus: no error
    assert events.list_rule_names_by_target(TargetArn=QUEUE, EventBusName="there")["RuleNames"] == []
