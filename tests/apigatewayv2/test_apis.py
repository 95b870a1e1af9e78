"""HTTP and WebSocket APIs: defaults as AWS answers them, quick create, listing with NextToken, updates, CORS and
deletion of everything under an API, with AWS's errors."""

from __future__ import annotations

from datetime import datetime

from tests.apigatewayv2.helpers import LAMBDA, error_of, http_api, jwt_authorizer


def test_create_http_api_answers_aws_defaults(gw2):
    api = gw2.create_api(Name="orders", ProtocolType="HTTP")
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    api_id = api["ApiId"]
    assert len(api_id) == 10 and api_id.isalnum() and api_id.islower()
    assert api["ApiEndpoint"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com"
    assert api["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert api["RouteSelectionExpression"] == "$request.method $request.path"
    assert api["DisableExecuteApiEndpoint"] is False
    assert api["ProtocolType"] == "HTTP" and api["Name"] == "orders"
    assert isinstance(api["CreatedDate"], datetime)
    assert api["Tags"] == {}
    assert "CorsConfiguration" not in api and "Description" not in api
    got = gw2.get_api(ApiId=api_id)
    got.pop("ResponseMetadata")
    api.pop("ResponseMetadata")
    assert got == api
    # nothing else is made without quick create
    assert gw2.get_routes(ApiId=api_id)["Items"] == []
    assert gw2.get_stages(ApiId=api_id)["Items"] == []


def test_create_websocket_api(gw2):
    api = gw2.create_api(Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    assert api["ApiEndpoint"] == f"wss://{api['ApiId']}.execute-api.us-east-1.amazonaws.com"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    e = error_of(gw2.create_api, 400, Name="chat", ProtocolType="WEBSOCKET")
    assert e["Code"] == "BadRequestException"
    assert "RouteSelectionExpression" in e["Message"]
    ws = {"Name": "chat", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}
    for http_only in ({"CorsConfiguration": {"AllowOrigins": ["*"]}}, {"Target": LAMBDA}):
        assert error_of(gw2.create_api, 400, **ws, **http_only)["Code"] == "BadRequestException", http_only


def test_route_selection_expression_of_http_apis(gw2):
    api = gw2.create_api(Name="a", ProtocolType="HTTP", RouteSelectionExpression="${request.method} ${request.path}")
    assert api["RouteSelectionExpression"] == "$request.method $request.path"
    e = error_of(gw2.create_api, 400, Name="a", ProtocolType="HTTP", RouteSelectionExpression="$request.body.x")
    assert e["Code"] == "BadRequestException"
    e = error_of(gw2.create_api, 400, Name="a", ProtocolType="HTTP", ApiKeySelectionExpression="$request.body.key")
    assert e["Code"] == "BadRequestException"


def test_quick_create_with_a_lambda_target(gw2):
    api = gw2.create_api(Name="quick", ProtocolType="HTTP", Target=LAMBDA)
    api_id = api["ApiId"]
    [integration] = gw2.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"] == LAMBDA
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationMethod"] == "POST"
    assert integration["ConnectionType"] == "INTERNET"
    assert integration["TimeoutInMillis"] == 30000
    assert integration["ApiGatewayManaged"] is True
    [route] = gw2.get_routes(ApiId=api_id)["Items"]
    assert route["RouteKey"] == "$default"
    assert route["Target"] == f"integrations/{integration['IntegrationId']}"
    assert route["AuthorizationType"] == "NONE" and route["ApiGatewayManaged"] is True
    [stage] = gw2.get_stages(ApiId=api_id)["Items"]
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["DeploymentId"]
    assert (
        stage["LastDeploymentStatusMessage"]
        == f"Successfully deployed stage with deployment ID '{stage['DeploymentId']}'"
    )
    [deployment] = gw2.get_deployments(ApiId=api_id)["Items"]
    assert deployment["DeploymentId"] == stage["DeploymentId"]
    assert deployment["AutoDeployed"] is True and deployment["DeploymentStatus"] == "DEPLOYED"


def test_quick_create_with_a_url_target_and_route_key(gw2):
    api_id = http_api(gw2, Target="https://example.com/backend", RouteKey="GET /pets")
    [integration] = gw2.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "HTTP_PROXY"
    assert integration["IntegrationMethod"] == "ANY"
    assert integration["PayloadFormatVersion"] == "1.0"
    [route] = gw2.get_routes(ApiId=api_id)["Items"]
    assert route["RouteKey"] == "GET /pets"


def test_quick_create_errors(gw2):
    e = error_of(gw2.create_api, 400, Name="q", ProtocolType="HTTP", RouteKey="GET /x")
    assert e["Code"] == "BadRequestException"
    e = error_of(gw2.create_api, 400, Name="q", ProtocolType="HTTP", Target="ftp://nope")
    assert e["Code"] == "BadRequestException"
    e = error_of(gw2.create_api, 400, Name="q", ProtocolType="HTTP", Target=LAMBDA, RouteKey="FETCH /x")
    assert e["Code"] == "BadRequestException"
    assert gw2.get_apis()["Items"] == []  # nothing half-made


def test_get_apis_pages_with_next_token(gw2):
    made = sorted(http_api(gw2, name=f"api{i}") for i in range(5))
    assert sorted(a["ApiId"] for a in gw2.get_apis()["Items"]) == made
    seen, token = [], None
    for _ in range(10):
        page = gw2.get_apis(MaxResults="2", **({"NextToken": token} if token else {}))
        assert len(page["Items"]) <= 2
        seen += [a["ApiId"] for a in page["Items"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == made
    assert error_of(gw2.get_apis, 400, MaxResults="x")["Code"] == "BadRequestException"
    assert error_of(gw2.get_apis, 400, MaxResults="0")["Code"] == "BadRequestException"
    assert error_of(gw2.get_apis, 400, NextToken="garbage!")["Code"] == "BadRequestException"
    paginated = [
        a["ApiId"] for p in gw2.get_paginator("get_apis").paginate(PaginationConfig={"PageSize": 2}) for a in p["Items"]
    ]
    assert paginated == made


def test_api_not_found_texts(gw2):
    for call in (gw2.get_api, gw2.delete_api, gw2.update_api, gw2.get_routes, gw2.delete_cors_configuration):
        e = error_of(call, 404, ApiId="nope123456")
        assert e == {"Code": "NotFoundException", "Message": "Invalid API identifier specified 000000000000:nope123456"}


def test_update_api_and_cors(gw2):
    api_id = http_api(gw2)
    cors = {"AllowOrigins": ["https://a.example"], "AllowMethods": ["GET", "POST"], "MaxAge": 300}
    out = gw2.update_api(ApiId=api_id, Name="renamed", Description="d", CorsConfiguration=cors, Version="v2")
    assert out["Name"] == "renamed" and out["Description"] == "d" and out["Version"] == "v2"
    assert out["CorsConfiguration"] == cors
    assert gw2.get_api(ApiId=api_id)["CorsConfiguration"] == cors
    gw2.delete_cors_configuration(ApiId=api_id)
    assert "CorsConfiguration" not in gw2.get_api(ApiId=api_id)
    bad = {"AllowOrigins": ["*"], "AllowCredentials": True}
    assert error_of(gw2.update_api, 400, ApiId=api_id, CorsConfiguration=bad)["Code"] == "BadRequestException"
    bad = {"AllowMethods": ["FETCH"]}
    assert error_of(gw2.update_api, 400, ApiId=api_id, CorsConfiguration=bad)["Code"] == "BadRequestException"
    e = error_of(gw2.update_api, 400, ApiId=api_id, CorsConfiguration={"MaxAge": 90000})
    assert e["Code"] == "BadRequestException"
    assert gw2.get_api(ApiId=api_id)["Name"] == "renamed"


def test_update_api_quick_create_members(gw2):
    api_id = http_api(gw2, Target=LAMBDA)
    gw2.update_api(ApiId=api_id, Target="https://example.com/", RouteKey="ANY /x")
    [integration] = gw2.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "HTTP_PROXY"
    assert integration["IntegrationUri"] == "https://example.com/"
    assert gw2.get_routes(ApiId=api_id)["Items"][0]["RouteKey"] == "ANY /x"
    plain = http_api(gw2)
    assert error_of(gw2.update_api, 400, ApiId=plain, Target=LAMBDA)["Code"] == "BadRequestException"


def test_delete_api_removes_everything(gw2, broker):
    api_id = http_api(gw2, Target=LAMBDA)
    jwt_authorizer(gw2, api_id)
    other = http_api(gw2, name="other", Target=LAMBDA)
    gw2.delete_api(ApiId=api_id)
    assert error_of(gw2.get_api, 404, ApiId=api_id)["Code"] == "NotFoundException"
    assert [a["ApiId"] for a in gw2.get_apis()["Items"]] == [other]
    # a new API with children never sees the old ones; the other API keeps its own
    assert len(gw2.get_routes(ApiId=other)["Items"]) == 1
    e = error_of(gw2.get_routes, 404, ApiId=api_id)
    assert e["Code"] == "NotFoundException"


def test_apis_are_per_region(broker, gw2):
    api_id = http_api(gw2)
    west = broker.client("apigatewayv2", region="us-west-2")
    assert west.get_apis()["Items"] == []
    assert error_of(west.get_api, 404, ApiId=api_id)["Code"] == "NotFoundException"
    made = west.create_api(Name="w", ProtocolType="HTTP")
    assert made["ApiEndpoint"].endswith(".execute-api.us-west-2.amazonaws.com")


def test_v1_and_v2_share_the_signing_name(broker, gw2):
    """Both families sign as "apigateway": routing by path keeps them apart."""
    v1 = broker.client("apigateway")
    rest = v1.create_rest_api(name="rest")
    api_id = http_api(gw2, name="http")
    assert [a["id"] for a in v1.get_rest_apis()["items"]] == [rest["id"]]
    assert [a["ApiId"] for a in gw2.get_apis()["Items"]] == [api_id]
    assert error_of(v1.get_rest_api, 404, restApiId=api_id)["Code"] == "NotFoundException"
    assert error_of(gw2.get_api, 404, ApiId=rest["id"])["Code"] == "NotFoundException"


def test_string_lengths_the_model_names(gw2):
    """The model's shape names carry the bounds (StringWithLengthBetween1And128 ...): they are enforced."""
    e = error_of(gw2.create_api, 400, Name="n" * 129, ProtocolType="HTTP")
    assert e == {
        "Code": "BadRequestException",
        "Message": "1 validation error detected: Value at 'Name' failed to satisfy constraint: "
        "Member must have length less than or equal to 128",
    }
    e = error_of(gw2.create_api, 400, Name="n", ProtocolType="HTTP", Description="d" * 1025)
    assert e["Code"] == "BadRequestException"
    e = error_of(gw2.create_api, 400, Name="n", ProtocolType="HTTP", Tags={"k": "v" * 1601})
    assert e["Code"] == "BadRequestException"
    assert gw2.create_api(Name="n" * 128, ProtocolType="HTTP", Description="d" * 1024)["Name"] == "n" * 128
    e = error_of(gw2.create_domain_name, 400, DomainName="A" * 300)
    assert e["Code"] == "BadRequestException"
    e = error_of(gw2.create_domain_name, 400, DomainName="bad_label.example.com")
    assert e["Code"] == "BadRequestException"
    assert gw2.create_domain_name(DomainName="*.wild.example.com")["DomainName"] == "*.wild.example.com"
