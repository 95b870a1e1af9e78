"""Data planes in sigv4 mode: a Lambda function URL with AuthType AWS_IAM, an API Gateway method with AWS_IAM
authorization and an HTTP API route with AWS_IAM verify the signature itself (not only its form), hand the verified
signer to the integration, and let a caller of another account through only when a resource policy grants it (the
function's; the REST API's, which also refuses any caller it explicitly denies; HTTP APIs have none). A REST API's
policy applies to unsigned methods too."""

from __future__ import annotations

import json

import httpx

from tests.auth.helpers import ADMIN_ACCOUNT, ADMIN_KEY, OTHER_ACCOUNT, OTHER_KEY, OTHER_SECRET, signed
from tests.lambda_.helpers import create
from tests.sts.helpers import trust

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details."
)
ADMIN_USER = f"arn:aws:iam::{ADMIN_ACCOUNT}:user/broker"
OTHER_USER = f"arn:aws:iam::{OTHER_ACCOUNT}:user/other-admin"
MASKED = "********" + ADMIN_ACCOUNT[-4:]  # API Gateway shows only the last four digits of the API's account
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
    assert r.json() == {"arn": ADMIN_USER, "account": ADMIN_ACCOUNT}

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


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _statement(effect: str, principal, resource: str, **extra) -> dict:
    return {"Effect": effect, "Principal": principal, "Action": "execute-api:Invoke", "Resource": resource, **extra}


