"""EventBridge Scheduler's schedules through boto3: CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule and
ListSchedules, their defaults and AWS's errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.scheduler.helpers import OFF, ROLE, error, now_ms, schedule_arn

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"


def create(scheduler, name: str, expression: str = "rate(5 minutes)", **kw):
    kw.setdefault("Target", {"Arn": QUEUE, "RoleArn": ROLE})
    kw.setdefault("FlexibleTimeWindow", OFF)
    return scheduler.create_schedule(Name=name, ScheduleExpression=expression, **kw)


def test_create_and_get_with_defaults(scheduler):
    assert create(scheduler, "s1", Description="d")["ScheduleArn"] == schedule_arn("s1")
    got = scheduler.get_schedule(Name="s1")
    assert got["Arn"] == schedule_arn("s1") and got["GroupName"] == "default" and got["Name"] == "s1"
    assert got["ScheduleExpression"] == "rate(5 minutes)" and got["ScheduleExpressionTimezone"] == "UTC"
    assert got["State"] == "ENABLED" and got["ActionAfterCompletion"] == "NONE" and got["Description"] == "d"
    assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert got["Target"] == {
        "Arn": QUEUE,
        "RoleArn": ROLE,
        "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
    }
    assert got["CreationDate"] == got["LastModificationDate"]
    assert "StartDate" not in got and "EndDate" not in got


def test_create_in_a_group_with_every_member(scheduler):
    scheduler.create_schedule_group(Name="g1")
    start = datetime(2030, 1, 1, tzinfo=UTC)
    target = {
        "Arn": QUEUE + ".fifo",
        "RoleArn": ROLE,
        "Input": "hi",
        "SqsParameters": {"MessageGroupId": "m"},
        "RetryPolicy": {"MaximumRetryAttempts": 3},
        "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"},
    }
    arn = create(
        scheduler,
        "s1",
        "cron(0 8 * * ? *)",
        GroupName="g1",
        ScheduleExpressionTimezone="Europe/Berlin",
        StartDate=start,
        EndDate=start + timedelta(days=30),
        State="DISABLED",
        Target=target,
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        ActionAfterCompletion="DELETE",
    )["ScheduleArn"]
    assert arn == schedule_arn("s1", "g1")
    got = scheduler.get_schedule(Name="s1", GroupName="g1")
    assert got["StartDate"] == start and got["EndDate"] == start + timedelta(days=30)
    assert got["State"] == "DISABLED" and got["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert got["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 3}
    assert got["Target"]["SqsParameters"] == {"MessageGroupId": "m"} and got["Target"]["Input"] == "hi"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert error(scheduler.get_schedule, 404, Name="s1") == ("ResourceNotFoundException", "Schedule s1 does not exist.")


def test_create_errors(scheduler, raw_scheduler):
    create(scheduler, "s1")
    assert error(create, 409, scheduler=scheduler, name="s1") == ("ConflictException", "Schedule s1 already exists.")
    code, message = error(create, 404, scheduler=scheduler, name="s2", GroupName="nope")
    assert (code, message) == ("ResourceNotFoundException", "Schedule group nope does not exist.")
    for bad in ("rate(10 seconds)", "rate(0 minutes)", "rate(10 minutess)", "cron(0 1 * * * *)", "at(2021-12-31)",
                "at(2021-12-31T23:59:59Z)", "at(2021-02-30T10:00:00)", " rate(10 minutes)", "every day"):  # fmt: skip
        code, message = error(create, scheduler=scheduler, name="s3", expression=bad)
        assert (code, message) == ("ValidationException", f"Invalid Schedule Expression {bad}.")
    invalid = ValidationError(scheduler, raw_scheduler)
    invalid("Invalid timezone Mars/Olympus.", ScheduleExpressionTimezone="Mars/Olympus")
    invalid(
        "MaximumWindowInMinutes must be provided when FlexibleTimeWindow Mode is FLEXIBLE.",
        FlexibleTimeWindow={"Mode": "FLEXIBLE"},
    )
    invalid(
        "MaximumWindowInMinutes must not be provided when FlexibleTimeWindow Mode is OFF.",
        FlexibleTimeWindow={"Mode": "OFF", "MaximumWindowInMinutes": 5},
    )
    invalid(
        "1 validation error detected: Value '1441' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy "
        "constraint: Member must have value less than or equal to 1440",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441},
    )
    when = datetime(2030, 1, 1, tzinfo=UTC)
    invalid("The EndDate must be after the StartDate.", StartDate=when, EndDate=when - timedelta(hours=1))
    lam = "arn:aws:lambda:us-east-1:000000000000:function:f"
    invalid(
        f"Invalid target input for {lam}: the input must be well-formed JSON.",
        Target={"Arn": lam, "RoleArn": ROLE, "Input": "not json"},
    )
    invalid(
        "1 validation error detected: Value '59' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy "
        "constraint: Member must have value greater than or equal to 60",
        raw=True,
        Target={"Arn": QUEUE, "RoleArn": ROLE, "RetryPolicy": {"MaximumEventAgeInSeconds": 59}},
    )
    code, message = error(create, scheduler=scheduler, name="bad name!")
    assert code == "ValidationException" and "'bad name!'" in message and "[0-9a-zA-Z-_.]+" in message
    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == ["s1"]


class ValidationError:
    """Asserts that CreateSchedule and UpdateSchedule of schedule s1 both refuse a request with this message."""

    def __init__(self, scheduler, raw_scheduler) -> None:
        self.scheduler, self.raw = scheduler, raw_scheduler

    def __call__(self, message: str, raw: bool = False, **kw) -> None:
        client = self.raw if raw else self.scheduler
        expression = kw.pop("ScheduleExpression", "rate(5 minutes)")
        assert error(create, scheduler=client, name="s9", expression=expression, **kw) == (
            "ValidationException",
            message,
        )
        kw.setdefault("Target", {"Arn": QUEUE, "RoleArn": ROLE})
        kw.setdefault("FlexibleTimeWindow", OFF)
        update = client.update_schedule
        assert error(update, Name="s1", ScheduleExpression=expression, **kw) == ("ValidationException", message)


def test_dates_of_recurring_schedules_must_lie_ahead(broker, scheduler, raw_scheduler):
    """StartDate at most 5 minutes in the past, EndDate in the future; a one-time schedule ignores both."""
    create(scheduler, "s1")
    invalid = ValidationError(scheduler, raw_scheduler)
    now = datetime.fromtimestamp(now_ms(broker) / 1000, UTC)
    past = now - timedelta(days=1)
    early = "The StartDate you specify cannot be earlier than 5 minutes ago."
    invalid(early, StartDate=past)
    invalid(early, StartDate=now - timedelta(minutes=6), ScheduleExpression="cron(0 8 * * ? *)")
    invalid("The EndDate must be in the future.", EndDate=past)
    invalid("The EndDate must be in the future.", EndDate=now - timedelta(seconds=1), ScheduleExpression="rate(1 day)")
    create(scheduler, "recent", StartDate=now - timedelta(minutes=4), EndDate=now + timedelta(days=1))
    assert scheduler.get_schedule(Name="recent")["StartDate"] == now - timedelta(minutes=4)
    # A one-time schedule whose time has passed is accepted (AWS documents no refusal) and never fires.
    create(scheduler, "once", "at(2020-01-01T00:00:00)", StartDate=past, EndDate=past + timedelta(hours=1))
    assert scheduler.get_schedule(Name="once")["ScheduleExpression"] == "at(2020-01-01T00:00:00)"


def test_targets_are_checked(scheduler, raw_scheduler):
    create(scheduler, "s1")
    invalid = ValidationError(scheduler, raw_scheduler)
    # Read-only universal actions, whatever their case.
    for action in ("listQueues", "ListQueues", "getQueueUrl", "GetQueueAttributes", "receiveMessage"):
        arn = f"arn:aws:scheduler:::aws-sdk:sqs:{action}"
        invalid(
            f"The target API action of {arn} is not supported: read-only actions cannot be targets.",
            Target={"Arn": arn, "RoleArn": ROLE, "Input": "{}"},
        )
    # The service is named by its SDK identifier, not its endpoint prefix.
    for service in ("events", "logs", "cognito-idp", "nosuchservice"):
        arn = f"arn:aws:scheduler:::aws-sdk:{service}:createThing"
        message = (
            f"Invalid target {arn}."
            if "-" in service
            else f"Invalid target {arn}: {service} is not an AWS SDK service identifier this endpoint serves."
        )
        invalid(message, Target={"Arn": arn, "RoleArn": ROLE, "Input": "{}"})
    arn = "arn:aws:scheduler:::aws-sdk:sqs:sendMessages"
    invalid(f"Invalid target {arn}: sqs has no API action sendMessages.", Target={"Arn": arn, "RoleArn": ROLE})
    arn = "arn:aws:scheduler:::aws-sdk:eventbridge:putEvents"
    invalid(
        f"Invalid target input for {arn}: the input must be well-formed JSON.",
        Target={"Arn": arn, "RoleArn": ROLE, "Input": "x"},
    )
    # Templated targets: only the services this endpoint delivers to.
    for arn in (
        "arn:aws:states:us-east-1:000000000000:stateMachine:m",
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/d",
        "arn:aws:ecs:us-east-1:000000000000:cluster/c",
    ):
        invalid(
            f"Invalid target {arn}: this endpoint delivers to SQS, SNS, Lambda, Kinesis and EventBridge.",
            Target={"Arn": arn, "RoleArn": ROLE, "Input": "{}"},
        )
    bus = "arn:aws:events:us-east-1:000000000000:event-bus/default"
    invalid(
        f"EventBridgeParameters must be provided for the event bus target {bus}.",
        Target={"Arn": bus, "RoleArn": ROLE, "Input": "{}"},
    )
    invalid("Invalid target not-an-arn.", Target={"Arn": "not-an-arn", "RoleArn": ROLE})
    # Accepted: universal targets of served services by their SDK identifiers, and the templated ones.
    accepted = [
        "arn:aws:scheduler:::aws-sdk:eventbridge:putEvents",
        "arn:aws:scheduler:::aws-sdk:cloudwatchlogs:createLogGroup",
        "arn:aws:scheduler:::aws-sdk:apigatewayv2:createApi",
        "arn:aws:scheduler:::aws-sdk:apigateway:createRestApi",
        "arn:aws:scheduler:::aws-sdk:sqs:SendMessage",
        "arn:aws:sns:us-east-1:000000000000:t",
        "arn:aws:kinesis:us-east-1:000000000000:stream/s",
    ]
    for i, arn in enumerate(accepted):
        create(scheduler, f"ok{i}", Target={"Arn": arn, "RoleArn": ROLE, "Input": "{}"})
    bridge = {"DetailType": "d", "Source": "s"}
    create(scheduler, "ok-bus", Target={"Arn": bus, "RoleArn": ROLE, "EventBridgeParameters": bridge})
    assert len(scheduler.list_schedules()["Schedules"]) == len(accepted) + 2


def test_accepted_expressions(scheduler):
    for i, text in enumerate(
        [
            "rate(1 minute)",
            "rate(2 minute)",
            "rate(1 hours)",
            "rate(3 days)",
            "cron(0/15 8-17 ? * MON-FRI *)",
            "cron(0 12 L * ? 2030)",
            "at(2035-06-01T12:00:00)",
        ]  # fmt: skip
    ):
        create(scheduler, f"s{i}", text, ScheduleExpressionTimezone="America/New_York")
        assert scheduler.get_schedule(Name=f"s{i}")["ScheduleExpression"] == text


def test_client_token_makes_create_idempotent(scheduler):
    create(scheduler, "s1", ClientToken="token-1")
    assert create(scheduler, "s1", ClientToken="token-1")["ScheduleArn"] == schedule_arn("s1")
    assert error(create, 409, scheduler=scheduler, name="s1", ClientToken="token-2")[0] == "ConflictException"


def test_update_replaces_the_whole_schedule(scheduler):
    create(scheduler, "s1", Description="d", ActionAfterCompletion="DELETE", ScheduleExpressionTimezone="Asia/Tokyo")
    created = scheduler.get_schedule(Name="s1")
    target = {"Arn": QUEUE + "2", "RoleArn": ROLE, "Input": "{}"}
    arn = scheduler.update_schedule(
        Name="s1", ScheduleExpression="rate(2 hours)", Target=target, FlexibleTimeWindow=OFF, State="DISABLED"
    )["ScheduleArn"]
    assert arn == schedule_arn("s1")
    got = scheduler.get_schedule(Name="s1")
    assert "Description" not in got  # left out: back to its default
    assert got["ActionAfterCompletion"] == "NONE" and got["ScheduleExpressionTimezone"] == "UTC"
    assert got["ScheduleExpression"] == "rate(2 hours)" and got["State"] == "DISABLED"
    assert got["Target"]["Arn"] == QUEUE + "2"
    assert got["CreationDate"] == created["CreationDate"]
    assert got["LastModificationDate"] >= created["LastModificationDate"]
    code, message = error(
        scheduler.update_schedule, 404, Name="nope", ScheduleExpression="rate(1 hour)", Target=target,
        FlexibleTimeWindow=OFF,
    )  # fmt: skip
    assert (code, message) == ("ResourceNotFoundException", "Schedule nope does not exist.")
    code, _ = error(
        scheduler.update_schedule, Name="s1", ScheduleExpression="rate(x)", Target=target, FlexibleTimeWindow=OFF
    )
    assert code == "ValidationException"


def test_delete(scheduler):
    scheduler.create_schedule_group(Name="g")
    create(scheduler, "s1")
    create(scheduler, "s1", GroupName="g")
    scheduler.delete_schedule(Name="s1")
    assert error(scheduler.get_schedule, 404, Name="s1")[0] == "ResourceNotFoundException"
    assert scheduler.get_schedule(Name="s1", GroupName="g")["GroupName"] == "g"
    code, message = error(scheduler.delete_schedule, 404, Name="s1")
    assert (code, message) == ("ResourceNotFoundException", "Schedule s1 does not exist.")
    scheduler.delete_schedule(Name="s1", GroupName="g")
    assert scheduler.list_schedules()["Schedules"] == []


def test_list_filters_and_pages(scheduler):
    scheduler.create_schedule_group(Name="g")
    for name in ("b", "a", "c"):
        create(scheduler, name)
    create(scheduler, "a", GroupName="g", State="DISABLED")
    create(scheduler, "ab", GroupName="g")
    listed = scheduler.list_schedules()["Schedules"]
    assert [(s["GroupName"], s["Name"]) for s in listed] == [
        ("default", "a"), ("default", "b"), ("default", "c"), ("g", "a"), ("g", "ab")
    ]  # fmt: skip
    first = listed[0]
    assert first["Arn"] == schedule_arn("a") and first["State"] == "ENABLED" and first["Target"] == {"Arn": QUEUE}
    assert "CreationDate" in first and "LastModificationDate" in first
    assert [s["Name"] for s in scheduler.list_schedules(GroupName="g")["Schedules"]] == ["a", "ab"]
    assert [s["Name"] for s in scheduler.list_schedules(NamePrefix="a")["Schedules"]] == ["a", "a", "ab"]
    disabled = scheduler.list_schedules(State="DISABLED")["Schedules"]
    assert [(s["GroupName"], s["Name"]) for s in disabled] == [("g", "a")]
    names, token = [], None
    while True:
        page = scheduler.list_schedules(MaxResults=2, **({"NextToken": token} if token else {}))
        assert len(page["Schedules"]) <= 2
        names += [(s["GroupName"], s["Name"]) for s in page["Schedules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [(s["GroupName"], s["Name"]) for s in listed]
    enabled = scheduler.list_schedules(State="ENABLED", MaxResults=3)
    assert len(enabled["Schedules"]) == 3 and enabled.get("NextToken")
    rest = scheduler.list_schedules(State="ENABLED", MaxResults=3, NextToken=enabled["NextToken"])
    assert [s["Name"] for s in rest["Schedules"]] == ["ab"] and "NextToken" not in rest
    code, message = error(scheduler.list_schedules, 404, GroupName="nope")
    assert (code, message) == ("ResourceNotFoundException", "Schedule group nope does not exist.")
    assert error(scheduler.list_schedules, NextToken="garbage")[0] == "ValidationException"
    assert error(scheduler.list_schedules, MaxResults=101)[0] == "ValidationException"


@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "America/Los_Angeles", "Australia/Lord_Howe"])
def test_time_zones(scheduler, zone):
    create(scheduler, "tz", "cron(0 9 * * ? *)", ScheduleExpressionTimezone=zone)
    assert scheduler.get_schedule(Name="tz")["ScheduleExpressionTimezone"] == zone
