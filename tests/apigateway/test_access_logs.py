"""Access logs of REST API stages: UpdateStage's /accessLogSettings, and one line per request, in the stage's format
with its $context variables substituted, appended to the CloudWatch Logs group it names (read back with the logs
API); nothing for a group that does not exist."""

from __future__ import annotations

import json
import re
import time

from tests.apigateway.helpers import error_of
from tests.apigateway.test_usage_plans import get, keyed_plan, mock_api, throttle_stage

JSON_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "apiKey": "$context.identity.apiKey",
        "method": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "apiId": "$context.apiId",
        "stage": "$context.stage",
        "error": "$context.error.message",
        "responseType": "$context.error.responseType",
        "requestTime": "$context.requestTime",
        "latency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
    }
)
CLF_FORMAT = (
    "$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "
    '"$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength '
    "$context.requestId"
)


def group_arn(name: str) -> str:
    return f"arn:aws:logs:us-east-1:000000000000:log-group:{name}"


def log_to(gw, api_id: str, group: str, fmt: str) -> dict:
    return gw.update_stage(
        restApiId=api_id, stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": group_arn(group)},
            {"op": "replace", "path": "/accessLogSettings/format", "value": fmt},
        ],
    )  # fmt: skip


def lines(logs, group: str, n: int, timeout: float = 10) -> list[dict]:
    """The first `n` events of a group (they are written just after the answers), waiting a bounded time."""
    deadline = time.monotonic() + timeout
    while True:
        events = logs.filter_log_events(logGroupName=group)["events"]
        if len(events) >= n or time.monotonic() > deadline:
            return sorted(events, key=lambda e: (e["timestamp"], e["eventId"]))
        time.sleep(0.05)


def test_json_lines_for_answers_and_refusals(broker, gw):
    logs = broker.client("logs")
    logs.create_log_group(logGroupName="access/json")
    api_id = mock_api(gw)
    key = "j" * 24
    keyed_plan(gw, api_id, [key])
    stage = log_to(gw, api_id, "access/json", JSON_FORMAT)
    assert stage["accessLogSettings"] == {"destinationArn": group_arn("access/json"), "format": JSON_FORMAT}
    ok = get(broker, api_id, "/pets", key)
    denied = get(broker, api_id, "/pets")  # no key: 403
    throttle_stage(gw, api_id, "*/*", "0.001", "0")
    throttled = get(broker, api_id, "/", key)
    assert [ok.status_code, denied.status_code, throttled.status_code] == [200, 403, 429]
    events = lines(logs, "access/json", 3)
    assert len(events) == 3
    first, second, third = (json.loads(e["message"]) for e in events)
    assert first == {
        "requestId": ok.headers["x-amzn-requestid"],
        "extendedRequestId": first["extendedRequestId"],
        "ip": "127.0.0.1",
        "caller": "-",
        "apiKey": key,
        "method": "GET",
        "resourcePath": "/pets",
        "path": "/prod/pets",
        "status": "200",
        "protocol": "HTTP/1.1",
        "responseLength": "12",
        "apiId": api_id,
        "stage": "prod",
        "error": "-",
        "responseType": "-",
        "requestTime": first["requestTime"],
        "latency": first["latency"],
        "integrationLatency": first["integrationLatency"],
    }
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", first["requestTime"])
    assert first["latency"].isdigit() and first["integrationLatency"].isdigit()
    assert second["integrationLatency"] == "-"  # refused before the integration
    assert (second["status"], second["error"], second["responseType"], second["apiKey"]) == (
        "403", "Forbidden", "INVALID_API_KEY", "-"
    )  # fmt: skip
    assert second["requestId"] == denied.headers["x-amzn-requestid"]
    assert (third["status"], third["error"], third["resourcePath"]) == ("429", "Too Many Requests", "/")
    streams = logs.describe_log_streams(logGroupName="access/json")["logStreams"]
    assert len(streams) == 1 and re.fullmatch(r"[0-9a-f]{32}", streams[0]["logStreamName"])
    by_stream = logs.get_log_events(logGroupName="access/json", logStreamName=streams[0]["logStreamName"])
    assert [e["message"] for e in by_stream["events"]] == [e["message"] for e in events]


