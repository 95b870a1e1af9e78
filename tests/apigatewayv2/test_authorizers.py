"""Authorizers: JWT (JwtConfiguration and one identity source required) and REQUEST (AuthorizerUri, and for HTTP
APIs AuthorizerPayloadFormatVersion, required); updates, deletion and ResetAuthorizersCache."""

from __future__ import annotations

from tests.apigatewayv2.helpers import AUTHORIZER_URI, JWT, error_of, http_api, jwt_authorizer, websocket_api


def test_jwt_authorizer(gw2):
    api_id = http_api(gw2)
    out = gw2.create_authorizer(
        ApiId=api_id,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration=JWT,
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert out["AuthorizerType"] == "JWT" and out["JwtConfiguration"] == JWT
    assert out["IdentitySource"] == ["$request.header.Authorization"]
    assert "AuthorizerResultTtlInSeconds" not in out and "AuthorizerUri" not in out
    got = gw2.get_authorizer(ApiId=api_id, AuthorizerId=out["AuthorizerId"])
    assert got["Name"] == "jwt" and got["JwtConfiguration"] == JWT
    base = {"ApiId": api_id, "Name": "x", "AuthorizerType": "JWT"}
    for bad in (
        {"IdentitySource": ["$request.header.Authorization"]},  # no JwtConfiguration
        {"IdentitySource": [], "JwtConfiguration": JWT},
        {"IdentitySource": ["$request.header.A", "$request.header.B"], "JwtConfiguration": JWT},
        {"IdentitySource": ["Authorization"], "JwtConfiguration": JWT},
        {"IdentitySource": ["$request.header.Authorization"], "JwtConfiguration": {"Audience": ["a"]}},
        {"IdentitySource": ["$request.header.Authorization"], "JwtConfiguration": JWT, "AuthorizerUri": AUTHORIZER_URI},
    ):
        assert error_of(gw2.create_authorizer, 400, **base, **bad)["Code"] == "BadRequestException", bad
    ws = websocket_api(gw2, selection="$request.body.a")
    e = error_of(
        gw2.create_authorizer, 400, **{**base, "ApiId": ws}, IdentitySource=["$request.header.A"], JwtConfiguration=JWT
    )
    assert e["Code"] == "BadRequestException"


def test_request_authorizer(gw2, broker):
    api_id = http_api(gw2)
    out = gw2.create_authorizer(
        ApiId=api_id,
        Name="lambda",
        AuthorizerType="REQUEST",
        AuthorizerUri=AUTHORIZER_URI,
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        IdentitySource=["$request.header.Authorization", "$request.querystring.token"],
        AuthorizerResultTtlInSeconds=300,
    )
    assert out["AuthorizerType"] == "REQUEST" and out["AuthorizerUri"] == AUTHORIZER_URI
    assert out["EnableSimpleResponses"] is True and out["AuthorizerResultTtlInSeconds"] == 300
    plain = gw2.create_authorizer(
        ApiId=api_id,
        Name="plain",
        AuthorizerType="REQUEST",
        AuthorizerUri=AUTHORIZER_URI,
        AuthorizerPayloadFormatVersion="1.0",
        IdentitySource=[],
    )
    assert plain["AuthorizerResultTtlInSeconds"] == 0 and plain["EnableSimpleResponses"] is False
    base = {"ApiId": api_id, "Name": "x", "AuthorizerType": "REQUEST"}
    for bad in (
        {"IdentitySource": [], "AuthorizerPayloadFormatVersion": "2.0"},  # no AuthorizerUri
        {"IdentitySource": [], "AuthorizerUri": AUTHORIZER_URI},  # no payload format version on an HTTP API
        {"IdentitySource": [], "AuthorizerUri": AUTHORIZER_URI, "AuthorizerPayloadFormatVersion": "3.0"},
        {"IdentitySource": [], "AuthorizerUri": AUTHORIZER_URI, "AuthorizerPayloadFormatVersion": "1.0",
         "EnableSimpleResponses": True},
        {"IdentitySource": [], "AuthorizerUri": AUTHORIZER_URI, "AuthorizerPayloadFormatVersion": "2.0",
         "AuthorizerResultTtlInSeconds": 60},  # caching needs identity sources
        {"IdentitySource": ["header.x"], "AuthorizerUri": AUTHORIZER_URI, "AuthorizerPayloadFormatVersion": "2.0"},
    ):  # fmt: skip
        assert error_of(gw2.create_authorizer, 400, **base, **bad)["Code"] == "BadRequestException", bad
    raw = broker.client("apigatewayv2", parameter_validation=False)
    e = error_of(raw.create_authorizer, 400, **base, IdentitySource=[], AuthorizerResultTtlInSeconds=4000)
    assert e["Code"] == "BadRequestException"  # the model's bound
    assert len(gw2.get_authorizers(ApiId=api_id)["Items"]) == 2


def test_update_delete_and_reset_cache(gw2):
    api_id = http_api(gw2)
    authorizer_id = jwt_authorizer(gw2, api_id)
    out = gw2.update_authorizer(
        ApiId=api_id,
        AuthorizerId=authorizer_id,
        Name="renamed",
        JwtConfiguration={"Issuer": "https://other", "Audience": []},
    )
    assert out["Name"] == "renamed" and out["JwtConfiguration"]["Issuer"] == "https://other"
    e = error_of(gw2.update_authorizer, 400, ApiId=api_id, AuthorizerId=authorizer_id, IdentitySource=[])
    assert e["Code"] == "BadRequestException"
    gw2.create_stage(ApiId=api_id, StageName="dev")
    gw2.reset_authorizers_cache(ApiId=api_id, StageName="dev")
    e = error_of(gw2.reset_authorizers_cache, 404, ApiId=api_id, StageName="nope")
    assert e == {"Code": "NotFoundException", "Message": "Invalid stage identifier specified"}
    gw2.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    e = error_of(gw2.get_authorizer, 404, ApiId=api_id, AuthorizerId=authorizer_id)
    assert e == {
        "Code": "NotFoundException",
        "Message": f"Invalid Authorizer identifier specified {authorizer_id}",
    }
