"""A deployed API survives kill -9: after the broker is killed and started again on the same data, the same URLs
answer the same way, and everything acknowledged (API keys, stage variables, the deployment's snapshot) is there."""

from __future__ import annotations

import httpx

from tests.lambda_.helpers import create

ECHO = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"path": event["path"], "stage": event["stageVariables"]})}
"""

ECHO_V2 = """
def handler(event, context):
    return {"path": event["rawPath"], "stage": event.get("stageVariables")}
"""


def test_deployed_api_answers_after_kill_9(server_factory, backend):
    server = server_factory(backend, workers=2).start()
    gw = server.client("apigateway")
    fn = create(server.client("lambda", read_timeout=60), "gw-durable", source=ECHO)["FunctionArn"]
    api = gw.create_rest_api(name="durable")
    api_id, root = api["id"], api["rootResourceId"]
    proxy = gw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    gw.put_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
    gw.put_integration(
        restApiId=api_id, resourceId=proxy, httpMethod="ANY", type="AWS_PROXY", integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn}/invocations",
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="live", variables={"v": "1"})
    key = gw.create_api_key(name="k", enabled=True)["id"]
    url = f"{server.url}/_aws/execute-api/{api_id}/live/a/b"
    before = httpx.get(url, timeout=60)
    assert before.status_code == 200 and before.json() == {"path": "/a/b", "stage": {"v": "1"}}

    server.kill()
    server.start()

    after = httpx.get(url, timeout=60)
    assert (after.status_code, after.json()) == (200, before.json())
    host = httpx.get(f"{server.url}/live/a/b", headers={"host": f"{api_id}.execute-api.localhost"}, timeout=60)
    assert host.status_code == 200
    gw = server.client("apigateway")
    assert gw.get_stage(restApiId=api_id, stageName="live")["variables"] == {"v": "1"}
    assert gw.get_api_key(apiKey=key)["name"] == "k"
    assert {r["path"] for r in gw.get_resources(restApiId=api_id)["items"]} == {"/", "/{proxy+}"}


def test_quick_created_http_api_answers_after_kill_9(server_factory, backend):
    server = server_factory(backend, workers=2).start()
    fn = create(server.client("lambda", read_timeout=60), "gw2-durable", source=ECHO_V2)["FunctionArn"]
    gw2 = server.client("apigatewayv2")
    api = gw2.create_api(Name="durable", ProtocolType="HTTP", Target=fn)
    named = gw2.create_stage(ApiId=api["ApiId"], StageName="beta", AutoDeploy=True, StageVariables={"v": "2"})
    url = f"{server.url}/_aws/execute-api/{api['ApiId']}"
    before = (httpx.get(f"{url}/x/y", timeout=60), httpx.get(f"{url}/beta/x/y", timeout=60))
    assert [r.status_code for r in before] == [200, 200], [r.text for r in before]

    server.kill()
    server.start()

    after = (httpx.get(f"{url}/x/y", timeout=60), httpx.get(f"{url}/beta/x/y", timeout=60))
    assert [(r.status_code, r.json()) for r in after] == [(200, r.json()) for r in before]
    assert after[1].json()["stage"] == {"v": "2"}
    gw2 = server.client("apigatewayv2")
    stage = gw2.get_stage(ApiId=api["ApiId"], StageName="beta")
    assert (stage["AutoDeploy"], stage["DeploymentId"]) == (True, named["DeploymentId"])
    assert [r["RouteKey"] for r in gw2.get_routes(ApiId=api["ApiId"])["Items"]] == ["$default"]
