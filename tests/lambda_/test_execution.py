"""The Lambda execution engine driven directly (in-process): runtimes, the Runtime API, errors, timeouts, logs,
layers, warm reuse, reaping, provisioned concurrency, and that no process outlives the engine."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from broker.config import Settings
from broker.services.lambda_.execution import Engine, ExecutionDisabled, FunctionSpec, Invocation, Outcome
from broker.services.lambda_.execution.install import install
from broker.services.lambda_.execution.interpreters import discover_python

ACCOUNT = "123456789012"
ENDPOINT = "http://127.0.0.1:4566"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(scope="session", autouse=True)
def runtimes():
    """awslambdaric + boto3 per Python version and the AWS SDK for JavaScript (a no-op once installed)."""
    install(Settings(), say=lambda _: None)


def spec(code: Path, runtime: str, handler: str, **kw) -> FunctionSpec:
    name = kw.pop("name", "fn")
    values = {
        "key": f"{name}-{runtime}-{handler}-{code}",
        "function_name": name,
        "function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
        "version": "$LATEST",
        "runtime": runtime,
        "handler": handler,
        "code_dir": code,
        "layer_dirs": (),
        "environment": {},
        "memory_mb": 256,
        "timeout_s": 5,
        "account": ACCOUNT,
        "region": "us-east-1",
        "log_group": f"/aws/lambda/{name}",
    }
    values.update(kw)
    return FunctionSpec(**values)


def inv(payload: object = None, **kw) -> Invocation:
    body = json.dumps({} if payload is None else payload).encode()
    return Invocation(request_id=str(uuid.uuid4()), payload=body, invoked_arn=kw.pop("arn", ""), **kw)


def write(folder: Path, files: dict[str, str], mode: int = 0o644) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        path.chmod(mode)
    return folder


def run(coro):
    return asyncio.run(coro)


async def invoke(engine: Engine, fn: FunctionSpec, payload: object = None, **kw) -> tuple[Outcome, object]:
    invocation = inv(payload, arn=kw.pop("arn", fn.function_arn), **kw)
    outcome = await engine.invoke(fn, invocation)
    try:
        return outcome, json.loads(outcome.payload)
    except ValueError:
        return outcome, None


def lines(outcome: Outcome) -> list[str]:
    return [line for _, line in outcome.log_events]


def gone(pid: int) -> bool:
    """Not running: no such process, or a zombie that is not ours to reap (reparented to init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    state, ppid = stat.rsplit(")", 1)[1].split()[:2]
    return state in ("Z", "X") and int(ppid) != os.getpid()


def check_frame(outcome: Outcome, request_id: str, version: str = "$LATEST") -> None:
    text = lines(outcome)
    starts = [i for i, line in enumerate(text) if line.startswith("START ")]
    assert text[starts[0]] == f"START RequestId: {request_id} Version: {version}"
    assert text[-2] == f"END RequestId: {request_id}"
    report = text[-1]
    assert re.fullmatch(
        rf"REPORT RequestId: {request_id}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: \d+ MB\t"
        r"Max Memory Used: \d+ MB\t(Init Duration: \d+\.\d\d ms\t)?(Status: \w+\t)?(Error Type: [\w.]+\t)?",
        report,
    ), report
    assert outcome.log_tail == "".join(line + "\n" for line in text).encode()[-4096:]


PROBE = """
    import os, sys, time
    INIT_PID = os.getpid()
    CALLS = 0
    print("init of", __name__)

    def handler(event, context):
        global CALLS
        CALLS += 1
        import boto3
        print("event", event)
        return {
            "version": "%d.%d" % sys.version_info[:2],
            "pid": os.getpid(),
            "calls": CALLS,
            "env": {k: v for k, v in os.environ.items()},
            "boto3": boto3.__version__,
            "sqs_endpoint": boto3.client("sqs").meta.endpoint_url,
            "context": {
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "aws_request_id": context.aws_request_id,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": context.get_remaining_time_in_millis(),
                "client_context": context.client_context.custom if context.client_context else None,
                "identity": context.identity.cognito_identity_id if context.identity else None,
            },
        }
"""


@pytest.mark.parametrize("runtime", ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13"])
def test_python_runs_on_its_interpreter_with_aws_environment_and_context(tmp_path, runtime, monkeypatch):
    version = runtime.removeprefix("python")
    if discover_python(version) is None and f"{sys.version_info[0]}.{sys.version_info[1]}" != version:
        pytest.skip(f"no {runtime} interpreter on this machine")
    monkeypatch.setenv("BROKER_SECRET_SETTING", "must-not-leak")
    code = write(tmp_path / "code", {"app.py": PROBE})
    fn = spec(code, runtime, "app.handler", environment={"GREETING": "hi"}, memory_mb=512, timeout_s=7)
    qualified = fn.function_arn + ":prod"
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}, "env": {}, "client": {}}).encode()).decode()
    identity = json.dumps({"cognitoIdentityId": "us-east-1:abc", "cognitoIdentityPoolId": "us-east-1:pool"})
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"

    async def go():
        engine = Engine(Settings(), ENDPOINT)
        try:
            first = inv(
                {"n": 1}, arn=qualified, client_context=client_context, cognito_identity=identity, trace_id=trace
            )
            outcome = await engine.invoke(fn, first)
            return first, outcome
        finally:
            await engine.stop()

    first, outcome = run(go())
    assert outcome.function_error is None, outcome.payload
    body = json.loads(outcome.payload)
    assert body["version"] == version
    assert body["boto3"]
    assert body["sqs_endpoint"] == ENDPOINT
    env = body["env"]
    expected = {
        "_HANDLER": "app.handler",
        "LAMBDA_TASK_ROOT": str(code),
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": outcome.log_stream,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_ACCESS_KEY_ID": ACCOUNT,
        "AWS_ENDPOINT_URL": ENDPOINT,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "_X_AMZN_TRACE_ID": trace,
        "GREETING": "hi",
    }
    assert {k: env.get(k) for k in expected} == expected
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LAMBDA_RUNTIME_DIR", "PATH", "LD_LIBRARY_PATH"):
        assert env.get(name), name
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert "BROKER_SECRET_SETTING" not in env
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", outcome.log_stream)
    ctx = body["context"]
    assert ctx["function_name"] == "fn" and ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == qualified
    assert ctx["memory_limit_in_mb"] == "512" or ctx["memory_limit_in_mb"] == 512
    assert ctx["aws_request_id"] == first.request_id
    assert ctx["log_group_name"] == "/aws/lambda/fn" and ctx["log_stream_name"] == outcome.log_stream
    assert 1000 < ctx["remaining"] <= 7000  # the deadline's countdown, less a cold start on a busy machine
    assert ctx["client_context"] == {"k": "v"}
    assert ctx["identity"] == "us-east-1:abc"
    text = lines(outcome)
    assert "init of app" in text[: text.index(f"START RequestId: {first.request_id} Version: $LATEST")]
    assert "event {'n': 1}" in text
    check_frame(outcome, first.request_id)
    assert outcome.init_duration_ms is not None and "Init Duration" in text[-1]
    assert outcome.max_memory_mb > 5
    assert outcome.billed_ms >= outcome.duration_ms


