"""OpenAPI import and export of REST APIs: ImportRestApi builds every object a pet-store definition names (Lambda
proxy, MOCK and HTTP integrations, models, a request validator, a token authorizer, an API key requirement, a CORS
OPTIONS mock, gateway responses, the API's settings), the imported MOCK method answers over HTTP once deployed,
PutRestApi merges or overwrites, GetExport writes a stage's deployment as OpenAPI 3.0 or Swagger 2.0 (with and
without the x-amazon-apigateway extensions), an exported definition imports back into the same API, and bad
definitions get AWS's errors — never a 5xx."""

from __future__ import annotations

import copy
import json
import re

import httpx
import pytest
import yaml
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apigateway.helpers import error_of
from tests.lambda_.helpers import create

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:pets"
LAMBDA_URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION}/invocations"
AUTH_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"
)
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}],
}
CORS_HEADERS = {
    "method.response.header.Access-Control-Allow-Origin": "'*'",
    "method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
    "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Api-Key'",
}


def json_body(schema_ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def petstore() -> dict:
    """A pet store in OpenAPI 3.0 with API Gateway's extensions."""
    lambda_proxy = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": LAMBDA_URI,
        "passthroughBehavior": "when_no_match",
    }
    return {
        "openapi": "3.0.1",
        "info": {"title": "PetStore", "description": "Your first API with Amazon API Gateway.", "version": "1.0"},
        "servers": [{"url": "https://example.com/{basePath}", "variables": {"basePath": {"default": "/v1"}}}],
        "paths": {
            "/": {
                "get": {
                    "operationId": "Home",
                    "responses": {
                        "200": {
                            "description": "200 response",
                            "headers": {"Content-Type": {"schema": {"type": "string"}}},
                        }
                    },
                    "x-amazon-apigateway-integration": {
                        "type": "mock",
                        "requestTemplates": {"application/json": '{"statusCode": 200}'},
                        "passthroughBehavior": "when_no_match",
                        "responses": {
                            "default": {
                                "statusCode": "200",
                                "responseParameters": {"method.response.header.Content-Type": "'text/html'"},
                                "responseTemplates": {"text/html": "<html><body>Welcome</body></html>"},
                            }
                        },
                    },
                }
            },
            "/pets": {
                "get": {
                    "operationId": "ListPets",
                    "parameters": [
                        {"name": "type", "in": "query", "schema": {"type": "string"}},
                        {"name": "page", "in": "query", "required": True, "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "200 response",
                            "headers": {"Access-Control-Allow-Origin": {"schema": {"type": "string"}}},
                            **json_body("Pets"),
                        }
                    },
                    "security": [{"api_key": []}],
                    "x-amazon-apigateway-request-validator": "params-only",
                    "x-amazon-apigateway-integration": {
                        "type": "http",
                        "httpMethod": "GET",
                        "uri": "http://petstore.example.com/petstore/pets",
                        "requestParameters": {
                            "integration.request.querystring.page": "method.request.querystring.page",
                            "integration.request.querystring.type": "method.request.querystring.type",
                        },
                        "responses": {
                            "default": {
                                "statusCode": "200",
                                "responseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"},
                            }
                        },
                        "passthroughBehavior": "when_no_match",
                        "timeoutInMillis": 10000,
                        "cacheKeyParameters": ["method.request.querystring.page"],
                    },
                },
                "post": {
                    "operationId": "CreatePet",
                    "requestBody": {**json_body("NewPet"), "required": True},
                    "responses": {
                        "200": {"description": "200 response", **json_body("NewPetResponse")},
                        "400": {"description": "400 response", **json_body("Error")},
                    },
                    "security": [{"MyAuthorizer": []}],
                    "x-amazon-apigateway-integration": lambda_proxy,
                },
                "options": {
                    "responses": {
                        "200": {
                            "description": "200 response",
                            "headers": {h.rsplit(".", 1)[1]: {"schema": {"type": "string"}} for h in CORS_HEADERS},
                        }
                    },
                    "x-amazon-apigateway-integration": {
                        "type": "mock",
                        "requestTemplates": {"application/json": '{"statusCode": 200}'},
                        "responses": {"default": {"statusCode": "200", "responseParameters": CORS_HEADERS}},
                    },
                },
            },
            "/pets/{petId}": {
                "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {
                    "operationId": "GetPet",
                    "parameters": [{"name": "X-Trace", "in": "header", "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "200 response", **json_body("Pet")},
                        "404": {"description": "404 response", **json_body("Error")},
                    },
                    "x-amazon-apigateway-integration": {
                        "type": "aws",
                        "httpMethod": "POST",
                        "uri": LAMBDA_URI,
                        "requestTemplates": {"application/json": '{"id": "$input.params(\'petId\')"}'},
                        "responses": {
                            "default": {"statusCode": "200"},
                            ".*not found.*": {
                                "statusCode": "404",
                                "responseTemplates": {"application/json": '{"message": "no such pet"}'},
                            },
                        },
                        "contentHandling": "CONVERT_TO_TEXT",
                    },
                },
            },
            "/{proxy+}": {
                "x-amazon-apigateway-any-method": {
                    "parameters": [{"name": "proxy", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "x-amazon-apigateway-integration": lambda_proxy,
                }
            },
        },
        "components": {
            "schemas": {
                "Pet": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "type": {"type": "string"}, "price": {"type": "number"}},
                },
                "Pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                "NewPet": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"type": "string", "enum": ["dog", "cat", "fish"]},
                        "price": {"type": "number"},
                    },
                },
                "NewPetResponse": {
                    "type": "object",
                    "properties": {"pet": {"$ref": "#/components/schemas/Pet"}, "message": {"type": "string"}},
                },
            },
            "securitySchemes": {
                "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
                "MyAuthorizer": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {
                        "type": "token",
                        "authorizerUri": AUTH_URI,
                        "authorizerResultTtlInSeconds": 60,
                        "identityValidationExpression": "^Bearer .+$",
                    },
                },
            },
        },
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True},
            "params-only": {"validateRequestBody": False, "validateRequestParameters": True},
        },
        "x-amazon-apigateway-request-validator": "all",
        "x-amazon-apigateway-gateway-responses": {
            "DEFAULT_4XX": {
                "responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
                "responseTemplates": {"application/json": '{"message":$context.error.messageString}'},
            },
            "UNAUTHORIZED": {"statusCode": "401", "responseTemplates": {"application/json": '{"message":"nope"}'}},
        },
        "x-amazon-apigateway-binary-media-types": ["image/png", "image/jpeg"],
        "x-amazon-apigateway-api-key-source": "HEADER",
        "x-amazon-apigateway-minimum-compression-size": 1024,
        "x-amazon-apigateway-policy": POLICY,
    }


