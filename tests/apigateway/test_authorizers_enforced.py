"""Authorizers on deployed APIs: TOKEN and REQUEST Lambda authorizers (identity sources, the validation expression,
the policy evaluated against the method ARN with an explicit deny winning, "Unauthorized", failures), their context
in a Lambda proxy event and in mapping templates, the result cache (hits, expiry on the broker clock, flush, a cached
policy applied to another method), apiKeySource AUTHORIZER, AWS_IAM and Cognito methods, TestInvokeAuthorizer."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.apigateway.helpers import error_of, mock_method
from tests.lambda_.helpers import create

# The authorizer answers by its token (TOKEN) or X-Token header (REQUEST); `count` is its invocation count in this
# warm environment, so a cached answer shows the count of the invocation that produced it.
AUTHORIZER = """
COUNT = 0

def handler(event, context):
    global COUNT
    COUNT += 1
    if event["type"] == "TOKEN":
        token = event["authorizationToken"]
    else:
        token = {k.lower(): v for k, v in event["headers"].items()}["x-token"]
    arn = event["methodArn"]
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "boom":
        raise ValueError("boom")
    statements = {
        "allow": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}],
        "allow-all": [{"Action": "execute-api:*", "Effect": "Allow", "Resource": "arn:aws:execute-api:*:*:*/*/*/*"}],
        "deny": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": arn}],
        "mixed": [
            {"Action": "*", "Effect": "Allow", "Resource": "*"},
            {"Action": ["execute-api:Invoke"], "Effect": "Deny", "Resource": [arn.rsplit("/", 1)[0] + "/?*"]},
        ],
        "elsewhere": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn + "/elsewhere"}],
        "key": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}],
        "nested": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}],
    }[token]
    answer = {
        "principalId": "user-" + token,
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        "context": {"count": COUNT, "user": "alice", "admin": True},
    }
    if event["type"] == "REQUEST":
        answer["context"].update(
            kind=event["type"], methodArn=arn, resource=event["resource"], path=event["path"],
            tenant=(event["queryStringParameters"] or {}).get("tenant"),
            petId=(event["pathParameters"] or {}).get("id"),
            stage=event["requestContext"]["stage"], hasBody="body" in event,
        )
    if token == "nested":
        answer["context"]["deep"] = {"not": "allowed"}
    if token == "key":
        answer["usageIdentifierKey"] = "k" * 30
    return answer
