"""Lambda layers through boto3: publishing, reading, listing and deleting versions (numbers are never reused),
and layer version permission policies, with the errors Lambda answers."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx

from tests.lambda_.helpers import create, error_of, zip_of

LAYER = "arn:aws:lambda:us-east-1:000000000000:layer"


def _publish(lam, name: str = "lib", **kw) -> dict:
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": zip_of({"python/lib.py": "X = 1"})}, **kw)


def test_publish_get_list_delete_versions(lam):
    archive = zip_of({"python/lib.py": "X = 1"})
    v1 = lam.publish_layer_version(
        LayerName="lib",
        Content={"ZipFile": archive},
        Description="first",
        CompatibleRuntimes=["python3.12"],
        CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT",
    )
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (v1["LayerArn"], v1["LayerVersionArn"], v1["Version"]) == (f"{LAYER}:lib", f"{LAYER}:lib:1", 1)
    assert v1["Content"]["CodeSize"] == len(archive)
    assert v1["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(archive).digest()).decode()
    assert httpx.get(v1["Content"]["Location"], timeout=10).content == archive
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", v1["CreatedDate"])
    assert (v1["Description"], v1["CompatibleRuntimes"], v1["LicenseInfo"]) == ("first", ["python3.12"], "MIT")

    v2 = _publish(lam)
    assert v2["Version"] == 2 and v2["Description"] == ""
    assert "CompatibleRuntimes" not in v2 and "LicenseInfo" not in v2

    got = lam.get_layer_version(LayerName="lib", VersionNumber=1)
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        k: v for k, v in v1.items() if k != "ResponseMetadata"
    }
    assert lam.get_layer_version(LayerName=f"{LAYER}:lib", VersionNumber=2)["Version"] == 2
    assert lam.get_layer_version_by_arn(Arn=f"{LAYER}:lib:2")["LayerVersionArn"] == f"{LAYER}:lib:2"

    listed = lam.list_layer_versions(LayerName="lib")["LayerVersions"]
    assert [v["Version"] for v in listed] == [2, 1]
    assert "Content" not in listed[0] and listed[1]["CompatibleArchitectures"] == ["x86_64"]
    assert [
        v["Version"] for v in lam.list_layer_versions(LayerName="lib", CompatibleRuntime="python3.12")["LayerVersions"]
    ] == [1]
    first = lam.list_layer_versions(LayerName="lib", MaxItems=1)
    assert [v["Version"] for v in first["LayerVersions"]] == [2]
    rest = lam.list_layer_versions(LayerName="lib", MaxItems=1, Marker=first["NextMarker"])
    assert [v["Version"] for v in rest["LayerVersions"]] == [1] and "NextMarker" not in rest

    _publish(lam, "other")
    layers = lam.list_layers()["Layers"]
    assert [(item["LayerName"], item["LatestMatchingVersion"]["Version"]) for item in layers] == [
        ("lib", 2),
        ("other", 1),
    ]
    assert layers[0]["LayerArn"] == f"{LAYER}:lib"
    matching = lam.list_layers(CompatibleRuntime="python3.12", CompatibleArchitecture="x86_64")["Layers"]
    assert [(i["LayerName"], i["LatestMatchingVersion"]["Version"]) for i in matching] == [("lib", 1)]
    assert lam.list_layers(CompatibleArchitecture="arm64")["Layers"] == []
    page = lam.list_layers(MaxItems=1)
    assert [i["LayerName"] for i in lam.list_layers(Marker=page["NextMarker"])["Layers"]] == ["other"]

    # A function uses version 1; deleting the version leaves the function as it was, as in Lambda.
    create(lam, "uses-layer", Layers=[f"{LAYER}:lib:1"])
    assert lam.delete_layer_version(LayerName="lib", VersionNumber=1)["ResponseMetadata"]["HTTPStatusCode"] == 204
    err = error_of(lam.get_layer_version, 404, LayerName="lib", VersionNumber=1)
    assert err == {"Code": "ResourceNotFoundException", "Message": "The resource you requested does not exist."}
    layers_of_fn = lam.get_function_configuration(FunctionName="uses-layer")["Layers"]
    assert layers_of_fn == [{"Arn": f"{LAYER}:lib:1", "CodeSize": len(archive)}]
    lam.delete_layer_version(LayerName="lib", VersionNumber=1)  # again: nothing to delete, still 204
    lam.delete_layer_version(LayerName="lib", VersionNumber=2)
    lam.delete_layer_version(LayerName="lib", VersionNumber=99)
    assert lam.list_layer_versions(LayerName="lib")["LayerVersions"] == []
    err = error_of(lam.create_function, 400, **_function_args("late", [f"{LAYER}:lib:1"]))
    assert err["Message"] == f"Layer version {LAYER}:lib:1 does not exist."
    # Numbers are never reused.
    assert _publish(lam)["Version"] == 3


def _function_args(name: str, layers: list[str]) -> dict:
    from tests.lambda_.helpers import ROLE, python_zip

    return {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "handler.handler",
        "Code": {"ZipFile": python_zip("def handler(e, c): return 1")},
        "Layers": layers,
    }


def test_layer_errors(lam):
    err = error_of(lam.get_layer_version, 404, LayerName="nope", VersionNumber=1)
    assert err["Message"] == "The resource you requested does not exist."
    for call in (lam.get_layer_version, lam.delete_layer_version):
        err = error_of(call, 400, LayerName="nope", VersionNumber=0)
        assert err == {"Code": "InvalidParameterValueException", "Message": "Layer Version Cannot be less than 1"}
    assert error_of(lam.get_layer_version_by_arn, 404, Arn=f"{LAYER}:nope:3")["Code"] == "ResourceNotFoundException"
    err = error_of(lam.get_layer_version_by_arn, 400, Arn=f"{LAYER}:nope")
    assert err["Code"] == "ValidationException" and "at 'arn'" in err["Message"]
    assert lam.list_layer_versions(LayerName="nope")["LayerVersions"] == []

    err = error_of(lam.list_layers, 400, CompatibleRuntime="runtimedoesnotexist")
    assert err["Code"] == "ValidationException"
    assert err["Message"].startswith(
        "1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' failed to satisfy "
        "constraint: Member must satisfy enum value set: ["
    )
    err = error_of(lam.list_layers, 400, CompatibleArchitecture="archdoesnotexist")
    assert err["Message"] == (
        "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed to satisfy "
        "constraint: Member must satisfy enum value set: [x86_64, arm64]"
    )
    err = error_of(_publish, 400, lam=lam, CompatibleRuntimes=["invalidruntime"], CompatibleArchitectures=["bad"])
    assert err["Message"].startswith("2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes'")
    assert err["Message"].endswith(
        "; Value '[bad]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must satisfy enum value set: [x86_64, arm64]]"
    )
    err = error_of(lam.publish_layer_version, 400, LayerName="lib", Content={"S3Bucket": "bucket", "S3Key": "k.zip"})
    assert err["Code"] == "InvalidParameterValueException" and "S3" in err["Message"]
    err = error_of(lam.publish_layer_version, 400, LayerName="lib", Content={"ZipFile": b"not a zip"})
    assert err["Message"] == "Could not unzip uploaded file. Please check your file, then try to upload again."
    assert lam.list_layers()["Layers"] == []  # nothing was stored by the failed publishes


def test_layer_version_permissions(lam):
    _publish(lam)
    arn = f"{LAYER}:lib:1"
    err = error_of(lam.get_layer_version_policy, 404, LayerName="lib", VersionNumber=1)
    assert err["Message"] == "No policy is associated with the given resource."

    added = lam.add_layer_version_permission(
        LayerName="lib", VersionNumber=1, StatementId="s1", Action="lambda:GetLayerVersion", Principal="*"
    )
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == {
        "Sid": "s1",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:GetLayerVersion",
        "Resource": arn,
    }
    args = {"LayerName": "lib", "VersionNumber": 1, "Action": "lambda:GetLayerVersion", "Principal": "*"}
    err = error_of(lam.add_layer_version_permission, 409, StatementId="s1", **args)
    assert err["Message"] == (
        "The statement id (s1) provided already exists. Please provide a new statement id, or remove the existing "
        "statement."
    )
    err = error_of(lam.add_layer_version_permission, 412, StatementId="s2", RevisionId="nope", **args)
    assert err["Message"] == (
        "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve "
        "the latest Revision Id"
    )
    second = lam.add_layer_version_permission(
        LayerName=f"{LAYER}:lib",
        VersionNumber=1,
        StatementId="s2",
        Action="lambda:GetLayerVersion",
        Principal="123456789012",
        OrganizationId="o-abcdefghij",
        RevisionId=added["RevisionId"],
    )
    assert json.loads(second["Statement"])["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    policy = lam.get_layer_version_policy(LayerName="lib", VersionNumber=1)
    assert policy["RevisionId"] == second["RevisionId"] != added["RevisionId"]
    document = json.loads(policy["Policy"])
    assert (document["Version"], document["Id"]) == ("2012-10-17", "default")
    assert [s["Sid"] for s in document["Statement"]] == ["s1", "s2"]

    err = error_of(
        lam.remove_layer_version_permission, 412, LayerName="lib", VersionNumber=1, StatementId="s2", RevisionId="nope"
    )
    assert err["Code"] == "PreconditionFailedException"
    err = error_of(lam.remove_layer_version_permission, 404, LayerName="lib", VersionNumber=1, StatementId="nope")
    assert err["Message"] == "Statement nope is not found in resource policy."
    lam.remove_layer_version_permission(LayerName="lib", VersionNumber=1, StatementId="s2")
    document = json.loads(lam.get_layer_version_policy(LayerName="lib", VersionNumber=1)["Policy"])
    assert [s["Sid"] for s in document["Statement"]] == ["s1"]
    lam.remove_layer_version_permission(LayerName="lib", VersionNumber=1, StatementId="s1")
    error_of(lam.get_layer_version_policy, 404, LayerName="lib", VersionNumber=1)

    for call, extra in (
        (lam.add_layer_version_permission, {"StatementId": "s9", "Action": "lambda:GetLayerVersion", "Principal": "*"}),
        (lam.get_layer_version_policy, {}),
        (lam.remove_layer_version_permission, {"StatementId": "s9"}),
    ):
        err = error_of(call, 404, LayerName="lib", VersionNumber=9, **extra)
        assert err["Message"] == f"Layer version {arn[:-2]}:9 does not exist."
    err = error_of(lam.add_layer_version_permission, 400, StatementId="s3", **{**args, "Action": "lambda:Invoke"})
    assert err["Code"] == "ValidationException" and "at 'action'" in err["Message"]
