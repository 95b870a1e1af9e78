"""Authorization of HTTP API routes: JWT authorizers (a token signed by an issuer on loopback, its JWKS fetched and
cached; issuer, audience/client_id, expiry and scopes checked; claims passed to the integration), REQUEST Lambda
authorizers (simple responses and IAM policies, payload formats 2.0 and 1.0, identity sources, the result cache
on the test clock) and AWS_IAM."""

from __future__ import annotations

import base64
import json

import pytest

from tests.apigatewayv2.execute_helpers import (
    Issuer,
    broker_now,
    function,
    invoke,
    lambda_integration,
    lambda_uri,
    route,
)


@pytest.fixture
def issuer():
    server = Issuer()
    yield server
    server.stop()


@pytest.fixture
def echo(broker) -> str:
    return function(broker, "v2-auth-echo")


def _jwt_api(gw2, echo: str, issuer: Issuer) -> str:
    api_id = gw2.create_api(Name="jwt", ProtocolType="HTTP")["ApiId"]
    authorizer = gw2.create_authorizer(
        ApiId=api_id, AuthorizerType="JWT", Name="jwt", IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": issuer.url, "Audience": ["my-app"]},
    )["AuthorizerId"]  # fmt: skip
    integration = lambda_integration(gw2, api_id, echo)
    route(gw2, api_id, "GET /open", integration, AuthorizationType="JWT", AuthorizerId=authorizer)
    route(
        gw2, api_id, "GET /admin", integration, AuthorizationType="JWT", AuthorizerId=authorizer,
        AuthorizationScopes=["admin", "root"],
    )  # fmt: skip
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


def _unsigned(header: dict, claims: dict) -> str:
    def part(doc: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}.c2ln"


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_jwt_allows_valid_tokens_and_passes_claims(broker, gw2, echo, issuer):
    api_id = _jwt_api(gw2, echo, issuer)
    now = broker_now(broker)
    claims = {"sub": "u1", "aud": "my-app", "exp": now + 600, "iat": now, "scope": "read admin", "nick": None}
    token = issuer.token(claims)
    r = invoke(broker, api_id, "/open", headers=_bearer(token))
    assert r.status_code == 200, r.text
    jwt = r.json()["requestContext"]["authorizer"]["jwt"]
    assert jwt["claims"]["sub"] == "u1" and jwt["claims"]["exp"] == str(now + 600)
    assert "nick" not in jwt["claims"]  # a null claim is left out
    assert jwt["scopes"] is None  # a route without AuthorizationScopes gets none, as AWS sends it
    r = invoke(broker, api_id, "/admin", headers=_bearer(token))
    assert r.json()["requestContext"]["authorizer"]["jwt"]["scopes"] == ["read", "admin"]
    # The token without "Bearer ", and client_id standing in for a missing aud, are accepted too.
    other = issuer.token({"sub": "u2", "client_id": "my-app", "exp": now + 600})
    assert invoke(broker, api_id, "/open", headers={"authorization": other}).status_code == 200
    # One scope of the route's is enough; scp (a list) counts as scope.
    assert invoke(broker, api_id, "/admin", headers=_bearer(token)).status_code == 200
    scp = issuer.token({"aud": "my-app", "exp": now + 600, "scp": ["root"]})
    assert invoke(broker, api_id, "/admin", headers=_bearer(scp)).status_code == 200
    assert issuer.fetches == 1  # the issuer's keys are fetched once and kept