def test_clf_lines(broker, gw):
    logs = broker.client("logs")
    logs.create_log_group(logGroupName="access-clf")
    api_id = mock_api(gw, key_required=False)
    log_to(gw, api_id, "access-clf", CLF_FORMAT)
    answers = [get(broker, api_id, "/pets"), get(broker, api_id, "/")]
    events = lines(logs, "access-clf", 2)
    clf = re.compile(
        r'127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET (\S+) HTTP/1\.1" 200 12 (\S+)'
    )
    found = [clf.fullmatch(e["message"]) for e in events]
    assert all(found), [e["message"] for e in events]
    assert sorted((m.group(1), m.group(2)) for m in found if m) == sorted(
        [("/pets", answers[0].headers["x-amzn-requestid"]), ("/", answers[1].headers["x-amzn-requestid"])]
    )


def test_no_group_no_lines_and_settings_removed(broker, gw):
    logs = broker.client("logs")
    api_id = mock_api(gw, key_required=False)
    log_to(gw, api_id, "access/later", "$context.requestId $context.status")
    assert get(broker, api_id).status_code == 200
    time.sleep(0.3)  # the undeliverable line has had its chance to be written
    assert logs.describe_log_groups(logGroupNamePrefix="access/later")["logGroups"] == []
    logs.create_log_group(logGroupName="access/later")
    r = get(broker, api_id)
    events = lines(logs, "access/later", 1)
    assert [e["message"] for e in events] == [f"{r.headers['x-amzn-requestid']} 200"]
    stage = gw.update_stage(
        restApiId=api_id, stageName="prod", patchOperations=[{"op": "remove", "path": "/accessLogSettings"}]
    )
    assert "accessLogSettings" not in stage
    assert "accessLogSettings" not in gw.get_stage(restApiId=api_id, stageName="prod")
    get(broker, api_id)
    time.sleep(0.3)
    assert len(logs.filter_log_events(logGroupName="access/later")["events"]) == 1


def test_access_log_settings_errors(broker, gw):
    api_id = mock_api(gw, key_required=False)

    def patch(path: str, value: str, op: str = "replace") -> dict:
        return error_of(
            gw.update_stage, 400, restApiId=api_id, stageName="prod",
            patchOperations=[{"op": op, "path": path, "value": value}],
        )  # fmt: skip

    assert patch("/accessLogSettings/destinationArn", "not-an-arn")["Code"] == "BadRequestException"
    assert patch("/accessLogSettings/destinationArn", "arn:aws:sqs:us-east-1:000000000000:q")["Code"] == (
        "BadRequestException"
    )
    firehose = "arn:aws:firehose:us-east-1:000000000000:deliverystream/other"
    assert patch("/accessLogSettings/destinationArn", firehose)["Code"] == "BadRequestException"
    assert patch("/accessLogSettings/format", "$context.status")["Code"] == "BadRequestException"
    assert patch("/accessLogSettings/level", "x")["Code"] == "BadRequestException"
    assert patch("/accessLogSettings", "x")["Code"] == "BadRequestException"
    ok = gw.update_stage(
        restApiId=api_id, stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.extendedRequestId"},
            {"op": "replace", "path": "/accessLogSettings/destinationArn",
             "value": "arn:aws:firehose:us-east-1:000000000000:deliverystream/amazon-apigateway-x"},
        ],
    )  # fmt: skip
    assert ok["accessLogSettings"]["format"] == "$context.extendedRequestId"
    assert get(broker, api_id).status_code == 200  # a Firehose destination takes nothing, answers are unchanged
