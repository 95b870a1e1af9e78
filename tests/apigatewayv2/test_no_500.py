"""No input produces HTTP 500 in API Gateway v2: every member of every served operation, given values of every
wrong kind, gets a 4xx AWS error or a success (against an HTTP API and a WebSocket API with one object of each
kind); every operation of the model the broker does not serve answers the layer's 501 NotImplemented; and
hypothesis-generated requests, broken in every way the fuzzer knows, never get a 5xx. The plausible-input builder
and the sender are tests/reliability/fuzz_model.py's, the value grid v1's (tests/apigateway/test_no_500.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.model import OperationModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.services.registry import all_specs
from tests.apigateway.test_no_500 import EXAMPLES, JUNK
from tests.reliability.fuzz_model import (
    MANGLE_REQUEST,
    mangle_request,
    model,
    operation_inputs,
    plausible,
    request_for,
    send,
)

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
    authorizer = gw2.create_authorizer(
        ApiId=http,
        Name="fuzz",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://issuer.example", "Audience": ["a"]},
    )["AuthorizerId"]
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
    ws = gw2.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")["ApiId"]
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


def _ordered() -> list[str]:
    """Served operations, the deleting ones last (each finds its object once, then 404s), the API's last of all."""
    keep = [n for n in SERVED if not n.startswith(DESTRUCTIVE)]
    gone = sorted(
        (n for n in SERVED if n.startswith(DESTRUCTIVE)), key=lambda n: (n in ("DeleteApi", "DeleteDomainName"), n)
    )
    return keep + gone


def _cases(known: dict[str, Any]) -> Iterator[tuple[OperationModel, dict[str, Any]]]:
    for op_name in _ordered():
        op = MODEL.operation_model(op_name)
        shape = op.input_shape
        base = plausible(shape, "", known) if shape is not None else {}
        yield op, base
        for member, mshape in (shape.members if shape is not None else {}).items():
            for junk in JUNK:
                yield op, {**base, member: junk}
            if mshape.type_name == "map":
                for junk in JUNK:
                    yield op, {**base, member: {"k": junk}}
            inner = mshape.member if mshape.type_name == "list" else None
            if inner is not None and inner.type_name == "structure":
                entry = plausible(inner, "", {})
                for sub in inner.members:
                    for junk in JUNK:
                        yield op, {**base, member: [{**entry, sub: junk}]}
            if mshape.type_name == "structure":
                entry = plausible(mshape, "", {})
                for sub in mshape.members:
                    for junk in JUNK:
                        yield op, {**base, member: {**entry, sub: junk}}


@pytest.mark.timeout(600)
def test_never_500(broker):
    bad, succeeded, statuses = [], set(), Counter[int]()
    with httpx.Client(timeout=30) as http:
        for known in _fixtures(broker):
            for op, params in _cases(known):
                r = send(http, broker.url, request_for("rest-json", MODEL, op, params))
                statuses[r.status_code] += 1
                if r.status_code < 300:
                    succeeded.add(op.name)
                if r.status_code >= 500:
                    bad.append((op.name, str(params)[:200], r.status_code, r.content[:200]))
        # the model's other operations: the layer's not-implemented answer, never a crash
        for op_name in sorted(set(MODEL.operation_names) - set(SERVED)):
            op = MODEL.operation_model(op_name)
            params = plausible(op.input_shape, "", {}) if op.input_shape is not None else {}
            r = send(http, broker.url, request_for("rest-json", MODEL, op, params))
            assert (r.status_code, r.headers.get("x-amzn-errortype")) == (501, "NotImplemented"), (op_name, r.text)
            assert "is not supported by this broker yet" in r.text
    assert not bad, sorted({(b[0], b[1][:120], b[3][:120]) for b in bad})[:20]
    print(f"apigatewayv2 no-500 grid: statuses {dict(sorted(statuses.items()))}, {len(succeeded)} operations succeeded")
    assert statuses.total() > 5000
    # Not vacuous: the plausible requests reach the operations (the known objects are found).
    assert len(succeeded) > len(SERVED) * 2 // 3, sorted(set(SERVED) - succeeded)


@pytest.mark.timeout(300)
def test_fuzzed_requests_never_get_a_5xx(broker):
    fixed = _fixtures(broker)[0]
    known = {name: st.just(v) for name, v in fixed.items()}
    safe = [n for n in SERVED if not n.startswith(DESTRUCTIVE)]
    risky = [n for n in SERVED if n.startswith(DESTRUCTIVE)]
    inputs = st.one_of(operation_inputs(MODEL, safe, known), operation_inputs(MODEL, risky, {}))
    failures: list[str] = []
    succeeded: set[str] = set()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=inputs, kind=MANGLE_REQUEST, noise=st.binary(max_size=300))
    def check(http: httpx.Client, case: tuple[str, dict, bool], kind: str, noise: bytes) -> None:
        op_name, params, _ = case
        req = mangle_request(kind, request_for("rest-json", MODEL, MODEL.operation_model(op_name), params), noise)
        r = send(http, broker.url, req)
        if r.status_code < 300:
            succeeded.add(op_name)
        if r.status_code == 501 and kind != "none" and "is not supported by this broker yet" in r.text:
            return  # a mangled request (another method, say) that names a model operation not served yet
        if r.status_code >= 500:
            failures.append(
                f"{op_name} [{kind}] {r.status_code}: {r.text[:300]} <- {req.method} {req.raw_path[:200]!r}"
            )
        assert r.status_code < 500, failures[-1]

    with httpx.Client(timeout=60) as http:
        check(http)
    assert len(succeeded) >= 3, sorted(succeeded)