def test_warm_reuse_parallel_environments_and_python_errors(tmp_path):
    code = write(
        tmp_path / "code",
        {
            "app.py": """
                import builtins, os, time
                # Counted outside the module: a second import in the same process would show.
                builtins.app_imports = getattr(builtins, "app_imports", 0) + 1
                IMPORTS = builtins.app_imports
                def handler(event, context):
                    if event.get("fail"):
                        raise KeyError("missing thing")
                    time.sleep(event.get("sleep", 0))
                    return {"pid": os.getpid(), "imports": builtins.app_imports}
            """
        },
    )
    fn = spec(code, "python3.12", "app.handler")

    async def go():
        engine = Engine(Settings(), ENDPOINT)
        try:
            serial = [await invoke(engine, fn, {}) for _ in range(3)]
            failed = await invoke(engine, fn, {"fail": True})
            after = await invoke(engine, fn, {})
            parallel = await asyncio.gather(*(invoke(engine, fn, {"sleep": 0.4}) for _ in range(3)))
            return serial, failed, after, parallel, len(engine.environments(fn.key))
        finally:
            await engine.stop()

    serial, failed, after, parallel, count = run(go())
    assert {body["pid"] for _, body in serial} == {serial[0][1]["pid"]}  # one warm environment
    assert [body["imports"] for _, body in serial] == [1, 1, 1]  # the module was imported once
    assert serial[0][0].init_duration_ms is not None
    assert serial[1][0].init_duration_ms is None and "Init Duration" not in lines(serial[1][0])[-1]
    outcome, doc = failed
    assert outcome.function_error == "Unhandled"
    assert doc["errorType"] == "KeyError" and doc["errorMessage"] == "'missing thing'"
    assert doc["stackTrace"] and "app.py" in doc["stackTrace"][0]
    assert any(line.startswith("[ERROR] KeyError: 'missing thing'") for line in lines(outcome))
    assert after[1]["pid"] == serial[0][1]["pid"]  # a handled error keeps the environment
    assert len({body["pid"] for _, body in parallel}) == 3
    assert count == 3


