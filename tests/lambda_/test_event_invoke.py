"""Asynchronous invocation configurations through boto3: put (overwrites), update (merges), get, delete, list per
version and alias, destination checks and Lambda's errors."""

from __future__ import annotations

from datetime import datetime

from tests.lambda_.helpers import ARN, create, error_of

QUEUE = "arn:aws:sqs:us-east-1:000000000000:dlq"


def test_event_invoke_configs(lam):
    create(lam, "fn")
    create(lam, "other")
    lam.publish_version(FunctionName="fn")
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    put = lam.put_function_event_invoke_config(FunctionName="fn", MaximumRetryAttempts=1)
    assert put["FunctionArn"] == f"{ARN}:fn:$LATEST" and put["MaximumRetryAttempts"] == 1
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert isinstance(put["LastModified"], datetime) and "MaximumEventAgeInSeconds" not in put
    dest = {"OnSuccess": {"Destination": f"{ARN}:other"}, "OnFailure": {"Destination": QUEUE}}
    put = lam.put_function_event_invoke_config(
        FunctionName="fn", MaximumEventAgeInSeconds=21600, DestinationConfig=dest
    )
    assert "MaximumRetryAttempts" not in put and put["DestinationConfig"] == dest  # put replaces the whole config

    updated = lam.update_function_event_invoke_config(
        FunctionName="fn", MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {}}
    )
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (0, 21600)
    assert updated["DestinationConfig"] == {"OnSuccess": dest["OnSuccess"], "OnFailure": {}}
    got = lam.get_function_event_invoke_config(FunctionName="fn", Qualifier="$LATEST")
    assert {k: got[k] for k in ("MaximumRetryAttempts", "DestinationConfig")} == {
        k: updated[k] for k in ("MaximumRetryAttempts", "DestinationConfig")
    }

    lam.put_function_event_invoke_config(FunctionName="fn:live", MaximumRetryAttempts=2)
    lam.put_function_event_invoke_config(FunctionName=f"{ARN}:fn", Qualifier="1", MaximumRetryAttempts=2)
    listed = lam.list_function_event_invoke_configs(FunctionName="fn")["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{ARN}:fn:$LATEST", f"{ARN}:fn:1", f"{ARN}:fn:live"]
    first = lam.list_function_event_invoke_configs(FunctionName="fn", MaxItems=2)
    rest = lam.list_function_event_invoke_configs(FunctionName="fn", MaxItems=2, Marker=first["NextMarker"])
    assert [c["FunctionArn"] for c in rest["FunctionEventInvokeConfigs"]] == [f"{ARN}:fn:live"]

    assert lam.delete_function_event_invoke_config(FunctionName="fn")["ResponseMetadata"]["HTTPStatusCode"] == 204
    message = f"The function {ARN}:fn:$LATEST doesn't have an EventInvokeConfig"
    assert error_of(lam.get_function_event_invoke_config, 404, FunctionName="fn")["Message"] == message
    assert error_of(lam.delete_function_event_invoke_config, 404, FunctionName="fn")["Message"] == message
    assert (
        error_of(lam.update_function_event_invoke_config, 404, FunctionName="fn", MaximumRetryAttempts=1)["Message"]
        == message
    )
    lam.delete_alias(FunctionName="fn", Name="live")  # takes the alias's configuration with it
    listed = lam.list_function_event_invoke_configs(FunctionName="fn")["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{ARN}:fn:1"]


def test_event_invoke_errors(broker, lam):
    create(lam, "fn")
    err = error_of(lam.put_function_event_invoke_config, 400, FunctionName="fn")
    assert err["Message"] == "You must specify at least one of error handling or destination setting."
    for name, qualifier in (("nope", None), ("fn", "nope"), ("fn", "3")):
        kw = {"Qualifier": qualifier} if qualifier else {}
        for call in (lam.put_function_event_invoke_config, lam.update_function_event_invoke_config):
            err = error_of(call, 404, FunctionName=name, MaximumRetryAttempts=1, **kw)
            assert err == {"Code": "ResourceNotFoundException", "Message": "The function doesn't exist."}
    assert error_of(lam.list_function_event_invoke_configs, 404, FunctionName="nope")["Message"] == (
        "The function doesn't exist."
    )
    err = error_of(lam.get_function_event_invoke_config, 404, FunctionName="nope")
    assert err["Message"] == f"The function {ARN}:nope:$LATEST doesn't have an EventInvokeConfig"

    def put(destination: str) -> dict:
        return error_of(
            lam.put_function_event_invoke_config,
            400,
            FunctionName="fn",
            DestinationConfig={"OnSuccess": {"Destination": destination}},
        )

    assert put(f"{ARN}:fn")["Message"] == "You can't specify the function as a destination for itself."
    assert put(f"{ARN}:missing")["Message"] == f"The destination ARN {ARN}:missing is invalid."
    iam = "arn:aws:iam:us-east-1:000000000000:role/x"
    assert put(iam)["Message"] == (
        f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination={iam}), onFailure=null) "
        "is invalid."
    )
    loose = broker.client("lambda", parameter_validation=False)
    err = error_of(loose.put_function_event_invoke_config, 400, FunctionName="fn", MaximumRetryAttempts=3)
    assert err["Code"] == "ValidationException" and "at 'maximumRetryAttempts'" in err["Message"]
    err = error_of(loose.put_function_event_invoke_config, 400, FunctionName="fn", MaximumEventAgeInSeconds=59)
    assert "at 'maximumEventAgeInSeconds'" in err["Message"]
    assert lam.list_function_event_invoke_configs(FunctionName="fn")["FunctionEventInvokeConfigs"] == []
