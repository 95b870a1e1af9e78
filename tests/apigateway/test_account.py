"""API Gateway's account-wide operations through boto3: the account's settings (AWS's defaults, the CloudWatch role
and features patched), client certificates (a real self-signed certificate that expires a year on), VPC links, the
SDK types AWS lists, GetSdk's refusal and FlushStageCache, with AWS's errors. Each test that changes account-wide
state works in an account of its own (a 12-digit access key names the account)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from cryptography import x509

from tests.apigateway.helpers import error_of, mock_method

NLB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/my-nlb/0123456789abcdef"


@pytest.fixture
def own(broker):
    """A client of an account no other test uses."""
    return broker.client("apigateway", access_key=f"{random.randrange(10**11, 10**12):012d}")


@pytest.fixture
def stage(gw) -> tuple[str, str]:
    api = gw.create_rest_api(name="account-ops")
    mock_method(gw, api["id"], api["rootResourceId"])
    gw.create_deployment(restApiId=api["id"], stageName="prod")
    return api["id"], "prod"


def test_account_defaults_and_updates(own):
    account = own.get_account()
    account.pop("ResponseMetadata")
    assert account == {
        "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
        "features": ["UsagePlans"],
        "apiKeyVersion": "4",
    }
    role = "arn:aws:iam::123456789012:role/apigw-logs"
    updated = own.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])
    assert updated["cloudwatchRoleArn"] == role and updated["features"] == ["UsagePlans"]
    assert own.get_account()["cloudwatchRoleArn"] == role

    again = own.update_account(patchOperations=[{"op": "add", "path": "/features", "value": "UsagePlans"}])
    assert again["features"] == ["UsagePlans"]
    # AWS's patch table: /features takes add and remove, but not the removal of UsagePlans; the role only replace.
    kept = error_of(
        own.update_account, 400, patchOperations=[{"op": "remove", "path": "/features", "value": "UsagePlans"}]
    )
    assert kept["Code"] == "BadRequestException"
    no_remove = error_of(own.update_account, 400, patchOperations=[{"op": "remove", "path": "/cloudwatchRoleArn"}])
    assert no_remove["Code"] == "BadRequestException"
    assert own.get_account()["features"] == ["UsagePlans"]
    cleared = own.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}])
    assert "cloudwatchRoleArn" not in cleared

    bad_role = error_of(
        own.update_account, 400, patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": "nope"}]
    )
    assert bad_role == {
        "Code": "BadRequestException",
        "Message": "The role ARN does not have required permissions set to API Gateway",
    }
    bad_path = error_of(own.update_account, 400, patchOperations=[{"op": "replace", "path": "/apiKeyVersion"}])
    assert bad_path["Code"] == "BadRequestException" and "/cloudwatchRoleArn" in bad_path["Message"]
    bad_feature = error_of(own.update_account, 400, patchOperations=[{"op": "add", "path": "/features", "value": "X"}])
    assert bad_feature["Code"] == "BadRequestException"
    assert "cloudwatchRoleArn" not in own.get_account()


def test_client_certificate_lifecycle(own):
    cert = own.generate_client_certificate(description="backend mtls", tags={"team": "a"})
    assert cert["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert cert["description"] == "backend mtls" and cert["tags"] == {"team": "a"}
    assert cert["expirationDate"] - cert["createdDate"] == dt.timedelta(days=365)
    parsed = x509.load_pem_x509_certificate(cert["pemEncodedCertificate"].encode())
    assert parsed.subject == parsed.issuer  # self-signed
    assert parsed.not_valid_after_utc - parsed.not_valid_before_utc == dt.timedelta(days=365)
    assert parsed.public_key().key_size == 2048

    cert_id = cert["clientCertificateId"]
    got = own.get_client_certificate(clientCertificateId=cert_id)
    assert got["pemEncodedCertificate"] == cert["pemEncodedCertificate"] and got["createdDate"] == cert["createdDate"]
    second = own.generate_client_certificate()
    assert "description" not in second
    listed = own.get_client_certificates()["items"]
    assert {c["clientCertificateId"] for c in listed} == {cert_id, second["clientCertificateId"]}
    page = own.get_client_certificates(limit=1)
    rest = own.get_client_certificates(limit=1, position=page["position"])
    assert {page["items"][0]["clientCertificateId"], rest["items"][0]["clientCertificateId"]} == {
        cert_id,
        second["clientCertificateId"],
    }

    updated = own.update_client_certificate(
        clientCertificateId=cert_id, patchOperations=[{"op": "replace", "path": "/description", "value": "renamed"}]
    )
    assert updated["description"] == "renamed"
    bad = error_of(
        own.update_client_certificate,
        400,
        clientCertificateId=cert_id,
        patchOperations=[{"op": "replace", "path": "/pemEncodedCertificate", "value": "x"}],
    )
    assert bad["Code"] == "BadRequestException"
    not_replace = error_of(
        own.update_client_certificate,
        400,
        clientCertificateId=cert_id,
        patchOperations=[{"op": "remove", "path": "/description"}],
    )
    assert not_replace["Code"] == "BadRequestException"
    assert own.get_client_certificate(clientCertificateId=cert_id)["description"] == "renamed"

    own.delete_client_certificate(clientCertificateId=cert_id)
    missing = {"Code": "NotFoundException", "Message": "Invalid Client Certificate identifier specified"}
    assert error_of(own.get_client_certificate, 404, clientCertificateId=cert_id) == missing
    assert error_of(own.delete_client_certificate, 404, clientCertificateId=cert_id) == missing
    assert error_of(own.update_client_certificate, 404, clientCertificateId=cert_id, patchOperations=[]) == missing


def test_vpc_link_lifecycle(own):
    link = own.create_vpc_link(name="link", description="to the nlb", targetArns=[NLB], tags={"k": "v"})
    assert link["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (link["name"], link["description"], link["targetArns"]) == ("link", "to the nlb", [NLB])
    assert (link["status"], link["statusMessage"]) == ("AVAILABLE", "Your vpc link is ready for use")
    assert link["tags"] == {"k": "v"}
    got = own.get_vpc_link(vpcLinkId=link["id"])
    assert got["targetArns"] == [NLB] and got["status"] == "AVAILABLE"
    assert [v["id"] for v in own.get_vpc_links()["items"]] == [link["id"]]

    updated = own.update_vpc_link(
        vpcLinkId=link["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "replace", "path": "/description", "value": "new"},
        ],
    )
    assert (updated["name"], updated["description"]) == ("renamed", "new")
    assert own.get_vpc_link(vpcLinkId=link["id"])["name"] == "renamed"
    no_name = error_of(
        own.update_vpc_link, 400, vpcLinkId=link["id"], patchOperations=[{"op": "remove", "path": "/name"}]
    )
    assert no_name["Code"] == "BadRequestException"

    two = error_of(own.create_vpc_link, 400, name="x", targetArns=[NLB, NLB])
    assert two["Code"] == "BadRequestException"
    not_nlb = error_of(own.create_vpc_link, 400, name="x", targetArns=["arn:aws:s3:::bucket"])
    assert not_nlb["Code"] == "BadRequestException"

    own.delete_vpc_link(vpcLinkId=link["id"])
    missing = {"Code": "NotFoundException", "Message": "Invalid VPC link identifier specified"}
    assert error_of(own.get_vpc_link, 404, vpcLinkId=link["id"]) == missing
    assert error_of(own.delete_vpc_link, 404, vpcLinkId=link["id"]) == missing
    assert own.get_vpc_links()["items"] == []


def test_sdk_types(gw):
    types = gw.get_sdk_types()["items"]
    assert [t["id"] for t in types] == ["android", "javascript", "objectivec", "swift", "java", "ruby"]
    android = gw.get_sdk_type(id="android")
    assert {c["name"] for c in android["configurationProperties"]} == {
        "groupId",
        "invokerPackage",
        "artifactId",
        "artifactVersion",
    }
    assert all(c["required"] for c in android["configurationProperties"])
    java = gw.get_sdk_type(id="java")
    required = {c["name"] for c in java["configurationProperties"] if c["required"]}
    assert required == {"serviceName", "javaPackageName"}
    assert gw.get_sdk_type(id="javascript")["configurationProperties"] == []
    assert error_of(gw.get_sdk_type, 404, id="cobol")["Code"] == "NotFoundException"
    first = gw.get_sdk_types(limit=2)
    assert [t["id"] for t in first["items"]] == ["android", "javascript"]
    assert [t["id"] for t in gw.get_sdk_types(limit=2, position=first["position"])["items"]] == ["objectivec", "swift"]


def test_get_sdk_is_refused_clearly(gw, stage):
    api_id, name = stage
    refused = error_of(gw.get_sdk, 400, restApiId=api_id, stageName=name, sdkType="javascript")
    assert refused["Code"] == "BadRequestException" and "not supported by this broker" in refused["Message"]
    no_stage = error_of(gw.get_sdk, 404, restApiId=api_id, stageName="nope", sdkType="javascript")
    assert no_stage == {"Code": "NotFoundException", "Message": "Invalid stage identifier specified"}
    no_api = error_of(gw.get_sdk, 404, restApiId="nope000000", stageName=name, sdkType="javascript")
    assert no_api["Message"] == "Invalid API identifier specified 000000000000:nope000000"
    assert error_of(gw.get_sdk, 404, restApiId=api_id, stageName=name, sdkType="cobol")["Code"] == "NotFoundException"


def test_flush_stage_cache(gw, stage):
    api_id, name = stage
    flushed = gw.flush_stage_cache(restApiId=api_id, stageName=name)
    assert flushed["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert error_of(gw.flush_stage_cache, 404, restApiId=api_id, stageName="nope")["Message"] == (
        "Invalid stage identifier specified"
    )
    assert error_of(gw.flush_stage_cache, 404, restApiId="nope000000", stageName=name)["Code"] == "NotFoundException"