"""

ECHO = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""

MOCK_ANSWER = '{"principal": "$context.authorizer.principalId", "user": "$context.authorizer.user", "count": "$context.authorizer.count"}'  # noqa: E501


def _uri(arn: str) -> str:
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"


@pytest.fixture
def functions(broker) -> tuple[str, str]:
    lam = broker.client("lambda", read_timeout=60)
    auth = create(lam, "gw-authorizer", source=AUTHORIZER)["FunctionArn"]
    echo = create(lam, "gw-echo", source=ECHO)["FunctionArn"]
    return _uri(auth), _uri(echo)


def _build(gw, functions, authorizer: dict, api_kwargs: dict | None = None, key_required: bool = False) -> dict:
    """An API with GET /pets/{id} (Lambda proxy echoing its event) and GET / (MOCK answering $context.authorizer),
    both behind one authorizer, deployed to `prod`."""
    auth_uri, echo_uri = functions
    rest = gw.create_rest_api(name="guarded", **(api_kwargs or {}))
    api_id, root = rest["id"], rest["rootResourceId"]
    created = gw.create_authorizer(restApiId=api_id, name="auth", authorizerUri=auth_uri, **authorizer)
    pets = gw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")
    pet = gw.create_resource(restApiId=api_id, parentId=pets["id"], pathPart="{id}")
    guard = {"authorizationType": "CUSTOM", "authorizerId": created["id"], "apiKeyRequired": key_required}
    gw.put_method(restApiId=api_id, resourceId=pet["id"], httpMethod="GET", **guard)
    gw.put_integration(
        restApiId=api_id, resourceId=pet["id"], httpMethod="GET", type="AWS_PROXY", integrationHttpMethod="POST",
        uri=echo_uri,
    )  # fmt: skip
    mock_method(gw, api_id, root, answer=MOCK_ANSWER, **guard)
    gw.create_deployment(restApiId=api_id, stageName="prod", variables={"colour": "blue"})
    return {"id": api_id, "authorizer": created["id"], "root": root, "pet": pet["id"]}


def _get(broker, api: dict, path: str, headers: dict | None = None) -> httpx.Response:
    return httpx.get(f"{broker.url}/_aws/execute-api/{api['id']}/prod{path}", headers=headers or {}, timeout=60)


def _authorizer_seen(r: httpx.Response) -> dict:
    """requestContext.authorizer of the event the echo integration got."""
    assert r.status_code == 200, r.text
    return r.json()["requestContext"]["authorizer"]


def test_token_authorizer_allows_denies_and_refuses(broker, gw, functions):
    api = _build(
        gw, functions,
        {"type": "TOKEN", "identitySource": "method.request.header.X-Auth", "authorizerResultTtlInSeconds": 0,
         "identityValidationExpression": "[a-z-]+"},
    )  # fmt: skip
    seen = _authorizer_seen(_get(broker, api, "/pets/7", {"X-Auth": "allow"}))
    assert seen["principalId"] == "user-allow"
    assert (seen["user"], seen["admin"], seen["count"]) == ("alice", "true", "1")  # context values as strings
    assert isinstance(seen["integrationLatency"], int)

    # A missing or empty token and one that fails the validation expression are refused without invoking.
    for headers in ({}, {"X-Auth": ""}, {"X-Auth": "Bad Token!"}):
        r = _get(broker, api, "/pets/7", headers)
        assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"}), headers
        assert r.headers["x-amzn-errortype"] == "UnauthorizedException"
    assert _authorizer_seen(_get(broker, api, "/pets/7", {"X-Auth": "allow"}))["count"] == "2"

    r = _get(broker, api, "/", {"X-Auth": "allow"})  # the MOCK integration's template sees $context.authorizer
    assert (r.status_code, r.json()) == (200, {"principal": "user-allow", "user": "alice", "count": "3"})

    explicit = {"message": "User is not authorized to access this resource with an explicit deny"}
    for token in ("deny", "mixed"):
        r = _get(broker, api, "/pets/7", {"X-Auth": token})
        assert (r.status_code, r.json()) == (403, explicit), token
        assert r.headers["x-amzn-errortype"] == "AccessDeniedException"
    r = _get(broker, api, "/pets/7", {"X-Auth": "elsewhere"})  # no Allow covers the method: implicit deny
    assert (r.status_code, r.json()) == (403, {"message": "User is not authorized to access this resource"})

    r = _get(broker, api, "/pets/7", {"X-Auth": "unauthorized"})
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    for token in ("boom", "nested"):  # a function error, a context value that is an object
        r = _get(broker, api, "/pets/7", {"X-Auth": token})
        assert (r.status_code, r.json()) == (500, {"message": None}), token
        assert r.headers["x-amzn-errortype"] == "AuthorizerConfigurationException"


def test_request_authorizer_identity_sources_and_event(broker, gw, functions):
    api = _build(
        gw, functions,
        {"type": "REQUEST", "identitySource": "method.request.header.X-Token, method.request.querystring.tenant",
         "authorizerResultTtlInSeconds": 0},
    )  # fmt: skip
    assert _get(broker, api, "/pets/7?tenant=acme").status_code == 401
    assert _get(broker, api, "/pets/7", {"X-Token": "allow"}).status_code == 401
    r = _get(broker, api, "/pets/7?tenant=acme", {"X-Token": "allow"})
    seen = _authorizer_seen(r)
    arn = f"arn:aws:execute-api:us-east-1:000000000000:{api['id']}/prod/GET/pets/7"
    assert seen == {
        "count": "1", "user": "alice", "admin": "true", "kind": "REQUEST", "methodArn": arn,
        "resource": "/pets/{id}", "path": "/pets/7", "tenant": "acme", "petId": "7", "stage": "prod",
        "hasBody": "false", "principalId": "user-allow", "integrationLatency": seen["integrationLatency"],
    }  # fmt: skip
    # The policy is evaluated against each request's method ARN: an explicit deny of /pets/* covers /pets/8 only.
    r = _get(broker, api, "/pets/8?tenant=acme", {"X-Token": "mixed"})
    assert r.status_code == 403
    assert _get(broker, api, "/?tenant=acme", {"X-Token": "mixed"}).status_code == 200


def test_cached_results_expiry_flush_and_other_methods(broker, gw, functions):
    api = _build(gw, functions, {"type": "TOKEN", "authorizerResultTtlInSeconds": 300})
    auth = {"Authorization": "allow"}
    assert _authorizer_seen(_get(broker, api, "/pets/7", auth))["count"] == "1"
    assert _authorizer_seen(_get(broker, api, "/pets/7", auth))["count"] == "1"  # from the cache
    # The cached policy allows GET /pets/7 only: other methods are denied from the cache, without invoking.
    r = _get(broker, api, "/pets/8", auth)
    assert (r.status_code, r.json()) == (403, {"message": "User is not authorized to access this resource"})
    assert _get(broker, api, "/", auth).status_code == 403
    assert _authorizer_seen(_get(broker, api, "/pets/7", {"Authorization": "allow-all"}))["count"] == "2"
    assert _get(broker, api, "/", {"Authorization": "allow-all"}).json()["count"] == "2"

    broker.advance(250)
    assert _authorizer_seen(_get(broker, api, "/pets/7", auth))["count"] == "1"
    broker.advance(51)  # past the TTL
    assert _authorizer_seen(_get(broker, api, "/pets/7", auth))["count"] == "3"
    assert _authorizer_seen(_get(broker, api, "/pets/7", auth))["count"] == "3"

    answer = gw.flush_stage_authorizers_cache(restApiId=api["id"], stageName="prod")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert _authorizer_seen(_get(broker, api, "/pets/7", auth))["count"] == "4"
    assert _get(broker, api, "/", {"Authorization": "allow-all"}).json()["count"] == "5"

    error = error_of(gw.flush_stage_authorizers_cache, 404, restApiId=api["id"], stageName="nope")
    assert error == {"Code": "NotFoundException", "Message": "Invalid stage identifier specified"}


def test_api_key_from_the_authorizer(broker, gw, functions):
    api = _build(
        gw, functions, {"type": "TOKEN", "authorizerResultTtlInSeconds": 0}, {"apiKeySource": "AUTHORIZER"},
        key_required=True,
    )  # fmt: skip
    key = gw.create_api_key(name="client", enabled=True, value="k" * 30)
    plan = gw.create_usage_plan(name="plan", apiStages=[{"apiId": api["id"], "stage": "prod"}])
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    # A request's x-api-key counts for nothing: the key is the authorizer's usageIdentifierKey.
    r = _get(broker, api, "/pets/7", {"Authorization": "allow", "x-api-key": "k" * 30})
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    r = _get(broker, api, "/pets/7", {"Authorization": "key"})
    assert r.status_code == 200, r.text
    assert r.json()["requestContext"]["identity"]["apiKeyId"] == key["id"]


def test_iam_and_cognito_methods(broker, gw, functions):
    _, echo_uri = functions
    rest = gw.create_rest_api(name="iam")
    api_id, root = rest["id"], rest["rootResourceId"]
    gw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="AWS_IAM")
    gw.put_integration(
        restApiId=api_id, resourceId=root, httpMethod="GET", type="AWS_PROXY", integrationHttpMethod="POST",
        uri=echo_uri,
    )  # fmt: skip
    pool = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_abc123"
    cognito = gw.create_authorizer(restApiId=api_id, name="pool", type="COGNITO_USER_POOLS", providerARNs=[pool])
    users = gw.create_resource(restApiId=api_id, parentId=root, pathPart="users")
    gw.put_method(
        restApiId=api_id, resourceId=users["id"], httpMethod="GET", authorizationType="COGNITO_USER_POOLS",
        authorizerId=cognito["id"],
    )  # fmt: skip
    gw.put_integration(
        restApiId=api_id, resourceId=users["id"], httpMethod="GET", type="AWS_PROXY", integrationHttpMethod="POST",
        uri=echo_uri,
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod")
    url = f"{broker.url}/_aws/execute-api/{api_id}/prod/"

    r = httpx.get(url, timeout=60)
    assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})
    r = httpx.get(url, headers={"Authorization": "Bearer abc"}, timeout=60)
    digest = base64.b64encode(hashlib.sha256(b"Bearer abc").digest()).decode()
    assert (r.status_code, r.headers["x-amzn-errortype"], r.json()["message"]) == (
        403, "IncompleteSignatureException",
        f"Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with "
        f"Base64): '{digest}'.",
    )  # fmt: skip

    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials("000000000000", "secret"), "execute-api", "us-east-1").add_auth(request)
    r = httpx.get(url, headers=dict(request.headers), timeout=60)
    assert r.status_code == 200, r.text
    identity = r.json()["requestContext"]["identity"]
    assert (identity["accessKey"], identity["accountId"]) == ("000000000000", "000000000000")
    assert identity["userArn"].startswith("arn:aws:iam::000000000000:user/")
    assert identity["caller"] == identity["user"] and identity["user"].startswith("AIDA")

    r = httpx.get(url + "users", timeout=60)
    assert r.status_code == 500
    assert r.json() == {"message": "Cognito user pool authorizers are not supported by this broker"}


def test_invoke_authorizer(broker, gw, functions):
    auth_uri, _ = functions
    api_id = gw.create_rest_api(name="tested")["id"]
    token = gw.create_authorizer(restApiId=api_id, name="tok", type="TOKEN", authorizerUri=auth_uri)["id"]
    answer = gw.test_invoke_authorizer(restApiId=api_id, authorizerId=token, headers={"Authorization": "allow"})
    assert (answer["clientStatus"], answer["principalId"]) == (200, "user-allow")
    policy = json.loads(answer["policy"])
    assert policy["Statement"][0]["Effect"] == "Allow"
    assert policy["Statement"][0]["Resource"].startswith(f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/")
    assert isinstance(answer["latency"], int) and "Authorizer result body before parsing" in answer["log"]

    assert gw.test_invoke_authorizer(restApiId=api_id, authorizerId=token)["clientStatus"] == 401
    multi = gw.test_invoke_authorizer(
        restApiId=api_id, authorizerId=token, multiValueHeaders={"Authorization": ["boom"]}
    )
    assert multi["clientStatus"] == 500 and "principalId" not in multi

    request = gw.create_authorizer(
        restApiId=api_id, name="req", type="REQUEST", authorizerUri=auth_uri,
        identitySource="method.request.header.X-Token, stageVariables.colour, context.tag",
    )["id"]  # fmt: skip
    ask = {
        "restApiId": api_id,
        "authorizerId": request,
        "headers": {"X-Token": "allow"},
        "stageVariables": {"colour": "b"},
    }
    assert gw.test_invoke_authorizer(**ask, pathWithQueryString="/pets?tenant=t1")["clientStatus"] == 401  # no tag
    answer = gw.test_invoke_authorizer(**ask, pathWithQueryString="/pets?tenant=t1", additionalContext={"tag": "x"})
    assert (answer["clientStatus"], answer["principalId"]) == (200, "user-allow")
    assert '"tenant": "t1"' in answer["log"] and '"colour": "b"' in answer["log"]

    error = error_of(gw.test_invoke_authorizer, 404, restApiId=api_id, authorizerId="nope00")
    assert error == {"Code": "NotFoundException", "Message": "Invalid Authorizer identifier specified"}


def test_flush_reaches_every_worker(server_factory):
    """Each worker process caches on its own; a flush answered by one worker empties the stage in all of them."""
    server = server_factory("sqlite", workers=2).start()
    gw = server.client("apigateway")
    lam = server.client("lambda", read_timeout=60)
    functions = (
        _uri(create(lam, "gw-authorizer", source=AUTHORIZER)["FunctionArn"]),
        _uri(create(lam, "gw-echo", source=ECHO)["FunctionArn"]),
    )
    api = _build(gw, functions, {"type": "TOKEN", "authorizerResultTtlInSeconds": 300})
    auth = {"Authorization": "allow"}
    before = {_authorizer_seen(_get(server, api, "/pets/7", auth))["count"] for _ in range(16)}
    assert len(before) <= 2  # at most one invocation per worker: the rest came from the caches
    gw.flush_stage_authorizers_cache(restApiId=api["id"], stageName="prod")
    after = [int(_authorizer_seen(_get(server, api, "/pets/7", auth))["count"]) for _ in range(16)]
    assert min(after) > max(int(c) for c in before)
