"""Methods, method responses, integrations and integration responses through boto3: put/get/patch/delete of each,
their defaults, AWS's validation and NotFound errors, and the method embedded in GetResources."""

from __future__ import annotations

import pytest

from tests.apigateway.helpers import error_of

LAMBDA_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:f/invocations"
)


@pytest.fixture
def api(gw) -> dict:
    """An API with one resource /pets; keys: id, root, res."""
    created = gw.create_rest_api(name="pets")
    res = gw.create_resource(restApiId=created["id"], parentId=created["rootResourceId"], pathPart="pets")
    return {"id": created["id"], "root": created["rootResourceId"], "res": res["id"]}


def _ids(api: dict, method: str = "GET") -> dict:
    return {"restApiId": api["id"], "resourceId": api["res"], "httpMethod": method}


def test_method_put_get_patch_delete(gw, api):
    put = gw.put_method(
        **_ids(api),
        authorizationType="NONE",
        requestParameters={"method.request.querystring.kind": True, "method.request.header.X-Id": False},
        requestModels={"application/json": "Empty"},
        operationName="ListPets",
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    expected = {
        "httpMethod": "GET",
        "authorizationType": "NONE",
        "apiKeyRequired": False,
        "operationName": "ListPets",
        "requestParameters": {"method.request.querystring.kind": True, "method.request.header.X-Id": False},
        "requestModels": {"application/json": "Empty"},
    }
    assert {k: v for k, v in put.items() if k != "ResponseMetadata"} == expected
    got = gw.get_method(**_ids(api))
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == expected

    patched = gw.update_method(
        **_ids(api),
        patchOperations=[
            {"op": "replace", "path": "/apiKeyRequired", "value": "true"},
            {"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"},
            {"op": "add", "path": "/requestParameters/method.request.path.id", "value": "true"},
            {"op": "remove", "path": "/requestParameters/method.request.header.X-Id"},
            {"op": "remove", "path": "/requestModels/application~1json"},
        ],
    )
    assert patched["apiKeyRequired"] is True and patched["authorizationType"] == "AWS_IAM"
    assert patched["requestParameters"] == {
        "method.request.querystring.kind": True,
        "method.request.path.id": True,
    }
    assert "requestModels" not in patched
    assert gw.get_method(**_ids(api))["requestParameters"] == patched["requestParameters"]

    bad = error_of(
        gw.update_method,
        400,
        **_ids(api),
        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "MAGIC"}],
    )
    assert bad == {"Code": "BadRequestException", "Message": "Invalid authorization type specified"}
    assert gw.get_method(**_ids(api))["authorizationType"] == "AWS_IAM"

    deleted = gw.delete_method(**_ids(api))
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    err = error_of(gw.get_method, 404, **_ids(api))
    assert err == {"Code": "NotFoundException", "Message": "Invalid Method identifier specified"}
    assert "resourceMethods" not in gw.get_resource(restApiId=api["id"], resourceId=api["res"])


def test_put_method_on_existing_method_conflicts(gw, api):
    """AWS refuses a second PutMethod for the same verb (ConflictException); the stored method is kept."""
    gw.put_method(**_ids(api), authorizationType="NONE", apiKeyRequired=True)
    err = error_of(gw.put_method, 409, **_ids(api), authorizationType="AWS_IAM")
    assert err == {"Code": "ConflictException", "Message": "Method already exists for this resource"}
    got = gw.get_method(**_ids(api))
    assert (got["authorizationType"], got["apiKeyRequired"]) == ("NONE", True)


def test_method_validation_and_not_found(gw, api):
    err = error_of(gw.put_method, 400, **_ids(api, "FETCH"), authorizationType="NONE")
    assert err == {"Code": "BadRequestException", "Message": "Invalid HTTP method specified"}
    err = error_of(gw.put_method, 400, **_ids(api), authorizationType="MAGIC")
    assert err == {"Code": "BadRequestException", "Message": "Invalid authorization type specified"}
    for verb in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"):
        gw.put_method(**_ids(api, verb), authorizationType="NONE")
    assert set(gw.get_resource(restApiId=api["id"], resourceId=api["res"])["resourceMethods"]) == {
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
    }  # fmt: skip

    missing_api = {**_ids(api), "restApiId": "nosuchapi1"}
    err = error_of(gw.get_method, 404, **missing_api)
    assert err == {"Code": "NotFoundException", "Message": "Invalid API identifier specified 000000000000:nosuchapi1"}
    err = error_of(gw.put_method, 404, **missing_api, authorizationType="NONE")
    assert err["Code"] == "NotFoundException"
    missing_res = {**_ids(api), "resourceId": "nores1"}
    err = error_of(gw.get_method, 404, **missing_res)
    assert err == {"Code": "NotFoundException", "Message": "Invalid Resource identifier specified 000000000000:nores1"}
    err = error_of(gw.put_method, 404, **missing_res, authorizationType="NONE")
    assert err["Message"] == "Invalid Resource identifier specified 000000000000:nores1"
    gw.delete_method(**_ids(api, "ANY"))
    for call in (gw.get_method, gw.delete_method, gw.get_integration, gw.delete_integration):
        err = error_of(call, 404, **_ids(api, "ANY"))
        assert err == {"Code": "NotFoundException", "Message": "Invalid Method identifier specified"}
    err = error_of(gw.update_method, 404, **_ids(api, "ANY"), patchOperations=[])
    assert err["Message"] == "Invalid Method identifier specified"


