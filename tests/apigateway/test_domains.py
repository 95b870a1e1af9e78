"""Custom domain names, base path mappings and domain name access associations through boto3: edge-optimized,
regional and private names with the names and defaults AWS answers, patching, base paths ("(none)" included)
checked against the API's stages, conflicts, and AWS's errors. Every test names its own domains."""

from __future__ import annotations

import random
import re
import uuid

import pytest

from tests.apigateway.helpers import error_of, mock_method

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"


def _domain() -> str:
    return f"api-{uuid.uuid4().hex[:10]}.example.com"


@pytest.fixture
def stage(gw) -> tuple[str, str]:
    api = gw.create_rest_api(name="mapped")
    mock_method(gw, api["id"], api["rootResourceId"])
    gw.create_deployment(restApiId=api["id"], stageName="prod")
    return api["id"], "prod"


def test_edge_domain_name(gw):
    name = _domain()
    created = gw.create_domain_name(domainName=name, certificateArn=CERT, tags={"t": "1"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["domainName"] == name and created["certificateArn"] == CERT
    assert re.fullmatch(r"d[a-z0-9]{13}\.cloudfront\.net", created["distributionDomainName"])
    assert created["distributionHostedZoneId"] == "Z2FDTNDATAQYW2"
    assert created["endpointConfiguration"] == {"types": ["EDGE"], "ipAddressType": "ipv4"}
    assert (created["domainNameStatus"], created["securityPolicy"]) == ("AVAILABLE", "TLS_1_2")
    assert created["domainNameArn"] == f"arn:aws:apigateway:us-east-1::/domainnames/{name}"
    assert created["tags"] == {"t": "1"} and "certificateUploadDate" in created
    assert "regionalDomainName" not in created and "domainNameId" not in created

    got = gw.get_domain_name(domainName=name)
    assert got["distributionDomainName"] == created["distributionDomainName"]
    assert name in {d["domainName"] for d in gw.get_domain_names(limit=500)["items"]}
    assert gw.get_domain_names(resourceOwner="OTHER_ACCOUNTS")["items"] == []

    dup = error_of(gw.create_domain_name, 400, domainName=name, certificateArn=CERT)
    assert dup == {"Code": "BadRequestException", "Message": "The domain name you provided already exists."}
    no_cert = error_of(gw.create_domain_name, 400, domainName=_domain())
    assert no_cert["Code"] == "BadRequestException"
    bad_name = error_of(gw.create_domain_name, 400, domainName="not a domain", certificateArn=CERT)
    assert bad_name["Code"] == "BadRequestException"

    gw.delete_domain_name(domainName=name)
    missing = {"Code": "NotFoundException", "Message": "Invalid domain name identifier specified"}
    assert error_of(gw.get_domain_name, 404, domainName=name) == missing
    assert error_of(gw.delete_domain_name, 404, domainName=name) == missing
    assert error_of(gw.update_domain_name, 404, domainName=name, patchOperations=[]) == missing


def test_regional_domain_name_and_updates(gw):
    name = _domain()
    created = gw.create_domain_name(
        domainName=name,
        regionalCertificateArn=CERT,
        regionalCertificateName="regional",
        endpointConfiguration={"types": ["REGIONAL"]},
        securityPolicy="TLS_1_0",
    )
    assert re.fullmatch(r"d-[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com", created["regionalDomainName"])
    assert created["regionalHostedZoneId"] == "Z1UJRXOUMOOFQ8"
    assert created["securityPolicy"] == "TLS_1_0" and "distributionDomainName" not in created
    assert error_of(gw.create_domain_name, 400, domainName=_domain(), endpointConfiguration={"types": ["REGIONAL"]})

    updated = gw.update_domain_name(
        domainName=name,
        patchOperations=[
            {"op": "replace", "path": "/securityPolicy", "value": "TLS_1_2"},
            {"op": "replace", "path": "/regionalCertificateName", "value": "renamed"},
            {"op": "replace", "path": "/mutualTlsAuthentication/truststoreUri", "value": "s3://bucket/ca.pem"},
        ],
    )
    assert (updated["securityPolicy"], updated["regionalCertificateName"]) == ("TLS_1_2", "renamed")
    assert updated["mutualTlsAuthentication"]["truststoreUri"] == "s3://bucket/ca.pem"
    assert updated["regionalDomainName"] == created["regionalDomainName"]
    assert gw.get_domain_name(domainName=name)["regionalCertificateName"] == "renamed"

    # Regional -> edge as AWS's patch table has it: add the edge type (with its certificate), then remove the
    # regional one (with its certificate) in a second request.
    both = gw.update_domain_name(
        domainName=name,
        patchOperations=[
            {"op": "add", "path": "/certificateArn", "value": CERT},
            {"op": "add", "path": "/endpointConfiguration/types", "value": "EDGE"},
        ],
    )
    assert both["endpointConfiguration"]["types"] == ["REGIONAL", "EDGE"]
    assert both["distributionDomainName"] and both["regionalDomainName"] == created["regionalDomainName"]
    to_edge = gw.update_domain_name(
        domainName=name,
        patchOperations=[
            {"op": "remove", "path": "/endpointConfiguration/types", "value": "REGIONAL"},
            {"op": "remove", "path": "/regionalCertificateArn"},
        ],
    )
    assert to_edge["endpointConfiguration"]["types"] == ["EDGE"]
    assert to_edge["distributionDomainName"] == both["distributionDomainName"]
    assert "regionalDomainName" not in to_edge and "regionalCertificateArn" not in to_edge
    last = error_of(
        gw.update_domain_name,
        400,
        domainName=name,
        patchOperations=[{"op": "remove", "path": "/endpointConfiguration/types", "value": "EDGE"}],
    )
    assert last["Code"] == "BadRequestException"
    mixed = error_of(
        gw.update_domain_name,
        400,
        domainName=name,
        patchOperations=[
            {"op": "add", "path": "/endpointConfiguration/types", "value": "REGIONAL"},
            {"op": "remove", "path": "/endpointConfiguration/types", "value": "EDGE"},
        ],
    )
    assert mixed["Code"] == "BadRequestException"
    no_cert = error_of(
        gw.update_domain_name, 400, domainName=name, patchOperations=[{"op": "remove", "path": "/certificateArn"}]
    )
    assert no_cert["Code"] == "BadRequestException"
    for operation in (
        {"op": "add", "path": "/securityPolicy", "value": "TLS_1_2"},  # replace only
        {"op": "replace", "path": "/policy", "value": "{}"},  # private names only
        {"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "ipv7"},
    ):
        assert error_of(gw.update_domain_name, 400, domainName=name, patchOperations=[operation])["Code"] == (
            "BadRequestException"
        ), operation
    assert gw.get_domain_name(domainName=name)["endpointConfiguration"]["types"] == ["EDGE"]

    bad_path = error_of(
        gw.update_domain_name, 400, domainName=name, patchOperations=[{"op": "replace", "path": "/domainName"}]
    )
    assert bad_path["Code"] == "BadRequestException" and "/certificateArn" in bad_path["Message"]
    bad_policy = error_of(
        gw.update_domain_name,
        400,
        domainName=name,
        patchOperations=[{"op": "replace", "path": "/securityPolicy", "value": "TLS_9"}],
    )
    assert bad_policy["Code"] == "BadRequestException"
    assert gw.get_domain_name(domainName=name)["securityPolicy"] == "TLS_1_2"


def test_base_path_mappings(gw, stage):
    api_id, stage_name = stage
    name = _domain()
    gw.create_domain_name(domainName=name, certificateArn=CERT)

    root = gw.create_base_path_mapping(domainName=name, restApiId=api_id)
    assert root["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (root["basePath"], root["restApiId"]) == ("(none)", api_id) and "stage" not in root
    v1 = gw.create_base_path_mapping(domainName=name, restApiId=api_id, basePath="v1", stage=stage_name)
    assert (v1["basePath"], v1["stage"]) == ("v1", stage_name)

    assert gw.get_base_path_mapping(domainName=name, basePath="(none)")["restApiId"] == api_id
    assert gw.get_base_path_mapping(domainName=name, basePath="v1")["stage"] == stage_name
    listed = gw.get_base_path_mappings(domainName=name)["items"]
    assert [m["basePath"] for m in listed] == ["(none)", "v1"]
    first = gw.get_base_path_mappings(domainName=name, limit=1)
    assert [m["basePath"] for m in first["items"]] == ["(none)"]
    rest = gw.get_base_path_mappings(domainName=name, limit=1, position=first["position"])
    assert [m["basePath"] for m in rest["items"]] == ["v1"]

    conflict = error_of(gw.create_base_path_mapping, 409, domainName=name, restApiId=api_id, basePath="v1")
    assert conflict == {"Code": "ConflictException", "Message": "Base path already exists for this domain name"}
    assert error_of(gw.create_base_path_mapping, 409, domainName=name, restApiId=api_id, basePath="")["Code"] == (
        "ConflictException"
    )
    no_stage = error_of(gw.create_base_path_mapping, 400, domainName=name, restApiId=api_id, basePath="x", stage="no")
    assert no_stage == {"Code": "BadRequestException", "Message": "Invalid stage identifier specified"}
    no_api = error_of(gw.create_base_path_mapping, 400, domainName=name, restApiId="nope000000", basePath="x")
    assert no_api == {"Code": "BadRequestException", "Message": "Invalid REST API identifier specified"}
    slash = error_of(gw.create_base_path_mapping, 400, domainName=name, restApiId=api_id, basePath="a/b")
    assert slash["Message"].startswith("API Gateway V1 doesn't support the slash character (/) in base path mappings")
    no_domain = error_of(gw.create_base_path_mapping, 404, domainName=_domain(), restApiId=api_id)
    assert no_domain["Message"] == "Invalid domain name identifier specified"

    moved = gw.update_base_path_mapping(
        domainName=name,
        basePath="v1",
        patchOperations=[
            {"op": "replace", "path": "/basepath", "value": "v2"},
            {"op": "replace", "path": "/stage", "value": ""},
        ],
    )
    assert moved["basePath"] == "v2" and "stage" not in moved
    assert [m["basePath"] for m in gw.get_base_path_mappings(domainName=name)["items"]] == ["(none)", "v2"]
    restaged = gw.update_base_path_mapping(
        domainName=name, basePath="v2", patchOperations=[{"op": "replace", "path": "/stage", "value": stage_name}]
    )
    assert restaged["stage"] == stage_name

    def refused(status: int, path: str, value: str) -> dict:
        """The error of replacing `path` of the v2 mapping with `value`."""
        operations = [{"op": "replace", "path": path, "value": value}]
        return error_of(gw.update_base_path_mapping, status, domainName=name, basePath="v2", patchOperations=operations)

    assert refused(409, "/basePath", "(none)")["Code"] == "ConflictException"
    assert refused(400, "/stage", "nope")["Message"] == "Invalid stage identifier specified"
    assert refused(400, "/restapiId", "nope000000")["Message"] == "Invalid REST API identifier specified"
    assert refused(400, "/domainName", "x")["Code"] == "BadRequestException"

    gw.delete_base_path_mapping(domainName=name, basePath="v2")
    missing = {"Code": "NotFoundException", "Message": "Invalid base path mapping identifier specified"}
    assert error_of(gw.get_base_path_mapping, 404, domainName=name, basePath="v2") == missing
    assert error_of(gw.delete_base_path_mapping, 404, domainName=name, basePath="v2") == missing
    assert error_of(gw.update_base_path_mapping, 404, domainName=name, basePath="v2", patchOperations=[]) == missing

    # Deleting the domain takes its mappings with it: a new domain of the same name starts empty.
    gw.delete_domain_name(domainName=name)
    assert error_of(gw.get_base_path_mappings, 404, domainName=name)["Code"] == "NotFoundException"
    gw.create_domain_name(domainName=name, certificateArn=CERT)
    assert gw.get_base_path_mappings(domainName=name)["items"] == []


def test_private_domain_and_access_associations(broker, gw, stage):
    api_id, _ = stage
    name = _domain()
    private = gw.create_domain_name(
        domainName=name, certificateArn=CERT, endpointConfiguration={"types": ["PRIVATE"]}, policy='{"Version": "x"}'
    )
    domain_id = private["domainNameId"]
    arn = private["domainNameArn"]
    assert arn == f"arn:aws:apigateway:us-east-1:000000000000:/domainnames/{name}+{domain_id}"
    assert private["endpointConfiguration"]["types"] == ["PRIVATE"] and private["policy"] == '{"Version": "x"}'
    assert gw.get_domain_name(domainName=name, domainNameId=domain_id)["domainNameArn"] == arn
    repolicied = gw.update_domain_name(
        domainName=name,
        domainNameId=domain_id,
        patchOperations=[{"op": "replace", "path": "/policy", "value": '{"Version": "y"}'}],
    )
    assert repolicied["policy"] == '{"Version": "y"}'
    public_only = error_of(
        gw.update_domain_name,
        400,
        domainName=name,
        domainNameId=domain_id,
        patchOperations=[{"op": "replace", "path": "/endpointAccessMode", "value": "STRICT"}],
    )
    assert public_only["Code"] == "BadRequestException"
    assert error_of(gw.get_domain_name, 404, domainName=name)["Code"] == "NotFoundException"
    mapping = gw.create_base_path_mapping(domainName=name, domainNameId=domain_id, restApiId=api_id, basePath="p")
    assert mapping["basePath"] == "p"
    assert [m["basePath"] for m in gw.get_base_path_mappings(domainName=name, domainNameId=domain_id)["items"]] == ["p"]
    assert error_of(
        gw.create_domain_name,
        400,
        domainName=_domain(),
        certificateArn=CERT,
        endpointConfiguration={"types": ["PRIVATE"]},
        securityPolicy="TLS_1_0",
    )

    # The API consumer (another account) associates its VPC endpoint with the owner's private domain name.
    consumer = broker.client("apigateway", access_key=f"{random.randrange(10**11, 10**12):012d}")
    vpce = "vpce-0123456789abcdef0"
    association = consumer.create_domain_name_access_association(
        domainNameArn=arn, accessAssociationSourceType="VPCE", accessAssociationSource=vpce, tags={"k": "v"}
    )
    assoc_arn = association["domainNameAccessAssociationArn"]
    assert association["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert assoc_arn.endswith(f":/domainnameaccessassociations/domainname/{name}+{domain_id}/vpcesource/{vpce}")
    assert (association["domainNameArn"], association["accessAssociationSource"]) == (arn, vpce)
    assert [a["domainNameAccessAssociationArn"] for a in consumer.get_domain_name_access_associations()["items"]] == [
        assoc_arn
    ]
    others = gw.get_domain_name_access_associations(resourceOwner="OTHER_ACCOUNTS")["items"]
    assert assoc_arn in {a["domainNameAccessAssociationArn"] for a in others}
    assert assoc_arn not in {
        a["domainNameAccessAssociationArn"] for a in gw.get_domain_name_access_associations()["items"]
    }
    dup = error_of(
        consumer.create_domain_name_access_association,
        409,
        domainNameArn=arn,
        accessAssociationSourceType="VPCE",
        accessAssociationSource=vpce,
    )
    assert dup["Code"] == "ConflictException"
    unknown = arn.replace(domain_id, "zzzzzzzz")
    no_domain = error_of(
        consumer.create_domain_name_access_association,
        404,
        domainNameArn=unknown,
        accessAssociationSourceType="VPCE",
        accessAssociationSource=vpce,
    )
    assert no_domain["Message"] == "Invalid domain name identifier specified"
    bad_source = error_of(
        consumer.create_domain_name_access_association,
        400,
        domainNameArn=arn,
        accessAssociationSourceType="VPCE",
        accessAssociationSource="not-a-vpce",
    )
    assert bad_source["Code"] == "BadRequestException"

    # The owner rejects it: gone from both accounts.
    gw.reject_domain_name_access_association(domainNameAccessAssociationArn=assoc_arn, domainNameArn=arn)
    assert consumer.get_domain_name_access_associations()["items"] == []
    assert assoc_arn not in {
        a["domainNameAccessAssociationArn"]
        for a in gw.get_domain_name_access_associations(resourceOwner="OTHER_ACCOUNTS")["items"]
    }
    gone = error_of(
        gw.reject_domain_name_access_association, 404, domainNameAccessAssociationArn=assoc_arn, domainNameArn=arn
    )
    assert gone["Code"] == "NotFoundException"

    # The consumer associates again and deletes its own association.
    again = consumer.create_domain_name_access_association(
        domainNameArn=arn, accessAssociationSourceType="VPCE", accessAssociationSource=vpce
    )["domainNameAccessAssociationArn"]
    owner_cannot = error_of(gw.delete_domain_name_access_association, 404, domainNameAccessAssociationArn=again)
    assert owner_cannot["Code"] == "NotFoundException"
    consumer.delete_domain_name_access_association(domainNameAccessAssociationArn=again)
    assert consumer.get_domain_name_access_associations()["items"] == []
    assert again not in {
        a["domainNameAccessAssociationArn"]
        for a in gw.get_domain_name_access_associations(resourceOwner="OTHER_ACCOUNTS")["items"]
    }
    assert error_of(consumer.delete_domain_name_access_association, 404, domainNameAccessAssociationArn=again)

    gw.delete_domain_name(domainName=name, domainNameId=domain_id)
    assert error_of(gw.get_domain_name, 404, domainName=name, domainNameId=domain_id)["Code"] == "NotFoundException"
