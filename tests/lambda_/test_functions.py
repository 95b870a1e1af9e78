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

from broker.services.lambda_.functions import DEPRECATED_RUNTIMES
from tests.lambda_.helpers import ARN, ECHO, ROLE, create, error_of, python_zip


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
    err = error_of(lam.get_function, 404, FunctionName="fn-one")
    assert err == {"Code": "ResourceNotFoundException", "Message": f"Function not found: {ARN}:fn-one"} | {
        k: v for k, v in err.items() if k not in ("Code", "Message")
    }
    assert err["Message"] == f"Function not found: {ARN}:fn-one"


def test_create_errors(lam):
    create(lam, "dup")
    err = error_of(lam.create_function, 409, FunctionName="dup", Runtime="python3.12", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": python_zip(ECHO)})  # fmt: skip
    assert (err["Code"], err["Message"]) == ("ResourceConflictException", "Function already exist: dup")

    def attempt(status: int, **overrides) -> dict:
        kw = {"FunctionName": "bad", "Runtime": "python3.12", "Role": ROLE, "Handler": "handler.handler",
              "Code": {"ZipFile": python_zip(ECHO)}} | overrides  # fmt: skip
        return error_of(lam.create_function, status, **{k: v for k, v in kw.items() if v is not None})

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
    err = error_of(lam.publish_version, 400, FunctionName="ver", CodeSha256="wrong")
    assert err["Message"].startswith("CodeSHA256 (wrong) is different from current CodeSHA256 in $LATEST")
    err = error_of(lam.publish_version, 412, FunctionName="ver", RevisionId="stale")
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
    err = error_of(lam.get_function_configuration, 404, FunctionName="ver", Qualifier="9")
    assert err["Message"] == f"Function not found: {ARN}:ver:9"
    versions = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [f["Version"] for f in versions] == ["$LATEST", "1", "2"]

    lam.create_alias(FunctionName="ver", Name="live", FunctionVersion="1")
    err = error_of(lam.delete_function, 409, FunctionName="ver", Qualifier="1")
    assert err["Message"] == "Unable to delete version because the following aliases reference it: [live]"
    err = error_of(lam.delete_function, 400, FunctionName="ver", Qualifier="$LATEST")
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
    err = error_of(lam.create_alias, 409, FunctionName="al", Name="prod", FunctionVersion="1")
    assert err["Message"] == f"Alias already exists: {ARN}:al:prod"
    err = error_of(lam.create_alias, 404, FunctionName="al", Name="x", FunctionVersion="9")
    assert err["Message"] == f"Function not found: {ARN}:al:9"
    err = error_of(lam.create_alias, 400, FunctionName="al", Name="y", FunctionVersion="1",
                 RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})  # fmt: skip
    assert err["Message"].startswith("Invalid function version 1.")
    err = error_of(lam.get_alias, 404, FunctionName="al", Name="nope")
    assert err["Message"] == f"Cannot find alias arn: {ARN}:al:nope"
    updated = lam.update_alias(FunctionName="al", Name="prod", FunctionVersion="2", RoutingConfig={})
    assert updated["FunctionVersion"] == "2" and "RoutingConfig" not in updated
    err = error_of(lam.update_alias, 412, FunctionName="al", Name="prod", RevisionId=alias["RevisionId"])
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
    err = error_of(lam.create_function, 400, FunctionName="strict-no", Runtime="python3.12", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": python_zip(ECHO)})  # fmt: skip
    assert (err["Code"], err["Message"]) == (
        "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")  # fmt: skip


def _zip_patched(offset_of, field: int, value: bytes) -> bytes:
    """A one-file deflated zip with bytes at `field` after the header `offset_of` finds replaced by `value`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("handler.py", ECHO * 20)
    data = bytearray(buf.getvalue())
    at = offset_of(bytes(data)) + field
    data[at : at + len(value)] = value
    return bytes(data)


def test_packages_names_runtimes_and_quotas(broker, lam):
    """Bad packages, names, runtimes and quotas get AWS's errors (never a 500); a zip's declared size is refused
    before anything is inflated."""
    unzip = "Could not unzip uploaded file. Please check your file, then try to upload again."
    local = lambda d: d.index(b"PK\x03\x04")  # noqa: E731
    central = lambda d: d.index(b"PK\x01\x02")  # noqa: E731
    bad_zips = {
        "corrupt deflate stream": _zip_patched(local, 30 + len("handler.py"), b"\xff\xff\xff\xff"),
        "encrypted entry": _zip_patched(central, 8, b"\x01\x00"),
    }
    for why, data in bad_zips.items():
        err = error_of(lam.create_function, 400, FunctionName="z", Runtime="python3.12", Role=ROLE,
                     Handler="handler.handler", Code={"ZipFile": data})  # fmt: skip
        assert (err["Code"], err["Message"]) == ("InvalidParameterValueException", unzip), why
    bomb = _zip_patched(central, 24, (300 * 1024 * 1024).to_bytes(4, "little"))  # declares 300 MB unzipped
    err = error_of(lam.create_function, 400, FunctionName="z", Runtime="python3.12", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": bomb})  # fmt: skip
    assert err["Message"] == "Unzipped size must be smaller than 262144000 bytes"
    # A 50 MB zip fits the request (base64 in JSON: ~70 MB); one byte more is refused by its size.
    err = error_of(lam.create_function, 413, FunctionName="z", Runtime="python3.12", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": b"\0" * (52_428_800 + 1)})  # fmt: skip
    assert (err["Code"], err["Message"]) == (
        "RequestEntityTooLargeException", "Zipped size must be smaller than 52428800 bytes")  # fmt: skip

    long_name = "a" * 65
    err = error_of(lam.create_function, 400, FunctionName=long_name, Runtime="python3.12", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": python_zip(ECHO)})  # fmt: skip
    assert (err["Code"], err["Message"]) == (
        "InvalidParameterValueException",
        f"1 validation error detected: Value '{long_name}' at 'functionName' failed to satisfy constraint: Member "
        "must have length less than or equal to 64",
    )
    err = error_of(lam.create_function, 400, FunctionName=f"{ARN}:{long_name}", Runtime="python3.12", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": python_zip(ECHO)})  # fmt: skip
    assert err["Code"] == "ValidationException" and "length less than or equal to 64" in err["Message"]

    # The model's runtimes in its order, less those no function may be created with any more.
    creatable = ", ".join(r for r in lam.meta.service_model.shape_for("Runtime").enum if r not in DEPRECATED_RUNTIMES)
    assert "python3.12" in creatable and "python3.7" not in creatable
    runtime_text = (
        "Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
        f"[{creatable}] or be a valid ARN"
    )
    err = error_of(lam.create_function, 400, FunctionName="rt", Runtime="non-existent-runtime", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": python_zip(ECHO)})  # fmt: skip
    assert (err["Code"], err["Message"]) == ("InvalidParameterValueException", runtime_text)
    create(lam, "quota")
    err = error_of(lam.update_function_configuration, 400, FunctionName="quota", Runtime="non-existent-runtime")
    assert (err["Code"], err["Message"]) == ("InvalidParameterValueException", runtime_text)
    err = error_of(lam.create_function, 400, FunctionName="big", Runtime="python3.12", Role=ROLE,
                 Handler="handler.handler", Code={"ZipFile": python_zip(ECHO)}, Timeout=901)  # fmt: skip
    assert (err["Code"], err["Message"]) == (
        "ValidationException",
        "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value "
        "less than or equal to 900",
    )
    err = error_of(lam.update_function_configuration, 400, FunctionName="quota", MemorySize=20000,
                 EphemeralStorage={"Size": 10241})  # fmt: skip
    assert err["Message"] == (
        "2 validation errors detected: Value '20000' at 'memorySize' failed to satisfy constraint: Member must have "
        "value less than or equal to 10240; Value '10241' at 'ephemeralStorage.size' failed to satisfy constraint: "
        "Member must have value less than or equal to 10240"
    )
    # AWS's front-end ValidationException document is {"message": ...}: no Type.
    r = httpx.put(f"{broker.url}/2015-03-31/functions/quota/configuration", json={"Timeout": 1000}, timeout=10)
    assert (r.status_code, r.headers["x-amzn-errortype"]) == (400, "ValidationException")
    assert list(r.json()) == ["message"]

    err = error_of(lam.update_function_code, 400, FunctionName="quota", ImageUri="123.dkr.ecr/x:1")
    assert err["Message"] == "Please don't provide ImageUri when updating a function with packageType Zip."
    err = error_of(lam.update_function_code, 404, FunctionName="nope")  # the missing function before the source
    assert err["Message"] == f"Function not found: {ARN}:nope"


def test_function_names_regions_and_accounts(broker, lam):
    create(lam, "named")
    for form in ("us-east-1:000000000000:function:named", "000000000000:function:named", f"{ARN}:named"):
        assert lam.get_function_configuration(FunctionName=form)["FunctionName"] == "named"
    latest = lam.get_function_configuration(FunctionName="named:$LATEST.PUBLISHED")
    assert (latest["Version"], latest["FunctionArn"]) == ("$LATEST", f"{ARN}:named:$LATEST")

    other_region = "arn:aws:lambda:ap-southeast-1:000000000000:function:named"
    for call, kw in ((lam.get_function, {}), (lam.delete_function, {}), (lam.invoke, {"Payload": b"{}"})):
        err = error_of(call, 404, FunctionName=other_region, **kw)
        assert (err["Code"], err["Message"]) == (
            "ResourceNotFoundException",
            "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')",
        )
    err = error_of(lam.get_function, 403, FunctionName="arn:aws:lambda:us-east-1:123456789012:function:named")
    assert err["Code"] == "AccessDeniedException"
    r = httpx.get(f"{broker.url}/2015-03-31/functions/123456789012:function:named", timeout=10)
    assert (r.status_code, r.headers["x-amzn-errortype"], r.json()) == (403, "AccessDeniedException", {"Message": None})

    for call in (lam.get_function, lam.get_function_configuration):
        err = error_of(call, 404, FunctionName="nope", Qualifier="$LATEST")
        assert err["Message"] == f"Function not found: {ARN}:nope:$LATEST"
        assert error_of(call, 404, FunctionName="nope:$LATEST")["Message"] == f"Function not found: {ARN}:nope:$LATEST"
        assert error_of(call, 404, FunctionName="nope")["Message"] == f"Function not found: {ARN}:nope"


def test_publish_answers_and_revisions(lam):
    created = create(lam, "pub", Publish=True)
    assert (created["Version"], created["FunctionArn"], created["State"]) == ("1", f"{ARN}:pub", "Pending")
    latest = lam.get_function_configuration(FunctionName="pub")
    v1 = lam.get_function_configuration(FunctionName="pub", Qualifier="1")
    # Each version has its own RevisionId; the one Create answered was the Pending function's.
    assert len({created["RevisionId"], latest["RevisionId"], v1["RevisionId"]}) == 3
    err = error_of(
        lam.update_function_configuration, 412, FunctionName="pub", Timeout=4, RevisionId=created["RevisionId"]
    )
    assert err["Code"] == "PreconditionFailedException"
    updated = lam.update_function_configuration(FunctionName="pub", Timeout=4, RevisionId=latest["RevisionId"])
    stored = lam.get_function_configuration(FunctionName="pub")["RevisionId"]
    assert stored != updated["RevisionId"]  # InProgress -> Successful gives a new one, as in Lambda
    # Tags and permissions change the RevisionId but neither code nor configuration: nothing new to publish.
    lam.publish_version(FunctionName="pub")
    before = lam.get_function_configuration(FunctionName="pub")["RevisionId"]
    lam.tag_resource(Resource=f"{ARN}:pub", Tags={"k": "v"})
    lam.add_permission(FunctionName="pub", StatementId="s", Action="lambda:InvokeFunction", Principal="*")
    assert lam.publish_version(FunctionName="pub")["Version"] == "2"
    assert lam.get_function_configuration(FunctionName="pub")["RevisionId"] != before  # publishing rotated it
    # UpdateFunctionCode with Publish answers the new version, still Pending.
    published = lam.update_function_code(FunctionName="pub", ZipFile=python_zip(ECHO + "\n# 3\n"), Publish=True)
    assert (published["Version"], published["FunctionArn"]) == ("3", f"{ARN}:pub:3")
    assert (published["State"], published["StateReason"], published["StateReasonCode"]) == (
        "Pending", "The function is being created.", "Creating")  # fmt: skip
    assert "LastUpdateStatus" not in published
    assert lam.get_function_configuration(FunctionName="pub:3")["State"] == "Active"


def test_listings_pages_and_markers(broker, lam):
    for i in range(51):
        create(lam, f"fn-{i:02d}")
    lam.publish_version(FunctionName="fn-00")
    page = lam.list_functions(MaxItems=100)  # at most 50 per page, whatever MaxItems says
    assert len(page["Functions"]) == 50 and "NextMarker" in page
    rest = lam.list_functions(MaxItems=100, Marker=page["NextMarker"])
    assert [f["FunctionName"] for f in rest["Functions"]] == ["fn-50"] and "NextMarker" not in rest
    hidden = {"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "RuntimeVersionConfig"}
    assert not hidden & set(page["Functions"][0])
    assert page["Functions"][0]["FunctionArn"] == f"{ARN}:fn-00"

    # FunctionVersion=ALL pages by version: fn-00 has two.
    seen, marker = [], None
    while True:
        kw = {"Marker": marker} if marker else {}
        got = lam.list_functions(FunctionVersion="ALL", MaxItems=20, **kw)
        assert len(got["Functions"]) <= 20
        seen += [(f["FunctionName"], f["Version"], f["FunctionArn"]) for f in got["Functions"]]
        marker = got.get("NextMarker")
        if not marker:
            break
    assert len(seen) == 52 and seen[:2] == [
        ("fn-00", "$LATEST", f"{ARN}:fn-00:$LATEST"), ("fn-00", "1", f"{ARN}:fn-00:1")]  # fmt: skip
    versions = lam.list_versions_by_function(FunctionName="fn-00")["Versions"]
    assert [v["FunctionArn"] for v in versions] == [f"{ARN}:fn-00:$LATEST", f"{ARN}:fn-00:1"]
    assert not hidden & set(versions[1])

    def token(state: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()

    lam.create_alias(FunctionName="fn-00", Name="a", FunctionVersion="1")
    for call, kw in (
        (lam.list_versions_by_function, {"FunctionName": "fn-00", "Marker": token({"after": 10**30})}),
        (lam.list_versions_by_function, {"FunctionName": "fn-00", "Marker": token({"after": True})}),
        (lam.list_functions, {"Marker": token({"after": "a\u0000b"})}),
        (lam.list_functions, {"Marker": token({"after": "\ud800"})}),
        (lam.list_functions, {"FunctionVersion": "ALL", "Marker": token({"after": "fn", "version": 10**30})}),
        (lam.list_aliases, {"FunctionName": "fn-00", "Marker": token({"after": "a\u0000"})}),
    ):
        err = error_of(call, 400, **kw)
        assert (err["Code"], err["Message"]) == ("InvalidParameterValueException", "Invalid marker.")


def test_configuration_members_as_aws_answers_them(lam):
    vpc = {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    created = create(lam, "cfg", VpcConfig=vpc, LoggingConfig={"LogFormat": "JSON"})
    assert created["VpcConfig"]["VpcId"].startswith("vpc-") and len(created["VpcConfig"]["VpcId"]) == 21
    assert created["VpcConfig"] == vpc | {"VpcId": created["VpcConfig"]["VpcId"], "Ipv6AllowedForDualStack": False}
    assert created["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO",
                                        "LogGroup": "/aws/lambda/cfg"}  # fmt: skip
    removed = lam.update_function_configuration(FunctionName="cfg", VpcConfig={"SubnetIds": [], "SecurityGroupIds": []})
    assert removed["VpcConfig"] == {
        "SubnetIds": [],
        "SecurityGroupIds": [],
        "VpcId": "",
        "Ipv6AllowedForDualStack": False,
    }
    text = lam.update_function_configuration(FunctionName="cfg", LoggingConfig={"LogFormat": "Text"})
    assert text["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/cfg"}
    arn = created["RuntimeVersionConfig"]["RuntimeVersionArn"]
    switched = lam.update_function_configuration(FunctionName="cfg", Runtime="python3.11")
    assert switched["RuntimeVersionConfig"]["RuntimeVersionArn"] != arn
    deleted = lam.delete_function(FunctionName="cfg")
    assert "content-type" not in deleted["ResponseMetadata"]["HTTPHeaders"]  # an empty 204 has no content type


def test_alias_errors_as_aws_words_them(lam):
    create(lam, "rt")
    lam.publish_version(FunctionName="rt")
    weights = "routingConfig.additionalVersionWeights"
    err = error_of(lam.create_alias, 400, FunctionName="rt", Name="a", FunctionVersion="1",
                 RoutingConfig={"AdditionalVersionWeights": {"2": 2.0}})  # fmt: skip
    assert (err["Code"], err["Message"]) == (
        "ValidationException",
        f"1 validation error detected: Value '{{2=2.0}}' at '{weights}' failed to satisfy constraint: Map value must "
        "satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than "
        "or equal to 0.0, Member must not be null]",
    )
    err = error_of(lam.create_alias, 400, FunctionName="rt", Name="a", FunctionVersion="1",
                 RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}})  # fmt: skip
    assert err["Message"] == (
        f"1 validation error detected: Value '{{$LATEST=0.5}}' at '{weights}' failed to satisfy constraint: Map keys "
        "must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length "
        "greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]"
    )
    with pytest.raises(ClientError) as e:  # this one has no Type in AWS's document
        lam.create_alias(FunctionName="rt", Name="a", FunctionVersion="$LATEST",
                         RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})  # fmt: skip
    assert (
        e.value.response["Error"]["Message"] == "$LATEST is not supported for an alias pointing to more than 1 version"
    )
    assert "Type" not in e.value.response
    err = error_of(lam.update_alias, 404, FunctionName="rt", Name="nope", FunctionVersion="1")
    assert err["Message"] == f"Alias not found: {ARN}:rt:nope"
    assert (
        error_of(lam.get_alias, 404, FunctionName="rt", Name="nope")["Message"]
        == f"Cannot find alias arn: {ARN}:rt:nope"
    )


def test_writes_find_a_function_deleted_since_it_was_read():
    """A function deleted between an operation's read and its write: the write units see it gone (the operations
    then answer 404) instead of failing on the missing row."""
    from sqlalchemy import create_engine

    from broker.services.lambda_ import function_operations, store
    from broker.storage.db import Tx
    from broker.storage.tables import metadata

    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        tx = Tx(conn, is_pg=False)
        config = {"FunctionArn": f"{ARN}:gone", "Version": "$LATEST", "RevisionId": "r"}
        fid = store.create_function(tx, "000000000000", "us-east-1", "gone", f"{ARN}:gone", {}, config, "ab", 0)
        assert fid is not None and function_operations._publish(tx, fid) is not None
        store.delete_function(tx, fid)
        assert store.put_version_config(tx, fid, "$LATEST", config, "ab") is False
        assert store.publish_version(tx, fid, config, "ab") is None
        assert function_operations._publish(tx, fid) is None
