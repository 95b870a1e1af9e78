"""Code signing configurations, runtime management, recursion and scaling settings through boto3: stored and
answered as Lambda answers them (defaults included), with its errors."""

from __future__ import annotations

from tests.lambda_.helpers import ARN, create, error_of

PROFILE = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/test"


def test_code_signing_configs(lam):
    create(lam, "fn")
    created = lam.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": [PROFILE]}, Description="signed"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    csc = created["CodeSigningConfig"]
    arn = csc["CodeSigningConfigArn"]
    assert arn == f"arn:aws:lambda:us-east-1:000000000000:code-signing-config:{csc['CodeSigningConfigId']}"
    assert len(csc["CodeSigningConfigId"]) == 21 and csc["CodeSigningConfigId"].startswith("csc-")
    assert csc["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"] == csc
    updated = lam.update_code_signing_config(
        CodeSigningConfigArn=arn, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"}
    )
    assert updated["CodeSigningConfig"]["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Enforce"}
    assert updated["CodeSigningConfig"]["Description"] == "signed"
    second = lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [PROFILE]})
    listed = lam.list_code_signing_configs()["CodeSigningConfigs"]
    assert sorted(c["CodeSigningConfigArn"] for c in listed) == sorted(
        [arn, second["CodeSigningConfig"]["CodeSigningConfigArn"]]
    )
    assert len(lam.list_code_signing_configs(MaxItems=1)["CodeSigningConfigs"]) == 1

    assert "CodeSigningConfigArn" not in lam.get_function_code_signing_config(FunctionName="fn")
    put = lam.put_function_code_signing_config(FunctionName=f"{ARN}:fn", CodeSigningConfigArn=arn)
    assert (put["CodeSigningConfigArn"], put["FunctionName"]) == (arn, "fn")
    got = lam.get_function_code_signing_config(FunctionName="fn")
    assert (got["CodeSigningConfigArn"], got["FunctionName"]) == (arn, "fn")
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == [f"{ARN}:fn"]
    err = error_of(lam.delete_code_signing_config, 409, CodeSigningConfigArn=arn)
    assert err["Code"] == "ResourceConflictException"
    lam.delete_function_code_signing_config(FunctionName="fn")
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []
    assert lam.delete_code_signing_config(CodeSigningConfigArn=arn)["ResponseMetadata"]["HTTPStatusCode"] == 204

    message = f"The Lambda code signing configuration {arn} can not be found."
    for call in (
        lam.get_code_signing_config,
        lam.delete_code_signing_config,
        lam.update_code_signing_config,
        lam.list_functions_by_code_signing_config,
    ):
        assert error_of(call, 404, CodeSigningConfigArn=arn) == {
            "Code": "ResourceNotFoundException",
            "Message": message,
        }
    err = error_of(lam.put_function_code_signing_config, 404, FunctionName="nope", CodeSigningConfigArn=arn)
    assert err == {
        "Code": "CodeSigningConfigNotFoundException",
        "Message": "The code signing configuration cannot be found. Check that the provided configuration is not "
        f"deleted: {arn}.",
    }
    for call in (lam.get_function_code_signing_config, lam.delete_function_code_signing_config):
        assert error_of(call, 404, FunctionName="nope")["Message"] == f"Function not found: {ARN}:nope"
    err = error_of(
        lam.create_code_signing_config,
        400,
        AllowedPublishers={"SigningProfileVersionArns": [PROFILE]},
        CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Maybe"},
    )
    assert err["Code"] == "ValidationException"


def test_runtime_recursion_and_scaling_settings(lam):
    create(lam, "fn")
    lam.publish_version(FunctionName="fn")
    got = lam.get_runtime_management_config(FunctionName="fn")
    assert (got["UpdateRuntimeOn"], got["FunctionArn"]) == ("Auto", f"{ARN}:fn")
    assert "RuntimeVersionArn" not in got
    runtime = "arn:aws:lambda:us-east-1::runtime:0123456789abcdef"
    put = lam.put_runtime_management_config(FunctionName="fn", UpdateRuntimeOn="Manual", RuntimeVersionArn=runtime)
    assert (put["UpdateRuntimeOn"], put["RuntimeVersionArn"]) == ("Manual", runtime)
    got = lam.get_runtime_management_config(FunctionName="fn")
    assert (got["UpdateRuntimeOn"], got["RuntimeVersionArn"]) == ("Manual", runtime)
    assert lam.get_runtime_management_config(FunctionName="fn", Qualifier="1")["UpdateRuntimeOn"] == "Auto"
    lam.put_runtime_management_config(FunctionName="fn", Qualifier="1", UpdateRuntimeOn="FunctionUpdate")
    got = lam.get_runtime_management_config(FunctionName="fn", Qualifier="1")
    assert (got["UpdateRuntimeOn"], got["FunctionArn"]) == ("FunctionUpdate", f"{ARN}:fn:1")
    err = error_of(lam.put_runtime_management_config, 400, FunctionName="fn", UpdateRuntimeOn="Manual")
    assert err["Code"] == "InvalidParameterValueException"
    err = error_of(lam.put_runtime_management_config, 400, FunctionName="fn", UpdateRuntimeOn="Sometimes")
    assert err["Code"] == "ValidationException" and "at 'updateRuntimeOn'" in err["Message"]
    err = error_of(lam.get_runtime_management_config, 404, FunctionName="fn", Qualifier="5")
    assert err["Message"] == f"Function not found: {ARN}:fn:5"

    assert lam.get_function_recursion_config(FunctionName="fn")["RecursiveLoop"] == "Terminate"
    assert lam.put_function_recursion_config(FunctionName="fn", RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    assert lam.get_function_recursion_config(FunctionName=f"{ARN}:fn")["RecursiveLoop"] == "Allow"
    err = error_of(lam.put_function_recursion_config, 400, FunctionName="fn", RecursiveLoop="Maybe")
    assert err["Message"] == (
        "1 validation error detected: Value 'Maybe' at 'recursiveLoop' failed to satisfy constraint: Member must "
        "satisfy enum value set: [Allow, Terminate]"
    )
    assert error_of(lam.get_function_recursion_config, 404, FunctionName="nope")["Code"] == "ResourceNotFoundException"

    err = error_of(lam.get_function_scaling_config, 400, FunctionName="fn", Qualifier="1")
    assert err["Code"] == "InvalidParameterValueException" and "not supported by this broker" in err["Message"]
