"""Models (WebSocket APIs) and their templates, custom domain names with API mappings, VPC links, and tags by ARN."""

from __future__ import annotations

import json

from tests.apigatewayv2.helpers import LAMBDA, error_of, http_api, websocket_api

SCHEMA = json.dumps({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}})


def test_models(gw2):
    api_id = websocket_api(gw2)
    model = gw2.create_model(ApiId=api_id, Name="Person", Schema=SCHEMA)
    assert model["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert model["ContentType"] == "application/json" and model["Name"] == "Person" and model["Schema"] == SCHEMA
    model_id = model["ModelId"]
    assert error_of(gw2.create_model, 409, ApiId=api_id, Name="Person", Schema=SCHEMA)["Code"] == "ConflictException"
    assert error_of(gw2.create_model, 400, ApiId=api_id, Name="Bad", Schema="{nope")["Code"] == "BadRequestException"
    assert (
        error_of(gw2.create_model, 400, ApiId=api_id, Name="bad-name", Schema=SCHEMA)["Code"] == "BadRequestException"
    )
    template = gw2.get_model_template(ApiId=api_id, ModelId=model_id)["Value"]
    assert template.splitlines() == [
        "#set($inputRoot = $input.path('$'))",
        "{",
        '  "name" : "$inputRoot.name",',
        '  "age" : $inputRoot.age',
        "}",
    ]
    out = gw2.update_model(ApiId=api_id, ModelId=model_id, Description="people")
    assert out["Description"] == "people"
    assert [m["Name"] for m in gw2.get_models(ApiId=api_id)["Items"]] == ["Person"]
    gw2.delete_model(ApiId=api_id, ModelId=model_id)
    e = error_of(gw2.get_model, 404, ApiId=api_id, ModelId=model_id)
    assert e == {"Code": "NotFoundException", "Message": f"Invalid Model identifier specified {model_id}"}
    http = http_api(gw2)
    assert error_of(gw2.create_model, 400, ApiId=http, Name="P", Schema=SCHEMA)["Code"] == "BadRequestException"


def test_domain_names_and_api_mappings(gw2):
    api_id = http_api(gw2, Target=LAMBDA)
    cert = "arn:aws:acm:us-east-1:000000000000:certificate/abc"
    domain = gw2.create_domain_name(
        DomainName="api.example.com", DomainNameConfigurations=[{"CertificateArn": cert}], Tags={"team": "a"}
    )
    assert domain["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert domain["ApiMappingSelectionExpression"] == "$request.basepath"
    assert domain["DomainNameArn"] == "arn:aws:apigateway:us-east-1::/domainnames/api.example.com"
    [conf] = domain["DomainNameConfigurations"]
    assert conf["CertificateArn"] == cert and conf["DomainNameStatus"] == "AVAILABLE"
    assert conf["EndpointType"] == "REGIONAL" and conf["SecurityPolicy"] == "TLS_1_2"
    assert conf["ApiGatewayDomainName"].endswith(".execute-api.us-east-1.amazonaws.com")
    assert error_of(gw2.create_domain_name, 409, DomainName="api.example.com")["Code"] == "ConflictException"
    updated = gw2.update_domain_name(
        DomainName="api.example.com", DomainNameConfigurations=[{"SecurityPolicy": "TLS_1_0"}]
    )
    assert updated["DomainNameConfigurations"][0]["SecurityPolicy"] == "TLS_1_0"
    assert updated["DomainNameConfigurations"][0]["ApiGatewayDomainName"] == conf["ApiGatewayDomainName"]
    assert [d["DomainName"] for d in gw2.get_domain_names()["Items"]] == ["api.example.com"]

    mapping = gw2.create_api_mapping(DomainName="api.example.com", ApiId=api_id, Stage="$default", ApiMappingKey="v1")
    assert mapping["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (mapping["ApiId"], mapping["Stage"], mapping["ApiMappingKey"]) == (api_id, "$default", "v1")
    mapping_id = mapping["ApiMappingId"]
    e = error_of(
        gw2.create_api_mapping, 409, DomainName="api.example.com", ApiId=api_id, Stage="$default", ApiMappingKey="v1"
    )
    assert e["Code"] == "ConflictException"
    e = error_of(gw2.create_api_mapping, 404, DomainName="api.example.com", ApiId=api_id, Stage="nope")
    assert e["Code"] == "NotFoundException"
    e = error_of(gw2.create_api_mapping, 404, DomainName="api.example.com", ApiId="nope123456", Stage="$default")
    assert e["Message"] == "Invalid API identifier specified 000000000000:nope123456"
    e = error_of(gw2.create_api_mapping, 404, DomainName="other.example.com", ApiId=api_id, Stage="$default")
    assert e["Code"] == "NotFoundException"
    got = gw2.get_api_mapping(DomainName="api.example.com", ApiMappingId=mapping_id)
    assert got["ApiMappingKey"] == "v1"
    assert (
        gw2.update_api_mapping(DomainName="api.example.com", ApiMappingId=mapping_id, ApiId=api_id, ApiMappingKey="v2")[
            "ApiMappingKey"
        ]
        == "v2"
    )
    assert len(gw2.get_api_mappings(DomainName="api.example.com")["Items"]) == 1
    gw2.delete_api_mapping(DomainName="api.example.com", ApiMappingId=mapping_id)
    e = error_of(gw2.get_api_mapping, 404, DomainName="api.example.com", ApiMappingId=mapping_id)
    assert e["Message"] == "The api mapping resource specified in the request was not found."
    gw2.delete_domain_name(DomainName="api.example.com")
    e = error_of(gw2.get_domain_name, 404, DomainName="api.example.com")
    assert e == {
        "Code": "NotFoundException",
        "Message": "The domain name resource specified in the request was not found.",
    }


def test_vpc_links(gw2):
    link = gw2.create_vpc_link(Name="link", SubnetIds=["subnet-1", "subnet-2"], SecurityGroupIds=["sg-1"])
    assert link["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert link["VpcLinkStatus"] == "AVAILABLE" and link["VpcLinkVersion"] == "V2"
    assert link["VpcLinkStatusMessage"] == "VPC link is ready to route traffic"
    assert link["SubnetIds"] == ["subnet-1", "subnet-2"] and link["Tags"] == {}
    link_id = link["VpcLinkId"]
    assert gw2.update_vpc_link(VpcLinkId=link_id, Name="renamed")["Name"] == "renamed"
    assert [v["VpcLinkId"] for v in gw2.get_vpc_links()["Items"]] == [link_id]
    assert error_of(gw2.create_vpc_link, 400, Name="x", SubnetIds=["nope"])["Code"] == "BadRequestException"
    deleted = gw2.delete_vpc_link(VpcLinkId=link_id)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    e = error_of(gw2.get_vpc_link, 404, VpcLinkId=link_id)
    assert e == {"Code": "NotFoundException", "Message": f"Invalid VpcLink identifier specified {link_id}"}


def test_tags_by_arn(gw2):
    api_id = http_api(gw2, Tags={"a": "1"})
    arn = f"arn:aws:apigateway:us-east-1::/apis/{api_id}"
    assert gw2.get_tags(ResourceArn=arn)["Tags"] == {"a": "1"}
    tagged = gw2.tag_resource(ResourceArn=arn, Tags={"b": "2"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert gw2.get_tags(ResourceArn=arn)["Tags"] == {"a": "1", "b": "2"}
    assert gw2.get_api(ApiId=api_id)["Tags"] == {"a": "1", "b": "2"}
    gw2.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert gw2.get_tags(ResourceArn=arn)["Tags"] == {"b": "2"}
    gw2.create_stage(ApiId=api_id, StageName="dev")
    stage_arn = f"{arn}/stages/dev"
    gw2.tag_resource(ResourceArn=stage_arn, Tags={"s": "1"})
    assert gw2.get_stage(ApiId=api_id, StageName="dev")["Tags"] == {"s": "1"}
    link = gw2.create_vpc_link(Name="l", SubnetIds=["subnet-1"])["VpcLinkId"]
    gw2.tag_resource(ResourceArn=f"arn:aws:apigateway:us-east-1::/vpclinks/{link}", Tags={"v": "1"})
    assert gw2.get_vpc_link(VpcLinkId=link)["Tags"] == {"v": "1"}
    gw2.create_domain_name(DomainName="d.example.com")
    gw2.tag_resource(ResourceArn="arn:aws:apigateway:us-east-1::/domainnames/d.example.com", Tags={"d": "1"})
    assert gw2.get_domain_name(DomainName="d.example.com")["Tags"] == {"d": "1"}
    assert error_of(gw2.get_tags, 400, ResourceArn="arn:aws:sqs:x")["Code"] == "BadRequestException"
    e = error_of(gw2.get_tags, 404, ResourceArn="arn:aws:apigateway:us-east-1::/apis/nope123456")
    assert e["Message"] == "Invalid API identifier specified 000000000000:nope123456"
    e = error_of(gw2.tag_resource, 404, ResourceArn=f"{arn}/stages/nope", Tags={"x": "1"})
    assert e["Code"] == "NotFoundException"
    e = error_of(gw2.tag_resource, 400, ResourceArn=arn, Tags={"aws:x": "1"})
    assert e["Code"] == "BadRequestException"
    e = error_of(gw2.tag_resource, 400, ResourceArn=arn, Tags={f"k{i}": "v" for i in range(60)})
    assert e["Code"] == "BadRequestException"