def test_method_responses(gw, api):
    gw.put_method(**_ids(api), authorizationType="NONE")
    put = gw.put_method_response(
        **_ids(api),
        statusCode="200",
        responseParameters={"method.response.header.X-Count": False},
        responseModels={"application/json": "Empty"},
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    expected = {
        "statusCode": "200",
        "responseParameters": {"method.response.header.X-Count": False},
        "responseModels": {"application/json": "Empty"},
    }
    assert {k: v for k, v in put.items() if k != "ResponseMetadata"} == expected
    got = gw.get_method_response(**_ids(api), statusCode="200")
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == expected
    assert gw.get_method(**_ids(api))["methodResponses"] == {"200": expected}

    err = error_of(gw.put_method_response, 409, **_ids(api), statusCode="200")
    assert err == {"Code": "ConflictException", "Message": "Response already exists for this resource"}

    patched = gw.update_method_response(
        **_ids(api),
        statusCode="200",
        patchOperations=[
            {"op": "replace", "path": "/responseParameters/method.response.header.X-Count", "value": "true"},
            {"op": "add", "path": "/responseModels/text~1plain", "value": "Error"},
        ],
    )
    assert patched["responseParameters"] == {"method.response.header.X-Count": True}
    assert patched["responseModels"] == {"application/json": "Empty", "text/plain": "Error"}
    err = error_of(
        gw.update_method_response,
        400,
        **_ids(api),
        statusCode="200",
        patchOperations=[{"op": "replace", "path": "/statusCode", "value": "201"}],
    )
    assert err["Code"] == "BadRequestException" and "Invalid patch path '/statusCode'" in err["Message"]

    for call in (gw.get_method_response, gw.delete_method_response):
        err = error_of(call, 404, **_ids(api), statusCode="404")
        assert err == {"Code": "NotFoundException", "Message": "Invalid Response status code specified"}
    err = error_of(gw.put_method_response, 404, **_ids(api, "POST"), statusCode="200")
    assert err["Message"] == "Invalid Method identifier specified"

    assert gw.delete_method_response(**_ids(api), statusCode="200")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "methodResponses" not in gw.get_method(**_ids(api))
    error_of(gw.get_method_response, 404, **_ids(api), statusCode="200")


def test_integration_defaults_patch_and_delete(gw, api):
    gw.put_method(**_ids(api), authorizationType="NONE")
    err = error_of(gw.get_integration, 404, **_ids(api))
    assert err == {"Code": "NotFoundException", "Message": "Invalid Integration identifier specified"}

    put = gw.put_integration(
        **_ids(api),
        type="HTTP",
        integrationHttpMethod="GET",
        uri="https://example.com/pets",
        requestTemplates={"application/json": '{"a": 1}'},
        requestParameters={"integration.request.header.X-Id": "method.request.header.X-Id"},
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    expected = {
        "type": "HTTP",
        "httpMethod": "GET",
        "uri": "https://example.com/pets",
        "connectionType": "INTERNET",
        "requestTemplates": {"application/json": '{"a": 1}'},
        "requestParameters": {"integration.request.header.X-Id": "method.request.header.X-Id"},
        "passthroughBehavior": "WHEN_NO_MATCH",
        "timeoutInMillis": 29000,
        "cacheNamespace": api["res"],
        "cacheKeyParameters": [],
    }
    assert {k: v for k, v in put.items() if k != "ResponseMetadata"} == expected
    got = gw.get_integration(**_ids(api))
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == expected
    assert gw.get_method(**_ids(api))["methodIntegration"] == expected

    patched = gw.update_integration(
        **_ids(api),
        patchOperations=[
            {"op": "replace", "path": "/uri", "value": "https://example.com/v2/pets"},
            {"op": "replace", "path": "/timeoutInMillis", "value": "5000"},
            {"op": "replace", "path": "/passthroughBehavior", "value": "NEVER"},
            {"op": "add", "path": "/requestTemplates/text~1plain", "value": "hi"},
            {"op": "remove", "path": "/requestTemplates/application~1json"},
            {"op": "add", "path": "/cacheKeyParameters/method.request.header.X-Id"},
        ],
    )
    assert (patched["uri"], patched["timeoutInMillis"]) == ("https://example.com/v2/pets", 5000)
    assert patched["passthroughBehavior"] == "NEVER"
    assert patched["requestTemplates"] == {"text/plain": "hi"}
    assert patched["cacheKeyParameters"] == ["method.request.header.X-Id"]
    assert gw.get_integration(**_ids(api))["uri"] == "https://example.com/v2/pets"
    err = error_of(
        gw.update_integration,
        400,
        **_ids(api),
        patchOperations=[{"op": "replace", "path": "/timeoutInMillis", "value": "10"}],
    )
    assert err == {"Code": "BadRequestException", "Message": "Timeout should be between 50 ms and 29000 ms"}

    # A second PutIntegration replaces the integration.
    mock = gw.put_integration(**_ids(api), type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    assert mock["ResponseMetadata"]["HTTPStatusCode"] == 201
    got = gw.get_integration(**_ids(api))
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        "type": "MOCK",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "passthroughBehavior": "WHEN_NO_MATCH",
        "timeoutInMillis": 29000,
        "cacheNamespace": api["res"],
        "cacheKeyParameters": [],
    }

    assert gw.delete_integration(**_ids(api))["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (gw.get_integration, gw.delete_integration):
        err = error_of(call, 404, **_ids(api))
        assert err["Message"] == "Invalid Integration identifier specified"
    assert "methodIntegration" not in gw.get_method(**_ids(api))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"type": "SOAP"},
            "1 validation error detected: Value 'SOAP' at 'putIntegrationInput.type' failed to satisfy constraint: "
            "Member must satisfy enum value set: [HTTP, AWS, MOCK, HTTP_PROXY, AWS_PROXY]",
        ),
        ({"type": "HTTP", "uri": "https://example.com"}, "Enumeration value for HttpMethod must be non-empty"),
        ({"type": "AWS_PROXY", "uri": LAMBDA_URI}, "Enumeration value for HttpMethod must be non-empty"),
        ({"type": "HTTP_PROXY", "integrationHttpMethod": "GET"}, "Invalid HTTP endpoint specified for URI"),
        (
            {"type": "HTTP", "integrationHttpMethod": "GET", "uri": "example.com/x"},
            "Invalid HTTP endpoint specified for URI",
        ),
        ({"type": "AWS", "integrationHttpMethod": "POST", "uri": "lambda"}, "Invalid ARN specified in the request"),
        (
            {"type": "AWS", "integrationHttpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:sqs:queue"},
            "AWS ARN for integration must contain path or action",
        ),
        ({"type": "MOCK", "timeoutInMillis": 30000}, "Timeout should be between 50 ms and 29000 ms"),
        ({"type": "MOCK", "timeoutInMillis": 0}, "Timeout should be between 50 ms and 29000 ms"),
    ],
)
def test_integration_validation(gw, api, kw, message):
    gw.put_method(**_ids(api), authorizationType="NONE")
    err = error_of(gw.put_integration, 400, **_ids(api), **kw)
    assert err == {"Code": "BadRequestException", "Message": message}
    error_of(gw.get_integration, 404, **_ids(api))


