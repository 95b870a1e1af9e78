"""Function URL configurations through boto3: create, read, update, delete, list, for the function and its
aliases, with the URL naming this broker and Lambda's errors."""

from __future__ import annotations

import re

from tests.lambda_.helpers import ARN, create, error_of

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


def test_function_url_lifecycle(broker, lam):
    create(lam, "fn")
    lam.publish_version(FunctionName="fn")
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    created = lam.create_function_url_config(FunctionName="fn", AuthType="NONE")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(
        rf"http://[a-z0-9]{{32}}\.lambda-url\.us-east-1\.localhost:{broker.port}/", created["FunctionUrl"]
    )
    assert (created["FunctionArn"], created["AuthType"]) == (f"{ARN}:fn", "NONE")
    assert re.fullmatch(ISO, created["CreationTime"]) and "InvokeMode" not in created
    err = error_of(lam.create_function_url_config, 409, FunctionName="fn", AuthType="NONE")
    assert err["Message"] == (
        f"Failed to create function url config for [functionArn = {ARN}:fn]. Error message:  FunctionUrlConfig "
        "exists for this Lambda function"
    )

    got = lam.get_function_url_config(FunctionName=f"{ARN}:fn")
    assert (got["FunctionUrl"], got["InvokeMode"]) == (created["FunctionUrl"], "BUFFERED")
    assert got["CreationTime"] == got["LastModifiedTime"] == created["CreationTime"]
    cors = {"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET"], "MaxAge": 60}
    updated = lam.update_function_url_config(FunctionName="fn", AuthType="AWS_IAM", Cors=cors)
    assert (updated["AuthType"], updated["Cors"], updated["FunctionUrl"]) == ("AWS_IAM", cors, created["FunctionUrl"])
    assert updated["LastModifiedTime"] >= updated["CreationTime"]
    got = lam.get_function_url_config(FunctionName="fn")
    assert (got["AuthType"], got["Cors"], got["InvokeMode"]) == ("AWS_IAM", cors, "BUFFERED")

    alias = lam.create_function_url_config(
        FunctionName="fn", Qualifier="live", AuthType="NONE", InvokeMode="RESPONSE_STREAM"
    )
    assert (alias["FunctionArn"], alias["InvokeMode"]) == (f"{ARN}:fn:live", "RESPONSE_STREAM")
    assert alias["FunctionUrl"] != created["FunctionUrl"]
    assert lam.get_function_url_config(FunctionName="fn:live")["InvokeMode"] == "RESPONSE_STREAM"
    listed = lam.list_function_url_configs(FunctionName="fn")["FunctionUrlConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{ARN}:fn", f"{ARN}:fn:live"]
    first = lam.list_function_url_configs(FunctionName="fn", MaxItems=1)
    rest = lam.list_function_url_configs(FunctionName="fn", MaxItems=1, Marker=first["NextMarker"])
    assert [c["FunctionArn"] for c in rest["FunctionUrlConfigs"]] == [f"{ARN}:fn:live"]

    deleted = lam.delete_function_url_config(FunctionName="fn")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(lam.get_function_url_config, 404, FunctionName="fn")["Message"] == (
        "The resource you requested does not exist."
    )
    error_of(lam.delete_function_url_config, 404, FunctionName="fn")
    error_of(lam.update_function_url_config, 404, FunctionName="fn", AuthType="NONE")
    # Deleting the alias takes its URL with it.
    lam.delete_alias(FunctionName="fn", Name="live")
    assert lam.list_function_url_configs(FunctionName="fn")["FunctionUrlConfigs"] == []


def test_function_url_errors(lam):
    create(lam, "fn")
    lam.publish_version(FunctionName="fn")
    missing = "Function does not exist"
    assert error_of(lam.create_function_url_config, 404, FunctionName="nope", AuthType="NONE")["Message"] == missing
    err = error_of(lam.create_function_url_config, 404, FunctionName="fn", Qualifier="nope", AuthType="NONE")
    assert err["Message"] == missing
    assert error_of(lam.update_function_url_config, 404, FunctionName="nope", AuthType="NONE")["Message"] == missing
    assert error_of(lam.list_function_url_configs, 404, FunctionName="nope")["Message"] == missing
    for call in (lam.get_function_url_config, lam.delete_function_url_config):
        assert error_of(call, 404, FunctionName="nope")["Message"] == "The resource you requested does not exist."
    for qualifier in ("1", "$LATEST"):
        err = error_of(lam.get_function_url_config, 400, FunctionName="fn", Qualifier=qualifier)
        assert err["Code"] == "ValidationException" and f"Value '{qualifier}' at 'qualifier'" in err["Message"]
    err = error_of(lam.create_function_url_config, 400, FunctionName="fn", AuthType="BAD")
    assert err["Message"] == (
        "1 validation error detected: Value 'BAD' at 'authType' failed to satisfy constraint: Member must satisfy "
        "enum value set: [AWS_IAM, NONE]"
    )
    err = error_of(lam.create_function_url_config, 400, FunctionName="fn", AuthType="NONE", InvokeMode="SLOW")
    assert "at 'invokeMode'" in err["Message"]
    assert lam.list_function_url_configs(FunctionName="fn")["FunctionUrlConfigs"] == []