def test_timeout_kills_the_process_group_and_the_next_invoke_starts_fresh(tmp_path):
    code = write(
        tmp_path / "code",
        {
            "app.py": """
                import os, subprocess, time
                def handler(event, context):
                    if event.get("spawn"):
                        child = subprocess.Popen(["sleep", "60"])
                        print("child", child.pid, "of", os.getpid(), flush=True)
                        time.sleep(30)
                    return {"pid": os.getpid()}
            """
        },
    )
    fn = spec(code, "python3.12", "app.handler", timeout_s=1)

    async def go():
        engine = Engine(Settings(), ENDPOINT)
        try:
            timed_out = await invoke(engine, fn, {"spawn": True})
            await asyncio.sleep(0.2)
            again = await invoke(engine, fn, {})
            return timed_out, again
        finally:
            await engine.stop()

    (outcome, doc), (_, again) = run(go())
    rid = outcome.log_events[-1][1].split()[2]
    assert outcome.function_error == "Unhandled"
    assert doc == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }
    text = lines(outcome)
    assert re.fullmatch(rf"{ISO} {rid} Task timed out after 1\.00 seconds", text[-3])
    assert text[-1].endswith("\tStatus: timeout\t")
    check_frame(outcome, rid)
    assert 1000 <= outcome.duration_ms < 1500
    child, runtime = (int(x) for x in re.search(r"child (\d+) of (\d+)", "\n".join(text)).groups())
    assert gone(child) and gone(runtime)
    assert again["pid"] != runtime