def _mock_method(gw, api_id: str, resource_id: str, verb: str, authorization: str) -> None:
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": verb}
    gw.put_method(**ids, authorizationType=authorization)
    gw.put_integration(**ids, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    gw.put_method_response(**ids, statusCode="200")
    answer = '{"arn": "$context.identity.userArn"}'
    gw.put_integration_response(**ids, statusCode="200", responseTemplates={"application/json": answer})


def _set_policy(gw, api_id: str, policy: str) -> None:
    gw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": policy}])


def _refused(r: httpx.Response, who: str, resource: str, explicit: bool = False) -> None:
    message = f"User: {who} is not authorized to perform: execute-api:Invoke on resource: {resource}"
    assert (r.status_code, r.headers["x-amzn-errortype"], r.json()) == (
        403,
        "AccessDeniedException",
        {"Message": message + (" with an explicit deny" if explicit else "")},
    ), r.text


def test_api_gateway_aws_iam_across_accounts_needs_the_api_policy(signed_broker):
    gw = signed_broker.client("apigateway")
    rest = gw.create_rest_api(name="shared")
    api_id = rest["id"]
    _mock_method(gw, api_id, rest["rootResourceId"], "GET", "AWS_IAM")
    _mock_method(gw, api_id, rest["rootResourceId"], "DELETE", "AWS_IAM")
    gw.create_deployment(restApiId=api_id, stageName="prod")
    url = f"{signed_broker.url}/_aws/execute-api/{api_id}/prod/"
    other = {"service": "execute-api", "key": OTHER_KEY, "secret": OTHER_SECRET}

    # A verified key of another account: no policy grants it anything.
    r = signed("GET", url, **other)
    _refused(r, OTHER_USER, f"arn:aws:execute-api:us-east-1:{MASKED}:{api_id}/prod/GET/")
    # The API's own account needs no grant.
    assert signed("GET", url, service="execute-api").json() == {"arn": ADMIN_USER}

    _set_policy(
        gw,
        api_id,
        _policy(
            _statement("Allow", {"AWS": OTHER_ACCOUNT}, "execute-api:/*"),
            _statement("Deny", {"AWS": ADMIN_USER}, "execute-api:/*/DELETE/*"),
        ),
    )
    # A policy takes effect when the API is deployed.
    assert signed("GET", url, **other).status_code == 403
    gw.create_deployment(restApiId=api_id, stageName="prod")
    r = signed("GET", url, **other)
    assert (r.status_code, r.json()) == (200, {"arn": OTHER_USER})
    assert signed("DELETE", url, **other).status_code == 200
    # An explicit Deny refuses a caller of the API's own account too.
    assert signed("GET", url, service="execute-api").status_code == 200
    r = signed("DELETE", url, service="execute-api")
    _refused(r, ADMIN_USER, f"arn:aws:execute-api:us-east-1:{MASKED}:{api_id}/prod/DELETE/", explicit=True)

    # Another account's role session is named by its role in a policy.
    iam = signed_broker.client("iam", access_key=OTHER_KEY, secret=OTHER_SECRET)
    role = iam.create_role(RoleName="caller", AssumeRolePolicyDocument=trust({"AWS": OTHER_ACCOUNT}))["Role"]
    sts = signed_broker.client("sts", access_key=OTHER_KEY, secret=OTHER_SECRET)
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    session = {"service": "execute-api", "key": creds["AccessKeyId"], "secret": creds["SecretAccessKey"]}
    session["token"] = creds["SessionToken"]
    _set_policy(gw, api_id, _policy(_statement("Allow", {"AWS": role["Arn"]}, "execute-api:/prod/GET/")))
    gw.create_deployment(restApiId=api_id, stageName="prod")
    assert signed("GET", url, **session).json() == {"arn": f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/caller/s1"}
    assert signed("GET", url, **other).status_code == 403
    assert signed("DELETE", url, **session).status_code == 403


def test_api_gateway_policy_applies_to_unsigned_methods(signed_broker):
    gw = signed_broker.client("apigateway")
    allow_loopback = _statement(
        "Allow", "*", "execute-api:/*", Condition={"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}
    )
    blocked = _statement("Deny", {"AWS": "*"}, "execute-api:/*/GET/blocked")
    rest = gw.create_rest_api(name="open", policy=_policy(allow_loopback, blocked))
    api_id = rest["id"]
    _mock_method(gw, api_id, rest["rootResourceId"], "GET", "NONE")
    child = gw.create_resource(restApiId=api_id, parentId=rest["rootResourceId"], pathPart="blocked")
    _mock_method(gw, api_id, child["id"], "GET", "NONE")
    gw.create_deployment(restApiId=api_id, stageName="prod")
    url = f"{signed_broker.url}/_aws/execute-api/{api_id}/prod/"

    assert httpx.get(url).status_code == 200
    r = httpx.get(url + "blocked")
    _refused(r, "anonymous", f"arn:aws:execute-api:us-east-1:{MASKED}:{api_id}/prod/GET/blocked", explicit=True)
    # Only an Allow lets an unsigned request through: a policy that allows other addresses refuses it.
    elsewhere = _statement("Allow", "*", "execute-api:/*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    _set_policy(gw, api_id, _policy(elsewhere))
    gw.create_deployment(restApiId=api_id, stageName="prod")
    _refused(httpx.get(url), "anonymous", f"arn:aws:execute-api:us-east-1:{MASKED}:{api_id}/prod/GET/")
    # A customised ACCESS_DENIED response words the refusal instead.
    gw.put_gateway_response(
        restApiId=api_id,
        responseType="ACCESS_DENIED",
        responseTemplates={"application/json": '{"why": $context.error.messageString}'},
    )
    gw.create_deployment(restApiId=api_id, stageName="prod")
    r = httpx.get(url)
    assert (r.status_code, r.json()["why"].startswith("User: anonymous is not authorized")) == (403, True)


def test_function_urls_across_accounts_need_the_function_policy(signed_broker):
    lam = signed_broker.client("lambda")
    fn = create(lam, "shared", source=ECHO_EVENT)
    url_id = lam.create_function_url_config(FunctionName="shared", AuthType="AWS_IAM")["FunctionUrl"]
    url = f"{signed_broker.url}/_broker/lambda-url/{url_id.split('//', 1)[1].split('.', 1)[0]}/"
    other = {"service": "lambda", "key": OTHER_KEY, "secret": OTHER_SECRET}
    forbidden = (403, {"Message": "Forbidden"})

    r = signed("GET", url, **other)
    assert (r.status_code, r.json()) == forbidden
    # Function URLs made since October 2025 need both grants: InvokeFunctionUrl alone is not enough.
    url_grant = {"FunctionName": "shared", "Principal": OTHER_ACCOUNT}
    lam.add_permission(**url_grant, StatementId="url", Action="lambda:InvokeFunctionUrl", FunctionUrlAuthType="AWS_IAM")
    r = signed("GET", url, **other)
    assert (r.status_code, r.json()) == forbidden
    lam.add_permission(**url_grant, StatementId="via", Action="lambda:InvokeFunction", InvokedViaFunctionUrl=True)
    r = signed("GET", url, **other)
    assert r.status_code == 200, r.text
    assert json.loads(r.text)["iam"]["userArn"] == OTHER_USER

    # An explicit Deny in the function's policy refuses its own account's callers too.
    statements = json.loads(lam.get_policy(FunctionName="shared")["Policy"])["Statement"]
    deny = {"Effect": "Deny", "Principal": {"AWS": ADMIN_USER}, "Action": "lambda:InvokeFunctionUrl"}
    deny["Resource"] = fn["FunctionArn"]
    lam.put_resource_policy(ResourceArn=fn["FunctionArn"], Policy=json.dumps({"Statement": [*statements, deny]}))
    r = signed("GET", url, service="lambda")
    assert (r.status_code, r.json()) == forbidden
    assert signed("GET", url, **other).status_code == 200


def test_http_api_aws_iam_routes_verify_and_stay_in_the_account(signed_broker):
    lam, gw2 = signed_broker.client("lambda"), signed_broker.client("apigatewayv2")
    fn = create(lam, "routed", source=ECHO_EVENT)
    api_id = gw2.create_api(Name="iam", ProtocolType="HTTP")["ApiId"]
    integration = gw2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fn["FunctionArn"], PayloadFormatVersion="2.0"
    )["IntegrationId"]
    gw2.create_route(
        ApiId=api_id, RouteKey="GET /private", Target=f"integrations/{integration}", AuthorizationType="AWS_IAM"
    )
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    url = f"{signed_broker.url}/_aws/execute-api/{api_id}/private"
    forbidden = (403, {"message": "Forbidden"})

    assert signed("GET", url, service="execute-api").status_code == 200
    for bad in ({"secret": "wrong"}, {"key": "AKIDNOBODYKNOWS1"}, {"key": OTHER_KEY, "secret": OTHER_SECRET}):
        r = signed("GET", url, service="execute-api", **bad)
        assert (r.status_code, r.json()) == forbidden, bad