def import_api(gw, definition, **kw) -> dict:
    body = definition if isinstance(definition, str | bytes) else json.dumps(definition)
    return gw.import_rest_api(body=body, **kw)


def resources_of(gw, api_id: str) -> dict[str, dict]:
    items = gw.get_resources(restApiId=api_id, embed=["methods"], limit=500)["items"]
    return {r["path"]: r for r in items}


def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "ResponseMetadata"}


@pytest.fixture
def imported(gw):
    api = import_api(gw, petstore(), parameters={"endpointConfigurationTypes": "REGIONAL"})
    yield api
    gw.delete_rest_api(restApiId=api["id"])


# -- import


def test_import_builds_the_api_and_its_settings(gw, imported):
    api = gw.get_rest_api(restApiId=imported["id"])
    assert api["name"] == imported["name"] == "PetStore"
    assert api["description"] == "Your first API with Amazon API Gateway."
    assert api["version"] == "1.0"
    assert api["binaryMediaTypes"] == ["image/png", "image/jpeg"]
    assert api["apiKeySource"] == "HEADER"
    assert api["minimumCompressionSize"] == 1024
    assert json.loads(api["policy"]) == POLICY
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert "warnings" not in imported
    assert imported["rootResourceId"] == resources_of(gw, imported["id"])["/"]["id"]


def test_import_builds_resources_methods_and_integrations(gw, imported):
    api_id = imported["id"]
    resources = resources_of(gw, api_id)
    assert set(resources) == {"/", "/pets", "/pets/{petId}", "/{proxy+}"}
    assert resources["/pets/{petId}"]["parentId"] == resources["/pets"]["id"]
    assert set(resources["/pets"]["resourceMethods"]) == {"GET", "POST", "OPTIONS"}
    assert set(resources["/{proxy+}"]["resourceMethods"]) == {"ANY"}
    authorizer = gw.get_authorizers(restApiId=api_id)["items"][0]
    validators = {v["name"]: v for v in gw.get_request_validators(restApiId=api_id)["items"]}
    pets = resources["/pets"]["id"]

    listing = gw.get_method(restApiId=api_id, resourceId=pets, httpMethod="GET")
    assert listing["operationName"] == "ListPets"
    assert listing["authorizationType"] == "NONE" and listing["apiKeyRequired"] is True
    assert listing["requestParameters"] == {
        "method.request.querystring.type": False,
        "method.request.querystring.page": True,
    }
    assert listing["requestValidatorId"] == validators["params-only"]["id"]
    assert listing["methodResponses"]["200"] == {
        "statusCode": "200",
        "responseParameters": {"method.response.header.Access-Control-Allow-Origin": False},
        "responseModels": {"application/json": "Pets"},
    }
    integration = gw.get_integration(restApiId=api_id, resourceId=pets, httpMethod="GET")
    assert integration["type"] == "HTTP" and integration["httpMethod"] == "GET"
    assert integration["uri"] == "http://petstore.example.com/petstore/pets"
    assert integration["timeoutInMillis"] == 10000 and integration["passthroughBehavior"] == "WHEN_NO_MATCH"
    assert integration["cacheKeyParameters"] == ["method.request.querystring.page"]
    assert integration["cacheNamespace"] == pets
    assert integration["requestParameters"]["integration.request.querystring.page"] == "method.request.querystring.page"
    assert integration["integrationResponses"]["200"]["responseParameters"] == {
        "method.response.header.Access-Control-Allow-Origin": "'*'"
    }
    assert "selectionPattern" not in integration["integrationResponses"]["200"]

    create = gw.get_method(restApiId=api_id, resourceId=pets, httpMethod="POST")
    assert create["authorizationType"] == "CUSTOM" and create["authorizerId"] == authorizer["id"]
    assert create["apiKeyRequired"] is False
    assert create["requestModels"] == {"application/json": "NewPet"}
    assert create["requestValidatorId"] == validators["all"]["id"]  # the definition's default validator
    assert create["methodResponses"]["400"]["responseModels"] == {"application/json": "Error"}
    proxy = gw.get_integration(restApiId=api_id, resourceId=pets, httpMethod="POST")
    assert (proxy["type"], proxy["httpMethod"], proxy["uri"]) == ("AWS_PROXY", "POST", LAMBDA_URI)
    assert proxy["timeoutInMillis"] == 29000

    pet = resources["/pets/{petId}"]["id"]
    get_pet = gw.get_method(restApiId=api_id, resourceId=pet, httpMethod="GET")
    assert get_pet["requestParameters"] == {
        "method.request.path.petId": True,
        "method.request.header.X-Trace": False,
    }
    aws = gw.get_integration(restApiId=api_id, resourceId=pet, httpMethod="GET")
    assert aws["type"] == "AWS" and aws["contentHandling"] == "CONVERT_TO_TEXT"
    not_found = gw.get_integration_response(restApiId=api_id, resourceId=pet, httpMethod="GET", statusCode="404")
    assert not_found["selectionPattern"] == ".*not found.*"
    assert not_found["responseTemplates"] == {"application/json": '{"message": "no such pet"}'}

    cors = gw.get_integration(restApiId=api_id, resourceId=pets, httpMethod="OPTIONS")
    assert cors["type"] == "MOCK"
    assert cors["integrationResponses"]["200"]["responseParameters"] == CORS_HEADERS
    options = gw.get_method(restApiId=api_id, resourceId=pets, httpMethod="OPTIONS")
    assert options["authorizationType"] == "NONE"
    assert set(options["methodResponses"]["200"]["responseParameters"]) == set(CORS_HEADERS)

    any_method = gw.get_method(restApiId=api_id, resourceId=resources["/{proxy+}"]["id"], httpMethod="ANY")
    assert any_method["requestParameters"] == {"method.request.path.proxy": True}
    assert any_method["methodIntegration"]["type"] == "AWS_PROXY"