def test_crash_init_errors_and_missing_runtimes(tmp_path):
    crash = write(tmp_path / "crash", {"app.py": "import os\ndef handler(e, c):\n    print('bye')\n    os._exit(3)\n"})
    broken = write(tmp_path / "broken", {"app.py": "import not_a_module_anywhere\ndef handler(e, c):\n    return 1\n"})
    node = write(tmp_path / "node", {"index.js": "exports.other = async () => 1;\n"})
    empty = write(tmp_path / "empty", {"README": "no bootstrap here"})
    cases = {
        "crash": spec(crash, "python3.12", "app.handler"),
        "import": spec(broken, "python3.12", "app.handler"),
        "handler": spec(crash, "python3.12", "app.nope"),
        "node_module": spec(node, "nodejs20.x", "missing.handler"),
        "node_handler": spec(node, "nodejs20.x", "index.handler"),
        "provided": spec(empty, "provided.al2023", "x"),
        "no_node": spec(node, "nodejs22.x", "index.other"),
        "unknown": spec(node, "cobol85", "index.other"),
    }

    async def go():
        engine = Engine(Settings(lambda_node_binary="/nonexistent/bin/node"), ENDPOINT)
        node_engine = Engine(Settings(), ENDPOINT)
        try:
            out = {}
            for name, fn in cases.items():
                which = node_engine if name.startswith("node_") else engine
                out[name] = await invoke(which, fn, {})
            out["crash_again"] = await invoke(engine, cases["crash"], {})
            return out
        finally:
            await engine.stop()
            await node_engine.stop()

    out = run(go())
    for outcome, _ in out.values():
        assert outcome.function_error == "Unhandled"
        check_frame(outcome, outcome.log_events[-1][1].split()[2])
    outcome, doc = out["crash"]
    rid = outcome.log_events[-1][1].split()[2]
    assert doc == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }
    assert "bye" in lines(outcome)
    assert f"RequestId: {rid} Error: Runtime exited with error: exit status 3\nRuntime.ExitError" in lines(outcome)
    assert lines(outcome)[-1].endswith("\tStatus: error\tError Type: Runtime.ExitError\t")
    assert out["crash_again"][1]["errorType"] == "Runtime.ExitError"  # a fresh environment crashed again
    _, doc = out["import"]
    assert doc["errorType"] == "Runtime.ImportModuleError"
    assert doc["errorMessage"] == "Unable to import module 'app': No module named 'not_a_module_anywhere'"
    assert any("Runtime.ImportModuleError" in line for line in lines(out["import"][0]))
    assert out["handler"][1]["errorType"] == "Runtime.HandlerNotFound"
    assert out["handler"][1]["errorMessage"] == "Handler 'nope' missing on module 'app'"
    assert out["node_module"][1]["errorType"] == "Runtime.ImportModuleError"
    assert "Cannot find module 'missing'" in out["node_module"][1]["errorMessage"]
    assert out["node_handler"][1]["errorType"] == "Runtime.HandlerNotFound"
    assert out["node_handler"][1]["errorMessage"] == "index.handler is undefined or not exported"
    _, doc = out["provided"]
    assert doc["errorType"] == "Runtime.InvalidEntrypoint"
    assert doc["errorMessage"].endswith(f"Error: Couldn't find valid bootstrap(s): [{empty}/bootstrap]")
    _, doc = out["no_node"]
    assert doc["errorType"] == "Runtime.InvalidEntrypoint"
    assert "/nonexistent/bin/node" in doc["errorMessage"]
    assert out["unknown"][1]["errorType"] == "Runtime.InvalidEntrypoint"
    assert "cobol85" in out["unknown"][1]["errorMessage"]


NODE_CJS = """
    const { SQSClient } = require("@aws-sdk/client-sqs");
    let calls = 0;
    console.log("init", "cjs");
    exports.handler = async (event, context) => {
      calls += 1;
      console.log("event", event);
      console.warn("multi\\nline");
      if (event.fail) { const e = new RangeError("out of range"); throw e; }
      return {
        calls,
        sqs: typeof SQSClient,
        node: process.version,
        env: {
          handler: process.env._HANDLER, exec: process.env.AWS_EXECUTION_ENV, trace: process.env._X_AMZN_TRACE_ID,
        },
        context: {
          functionName: context.functionName, functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB,
          awsRequestId: context.awsRequestId, logGroupName: context.logGroupName, logStreamName: context.logStreamName,
          remaining: context.getRemainingTimeInMillis(), waits: context.callbackWaitsForEmptyEventLoop,
          clientContext: context.clientContext, identity: context.identity,
        },
      };
    };
    exports.callback = (event, context, callback) => {
      setTimeout(() => console.log("after the callback"), 100);
      callback(null, { style: "callback" });
    };
    exports.noWait = (event, context, callback) => {
      context.callbackWaitsForEmptyEventLoop = false;
      setTimeout(() => console.log("late"), 2000);
      callback(null, { style: "no-wait" });
    };
    exports.callbackError = (event, context, callback) => callback(new Error("cb failed"));
"""

NODE_ESM = """
    import { SQSClient } from "@aws-sdk/client-sqs";
    import { helper } from "./helper.mjs";
    export const handler = async (event, context) => (
      { esm: true, sqs: typeof SQSClient, helper: helper(), id: context.awsRequestId }
    );
    export function callback(event, context, done) { done(null, { esm: "callback" }); }
"""


