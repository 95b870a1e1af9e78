"""Routes: route keys checked as API Gateway checks them, duplicate and conflicting keys refused with 409, targets
and authorizers that must exist, updates, deletion; WebSocket route responses and request parameters."""

from __future__ import annotations

import pytest

from tests.apigatewayv2.helpers import error_of, http_api, jwt_authorizer, lambda_integration, websocket_api


@pytest.mark.parametrize(
    "key", ["$default", "ANY /path", "GET /items/{id}", "ANY /{proxy+}", "GET /", "POST /a/b/{c}/d", "GET /x/{p+}"]
)
def test_valid_http_route_keys(gw2, key):
    api_id = http_api(gw2)
    route = gw2.create_route(ApiId=api_id, RouteKey=key)
    assert route["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert route["RouteKey"] == key
    assert route["AuthorizationType"] == "NONE" and route["ApiKeyRequired"] is False
    assert len(route["RouteId"]) == 7
    assert "Target" not in route


@pytest.mark.parametrize(
    "key",
    ["GET", "GET items", "FETCH /x", "get /x", "GET /{proxy+}/more", "GET /a//b", "GET /{a}/{a}", "$connect", " "],
)
def test_invalid_http_route_keys(gw2, key):
    api_id = http_api(gw2)
    e = error_of(gw2.create_route, 400, ApiId=api_id, RouteKey=key)
    assert e["Code"] == "BadRequestException"
    assert key in e["Message"]


def test_duplicate_and_conflicting_route_keys(gw2):
    api_id = http_api(gw2)
    gw2.create_route(ApiId=api_id, RouteKey="GET /items/{id}")
    e = error_of(gw2.create_route, 409, ApiId=api_id, RouteKey="GET /items/{id}")
    assert e == {"Code": "ConflictException", "Message": "Route with key GET /items/{id} already exists for this API"}
    e = error_of(gw2.create_route, 409, ApiId=api_id, RouteKey="GET /items/{itemId}")
    assert e["Code"] == "ConflictException"
    assert e["Message"] == (
        'The provided route key "GET /items/{itemId}" has a conflicting variable on the same hierarchical level as '
        '"GET /items/{id}"'
    )
    # another method or depth is no conflict
    gw2.create_route(ApiId=api_id, RouteKey="POST /items/{other}")
    gw2.create_route(ApiId=api_id, RouteKey="GET /items/{id}/parts")
    assert len(gw2.get_routes(ApiId=api_id)["Items"]) == 3


def test_route_targets_and_authorizers(gw2):
    api_id = http_api(gw2)
    integration_id = lambda_integration(gw2, api_id)
    route = gw2.create_route(ApiId=api_id, RouteKey="GET /a", Target=f"integrations/{integration_id}")
    assert route["Target"] == f"integrations/{integration_id}"
    e = error_of(gw2.create_route, 404, ApiId=api_id, RouteKey="GET /b", Target="integrations/nope000")
    assert e == {
        "Code": "NotFoundException",
        "Message": "Invalid Integration identifier specified nope000",
    }
    e = error_of(gw2.create_route, 400, ApiId=api_id, RouteKey="GET /b", Target="lambda/x")
    assert e["Code"] == "BadRequestException"
    e = error_of(gw2.create_route, 400, ApiId=api_id, RouteKey="GET /b", AuthorizationType="JWT")
    assert e["Code"] == "BadRequestException"
    e = error_of(gw2.create_route, 404, ApiId=api_id, RouteKey="GET /b", AuthorizationType="JWT", AuthorizerId="zz")
    assert e == {"Code": "NotFoundException", "Message": "Invalid Authorizer identifier specified zz"}
    jwt = jwt_authorizer(gw2, api_id)
    route = gw2.create_route(
        ApiId=api_id, RouteKey="GET /b", AuthorizationType="JWT", AuthorizerId=jwt, AuthorizationScopes=["read"]
    )
    assert (route["AuthorizationType"], route["AuthorizerId"], route["AuthorizationScopes"]) == ("JWT", jwt, ["read"])
    # CUSTOM needs a REQUEST authorizer, not a JWT one
    e = error_of(gw2.create_route, 400, ApiId=api_id, RouteKey="GET /c", AuthorizationType="CUSTOM", AuthorizerId=jwt)
    assert e["Code"] == "BadRequestException"
    # API keys and request parameters are WebSocket features
    e = error_of(gw2.create_route, 400, ApiId=api_id, RouteKey="GET /c", ApiKeyRequired=True)
    assert e["Code"] == "BadRequestException"
    # the authorizer a route uses can not be deleted
    e = error_of(gw2.delete_authorizer, 409, ApiId=api_id, AuthorizerId=jwt)
    assert e["Code"] == "ConflictException"


def test_get_update_delete_route(gw2):
    api_id = http_api(gw2)
    integration_id = lambda_integration(gw2, api_id)
    route_id = gw2.create_route(ApiId=api_id, RouteKey="GET /a")["RouteId"]
    got = gw2.get_route(ApiId=api_id, RouteId=route_id)
    assert got["RouteKey"] == "GET /a"
    out = gw2.update_route(ApiId=api_id, RouteId=route_id, RouteKey="POST /a", Target=f"integrations/{integration_id}")
    assert out["RouteKey"] == "POST /a" and out["Target"] == f"integrations/{integration_id}"
    other = gw2.create_route(ApiId=api_id, RouteKey="GET /b")["RouteId"]
    e = error_of(gw2.update_route, 409, ApiId=api_id, RouteId=other, RouteKey="POST /a")
    assert e["Code"] == "ConflictException"
    assert gw2.update_route(ApiId=api_id, RouteId=other, RouteKey="GET /b")["RouteKey"] == "GET /b"  # its own key
    e = error_of(gw2.update_route, 400, ApiId=api_id, RouteId=other, RouteKey="nope")
    assert e["Code"] == "BadRequestException"
    gw2.delete_route(ApiId=api_id, RouteId=route_id)
    e = error_of(gw2.get_route, 404, ApiId=api_id, RouteId=route_id)
    assert e == {"Code": "NotFoundException", "Message": f"Invalid Route identifier specified {route_id}"}
    assert error_of(gw2.delete_route, 404, ApiId=api_id, RouteId=route_id)["Code"] == "NotFoundException"
    assert [r["RouteId"] for r in gw2.get_routes(ApiId=api_id)["Items"]] == [other]


def test_get_routes_pages(gw2):
    api_id = http_api(gw2)
    made = sorted(gw2.create_route(ApiId=api_id, RouteKey=f"GET /r{i}")["RouteId"] for i in range(5))
    first = gw2.get_routes(ApiId=api_id, MaxResults="3")
    assert len(first["Items"]) == 3 and first["NextToken"]
    rest = gw2.get_routes(ApiId=api_id, MaxResults="3", NextToken=first["NextToken"])
    assert "NextToken" not in rest
    assert [r["RouteId"] for r in first["Items"] + rest["Items"]] == made


def test_websocket_routes_and_route_responses(gw2):
    api_id = websocket_api(gw2)
    keys = ["$connect", "$disconnect", "$default", "sendMessage"]
    ids = {k: gw2.create_route(ApiId=api_id, RouteKey=k)["RouteId"] for k in keys}
    assert sorted(r["RouteKey"] for r in gw2.get_routes(ApiId=api_id)["Items"]) == sorted(keys)
    route_id = ids["sendMessage"]
    rr = gw2.create_route_response(ApiId=api_id, RouteId=route_id, RouteResponseKey="$default")
    assert rr["RouteResponseKey"] == "$default" and rr["RouteResponseId"]
    e = error_of(gw2.create_route_response, 409, ApiId=api_id, RouteId=route_id, RouteResponseKey="$default")
    assert e["Code"] == "ConflictException"
    got = gw2.get_route_response(ApiId=api_id, RouteId=route_id, RouteResponseId=rr["RouteResponseId"])
    assert got["RouteResponseKey"] == "$default"
    out = gw2.update_route_response(
        ApiId=api_id, RouteId=route_id, RouteResponseId=rr["RouteResponseId"], ModelSelectionExpression="$default"
    )
    assert out["ModelSelectionExpression"] == "$default"
    assert len(gw2.get_route_responses(ApiId=api_id, RouteId=route_id)["Items"]) == 1
    gw2.delete_route_response(ApiId=api_id, RouteId=route_id, RouteResponseId=rr["RouteResponseId"])
    e = error_of(gw2.get_route_response, 404, ApiId=api_id, RouteId=route_id, RouteResponseId=rr["RouteResponseId"])
    assert e["Message"] == f"Invalid RouteResponse identifier specified {rr['RouteResponseId']}"
    # route responses belong to WebSocket APIs
    http = http_api(gw2)
    http_route = gw2.create_route(ApiId=http, RouteKey="GET /a")["RouteId"]
    e = error_of(gw2.create_route_response, 400, ApiId=http, RouteId=http_route, RouteResponseKey="$default")
    assert e["Code"] == "BadRequestException"


def test_delete_route_request_parameter(gw2):
    api_id = websocket_api(gw2)
    route = gw2.create_route(
        ApiId=api_id,
        RouteKey="$connect",
        RequestParameters={
            "route.request.header.x-a": {"Required": True},
            "route.request.querystring.q": {"Required": False},
        },
    )
    assert route["RequestParameters"]["route.request.header.x-a"] == {"Required": True}
    gw2.delete_route_request_parameter(
        ApiId=api_id, RouteId=route["RouteId"], RequestParameterKey="route.request.header.x-a"
    )
    got = gw2.get_route(ApiId=api_id, RouteId=route["RouteId"])
    assert got["RequestParameters"] == {"route.request.querystring.q": {"Required": False}}
    e = error_of(
        gw2.delete_route_request_parameter,
        404,
        ApiId=api_id,
        RouteId=route["RouteId"],
        RequestParameterKey="route.request.header.x-a",
    )
    assert e["Code"] == "NotFoundException"
    e = error_of(
        gw2.create_route, 400, ApiId=api_id, RouteKey="other", RequestParameters={"header.x": {"Required": True}}
    )
    assert e["Code"] == "BadRequestException"
