"""ExportApi / ImportApi / ReimportApi: OpenAPI 3.0 with API Gateway's extensions, both ways, JSON and YAML."""

from __future__ import annotations

import json

import yaml

from tests.apigatewayv2.helpers import (
    AUTHORIZER_URI,
    LAMBDA,
    error_of,
    http_api,
    jwt_authorizer,
    lambda_integration,
    websocket_api,
)


def _build(gw2) -> str:
    api_id = http_api(gw2, name="shop", Description="the shop", Version="1.2")
    gw2.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["https://a.example"], "MaxAge": 60})
    jwt = jwt_authorizer(gw2, api_id, "jwtAuth")
    custom = gw2.create_authorizer(
        ApiId=api_id,
        Name="lambdaAuth",
        AuthorizerType="REQUEST",
        AuthorizerUri=AUTHORIZER_URI,
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        IdentitySource=["$request.header.X-Token"],
        AuthorizerResultTtlInSeconds=60,
    )["AuthorizerId"]
    lam = f"integrations/{lambda_integration(gw2, api_id)}"
    http = gw2.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri="https://backend.example/{proxy}",
        IntegrationMethod="ANY",
        TimeoutInMillis=5000,
    )["IntegrationId"]
    gw2.create_route(
        ApiId=api_id,
        RouteKey="GET /items/{id}",
        Target=lam,
        AuthorizationType="JWT",
        AuthorizerId=jwt,
        AuthorizationScopes=["read"],
    )
    gw2.create_route(ApiId=api_id, RouteKey="POST /items", Target=lam, AuthorizationType="CUSTOM", AuthorizerId=custom)
    gw2.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}", Target=f"integrations/{http}")
    gw2.create_route(ApiId=api_id, RouteKey="$default", Target=lam, AuthorizationType="AWS_IAM")
    return api_id


def _summary(gw2, api_id: str) -> dict:
    """What an API is, without its ids: routes with their integration and authorizer, authorizers, CORS."""
    integrations = {i["IntegrationId"]: i for i in gw2.get_integrations(ApiId=api_id)["Items"]}
    authorizers = {a["AuthorizerId"]: a for a in gw2.get_authorizers(ApiId=api_id)["Items"]}
    routes = {}
    for r in gw2.get_routes(ApiId=api_id)["Items"]:
        integration = integrations[r["Target"].removeprefix("integrations/")]
        routes[r["RouteKey"]] = {
            "auth": r["AuthorizationType"],
            "authorizer": authorizers[r["AuthorizerId"]]["Name"] if r.get("AuthorizerId") else None,
            "scopes": r.get("AuthorizationScopes"),
            "integration": {k: v for k, v in integration.items() if k != "IntegrationId"},
        }
    auth = {a["Name"]: {k: v for k, v in a.items() if k != "AuthorizerId"} for a in authorizers.values()}
    api = gw2.get_api(ApiId=api_id)
    return {"routes": routes, "authorizers": auth, "cors": api.get("CorsConfiguration"), "name": api["Name"]}


def test_export_document(gw2):
    api_id = _build(gw2)
    out = gw2.export_api(ApiId=api_id, Specification="OAS30", OutputType="JSON")
    doc = json.loads(out["body"].read())
    assert doc["openapi"] == "3.0.1"
    assert doc["info"] == {"title": "shop", "description": "the shop", "version": "1.2"}
    get_item = doc["paths"]["/items/{id}"]["get"]
    assert get_item["security"] == [{"jwtAuth": ["read"]}]
    assert get_item["parameters"][0]["name"] == "id" and get_item["parameters"][0]["in"] == "path"
    assert get_item["x-amazon-apigateway-integration"] == {
        "type": "aws_proxy",
        "uri": LAMBDA,
        "httpMethod": "POST",
        "payloadFormatVersion": "2.0",
        "connectionType": "INTERNET",
        "timeoutInMillis": 30000,
    }
    assert "x-amazon-apigateway-any-method" in doc["paths"]["/{proxy+}"]
    assert "x-amazon-apigateway-any-method" in doc["paths"]["$default"]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["jwtAuth"]["x-amazon-apigateway-authorizer"]["type"] == "jwt"
    assert schemes["lambdaAuth"]["x-amazon-apigateway-authorizer"]["authorizerUri"] == AUTHORIZER_URI
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert doc["x-amazon-apigateway-cors"] == {"allowOrigins": ["https://a.example"], "maxAge": 60}
    bare = json.loads(
        gw2.export_api(ApiId=api_id, Specification="OAS30", OutputType="JSON", IncludeExtensions=False)["body"].read()
    )
    assert "x-amazon-apigateway-cors" not in bare
    assert "x-amazon-apigateway-integration" not in bare["paths"]["/items"]["post"]