def test_node_commonjs_and_esm_handlers(tmp_path):
    cjs = write(tmp_path / "cjs", {"index.js": NODE_CJS})
    esm = write(tmp_path / "esm", {"index.mjs": NODE_ESM, "helper.mjs": "export const helper = () => 'ok';\n"})
    typed = write(
        tmp_path / "typed",
        {
            "package.json": '{"type": "module"}',
            "lib/app.js": NODE_ESM.replace("./helper.mjs", "../helper.mjs"),
            "helper.mjs": "export const helper = () => 'typed';\n",
        },
    )
    client_context = base64.b64encode(json.dumps({"custom": {"a": 1}}).encode()).decode()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"

    async def go():
        engine = Engine(Settings(), ENDPOINT)
        try:
            fn = spec(cjs, "nodejs20.x", "index.handler", memory_mb=1024)
            out = {
                "first": await invoke(engine, fn, {"a": 1}, client_context=client_context, trace_id=trace),
                "second": await invoke(engine, fn, {"a": 2}),
                "error": await invoke(engine, fn, {"fail": True}),
                "callback": await invoke(engine, spec(cjs, "nodejs18.x", "index.callback"), {}),
                "no_wait": await invoke(engine, spec(cjs, "nodejs20.x", "index.noWait"), {}),
                "callback_error": await invoke(engine, spec(cjs, "nodejs20.x", "index.callbackError"), {}),
                "esm": await invoke(engine, spec(esm, "nodejs20.x", "index.handler"), {}),
                "esm_callback": await invoke(engine, spec(esm, "nodejs20.x", "index.callback"), {}),
                "typed": await invoke(engine, spec(typed, "nodejs22.x", "lib/app.handler"), {}),
            }
            return out
        finally:
            await engine.stop()

    out = run(go())
    outcome, body = out["first"]
    assert outcome.function_error is None, outcome.payload
    assert body["calls"] == 1 and body["sqs"] == "function"
    assert body["env"] == {"handler": "index.handler", "exec": "AWS_Lambda_nodejs20.x", "trace": trace}
    ctx = body["context"]
    rid = ctx["awsRequestId"]
    assert ctx["functionName"] == "fn" and ctx["functionVersion"] == "$LATEST"
    assert ctx["invokedFunctionArn"].endswith(":function:fn")
    assert ctx["memoryLimitInMB"] == "1024" and ctx["waits"] is True
    assert ctx["logGroupName"] == "/aws/lambda/fn" and ctx["logStreamName"] == outcome.log_stream
    assert 1000 < ctx["remaining"] <= 5000  # the deadline's countdown, less a cold start on a busy machine
    assert ctx["clientContext"] == {"custom": {"a": 1}} and "identity" not in ctx
    text = lines(outcome)
    assert re.fullmatch(rf"{ISO}\tundefined\tINFO\tinit cjs", text[0])
    assert any(re.fullmatch(rf"{ISO}\t{rid}\tINFO\tevent {{ a: 1 }}", line) for line in text)
    assert any(re.fullmatch(rf"{ISO}\t{rid}\tWARN\tmulti\rline", line) for line in text)
    check_frame(outcome, rid)
    assert out["second"][1]["calls"] == 2 and out["second"][0].init_duration_ms is None
    outcome, doc = out["error"]
    assert outcome.function_error == "Unhandled"
    assert doc["errorType"] == "RangeError" and doc["errorMessage"] == "out of range"
    assert doc["trace"][0] == "RangeError: out of range" and "index.js" in doc["trace"][1]
    assert any("\tERROR\tInvoke Error \t" in line and '"errorType":"RangeError"' in line for line in lines(outcome))
    outcome, body = out["callback"]
    assert body == {"style": "callback"}
    assert any(line.endswith("\tINFO\tafter the callback") for line in lines(outcome))  # waited for the event loop
    outcome, body = out["no_wait"]
    assert body == {"style": "no-wait"} and outcome.duration_ms < 1500
    _, doc = out["callback_error"]
    assert doc["errorType"] == "Error" and doc["errorMessage"] == "cb failed"
    assert out["esm"][1]["esm"] is True and out["esm"][1]["sqs"] == "function" and out["esm"][1]["helper"] == "ok"
    assert out["esm_callback"][1] == {"esm": "callback"}
    assert out["typed"][1]["helper"] == "typed" and out["typed"][1]["sqs"] == "function"


