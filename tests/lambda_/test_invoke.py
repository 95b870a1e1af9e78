"""Invoking functions through boto3 against a real server: results, errors, logs, aliases, limits, restarts."""

from __future__ import annotations

import base64
import json
import shutil
import threading
import time
from collections import Counter

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.lambda_.helpers import ARN, ROLE, create, runtime_pids, zip_of


def _invoke(lam, name: str, event: object = None, **kw) -> tuple[dict, object]:
    r = lam.invoke(FunctionName=name, Payload=json.dumps(event if event is not None else {}), **kw)
    return r, json.loads(r["Payload"].read() or b"null")


def test_invoke_python_function(broker, lam):
    create(lam, "echo", Environment={"Variables": {"GREETING": "hi"}})
    r, body = _invoke(lam, "echo", {"n": 1}, LogType="Tail")
    assert r["StatusCode"] == 200 and "FunctionError" not in r
    assert r["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"n": 1}
    assert body["version"] == "$LATEST" and body["memory"] == "128"
    if shutil.which("python3.12") or any(shutil.os.path.isdir(f"/root/.pyenv/versions/{v}") for v in ("3.12.1",)):
        assert body["python"].startswith("3.12")
    log = base64.b64decode(r["LogResult"]).decode()
    assert f"START RequestId: {body['request_id']} Version: $LATEST" in log
    assert f"END RequestId: {body['request_id']}" in log
    assert "REPORT RequestId: " in log and "Init Duration: " in log  # a cold start
    r2, body2 = _invoke(lam, "echo", {"n": 2}, LogType="Tail")
    assert "Init Duration" not in base64.b64decode(r2["LogResult"]).decode()  # warm
    assert body2["request_id"] != body["request_id"]

    logs = broker.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/echo")["logStreams"]
    assert streams and streams[0]["logStreamName"].endswith(streams[0]["logStreamName"][-32:])
    events = logs.filter_log_events(logGroupName="/aws/lambda/echo", filterPattern="START")["events"]
    assert len(events) == 2


def test_invoke_errors_and_kinds(lam):
    create(lam, "boom", source="def handler(event, context):\n    raise ValueError('bad ' + str(event['x']))\n")
    r, body = _invoke(lam, "boom", {"x": 7})
    assert r["StatusCode"] == 200 and r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "bad 7"
    assert isinstance(body["stackTrace"], list)

    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="boom", Payload=b"{not json")
    assert e.value.response["Error"]["Code"] == "InvalidRequestContentException"
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="missing", Payload=b"{}")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert e.value.response["Error"]["Message"] == f"Function not found: {ARN}:missing"

    dry = lam.invoke(FunctionName="boom", InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    event = lam.invoke(FunctionName="boom", InvocationType="Event", Payload=b'{"x": 1}')
    assert event["StatusCode"] == 202
    legacy = lam.invoke_async(FunctionName="boom", InvokeArgs=b'{"x": 2}')
    assert legacy["Status"] == 202


def test_timeout_is_reported_and_the_environment_replaced(lam):
    src = "import time\n\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return 'ok'\n"
    create(lam, "slow", source=src, Timeout=1)
    r, body = _invoke(lam, "slow", {"sleep": 5})
    assert r["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    r, body = _invoke(lam, "slow", {"sleep": 0})
    assert "FunctionError" not in r and body == "ok"


def test_alias_weights_route_invocations(lam):
    create(lam, "weighted", source="def handler(e, c):\n    return c.function_version\n")
    lam.publish_version(FunctionName="weighted")
    lam.update_function_configuration(FunctionName="weighted", Description="v2")
    lam.publish_version(FunctionName="weighted")
    lam.create_alias(FunctionName="weighted", Name="split", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})  # fmt: skip
    seen: Counter[str] = Counter()
    for _ in range(60):
        r, body = _invoke(lam, "weighted", Qualifier="split")
        assert body == r["ExecutedVersion"]
        seen[body] += 1
    assert set(seen) == {"1", "2"} and 12 <= seen["2"] <= 48  # p(outside) < 1e-5 for a fair coin


def test_node_and_shell_functions(lam):
    node = (
        "exports.handler = async (event, context) => ({ node: process.version, name: context.functionName, event });\n"
    )
    lam.create_function(FunctionName="js", Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": zip_of({"index.js": node})})  # fmt: skip
    r, body = _invoke(lam, "js", {"k": "v"})
    assert "FunctionError" not in r, body
    assert body["name"] == "js" and body["event"] == {"k": "v"} and body["node"].startswith("v")

    bootstrap = """#!/bin/sh
set -euo pipefail
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response" \\
    -d "{\\"shell\\": true, \\"got\\": $EVENT}" > /dev/null
done
"""
    lam.create_function(FunctionName="sh", Runtime="provided.al2023", Role=ROLE, Handler="unused",
                        Code={"ZipFile": zip_of({"bootstrap": bootstrap}, modes={"bootstrap": 0o755})})  # fmt: skip
    _, body = _invoke(lam, "sh", {"a": 1})
    assert body == {"shell": True, "got": {"a": 1}}


# A handler that marks (in a file the test names) that it is running, then waits for the test's release file:
# invocations the test starts between the two certainly overlap it, however slow the machine is.
HOLDER = """
import pathlib, time

def handler(event, context):
    if event.get("mark"):
        pathlib.Path(event["mark"]).write_text(context.aws_request_id)
        deadline = time.monotonic() + 20
        while not pathlib.Path(event["release"]).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    return "done"
"""


def _hold(server, name: str, mark, outcomes: list[str]) -> threading.Thread:
    """Start an invocation that holds its slot from its mark until the test writes `<mark>.release`."""
    client = server.client("lambda", read_timeout=60)
    event = {"mark": str(mark), "release": f"{mark}.release"}
    t = threading.Thread(target=lambda: outcomes.append(_invoke(client, name, event)[1]))
    t.start()
    deadline = time.monotonic() + 30
    while not mark.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mark.exists(), "the holding invocation did not start"
    return t


def _burst(server, names: list[str]) -> list[str]:
    """Invoke each name at once (one client and connection each); the outcomes."""
    clients = [server.client("lambda", read_timeout=60) for _ in names]
    outcomes: list[str] = []

    def call(client, name: str) -> None:
        try:
            outcomes.append(_invoke(client, name, {})[1])
        except ClientError as e:
            outcomes.append(e.response["Error"]["Code"] + ":" + e.response.get("Reason", ""))

    threads = [threading.Thread(target=call, args=pair) for pair in zip(clients, names, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_reserved_concurrency_is_a_cap_across_workers(server_factory, backend, tmp_path):
    server = server_factory(backend=backend, workers=2).start()
    lam = server.client("lambda", read_timeout=60)
    create(lam, "capped", source=HOLDER, Timeout=30)
    lam.put_function_concurrency(FunctionName="capped", ReservedConcurrentExecutions=1)
    held: list[str] = []
    holder = _hold(server, "capped", tmp_path / "capped", held)
    limit = "TooManyRequestsException:ReservedFunctionConcurrentInvocationLimitExceeded"
    assert _burst(server, ["capped"] * 4) == [limit] * 4  # each worker refuses: the one slot is taken
    (tmp_path / "capped.release").write_text("go")
    holder.join()
    assert held == ["done"]
    assert _burst(server, ["capped"]) == ["done"]  # the slot is free again
    lam.put_function_concurrency(FunctionName="capped", ReservedConcurrentExecutions=0)
    assert _burst(server, ["capped"]) == [limit]


def test_account_concurrency_limit_holds_across_workers(server_factory, tmp_path):
    server = server_factory(workers=2, env={"BROKER_LAMBDA_ACCOUNT_CONCURRENCY": "2"}).start()
    lam = server.client("lambda", read_timeout=60)
    assert lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 2
    create(lam, "pool-a", source=HOLDER, Timeout=30)
    create(lam, "pool-b", source=HOLDER, Timeout=30)
    held: list[str] = []
    holders = [_hold(server, name, tmp_path / name, held) for name in ("pool-a", "pool-b")]
    limit = "TooManyRequestsException:ConcurrentInvocationLimitExceeded"
    assert _burst(server, ["pool-a", "pool-b", "pool-a"]) == [limit] * 3
    for name in ("pool-a", "pool-b"):
        (tmp_path / f"{name}.release").write_text("go")
    for t in holders:
        t.join()
    assert held == ["done", "done"]


def test_functions_survive_kill_9(server_factory):
    server = server_factory().start()
    lam = server.client("lambda", read_timeout=60)
    layer = lam.publish_layer_version(
        LayerName="shared", Content={"ZipFile": zip_of({"python/shared_lib.py": "WORD = 'from the layer'\n"})}
    )["LayerVersionArn"]
    src = "import shared_lib\n\ndef handler(e, c):\n    return ['v', c.function_version, shared_lib.WORD]\n"
    create(lam, "durable", source=src, Layers=[layer])
    lam.publish_version(FunctionName="durable")
    lam.create_alias(FunctionName="durable", Name="live", FunctionVersion="1")
    _invoke(lam, "durable")
    before = runtime_pids("durable", server.port)
    assert before  # the warm environment
    server.kill()  # kill -9: the runtime processes must not outlive their worker
    deadline = time.monotonic() + 10
    while runtime_pids("durable", server.port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert runtime_pids("durable", server.port) == set()
    server.start()
    lam = server.client("lambda", read_timeout=60)
    assert lam.get_function(FunctionName="durable")["Configuration"]["State"] == "Active"
    _, body = _invoke(lam, "durable", Qualifier="live")
    assert body == ["v", "1", "from the layer"]
    _, body = _invoke(lam, "durable")
    assert body == ["v", "$LATEST", "from the layer"]
    assert lam.get_layer_version_by_arn(Arn=layer)["Version"] == 1


def test_execution_can_be_turned_off(server_factory):
    server = server_factory(env={"BROKER_LAMBDA_ENABLED": "false"}).start()
    lam = server.client("lambda")
    create(lam, "off")
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="off", Payload=b"{}")
    assert "lambda_enabled" in e.value.response["Error"]["Message"]
    assert lam.invoke(FunctionName="off", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202


def test_invoke_with_response_stream(lam):
    create(lam, "streamed", source="def handler(event, context):\n    return {'streamed': event}\n")
    r = lam.invoke_with_response_stream(FunctionName="streamed", Payload=b'{"a": 1}', LogType="Tail")
    assert r["StatusCode"] == 200 and r["ExecutedVersion"] == "$LATEST"
    chunks, complete = [], None
    for event in r["EventStream"]:
        if "PayloadChunk" in event:
            chunks.append(event["PayloadChunk"]["Payload"])
        elif "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    assert json.loads(b"".join(chunks)) == {"streamed": {"a": 1}}
    assert complete is not None and "ErrorCode" not in complete
    assert "REPORT RequestId" in base64.b64decode(complete["LogResult"]).decode()

    create(lam, "streamed-fail", source="def handler(event, context):\n    raise KeyError('k')\n")
    r = lam.invoke_with_response_stream(FunctionName="streamed-fail", Payload=b"{}")
    events = list(r["EventStream"])
    complete = next(e["InvokeComplete"] for e in events if "InvokeComplete" in e)
    assert complete["ErrorCode"] == "KeyError"


def test_environments_of_changed_and_deleted_functions_stop(broker, lam):
    create(lam, "churn")
    _invoke(lam, "churn")
    first = runtime_pids("churn", broker.port)
    assert first
    lam.update_function_configuration(FunctionName="churn", Description="a new revision, the same runtime")
    lam.tag_resource(Resource=f"{ARN}:churn", Tags={"k": "v"})
    _invoke(lam, "churn")
    assert runtime_pids("churn", broker.port) == first  # still warm: nothing the runtime sees changed
    lam.update_function_configuration(FunctionName="churn", MemorySize=256)
    _invoke(lam, "churn")
    deadline = time.monotonic() + 10
    while runtime_pids("churn", broker.port) & first and time.monotonic() < deadline:
        time.sleep(0.05)
    second = runtime_pids("churn", broker.port)
    assert second and not second & first  # the old revision's environment was stopped
    lam.delete_function(FunctionName="churn")
    while runtime_pids("churn", broker.port) and time.monotonic() < deadline + 10:
        time.sleep(0.05)
    assert runtime_pids("churn", broker.port) == set()


def test_sdks_inside_functions_reach_the_broker(broker, lam):
    """boto3 in a Python function and the AWS SDK for JavaScript v3 in an ES-module Node function call the broker
    unchanged: AWS_ENDPOINT_URL, the region and credentials come from the function's environment."""
    sqs = broker.client("sqs")
    url = sqs.create_queue(QueueName="from-functions")["QueueUrl"]
    py = """
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="from-functions")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="from python " + boto3.__version__)
    return boto3.client("sts").get_caller_identity()["Account"]
"""
    create(lam, "py-sdk", source=py, Timeout=30)
    r, body = _invoke(lam, "py-sdk")
    assert "FunctionError" not in r, body
    assert body == "000000000000"
    node = """
import { SQSClient, GetQueueUrlCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
const sqs = new SQSClient({});
export const handler = async () => {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: "from-functions" }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "from node" }));
  return "sent";
};
"""
    lam.create_function(FunctionName="node-sdk", Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                        Timeout=30, Code={"ZipFile": zip_of({"index.mjs": node})})  # fmt: skip
    r, body = _invoke(lam, "node-sdk")
    assert "FunctionError" not in r, body
    assert body == "sent"
    bodies = set()
    for _ in range(5):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.add(m["Body"])
        if len(bodies) == 2:
            break
    assert "from node" in bodies and any(b.startswith("from python 1.") for b in bodies)


def test_client_context_reaches_the_function_and_stop_leaves_no_process(server_factory):
    server = server_factory().start()
    lam = server.client("lambda", read_timeout=60)
    src = "def handler(event, context):\n    cc = context.client_context\n    return cc.custom if cc else None\n"
    create(lam, "ctx", source=src)
    cc = base64.b64encode(json.dumps({"custom": {"k": "v"}, "client": {}, "env": {}}).encode()).decode()
    r, body = _invoke(lam, "ctx", ClientContext=cc)
    assert body == {"k": "v"}, body
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="ctx", Payload=b"{}", ClientContext="not base64 json")
    assert e.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert runtime_pids("ctx", server.port)
    server.stop()  # a graceful stop takes the environments with it
    assert runtime_pids("ctx", server.port) == set()


def test_provisioned_concurrency_starts_environments_ahead(broker, lam):
    src = "import os\n\ndef handler(event, context):\n    return os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']\n"
    create(lam, "prov", source=src)
    lam.publish_version(FunctionName="prov")
    lam.create_alias(FunctionName="prov", Name="live", FunctionVersion="1")
    lam.put_provisioned_concurrency_config(FunctionName="prov", Qualifier="live", ProvisionedConcurrentExecutions=2)
    deadline = time.monotonic() + 15
    while len(runtime_pids("prov", broker.port)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(runtime_pids("prov", broker.port)) >= 2  # started before any invocation
    r, body = _invoke(lam, "prov", Qualifier="live", LogType="Tail")
    assert body == "provisioned-concurrency"
    assert "Init Duration" not in base64.b64decode(r["LogResult"]).decode()  # no cold start
    lam.delete_provisioned_concurrency_config(FunctionName="prov", Qualifier="live")
    r, body = _invoke(lam, "prov")  # $LATEST: an ordinary on-demand environment
    assert body == "on-demand"


def test_invoke_limits_and_answers_without_running(broker, lam):
    """Limits, client contexts, throttling and dry runs, all answered before any function runs."""
    create(lam, "limits")
    too_big = b'"' + b"x" * 6_291_456 + b'"'
    for call in (lam.invoke, lam.invoke_with_response_stream):
        with pytest.raises(ClientError) as e:
            call(FunctionName="limits", Payload=too_big)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        assert e.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert e.value.response["Error"]["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeWithResponseStream operation"
    )
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="limits", Payload=too_big)
    assert (
        e.value.response["Error"]["Message"]
        == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    event = b'"' + b"x" * 1_048_575 + b'"'
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="limits", InvocationType="Event", Payload=event)
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
        "RequestEntityTooLargeException",
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)",
    )

    # ClientContext: at most 3,583 bytes of base64, holding a JSON object.
    for cc, code in (
        (
            base64.b64encode(json.dumps({"custom": {"k": "v" * 2700}}).encode()).decode(),
            "InvalidParameterValueException",
        ),
        (base64.b64encode(b"[1]").decode(), "InvalidRequestContentException"),
    ):
        with pytest.raises(ClientError) as e:
            lam.invoke(FunctionName="limits", Payload=b"{}", ClientContext=cc)
        assert e.value.response["Error"]["Code"] == code, cc[:20]
    fits = base64.b64encode(json.dumps({"custom": {"k": "v" * 2600}}).encode()).decode()
    assert len(fits) < 3583
    assert lam.invoke(FunctionName="limits", InvocationType="DryRun", ClientContext=fits)["StatusCode"] == 204

    dry = lam.invoke_with_response_stream(FunctionName="limits", InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204 and list(dry["EventStream"]) == []

    # Throttling: Retry-After travels as the header the model gives it, not in the body.
    lam.put_function_concurrency(FunctionName="limits", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="limits", Payload=b"{}")
    assert e.value.response["retryAfterSeconds"] == "1"
    assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    r = httpx.post(f"{broker.url}/2015-03-31/functions/limits/invocations", content=b"{}", timeout=30)
    assert (r.status_code, r.headers["retry-after"]) == (429, "1")
    assert r.json() == {
        "Type": "User",
        "message": "Rate Exceeded.",
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
    }


def test_a_crashed_runtime_is_runtime_exit_error_and_replaced(lam):
    src = "import os\n\ndef handler(event, context):\n    if event.get('crash'):\n        os._exit(3)\n"
    src += "    return 'alive'\n"
    create(lam, "crashy", source=src)
    r, body = _invoke(lam, "crashy", {"crash": True})
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]
    r, body = _invoke(lam, "crashy", {})
    assert "FunctionError" not in r and body == "alive"
