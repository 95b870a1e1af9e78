"""Access logs of HTTP API stages: one line per request in the stage's AccessLogSettings format ($context variables
substituted, "-" for none) appended to the CloudWatch Logs group it names — matched routes, misses and CORS
preflights alike."""

from __future__ import annotations

import json

import httpx

from tests.lambda_.helpers import create, wait_until

HANDLER = """
def handler(event, context):
    return {"statusCode": 201, "body": "made"}
"""
FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "path": "$context.path",
        "status": "$context.status",
        "length": "$context.responseLength",
        "stage": "$context.stage",
        "missing": "$context.authorizer.claims.sub",
    }
)


def test_lines_in_the_stage_format(broker):
    gw2, logs = broker.client("apigatewayv2"), broker.client("logs")
    fn = create(broker.client("lambda", read_timeout=60), "gw2-logged", source=HANDLER)["FunctionArn"]
    api = gw2.create_api(Name="logged", ProtocolType="HTTP", Target=fn, RouteKey="POST /items")
    logs.create_log_group(logGroupName="gw2-access")
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:gw2-access"
    gw2.update_stage(
        ApiId=api["ApiId"], StageName="$default", AccessLogSettings={"DestinationArn": arn, "Format": FORMAT}
    )
    base = f"{broker.url}/_aws/execute-api/{api['ApiId']}"
    made = httpx.post(f"{base}/items", content=b"{}", timeout=60)
    missed = httpx.get(f"{base}/nowhere", timeout=60)
    assert (made.status_code, missed.status_code) == (201, 404)

    def lines() -> list[dict]:
        events = logs.filter_log_events(logGroupName="gw2-access")["events"]
        return [json.loads(e["message"]) for e in events]

    wait_until(lambda: len(lines()) == 2)
    first, second = sorted(lines(), key=lambda line: line["status"])
    assert first == {
        "requestId": made.headers["apigw-requestid"], "ip": "127.0.0.1", "method": "POST", "routeKey": "POST /items",
        "path": "/items", "status": "201", "length": "4", "stage": "$default", "missing": "-",
    }  # fmt: skip
    assert (second["status"], second["routeKey"], second["path"]) == ("404", "-", "/nowhere")
