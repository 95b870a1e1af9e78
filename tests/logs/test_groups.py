"""CloudWatch Logs log groups through boto3: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, ListLogGroups,
retention policies, deletion protection and tags (legacy and by ARN), with AWS's error codes and messages
(CloudWatch Logs API Reference)."""

from __future__ import annotations

import pytest

from tests.logs.helpers import client, error_400, group_arn, make_stream, now_ms, put

RETENTION = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]


@pytest.fixture
def logs(broker):
    return client(broker)


def _group(logs, name: str) -> dict:
    (found,) = [g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name]
    return found


def test_create_and_describe_log_groups(broker, logs):
    before = now_ms(broker)
    logs.create_log_group(logGroupName="/app/web")
    logs.create_log_group(
        logGroupName="/app/cold",
        logGroupClass="INFREQUENT_ACCESS",
        kmsKeyId="arn:aws:kms:us-east-1:000000000000:key/1234",
        tags={"team": "a", "env": "prod"},
        deletionProtectionEnabled=True,
    )
    web = _group(logs, "/app/web")
    assert list(web) == [
        "logGroupName",
        "creationTime",
        "metricFilterCount",
        "arn",
        "storedBytes",
        "logGroupClass",
        "logGroupArn",
        "deletionProtectionEnabled",
    ]
    assert before <= web["creationTime"] <= now_ms(broker)
    assert web["arn"] == group_arn("/app/web") + ":*"
    assert web["logGroupArn"] == group_arn("/app/web")
    assert (web["metricFilterCount"], web["storedBytes"], web["logGroupClass"]) == (0, 0, "STANDARD")
    assert web["deletionProtectionEnabled"] is False
    cold = _group(logs, "/app/cold")
    assert cold["logGroupClass"] == "INFREQUENT_ACCESS"
    assert cold["kmsKeyId"] == "arn:aws:kms:us-east-1:000000000000:key/1234"
    assert cold["deletionProtectionEnabled"] is True
    assert logs.list_tags_log_group(logGroupName="/app/cold")["tags"] == {"team": "a", "env": "prod"}
    # storedBytes counts the messages held
    logs.create_log_stream(logGroupName="/app/web", logStreamName="s")
    put(logs, "/app/web", "s", [(now_ms(broker), "12345"), (now_ms(broker), "héllo")])
    assert _group(logs, "/app/web")["storedBytes"] == 5 + 6
    # another Region of the same account sees none of them
    assert client(broker, region="eu-west-1").describe_log_groups()["logGroups"] == []


def test_create_log_group_errors(logs):
    logs.create_log_group(logGroupName="taken")
    err = error_400(logs.create_log_group, logGroupName="taken")
    assert err == {"Code": "ResourceAlreadyExistsException", "Message": "The specified log group already exists"}
    for reserved in ("aws/mine", "AWS/mine"):
        err = error_400(logs.create_log_group, logGroupName=reserved)
        assert err == {
            "Code": "InvalidParameterException",
            "Message": "Log groups starting with AWS/ are reserved for AWS.",
        }
    logs.create_log_group(logGroupName="/aws/lambda/fn")  # only a leading "aws/" is reserved
    err = error_400(logs.create_log_group, logGroupName="bad:name")
    assert err["Code"] == "InvalidParameterException"
    assert err["Message"] == (
        "1 validation error detected: Value 'bad:name' at 'logGroupName' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
    )
    err = error_400(logs.create_log_group, logGroupName="x" * 513)
    assert err["Code"] == "InvalidParameterException"
    assert "Member must have length less than or equal to 512" in err["Message"]
    err = error_400(logs.create_log_group, logGroupName="c", logGroupClass="COLD")
    assert err["Code"] == "InvalidParameterException"
    assert "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]" in err["Message"]
    err = error_400(logs.create_log_group, logGroupName="t", tags={f"k{i}": "v" for i in range(51)})
    assert err["Code"] == "InvalidParameterException"
    assert "Member must have length less than or equal to 50" in err["Message"]


