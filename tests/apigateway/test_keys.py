"""API keys, usage plans, usage plan keys and tags through boto3: creating (generated or given values), reading with
and without the value, listing with filters and paging, patching, CSV import, linking keys to plans, deleting (links
go with the key or the plan), tagging by ARN, and AWS's errors. The broker is shared by the session's tests, so
every test names its own objects and never assumes an empty account."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.apigateway.helpers import error_of, mock_method


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def _value() -> str:
    return f"key-value-{uuid.uuid4().hex}"


@pytest.fixture
def stage(gw) -> tuple[str, str]:
    """(api id, stage name) of a deployed API."""
    api = gw.create_rest_api(name="keyed")
    pets = gw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")
    mock_method(gw, api["id"], pets["id"])
    gw.create_deployment(restApiId=api["id"], stageName="prod")
    return api["id"], "prod"


def test_api_key_lifecycle(gw):
    name = f"k-{_unique()}"
    key = gw.create_api_key(name=name, description="first", customerId="cust-1", tags={"team": "a"})
    assert key["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"[a-z0-9]{10}", key["id"])
    assert re.fullmatch(r"[A-Za-z0-9]{40}", key["value"])
    assert key["enabled"] is False and key["stageKeys"] == [] and key["tags"] == {"team": "a"}
    assert (key["name"], key["description"], key["customerId"]) == (name, "first", "cust-1")
    assert key["createdDate"] == key["lastUpdatedDate"]

    got = gw.get_api_key(apiKey=key["id"])
    assert "value" not in got and got["name"] == name and got["createdDate"] == key["createdDate"]
    assert gw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == key["value"]

    given = gw.create_api_key(name=f"{name}-given", value=(v := _value()), enabled=True)
    assert given["value"] == v and given["enabled"] is True
    conflict = error_of(gw.create_api_key, 409, name="dup", value=v)
    assert conflict == {"Code": "ConflictException", "Message": "API Key already exists"}
    short = error_of(gw.create_api_key, 400, name="short", value="too-short")
    assert short["Code"] == "BadRequestException"

    listed = gw.get_api_keys(nameQuery=name)["items"]
    assert {k["id"] for k in listed} == {key["id"], given["id"]}
    assert all("value" not in k for k in listed)
    with_values = gw.get_api_keys(nameQuery=name, includeValues=True)["items"]
    assert {k["id"]: k["value"] for k in with_values} == {key["id"]: key["value"], given["id"]: v}
    assert [k["id"] for k in gw.get_api_keys(customerId="cust-1", nameQuery=name)["items"]] == [key["id"]]
    first = gw.get_api_keys(nameQuery=name, limit=1)
    assert len(first["items"]) == 1 and first["position"]
    rest = gw.get_api_keys(nameQuery=name, limit=1, position=first["position"])
    assert {first["items"][0]["id"], rest["items"][0]["id"]} == {key["id"], given["id"]}

    updated = gw.update_api_key(
        apiKey=key["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": f"{name}-renamed"},
            {"op": "replace", "path": "/description", "value": "second"},
            {"op": "replace", "path": "/enabled", "value": "true"},
            {"op": "replace", "path": "/customerId", "value": "cust-2"},
        ],
    )
    assert (updated["name"], updated["description"], updated["enabled"]) == (f"{name}-renamed", "second", True)
    assert updated["customerId"] == "cust-2" and "value" not in updated
    assert gw.get_api_key(apiKey=key["id"])["enabled"] is True
    bad = error_of(gw.update_api_key, 400, apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/value"}])
    assert bad["Code"] == "BadRequestException"
    error_of(
        gw.update_api_key, 400, apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "x"}]
    )

    assert gw.delete_api_key(apiKey=key["id"])["ResponseMetadata"]["HTTPStatusCode"] == 202
    missing = error_of(gw.get_api_key, 404, apiKey=key["id"])
    assert missing == {"Code": "NotFoundException", "Message": "Invalid API Key identifier specified"}
    error_of(gw.delete_api_key, 404, apiKey=key["id"])
    error_of(gw.update_api_key, 404, apiKey=key["id"], patchOperations=[])
    # The deleted key's value is free again.
    assert gw.create_api_key(name="again", value=key["value"])["value"] == key["value"]


def test_api_key_stage_keys(gw, stage):
    api_id, stage_name = stage
    key = gw.create_api_key(name=f"k-{_unique()}", stageKeys=[{"restApiId": api_id, "stageName": stage_name}])
    assert key["stageKeys"] == [f"{api_id}/{stage_name}"]
    err = error_of(gw.create_api_key, 404, name="x", stageKeys=[{"restApiId": api_id, "stageName": "nope"}])
    assert err == {"Code": "NotFoundException", "Message": "Invalid stage identifier specified"}
    err = error_of(gw.create_api_key, 404, name="x", stageKeys=[{"restApiId": "missing123", "stageName": "prod"}])
    assert err["Message"] == "Invalid API identifier specified 000000000000:missing123"

    removed = gw.update_api_key(
        apiKey=key["id"], patchOperations=[{"op": "remove", "path": "/stages", "value": f"{api_id}/{stage_name}"}]
    )
    assert removed["stageKeys"] == []
    added = gw.update_api_key(
        apiKey=key["id"], patchOperations=[{"op": "add", "path": "/stages", "value": f"{api_id}/{stage_name}"}]
    )
    assert added["stageKeys"] == [f"{api_id}/{stage_name}"]
    error_of(
        gw.update_api_key,
        404,
        apiKey=key["id"],
        patchOperations=[{"op": "add", "path": "/stages", "value": f"{api_id}/nope"}],
    )
    assert gw.get_api_key(apiKey=key["id"])["stageKeys"] == [f"{api_id}/{stage_name}"]


def test_usage_plan_lifecycle(gw, stage):
    api_id, stage_name = stage
    name = f"plan-{_unique()}"
    plan = gw.create_usage_plan(
        name=name,
        description="gold",
        apiStages=[{"apiId": api_id, "stage": stage_name}],
        throttle={"burstLimit": 10, "rateLimit": 5.5},
        quota={"limit": 1000, "period": "MONTH"},
        tags={"tier": "gold"},
    )
    assert plan["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"[a-z0-9]{6}", plan["id"])
    assert plan["apiStages"] == [{"apiId": api_id, "stage": stage_name}]
    assert plan["throttle"] == {"burstLimit": 10, "rateLimit": 5.5}
    assert plan["quota"] == {"limit": 1000, "offset": 0, "period": "MONTH"}
    assert (plan["name"], plan["description"], plan["tags"]) == (name, "gold", {"tier": "gold"})
    got = gw.get_usage_plan(usagePlanId=plan["id"])
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        k: v for k, v in plan.items() if k != "ResponseMetadata"
    }
    bare = gw.create_usage_plan(name=f"{name}-bare")
    assert bare["apiStages"] == [] and "quota" not in bare and "throttle" not in bare
    assert {plan["id"], bare["id"]} <= {p["id"] for p in gw.get_usage_plans(limit=500)["items"]}

    updated = gw.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": f"{name}-2"},
            {"op": "replace", "path": "/description", "value": "silver"},
            {"op": "replace", "path": "/throttle/burstLimit", "value": "20"},
            {"op": "replace", "path": "/throttle/rateLimit", "value": "2.5"},
            {"op": "replace", "path": "/quota/limit", "value": "50"},
            {"op": "replace", "path": "/quota/period", "value": "WEEK"},
            {"op": "replace", "path": "/quota/offset", "value": "2"},
            {"op": "remove", "path": "/apiStages", "value": f"{api_id}:{stage_name}"},
        ],
    )
    assert (updated["name"], updated["description"]) == (f"{name}-2", "silver")
    assert updated["throttle"] == {"burstLimit": 20, "rateLimit": 2.5}
    assert updated["quota"] == {"limit": 50, "offset": 2, "period": "WEEK"}
    assert updated["apiStages"] == []
    readded = gw.update_usage_plan(
        usagePlanId=plan["id"], patchOperations=[{"op": "add", "path": "/apiStages", "value": f"{api_id}:{stage_name}"}]
    )
    assert readded["apiStages"] == [{"apiId": api_id, "stage": stage_name}]
    assert gw.get_usage_plan(usagePlanId=plan["id"])["quota"]["period"] == "WEEK"

    for ops, status in [
        ([{"op": "replace", "path": "/quota/period", "value": "YEAR"}], 400),
        ([{"op": "replace", "path": "/quota/offset", "value": "9"}], 400),
        ([{"op": "replace", "path": "/throttle/burstLimit", "value": "many"}], 400),
        ([{"op": "replace", "path": "/id", "value": "x"}], 400),
        ([{"op": "add", "path": "/apiStages", "value": f"{api_id}:nope"}], 404),
        ([{"op": "add", "path": "/apiStages", "value": "no-colon"}], 400),
    ]:
        error_of(gw.update_usage_plan, status, usagePlanId=plan["id"], patchOperations=ops)
    assert gw.get_usage_plan(usagePlanId=plan["id"])["quota"] == {"limit": 50, "offset": 2, "period": "WEEK"}

    err = error_of(gw.create_usage_plan, 404, name="x", apiStages=[{"apiId": api_id, "stage": "nope"}])
    assert err == {"Code": "NotFoundException", "Message": "Invalid stage identifier specified"}
    error_of(gw.create_usage_plan, 400, name="x", quota={"limit": 1, "period": "DAY", "offset": 1})

    assert gw.delete_usage_plan(usagePlanId=plan["id"])["ResponseMetadata"]["HTTPStatusCode"] == 202
    err = error_of(gw.get_usage_plan, 404, usagePlanId=plan["id"])
    assert err == {"Code": "NotFoundException", "Message": "Invalid Usage Plan ID specified"}
    error_of(gw.delete_usage_plan, 404, usagePlanId=plan["id"])
    error_of(gw.update_usage_plan, 404, usagePlanId=plan["id"], patchOperations=[])


def test_usage_plan_keys(gw):
    plan = gw.create_usage_plan(name=f"plan-{_unique()}")
    other = gw.create_usage_plan(name=f"plan-{_unique()}")
    name = f"k-{_unique()}"
    key = gw.create_api_key(name=f"{name}-a", enabled=True)
    second = gw.create_api_key(name=f"{name}-b")

    link = gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    assert link["ResponseMetadata"]["HTTPStatusCode"] == 201
    expected = {"id": key["id"], "type": "API_KEY", "value": key["value"], "name": f"{name}-a"}
    assert {k: v for k, v in link.items() if k != "ResponseMetadata"} == expected
    got = gw.get_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == expected
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=second["id"], keyType="API_KEY")
    gw.create_usage_plan_key(usagePlanId=other["id"], keyId=key["id"], keyType="API_KEY")

    assert (
        error_of(gw.create_usage_plan_key, 409, usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")["Code"]
        == "ConflictException"
    )
    err = error_of(gw.create_usage_plan_key, 404, usagePlanId=plan["id"], keyId="missing123", keyType="API_KEY")
    assert err["Message"] == "Invalid API Key identifier specified"
    err = error_of(gw.create_usage_plan_key, 404, usagePlanId="nope00", keyId=key["id"], keyType="API_KEY")
    assert err["Message"] == "Invalid Usage Plan ID specified"
    error_of(gw.create_usage_plan_key, 400, usagePlanId=plan["id"], keyId=key["id"], keyType="COGNITO")

    listed = gw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert {k["id"] for k in listed} == {key["id"], second["id"]}
    assert [k["id"] for k in gw.get_usage_plan_keys(usagePlanId=plan["id"], nameQuery=f"{name}-b")["items"]] == [
        second["id"]
    ]
    page = gw.get_usage_plan_keys(usagePlanId=plan["id"], limit=1)
    assert len(page["items"]) == 1 and page["position"]
    assert {p["id"] for p in gw.get_usage_plans(keyId=key["id"])["items"]} == {plan["id"], other["id"]}
    assert {p["id"] for p in gw.get_usage_plans(keyId=second["id"])["items"]} == {plan["id"]}

    # A deleted key leaves every plan; a deleted link leaves the key.
    gw.delete_api_key(apiKey=key["id"])
    assert [k["id"] for k in gw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [second["id"]]
    assert gw.get_usage_plan_keys(usagePlanId=other["id"])["items"] == []
    error_of(gw.get_usage_plan_key, 404, usagePlanId=plan["id"], keyId=key["id"])
    resp = gw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=second["id"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert gw.get_usage_plan_keys(usagePlanId=plan["id"])["items"] == []
    assert gw.get_api_key(apiKey=second["id"])["id"] == second["id"]
    error_of(gw.delete_usage_plan_key, 404, usagePlanId=plan["id"], keyId=second["id"])
    error_of(gw.get_usage_plan_keys, 404, usagePlanId="nope00")

    # A deleted plan takes its links with it.
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=second["id"], keyType="API_KEY")
    gw.delete_usage_plan(usagePlanId=plan["id"])
    assert gw.get_usage_plans(keyId=second["id"])["items"] == []


def test_import_api_keys(gw):
    plan = gw.create_usage_plan(name=f"plan-{_unique()}")
    name = f"imp-{_unique()}"
    v1, v2 = _value(), _value()
    body = (
        "Name,key,description,Enabled,usageplanIds,ignored\n"
        f"{name}-1,{v1},first imported,TRUE,{plan['id']},x\n"
        f"{name}-2,{v2},,false,,x\n"
        f"{name}-3,short,,true,,x\n"
    )
    answer = gw.import_api_keys(body=body.encode(), format="csv")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert len(answer["ids"]) == 2 and len(answer["warnings"]) == 1
    first = gw.get_api_key(apiKey=answer["ids"][0], includeValue=True)
    assert (first["name"], first["value"], first["description"], first["enabled"]) == (
        f"{name}-1",
        v1,
        "first imported",
        True,
    )
    assert gw.get_api_key(apiKey=answer["ids"][1])["enabled"] is False
    assert [k["id"] for k in gw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [answer["ids"][0]]

    # The same value again overwrites the key it names.
    again = gw.import_api_keys(body=f"key,name\n{v1},{name}-renamed\n".encode(), format="csv")
    assert again["ids"] == [answer["ids"][0]] and again["warnings"] == []
    assert gw.get_api_key(apiKey=answer["ids"][0])["name"] == f"{name}-renamed"

    err = error_of(gw.import_api_keys, 400, body=f"name\n{name}\n".encode(), format="csv")
    assert err["Code"] == "BadRequestException"
    failing = f"name,key\n{name}-4,{_value()}\n{name}-5,short\n".encode()
    error_of(gw.import_api_keys, 400, body=failing, format="csv", failOnWarnings=True)
    assert gw.get_api_keys(nameQuery=f"{name}-4")["items"] == []


def test_tags(gw, stage):
    api_id, stage_name = stage
    key = gw.create_api_key(name=f"k-{_unique()}", tags={"a": "1"})
    plan = gw.create_usage_plan(name=f"plan-{_unique()}")
    prefix = "arn:aws:apigateway:us-east-1::"
    arns = [
        f"{prefix}/restapis/{api_id}",
        f"{prefix}/restapis/{api_id}/stages/{stage_name}",
        f"{prefix}/apikeys/{key['id']}",
        f"{prefix}/usageplans/{plan['id']}",
    ]
    for arn in arns:
        start = gw.get_tags(resourceArn=arn)["tags"]
        assert gw.tag_resource(resourceArn=arn, tags={"env": "dev", "team": "x"})["ResponseMetadata"][
            "HTTPStatusCode"
        ] in (200, 204)
        assert gw.get_tags(resourceArn=arn)["tags"] == {**start, "env": "dev", "team": "x"}
        gw.untag_resource(resourceArn=arn, tagKeys=["team", "absent"])
        assert gw.get_tags(resourceArn=arn)["tags"] == {**start, "env": "dev"}
    # The documents carry the tags.
    assert gw.get_rest_api(restApiId=api_id)["tags"] == {"env": "dev"}
    assert gw.get_stage(restApiId=api_id, stageName=stage_name)["tags"] == {"env": "dev"}
    assert gw.get_api_key(apiKey=key["id"])["tags"] == {"a": "1", "env": "dev"}
    assert gw.get_usage_plan(usagePlanId=plan["id"])["tags"] == {"env": "dev"}

    err = error_of(gw.get_tags, 404, resourceArn=f"{prefix}/apikeys/missing123")
    assert err == {"Code": "NotFoundException", "Message": "Invalid API Key identifier specified"}
    error_of(gw.tag_resource, 404, resourceArn=f"{prefix}/usageplans/nope00", tags={"a": "b"})
    error_of(gw.tag_resource, 404, resourceArn=f"{prefix}/restapis/{api_id}/stages/nope", tags={"a": "b"})
    err = error_of(gw.untag_resource, 404, resourceArn=f"{prefix}/restapis/missing123", tagKeys=["a"])
    assert err["Message"] == "Invalid API identifier specified 000000000000:missing123"
    error_of(gw.get_tags, 400, resourceArn="arn:aws:apigateway:us-east-1::/widgets/x")