def test_import_builds_models_authorizers_validators_and_gateway_responses(gw, imported):
    api_id = imported["id"]
    models = {m["name"]: m for m in gw.get_models(restApiId=api_id, limit=500)["items"]}
    assert {"Pet", "Pets", "NewPet", "NewPetResponse", "Empty", "Error"} <= set(models)
    pets = json.loads(models["Pets"]["schema"])
    assert pets["items"] == {"$ref": f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Pet"}
    assert models["Pets"]["contentType"] == "application/json"
    flat = json.loads(gw.get_model(restApiId=api_id, modelName="NewPetResponse", flatten=True)["schema"])
    assert flat["properties"]["pet"]["properties"]["price"] == {"type": "number"}

    (authorizer,) = gw.get_authorizers(restApiId=api_id)["items"]
    assert authorizer["name"] == "MyAuthorizer" and authorizer["type"] == "TOKEN"
    assert authorizer["authorizerUri"] == AUTH_URI
    assert authorizer["identitySource"] == "method.request.header.Authorization"
    assert authorizer["identityValidationExpression"] == "^Bearer .+$"
    assert authorizer["authorizerResultTtlInSeconds"] == 60
    assert authorizer["authType"] == "custom"

    validators = {v["name"]: v for v in gw.get_request_validators(restApiId=api_id)["items"]}
    assert (validators["all"]["validateRequestBody"], validators["all"]["validateRequestParameters"]) == (True, True)
    assert validators["params-only"]["validateRequestBody"] is False

    four = gw.get_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX")
    assert four["defaultResponse"] is False
    assert four["responseParameters"] == {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}
    unauthorized = gw.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")
    assert unauthorized["statusCode"] == "401" and unauthorized["responseTemplates"] == {
        "application/json": '{"message":"nope"}'
    }
    assert gw.get_gateway_response(restApiId=api_id, responseType="THROTTLED")["defaultResponse"] is True


def test_imported_mock_methods_answer_over_http(broker, gw, imported):
    api_id = imported["id"]
    gw.create_deployment(restApiId=api_id, stageName="test")
    host = {"host": f"{api_id}.execute-api.localhost:4566"}
    r = httpx.get(f"{broker.url}/test/", headers=host, timeout=30)
    assert r.status_code == 200, r.text
    assert r.text == "<html><body>Welcome</body></html>"
    assert r.headers["content-type"].startswith("text/html")
    cors = httpx.request("OPTIONS", f"{broker.url}/test/pets", headers=host, timeout=30)
    assert cors.status_code == 200, cors.text
    assert cors.headers["access-control-allow-origin"] == "*"
    assert cors.headers["access-control-allow-methods"] == "GET,POST,OPTIONS"


def test_import_yaml_and_swagger(gw):
    swagger = {
        "swagger": "2.0",
        "info": {"title": "Swagger pets", "version": "2"},
        "basePath": "/api",
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/pets": {
                "post": {
                    "parameters": [
                        {"in": "body", "name": "NewPet", "required": True, "schema": {"$ref": "#/definitions/NewPet"}},
                        {"in": "header", "name": "X-Key", "required": True, "type": "string"},
                    ],
                    "responses": {
                        200: {
                            "description": "ok",
                            "schema": {"$ref": "#/definitions/Pet"},
                            "headers": {"X-Id": {"type": "string"}},
                        }
                    },
                    "security": [{"sigv4": []}],
                    "x-amazon-apigateway-integration": {
                        "type": "mock",
                        "responses": {"default": {"statusCode": "200"}},
                    },
                }
            }
        },
        "x-amazon-apigateway-endpoint-configuration": {"types": ["REGIONAL"], "disableExecuteApiEndpoint": True},
        "securityDefinitions": {
            "sigv4": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "awsSigv4",
            }
        },
        "definitions": {
            "Pet": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "NewPet": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    }
    api = import_api(gw, yaml.safe_dump(swagger), parameters={"basepath": "prepend"})
    try:
        assert api["name"] == "Swagger pets" and api["version"] == "2"
        assert api["endpointConfiguration"]["types"] == ["REGIONAL"] and api["disableExecuteApiEndpoint"] is True
        resources = resources_of(gw, api["id"])
        assert set(resources) == {"/", "/api", "/api/pets"}
        method = resources["/api/pets"]["resourceMethods"]["POST"]
        assert method["authorizationType"] == "AWS_IAM"
        assert method["requestModels"] == {"application/json": "NewPet"}
        assert method["requestParameters"] == {"method.request.header.X-Key": True}
        assert method["methodResponses"]["200"] == {
            "statusCode": "200",
            "responseParameters": {"method.response.header.X-Id": False},
            "responseModels": {"application/json": "Pet"},
        }
    finally:
        gw.delete_rest_api(restApiId=api["id"])


