"""Request validation on deployed REST APIs: a method's request validator refuses a request that lacks a required
parameter (or sends it blank) with 400 BAD_REQUEST_PARAMETERS, and a body that does not satisfy the method's model
for its content type with 400 BAD_REQUEST_BODY, whose $context.error.validationErrorString carries the schema
violations in the wording of the Java validator API Gateway runs."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.apigateway.helpers import MOCK_200, mock_method

PET = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["name", "age"],
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
        "age": {"type": "integer", "minimum": 0, "maximum": 30},
        "weight": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
        "kind": {"enum": ["cat", "dog"]},
        "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
        "owner": {"$ref": "#/definitions/owner"},
        "vet": {"$ref": "https://apigateway.amazonaws.com/restapis/{api}/models/Vet"},
        "code": {"pattern": "^\\d+$"},
    },
    "patternProperties": {"^x-": {"type": "string"}},
    "additionalProperties": False,
    "definitions": {"owner": {"type": "object", "required": ["email"]}},
}
VET = {"type": "object", "required": ["clinic"], "properties": {"clinic": {"type": "string"}}}
DETAIL = {"application/json": "$context.error.validationErrorString"}


def _api(gw, *, body: bool, parameters: bool, models: dict | None = None, request_parameters: dict | None = None):
    """An API whose POST / (MOCK, 200 {"ok": true}) has a validator of the given kind; BAD_REQUEST_BODY answers
    with the validationErrorString alone."""
    api = gw.create_rest_api(name="validated")
    api_id, root = api["id"], api["rootResourceId"]
    gw.create_model(restApiId=api_id, name="Vet", contentType="application/json", schema=json.dumps(VET))
    pet = json.dumps(PET).replace("{api}", api_id)
    gw.create_model(restApiId=api_id, name="Pet", contentType="application/json", schema=pet)
    validator = gw.create_request_validator(
        restApiId=api_id, name="v", validateRequestBody=body, validateRequestParameters=parameters
    )
    request_templates = {**MOCK_200, "text/plain": MOCK_200["application/json"]}
    mock_method(
        gw, api_id, root, "POST", answer='{"ok": true}', request_templates=request_templates,
        requestValidatorId=validator["id"], requestModels=models if models is not None else {"application/json": "Pet"},
        requestParameters=request_parameters or {},
    )  # fmt: skip
    gw.put_gateway_response(restApiId=api_id, responseType="BAD_REQUEST_BODY", responseTemplates=DETAIL)
    gw.create_deployment(restApiId=api_id, stageName="prod")
    return api_id, validator["id"]


def _post(broker, api_id: str, body: bytes | str = b"", path: str = "/", **kw) -> httpx.Response:
    headers = {"content-type": "application/json", **kw.pop("headers", {})}
    url = f"{broker.url}/_aws/execute-api/{api_id}/prod{path}"
    return httpx.post(url, content=body, headers=headers, timeout=30, **kw)


def test_required_parameters(broker, gw):
    required = {
        "method.request.querystring.q": True,
        "method.request.header.X-Trace": True,
        "method.request.querystring.optional": False,
    }
    api_id, _ = _api(gw, body=False, parameters=True, request_parameters=required)
    r = _post(broker, api_id, b"not even json")
    assert r.status_code == 400
    assert r.content == b'{"message": "Missing required request parameters: [X-Trace, q]"}'
    assert r.headers["x-amzn-errortype"] == "BadRequestException"
    assert r.headers["content-type"] == "application/json"
    # Present but blank counts as missing; header names match in any case.
    r = _post(broker, api_id, path="/?q=%20%20&q=")
    assert r.json() == {"message": "Missing required request parameters: [X-Trace, q]"}
    r = _post(broker, api_id, path="/?q=1", headers={"x-trace": ""})
    assert r.json() == {"message": "Missing required request parameters: [X-Trace]"}
    r = _post(broker, api_id, b"not even json", path="/?q=1", headers={"X-TRACE": "t"})
    assert (r.status_code, r.json()) == (200, {"ok": True})  # the body is not this validator's business


def test_parameters_unchecked_without_a_parameter_validator(broker, gw):
    api_id, validator_id = _api(
        gw, body=True, parameters=False, request_parameters={"method.request.querystring.q": True}
    )
    r = _post(broker, api_id, '{"name": "tom", "age": 3}')
    assert (r.status_code, r.json()) == (200, {"ok": True})
    # The validator is applied as deployed: turning parameter checks on takes a new deployment.
    gw.update_request_validator(
        restApiId=api_id, requestValidatorId=validator_id,
        patchOperations=[{"op": "replace", "path": "/validateRequestParameters", "value": "true"}],
    )  # fmt: skip
    assert _post(broker, api_id, '{"name": "tom", "age": 3}').status_code == 200
    gw.create_deployment(restApiId=api_id, stageName="prod")
    r = _post(broker, api_id, '{"name": "tom", "age": 3}')
    assert (r.status_code, r.json()) == (400, {"message": "Missing required request parameters: [q]"})


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("{}", '[object has missing required properties (["age","name"])]'),
        ("", '[object has missing required properties (["age","name"])]'),  # an empty body is an empty object
        ("[1]", '[instance type (array) does not match any allowed primitive type (allowed: ["object"])]'),
        ('{"name": "x", "age": 1}', '[string "x" is too short (length: 1, required minimum: 2)]'),
        (
            '{"name": "Rexus1", "age": 1}',
            '[string "Rexus1" is too long (length: 6, maximum allowed: 5), '
            'ECMA 262 regex "^[a-z]+$" does not match input string "Rexus1"]',
        ),
        (
            '{"name": "tom", "age": 1.0}',
            '[instance type (number) does not match any allowed primitive type (allowed: ["integer"])]',
        ),
        ('{"name": "tom", "age": -1}', "[numeric instance is lower than the required minimum (minimum: 0, found: -1)]"),
        (
            '{"name": "tom", "age": 31}',
            "[numeric instance is greater than the required maximum (maximum: 30, found: 31)]",
        ),
        (
            '{"name": "tom", "age": 1, "weight": 0}',
            "[numeric instance is not strictly greater than the required minimum 0]",
        ),
        (
            '{"name": "tom", "age": 1, "weight": "x"}',
            '[instance type (string) does not match any allowed primitive type (allowed: ["integer","number"])]',
        ),
        (
            '{"name": "tom", "age": 1, "kind": "cow"}',
            '[instance value ("cow") not found in enum (possible values: ["cat","dog"])]',
        ),
        (
            '{"name": "tom", "age": 1, "tags": []}',
            "[array is too short: must have at least 1 elements but instance has 0 elements]",
        ),
        (
            '{"name": "tom", "age": 1, "tags": ["a", "b", "c"]}',
            "[array is too long: must have at most 2 elements but instance has 3 elements]",
        ),
        (
            '{"name": "tom", "age": 1, "zebra": 1, "colour": 2}',
            '[object instance has properties which are not allowed by the schema: ["colour","zebra"]]',
        ),
        # Members matching patternProperties are not additional; ECMA 262's \\d is ASCII only.
        (
            '{"name": "tom", "age": 1, "x-a": "ok", "x-b": 2}',
            '[instance type (integer) does not match any allowed primitive type (allowed: ["string"])]',
        ),
        (
            '{"name": "tom", "age": 1, "code": "\u0661\u0662"}',
            '[ECMA 262 regex "^\\d+$" does not match input string "\u0661\u0662"]',
        ),
        # #/definitions and another model of the API by its URL; each member is reported in name order.
        (
            '{"name": "tom", "age": 1, "vet": {}, "owner": {}}',
            '[object has missing required properties (["email"]), object has missing required properties (["clinic"])]',
        ),
        # Per instance, keywords in name order; once an error is found no instance is descended into.
        (
            '{"name": 5, "zzz": 1}',
            '[object instance has properties which are not allowed by the schema: ["zzz"], '
            'object has missing required properties (["age"])]',
        ),
        (
            '{"name": "tom", "age": "1", "tags": [5], "vet": {"clinic": 1}}',
            '[instance type (string) does not match any allowed primitive type (allowed: ["integer"])]',
        ),
    ],
)
def test_body_violations(broker, gw, body, detail):
    api_id, _ = _api(gw, body=True, parameters=False)
    r = _post(broker, api_id, body)
    assert (r.status_code, r.text) == (400, detail)
    assert r.headers["x-amzn-errortype"] == "BadRequestException"


def test_valid_bodies_and_what_is_not_validated(broker, gw):
    api_id, _ = _api(gw, body=True, parameters=False)
    good = '{"name": "tom", "age": 3, "weight": 2.5, "kind": "cat", "tags": ["a"], "owner": {"email": "e"}}'
    assert (_post(broker, api_id, good).status_code, _post(broker, api_id, good).json()) == (200, {"ok": True})
    # No Content-Type: the application/json model applies.
    r = httpx.post(f"{broker.url}/_aws/execute-api/{api_id}/prod/", content=b"{}", timeout=30)
    assert (r.status_code, r.text) == (400, '[object has missing required properties (["age","name"])]')
    # A content type the method has no model for is not validated.
    r = _post(broker, api_id, "{}", headers={"content-type": "text/plain"})
    assert (r.status_code, r.json()) == (200, {"ok": True})


def test_malformed_json_and_default_model(broker, gw):
    api_id, _ = _api(gw, body=True, parameters=False, models={"$default": "Pet"})
    gw.delete_gateway_response(restApiId=api_id, responseType="BAD_REQUEST_BODY")
    gw.create_deployment(restApiId=api_id, stageName="prod")
    # $default covers every content type.
    r = _post(broker, api_id, "{}", headers={"content-type": "text/plain; charset=utf-8"})
    assert (r.status_code, r.content) == (400, b'{"message": "Invalid request body"}')
    for junk in ("{", "not json", '{"name": NaN}'):
        r = _post(broker, api_id, junk)
        assert (r.status_code, r.json()) == (400, {"message": "Invalid request body"}), junk
    assert _post(broker, api_id, '{"name": "tom", "age": 3}').status_code == 200


def test_models_are_used_as_deployed(broker, gw):
    api_id, _ = _api(gw, body=True, parameters=False, models={"application/json": "Empty"})
    # The default Empty model only asks for an object.
    assert _post(broker, api_id, '{"anything": 1}').status_code == 200
    r = _post(broker, api_id, "[]")
    assert (r.status_code, r.text) == (
        400, '[instance type (array) does not match any allowed primitive type (allowed: ["object"])]'
    )  # fmt: skip
    schema = json.dumps({"type": "object", "required": ["id"]})
    gw.update_model(
        restApiId=api_id, modelName="Empty", patchOperations=[{"op": "replace", "path": "/schema", "value": schema}]
    )
    assert _post(broker, api_id, '{"anything": 1}').status_code == 200  # not deployed yet
    gw.create_deployment(restApiId=api_id, stageName="prod")
    r = _post(broker, api_id, '{"anything": 1}')
    assert (r.status_code, r.text) == (400, '[object has missing required properties (["id"])]')


def test_unresolvable_reference_is_a_configuration_error(broker, gw):
    api = gw.create_rest_api(name="broken")
    api_id, root = api["id"], api["rootResourceId"]
    ref = {
        "type": "object",
        "properties": {"x": {"$ref": f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Nope"}},
    }
    gw.create_model(restApiId=api_id, name="Broken", contentType="application/json", schema=json.dumps(ref))
    validator = gw.create_request_validator(restApiId=api_id, validateRequestBody=True)
    gw.put_method(
        restApiId=api_id, resourceId=root, httpMethod="POST", authorizationType="NONE",
        requestValidatorId=validator["id"], requestModels={"application/json": "Broken"},
    )  # fmt: skip
    gw.put_integration(restApiId=api_id, resourceId=root, httpMethod="POST", type="MOCK")
    gw.create_deployment(restApiId=api_id, stageName="prod")
    r = _post(broker, api_id, '{"x": 1}')
    assert (r.status_code, r.content) == (500, b'{"message": "Internal server error"}')
    assert r.headers["x-amzn-errortype"] == "InternalServerErrorException"
