"""TestInvokeMethod runs a method as configured now (not as deployed), bypassing authorization and API keys:
MOCK with templates, a Lambda proxy with path parameters, query string, headers and stage variables, and the
errors of an unknown API, resource or method."""

from __future__ import annotations

import json

import pytest

from tests.apigateway.helpers import error_of, mock_method
from tests.lambda_.helpers import create

ECHO = """
import json

def handler(event, context):
    return {"statusCode": 201, "headers": {"x-echo": "1"}, "body": json.dumps(event)}
"""


@pytest.fixture
def api(broker):
    gw = broker.client("apigateway")
    api = gw.create_rest_api(name="test-invoke")
    api_id, root = api["id"], api["rootResourceId"]
    answer = '{"q": "$input.params(\'q\')", "v": "$stageVariables.colour"}'
    mock_method(gw, api_id, root, answer=answer, apiKeyRequired=True)
    return gw, api_id, root


def test_mock_method_as_configured(api):
    gw, api_id, root = api
    out = gw.test_invoke_method(
        restApiId=api_id, resourceId=root, httpMethod="GET", pathWithQueryString="/?q=hello",
        stageVariables={"colour": "green"},
    )  # fmt: skip
    assert out["status"] == 200
    assert json.loads(out["body"]) == {"q": "hello", "v": "green"}  # no API key needed here
    assert out["headers"]["content-type"] == "application/json"
    assert "Method completed with status: 200" in out["log"] and out["latency"] >= 0


def test_lambda_proxy_method(broker, api):
    gw, api_id, root = api
    lam = broker.client("lambda", read_timeout=60)
    fn = create(lam, "test-invoke-echo", source=ECHO)["FunctionArn"]
    item = gw.create_resource(restApiId=api_id, parentId=root, pathPart="{id}")
    gw.put_method(restApiId=api_id, resourceId=item["id"], httpMethod="POST", authorizationType="AWS_IAM")
    gw.put_integration(
        restApiId=api_id, resourceId=item["id"], httpMethod="POST", type="AWS_PROXY", integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn}/invocations",
    )  # fmt: skip
    out = gw.test_invoke_method(
        restApiId=api_id, resourceId=item["id"], httpMethod="POST", pathWithQueryString="/42?a=1",
        body='{"k": 1}', headers={"X-Trace": "t1"},
    )  # fmt: skip
    assert (out["status"], out["headers"]["x-echo"], out["multiValueHeaders"]["x-echo"]) == (201, "1", ["1"])
    event = json.loads(out["body"])
    assert (event["resource"], event["pathParameters"], event["queryStringParameters"]) == (
        "/{id}", {"id": "42"}, {"a": "1"},
    )  # fmt: skip
    assert (event["headers"]["x-trace"], event["body"], event["requestContext"]["stage"]) == (
        "t1", '{"k": 1}', "test-invoke-stage",
    )  # fmt: skip


def test_errors(api):
    gw, api_id, root = api
    err = error_of(gw.test_invoke_method, 404, restApiId="nope", resourceId=root, httpMethod="GET")
    assert err["Code"] == "NotFoundException"
    err = error_of(gw.test_invoke_method, 404, restApiId=api_id, resourceId="nope", httpMethod="GET")
    assert err["Message"].startswith("Invalid Resource identifier specified")
    err = error_of(gw.test_invoke_method, 404, restApiId=api_id, resourceId=root, httpMethod="PUT")
    assert err["Message"] == "Invalid Method identifier specified"