def test_describe_log_groups_filters_and_pages(broker, logs):
    names = ["Zeta", "alpha", "alpha/b", "alpha/c", "beta", "Alpha", "gamma_alphabet"]
    for name in names:
        logs.create_log_group(logGroupName=name, logGroupClass="ESSENTIALS" if name == "beta" else "STANDARD")
    everything = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    assert everything == sorted(names)  # ASCII order: upper case first
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="alpha")["logGroups"]] == [
        "alpha",
        "alpha/b",
        "alpha/c",
    ]
    by_pattern = logs.describe_log_groups(logGroupNamePattern="lpha")["logGroups"]
    assert [g["logGroupName"] for g in by_pattern] == ["Alpha", "alpha", "alpha/b", "alpha/c", "gamma_alphabet"]
    assert set(by_pattern[0]) == {"logGroupName", "creationTime", "arn"}  # AWS returns only these with a pattern
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupClass="INFREQUENT_ACCESS")["logGroups"]] == [
        "beta"
    ]  # INFREQUENT_ACCESS and ESSENTIALS are asked for together
    by_ids = logs.describe_log_groups(
        logGroupIdentifiers=["beta", group_arn("Zeta"), group_arn("x", region="eu-west-1")]
    )
    assert [g["logGroupName"] for g in by_ids["logGroups"]] == ["Zeta", "beta"]
    # paging
    seen, token = [], None
    while True:
        page = logs.describe_log_groups(limit=3, **({"nextToken": token} if token else {}))
        assert len(page["logGroups"]) <= 3
        seen += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == everything
    err = error_400(logs.describe_log_groups, logGroupNamePrefix="a", logGroupNamePattern="b")
    assert err == {
        "Code": "InvalidParameterException",
        "Message": "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
    }
    err = error_400(logs.describe_log_groups, nextToken="garbage")
    assert err == {"Code": "InvalidParameterException", "Message": "The specified nextToken is invalid."}
    assert error_400(logs.describe_log_groups, limit=51)["Code"] == "InvalidParameterException"