SHELL_BOOTSTRAP = """
    #!/bin/sh
    set -eu
    echo "init $_HANDLER"
    API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
    while true; do
      HEADERS="$(mktemp)"
      EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
      ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
      echo "got $EVENT"
      case "$EVENT" in
        *fail*)
          curl -sS -o /dev/null -X POST "$API/invocation/$ID/error" \\
            -H "Lambda-Runtime-Function-Error-Type: Shell.Failure" \\
            -d '{"errorMessage":"shell said no","errorType":"Shell.Failure"}' ;;
        *codes*)
          WRONG=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/invocation/not-the-id/response" -d '1')
          OK=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/invocation/$ID/response" -d '{"ok":true}')
          AGAIN=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/invocation/$ID/response" -d '2')
          INIT=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/init/error" -d '{}')
          echo "codes $WRONG $OK $AGAIN $INIT" ;;
        *)
          BODY="{\\"echo\\":$EVENT,\\"tool\\":\\"$(layer-tool)\\"}"
          curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "$BODY" ;;
      esac
      rm -f "$HEADERS"
    done
"""


def test_provided_shell_bootstrap_with_curl_layers_and_runtime_api_codes(tmp_path):
    code = write(tmp_path / "code", {"bootstrap": SHELL_BOOTSTRAP}, mode=0o755)
    layer = write(tmp_path / "layer", {"bin/layer-tool": "#!/bin/sh\necho from-layer\n"}, mode=0o755)
    fn = spec(code, "provided.al2023", "my.handler", layer_dirs=(layer,))
    from_layer = spec(write(tmp_path / "nocode", {"x.txt": ""}), "provided.al2", "h", layer_dirs=(code, layer))

    async def go():
        engine = Engine(Settings(), ENDPOINT)
        try:
            return (
                await invoke(engine, fn, {"n": 1}),
                await invoke(engine, fn, {"fail": 1}),
                await invoke(engine, fn, {"codes": 1}),
                await invoke(engine, from_layer, {"n": 2}),
            )
        finally:
            await engine.stop()

    plain, failed, codes, layered = run(go())
    assert plain[1] == {"echo": {"n": 1}, "tool": "from-layer"}
    assert "init my.handler" in lines(plain[0])
    check_frame(plain[0], plain[0].log_events[-1][1].split()[2])
    assert failed[0].function_error == "Unhandled"
    assert failed[1] == {"errorMessage": "shell said no", "errorType": "Shell.Failure"}
    assert codes[1] == {"ok": True}
    # The wrong id, then the response, then a second response and an init error after init: 400, 202, 403, 403.
    assert "codes 400 202 403 403" in lines(codes[0])
    assert layered[1] == {"echo": {"n": 2}, "tool": "from-layer"}  # the bootstrap of a layer


