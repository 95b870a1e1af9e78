"""Lambda functions, versions and aliases through boto3: the control plane as AWS answers it."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.lambda_.helpers import ECHO, ROLE, create, python_zip

ARN = "arn:aws:lambda:us-east-1:000000000000:function"


@pytest.fixture
def lam(broker):
    return broker.client("lambda")


def _error(fn, status: int, **kw) -> dict:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, e.value.response
    return e.value.response["Error"]


def test_create_get_list_update_delete(broker, lam):
    code = python_zip(ECHO)
    created = create(lam, "fn-one", Description="first", Environment={"Variables": {"AB": "1"}}, Tags={"team": "x"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    assert created["FunctionArn"] == f"{ARN}:fn-one"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert created["CodeSize"] == len(code)
    assert (created["Timeout"], created["MemorySize"], created["Version"]) == (3, 128, "$LATEST")
    assert created["Environment"] == {"Variables": {"AB": "1"}}
    assert created["Architectures"] == ["x86_64"] and created["PackageType"] == "Zip"
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/fn-one"}
    lam.get_waiter("function_active_v2").wait(FunctionName="fn-one")

    got = lam.get_function(FunctionName="fn-one")
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["LastUpdateStatus"] == "Successful"
    assert got["Tags"] == {"team": "x"}
    assert got["Code"]["RepositoryType"] == "S3"
    assert httpx.get(got["Code"]["Location"].replace("127.0.0.1", "127.0.0.1"), timeout=10).content == code
    # By full ARN, by partial ARN, and qualified with $LATEST (the ARN then says so).
    assert lam.get_function_configuration(FunctionName=f"{ARN}:fn-one")["FunctionName"] == "fn-one"
    assert lam.get_function_configuration(FunctionName="000000000000:function:fn-one")["Version"] == "$LATEST"
    qualified = lam.get_function_configuration(FunctionName="fn-one", Qualifier="$LATEST")
    assert qualified["FunctionArn"] == f"{ARN}:fn-one:$LATEST"

    updated = lam.update_function_configuration(FunctionName="fn-one", Timeout=10, MemorySize=256)
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["RevisionId"] != created["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName="fn-one")
    conf = lam.get_function_configuration(FunctionName="fn-one")
    assert (conf["Timeout"], conf["MemorySize"], conf["LastUpdateStatus"]) == (10, 256, "Successful")
    assert conf["Environment"] == {"Variables": {"AB": "1"}}  # members not given are kept

    new_code = python_zip(ECHO + "\n# v2\n")
    code_update = lam.update_function_code(FunctionName="fn-one", ZipFile=new_code)
    assert code_update["CodeSha256"] == base64.b64encode(hashlib.sha256(new_code).digest()).decode()
    assert code_update["Timeout"] == 10
    assert httpx.get(lam.get_function(FunctionName="fn-one")["Code"]["Location"], timeout=10).content == new_code

    create(lam, "fn-two")
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert names == ["fn-one", "fn-two"]
    page = lam.list_functions(MaxItems=1)
    assert [f["FunctionName"] for f in page["Functions"]] == ["fn-one"]
    rest = lam.list_functions(MaxItems=1, Marker=page["NextMarker"])
    assert [f["FunctionName"] for f in rest["Functions"]] == ["fn-two"] and "NextMarker" not in rest

    deleted = lam.delete_function(FunctionName="fn-one")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    err = _error(lam.get_function, 404, FunctionName="fn-one")
    assert err == {"Code": "ResourceNotFoundException", "Message": f"Function not found: {ARN}:fn-one"} | {
        k: v for k, v in err.items() if k not in ("Code", "Message")
    }
    assert err["Message"] == f"Function not found: {ARN}:fn-one"


def test_create_errors(lam):
    create(lam, "dup")
    err = _error(lam.create_function, 409, FunctionName="dup", Runtime="python3.12", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": python_zip(ECHO)})  # fmt: skip
    assert (err["Code"], err["Message"]) == ("ResourceConflictException", "Function already exist: dup")

    def attempt(status: int, **overrides) -> dict:
        kw = {"FunctionName": "bad", "Runtime": "python3.12", "Role": ROLE, "Handler": "handler.handler",
              "Code": {"ZipFile": python_zip(ECHO)}} | overrides  # fmt: skip
        return _error(lam.create_function, status, **{k: v for k, v in kw.items() if v is not None})

    err = attempt(400, Code={"ZipFile": b"not a zip"})
    assert err["Code"] == "InvalidParameterValueException"
    assert err["Message"] == "Could not unzip uploaded file. Please check your file, then try to upload again."
    err = attempt(400, Runtime="python3.7")
    assert err["Code"] == "InvalidParameterValueException"
    assert err["Message"].startswith("The runtime parameter of python3.7 is no longer supported")
    err = attempt(400, Runtime=None)
    assert (
        err["Message"] == "Runtime and Handler are mandatory parameters for functions created with deployment packages."
    )
    err = attempt(400, Environment={"Variables": {"AWS_REGION": "x", "OK": "1"}})
    assert err["Message"].endswith("Reserved keys used in this request: AWS_REGION")
    err = attempt(400, Environment={"Variables": {"BIG": "x" * 5000}})
    assert "exceeded the 4KB limit" in err["Message"]
    err = attempt(400, Code={"S3Bucket": "bucket", "S3Key": "key.zip"})
    assert err["Code"] == "InvalidParameterValueException" and "S3" in err["Message"]
    err = attempt(400, Role="not-an-arn")
    assert err["Code"] == "ValidationException"
    assert err["Message"].startswith("1 validation error detected: Value 'not-an-arn' at 'role' failed to satisfy")
    err = attempt(400, Timeout=99999)
    assert err["Code"] == "ValidationException" and "at 'timeout'" in err["Message"]
    err = attempt(400, Layers=["arn:aws:lambda:us-east-1:000000000000:layer:none:1"])
    assert err["Message"] == "Layer version arn:aws:lambda:us-east-1:000000000000:layer:none:1 does not exist."


def test_versions(lam):
    create(lam, "ver")
    v1 = lam.publish_version(FunctionName="ver", Description="one")
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (v1["Version"], v1["FunctionArn"], v1["Description"]) == ("1", f"{ARN}:ver:1", "one")
    # Nothing changed since version 1: publishing again returns it.
    assert lam.publish_version(FunctionName="ver")["Version"] == "1"
    lam.update_function_configuration(FunctionName="ver", Timeout=5)
    assert lam.publish_version(FunctionName="ver")["Version"] == "2"
    err = _error(lam.publish_version, 400, FunctionName="ver", CodeSha256="wrong")
    assert err["Message"].startswith("CodeSHA256 (wrong) is different from current CodeSHA256 in $LATEST")
    err = _error(lam.publish_version, 412, FunctionName="ver", RevisionId="stale")
    assert err["Code"] == "PreconditionFailedException"
    listed = lam.list_versions_by_function(FunctionName="ver")["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    assert listed[0]["FunctionArn"] == f"{ARN}:ver:$LATEST"
    page = lam.list_versions_by_function(FunctionName="ver", MaxItems=2)
    assert [v["Version"] for v in page["Versions"]] == ["$LATEST", "1"]
    assert [
        v["Version"] for v in lam.list_versions_by_function(FunctionName="ver", Marker=page["NextMarker"])["Versions"]
    ] == ["2"]
    assert lam.get_function_configuration(FunctionName="ver", Qualifier="1")["Timeout"] == 3
    assert lam.get_function_configuration(FunctionName="ver:2")["Timeout"] == 5
    err = _error(lam.get_function_configuration, 404, FunctionName="ver", Qualifier="9")
    assert err["Message"] == f"Function not found: {ARN}:ver:9"
    versions = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [f["Version"] for f in versions] == ["$LATEST", "1", "2"]

    lam.create_alias(FunctionName="ver", Name="live", FunctionVersion="1")
    err = _error(lam.delete_function, 409, FunctionName="ver", Qualifier="1")
    assert err["Message"] == "Unable to delete version because the following aliases reference it: [live]"
    err = _error(lam.delete_function, 400, FunctionName="ver", Qualifier="$LATEST")
    assert err["Message"] == "$LATEST version cannot be deleted without deleting the function."
    lam.delete_function(FunctionName="ver", Qualifier="2")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="ver")["Versions"]] == ["$LATEST", "1"]
    lam.update_function_configuration(FunctionName="ver", Timeout=7)
    assert lam.publish_version(FunctionName="ver")["Version"] == "3"  # numbers are never reused


def test_aliases(lam):
    create(lam, "al")
    lam.publish_version(FunctionName="al")
    lam.update_function_configuration(FunctionName="al", Timeout=4)
    lam.publish_version(FunctionName="al")
    alias = lam.create_alias(FunctionName="al", Name="prod", FunctionVersion="1", Description="d",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})  # fmt: skip
    assert alias["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert alias["AliasArn"] == f"{ARN}:al:prod"
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    got = lam.get_alias(FunctionName="al", Name="prod")
    assert {k: got[k] for k in ("Name", "FunctionVersion", "Description", "RevisionId")} == {
        "Name": "prod", "FunctionVersion": "1", "Description": "d", "RevisionId": alias["RevisionId"]}  # fmt: skip
    err = _error(lam.create_alias, 409, FunctionName="al", Name="prod", FunctionVersion="1")
    assert err["Message"] == f"Alias already exists: {ARN}:al:prod"
    err = _error(lam.create_alias, 404, FunctionName="al", Name="x", FunctionVersion="9")
    assert err["Message"] == f"Function not found: {ARN}:al:9"
    err = _error(lam.create_alias, 400, FunctionName="al", Name="y", FunctionVersion="1",
                 RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})  # fmt: skip
    assert err["Message"].startswith("Invalid function version 1.")
    err = _error(lam.get_alias, 404, FunctionName="al", Name="nope")
    assert err["Message"] == f"Cannot find alias arn: {ARN}:al:nope"
    updated = lam.update_alias(FunctionName="al", Name="prod", FunctionVersion="2", RoutingConfig={})
    assert updated["FunctionVersion"] == "2" and "RoutingConfig" not in updated
    err = _error(lam.update_alias, 412, FunctionName="al", Name="prod", RevisionId=alias["RevisionId"])
    assert err["Code"] == "PreconditionFailedException"
    lam.create_alias(FunctionName="al", Name="beta", FunctionVersion="$LATEST")
    assert [a["Name"] for a in lam.list_aliases(FunctionName="al")["Aliases"]] == ["beta", "prod"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName="al", FunctionVersion="2")["Aliases"]] == ["prod"]
    assert lam.get_function_configuration(FunctionName="al", Qualifier="prod")["FunctionArn"] == f"{ARN}:al:prod"
    lam.delete_alias(FunctionName="al", Name="beta")
    assert [a["Name"] for a in lam.list_aliases(FunctionName="al")["Aliases"]] == ["prod"]


def test_zip_modes_and_unknown_paths(broker, lam):
    # A path of no operation: AWS's 404 UnknownOperationException; a deep zip unpacks.
    r = httpx.get(broker.url + "/2015-03-31/nothing-here", timeout=10)
    assert r.status_code == 404
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pkg/__init__.py", "")
        zf.writestr("pkg/mod.py", "def handler(e, c):\n    return 'deep'\n")
    create(lam, "deep", Handler="pkg.mod.handler", zip_bytes=buf.getvalue())
    assert lam.get_function_configuration(FunctionName="deep")["Handler"] == "pkg.mod.handler"


def test_strict_roles_setting(server_factory):
    server = server_factory(env={"BROKER_LAMBDA_STRICT_ROLES": "true"}).start()
    lam, iam = server.client("lambda"), server.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"Service": "lambda.amazonaws.com"}}]})  # fmt: skip
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    lam.create_function(FunctionName="strict-ok", Runtime="python3.12", Role=role, Handler="handler.handler",
                        Code={"ZipFile": python_zip(ECHO)})  # fmt: skip
    err = _error(lam.create_function, 400, FunctionName="strict-no", Runtime="python3.12", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": python_zip(ECHO)})  # fmt: skip
    assert (err["Code"], err["Message"]) == (
        "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")  # fmt: skip