def test_list_log_groups(logs):
    for name in ("/aws/lambda/one", "/aws/lambda/two", "/ecs/discovery", "other"):
        logs.create_log_group(logGroupName=name)
    logs.tag_log_group(logGroupName="other", tags={"team": "x"})
    everything = logs.list_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in everything] == ["/aws/lambda/one", "/aws/lambda/two", "/ecs/discovery", "other"]
    assert everything[0] == {
        "logGroupName": "/aws/lambda/one",
        "logGroupArn": group_arn("/aws/lambda/one"),
        "logGroupClass": "STANDARD",
    }
    found = logs.list_log_groups(logGroupNamePattern="^/aws/lambda|discovery")["logGroups"]
    assert [g["logGroupName"] for g in found] == ["/aws/lambda/one", "/aws/lambda/two", "/ecs/discovery"]
    tagged = logs.list_log_groups(logGroupTags=[{"key": "team", "values": ["x"]}])["logGroups"]
    assert [g["logGroupName"] for g in tagged] == ["other"]
    first = logs.list_log_groups(limit=3)
    assert len(first["logGroups"]) == 3
    rest = logs.list_log_groups(limit=3, nextToken=first["nextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == ["other"] and "nextToken" not in rest


def test_retention_policies(logs):
    logs.create_log_group(logGroupName="g")
    for days in RETENTION:
        logs.put_retention_policy(logGroupName="g", retentionInDays=days)
        assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == days
    allowed = ", ".join(str(d) for d in RETENTION)
    for bad in (0, 2, 4, 366, 3654, -1):
        err = error_400(logs.put_retention_policy, logGroupName="g", retentionInDays=bad)
        assert err == {
            "Code": "InvalidParameterException",
            "Message": f"1 validation error detected: Value '{bad}' at 'retentionInDays' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{allowed}]",
        }
    logs.delete_retention_policy(logGroupName="g")
    assert "retentionInDays" not in logs.describe_log_groups()["logGroups"][0]
    for call in (logs.put_retention_policy, logs.delete_retention_policy):
        kw = {"retentionInDays": 7} if call == logs.put_retention_policy else {}
        err = error_400(call, logGroupName="nope", **kw)
        assert err == {"Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."}


def test_delete_log_group_and_deletion_protection(broker, logs):
    make_stream(logs, "g", "s")
    put(logs, "g", "s", [(now_ms(broker), "old event")])
    logs.delete_log_group(logGroupName="g")
    assert logs.describe_log_groups()["logGroups"] == []
    err = error_400(logs.delete_log_group, logGroupName="g")
    assert err == {"Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."}
    # a new group of the same name starts empty
    make_stream(logs, "g", "s")
    assert logs.get_log_events(logGroupName="g", logStreamName="s")["events"] == []

    logs.create_log_group(logGroupName="kept", deletionProtectionEnabled=True)
    logs.create_log_stream(logGroupName="kept", logStreamName="s")
    for call, kw in ((logs.delete_log_group, {}), (logs.delete_log_stream, {"logStreamName": "s"})):
        err = error_400(call, logGroupName="kept", **kw)
        assert err["Code"] == "ValidationException"
        assert "deletion protection" in err["Message"]
    logs.put_log_group_deletion_protection(logGroupIdentifier=group_arn("kept"), deletionProtectionEnabled=False)
    assert _group(logs, "kept")["deletionProtectionEnabled"] is False
    logs.delete_log_group(logGroupName="kept")
    logs.create_log_group(logGroupName="kept")
    logs.put_log_group_deletion_protection(logGroupIdentifier="kept", deletionProtectionEnabled=True)
    assert _group(logs, "kept")["deletionProtectionEnabled"] is True
    err = error_400(logs.put_log_group_deletion_protection, logGroupIdentifier="nope", deletionProtectionEnabled=True)
    assert err["Code"] == "ResourceNotFoundException"


def test_tags_legacy_and_by_arn(logs):
    logs.create_log_group(logGroupName="g", tags={"a": "1"})
    arn = group_arn("g")
    logs.tag_log_group(logGroupName="g", tags={"b": "2", "a": "one"})
    assert logs.list_tags_log_group(logGroupName="g")["tags"] == {"a": "one", "b": "2"}
    logs.untag_log_group(logGroupName="g", tags=["a", "missing"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    logs.tag_resource(resourceArn=arn, tags={"c": "3"})
    logs.untag_resource(resourceArn=arn, tagKeys=["b"])
    assert logs.list_tags_log_group(logGroupName="g")["tags"] == {"c": "3"}
    logs.untag_resource(resourceArn=arn, tagKeys=["c"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {}
    # at most 50 tags
    logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    err = error_400(logs.tag_resource, resourceArn=arn, tags={"one-more": "v"})
    assert err == {"Code": "TooManyTagsException", "Message": "A resource can have no more than 50 tags."}
    assert (
        error_400(logs.tag_log_group, logGroupName="g", tags={"one-more": "v"})["Code"] == "InvalidParameterException"
    )
    # unknown groups and ARNs
    not_found = {"Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."}
    assert error_400(logs.tag_log_group, logGroupName="nope", tags={"a": "b"}) == not_found
    assert error_400(logs.list_tags_log_group, logGroupName="nope") == not_found
    for other in (
        group_arn("nope"),
        group_arn("g", region="eu-west-1"),
        "arn:aws:logs:us-east-1:000000000000:destination:d",
    ):
        err = error_400(logs.list_tags_for_resource, resourceArn=other)
        assert err == {"Code": "ResourceNotFoundException", "Message": "The specified resource does not exist."}
        assert error_400(logs.tag_resource, resourceArn=other, tags={"a": "b"})["Code"] == "ResourceNotFoundException"
    assert (
        error_400(logs.untag_resource, resourceArn="arn:aws:sqs:us-east-1:000000000000:q", tagKeys=["a"])["Code"]
        == "InvalidParameterException"
    )
    err = error_400(logs.tag_resource, resourceArn=arn, tags={"bad\tkey": "v"})
    assert err["Code"] == "InvalidParameterException" and "regular expression pattern" in err["Message"]
