"""No input produces HTTP 500 in API Gateway v2: every member of every served operation, given values of every
wrong kind, gets a 4xx AWS error or a success (against an HTTP API and a WebSocket API with one object of each
kind); every operation of the model the broker does not serve answers the layer's 501 NotImplemented; and
hypothesis-generated requests, broken in every way the fuzzer knows, never get a 5xx. The grid and the runs
are tests/apigateway/no_500_grid.py's."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from hypothesis import strategies as st

from broker.services.registry import all_specs
from tests.apigateway.no_500_grid import MIN_CASES, cases, check_unserved, fuzz_never_5xx, ordered, run_grid
from tests.apigatewayv2.helpers import jwt_authorizer, websocket_api
from tests.reliability.fuzz_model import model

MODEL = model("apigatewayv2")
SERVED = sorted(all_specs()["apigatewayv2"].handlers)
DESTRUCTIVE = ("Delete", "Untag", "Reset")
LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:fuzz"
OPENAPI = '{"openapi": "3.0.1", "info": {"title": "fuzz"}, "paths": {"/f": {"get": {}}}}'


def _fixtures(broker) -> list[dict[str, Any]]:
    """The known members of an HTTP API and of a WebSocket API, each with one object of every kind."""
    gw2 = broker.client("apigatewayv2")
    http = gw2.create_api(Name="fuzz", ProtocolType="HTTP", Target=LAMBDA, RouteKey="GET /fuzz")["ApiId"]
    route = gw2.get_routes(ApiId=http)["Items"][0]["RouteId"]
    integration = gw2.get_integrations(ApiId=http)["Items"][0]["IntegrationId"]
    authorizer = jwt_authorizer(gw2, http, "fuzz")
    gw2.create_stage(ApiId=http, StageName="fuzz", RouteSettings={"GET /fuzz": {"ThrottlingBurstLimit": 1}})
    deployment = gw2.create_deployment(ApiId=http, StageName="fuzz")["DeploymentId"]
    gw2.create_domain_name(DomainName="fuzz.example.com")
    mapping = gw2.create_api_mapping(DomainName="fuzz.example.com", ApiId=http, Stage="fuzz")["ApiMappingId"]
    link = gw2.create_vpc_link(Name="fuzz", SubnetIds=["subnet-1"])["VpcLinkId"]
    common = {
        "DomainName": "fuzz.example.com", "ApiMappingId": mapping, "VpcLinkId": link, "Specification": "OAS30",
        "OutputType": "JSON", "Body": OPENAPI, "ProtocolType": "HTTP", "Name": "fuzz", "StageName": "fuzz",
        "Stage": "fuzz",
    }  # fmt: skip
    known_http = {
        **common, "ApiId": http, "RouteId": route, "IntegrationId": integration, "AuthorizerId": authorizer,
        "DeploymentId": deployment, "RouteKey": "GET /fuzz",
        "ResourceArn": f"arn:aws:apigateway:us-east-1::/apis/{http}", "IntegrationType": "AWS_PROXY",
        "AuthorizerType": "JWT", "IdentitySource": ["$request.header.Authorization"],
    }  # fmt: skip
    ws = websocket_api(gw2)
    ws_integration = gw2.create_integration(ApiId=ws, IntegrationType="MOCK")["IntegrationId"]
    ws_route = gw2.create_route(
        ApiId=ws,
        RouteKey="$connect",
        Target=f"integrations/{ws_integration}",
        RequestParameters={"route.request.header.x": {"Required": True}},
    )["RouteId"]
    route_response = gw2.create_route_response(ApiId=ws, RouteId=ws_route, RouteResponseKey="$default")
    integration_response = gw2.create_integration_response(
        ApiId=ws, IntegrationId=ws_integration, IntegrationResponseKey="$default"
    )
    model_id = gw2.create_model(ApiId=ws, Name="Fuzz", Schema='{"type": "object"}')["ModelId"]
    gw2.create_stage(ApiId=ws, StageName="fuzz")
    known_ws = {
        **common, "ApiId": ws, "RouteId": ws_route, "IntegrationId": ws_integration, "ModelId": model_id,
        "RouteResponseId": route_response["RouteResponseId"], "RouteResponseKey": "$default",
        "IntegrationResponseId": integration_response["IntegrationResponseId"], "IntegrationResponseKey": "$default",
        "RequestParameterKey": "route.request.header.x", "RouteKey": "$connect", "IntegrationType": "MOCK",
        "Schema": '{"type": "object"}', "ResourceArn": f"arn:aws:apigateway:us-east-1::/apis/{ws}/stages/fuzz",
        "AuthorizerType": "REQUEST", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action",
    }  # fmt: skip
    return [known_http, known_ws]


@pytest.mark.timeout(600)
def test_never_500(broker):
    with httpx.Client(timeout=30) as http:
        bad, succeeded, statuses = [], set[str](), Counter[int]()
        for known in _fixtures(broker):
            grid = cases(MODEL, ordered(SERVED, DESTRUCTIVE, ("DeleteApi", "DeleteDomainName")), known, True)
            more_bad, more_succeeded, more_statuses = run_grid(http, broker.url, MODEL, grid)
            bad += more_bad
            succeeded |= more_succeeded
            statuses += more_statuses
        check_unserved(http, broker.url, MODEL, SERVED, {})
    assert not bad, sorted({(b[0], b[1][:120], b[3][:120]) for b in bad})[:20]
    print(f"apigatewayv2 no-500 grid: statuses {dict(sorted(statuses.items()))}, {len(succeeded)} operations succeeded")
    assert statuses.total() > MIN_CASES
    # Not vacuous: the plausible requests reach the operations (the known objects are found).
    assert len(succeeded) > len(SERVED) * 2 // 3, sorted(set(SERVED) - succeeded)


@pytest.mark.timeout(300)
def test_fuzzed_requests_never_get_a_5xx(broker):
    known = {name: st.just(v) for name, v in _fixtures(broker)[0].items()}
    fuzz_never_5xx(broker.url, MODEL, SERVED, DESTRUCTIVE, known)