def test_jwt_refusals(broker, gw2, echo, issuer):
    from cryptography.hazmat.primitives.asymmetric import rsa

    api_id = _jwt_api(gw2, echo, issuer)
    now = broker_now(broker)
    good = {"sub": "u1", "aud": "my-app", "exp": now + 600, "scope": "read"}
    r = invoke(broker, api_id, "/open")
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    cases = {
        "audience": issuer.token({**good, "aud": "someone-else"}),
        "expired": issuer.token({**good, "exp": now - 10}),
        "issuer": issuer.token({**good, "iss": "http://127.0.0.1:1/other"}),
        "signature": issuer.token(good, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "kid": issuer.token(good, kid="unknown"),
        "garbage": "not.a.jwt",
        # the token's own alg goes into the www-authenticate description: it cannot break the header
        "alg": _unsigned({"alg": 'x"\r\nx-injected: 1', "typ": "JWT"}, good),
    }
    for why, token in cases.items():
        r = invoke(broker, api_id, "/open", headers=_bearer(token))
        assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"}), why
        assert r.headers["www-authenticate"].startswith('Bearer scope="" error="invalid_token"'), why
        assert "x-injected" not in r.headers, why
    r = invoke(broker, api_id, "/open", headers=_bearer(cases["audience"]))
    assert 'error_description="the token does not have a valid audience"' in r.headers["www-authenticate"]
    # A valid token without one of the route's scopes: 403.
    r = invoke(broker, api_id, "/admin", headers=_bearer(issuer.token(good)))
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    # Expiry follows the broker's clock.
    short = issuer.token({**good, "exp": now + 120})
    assert invoke(broker, api_id, "/open", headers=_bearer(short)).status_code == 200
    broker.advance(180)
    assert invoke(broker, api_id, "/open", headers=_bearer(short)).status_code == 401


AUTHORIZER = """
import json, os

def handler(event, context):
    with open(os.environ["LOG"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    headers = event.get("headers") or {}
    token = headers.get("x-token") or headers.get("X-Token")
    if token == "explode":
        raise RuntimeError("authorizer failed")
    if event.get("version") == "2.0" and os.environ.get("SIMPLE"):
        return {"isAuthorized": token == "good", "context": {"user": "alice", "n": 1}}
    arn = event.get("routeArn") or event.get("methodArn")
    base = "/".join(arn.split("/")[:2])  # arn:...:<api>/<stage>: allow GET under it, deny DELETE
    effect = "Allow" if token == "good" else "Deny"
    return {"principalId": "alice", "context": {"user": "alice"}, "policyDocument": {"Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": base + "/GET/*"},
                          {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": base + "/DELETE/*"}]}}
"""


def _authorizer_function(broker, name: str, log_path, simple: bool) -> str:
    lam = broker.client("lambda", read_timeout=60)
    from tests.lambda_.helpers import create

    env = {"LOG": str(log_path), **({"SIMPLE": "1"} if simple else {})}
    return create(lam, name, source=AUTHORIZER, Environment={"Variables": env})["FunctionArn"]


def _calls(log_path) -> list[dict]:
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


def _lambda_api(gw2, echo: str, authorizer_arn: str, version: str, simple: bool, ttl: int) -> str:
    api_id = gw2.create_api(Name="custom", ProtocolType="HTTP")["ApiId"]
    authorizer = gw2.create_authorizer(
        ApiId=api_id, AuthorizerType="REQUEST", Name="lam", IdentitySource=["$request.header.x-token"],
        AuthorizerUri=lambda_uri(authorizer_arn), AuthorizerPayloadFormatVersion=version,
        EnableSimpleResponses=simple, AuthorizerResultTtlInSeconds=ttl,
    )["AuthorizerId"]  # fmt: skip
    integration = lambda_integration(gw2, api_id, echo)
    for key in ("GET /items/{id}", "DELETE /items/{id}"):
        route(gw2, api_id, key, integration, AuthorizationType="CUSTOM", AuthorizerId=authorizer)
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


def test_lambda_authorizer_simple_responses_and_cache(broker, gw2, echo, tmp_path):
    log = tmp_path / "simple.log"
    api_id = _lambda_api(gw2, echo, _authorizer_function(broker, "v2-simple", log, True), "2.0", True, 300)
    r = invoke(broker, api_id, "/items/1")  # no identity source: 401, the authorizer is not called
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"}) and _calls(log) == []
    r = invoke(broker, api_id, "/items/1?q=1", headers={"x-token": "good"})
    assert r.status_code == 200, r.text
    assert r.json()["requestContext"]["authorizer"] == {"lambda": {"user": "alice", "n": 1}}
    (event,) = _calls(log)
    assert (event["version"], event["type"], event["identitySource"]) == ("2.0", "REQUEST", ["good"])
    assert event["routeArn"] == f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/$default/GET/items/1"
    assert event["routeKey"] == "GET /items/{id}" and event["pathParameters"] == {"id": "1"}
    assert event["rawPath"] == "/items/1" and event["queryStringParameters"] == {"q": "1"}
    # Cached by identity source value (for every route of the authorizer) until the TTL passes on the broker clock.
    assert invoke(broker, api_id, "/items/2", method="DELETE", headers={"x-token": "good"}).status_code == 200
    assert len(_calls(log)) == 1
    r = invoke(broker, api_id, "/items/1", headers={"x-token": "bad"})
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"}) and len(_calls(log)) == 2
    broker.advance(301)
    assert invoke(broker, api_id, "/items/1", headers={"x-token": "good"}).status_code == 200
    assert len(_calls(log)) == 3
    # ResetAuthorizersCache empties the stage's results in every worker: the next request calls the authorizer.
    gw2.reset_authorizers_cache(ApiId=api_id, StageName="$default")
    assert invoke(broker, api_id, "/items/1", headers={"x-token": "good"}).status_code == 200
    assert len(_calls(log)) == 4
    r = invoke(broker, api_id, "/items/1", headers={"x-token": "explode"})
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})


def test_lambda_authorizer_policies_payload_1(broker, gw2, echo, tmp_path):
    log = tmp_path / "policy.log"
    api_id = _lambda_api(gw2, echo, _authorizer_function(broker, "v2-policy", log, False), "1.0", False, 0)
    r = invoke(broker, api_id, "/items/5", headers={"x-token": "good"})
    assert r.status_code == 200, r.text
    assert r.json()["requestContext"]["authorizer"] == {"principalId": "alice", "lambda": {"user": "alice"}}
    (event,) = _calls(log)
    assert (event["version"], event["type"], event["identitySource"], event["authorizationToken"]) == (
        "1.0", "REQUEST", "good", "good",
    )  # fmt: skip
    assert event["methodArn"] == f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/$default/GET/items/5"
    assert event["resource"] == "/items/{id}" and event["httpMethod"] == "GET" and "body" not in event
    # The policy denies DELETE (and everything for a bad token); no cache: each request calls the authorizer.
    assert invoke(broker, api_id, "/items/5", method="DELETE", headers={"x-token": "good"}).status_code == 403
    assert invoke(broker, api_id, "/items/5", headers={"x-token": "bad"}).status_code == 403
    assert len(_calls(log)) == 3


def test_aws_iam_routes_need_a_signature(broker, gw2, echo):
    api_id = gw2.create_api(Name="iam", ProtocolType="HTTP")["ApiId"]
    route(gw2, api_id, "GET /private", lambda_integration(gw2, api_id, echo), AuthorizationType="AWS_IAM")
    gw2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    r = invoke(broker, api_id, "/private")
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    credential = "Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request"
    signed = f"AWS4-HMAC-SHA256 {credential}, SignedHeaders=host, Signature=00"
    assert invoke(broker, api_id, "/private", headers={"authorization": signed}).status_code == 200