@pytest.mark.parametrize(
    ("mode", "paths"),
    [("ignore", {"/", "/e", "/f"}), ("prepend", {"/", "/a", "/a/b", "/a/b/c", "/a/b/c/e", "/a/b/c/f"}),
     ("split", {"/", "/b", "/b/c", "/b/c/e", "/b/c/f"})],
)  # fmt: skip
def test_base_path_modes(gw, mode, paths):
    mock = {"x-amazon-apigateway-integration": {"type": "mock"}, "responses": {}}
    definition = {
        "openapi": "3.0.1",
        "info": {"title": "bp"},
        "servers": [{"url": "https://example.com/a/b/c"}],
        "paths": {"/e": {"get": mock}, "/f": {"get": mock}},
    }
    api = import_api(gw, definition, parameters={"basepath": mode})
    try:
        assert set(resources_of(gw, api["id"])) == paths
    finally:
        gw.delete_rest_api(restApiId=api["id"])


def test_warnings_and_fail_on_warnings(gw):
    definition = petstore()
    definition["paths"]["/pets"]["get"]["responses"]["200"] = {"description": "x", **json_body("Missing")}
    before = len(gw.get_rest_apis(limit=500)["items"])
    e = error_of(import_api, 400, gw=gw, definition=definition, failOnWarnings=True)
    assert e["Code"] == "BadRequestException"
    assert e["Message"] == (
        "Warnings found during import:\n\tParse issue: attribute "
        "paths.'/pets'(get).responses.200.content.schema.#/components/schemas/Missing is missing"
    )
    assert len(gw.get_rest_apis(limit=500)["items"]) == before  # rolled back: nothing created
    api = import_api(gw, definition)
    try:
        assert api["warnings"] == [
            "Parse issue: attribute paths.'/pets'(get).responses.200.content.schema.#/components/schemas/Missing "
            "is missing"
        ]
        method = gw.get_method(
            restApiId=api["id"], resourceId=resources_of(gw, api["id"])["/pets"]["id"], httpMethod="GET"
        )
        assert "responseModels" not in method["methodResponses"]["200"]
    finally:
        gw.delete_rest_api(restApiId=api["id"])


def _broken(change) -> dict:
    definition = petstore()
    change(definition)
    return definition


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "Invalid OpenAPI input."),
        ("[1, 2]", "Invalid OpenAPI input."),
        ("just text", "Invalid OpenAPI input."),
        (b"\xff\xfe\x00", "Invalid OpenAPI input."),
        (_broken(lambda d: d.pop("paths")), "Invalid OpenAPI input."),
        (_broken(lambda d: d.pop("openapi")), "Invalid OpenAPI input."),
        (_broken(lambda d: d.update(openapi="4.0.0")), "Invalid OpenAPI input."),
        ({"swagger": "1.2", "info": {"title": "x"}, "paths": {}}, "Invalid OpenAPI input."),
        (
            _broken(lambda d: d["paths"]["/pets"]["post"]["x-amazon-apigateway-integration"].update(uri="nope")),
            "Errors found during import:\n\tUnable to put integration on 'POST' for resource at path '/pets': "
            "Invalid ARN specified in the request\n\tUnable to put integration on 'ANY' for resource at path "
            "'/{proxy+}': Invalid ARN specified in the request",  # the two methods share the integration
        ),
        (
            _broken(lambda d: d["paths"].update({"/bad path": {}})),
            "Errors found during import:\n\tUnable to create resource at path '/bad path': Resource's path part only "
            "allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the "
            "closing brace.",
        ),
        (
            _broken(lambda d: d["paths"].update({"/pets/{other}": {}})),
            None,  # a second variable sibling: AWS names the first one's id
        ),
        (
            _broken(lambda d: d["components"]["schemas"].update({"Bad_Name": {"type": "object"}})),
            "Errors found during import:\n\tUnable to create model 'Bad_Name': Model name must be non-empty and "
            "alphanumeric",
        ),
        (
            _broken(
                lambda d: d["components"]["securitySchemes"]["MyAuthorizer"]["x-amazon-apigateway-authorizer"].update(
                    type="magic"
                )
            ),
            "Errors found during import:\n\tUnable to create authorizer 'MyAuthorizer': Invalid authorizer type "
            "specified: magic. Valid values are: TOKEN, REQUEST, COGNITO_USER_POOLS",
        ),
        (_broken(lambda d: d["info"].pop("title")), "Invalid REST API name specified: must be non-empty"),
    ],
)
def test_invalid_definitions(gw, body, message):
    before = len(gw.get_rest_apis(limit=500)["items"])
    e = error_of(import_api, 400, gw=gw, definition=body)
    assert e["Code"] == "BadRequestException"
    if message is None:
        assert e["Message"].startswith("Errors found during import:\n\tUnable to create resource at path "), e
        assert "already has a variable path part -- only one is allowed" in e["Message"]
    else:
        assert e["Message"] == message
    assert len(gw.get_rest_apis(limit=500)["items"]) == before