def test_export_import_round_trip_json_and_yaml(gw2):
    api_id = _build(gw2)
    original = _summary(gw2, api_id)
    for output in ("JSON", "YAML"):
        body = gw2.export_api(ApiId=api_id, Specification="OAS30", OutputType=output)["body"].read().decode()
        if output == "YAML":
            assert yaml.safe_load(body)["openapi"] == "3.0.1"
        imported = gw2.import_api(Body=body)
        assert imported["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert imported["ApiId"] != api_id and imported["ProtocolType"] == "HTTP"
        assert (imported["Name"], imported["Description"], imported["Version"]) == ("shop", "the shop", "1.2")
        assert "Warnings" not in imported
        assert _summary(gw2, imported["ApiId"]) == original


def test_import_warnings_and_errors(gw2):
    document = {
        "openapi": "3.0.1",
        "info": {"title": "warned", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "security": [{"missing": []}],
                    "x-amazon-apigateway-integration": {
                        "type": "http_proxy",
                        "uri": "https://e.example",
                        "httpMethod": "GET",
                    },
                }
            }
        },
    }
    out = gw2.import_api(Body=json.dumps(document))
    assert out["Warnings"] and "missing" in out["Warnings"][0]
    [route] = gw2.get_routes(ApiId=out["ApiId"])["Items"]
    assert route["RouteKey"] == "GET /a" and route["AuthorizationType"] == "NONE"
    e = error_of(gw2.import_api, 400, Body=json.dumps(document), FailOnWarnings=True)
    assert e["Code"] == "BadRequestException"
    assert error_of(gw2.import_api, 400, Body="not a document")["Code"] == "BadRequestException"
    assert error_of(gw2.import_api, 400, Body=json.dumps({"openapi": "3.0.1"}))["Code"] == "BadRequestException"
    assert error_of(gw2.import_api, 400, Body=json.dumps({"swagger": "1.2"}))["Code"] == "BadRequestException"
    bad_route = {**document, "paths": {"/a": {"get": {"x-amazon-apigateway-integration": {"type": "mock"}}}}}
    assert error_of(gw2.import_api, 400, Body=json.dumps(bad_route))["Code"] == "BadRequestException"
    assert [a["Name"] for a in gw2.get_apis()["Items"]] == ["warned"]  # failed imports leave nothing


def test_import_basepath_prepend(gw2):
    document = {
        "openapi": "3.0.1",
        "info": {"title": "based"},
        "servers": [{"url": "https://example.com/v1"}],
        "paths": {"/a": {"get": {}}},
    }
    api_id = gw2.import_api(Body=json.dumps(document), Basepath="prepend")["ApiId"]
    assert [r["RouteKey"] for r in gw2.get_routes(ApiId=api_id)["Items"]] == ["GET /v1/a"]


def test_reimport_replaces_routes_and_redeploys(gw2):
    api_id = http_api(gw2, Target=LAMBDA)
    document = {
        "openapi": "3.0.1",
        "info": {"title": "replaced", "version": "2"},
        "paths": {
            "/new": {
                "post": {
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "uri": LAMBDA,
                        "payloadFormatVersion": "1.0",
                    }
                }
            }
        },
    }
    out = gw2.reimport_api(ApiId=api_id, Body=json.dumps(document))
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert out["ApiId"] == api_id and out["Name"] == "replaced"
    assert [r["RouteKey"] for r in gw2.get_routes(ApiId=api_id)["Items"]] == ["POST /new"]
    [integration] = gw2.get_integrations(ApiId=api_id)["Items"]
    assert integration["PayloadFormatVersion"] == "1.0"
    staged = gw2.export_api(ApiId=api_id, Specification="OAS30", OutputType="JSON", StageName="$default")["body"]
    assert list(json.loads(staged.read())["paths"]) == ["/new"]  # the $default stage auto-deployed it
    e = error_of(gw2.reimport_api, 404, ApiId="nope123456", Body=json.dumps(document))
    assert e["Code"] == "NotFoundException"


def test_export_errors(gw2):
    ws = websocket_api(gw2, selection="$request.body.a")
    e = error_of(gw2.export_api, 400, ApiId=ws, Specification="OAS30", OutputType="JSON")
    assert e["Code"] == "BadRequestException"
    api_id = http_api(gw2)
    e = error_of(gw2.export_api, 404, ApiId=api_id, Specification="OAS30", OutputType="JSON", StageName="nope")
    assert e["Code"] == "NotFoundException"
    e = error_of(gw2.export_api, 400, ApiId=api_id, Specification="OAS30", OutputType="JSON", ExportVersion="2.0")
    assert e["Code"] == "BadRequestException"
    e = error_of(gw2.export_api, 404, ApiId="nope123456", Specification="OAS30", OutputType="JSON")
    assert e["Message"] == "Invalid API identifier specified 000000000000:nope123456"


