"""No input produces HTTP 500 in API Gateway (REST APIs): every member of every served operation, given values of
every wrong kind (and patchOperations of every op, path and odd value), gets a 4xx AWS error or a success; every
operation of the model the broker does not serve answers the layer's 501 NotImplemented; and hypothesis-generated
requests (tests/reliability/fuzz_model.py), broken in every way the fuzzer knows, never get a 5xx. The grid and
the runs are tests/apigateway/no_500_grid.py's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.model import Shape
from hypothesis import strategies as st

from broker.services.registry import all_specs
from tests.apigateway.no_500_grid import MIN_CASES, cases, check_unserved, fuzz_never_5xx, ordered, run_grid, some
from tests.reliability.fuzz_model import model

MODEL = model("apigateway")
SERVED = sorted(all_specs()["apigateway"].handlers)
# patchOperations: paths of every Update operation's objects, and odd ones (empty, escapes, wildcards, too deep).
PATCH_PATHS = [
    "",
    "/",
    "x",
    "/name",
    "/description",
    "/enabled",
    "/~1fuzz/GET/logging/loglevel",
    "/*/*/throttling/rateLimit",
    "/*/*/caching/ttlInSeconds",
    "/~2",
    "/a/b/c/d/e/f",
    "/requestParameters/method.request.header.x",
    "/requestTemplates/application~1json",
    "/responseParameters/method.response.header.x",
    "/responseModels/application~1json",
    "/variables/k",
    "/tags/k",
    "/apiStages",
    "/throttle/rateLimit",
    "/throttle/burstLimit",
    "/quota/limit",
    "/quota/period",
    "/stageKeys",
    "/binaryMediaTypes/image~1png",
    "/endpointConfiguration/types/EDGE",
    "/minimumCompressionSize",
    "/policy",
    "/cacheClusterEnabled",
    "/cacheClusterSize",
    "/deploymentId",
    "/timeoutInMillis",
    "/cacheKeyParameters/x",
    "/authorizationScopes",
]
PATCH_OPS = ["add", "remove", "replace", "move", "copy", "test", "nope", ""]
PATCH_VALUES: list[Any] = ["", "-1", "0", "true", "1e999", "x" * 3000, "{", "fuzz:fuzz", "\u0000"]
DESTRUCTIVE = ("Delete", "Untag")


def _fixture(broker) -> dict[str, Any]:
    """A deployed API with a method, integration, responses, authorizer, validator and model; a key in a usage plan
    of the stage; and the known value of each member that names one of them."""
    gw = broker.client("apigateway")
    api = gw.create_rest_api(name="fuzz")
    api_id, root = api["id"], api["rootResourceId"]
    child = gw.create_resource(restApiId=api_id, parentId=root, pathPart="fuzz")["id"]
    gw.put_method(restApiId=api_id, resourceId=child, httpMethod="GET", authorizationType="NONE")
    gw.put_method_response(restApiId=api_id, resourceId=child, httpMethod="GET", statusCode="200")
    gw.put_integration(restApiId=api_id, resourceId=child, httpMethod="GET", type="MOCK")
    gw.put_integration_response(restApiId=api_id, resourceId=child, httpMethod="GET", statusCode="200")
    deployment = gw.create_deployment(restApiId=api_id, stageName="fuzz")["id"]
    authorizer = gw.create_authorizer(
        restApiId=api_id,
        name="fuzz",
        type="TOKEN",
        identitySource="method.request.header.Authorization",
        authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:000000000000:function:fuzz/invocations",
    )["id"]
    validator = gw.create_request_validator(restApiId=api_id, name="fuzz", validateRequestBody=True)["id"]
    gw.create_model(restApiId=api_id, name="Fuzz", contentType="application/json", schema='{"type": "object"}')
    gw.put_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX", statusCode="400")
    key = gw.create_api_key(name="fuzz", enabled=True)["id"]
    plan = gw.create_usage_plan(name="fuzz", apiStages=[{"apiId": api_id, "stage": "fuzz"}])["id"]
    gw.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    return {
        "restApiId": api_id,
        "resourceId": child,
        "parentId": root,
        "httpMethod": "GET",
        "statusCode": "200",
        "stageName": "fuzz",
        "deploymentId": deployment,
        "authorizerId": authorizer,
        "requestValidatorId": validator,
        "modelName": "Fuzz",
        "responseType": "DEFAULT_4XX",
        "apiKey": key,
        "usagePlanId": plan,
        "keyId": key,
        "keyType": "API_KEY",
        "resourceArn": f"arn:aws:apigateway:us-east-1::/restapis/{api_id}/stages/fuzz",
        "patchOperations": [{"op": "replace", "path": "/description", "value": "fuzz"}],
    }


def _patch_cases(member: str, _shape: Shape, base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """patchOperations of every op, path and odd value."""
    if member != "patchOperations":
        return
    for turn, path in enumerate(PATCH_PATHS):
        for kind in some(PATCH_OPS, turn):
            yield {**base, member: [{"op": kind, "path": path, "value": "x", "from": path}]}
        for value in some(PATCH_VALUES, turn):
            yield {**base, member: [{"op": "replace", "path": path, "value": value}]}
        yield {**base, member: [{"op": "add", "path": path}]}  # no value


def test_never_500(broker):
    known = _fixture(broker)
    grid = cases(MODEL, ordered(SERVED, DESTRUCTIVE, ("DeleteRestApi",)), known, False, _patch_cases)
    with httpx.Client(timeout=30) as http:
        bad, succeeded, statuses = run_grid(http, broker.url, MODEL, grid)
        check_unserved(http, broker.url, MODEL, SERVED, known)
    assert not bad, sorted({(b[0], b[1][:120], b[3][:120]) for b in bad})[:20]
    print(f"apigateway no-500 grid: statuses {dict(sorted(statuses.items()))}, {len(succeeded)} operations succeeded")
    assert statuses.total() > MIN_CASES
    # Not vacuous: the plausible requests reach the operations (the known objects are found).
    assert len(succeeded) > len(SERVED) // 2, sorted(set(SERVED) - succeeded)


@pytest.mark.timeout(300)
def test_fuzzed_requests_never_get_a_5xx(broker):
    fixed = _fixture(broker)
    known = {name: st.just(v) for name, v in fixed.items() if name != "patchOperations"}
    known["resourceId"] = st.sampled_from([fixed["resourceId"], fixed["parentId"]])
    fuzz_never_5xx(broker.url, MODEL, SERVED, DESTRUCTIVE, known)