def test_invalid_parameters(gw):
    e = error_of(import_api, 400, gw=gw, definition=petstore(), parameters={"basepath": "sideways"})
    assert e["Message"] == "Invalid basepath parameter specified: sideways. Valid values are: ignore, prepend, split"
    e = error_of(import_api, 400, gw=gw, definition=petstore(), parameters={"endpointConfigurationTypes": "MOON"})
    assert e["Message"] == "Invalid endpoint type specified: MOON"


# -- PutRestApi


def _mock_path() -> dict:
    return {
        "get": {
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": {"type": "mock", "responses": {"default": {"statusCode": "200"}}},
        }
    }


def test_put_merge_and_overwrite(gw, imported):
    api_id = imported["id"]
    root = imported["rootResourceId"]
    extra = gw.create_resource(restApiId=api_id, parentId=root, pathPart="extra")["id"]
    gw.put_method(restApiId=api_id, resourceId=extra, httpMethod="GET", authorizationType="NONE")
    pets_id = resources_of(gw, api_id)["/pets"]["id"]
    addition = {
        "openapi": "3.0.1",
        "info": {"title": "PetStore v2", "version": "2.0"},
        "paths": {"/pets": {"delete": _mock_path()["get"]}, "/toys/{toyId}": _mock_path()},
        "components": {"schemas": {"Toy": {"type": "object"}}},
    }
    merged = gw.put_rest_api(restApiId=api_id, mode="merge", body=json.dumps(addition))
    assert merged["name"] == "PetStore v2" and merged["version"] == "2.0"
    assert merged["description"] == "Your first API with Amazon API Gateway."  # merge keeps what it does not name
    resources = resources_of(gw, api_id)
    assert {"/", "/pets", "/pets/{petId}", "/{proxy+}", "/extra", "/toys", "/toys/{toyId}"} == set(resources)
    assert resources["/pets"]["id"] == pets_id
    assert set(resources["/pets"]["resourceMethods"]) == {"GET", "POST", "OPTIONS", "DELETE"}
    models = {m["name"] for m in gw.get_models(restApiId=api_id, limit=500)["items"]}
    assert {"Pet", "Toy"} <= models
    assert len(gw.get_authorizers(restApiId=api_id)["items"]) == 1

    # merging the same definition again replaces its methods and keeps object ids
    authorizer_id = gw.get_authorizers(restApiId=api_id)["items"][0]["id"]
    gw.put_rest_api(restApiId=api_id, body=json.dumps(petstore()))  # merge is the default mode
    assert gw.get_authorizers(restApiId=api_id)["items"][0]["id"] == authorizer_id
    assert len(gw.get_request_validators(restApiId=api_id)["items"]) == 2

    overwritten = gw.put_rest_api(restApiId=api_id, mode="overwrite", body=json.dumps(addition))
    assert overwritten["name"] == "PetStore v2" and "description" not in overwritten
    assert overwritten["id"] == api_id and overwritten["rootResourceId"] == root
    resources = resources_of(gw, api_id)
    assert set(resources) == {"/", "/pets", "/toys", "/toys/{toyId}"}
    assert set(resources["/pets"]["resourceMethods"]) == {"DELETE"}
    assert "resourceMethods" not in resources["/"]
    models = {m["name"] for m in gw.get_models(restApiId=api_id, limit=500)["items"]}
    assert "Toy" in models and "Pet" not in models
    assert gw.get_authorizers(restApiId=api_id)["items"] == []
    assert gw.get_request_validators(restApiId=api_id)["items"] == []
    assert gw.get_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX")["defaultResponse"] is True


def test_put_errors(gw, imported):
    e = error_of(gw.put_rest_api, 404, restApiId="nosuchapi1", body=json.dumps(petstore()))
    assert (
        e["Code"] == "NotFoundException" and e["Message"] == "Invalid API identifier specified 000000000000:nosuchapi1"
    )
    e = error_of(gw.put_rest_api, 400, restApiId=imported["id"], mode="sideways", body=json.dumps(petstore()))
    assert e["Code"] == "BadRequestException"
    assert "Member must satisfy enum value set: [merge, overwrite]" in e["Message"]
    e = error_of(gw.put_rest_api, 400, restApiId=imported["id"], body="{")
    assert e["Message"] == "Invalid OpenAPI input."
    # a failed put changes nothing
    broken = _broken(lambda d: d["paths"]["/pets"]["post"]["x-amazon-apigateway-integration"].update(uri="nope"))
    broken["info"]["title"] = "Renamed"
    error_of(gw.put_rest_api, 400, restApiId=imported["id"], mode="overwrite", body=json.dumps(broken))
    assert gw.get_rest_api(restApiId=imported["id"])["name"] == "PetStore"
    assert len(resources_of(gw, imported["id"])) == 4


# -- GetExport


def _export(gw, api_id: str, kind: str, **kw) -> tuple[dict, dict]:
    out = gw.get_export(restApiId=api_id, stageName="prod", exportType=kind, **kw)
    raw = out["body"].read()
    doc = yaml.safe_load(raw) if "yaml" in out["contentType"] else json.loads(raw)
    return doc, out


@pytest.fixture
def deployed(gw, imported):
    gw.create_deployment(restApiId=imported["id"], stageName="prod")
    return imported["id"]