def test_yaml_numbers_where_strings_are_meant(gw2):
    body = """
openapi: 3.0.1
info:
  title: yaml
  version: 1.0
paths:
  /a:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        uri: arn:aws:lambda:us-east-1:000000000000:function:f
        payloadFormatVersion: 2.0
"""
    api = gw2.import_api(Body=body)
    assert api["Version"] == "1.0"
    [integration] = gw2.get_integrations(ApiId=api["ApiId"])["Items"]
    assert integration["PayloadFormatVersion"] == "2.0"


def test_documents_with_wrong_types_get_400s(gw2):
    """Every member of every extension, given a value of each wrong kind: a BadRequestException (or a success),
    never a 500."""
    junk = [None, 1, 1.5, True, [], [1], {}, {"a": 1}, "x"]
    integration = {"type": "aws_proxy", "uri": LAMBDA, "payloadFormatVersion": "2.0", "httpMethod": "POST"}
    authorizer = {"type": "jwt", "identitySource": "$request.header.A",
                  "jwtConfiguration": {"issuer": "https://i.example", "audience": ["a"]}}  # fmt: skip
    cors = {"allowOrigins": ["https://a.example"], "maxAge": 5}

    def document(integ: object, auth: object, cors_ext: object, title: object = "t") -> str:
        return json.dumps({
            "openapi": "3.0.1", "info": {"title": title},
            "paths": {"/a": {"get": {"security": [{"s": ["x"]}], "x-amazon-apigateway-integration": integ}}},
            "components": {"securitySchemes": {"s": {"type": "oauth2", "x-amazon-apigateway-authorizer": auth}}},
            "x-amazon-apigateway-cors": cors_ext,
        })  # fmt: skip

    statuses = set()
    bodies = [document(integration, authorizer, cors, title) for title in junk]
    for key in integration:
        bodies += [document({**integration, key: v}, authorizer, cors) for v in junk]
    for key in authorizer:
        bodies += [document(integration, {**authorizer, key: v}, cors) for v in junk]
    for key in authorizer["jwtConfiguration"]:
        jwt = authorizer["jwtConfiguration"]
        bodies += [document(integration, {**authorizer, "jwtConfiguration": {**jwt, key: v}}, cors) for v in junk]
    for key in cors:
        bodies += [document(integration, authorizer, {**cors, key: v}) for v in junk]
    bodies += [document(v, authorizer, cors) for v in junk] + [document(integration, v, cors) for v in junk]
    for body in bodies:
        try:
            gw2.import_api(Body=body)
            statuses.add(201)
        except gw2.exceptions.BadRequestException:
            statuses.add(400)
    assert statuses == {201, 400}


def test_documents_with_odd_structure_get_400s_or_imports(gw2):
    base = {"openapi": "3.0.1", "info": {"title": "t"}}
    odd = [
        {**base, "paths": []},
        {**base, "paths": {"/a": "x"}},
        {**base, "paths": {"/a": {"get": "x"}}},
        {**base, "paths": {"/a": {"get": {"security": {"a": 1}}}}},
        {**base, "paths": {"/a": {"get": {"security": [1, 2]}}}},
        {**base, "paths": {"/a": {"get": {"security": [{"s": "scopes"}]}}}},
        {**base, "paths": {"/a": {"$ref": "#/nowhere/at/all"}}},
        {**base, "paths": {"/a": {"get": {"x-amazon-apigateway-integration": {"$ref": "#/components/x/y"}}}}},
        {**base, "paths": {"no-slash": {"get": {}}}},
        {**base, "servers": {"url": 1}, "paths": {"/a": {"get": {}}}},
        {**base, "servers": [{"url": 5}], "paths": {"/a": {"get": {}}}},
        {**base, "basePath": 7, "paths": {"/a": {"get": {}}}},
        {**base, "components": [], "paths": {}},
        {**base, "components": {"securitySchemes": {"s": "x"}}, "paths": {}},
        {**base, "components": {"securitySchemes": {"s": {"x-amazon-apigateway-authorizer": []}}}, "paths": {}},
        {**base, "x-amazon-apigateway-cors": []},
        {**base, "info": []},
        {**base, "info": {"title": "t", "version": {"a": 1}}},
        {"swagger": "2.0", "info": {"title": "s"}, "securityDefinitions": {"s": {"type": "apiKey"}}, "paths": {}},
    ]
    outcomes = []
    for document in odd:
        for basepath in (None, "prepend", "split"):
            kw = {"Basepath": basepath} if basepath else {}
            try:
                gw2.import_api(Body=json.dumps(document), **kw)
                outcomes.append(201)
            except gw2.exceptions.BadRequestException:
                outcomes.append(400)
    assert set(outcomes) == {201, 400}
