"""Authorizers and request validators through boto3: create with AWS's defaults and checks, get, list with paging,
patch, delete (an authorizer a method uses is refused), and the NotFound errors."""

from __future__ import annotations

import re

import pytest

from tests.apigateway.helpers import error_of

AUTH_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"
)
POOL_ARN = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_abc123"


@pytest.fixture
def api(gw) -> dict:
    created = gw.create_rest_api(name="secure")
    return {"id": created["id"], "root": created["rootResourceId"]}


def _body(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def test_token_authorizer_defaults_get_and_list(gw, api):
    created = gw.create_authorizer(restApiId=api["id"], name="tok", type="TOKEN", authorizerUri=AUTH_URI)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"[a-z0-9]{6}", created["id"])
    expected = {
        "id": created["id"],
        "name": "tok",
        "type": "TOKEN",
        "authorizerUri": AUTH_URI,
        "identitySource": "method.request.header.Authorization",
        "authorizerResultTtlInSeconds": 300,
    }
    assert _body(created) == expected
    assert _body(gw.get_authorizer(restApiId=api["id"], authorizerId=created["id"])) == expected

    request = gw.create_authorizer(
        restApiId=api["id"],
        name="req",
        type="REQUEST",
        authorizerUri=AUTH_URI,
        identitySource="method.request.header.X-Token, method.request.querystring.q",
        authorizerResultTtlInSeconds=0,
        authorizerCredentials="arn:aws:iam::000000000000:role/invoker",
    )
    assert request["authorizerResultTtlInSeconds"] == 0
    assert request["identitySource"] == "method.request.header.X-Token, method.request.querystring.q"
    cognito = gw.create_authorizer(restApiId=api["id"], name="pool", type="COGNITO_USER_POOLS", providerARNs=[POOL_ARN])
    assert cognito["providerARNs"] == [POOL_ARN] and "authorizerUri" not in cognito
    assert "identitySource" not in cognito

    listed = gw.get_authorizers(restApiId=api["id"])["items"]
    assert sorted(a["id"] for a in listed) == sorted([created["id"], request["id"], cognito["id"]])
    first = gw.get_authorizers(restApiId=api["id"], limit=2)
    assert len(first["items"]) == 2 and first["position"]
    rest = gw.get_authorizers(restApiId=api["id"], limit=2, position=first["position"])
    assert len(rest["items"]) == 1 and "position" not in rest
    assert {a["id"] for a in first["items"] + rest["items"]} == {a["id"] for a in listed}


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"type": "TOKEN"},
            "Invalid Authorizer URI: null. Authorizer URI should be a valid API Gateway ARN that represents a "
            "Lambda function invocation.",
        ),
        (
            {"type": "REQUEST", "authorizerUri": "arn:aws:lambda:us-east-1:000000000000:function:auth"},
            "Invalid Authorizer URI: arn:aws:lambda:us-east-1:000000000000:function:auth. Authorizer URI should be "
            "a valid API Gateway ARN that represents a Lambda function invocation.",
        ),
        (
            {"type": "COGNITO_USER_POOLS"},
            "ProviderARNs need to be specified for authorizer of type COGNITO_USER_POOLS",
        ),
        (
            {"type": "TOKEN", "authorizerUri": AUTH_URI, "authorizerResultTtlInSeconds": 3601},
            "Authorizer result TTL must be between 0 and 3600 seconds",
        ),
        (
            {"type": "MAGIC", "authorizerUri": AUTH_URI},
            "Invalid authorizer type specified: MAGIC. Valid values are: TOKEN, REQUEST, COGNITO_USER_POOLS",
        ),
    ],
)
def test_create_authorizer_validation(gw, api, kw, message):
    err = error_of(gw.create_authorizer, 400, restApiId=api["id"], name="a", **kw)
    assert err == {"Code": "BadRequestException", "Message": message}
    assert gw.get_authorizers(restApiId=api["id"])["items"] == []


def test_authorizer_ttl_bounds_are_accepted(gw, api):
    for ttl in (0, 3600):
        a = gw.create_authorizer(
            restApiId=api["id"], name=f"t{ttl}", type="TOKEN", authorizerUri=AUTH_URI, authorizerResultTtlInSeconds=ttl
        )
        assert a["authorizerResultTtlInSeconds"] == ttl


