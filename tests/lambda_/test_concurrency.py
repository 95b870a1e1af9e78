"""Reserved and provisioned concurrency and the account's settings through boto3: Lambda's limits (at least 100
executions stay unreserved), qualifier rules, conflicts between versions and aliases, and errors."""

from __future__ import annotations

from tests.lambda_.helpers import ARN, create, error_of


def _unreserved(lam) -> int:
    return lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]


def test_reserved_concurrency_and_account_settings(lam):
    empty = lam.get_account_settings()
    assert empty["AccountLimit"] == {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 1000,
        "UnreservedConcurrentExecutions": 1000,
    }
    assert empty["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}
    create(lam, "a")
    create(lam, "b")
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage["FunctionCount"] == 2 and usage["TotalCodeSize"] > 0

    got = lam.get_function_concurrency(FunctionName="a")
    assert "ReservedConcurrentExecutions" not in got
    assert (
        lam.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=300)["ReservedConcurrentExecutions"]
        == 300
    )
    assert lam.get_function_concurrency(FunctionName=f"{ARN}:a")["ReservedConcurrentExecutions"] == 300
    assert lam.get_function(FunctionName="a")["Concurrency"] == {"ReservedConcurrentExecutions": 300}
    assert _unreserved(lam) == 700

    err = error_of(lam.put_function_concurrency, 400, FunctionName="b", ReservedConcurrentExecutions=601)
    assert err == {
        "Code": "InvalidParameterValueException",
        "Message": "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    }
    lam.put_function_concurrency(FunctionName="b", ReservedConcurrentExecutions=600)
    assert _unreserved(lam) == 100
    lam.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=300)  # replacing its own: allowed
    lam.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=0)  # 0: the function is throttled
    assert _unreserved(lam) == 400

    assert lam.delete_function_concurrency(FunctionName="b")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="b")
    assert _unreserved(lam) == 1000

    err = error_of(lam.put_function_concurrency, 400, FunctionName="a:1", ReservedConcurrentExecutions=1)
    assert err["Message"] == (
        "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. "
        "Please specify either a function name or an unqualified function ARN."
    )
    err = error_of(lam.put_function_concurrency, 404, FunctionName="nope", ReservedConcurrentExecutions=1)
    assert err["Message"] == f"Function not found: {ARN}:nope:$LATEST"
    for call in (lam.get_function_concurrency, lam.delete_function_concurrency):
        assert error_of(call, 404, FunctionName="nope")["Message"] == f"Function not found: {ARN}:nope"


def test_provisioned_concurrency(lam):
    create(lam, "fn")
    lam.publish_version(FunctionName="fn")
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    err = error_of(
        lam.put_provisioned_concurrency_config,
        400,
        FunctionName="fn",
        Qualifier="$LATEST",
        ProvisionedConcurrentExecutions=1,
    )
    assert err["Message"] == "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    for call in (lam.get_provisioned_concurrency_config, lam.delete_provisioned_concurrency_config):
        err = error_of(call, 400, FunctionName="fn", Qualifier="$LATEST")
        assert err["Message"] == "The function resource provided must be an alias or a published version."
    err = error_of(lam.get_provisioned_concurrency_config, 404, FunctionName="fn", Qualifier="1")
    assert err == {
        "Code": "ProvisionedConcurrencyConfigNotFoundException",
        "Message": "No Provisioned Concurrency Config found for this function",
    }

    put = lam.put_provisioned_concurrency_config(FunctionName="fn", Qualifier="1", ProvisionedConcurrentExecutions=5)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (put["RequestedProvisionedConcurrentExecutions"], put["AllocatedProvisionedConcurrentExecutions"]) == (5, 0)
    assert put["Status"] == "IN_PROGRESS"
    got = lam.get_provisioned_concurrency_config(FunctionName="fn", Qualifier="1")
    assert (got["Status"], got["AvailableProvisionedConcurrentExecutions"]) == ("READY", 5)
    assert got["LastModified"] == put["LastModified"]
    assert _unreserved(lam) == 995
    err = error_of(
        lam.put_provisioned_concurrency_config,
        409,
        FunctionName="fn",
        Qualifier="live",
        ProvisionedConcurrentExecutions=1,
    )
    assert err["Message"] == (
        "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
    )
    listed = lam.list_provisioned_concurrency_configs(FunctionName="fn")["ProvisionedConcurrencyConfigs"]
    assert [(c["FunctionArn"], c["RequestedProvisionedConcurrentExecutions"]) for c in listed] == [(f"{ARN}:fn:1", 5)]

    lam.delete_provisioned_concurrency_config(FunctionName="fn", Qualifier="1")
    lam.delete_provisioned_concurrency_config(FunctionName="fn", Qualifier="1")  # nothing left: still 204
    lam.put_provisioned_concurrency_config(FunctionName="fn:live", Qualifier="live", ProvisionedConcurrentExecutions=3)
    err = error_of(
        lam.put_provisioned_concurrency_config, 409, FunctionName="fn", Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    assert err["Message"] == "Version is pointed by a Provisioned Concurrency alias"

    # Reserved concurrency holds the function's provisioned concurrency.
    err = error_of(lam.put_function_concurrency, 400, FunctionName="fn", ReservedConcurrentExecutions=2)
    assert err["Message"] == (
        " ReservedConcurrentExecutions  2 should not be lower than function's total provisioned concurrency [3]."
    )
    lam.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=10)
    assert _unreserved(lam) == 990
    err = error_of(
        lam.put_provisioned_concurrency_config,
        400,
        FunctionName="fn",
        Qualifier="live",
        ProvisionedConcurrentExecutions=11,
    )
    assert err["Message"] == (
        "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
    )
    lam.delete_function_concurrency(FunctionName="fn")
    err = error_of(
        lam.put_provisioned_concurrency_config,
        400,
        FunctionName="fn",
        Qualifier="live",
        ProvisionedConcurrentExecutions=950,
    )
    assert err["Message"] == (
        "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its "
        "minimum value of [100]."
    )
    err = error_of(
        lam.put_provisioned_concurrency_config,
        400,
        FunctionName="fn",
        Qualifier="live",
        ProvisionedConcurrentExecutions=2000,
    )
    assert err["Message"] == (
        "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [1000]."
    )

    for qualifier, message in (
        ("9", f"Function not found: {ARN}:fn:9"),
        ("nope", f"Cannot find alias arn: {ARN}:fn:nope"),
    ):
        for call in (lam.get_provisioned_concurrency_config, lam.delete_provisioned_concurrency_config):
            assert error_of(call, 404, FunctionName="fn", Qualifier=qualifier)["Message"] == message
    err = error_of(lam.get_provisioned_concurrency_config, 404, FunctionName="nope", Qualifier="1")
    assert err["Message"] == f"Function not found: {ARN}:nope:1"
    err = error_of(lam.list_provisioned_concurrency_configs, 404, FunctionName="nope")
    assert err["Message"] == f"Function not found: {ARN}:nope"
    # Deleting the alias takes its configuration with it.
    lam.delete_alias(FunctionName="fn", Name="live")
    assert lam.list_provisioned_concurrency_configs(FunctionName="fn")["ProvisionedConcurrencyConfigs"] == []
    assert _unreserved(lam) == 1000
