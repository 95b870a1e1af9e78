"""Property-based fuzzing (hypothesis) of every served operation of every registered service, in each wire protocol it
speaks (SQS JSON and query, SNS, STS and IAM query, Kinesis JSON and CBOR, CloudWatch Logs JSON, Lambda rest-json),
built from botocore's models (tests/reliability/fuzz_model.py): no request gets a 5xx, no worker process dies. The
services come from the registry: one with no wire protocol or no known resources here fails, never goes unfuzzed.
`make test` sends BROKER_FUZZ_EXAMPLES (default 300) requests per protocol and backend; `make soak` 10,000."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from botocore.model import ServiceModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.services.registry import all_specs, service_classes
from tests.reliability.fuzz_model import MANGLE_REQUEST, mangle_request, model, operation_inputs, request_for
from tests.server import BrokerServer
from tests.sqs.query_client import sqs_query_model

EXAMPLES = int(os.environ.get("BROKER_FUZZ_EXAMPLES", "300"))
DESTRUCTIVE = ("Delete", "Purge", "Remove", "Deregister", "Unsubscribe", "Untag", "Decrease", "Merge", "Split")
SPECS = all_specs()

# The wire encodings each service is fuzzed in: by its model's protocol, unless the service's own entry names more
# (SQS is awsQueryCompatible, so older SDKs send it query; Kinesis's SDK for Java and KCL send CBOR). A registered
# service whose protocol has no entry fails test_fuzzed_requests_never_get_a_5xx: teach fuzz_model.request_for the
# protocol and add it here.
WIRES: dict[str, tuple[str, ...]] = {
    "json": ("json",),
    "query": ("query",),
    "rest-json": ("rest-json",),
    "sqs": ("json", "query"),
    "kinesis": ("json", "cbor"),
}
SKIP = {"SubscribeToShard"}  # a 5-minute stream per request; fuzzed over both encodings in tests/kinesis
# Operations sent with made-up names only besides the Delete-like ones: renames (the known name would be gone for
# the other examples) and Lambda's invocations: the fuzzer invokes nothing, not even the function it created (whose
# provisioned concurrency it may set to 1: one environment per qualifier imports the two-line handler, no more).
MADE_UP_ONLY = {"UpdateUser", "UpdateGroup", "Invoke", "InvokeAsync", "InvokeWithResponseStream"}
# Services whose tests/<package>/test_no_500.py (a fixed grid of hostile values per member) is not written yet.
NO_500_PENDING = {"iam"}


def _wires(service: str) -> tuple[str, ...]:
    return WIRES.get(service) or WIRES.get(str(SPECS[service].model.metadata.get("protocol")), ("",))


CASES = [(service, wire) for service in SPECS for wire in _wires(service)]


@pytest.fixture(scope="module")
def fuzz_server(backend, tmp_path_factory, request):
    db_url = request.getfixturevalue("pg_databases").create() if backend == "pg" else None
    server = BrokerServer(tmp_path_factory.mktemp(f"fuzz-{backend}") / "data", db_url=db_url, workers=2).start()
    yield server
    server.stop()


# -- known resources: real names for the members that name them, so requests get past the lookups ----------------
Known = dict[str, st.SearchStrategy]


def _sqs(server: BrokerServer) -> Known:
    sqs = server.client("sqs")
    urls = [sqs.create_queue(QueueName="fuzz")["QueueUrl"]]
    urls.append(sqs.create_queue(QueueName="fuzz.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"])
    return {"QueueUrl": st.sampled_from(urls), "QueueName": st.sampled_from(["fuzz", "fuzz.fifo"])}


def _sns(server: BrokerServer) -> Known:
    sns = server.client("sns")
    topics = [sns.create_topic(Name="fuzz")["TopicArn"]]
    topics.append(sns.create_topic(Name="fuzz.fifo", Attributes={"FifoTopic": "true"})["TopicArn"])
    return {"TopicArn": st.sampled_from(topics), "ResourceArn": st.sampled_from(topics)}


def _kinesis(server: BrokerServer) -> Known:
    k = server.client("kinesis")
    k.create_stream(StreamName="fuzz", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    k.get_waiter("stream_exists").wait(StreamName="fuzz", WaiterConfig={"Delay": 0.2})
    arn = k.describe_stream_summary(StreamName="fuzz")["StreamDescriptionSummary"]["StreamARN"]
    shards = [s["ShardId"] for s in k.list_shards(StreamName="fuzz")["Shards"]]
    return {
        "StreamName": st.just("fuzz"),
        "StreamARN": st.just(arn),
        "ResourceARN": st.just(arn),
        "ShardId": st.sampled_from(shards),
    }


def _sts(server: BrokerServer) -> Known:
    return {}  # GetCallerIdentity names nothing


POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}'
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},'
    '"Action":"sts:AssumeRole"}]}'
)


def _iam(server: BrokerServer) -> Known:
    iam = server.client("iam")
    iam.create_role(RoleName="fuzz", AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName="fuzz")
    iam.create_group(GroupName="fuzz")
    iam.create_instance_profile(InstanceProfileName="fuzz")
    policy = iam.create_policy(PolicyName="fuzz", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="fuzz", PolicyArn=policy)
    iam.attach_user_policy(UserName="fuzz", PolicyArn=policy)
    iam.put_role_policy(RoleName="fuzz", PolicyName="inline", PolicyDocument=POLICY)
    iam.put_user_policy(UserName="fuzz", PolicyName="inline", PolicyDocument=POLICY)
    iam.add_user_to_group(GroupName="fuzz", UserName="fuzz")
    key = iam.create_access_key(UserName="fuzz")["AccessKey"]["AccessKeyId"]
    return {
        "RoleName": st.just("fuzz"),
        "UserName": st.just("fuzz"),
        "GroupName": st.just("fuzz"),
        "InstanceProfileName": st.just("fuzz"),
        "PolicyArn": st.just(policy),
        "PermissionsBoundary": st.just(policy),
        "PolicyName": st.sampled_from(["fuzz", "inline"]),
        "VersionId": st.just("v1"),
        "AccessKeyId": st.just(key),
        # Valid documents half the time, so the Put/Create operations get past the policy grammar too.
        "PolicyDocument": st.one_of(st.just(POLICY), st.text(max_size=40)),
        "AssumeRolePolicyDocument": st.one_of(st.just(TRUST), st.text(max_size=40)),
    }


def _logs(server: BrokerServer) -> Known:
    logs = server.client("logs")
    logs.create_log_group(logGroupName="fuzz")
    logs.create_log_stream(logGroupName="fuzz", logStreamName="s")
    arn = logs.describe_log_groups(logGroupNamePrefix="fuzz")["logGroups"][0]["logGroupArn"]
    return {
        "logGroupName": st.just("fuzz"),
        "logGroupIdentifier": st.sampled_from(["fuzz", arn]),
        "logStreamName": st.just("s"),
        "resourceArn": st.just(arn),
    }


FUNCTION = "fuzz"  # the Lambda function the fuzzer creates; no request may invoke it
HANDLER = "def handler(event, context):\n    return event\n"


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def _lambda(server: BrokerServer) -> Known:
    lam = server.client("lambda")
    role = "arn:aws:iam::000000000000:role/fuzz"  # IAM's known role (Lambda does not insist on it existing)
    fn = lam.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip({"handler.py": HANDLER})},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=FUNCTION, WaiterConfig={"Delay": 0.2})
    lam.publish_version(FunctionName=FUNCTION)
    lam.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion="1")
    lam.add_permission(FunctionName=FUNCTION, StatementId="fuzz", Action="lambda:GetFunction", Principal="*")
    layer = lam.publish_layer_version(LayerName="fuzz", Content={"ZipFile": _zip({"python/fuzz_layer.py": ""})})
    signing = lam.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": ["arn:aws:signer:us-east-1:000000000000:/signing-profiles/f/1"]}
    )["CodeSigningConfig"]["CodeSigningConfigArn"]
    # A mapping from a queue of its own that nothing sends to, created disabled: it can never invoke anything.
    source = server.client("sqs").create_queue(QueueName="fuzz-lambda-source")["QueueUrl"]
    source_arn = server.client("sqs").get_queue_attributes(QueueUrl=source, AttributeNames=["QueueArn"])
    mapping = lam.create_event_source_mapping(
        FunctionName=FUNCTION, EventSourceArn=source_arn["Attributes"]["QueueArn"], Enabled=False
    )["UUID"]
    return {
        "FunctionName": st.sampled_from([FUNCTION, fn]),
        "Qualifier": st.sampled_from(["1", "live", "$LATEST"]),
        "FunctionVersion": st.sampled_from(["1", "$LATEST", "ALL"]),  # ALL: ListFunctions
        "Name": st.just("live"),
        "Resource": st.just(fn),
        "ResourceArn": st.just(fn),
        "Role": st.just(role),
        "StatementId": st.just("fuzz"),
        "LayerName": st.sampled_from(["fuzz", layer["LayerArn"]]),
        "VersionNumber": st.just(layer["Version"]),
        "Arn": st.just(layer["LayerVersionArn"]),
        "CodeSigningConfigArn": st.just(signing),
        "UUID": st.just(mapping),
    }


# Service (signing name) -> its known resources. A registered service with no entry fails the test.
def _apigateway(server: BrokerServer) -> Known:
    gw = server.client("apigateway")
    api = gw.create_rest_api(name="fuzz")
    child = gw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="fuzz")
    return {
        "restApiId": st.just(api["id"]),
        "resourceId": st.sampled_from([api["rootResourceId"], child["id"]]),
        "parentId": st.just(api["rootResourceId"]),
        "httpMethod": st.sampled_from(["GET", "ANY"]),
        "stageName": st.just("fuzz"),
    }


def _apigatewayv2(server: BrokerServer) -> Known:
    gw2 = server.client("apigatewayv2")
    api = gw2.create_api(Name="fuzz", ProtocolType="HTTP", Target="arn:aws:lambda:us-east-1:000000000000:function:fuzz")
    route = gw2.get_routes(ApiId=api["ApiId"])["Items"][0]
    return {
        "ApiId": st.just(api["ApiId"]),
        "RouteId": st.just(route["RouteId"]),
        "IntegrationId": st.just(route["Target"].removeprefix("integrations/")),
        "StageName": st.just("$default"),
    }


def _events(server: BrokerServer) -> Known:
    events = server.client("events")
    events.create_event_bus(Name="fuzz")
    rule = events.put_rule(Name="fuzz", EventPattern='{"source": ["fuzz"]}')["RuleArn"]
    return {
        "Name": st.just("fuzz"),
        "Rule": st.just("fuzz"),
        "EventBusName": st.sampled_from(["default", "fuzz"]),
        "ResourceARN": st.just(rule),
    }


def _scheduler(server: BrokerServer) -> Known:
    scheduler = server.client("scheduler")
    scheduler.create_schedule_group(Name="fuzz")
    return {
        "Name": st.just("fuzz"),
        "GroupName": st.sampled_from(["default", "fuzz"]),
        "ResourceArn": st.just(scheduler.get_schedule_group(Name="fuzz")["Arn"]),
    }


KNOWN: dict[str, Callable[[BrokerServer], Known]] = {
    "sqs": _sqs,
    "sns": _sns,
    "kinesis": _kinesis,
    "sts": _sts,
    "iam": _iam,
    "logs": _logs,
    "lambda": _lambda,
    "apigateway": _apigateway,
    "apigatewayv2": _apigatewayv2,
    "events": _events,
    "scheduler": _scheduler,
}
_made: dict[tuple[str, str], Known] = {}  # made once per server (by its own data directory): cases share them


def _known(server: BrokerServer, service: str) -> Known:
    key = (str(server.data_dir), service)
    if key not in _made:
        _made[key] = KNOWN[service](server)
    return _made[key]


# The paths of Lambda's invocations (Invoke, InvokeWithResponseStream, InvokeAsync): the last guard against running
# the function the fuzzer created.
INVOKE_PATH = re.compile(r"/functions/([^/]*)/(?:invocations|response-streaming-invocations|invoke-async)/?")


def _invokes_ours(path: str) -> bool:
    m = INVOKE_PATH.search(path)
    return m is not None and FUNCTION in unquote(m.group(1))


def _mentions(value: object, text: str) -> bool:
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(_mentions(k, text) or _mentions(v, text) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, text) for v in value)
    return False


def _resources(server: BrokerServer, workers: int = 2) -> dict[int, dict]:
    """Each worker's tasks, descriptors, threads and memory. Which worker accepts a new connection is up to the
    kernel: ask on fresh connections until every worker answered (or 15 s passed)."""
    seen: dict[int, dict] = {}
    deadline = time.monotonic() + 15
    while len(seen) < workers and time.monotonic() < deadline:
        with httpx.Client(timeout=10) as fresh:
            r = fresh.get(server.url + "/_broker/resources").json()
        seen[r.pop("pid")] = r
    return seen


def _server_log(server: BrokerServer, start: int) -> str:
    """What the server logged since `start` (the log's size when the case began): a 5xx's traceback."""
    return server.log_path.read_bytes()[start:].decode("utf-8", "replace")[-8000:]


@pytest.mark.slow
@pytest.mark.timeout(120 + EXAMPLES // 20)
@pytest.mark.parametrize(("service", "protocol"), CASES, ids=[f"{s}-{p or 'none'}" for s, p in CASES])
def test_fuzzed_requests_never_get_a_5xx(fuzz_server, service, protocol):
    spec = SPECS[service]
    assert protocol, (
        f"service {service!r} speaks {spec.model.metadata.get('protocol')!r}, which the fuzzer has no wire encoding"
        " for: add one to fuzz_model.request_for and to WIRES in tests/reliability/test_fuzz.py"
    )
    assert service in KNOWN, (
        f"service {service!r} has no known resources for the fuzzer: add a function naming a few real ones (or none)"
        " to KNOWN in tests/reliability/test_fuzz.py"
    )
    # botocore's model as AWS publishes it (a spec may serve a copy without constraints: IAM checks its own). SQS's
    # query member names are not in botocore's (JSON) model any more: tests/sqs adds them from AWS's docs.
    svc = model(spec.model.service_name)
    if (service, protocol) == ("sqs", "query"):
        svc = ServiceModel(sqs_query_model(), "sqs")
    served = sorted(set(spec.handlers) - SKIP)
    known = _known(fuzz_server, service)
    safe = [n for n in served if not n.startswith(DESTRUCTIVE) and n not in MADE_UP_ONLY]
    risky = [n for n in served if n not in safe]
    # Destructive operations get made-up names only, so the resources above stay for the other examples; for
    # Lambda none may name the function the fuzzer created (nothing invokes it).
    made_up = operation_inputs(svc, risky, {})
    if service == "lambda":
        made_up = made_up.filter(lambda case: not _mentions(case[1], FUNCTION))
    inputs = st.one_of(operation_inputs(svc, safe, known), made_up) if risky else operation_inputs(svc, safe, known)
    before = _resources(fuzz_server)
    log_start = fuzz_server.log_path.stat().st_size
    failures: list[str] = []
    sent = [0]
    statuses: Counter[int] = Counter()
    tame_plain: Counter[bool] = Counter()  # tame inputs sent unbroken: did they succeed?
    succeeded: set[str] = set()  # operations that answered 2xx at least once
    target = httpx.URL(fuzz_server.url)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=inputs, kind=MANGLE_REQUEST, noise=st.binary(max_size=300))
    def check(http: httpx.Client, case: tuple[str, dict, bool], kind: str, noise: bytes) -> None:
        op_name, params, tame = case
        req = mangle_request(kind, request_for(protocol, svc, svc.operation_model(op_name), params), noise)
        assert not _invokes_ours(req.path), f"the fuzzer would invoke its own function: {req.path}"
        url = httpx.URL(scheme="http", host=target.host, port=target.port, raw_path=req.raw_path)
        r = http.request(req.method, url, content=req.body, headers=req.header_bytes())
        sent[0] += 1
        statuses[r.status_code] += 1
        if tame and kind == "none":
            tame_plain[r.status_code < 300] += 1
        if r.status_code < 300:
            succeeded.add(op_name)
        if r.status_code == 501 and "is not supported by this broker yet" in r.text and op_name not in r.text:
            return  # a broken request (another method, a URI label left empty) that names an operation not served
        if r.status_code >= 500:
            failures.append(
                f"{op_name} [{kind}] {r.status_code}: {r.text[:300]}\n  {req.method} {req.raw_path[:300]!r}"
                f" {str(req.headers)[:300]} {req.body[:300]!r}\n  <- {str(params)[:300]}"
            )
        assert r.status_code < 500, failures[-1]

    with httpx.Client(timeout=60) as http:
        try:
            check(http)
        except AssertionError:
            if not failures:
                raise
            raise AssertionError(f"{failures[-1]}\n{_server_log(fuzz_server, log_start)}") from None
    assert fuzz_server.proc is not None and fuzz_server.proc.poll() is None, "the broker died"
    after = _resources(fuzz_server)
    assert len(before) == 2 and set(after) == set(before), f"a worker process died: {before} -> {after}"
    # Not vacuous: well-formed requests get through the protocol layer to the operations.
    assert len(succeeded) >= min(3, len(served)), f"only {sorted(succeeded)} ever succeeded ({tame_plain})"
    print(
        f"fuzz {service}/{protocol}: {sent[0]} requests, 0 answered 5xx; statuses {dict(sorted(statuses.items()))};"
        f" tame and unbroken: {tame_plain[True]} of {sum(tame_plain.values())} succeeded;"
        f" {len(succeeded)} of {len(served)} operations succeeded at least once"
    )
    print(f"  workers before {before}\n  workers after  {after}")
    assert sent[0] >= EXAMPLES


def test_every_service_has_a_no_500_suite():
    """Beside the fuzzing above, each service has a fixed grid of hostile values per member of its operations."""
    tests = Path(__file__).resolve().parent.parent
    missing = []
    for cls in service_classes():
        package = cls.__module__.split(".")[-2]  # broker.services.<package>.service
        for spec in cls.specs():
            if spec.name not in NO_500_PENDING and not (tests / package / "test_no_500.py").is_file():
                missing.append(f"{spec.name}: tests/{package}/test_no_500.py")
    assert not missing, f"services without a no-500 suite (see tests/sqs/test_no_500.py): {missing}"
