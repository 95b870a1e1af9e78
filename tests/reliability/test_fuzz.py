"""Property-based fuzzing (hypothesis) of every served operation of SQS (JSON and query), SNS (query) and Kinesis
(JSON and CBOR), built from botocore's models (tests/reliability/fuzz_model.py): no request gets a 5xx, no worker
process dies. `make test` sends BROKER_FUZZ_EXAMPLES (default 300) requests per protocol and backend; `make soak`
10,000."""

from __future__ import annotations

import os
import time
from collections import Counter

import httpx
import pytest
from botocore.model import ServiceModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.services.registry import all_specs
from tests.reliability.fuzz_model import MANGLE, body_for, mangle, model, operation_inputs
from tests.server import BrokerServer
from tests.sqs.query_client import sqs_query_model

EXAMPLES = int(os.environ.get("BROKER_FUZZ_EXAMPLES", "300"))
DESTRUCTIVE = ("Delete", "Purge", "Remove", "Deregister", "Unsubscribe", "Untag", "Decrease", "Merge", "Split")
SPECS = all_specs()
CASES = [("sqs", "json"), ("sqs", "query"), ("sns", "query"), ("kinesis", "json"), ("kinesis", "cbor")]
SKIP = {"SubscribeToShard"}  # a 5-minute stream per request; fuzzed over both encodings in tests/kinesis


@pytest.fixture(scope="module")
def fuzz_server(backend, tmp_path_factory, request):
    db_url = request.getfixturevalue("pg_databases").create() if backend == "pg" else None
    server = BrokerServer(tmp_path_factory.mktemp(f"fuzz-{backend}") / "data", db_url=db_url, workers=2).start()
    yield server
    server.stop()


def _known(server: BrokerServer, service: str) -> dict[str, st.SearchStrategy]:
    """Real resources for the members that name them, so requests get past the lookups."""
    if service == "sqs":
        sqs = server.client("sqs")
        urls = [sqs.create_queue(QueueName="fuzz")["QueueUrl"]]
        urls.append(sqs.create_queue(QueueName="fuzz.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"])
        return {"QueueUrl": st.sampled_from(urls), "QueueName": st.sampled_from(["fuzz", "fuzz.fifo"])}
    if service == "sns":
        sns = server.client("sns")
        topics = [sns.create_topic(Name="fuzz")["TopicArn"]]
        topics.append(sns.create_topic(Name="fuzz.fifo", Attributes={"FifoTopic": "true"})["TopicArn"])
        return {"TopicArn": st.sampled_from(topics), "ResourceArn": st.sampled_from(topics)}
    k = server.client("kinesis")
    if "fuzz" not in k.list_streams()["StreamNames"]:
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


@pytest.mark.slow
@pytest.mark.timeout(120 + EXAMPLES // 20)
@pytest.mark.parametrize(("service", "protocol"), CASES)
def test_fuzzed_requests_never_get_a_5xx(fuzz_server, service, protocol):
    # SQS's query member names are not in botocore's (JSON) model any more: tests/sqs adds them from AWS's docs.
    svc = ServiceModel(sqs_query_model(), "sqs") if (service, protocol) == ("sqs", "query") else model(service)
    served = sorted(set(SPECS[service].handlers) - SKIP)
    known = _known(fuzz_server, service)
    safe = [n for n in served if not n.startswith(DESTRUCTIVE)]
    risky = [n for n in served if n.startswith(DESTRUCTIVE)]
    # Destructive operations get made-up names only, so the resources above stay for the other examples.
    inputs = st.one_of(operation_inputs(svc, safe, known), operation_inputs(svc, risky, {}))
    before = _resources(fuzz_server)
    failures: list[str] = []
    sent = [0]
    statuses: Counter[int] = Counter()
    tame_plain: Counter[bool] = Counter()  # tame inputs sent unbroken: did they succeed?
    succeeded: set[str] = set()  # operations that answered 2xx at least once

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=inputs, kind=MANGLE, noise=st.binary(max_size=300))
    def check(http: httpx.Client, case: tuple[str, dict, bool], kind: str, noise: bytes) -> None:
        op_name, params, tame = case
        body, headers = body_for(protocol, svc, svc.operation_model(op_name), params)
        body, headers = mangle(kind, body, headers, noise)
        r = http.post("/", content=body, headers=headers)
        sent[0] += 1
        statuses[r.status_code] += 1
        if tame and kind == "none":
            tame_plain[r.status_code < 300] += 1
        if r.status_code < 300:
            succeeded.add(op_name)
        if r.status_code >= 500:
            failures.append(f"{op_name} [{kind}] {r.status_code}: {r.text[:300]} <- {str(params)[:300]}")
        assert r.status_code < 500, failures[-1]

    with httpx.Client(base_url=fuzz_server.url, timeout=60) as http:
        check(http)
    assert fuzz_server.proc is not None and fuzz_server.proc.poll() is None, "the broker died"
    after = _resources(fuzz_server)
    assert len(before) == 2 and set(after) == set(before), f"a worker process died: {before} -> {after}"
    # Not vacuous: well-formed requests get through the protocol layer to the operations.
    assert len(succeeded) >= 3, f"only {sorted(succeeded)} ever succeeded ({tame_plain})"
    print(
        f"fuzz {service}/{protocol}: {sent[0]} requests, 0 answered 5xx; statuses {dict(sorted(statuses.items()))};"
        f" tame and unbroken: {tame_plain[True]} of {sum(tame_plain.values())} succeeded;"
        f" {len(succeeded)} of {len(served)} operations succeeded at least once"
    )
    print(f"  workers before {before}\n  workers after  {after}")
    assert sent[0] >= EXAMPLES
