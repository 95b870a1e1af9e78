"""Models and gateway responses through boto3: the default "Empty" and "Error" models every API has, create/get/
list/patch/delete of models with their checks, `flatten` and GetModelTemplate; the gateway responses' AWS defaults,
put/update (customised) and delete (the default again)."""

from __future__ import annotations

import json
import re

import pytest

from tests.apigateway.helpers import error_of

PET = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "Pet",
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    }
)
DEFAULT_TEMPLATES = {"application/json": '{"message":$context.error.messageString}'}


@pytest.fixture
def api_id(gw) -> str:
    return gw.create_rest_api(name="zoo")["id"]


def _body(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def test_every_api_has_the_default_models(gw, api_id):
    items = gw.get_models(restApiId=api_id)["items"]
    assert [m["name"] for m in items] == ["Empty", "Error"]
    empty, error = items
    assert empty["contentType"] == "application/json"
    assert empty["description"] == "This is a default empty schema model"
    assert json.loads(empty["schema"]) == {
        "$schema": "http://json-schema.org/draft-04/schema#", "title": "Empty Schema", "type": "object",
    }  # fmt: skip
    assert json.loads(error["schema"])["properties"] == {"message": {"type": "string"}}
    assert re.fullmatch(r"[a-z0-9]{6}", empty["id"]) and empty["id"] != error["id"]
    # The ids are stable from one read to the next.
    assert _body(gw.get_model(restApiId=api_id, modelName="Empty")) == empty
    other = gw.create_rest_api(name="other")["id"]
    assert gw.get_model(restApiId=other, modelName="Empty")["id"] != empty["id"]


def test_model_create_get_list_patch_delete(gw, api_id):
    created = gw.create_model(
        restApiId=api_id, name="Pet", contentType="application/json", schema=PET, description="a pet"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"[a-z0-9]{6}", created["id"])
    expected = {
        "id": created["id"],
        "name": "Pet",
        "description": "a pet",
        "schema": PET,
        "contentType": "application/json",
    }
    assert _body(created) == expected
    assert _body(gw.get_model(restApiId=api_id, modelName="Pet")) == expected
    assert [m["name"] for m in gw.get_models(restApiId=api_id)["items"]] == ["Empty", "Error", "Pet"]
    page = gw.get_models(restApiId=api_id, limit=2)
    assert [m["name"] for m in page["items"]] == ["Empty", "Error"]
    rest = gw.get_models(restApiId=api_id, limit=2, position=page["position"])
    assert [m["name"] for m in rest["items"]] == ["Pet"] and "position" not in rest

    new_schema = json.dumps({"type": "object", "properties": {"id": {"type": "string"}}})
    patched = gw.update_model(
        restApiId=api_id,
        modelName="Pet",
        patchOperations=[
            {"op": "replace", "path": "/schema", "value": new_schema},
            {"op": "replace", "path": "/description", "value": "changed"},
        ],
    )
    assert (patched["schema"], patched["description"], patched["id"]) == (new_schema, "changed", created["id"])
    assert _body(gw.get_model(restApiId=api_id, modelName="Pet")) == _body(patched)
    err = error_of(
        gw.update_model,
        400,
        restApiId=api_id,
        modelName="Pet",
        patchOperations=[{"op": "replace", "path": "/schema", "value": "{not json"}],
    )
    assert err["Code"] == "BadRequestException" and err["Message"].startswith("Invalid model specified")
    err = error_of(
        gw.update_model,
        400,
        restApiId=api_id,
        modelName="Pet",
        patchOperations=[{"op": "replace", "path": "/name", "value": "Dog"}],
    )
    assert err["Code"] == "BadRequestException"
    assert gw.get_model(restApiId=api_id, modelName="Pet")["schema"] == new_schema

    deleted = gw.delete_model(restApiId=api_id, modelName="Pet")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    for call, kw in [
        (gw.get_model, {}),
        (gw.delete_model, {}),
        (gw.update_model, {"patchOperations": []}),
        (gw.get_model_template, {}),
    ]:
        err = error_of(call, 404, restApiId=api_id, modelName="Pet", **kw)
        assert err == {"Code": "NotFoundException", "Message": "Invalid Model Name specified"}


def test_create_model_checks(gw, api_id):
    gw.create_model(restApiId=api_id, name="Pet", contentType="application/json", schema=PET)
    err = error_of(gw.create_model, 409, restApiId=api_id, name="Pet", contentType="application/json")
    assert err == {"Code": "ConflictException", "Message": "Model name already exists for this REST API"}
    err = error_of(gw.create_model, 409, restApiId=api_id, name="Empty", contentType="application/json")
    assert err["Code"] == "ConflictException"
    err = error_of(gw.create_model, 400, restApiId=api_id, name="my-pet", contentType="application/json")
    assert err == {"Code": "BadRequestException", "Message": "Model name must be non-empty and alphanumeric"}
    for bad in ("{oops", "[1, 2]", "42"):
        err = error_of(gw.create_model, 400, restApiId=api_id, name="Bad", contentType="application/json", schema=bad)
        assert err["Code"] == "BadRequestException" and err["Message"].startswith("Invalid model specified")
    err = error_of(gw.create_model, 404, restApiId="nosuchapi1", name="Pet", contentType="application/json")
    assert err == {"Code": "NotFoundException", "Message": "Invalid API identifier specified 000000000000:nosuchapi1"}
    assert [m["name"] for m in gw.get_models(restApiId=api_id)["items"]] == ["Empty", "Error", "Pet"]


def test_default_models_can_be_changed_deleted_and_recreated(gw, api_id):
    before = gw.get_model(restApiId=api_id, modelName="Error")
    patched = gw.update_model(
        restApiId=api_id,
        modelName="Error",
        patchOperations=[{"op": "replace", "path": "/description", "value": "mine"}],
    )
    assert (patched["id"], patched["description"], patched["schema"]) == (before["id"], "mine", before["schema"])
    assert gw.get_model(restApiId=api_id, modelName="Error")["description"] == "mine"

    gw.delete_model(restApiId=api_id, modelName="Empty")
    assert [m["name"] for m in gw.get_models(restApiId=api_id)["items"]] == ["Error"]
    err = error_of(gw.get_model, 404, restApiId=api_id, modelName="Empty")
    assert err["Message"] == "Invalid Model Name specified"
    err = error_of(gw.delete_model, 404, restApiId=api_id, modelName="Empty")
    assert err["Code"] == "NotFoundException"

    again = gw.create_model(restApiId=api_id, name="Empty", contentType="text/plain")
    assert _body(gw.get_model(restApiId=api_id, modelName="Empty")) == _body(again)
    assert [m["name"] for m in gw.get_models(restApiId=api_id)["items"]] == ["Empty", "Error"]


def test_flatten_inlines_referenced_models(gw, api_id):
    gw.create_model(restApiId=api_id, name="Pet", contentType="application/json", schema=PET)
    ref = f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Pet"
    pets = json.dumps({"type": "array", "items": {"$ref": ref}})
    gw.create_model(restApiId=api_id, name="Pets", contentType="application/json", schema=pets)
    assert gw.get_model(restApiId=api_id, modelName="Pets")["schema"] == pets
    flat = json.loads(gw.get_model(restApiId=api_id, modelName="Pets", flatten=True)["schema"])
    assert flat == {
        "type": "array",
        "items": {
            "title": "Pet",
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        },
    }
    # A model without references is answered as stored.
    assert gw.get_model(restApiId=api_id, modelName="Pet", flatten=True)["schema"] == PET


def test_model_template(gw, api_id):
    assert gw.get_model_template(restApiId=api_id, modelName="Error")["value"] == (
        "#set($inputRoot = $input.path('$'))\n{\n" + '  "message" : "$inputRoot.message"\n}'
    )
    assert gw.get_model_template(restApiId=api_id, modelName="Empty")["value"] == (
        "#set($inputRoot = $input.path('$'))\n{ }"
    )
    gw.create_model(restApiId=api_id, name="Pet", contentType="application/json", schema=PET)
    ref = f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Pet"
    pets = json.dumps({"type": "array", "items": {"$ref": ref}})
    gw.create_model(restApiId=api_id, name="Pets", contentType="application/json", schema=pets)
    assert gw.get_model_template(restApiId=api_id, modelName="Pet")["value"] == "\n".join(
        [
            "#set($inputRoot = $input.path('$'))",
            "{",
            '  "name" : "$inputRoot.name",',
            '  "age" : $inputRoot.age',
            "}",
        ]
    )
    assert gw.get_model_template(restApiId=api_id, modelName="Pets")["value"] == "\n".join(
        [
            "#set($inputRoot = $input.path('$'))",
            "[",
            "#foreach($elem in $inputRoot)",
            "  {",
            '    "name" : "$elem.name",',
            '    "age" : $elem.age',
            "  }",
            "  #if($foreach.hasNext),#end",
            "#end",
            "]",
        ]
    )


# Gateway responses

STATUSES = {
    "DEFAULT_4XX": None, "DEFAULT_5XX": None, "ACCESS_DENIED": "403", "API_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_FAILURE": "500", "AUTHORIZER_CONFIGURATION_ERROR": "500", "BAD_REQUEST_PARAMETERS": "400",
    "BAD_REQUEST_BODY": "400", "EXPIRED_TOKEN": "403", "INTEGRATION_FAILURE": "504", "INTEGRATION_TIMEOUT": "504",
    "INVALID_API_KEY": "403", "INVALID_SIGNATURE": "403", "MISSING_AUTHENTICATION_TOKEN": "403",
    "QUOTA_EXCEEDED": "429", "REQUEST_TOO_LARGE": "413", "RESOURCE_NOT_FOUND": "404", "THROTTLED": "429",
    "UNAUTHORIZED": "401", "UNSUPPORTED_MEDIA_TYPE": "415", "WAF_FILTERED": "403",
}  # fmt: skip


def _default(response_type: str) -> dict:
    out = {"responseType": response_type, "responseParameters": {}, "responseTemplates": DEFAULT_TEMPLATES}
    if STATUSES[response_type]:
        out["statusCode"] = STATUSES[response_type]
    return {**out, "defaultResponse": True}


def test_gateway_response_defaults(gw, api_id):
    items = gw.get_gateway_responses(restApiId=api_id)["items"]
    assert {i["responseType"]: i for i in items} == {t: _default(t) for t in STATUSES}
    assert len(items) == len(STATUSES)
    # The collection is not paged: limit does not apply.
    assert len(gw.get_gateway_responses(restApiId=api_id, limit=2)["items"]) == len(STATUSES)
    for t in ("DEFAULT_4XX", "THROTTLED", "UNAUTHORIZED"):
        assert _body(gw.get_gateway_response(restApiId=api_id, responseType=t)) == _default(t)
    err = error_of(gw.get_gateway_response, 400, restApiId=api_id, responseType="NOPE")
    assert err["Code"] == "BadRequestException" and "Member must satisfy enum value set" in err["Message"]
    err = error_of(gw.get_gateway_responses, 404, restApiId="nosuchapi1")
    assert err["Code"] == "NotFoundException"


def test_gateway_response_put_update_delete(gw, api_id):
    put = gw.put_gateway_response(
        restApiId=api_id,
        responseType="UNAUTHORIZED",
        statusCode="401",
        responseParameters={"gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
        responseTemplates={"application/json": '{"error":"$context.error.message"}'},
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    expected = {
        "responseType": "UNAUTHORIZED",
        "statusCode": "401",
        "responseParameters": {"gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
        "responseTemplates": {"application/json": '{"error":"$context.error.message"}'},
        "defaultResponse": False,
    }
    assert _body(put) == expected
    assert _body(gw.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")) == expected
    listed = {i["responseType"]: i for i in gw.get_gateway_responses(restApiId=api_id)["items"]}
    assert listed["UNAUTHORIZED"] == expected and listed["THROTTLED"] == _default("THROTTLED")

    # Updating a default response customises it.
    updated = gw.update_gateway_response(
        restApiId=api_id,
        responseType="DEFAULT_4XX",
        patchOperations=[
            {
                "op": "add",
                "path": "/responseParameters/gatewayresponse.header.Access-Control-Allow-Origin",
                "value": "'*'",
            },
            {"op": "replace", "path": "/statusCode", "value": "418"},
        ],
    )
    assert _body(updated) == {
        "responseType": "DEFAULT_4XX",
        "statusCode": "418",
        "responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
        "responseTemplates": DEFAULT_TEMPLATES,
        "defaultResponse": False,
    }
    assert _body(gw.get_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX")) == _body(updated)
    err = error_of(
        gw.update_gateway_response,
        400,
        restApiId=api_id,
        responseType="DEFAULT_4XX",
        patchOperations=[{"op": "replace", "path": "/statusCode", "value": "999"}],
    )
    assert err["Code"] == "BadRequestException"
    assert gw.get_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX")["statusCode"] == "418"
    err = error_of(gw.put_gateway_response, 400, restApiId=api_id, responseType="THROTTLED", statusCode="99")
    assert err["Code"] == "BadRequestException"

    deleted = gw.delete_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert _body(gw.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")) == _default("UNAUTHORIZED")
    err = error_of(gw.delete_gateway_response, 404, restApiId=api_id, responseType="UNAUTHORIZED")
    assert err["Code"] == "NotFoundException"


def test_put_gateway_response_without_status_keeps_the_default_status(gw, api_id):
    put = gw.put_gateway_response(restApiId=api_id, responseType="THROTTLED")
    assert (put["statusCode"], put["defaultResponse"], put["responseTemplates"]) == ("429", False, {})
    put = gw.put_gateway_response(restApiId=api_id, responseType="DEFAULT_5XX")
    assert "statusCode" not in put and put["defaultResponse"] is False


def test_hostile_schemas(gw, api_id):
    """Deep nesting is refused; references that form a cycle are flattened once and the cycle keeps its $ref."""
    deep = '{"a":' * 100 + "1" + "}" * 100
    err = error_of(gw.create_model, 400, restApiId=api_id, name="Deep", contentType="application/json", schema=deep)
    assert err["Code"] == "BadRequestException" and err["Message"].startswith("Invalid model specified")
    nested = "[" * 5000
    err = error_of(gw.create_model, 400, restApiId=api_id, name="Deep", contentType="application/json", schema=nested)
    assert err["Code"] == "BadRequestException"

    base = f"https://apigateway.amazonaws.com/restapis/{api_id}/models/"
    gw.create_model(restApiId=api_id, name="A", contentType="application/json", schema=json.dumps({"$ref": base + "B"}))
    gw.create_model(
        restApiId=api_id,
        name="B",
        contentType="application/json",
        schema=json.dumps({"type": "object", "properties": {"a": {"$ref": base + "A"}}}),
    )
    flat = json.loads(gw.get_model(restApiId=api_id, modelName="A", flatten=True)["schema"])
    assert flat == {"type": "object", "properties": {"a": {"$ref": base + "A"}}}
    template = gw.get_model_template(restApiId=api_id, modelName="A")["value"]
    assert template.startswith("#set($inputRoot = $input.path('$'))\n{\n")