def test_update_authorizer(gw, api):
    a = gw.create_authorizer(restApiId=api["id"], name="pool", type="COGNITO_USER_POOLS", providerARNs=[POOL_ARN])
    other = POOL_ARN.replace("abc123", "def456")
    patched = gw.update_authorizer(
        restApiId=api["id"],
        authorizerId=a["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "pool2"},
            {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "60"},
            {"op": "add", "path": "/providerARNs/" + other.replace("/", "~1")},  # JSON Pointer escaping
            {"op": "replace", "path": "/identitySource", "value": "method.request.header.Auth"},
        ],
    )
    assert (patched["name"], patched["authorizerResultTtlInSeconds"]) == ("pool2", 60)
    assert patched["providerARNs"] == [POOL_ARN, other]
    assert _body(gw.get_authorizer(restApiId=api["id"], authorizerId=a["id"])) == _body(patched)

    err = error_of(
        gw.update_authorizer,
        400,
        restApiId=api["id"],
        authorizerId=a["id"],
        patchOperations=[{"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "-1"}],
    )
    assert err == {"Code": "BadRequestException", "Message": "Authorizer result TTL must be between 0 and 3600 seconds"}
    err = error_of(
        gw.update_authorizer,
        400,
        restApiId=api["id"],
        authorizerId=a["id"],
        patchOperations=[{"op": "replace", "path": "/id", "value": "x"}],
    )
    assert err["Code"] == "BadRequestException" and err["Message"].startswith("Invalid patch path '/id'")
    assert gw.get_authorizer(restApiId=api["id"], authorizerId=a["id"])["authorizerResultTtlInSeconds"] == 60


def test_delete_authorizer_refused_while_a_method_uses_it(gw, api):
    a = gw.create_authorizer(restApiId=api["id"], name="tok", type="TOKEN", authorizerUri=AUTH_URI)
    pets = gw.create_resource(restApiId=api["id"], parentId=api["root"], pathPart="pets")
    gw.put_method(
        restApiId=api["id"], resourceId=pets["id"], httpMethod="POST", authorizationType="CUSTOM", authorizerId=a["id"]
    )
    err = error_of(gw.delete_authorizer, 409, restApiId=api["id"], authorizerId=a["id"])
    assert err == {
        "Code": "ConflictException",
        "Message": "Cannot delete authorizer, is referenced in method: POST//pets",
    }
    assert gw.get_authorizer(restApiId=api["id"], authorizerId=a["id"])["name"] == "tok"

    gw.delete_method(restApiId=api["id"], resourceId=pets["id"], httpMethod="POST")
    deleted = gw.delete_authorizer(restApiId=api["id"], authorizerId=a["id"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    err = error_of(gw.get_authorizer, 404, restApiId=api["id"], authorizerId=a["id"])
    assert err == {"Code": "NotFoundException", "Message": "Invalid Authorizer identifier specified"}


def test_unknown_authorizers_and_apis(gw, api):
    for call, kw in [
        (gw.get_authorizer, {}),
        (gw.delete_authorizer, {}),
        (gw.update_authorizer, {"patchOperations": []}),
    ]:
        err = error_of(call, 404, restApiId=api["id"], authorizerId="nope12", **kw)
        assert err == {"Code": "NotFoundException", "Message": "Invalid Authorizer identifier specified"}
    err = error_of(gw.create_authorizer, 404, restApiId="nosuchapi1", name="a", type="TOKEN", authorizerUri=AUTH_URI)
    assert err == {"Code": "NotFoundException", "Message": "Invalid API identifier specified 000000000000:nosuchapi1"}
    err = error_of(gw.get_authorizers, 404, restApiId="nosuchapi1")
    assert err["Code"] == "NotFoundException"


def test_authorizers_go_with_their_api(gw, api):
    a = gw.create_authorizer(restApiId=api["id"], name="tok", type="TOKEN", authorizerUri=AUTH_URI)
    gw.delete_rest_api(restApiId=api["id"])
    again = gw.create_rest_api(name="other")
    assert gw.get_authorizers(restApiId=again["id"])["items"] == []
    err = error_of(gw.get_authorizer, 404, restApiId=api["id"], authorizerId=a["id"])
    assert err["Code"] == "NotFoundException" and err["Message"].startswith("Invalid API identifier")


# Request validators


def test_request_validator_lifecycle(gw, api):
    v = gw.create_request_validator(restApiId=api["id"], name="body", validateRequestBody=True)
    assert v["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"[a-z0-9]{6}", v["id"])
    expected = {"id": v["id"], "name": "body", "validateRequestBody": True, "validateRequestParameters": False}
    assert _body(v) == expected
    assert _body(gw.get_request_validator(restApiId=api["id"], requestValidatorId=v["id"])) == expected
    both = gw.create_request_validator(
        restApiId=api["id"], name="both", validateRequestBody=True, validateRequestParameters=True
    )
    listed = gw.get_request_validators(restApiId=api["id"])["items"]
    assert sorted((x["id"], x["name"]) for x in listed) == sorted([(v["id"], "body"), (both["id"], "both")])

    patched = gw.update_request_validator(
        restApiId=api["id"],
        requestValidatorId=v["id"],
        patchOperations=[
            {"op": "replace", "path": "/validateRequestBody", "value": "false"},
            {"op": "replace", "path": "/validateRequestParameters", "value": "true"},
            {"op": "replace", "path": "/name", "value": "params"},
        ],
    )
    assert _body(patched) == {
        "id": v["id"], "name": "params", "validateRequestBody": False, "validateRequestParameters": True,
    }  # fmt: skip
    assert _body(gw.get_request_validator(restApiId=api["id"], requestValidatorId=v["id"])) == _body(patched)
    err = error_of(
        gw.update_request_validator,
        400,
        restApiId=api["id"],
        requestValidatorId=v["id"],
        patchOperations=[{"op": "replace", "path": "/validateRequestBody", "value": "maybe"}],
    )
    assert err["Code"] == "BadRequestException"

    assert (
        gw.delete_request_validator(restApiId=api["id"], requestValidatorId=v["id"])["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 202
    )
    for call, kw in [
        (gw.get_request_validator, {}),
        (gw.delete_request_validator, {}),
        (gw.update_request_validator, {"patchOperations": []}),
    ]:
        err = error_of(call, 404, restApiId=api["id"], requestValidatorId=v["id"], **kw)
        assert err == {"Code": "NotFoundException", "Message": "Invalid Request Validator identifier specified"}
    assert [x["id"] for x in gw.get_request_validators(restApiId=api["id"])["items"]] == [both["id"]]
    err = error_of(gw.create_request_validator, 404, restApiId="nosuchapi1", name="x")
    assert err["Code"] == "NotFoundException"
