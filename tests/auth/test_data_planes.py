"""Data planes in sigv4 mode: a Lambda function URL with AuthType AWS_IAM and an API Gateway method with AWS_IAM
authorization verify the signature itself (not only its form), and hand the verified signer to the integration."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.auth.helpers import ADMIN_ACCOUNT, ADMIN_KEY, OTHER_ACCOUNT, OTHER_KEY, OTHER_SECRET, signed
from tests.lambda_.helpers import create

pytestmark = pytest.mark.one_backend

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details."
)
ECHO_EVENT = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}
"""


def test_api_gateway_aws_iam_methods_verify_the_signature(signed_broker):
    gw = signed_broker.client("apigateway")
    rest = gw.create_rest_api(name="iam")
    ids = {"restApiId": rest["id"], "resourceId": rest["rootResourceId"], "httpMethod": "GET"}
    gw.put_method(**ids, authorizationType="AWS_IAM")
    gw.put_integration(**ids, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    gw.put_method_response(**ids, statusCode="200")
    answer = '{"arn": "$context.identity.userArn", "account": "$context.identity.accountId"}'
    gw.put_integration_response(**ids, statusCode="200", responseTemplates={"application/json": answer})
    gw.create_deployment(restApiId=rest["id"], stageName="prod")
    url = f"{signed_broker.url}/_aws/execute-api/{rest['id']}/prod/"

    r = signed("GET", url, service="execute-api")
    assert r.status_code == 200, r.text
    assert r.json() == {"arn": f"arn:aws:iam::{ADMIN_ACCOUNT}:user/broker", "account": ADMIN_ACCOUNT}
    r = signed("GET", url, service="execute-api", key=OTHER_KEY, secret=OTHER_SECRET)
    assert r.json() == {"arn": f"arn:aws:iam::{OTHER_ACCOUNT}:user/other-admin", "account": OTHER_ACCOUNT}

    r = signed("GET", url, service="execute-api", secret="wrong")
    assert (r.status_code, r.headers["x-amzn-errortype"], r.json()) == (
        403,
        "InvalidSignatureException",
        {"message": MISMATCH},
    )
    r = signed("GET", url, service="execute-api", key="AKIDNOBODYKNOWS1")
    assert (r.status_code, r.headers["x-amzn-errortype"], r.json()) == (
        403,
        "UnrecognizedClientException",
        {"message": "The security token included in the request is invalid."},
    )
    r = httpx.get(url)
    assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})


def test_lambda_function_urls_with_aws_iam_verify_the_signature(signed_broker):
    lam = signed_broker.client("lambda")
    create(lam, "guarded", source=ECHO_EVENT)
    url_id = lam.create_function_url_config(FunctionName="guarded", AuthType="AWS_IAM")["FunctionUrl"]
    url_id = url_id.split("//", 1)[1].split(".", 1)[0]
    url = f"{signed_broker.url}/_broker/lambda-url/{url_id}/"

    r = signed("GET", url, service="lambda")
    assert r.status_code == 200, r.text
    iam = json.loads(r.text)["iam"]
    assert (iam["accessKey"], iam["accountId"], iam["userArn"]) == (
        ADMIN_KEY,
        ADMIN_ACCOUNT,
        f"arn:aws:iam::{ADMIN_ACCOUNT}:user/broker",
    )
    for bad in ({"secret": "wrong"}, {"key": "AKIDNOBODYKNOWS1"}):
        r = signed("GET", url, service="lambda", **bad)
        assert (r.status_code, r.json()) == (403, {"Message": "Forbidden"})
