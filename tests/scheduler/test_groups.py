"""EventBridge Scheduler's schedule groups and their tags through boto3."""

from __future__ import annotations

from tests.scheduler.helpers import OFF, ROLE, error, group_arn

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"


def test_default_group_always_exists(scheduler):
    got = scheduler.get_schedule_group(Name="default")
    assert got["Arn"] == group_arn("default") and got["Name"] == "default" and got["State"] == "ACTIVE"
    listed = scheduler.list_schedule_groups()["ScheduleGroups"]
    assert [g["Name"] for g in listed] == ["default"]
    code, _ = error(scheduler.delete_schedule_group, Name="default")
    assert code == "ValidationException"
    code, message = error(scheduler.create_schedule_group, 409, Name="default")
    assert (code, message) == ("ConflictException", "Schedule group default already exists.")


def test_create_get_list_delete(scheduler):
    arn = scheduler.create_schedule_group(Name="g1", Tags=[{"Key": "team", "Value": "a"}])["ScheduleGroupArn"]
    assert arn == group_arn("g1")
    got = scheduler.get_schedule_group(Name="g1")
    assert got["Arn"] == arn and got["State"] == "ACTIVE" and got["CreationDate"] == got["LastModificationDate"]
    code, message = error(scheduler.create_schedule_group, 409, Name="g1")
    assert (code, message) == ("ConflictException", "Schedule group g1 already exists.")
    for name in ("g3", "g2", "other"):
        scheduler.create_schedule_group(Name=name)
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == [
        "default", "g1", "g2", "g3", "other"
    ]  # fmt: skip
    assert [g["Name"] for g in scheduler.list_schedule_groups(NamePrefix="g")["ScheduleGroups"]] == ["g1", "g2", "g3"]
    page = scheduler.list_schedule_groups(MaxResults=2)
    assert [g["Name"] for g in page["ScheduleGroups"]] == ["default", "g1"]
    page = scheduler.list_schedule_groups(MaxResults=2, NextToken=page["NextToken"])
    assert [g["Name"] for g in page["ScheduleGroups"]] == ["g2", "g3"]
    assert error(scheduler.list_schedule_groups, NextToken="x")[0] == "ValidationException"
    code, message = error(scheduler.get_schedule_group, 404, Name="nope")
    assert (code, message) == ("ResourceNotFoundException", "Schedule group nope does not exist.")
    code, message = error(scheduler.delete_schedule_group, 404, Name="nope")
    assert (code, message) == ("ResourceNotFoundException", "Schedule group nope does not exist.")


def test_delete_group_deletes_its_schedules(scheduler):
    scheduler.create_schedule_group(Name="g")
    target = {"Arn": QUEUE, "RoleArn": ROLE}
    for name in ("a", "b"):
        scheduler.create_schedule(
            Name=name, GroupName="g", ScheduleExpression="rate(1 hour)", Target=target, FlexibleTimeWindow=OFF
        )
    scheduler.create_schedule(Name="a", ScheduleExpression="rate(1 hour)", Target=target, FlexibleTimeWindow=OFF)
    scheduler.delete_schedule_group(Name="g")
    assert error(scheduler.get_schedule_group, 404, Name="g")[0] == "ResourceNotFoundException"
    assert [(s["GroupName"], s["Name"]) for s in scheduler.list_schedules()["Schedules"]] == [("default", "a")]
    scheduler.create_schedule_group(Name="g")  # the name is free again, and the new group is empty
    assert scheduler.list_schedules(GroupName="g")["Schedules"] == []


def test_client_token_makes_create_idempotent(scheduler):
    scheduler.create_schedule_group(Name="g", ClientToken="t1")
    assert scheduler.create_schedule_group(Name="g", ClientToken="t1")["ScheduleGroupArn"] == group_arn("g")
    assert error(scheduler.create_schedule_group, 409, Name="g", ClientToken="t2")[0] == "ConflictException"


def test_tags_of_groups(scheduler):
    scheduler.create_schedule_group(Name="g", Tags=[{"Key": "a", "Value": "1"}])
    arn = group_arn("g")
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    tags = scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["a", "missing"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    scheduler.tag_resource(ResourceArn=group_arn("default"), Tags=[{"Key": "d", "Value": "x"}])
    assert scheduler.list_tags_for_resource(ResourceArn=group_arn("default"))["Tags"] == [{"Key": "d", "Value": "x"}]
    assert scheduler.get_schedule_group(Name="default")["Name"] == "default"
    missing = group_arn("nope")
    for call, kw in (
        (scheduler.list_tags_for_resource, {}),
        (scheduler.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
        (scheduler.untag_resource, {"TagKeys": ["k"]}),
    ):
        code, message = error(call, 404, ResourceArn=missing, **kw)
        assert (code, message) == ("ResourceNotFoundException", "Schedule group nope does not exist.")
    # A schedule's ARN is not taggable (the model's pattern admits group ARNs only).
    schedule = "arn:aws:scheduler:us-east-1:000000000000:schedule/default/s"
    assert error(scheduler.list_tags_for_resource, ResourceArn=schedule)[0] == "ValidationException"


def test_default_group_has_its_dates(scheduler):
    got = scheduler.get_schedule_group(Name="default")
    assert got["CreationDate"] == got["LastModificationDate"]
    (listed,) = scheduler.list_schedule_groups()["ScheduleGroups"]
    assert listed["CreationDate"] == got["CreationDate"]
    scheduler.tag_resource(ResourceArn=group_arn("default"), Tags=[{"Key": "k", "Value": "v"}])
    assert scheduler.get_schedule_group(Name="default")["CreationDate"] == got["CreationDate"]


def test_tags_of_api_gateway_and_scheduler_on_one_server(broker, scheduler):
    """/tags/{arn} is a path of API Gateway (v1 and v2) and of Scheduler: each request reaches its own service."""
    apigw, apigw2 = broker.client("apigateway"), broker.client("apigatewayv2")
    api = apigw.create_rest_api(name="tagged")["id"]
    api_arn = f"arn:aws:apigateway:us-east-1::/restapis/{api}"
    http_api = apigw2.create_api(Name="tagged2", ProtocolType="HTTP")["ApiId"]
    http_arn = f"arn:aws:apigateway:us-east-1::/apis/{http_api}"
    scheduler.create_schedule_group(Name="tagged")
    apigw.tag_resource(resourceArn=api_arn, tags={"svc": "apigateway"})
    apigw2.tag_resource(ResourceArn=http_arn, Tags={"svc": "apigatewayv2"})
    scheduler.tag_resource(ResourceArn=group_arn("tagged"), Tags=[{"Key": "svc", "Value": "scheduler"}])
    assert apigw.get_tags(resourceArn=api_arn)["tags"] == {"svc": "apigateway"}
    assert apigw2.get_tags(ResourceArn=http_arn)["Tags"] == {"svc": "apigatewayv2"}
    assert scheduler.list_tags_for_resource(ResourceArn=group_arn("tagged"))["Tags"] == [
        {"Key": "svc", "Value": "scheduler"}
    ]
    scheduler.untag_resource(ResourceArn=group_arn("tagged"), TagKeys=["svc"])
    apigw.untag_resource(resourceArn=api_arn, tagKeys=["svc"])
    assert scheduler.list_tags_for_resource(ResourceArn=group_arn("tagged"))["Tags"] == []
    assert apigw.get_tags(resourceArn=api_arn)["tags"] == {}
    assert apigw2.get_tags(ResourceArn=http_arn)["Tags"] == {"svc": "apigatewayv2"}
