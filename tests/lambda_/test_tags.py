"""Tags of Lambda resources through boto3: functions (a change of the function), event source mappings and code
signing configurations, with Lambda's limits and errors."""

from __future__ import annotations

from tests.lambda_.helpers import ARN, create, error_of


def test_function_tags(lam):
    create(lam, "fn", Tags={"a": "1"})
    arn = f"{ARN}:fn"
    assert lam.list_tags(Resource=arn)["Tags"] == {"a": "1"}
    before = lam.get_function_configuration(FunctionName="fn")["RevisionId"]
    tagged = lam.tag_resource(Resource=arn, Tags={"b": "2", "a": "x"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"a": "x", "b": "2"}
    assert lam.get_function_configuration(FunctionName="fn")["RevisionId"] != before
    lam.untag_resource(Resource=arn, TagKeys=["a", "not-there"])
    assert lam.get_function(FunctionName="fn")["Tags"] == {"b": "2"}
    lam.untag_resource(Resource=arn, TagKeys=["b"])
    assert lam.list_tags(Resource=arn)["Tags"] == {}

    lam.tag_resource(Resource=arn, Tags={f"k{i}": "v" for i in range(49)})
    err = error_of(lam.tag_resource, 400, Resource=arn, Tags={"x": "1", "y": "2"})
    assert err == {"Code": "InvalidParameterValueException", "Message": "Number of tags exceeds resource tag limit."}
    assert len(lam.list_tags(Resource=arn)["Tags"]) == 49
    err = error_of(lam.tag_resource, 400, Resource=f"{ARN}:other", Tags={f"k{i}": "v" for i in range(51)})
    assert err["Message"] == "Number of tags exceeds resource tag limit."
    err = error_of(lam.tag_resource, 400, Resource=arn, Tags={})
    assert err["Message"] == "An error occurred and the request cannot be processed."

    for qualified in (f"{arn}:1", f"{arn}:$LATEST", f"{arn}:live"):
        err = error_of(lam.tag_resource, 400, Resource=qualified, Tags={"a": "1"})
        assert (
            err["Message"] == "Tags on function aliases and versions are not supported. Please specify a function ARN."
        )
    for call, extra in (
        (lam.tag_resource, {"Tags": {"a": "1"}}),
        (lam.untag_resource, {"TagKeys": ["a"]}),
        (lam.list_tags, {}),
    ):
        err = error_of(call, 404, Resource=f"{ARN}:nope", **extra)
        assert err["Message"] == f"Function not found: {ARN}:nope"
    err = error_of(lam.tag_resource, 400, Resource="arn:aws:something", Tags={"a": "1"})
    assert err["Code"] == "ValidationException" and "at 'resource'" in err["Message"]


def test_tags_of_mappings_and_code_signing_configs(lam):
    create(lam, "fn")
    mapping = lam.create_event_source_mapping(
        FunctionName="fn", EventSourceArn="arn:aws:sqs:us-east-1:000000000000:q", Tags={"team": "a"}
    )
    arn = mapping["EventSourceMappingArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lam.tag_resource(Resource=arn, Tags={"env": "dev"})
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "dev"}
    assert "Tags" not in lam.get_event_source_mapping(UUID=mapping["UUID"])

    csc = lam.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": ["arn:aws:signer:us-east-1:000000000000:/signing-profiles/p"]},
        Tags={"a": "1"},
    )["CodeSigningConfig"]
    csc_arn = csc["CodeSigningConfigArn"]
    lam.tag_resource(Resource=csc_arn, Tags={"b": "2"})
    assert lam.list_tags(Resource=csc_arn)["Tags"] == {"a": "1", "b": "2"}

    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    assert error_of(lam.list_tags, 404, Resource=arn)["Code"] == "ResourceNotFoundException"
    err = error_of(lam.list_tags, 404, Resource=csc_arn[:-3] + "abc")
    assert err["Message"] == f"The Lambda code signing configuration {csc_arn[:-3]}abc can not be found."
