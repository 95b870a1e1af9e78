"""Deployments and stages through boto3: deploying (refused without methods), the stage a deployment creates or
moves, reading, listing, patching (stage variables, method settings) and deleting, with AWS's errors. Tests that need
a method on a resource create it with PutMethod; they are skipped while that operation is not served."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.apigateway.helpers import error_of


@pytest.fixture
def api(gw) -> dict:
    """An API with GET on /pets (PutMethod required)."""
    created = gw.create_rest_api(name="shop")
    pets = gw.create_resource(restApiId=created["id"], parentId=created["rootResourceId"], pathPart="pets")
    try:
        gw.put_method(restApiId=created["id"], resourceId=pets["id"], httpMethod="GET", authorizationType="NONE")
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("PutMethod is not served yet")
        raise
    return {**created, "pets": pets["id"]}


def test_deploying_an_api_without_methods_is_refused(gw):
    created = gw.create_rest_api(name="empty")
    gw.create_resource(restApiId=created["id"], parentId=created["rootResourceId"], pathPart="pets")
    err = error_of(gw.create_deployment, 400, restApiId=created["id"], stageName="prod")
    assert err == {"Code": "BadRequestException", "Message": "The REST API doesn't contain any methods"}
    assert gw.get_deployments(restApiId=created["id"])["items"] == []
    assert gw.get_stages(restApiId=created["id"])["item"] == []
    err = error_of(gw.create_deployment, 404, restApiId="nope000000")
    assert err["Code"] == "NotFoundException" and err["Message"].startswith("Invalid API identifier specified")


def test_unknown_deployments_and_stages(gw):
    api_id = gw.create_rest_api(name="shop")["id"]
    for call, kw in [
        (gw.get_deployment, {"deploymentId": "abc123"}),
        (gw.delete_deployment, {"deploymentId": "abc123"}),
        (gw.update_deployment, {"deploymentId": "abc123", "patchOperations": []}),
    ]:
        err = error_of(call, 404, restApiId=api_id, **kw)
        assert err == {"Code": "NotFoundException", "Message": "Invalid Deployment identifier specified"}
    for call, kw in [
        (gw.get_stage, {}),
        (gw.delete_stage, {}),
        (gw.update_stage, {"patchOperations": []}),
    ]:
        err = error_of(call, 404, restApiId=api_id, stageName="prod", **kw)
        assert err == {"Code": "NotFoundException", "Message": "Invalid stage identifier specified"}
    err = error_of(gw.create_stage, 400, restApiId=api_id, stageName="prod", deploymentId="abc123")
    assert err == {"Code": "BadRequestException", "Message": "Deployment id does not exist"}
    err = error_of(gw.get_stages, 404, restApiId="nope000000")
    assert err["Code"] == "NotFoundException"


def test_deployment_with_a_new_stage(gw, api):
    d = gw.create_deployment(
        restApiId=api["id"], stageName="prod", stageDescription="live", description="v1", variables={"color": "red"}
    )
    assert d["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"[a-z0-9]{6}", d["id"]) and d["description"] == "v1" and "apiSummary" not in d
    got = gw.get_deployment(restApiId=api["id"], deploymentId=d["id"])
    assert (got["id"], got["description"], got["createdDate"]) == (d["id"], "v1", d["createdDate"])
    assert "apiSummary" not in got and not any(k.startswith("_") for k in got)
    summary = gw.get_deployment(restApiId=api["id"], deploymentId=d["id"], embed=["apisummary"])["apiSummary"]
    assert summary == {"/pets": {"GET": {"authorizationType": "NONE", "apiKeyRequired": False}}}
    stage = gw.get_stage(restApiId=api["id"], stageName="prod")
    assert stage["deploymentId"] == d["id"] and stage["stageName"] == "prod" and stage["description"] == "live"
    assert stage["variables"] == {"color": "red"} and stage["methodSettings"] == {}
    assert (stage["cacheClusterEnabled"], stage["cacheClusterStatus"], stage["tracingEnabled"]) == (
        False,
        "NOT_AVAILABLE",
        False,
    )
    assert stage["createdDate"] == stage["lastUpdatedDate"]

    # A second deployment to the same stage moves it, keeping what it is not told to change.
    d2 = gw.create_deployment(restApiId=api["id"], stageName="prod", variables={"size": "L"})
    moved = gw.get_stage(restApiId=api["id"], stageName="prod")
    assert moved["deploymentId"] == d2["id"] and moved["description"] == "live"
    assert moved["variables"] == {"color": "red", "size": "L"} and moved["createdDate"] == stage["createdDate"]
    listed = gw.get_deployments(restApiId=api["id"])["items"]
    assert sorted(x["id"] for x in listed) == sorted([d["id"], d2["id"]])
    assert all("_resources" not in x and "apiSummary" not in x for x in listed)


def test_deployment_snapshot_does_not_follow_later_changes(gw, api):
    d = gw.create_deployment(restApiId=api["id"])
    assert gw.get_stages(restApiId=api["id"])["item"] == []
    gw.delete_resource(restApiId=api["id"], resourceId=api["pets"])
    summary = gw.get_deployment(restApiId=api["id"], deploymentId=d["id"], embed=["apisummary"])["apiSummary"]
    assert list(summary) == ["/pets"]
    err = error_of(gw.create_deployment, 400, restApiId=api["id"])
    assert err["Message"] == "The REST API doesn't contain any methods"


def test_deployment_paging_update_and_delete(gw, api):
    made = {gw.create_deployment(restApiId=api["id"], description=f"d{i}")["id"] for i in range(3)}
    first = gw.get_deployments(restApiId=api["id"], limit=2)
    assert len(first["items"]) == 2 and first["position"]
    rest = gw.get_deployments(restApiId=api["id"], position=first["position"])
    assert {x["id"] for x in first["items"] + rest["items"]} == made and "position" not in rest
    one = sorted(made)[0]
    changed = gw.update_deployment(
        restApiId=api["id"],
        deploymentId=one,
        patchOperations=[{"op": "replace", "path": "/description", "value": "new"}],
    )
    assert changed["description"] == "new" and changed["id"] == one
    assert gw.get_deployment(restApiId=api["id"], deploymentId=one)["description"] == "new"
    err = error_of(
        gw.update_deployment,
        400,
        restApiId=api["id"],
        deploymentId=one,
        patchOperations=[{"op": "replace", "path": "/id", "value": "x"}],
    )
    assert err["Code"] == "BadRequestException"

    gw.create_stage(restApiId=api["id"], stageName="dev", deploymentId=one)
    err = error_of(gw.delete_deployment, 400, restApiId=api["id"], deploymentId=one)
    assert err == {
        "Code": "BadRequestException",
        "Message": "Active stages pointing to this deployment must be moved or deleted",
    }
    assert gw.delete_stage(restApiId=api["id"], stageName="dev")["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert gw.delete_deployment(restApiId=api["id"], deploymentId=one)["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert {x["id"] for x in gw.get_deployments(restApiId=api["id"], limit=500)["items"]} == made - {one}
    error_of(gw.get_deployment, 404, restApiId=api["id"], deploymentId=one)


def test_stages_create_list_and_conflicts(gw, api):
    d1 = gw.create_deployment(restApiId=api["id"])["id"]
    d2 = gw.create_deployment(restApiId=api["id"])["id"]
    s = gw.create_stage(
        restApiId=api["id"],
        stageName="beta",
        deploymentId=d1,
        description="b",
        variables={"k": "v"},
        tracingEnabled=True,
        tags={"team": "x"},
    )
    assert s["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (s["stageName"], s["deploymentId"], s["description"], s["tracingEnabled"]) == ("beta", d1, "b", True)
    assert s["variables"] == {"k": "v"} and s["tags"] == {"team": "x"} and s["cacheClusterStatus"] == "NOT_AVAILABLE"
    gw.create_stage(restApiId=api["id"], stageName="gamma", deploymentId=d2)
    err = error_of(gw.create_stage, 409, restApiId=api["id"], stageName="beta", deploymentId=d2)
    assert err == {"Code": "ConflictException", "Message": "Stage already exists"}
    err = error_of(gw.create_stage, 400, restApiId=api["id"], stageName="no spaces", deploymentId=d2)
    assert err["Code"] == "BadRequestException"
    assert sorted(x["stageName"] for x in gw.get_stages(restApiId=api["id"])["item"]) == ["beta", "gamma"]
    assert [x["stageName"] for x in gw.get_stages(restApiId=api["id"], deploymentId=d2)["item"]] == ["gamma"]
    gw.delete_rest_api(restApiId=api["id"])
    error_of(gw.get_stage, 404, restApiId=api["id"], stageName="beta")


def test_update_stage(gw, api, broker):
    d1 = gw.create_deployment(restApiId=api["id"], stageName="prod", variables={"a": "1", "b": "2"})["id"]
    d2 = gw.create_deployment(restApiId=api["id"])["id"]
    before = gw.get_stage(restApiId=api["id"], stageName="prod")
    broker.advance(5)
    ops = [
        {"op": "replace", "path": "/deploymentId", "value": d2},
        {"op": "replace", "path": "/description", "value": "moved"},
        {"op": "replace", "path": "/variables/a", "value": "9"},
        {"op": "remove", "path": "/variables/b"},
        {"op": "replace", "path": "/tracingEnabled", "value": "true"},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
        {"op": "replace", "path": "/~1pets/GET/metrics/enabled", "value": "true"},
    ]
    s = gw.update_stage(restApiId=api["id"], stageName="prod", patchOperations=ops)
    assert (s["deploymentId"], s["description"], s["tracingEnabled"]) == (d2, "moved", True)
    assert s["variables"] == {"a": "9"}
    assert s["lastUpdatedDate"] > before["lastUpdatedDate"] and s["createdDate"] == before["createdDate"]
    everything = s["methodSettings"]["*/*"]
    assert everything["throttlingRateLimit"] == 100.0 and everything["loggingLevel"] == "INFO"
    assert everything["metricsEnabled"] is False and everything["throttlingBurstLimit"] == 5000
    assert s["methodSettings"]["~1pets/GET"]["metricsEnabled"] is True
    got = gw.get_stage(restApiId=api["id"], stageName="prod")
    got.pop("ResponseMetadata"), s.pop("ResponseMetadata")
    assert got == s
    # The old deployment is free now; the new one is not.
    gw.delete_deployment(restApiId=api["id"], deploymentId=d1)
    error_of(gw.delete_deployment, 400, restApiId=api["id"], deploymentId=d2)

    s = gw.update_stage(restApiId=api["id"], stageName="prod", patchOperations=[{"op": "remove", "path": "/*/*"}])
    assert list(s["methodSettings"]) == ["~1pets/GET"]
    for op, status in [
        ({"op": "replace", "path": "/deploymentId", "value": "zzzzzz"}, 400),
        ({"op": "replace", "path": "/*/*/logging/loglevel", "value": "LOUD"}, 400),
        ({"op": "replace", "path": "/*/*/nothing/here", "value": "1"}, 400),
        ({"op": "replace", "path": "/tracingEnabled", "value": "maybe"}, 400),
        ({"op": "replace", "path": "/stageName", "value": "x"}, 400),
    ]:
        err = error_of(gw.update_stage, status, restApiId=api["id"], stageName="prod", patchOperations=[op])
        assert err["Code"] == "BadRequestException", op
    assert gw.get_stage(restApiId=api["id"], stageName="prod")["deploymentId"] == d2