def test_integration_types_accepted(gw, api):
    gw.put_method(**_ids(api), authorizationType="NONE")
    got = gw.put_integration(**_ids(api), type="AWS_PROXY", integrationHttpMethod="POST", uri=LAMBDA_URI)
    assert (got["type"], got["httpMethod"], got["uri"]) == ("AWS_PROXY", "POST", LAMBDA_URI)
    got = gw.put_integration(
        **_ids(api), type="HTTP_PROXY", integrationHttpMethod="ANY", uri="http://${stageVariables.host}/{proxy}"
    )
    assert got["uri"] == "http://${stageVariables.host}/{proxy}"
    err = error_of(gw.put_integration, 404, **_ids(api, "POST"), type="MOCK")
    assert err["Message"] == "Invalid Method identifier specified"


def test_integration_responses(gw, api):
    gw.put_method(**_ids(api), authorizationType="NONE")
    err = error_of(gw.put_integration_response, 404, **_ids(api), statusCode="200")
    assert err == {"Code": "NotFoundException", "Message": "Invalid Integration identifier specified"}
    gw.put_integration(**_ids(api), type="MOCK")
    err = error_of(gw.put_integration_response, 404, **_ids(api), statusCode="200")
    assert err == {"Code": "NotFoundException", "Message": "Invalid Response status code specified"}
    gw.put_method_response(**_ids(api), statusCode="200")
    gw.put_method_response(**_ids(api), statusCode="500")

    put = gw.put_integration_response(
        **_ids(api),
        statusCode="200",
        selectionPattern="",
        responseTemplates={"application/json": '{"ok": true}'},
        responseParameters={"method.response.header.X-Count": "'1'"},
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    expected = {
        "statusCode": "200",
        "selectionPattern": "",
        "responseTemplates": {"application/json": '{"ok": true}'},
        "responseParameters": {"method.response.header.X-Count": "'1'"},
    }
    assert {k: v for k, v in put.items() if k != "ResponseMetadata"} == expected
    got = gw.get_integration_response(**_ids(api), statusCode="200")
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == expected
    gw.put_integration_response(**_ids(api), statusCode="500", selectionPattern="Error.*")
    assert set(gw.get_integration(**_ids(api))["integrationResponses"]) == {"200", "500"}

    # PutIntegrationResponse on an existing status replaces it.
    again = gw.put_integration_response(**_ids(api), statusCode="500", selectionPattern="Fail.*")
    assert {k: v for k, v in again.items() if k != "ResponseMetadata"} == {
        "statusCode": "500",
        "selectionPattern": "Fail.*",
    }

    patched = gw.update_integration_response(
        **_ids(api),
        statusCode="200",
        patchOperations=[
            {"op": "replace", "path": "/selectionPattern", "value": "2\\d{2}"},
            {"op": "add", "path": "/responseTemplates/text~1plain", "value": "ok"},
            {"op": "remove", "path": "/responseParameters/method.response.header.X-Count"},
            {"op": "replace", "path": "/contentHandling", "value": "CONVERT_TO_TEXT"},
        ],
    )
    assert patched["selectionPattern"] == "2\\d{2}" and patched["contentHandling"] == "CONVERT_TO_TEXT"
    assert patched["responseTemplates"] == {"application/json": '{"ok": true}', "text/plain": "ok"}
    assert "responseParameters" not in patched
    stored = gw.get_integration_response(**_ids(api), statusCode="200")
    assert stored["selectionPattern"] == "2\\d{2}"

    for call in (gw.get_integration_response, gw.delete_integration_response):
        err = error_of(call, 404, **_ids(api), statusCode="404")
        assert err == {"Code": "NotFoundException", "Message": "Invalid Response status code specified"}
    assert gw.delete_integration_response(**_ids(api), statusCode="500")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert set(gw.get_integration(**_ids(api))["integrationResponses"]) == {"200"}


def test_get_resources_embeds_methods(gw, api):
    gw.put_method(**_ids(api), authorizationType="NONE")
    gw.put_method_response(**_ids(api), statusCode="200")
    gw.put_integration(**_ids(api), type="AWS_PROXY", integrationHttpMethod="POST", uri=LAMBDA_URI)
    gw.put_integration_response(**_ids(api), statusCode="200")
    gw.put_method(**_ids(api, "POST"), authorizationType="AWS_IAM")

    items = {r["id"]: r for r in gw.get_resources(restApiId=api["id"], embed=["methods"])["items"]}
    assert "resourceMethods" not in items[api["root"]]
    methods = items[api["res"]]["resourceMethods"]
    assert set(methods) == {"GET", "POST"}
    get = methods["GET"]
    assert (get["httpMethod"], get["authorizationType"], get["apiKeyRequired"]) == ("GET", "NONE", False)
    assert get["methodResponses"] == {"200": {"statusCode": "200"}}
    integration = get["methodIntegration"]
    assert (integration["type"], integration["httpMethod"], integration["uri"]) == ("AWS_PROXY", "POST", LAMBDA_URI)
    assert integration["integrationResponses"] == {"200": {"statusCode": "200"}}
    assert integration["cacheNamespace"] == api["res"] and integration["timeoutInMillis"] == 29000
    assert methods["POST"] == {"httpMethod": "POST", "authorizationType": "AWS_IAM", "apiKeyRequired": False}

    # Without embed the methods are only named.
    plain = {r["id"]: r for r in gw.get_resources(restApiId=api["id"])["items"]}
    assert set(plain[api["res"]]["resourceMethods"]) == {"GET", "POST"}

    # Deleting the resource deletes its methods with it.
    gw.delete_resource(restApiId=api["id"], resourceId=api["res"])
    err = error_of(gw.get_method, 404, **_ids(api))
    assert err["Message"] == f"Invalid Resource identifier specified 000000000000:{api['res']}"