def test_export_oas30_without_extensions(gw, deployed):
    doc, out = _export(gw, deployed, "oas30")
    assert out["contentType"] == "application/json"  # boto3 sends Accept: application/json
    assert out["contentDisposition"] == 'attachment; filename="oas30_1.0.json"'
    assert doc["openapi"] == "3.0.1"
    assert doc["info"] == {
        "title": "PetStore",
        "description": "Your first API with Amazon API Gateway.",
        "version": "1.0",
    }
    assert doc["servers"] == [
        {
            "url": f"https://{deployed}.execute-api.us-east-1.amazonaws.com/{{basePath}}",
            "variables": {"basePath": {"default": "/prod"}},
        }
    ]
    assert set(doc["paths"]) == {"/", "/pets", "/pets/{petId}", "/{proxy+}"}
    assert set(doc["paths"]["/pets"]) == {"get", "post", "options"}
    assert "x-amazon-apigateway-any-method" in doc["paths"]["/{proxy+}"]
    listing = doc["paths"]["/pets"]["get"]
    assert listing["operationId"] == "ListPets"
    assert {(p["name"], p["in"], p.get("required", False)) for p in listing["parameters"]} == {
        ("type", "query", False),
        ("page", "query", True),
    }
    assert listing["responses"]["200"] == {
        "description": "200 response",
        "headers": {"Access-Control-Allow-Origin": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pets"}}},
    }
    assert listing["security"] == [{"api_key": []}]
    create = doc["paths"]["/pets"]["post"]
    assert create["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}},
        "required": True,
    }
    assert create["security"] == [{"MyAuthorizer": []}]
    get_pet = doc["paths"]["/pets/{petId}"]["get"]
    assert {"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}} in get_pet["parameters"]
    assert all(
        not k.startswith("x-amazon")
        for k in json.dumps(doc["paths"]).split('"')
        if k.startswith("x-amazon-apigateway-i")
    )
    assert "x-amazon-apigateway-integration" not in json.dumps(doc)
    assert "x-amazon-apigateway-authorizer" not in json.dumps(doc)
    schemas = doc["components"]["schemas"]
    assert schemas["Pets"] == {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
    assert schemas["Empty"] == {"title": "Empty Schema", "type": "object"}
    schemes = doc["components"]["securitySchemes"]
    assert schemes["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    assert schemes["MyAuthorizer"]["x-amazon-apigateway-authtype"] == "custom"


def test_export_with_extensions_and_formats(gw, deployed):
    doc, out = _export(gw, deployed, "oas30", parameters={"extensions": "integrations"}, accepts="application/json")
    assert out["contentType"] == "application/json"
    integration = doc["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]
    assert integration["type"] == "http" and integration["passthroughBehavior"] == "when_no_match"
    assert integration["uri"] == "http://petstore.example.com/petstore/pets" and integration["timeoutInMillis"] == 10000
    assert doc["paths"]["/pets/{petId}"]["get"]["x-amazon-apigateway-integration"]["responses"] == {
        "default": {"statusCode": "200"},
        ".*not found.*": {"statusCode": "404", "responseTemplates": {"application/json": '{"message": "no such pet"}'}},
    }
    assert "x-amazon-apigateway-authorizer" not in json.dumps(doc)
    assert "x-amazon-apigateway-request-validators" not in doc

    _, out = _export(gw, deployed, "oas30", accepts="*/*")
    assert out["contentType"] == "application/octet-stream"  # JSON, as AWS sends it when no type is named

    doc, out = _export(gw, deployed, "oas30", parameters={"extensions": "authorizers"})
    authorizer = doc["components"]["securitySchemes"]["MyAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer == {
        "type": "token",
        "authorizerUri": AUTH_URI,
        "identityValidationExpression": "^Bearer .+$",
        "authorizerResultTtlInSeconds": 60,
    }
    assert "x-amazon-apigateway-integration" not in json.dumps(doc)

    doc, out = _export(gw, deployed, "oas30", parameters={"extensions": "apigateway"}, accepts="application/yaml")
    assert out["contentType"] == "application/yaml"
    assert out["contentDisposition"] == 'attachment; filename="oas30_1.0.yaml"'
    assert doc["x-amazon-apigateway-request-validators"]["all"] == {
        "validateRequestBody": True,
        "validateRequestParameters": True,
    }
    assert doc["paths"]["/pets"]["get"]["x-amazon-apigateway-request-validator"] == "params-only"
    assert doc["x-amazon-apigateway-binary-media-types"] == ["image/png", "image/jpeg"]
    assert doc["x-amazon-apigateway-minimum-compression-size"] == 1024
    assert doc["x-amazon-apigateway-policy"] == POLICY
    assert doc["x-amazon-apigateway-gateway-responses"]["UNAUTHORIZED"]["statusCode"] == "401"
    assert "x-amazon-apigateway-integration" in doc["paths"]["/pets"]["get"]

    doc, out = _export(gw, deployed, "swagger", parameters={"extensions": "postman"})
    assert out["contentDisposition"] == 'attachment; filename="swagger_1.0.json"'
    assert doc["swagger"] == "2.0"
    assert doc["host"] == f"{deployed}.execute-api.us-east-1.amazonaws.com"
    assert (doc["basePath"], doc["schemes"]) == ("/prod", ["https"])
    create = doc["paths"]["/pets"]["post"]
    assert create["consumes"] == ["application/json"] and create["produces"] == ["application/json"]
    assert {"in": "body", "name": "NewPet", "required": True, "schema": {"$ref": "#/definitions/NewPet"}} in create[
        "parameters"
    ]
    assert create["responses"]["200"]["schema"] == {"$ref": "#/definitions/NewPetResponse"}
    assert doc["definitions"]["NewPetResponse"]["properties"]["pet"] == {"$ref": "#/definitions/Pet"}
    listing = doc["paths"]["/pets"]["get"]
    assert {"name": "type", "in": "query", "required": False, "type": "string"} in listing["parameters"]
    assert doc["securityDefinitions"]["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}


def test_export_reflects_the_stage_deployment(gw, deployed):
    root = gw.get_rest_api(restApiId=deployed)["rootResourceId"]
    gw.put_method(restApiId=deployed, resourceId=root, httpMethod="DELETE", authorizationType="NONE")
    doc, _ = _export(gw, deployed, "oas30")
    assert set(doc["paths"]["/"]) == {"get"}  # not deployed yet
    gw.create_deployment(restApiId=deployed, stageName="prod")
    doc, _ = _export(gw, deployed, "oas30")
    assert set(doc["paths"]["/"]) == {"get", "delete"}


def test_export_errors(gw, deployed):
    e = error_of(gw.get_export, 404, restApiId=deployed, stageName="nostage", exportType="oas30")
    assert e == {"Code": "NotFoundException", "Message": "Invalid stage identifier specified"}
    e = error_of(gw.get_export, 404, restApiId="nosuchapi1", stageName="prod", exportType="oas30")
    assert e["Message"] == "Invalid API identifier specified 000000000000:nosuchapi1"
    e = error_of(gw.get_export, 400, restApiId=deployed, stageName="prod", exportType="raml")
    assert e["Code"] == "BadRequestException"
    e = error_of(gw.get_export, 400, restApiId=deployed, stageName="prod", exportType="oas30", accepts="text/html")
    assert e["Code"] == "BadRequestException"
    e = error_of(
        gw.get_export, 400, restApiId=deployed, stageName="prod", exportType="oas30", parameters={"extensions": "x"}
    )
    assert e["Code"] == "BadRequestException"


# -- round trip


def _schema(text: str) -> dict:
    """A model's schema without its draft marker (exports leave it out; every model is draft 4)."""
    schema = json.loads(text)
    schema.pop("$schema", None)
    return schema


def _shape(gw, api_id: str) -> dict:
    """What an import must reproduce, without the ids that differ between APIs."""
    authorizers = {a["id"]: a["name"] for a in gw.get_authorizers(restApiId=api_id)["items"]}
    validators = {v["id"]: v["name"] for v in gw.get_request_validators(restApiId=api_id)["items"]}
    resources = {}
    for path, resource in resources_of(gw, api_id).items():
        methods = {}
        for verb, method in (resource.get("resourceMethods") or {}).items():
            m = copy.deepcopy(method)
            m["authorizerId"] = authorizers.get(m.get("authorizerId"))
            m["requestValidatorId"] = validators.get(m.get("requestValidatorId"))
            if "methodIntegration" in m:
                m["methodIntegration"].pop("cacheNamespace", None)
            methods[verb] = m
        resources[path] = methods
    models = {
        m["name"]: (_schema(m["schema"].replace(api_id, "API")), m["contentType"])
        for m in gw.get_models(restApiId=api_id, limit=500)["items"]
    }
    strip = ("id",)
    auths = sorted(
        ({k: v for k, v in a.items() if k not in strip} for a in gw.get_authorizers(restApiId=api_id)["items"]),
        key=lambda a: a["name"],
    )
    return {"resources": resources, "models": models, "authorizers": auths}


@pytest.mark.parametrize("kind", ["oas30", "swagger"])
def test_round_trip(gw, deployed, kind):
    doc, _ = _export(gw, deployed, kind, parameters={"extensions": "apigateway"})
    again = import_api(gw, doc)
    try:
        assert "warnings" not in again
        original, copied = _shape(gw, deployed), _shape(gw, again["id"])
        for key in ("models", "authorizers"):
            assert copied[key] == original[key], key
        assert set(copied["resources"]) == set(original["resources"])
        for path, methods in original["resources"].items():
            assert copied["resources"][path] == methods, path
        # and the copy exports as the original did (but for its own id)
        gw.create_deployment(restApiId=again["id"], stageName="prod")
        doc2, _ = _export(gw, again["id"], kind, parameters={"extensions": "apigateway"})
        assert json.dumps(doc2).replace(again["id"], "API") == json.dumps(doc).replace(deployed, "API")
    finally:
        gw.delete_rest_api(restApiId=again["id"])


# -- never a 5xx

_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 10**12)
    | st.text(max_size=20)
    | st.sampled_from(["mock", "aws_proxy", "#/components/schemas/Pet", "{"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=12,
)


def _paths_of(doc: dict) -> list[list]:
    """Every key path into a definition (to replace what one leads to)."""
    out, stack = [], [([], doc)]
    while stack:
        path, node = stack.pop()
        out.append(path)
        if isinstance(node, dict):
            stack += [([*path, k], v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [([*path, i], v) for i, v in enumerate(node)]
    return out


BASE = petstore()
PATHS = _paths_of(BASE)


def _mutated(where: list, value) -> dict:
    doc = copy.deepcopy(BASE)
    if not where:
        return value
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    return doc


@pytest.mark.timeout(300)
def test_fuzzed_definitions_never_get_a_5xx(gw):
    api_id = gw.import_rest_api(body=json.dumps(BASE))["id"]
    gw.create_deployment(restApiId=api_id, stageName="prod")
    seen: set[int] = set()

    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(where=st.sampled_from(PATHS), value=_values, op=st.sampled_from(["import", "merge", "overwrite"]))
    def check(where, value, op):
        body = json.dumps(_mutated(where, value))
        try:
            if op == "import":
                created = gw.import_rest_api(body=body, parameters={"basepath": "split"})
                gw.delete_rest_api(restApiId=created["id"])
            else:
                gw.put_rest_api(restApiId=api_id, mode=op, body=body)
                gw.create_deployment(restApiId=api_id, stageName="prod")
                for kind in ("oas30", "swagger"):
                    gw.get_export(
                        restApiId=api_id, stageName="prod", exportType=kind, parameters={"extensions": "apigateway"}
                    )["body"].read()
            seen.add(200)
        except ClientError as e:
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            assert status < 500, (where, value, op, e.response["Error"])
            seen.add(status)

    try:
        check()
        # and raw bodies: YAML oddities, anchors, deep nesting, binary
        for raw in [
            "a: &x [*x]",
            "!!python/object:os.system {}",
            "[" * 5000,
            "{}",
            "openapi: 3.0.1\npaths: {}",
            "\x00",
        ]:
            try:
                gw.import_rest_api(body=raw)
            except ClientError as e:
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] < 500, raw
    finally:
        gw.delete_rest_api(restApiId=api_id)
    assert 400 in seen and 200 in seen


def test_import_documentation_parts(gw):
    definition = petstore()
    definition["x-amazon-apigateway-documentation"] = {
        "version": "1.0",
        "documentationParts": [
            {"location": {"type": "API"}, "properties": {"description": "Pets for everyone"}},
            {"location": {"type": "METHOD", "path": "/pets", "method": "GET"}, "properties": {"summary": "List"}},
        ],
    }
    api = import_api(gw, definition)
    ignored = import_api(gw, definition, parameters={"ignore": "documentation"})
    try:
        parts = gw.get_documentation_parts(restApiId=api["id"])["items"]
        assert {(p["location"]["type"], json.loads(p["properties"]).popitem()[1]) for p in parts} == {
            ("API", "Pets for everyone"),
            ("METHOD", "List"),
        }
        assert gw.get_documentation_parts(restApiId=ignored["id"])["items"] == []
        # a merge replaces the content of a documented location; an overwrite keeps only the definition's parts
        definition["x-amazon-apigateway-documentation"]["documentationParts"] = [
            {"location": {"type": "API"}, "properties": {"description": "Only cats"}}
        ]
        gw.put_rest_api(restApiId=api["id"], mode="merge", body=json.dumps(definition))
        parts = gw.get_documentation_parts(restApiId=api["id"])["items"]
        assert len(parts) == 2 and any("Only cats" in p["properties"] for p in parts)
        gw.put_rest_api(restApiId=api["id"], mode="overwrite", body=json.dumps(definition))
        (part,) = gw.get_documentation_parts(restApiId=api["id"])["items"]
        assert json.loads(part["properties"]) == {"description": "Only cats"}
    finally:
        gw.delete_rest_api(restApiId=api["id"])
        gw.delete_rest_api(restApiId=ignored["id"])


def test_export_version_defaults_to_the_deployment_date(gw):
    definition = {"openapi": "3.0.1", "info": {"title": "dated"}, "paths": {"/": _mock_path()}}
    api_id = import_api(gw, definition)["id"]
    try:
        gw.create_deployment(restApiId=api_id, stageName="prod")
        doc, out = _export(gw, api_id, "swagger")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["info"]["version"]), doc["info"]
        assert out["contentDisposition"] == f'attachment; filename="swagger_{doc["info"]["version"]}.json"'
        assert doc["paths"]["/"]["get"]["responses"] == {"200": {"description": "200 response"}}
        assert "x-amazon-apigateway-integration" not in doc["paths"]["/"]["get"]
    finally:
        gw.delete_rest_api(restApiId=api_id)


def test_base_path_from_the_server_variable(gw):
    definition = {
        "openapi": "3.0.1",
        "info": {"title": "bp"},
        "servers": [
            {"url": "https://{host}/ignored"},
            {"url": "https://example.com/{basePath}", "variables": {"basePath": {"default": "/v1/shop"}}},
        ],
        "paths": {"/items": _mock_path()},
    }
    api = import_api(gw, definition, parameters={"basepath": "split"})
    try:
        assert set(resources_of(gw, api["id"])) == {"/", "/shop", "/shop/items"}
    finally:
        gw.delete_rest_api(restApiId=api["id"])


PROXY = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"resource": event["resource"], "path": event["pathParameters"]})}
"""


def test_imported_lambda_proxy_answers_over_http(broker, gw):
    lam = broker.client("lambda", read_timeout=60)
    name = "openapi-pets"
    try:
        lam.delete_function(FunctionName=name)
    except ClientError:
        pass
    arn = create(lam, name, source=PROXY)["FunctionArn"]
    definition = json.dumps(petstore()).replace(FUNCTION, arn)
    api_id = import_api(gw, definition)["id"]
    try:
        gw.create_deployment(restApiId=api_id, stageName="live")
        r = httpx.get(
            f"{broker.url}/live/anything/here", headers={"host": f"{api_id}.execute-api.localhost:4566"}, timeout=60
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"resource": "/{proxy+}", "path": {"proxy": "anything/here"}}
    finally:
        gw.delete_rest_api(restApiId=api_id)
        lam.delete_function(FunctionName=name)