def test_layers_wrapper_and_memory_limit(tmp_path):
    code = write(
        tmp_path / "code",
        {
            "app.py": """
                import os, subprocess
                import shared_mod, deep_mod
                def handler(event, context):
                    if event.get("hog"):
                        hog = b"x" * (300 * 1024 * 1024)
                        import time; time.sleep(5)
                    return {
                        "shared": shared_mod.NAME, "deep": deep_mod.NAME,
                        "wrapped": os.environ.get("WRAPPED"),
                        "tool": subprocess.run(["tool"], capture_output=True, text=True).stdout.strip(),
                        "ld": os.environ["LD_LIBRARY_PATH"],
                    }
            """
        },
    )
    first = write(
        tmp_path / "layer1",
        {
            "python/shared_mod.py": "NAME = 'first'\n",
            "python/lib/python3.12/site-packages/deep_mod.py": "NAME = 'deep'\n",
        },
    )
    second = write(tmp_path / "layer2", {"python/shared_mod.py": "NAME = 'second'\n"})
    write(
        second,
        {"bin/tool": "#!/bin/sh\necho tool-ok\n", "wrapper.sh": '#!/bin/bash\nexport WRAPPED=yes\nexec "$@"\n'},
        mode=0o755,
    )
    fn = spec(
        code,
        "python3.12",
        "app.handler",
        layer_dirs=(first, second),
        environment={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrapper.sh"},
        memory_mb=128,
        timeout_s=10,
    )

    async def go():
        engine = Engine(Settings(), ENDPOINT)
        try:
            return await invoke(engine, fn, {}), await invoke(engine, fn, {"hog": True})
        finally:
            await engine.stop()

    (outcome, body), (hog, doc) = run(go())
    assert outcome.function_error is None, outcome.payload
    assert body["shared"] == "second"  # the later layer's file wins, as when AWS extracts layers in order
    assert body["deep"] == "deep" and body["wrapped"] == "yes" and body["tool"] == "tool-ok"
    assert f"{second}/lib" in body["ld"].split(":") and f"{first}/lib" in body["ld"].split(":")
    assert hog.function_error == "Unhandled"
    assert doc["errorType"] == "Runtime.OutOfMemory"
    assert doc["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    assert hog.max_memory_mb > 128
    assert hog.duration_ms < 4000


def test_response_limit_streaming_and_disabled(tmp_path):
    code = write(
        tmp_path / "code",
        {
            "app.py": "def big(e, c):\n    return 'A' * 6291556\n\ndef small(e, c):\n    return {'small': True}\n",
            "stream.mjs": """
                export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
                  responseStream.write("one,");
                  await new Promise((resolve) => setTimeout(resolve, 50));
                  responseStream.write("two");
                  responseStream.end();
                });
                export const failing = awslambda.streamifyResponse(async (event, responseStream) => {
                  responseStream.write("partial");
                  throw new Error("stream broke");
                });
            """,
        },
    )

    async def collect(engine, fn):
        items = [item async for item in engine.stream(fn, inv({}, arn=fn.function_arn))]
        return items[:-1], items[-1]

    async def go():
        engine = Engine(Settings(), ENDPOINT)
        try:
            return (
                await invoke(engine, spec(code, "python3.12", "app.big"), {}),
                await collect(engine, spec(code, "python3.12", "app.small")),
                await collect(engine, spec(code, "nodejs20.x", "stream.handler")),
                await collect(engine, spec(code, "nodejs20.x", "stream.failing")),
                await invoke(engine, spec(code, "nodejs20.x", "stream.handler"), {}),
            )
        finally:
            await engine.stop()

    big, small, streamed, broken, buffered = run(go())
    assert big[0].function_error == "Unhandled"
    assert big[1] == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    }
    chunks, outcome = small
    assert chunks == [b'{"small": true}'] and outcome.function_error is None
    chunks, outcome = streamed
    assert b"".join(chunks) == b"one,two" and len(chunks) >= 2 and outcome.function_error is None
    chunks, outcome = broken
    assert b"".join(chunks) == b"partial"
    assert outcome.function_error == "Unhandled" and json.loads(outcome.payload)["errorMessage"] == "stream broke"
    assert buffered[0].payload == b"one,two"

    async def disabled():
        engine = Engine(Settings(lambda_enabled=False), ENDPOINT)
        with pytest.raises(ExecutionDisabled):
            await engine.invoke(spec(code, "python3.12", "app.small"), inv({}))

    run(disabled())


def test_provisioned_idle_reaping_retire_and_stop_leave_no_process(tmp_path):
    code = write(
        tmp_path / "code",
        {
            "app.py": """
                import os
                def handler(e, c):
                    return {"pid": os.getpid(), "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
            """
        },
    )
    node = write(tmp_path / "node", {"index.js": "exports.handler = async () => ({ pid: process.pid });\n"})
    shell = write(tmp_path / "shell", {"bootstrap": SHELL_BOOTSTRAP}, mode=0o755)
    layer = write(tmp_path / "layer", {"bin/layer-tool": "#!/bin/sh\necho t\n"}, mode=0o755)
    on_demand = spec(code, "python3.12", "app.handler", name="od")
    provisioned = spec(code, "python3.12", "app.handler", name="pc", initialization_type="provisioned-concurrency")
    newer = spec(code, "python3.12", "app.handler", name="pc", key="pc-v2")

    async def go():
        engine = Engine(Settings(lambda_idle_seconds=60), ENDPOINT)
        try:
            await engine.warm(provisioned, 2)
            warm_pids = {env._proc.pid for env in engine.environments(provisioned.key)}
            _, pc = await invoke(engine, provisioned, {})
            pc_outcome = _
            _, od = await invoke(engine, on_demand, {})
            for env in engine.environments():
                env.last_used -= 120  # idle for two minutes
            engine.reap_idle()
            await asyncio.sleep(0.3)
            after_reap = {env.fn.key: env.state for env in engine.environments()}
            await invoke(engine, newer, {})
            await engine.retire(provisioned.function_arn, keep_key=newer.key)
            after_retire = [env.fn.key for env in engine.environments()]
            pids = {od["pid"], pc["pid"], *warm_pids}
            _, n = await invoke(engine, spec(node, "nodejs20.x", "index.handler"), {})
            shell_outcome, _ = await invoke(engine, spec(shell, "provided.al2023", "h", layer_dirs=(layer,)), {})
            pids.add(n["pid"])
            return warm_pids, pc, pc_outcome, od, after_reap, after_retire, pids
        finally:
            await engine.stop()

    warm_pids, pc, pc_outcome, od, after_reap, after_retire, pids = run(go())
    assert pc["pid"] in warm_pids and pc["init"] == "provisioned-concurrency"
    assert pc_outcome.init_duration_ms is None
    assert gone(od["pid"])  # reaped after idling
    assert list(after_reap) == [provisioned.key]  # provisioned environments stay
    assert after_retire == [newer.key]
    for pid in pids:
        assert gone(pid), pid
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and int(stat.parent.name) in pids:
            children.append(stat.parent.name)
    assert children == []


def test_python_without_its_runtime_packages_runs_on_the_broker_interpreter(tmp_path):
    code = write(tmp_path / "code", {"app.py": "import sys\ndef handler(e, c):\n    return sys.version_info[:2]\n"})
    own = f"{sys.version_info[0]}.{sys.version_info[1]}"
    other = next(v for v in ("3.9", "3.10", "3.12", "3.13") if v != own)
    empty = tmp_path / "runtimes"  # nothing installed here

    async def go():
        engine = Engine(Settings(lambda_runtimes_dir=str(empty)), ENDPOINT)
        try:
            return await invoke(engine, spec(code, f"python{other}", "app.handler"), {})
        finally:
            await engine.stop()

    outcome, body = run(go())
    assert outcome.function_error is None, outcome.payload
    assert ".".join(map(str, body)) == own
    note = lines(outcome)[0]
    assert note.startswith(f"broker: python{other} runs on the broker's own Python {own} ({sys.executable})")


ORPHAN_SCRIPT = """
import asyncio, json, os, sys, uuid
from pathlib import Path
from broker.config import Settings
from broker.services.lambda_.execution import Engine, FunctionSpec, Invocation

async def main():
    engine = Engine(Settings(), "http://127.0.0.1:1")
    fn = FunctionSpec(
        key="k", function_name="f", function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        version="$LATEST", runtime="provided.al2023", handler="h", code_dir=Path(sys.argv[1]), layer_dirs=(),
        environment={}, memory_mb=128, timeout_s=3, account="123456789012", region="us-east-1",
        log_group="/aws/lambda/f",
    )
    outcome = await engine.invoke(fn, Invocation(str(uuid.uuid4()), b"{}", fn.function_arn))
    print(json.loads(outcome.payload)["pid"], flush=True)
    os._exit(0)  # the worker dies without stopping its engine

asyncio.run(main())
"""

# Answers once, then sleeps without touching the Runtime API again: only the parent-death signal can stop it.
ONE_SHOT_BOOTSTRAP = """
    #!/bin/sh
    API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
    HEADERS="$(mktemp)"
    curl -sS -D "$HEADERS" -o /dev/null "$API/invocation/next"
    ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
    curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "{\\"pid\\": $$}"
    exec sleep 300
"""


def test_a_worker_that_dies_takes_its_runtimes_with_it(tmp_path):
    import subprocess
    import time

    code = write(tmp_path / "code", {"bootstrap": ONE_SHOT_BOOTSTRAP}, mode=0o755)
    script = write(tmp_path, {"worker.py": ORPHAN_SCRIPT}) / "worker.py"
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the dead worker's scratch directory stays in tmp_path
    done = subprocess.run([sys.executable, str(script), str(code)], capture_output=True, text=True, timeout=60, env=env)
    pid = int(done.stdout.strip())
    deadline = time.monotonic() + 5
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(pid)
