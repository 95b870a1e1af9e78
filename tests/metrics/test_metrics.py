"""/_broker/metrics of a broker with two worker processes, scraped and parsed with prometheus_client's own parser:
request counters add up over both workers, errors are counted by AWS code, and the gauges and counters of SQS,
SNS, Kinesis, Lambda, the writer and the leases follow what the requests did. The workers share one read of the
database gauges; concurrent scrapes after a worker died all answer. Counters only grow on a shared server, so every
test compares a scrape after its requests with one before."""

from __future__ import annotations

import concurrent.futures
import glob
import json
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from broker.metrics import buffer
from tests.conftest import serve
from tests.lambda_.helpers import create as create_function
from tests.server import BrokerServer, make_client
from tests.sns.helpers import Endpoint

# SQLite only in make test: make soak runs the module on PostgreSQL too.


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
ACCOUNT, REGION = "000000000000", "us-east-1"
GAUGE_TTL_S = 3.0  # metrics_gauge_ttl_seconds of the server (10 by default)


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    # On PostgreSQL too the metric files go to a directory of this test (the data dir holds only them then).
    state = request.getfixturevalue("tmp_path_factory").mktemp(f"metrics-state-{backend}")
    env = {"BROKER_DATA_DIR": str(state), "BROKER_METRICS_GAUGE_TTL_SECONDS": str(GAUGE_TTL_S)}
    yield from serve(request, backend, "metrics", workers=2, env=env)


@pytest.fixture
def broker(server: BrokerServer) -> BrokerServer:
    server.reset()
    return server


def scrape(server: BrokerServer, accept: str | None = None) -> Samples:
    """The metrics once every worker applied what it counted so far."""
    settle()
    r = httpx.get(server.url + "/_broker/metrics", headers={"accept": accept} if accept else {}, timeout=30)
    assert r.status_code == 200, r.text
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def series(samples: Samples, name: str) -> list[tuple[dict[str, str], float]]:
    return [(dict(labels), v) for (n, labels), v in samples.items() if n == name]


def settle() -> None:
    """Wait until every worker applied the counts it buffered (broker/metrics/buffer.py: within FLUSH_S)."""
    time.sleep(buffer.FLUSH_S + 0.25)


def wait_for(server: BrokerServer, check: Callable[[Samples], bool], timeout: float = 12.0) -> Samples:
    """Scrape until `check` holds: gauges read from the database are cached for GAUGE_TTL_S."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(server)
        if check(samples):
            return samples
        if time.monotonic() > deadline:
            raise AssertionError(f"metrics never matched: {sorted(k[0] for k in samples)}")
        time.sleep(0.25)


def fresh_client(server: BrokerServer, service: str, **config) -> object:
    """A client on its own connection pool, so that concurrent clients reach both workers."""
    config.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})  # no retries: exact counts
    return make_client(service, server.url, "test", "x", REGION, Config(**config))


def metrics_dir(server: BrokerServer) -> Path:
    state = Path(server.env["BROKER_DATA_DIR"]) if server.db_url else server.data_dir  # --data-dir wins over env
    return state / f"metrics-{server.port}"


def requests_by_process(server: BrokerServer, service: str, operation: str) -> dict[int, float]:
    """broker_requests_total of one operation in each worker's own metric file."""
    out: dict[int, float] = {}
    for path in glob.glob(str(metrics_dir(server) / "counter_*.db")):
        pid = int(Path(path).stem.split("_")[1])
        for key, val, _ts, _pos in MmapedDict.read_all_values_from_file(path):
            _metric, name, labels, _help = json.loads(key)
            if name == "broker_requests_total" and (labels["service"], labels["operation"]) == (service, operation):
                out[pid] = out.get(pid, 0.0) + val
    return out


def test_request_counters_add_up_over_both_workers(broker):
    before = scrape(broker)
    per_process_before = requests_by_process(broker, "sqs", "SendMessage")
    url = fresh_client(broker, "sqs").create_queue(QueueName="counted")["QueueUrl"]

    def work(k: int) -> None:
        # Each thread has its own clients and connections, so the accepts spread over both workers.
        sqs, sns, sts = fresh_client(broker, "sqs"), fresh_client(broker, "sns"), fresh_client(broker, "sts")
        for i in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=f"{k}-{i}")
        for _ in range(2):
            sns.list_topics()
            sts.get_caller_identity()

    rounds = 0
    grown: dict[int, float] = {}
    while rounds < 5 and len([v for v in grown.values() if v > 0]) < 2:  # until both workers took sends
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(work, range(8)))
        rounds += 1
        settle()
        per_process = requests_by_process(broker, "sqs", "SendMessage")
        grown = {pid: v - per_process_before.get(pid, 0.0) for pid, v in per_process.items()}
    sends, others = 40 * rounds, 16 * rounds
    after = scrape(broker)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"outcome": "success"}
    assert delta("broker_requests_total", service="sqs", operation="SendMessage", **ok) == sends
    assert delta("broker_requests_total", service="sns", operation="ListTopics", **ok) == others
    assert delta("broker_requests_total", service="sts", operation="GetCallerIdentity", **ok) == others
    # The latency histogram counts the same requests, every one within its +Inf bucket.
    assert delta("broker_request_duration_seconds_count", service="sqs", operation="SendMessage") == sends
    assert delta("broker_request_duration_seconds_bucket", service="sqs", operation="SendMessage", le="+Inf") == sends
    assert delta("broker_request_duration_seconds_sum", service="sqs", operation="SendMessage") > 0
    # Both workers answered some of them (their own metric files say so), and the scrape, answered by one of
    # them, is the sum of both.
    assert len([v for v in grown.values() if v > 0]) == 2, grown
    assert sum(grown.values()) == sends


def test_errors_are_counted_by_their_aws_code(broker):
    before = scrape(broker)
    sqs, kinesis, sns = fresh_client(broker, "sqs"), fresh_client(broker, "kinesis"), fresh_client(broker, "sns")
    for _ in range(3):
        with pytest.raises(ClientError):
            sqs.get_queue_url(QueueName="no-such-queue")
    for _ in range(2):
        with pytest.raises(ClientError):
            kinesis.describe_stream_summary(StreamName="no-such-stream")
    with pytest.raises(ClientError):
        sns.get_topic_attributes(TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic")
    # An operation SQS does not have: no operation label can be taken from the request.
    r = httpx.post(
        broker.url,
        headers={"x-amz-target": "AmazonSQS.NoSuchAction", "content-type": "application/x-amz-json-1.0"},
        content=b"{}",
    )
    assert r.status_code == 400
    code = r.json()["__type"].rsplit("#", 1)[-1]
    after = scrape(broker)

    def delta(service: str, operation: str, outcome: str) -> float:
        labels = {"service": service, "operation": operation, "outcome": outcome}
        return value(after, "broker_requests_total", **labels) - value(before, "broker_requests_total", **labels)

    assert delta("sqs", "GetQueueUrl", "QueueDoesNotExist") == 3
    assert delta("kinesis", "DescribeStreamSummary", "ResourceNotFoundException") == 2
    assert delta("sns", "GetTopicAttributes", "NotFound") == 1
    assert delta("sqs", "unknown", code) == 1
    assert delta("sqs", "GetQueueUrl", "success") == 0


def test_queue_gauges_follow_the_queue(broker):
    sqs = fresh_client(broker, "sqs")
    url = sqs.create_queue(QueueName="gauged")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=300)["Messages"]) == 1
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
    broker.advance(30)  # the oldest message is 30 s old (by the broker's clock)
    queue = {"account": ACCOUNT, "region": REGION, "queue": "gauged"}
    samples = wait_for(broker, lambda s: value(s, "broker_sqs_messages_visible", **queue) == 2)
    assert value(samples, "broker_sqs_messages_in_flight", **queue) == 1
    assert value(samples, "broker_sqs_messages_delayed", **queue) == 1
    assert 30 <= value(samples, "broker_sqs_oldest_message_age_seconds", **queue) < 60
    assert value(samples, "broker_database_up") == 1
    assert 0 <= value(samples, "broker_database_gauges_age_seconds") <= GAUGE_TTL_S + 1
    assert value(samples, "broker_database_size_bytes") > 100_000
    # The same numbers GetQueueAttributes answers.
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]) == ("2", "1")
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "1"


def test_kinesis_records_in_and_out_and_iterator_age_per_shard_and_consumer(broker):
    kinesis = fresh_client(broker, "kinesis")
    kinesis.create_stream(StreamName="measured", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="measured", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    stream = {"account": ACCOUNT, "region": REGION, "stream": "measured"}
    before = scrape(broker)
    kinesis.put_records(StreamName="measured", Records=[{"Data": b"x", "PartitionKey": str(i)} for i in range(5)])
    kinesis.put_record(StreamName="measured", Data=b"y", PartitionKey="k")
    broker.advance(60)
    shard = kinesis.list_shards(StreamName="measured")["Shards"][0]["ShardId"]
    readers = {**stream, "shard": shard, "consumer": "GetRecords"}
    efo = {**stream, "shard": shard, "consumer": "app"}
    iterator = kinesis.get_shard_iterator(StreamName="measured", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    first = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=2)
    assert len(first["Records"]) == 2 and first["MillisBehindLatest"] >= 60_000
    # An enhanced fan-out consumer reads everything: caught up, it does not hide the lagging reader.
    arn = kinesis.describe_stream_summary(StreamName="measured")["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]["ConsumerARN"]
    kinesis.describe_stream_consumer(ConsumerARN=consumer)  # ACTIVE from then on
    events = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard, StartingPosition={"Type": "TRIM_HORIZON"})[
        "EventStream"
    ]
    pushed = next(iter(events))["SubscribeToShardEvent"]
    events.close()
    assert len(pushed["Records"]) == 6 and pushed["MillisBehindLatest"] == 0
    behind = scrape(broker)
    assert value(behind, "broker_kinesis_iterator_age_seconds", **readers) >= 60
    assert value(behind, "broker_kinesis_iterator_age_seconds", **efo) == 0
    rest = kinesis.get_records(ShardIterator=first["NextShardIterator"])
    assert len(rest["Records"]) == 4 and rest["MillisBehindLatest"] == 0
    after = scrape(broker)
    assert (
        value(after, "broker_kinesis_records_in_total", **stream)
        - value(before, "broker_kinesis_records_in_total", **stream)
        == 6
    )
    assert (  # 2 + 4 by GetRecords, 6 pushed to the consumer
        value(after, "broker_kinesis_records_out_total", **stream)
        - value(before, "broker_kinesis_records_out_total", **stream)
        == 12
    )
    assert value(after, "broker_kinesis_iterator_age_seconds", **readers) == 0  # the latest read reached the tip
    kinesis.deregister_stream_consumer(ConsumerARN=consumer)


def test_sns_deliveries_and_retries_by_protocol(broker):
    sns, sqs = fresh_client(broker, "sns"), fresh_client(broker, "sqs")
    topic = sns.create_topic(Name="fan")["TopicArn"]
    url = sqs.create_queue(QueueName="fan-q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    endpoint = Endpoint()
    try:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
        (confirmation,) = endpoint.wait_for(1)
        sns.confirm_subscription(TopicArn=topic, Token=json.loads(confirmation["body"])["Token"])
        before = scrape(broker)
        for i in range(3):
            sns.publish(TopicArn=topic, Message=f"m{i}")
        endpoint.wait_for(4)
        endpoint.status = 500  # the next notification fails and is scheduled again
        sns.publish(TopicArn=topic, Message="fails")
        endpoint.wait_for(5)

        def grew(name: str, by: float, **labels: str) -> Callable[[Samples], bool]:
            return lambda s: value(s, name, **labels) - value(before, name, **labels) == by

        delivered = grew("broker_sns_deliveries_total", 3, protocol="http", outcome="delivered")
        retried = grew("broker_sns_delivery_retries_total", 1, protocol="http")
        # Outcomes of HTTP attempts are recorded by the deliverer's next pass, a moment after the POST.
        after = wait_for(broker, lambda s: delivered(s) and retried(s))
        assert grew("broker_sns_deliveries_total", 4, protocol="sqs", outcome="delivered")(after)
        assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 4
    finally:
        endpoint.close()


def _lambda_client(server: BrokerServer):
    return fresh_client(server, "lambda", read_timeout=60)


SLEEPER = """
import time


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": True}
"""


def test_lambda_invocations_errors_throttles_duration_and_concurrency(broker):
    lam = _lambda_client(broker)
    create_function(lam, "measured", source=SLEEPER, Timeout=30)
    create_function(lam, "held", source=SLEEPER)
    lam.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=0)
    fn = {"account": ACCOUNT, "region": REGION, "function": "measured"}
    held = {"account": ACCOUNT, "region": REGION, "function": "held"}
    before = scrape(broker)
    assert "FunctionError" not in lam.invoke(FunctionName="measured", Payload=b'{"sleep": 0.05}')
    assert lam.invoke(FunctionName="measured", Payload=b'{"fail": true}')["FunctionError"] == "Unhandled"
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="held", Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "TooManyRequestsException"

    running = threading.Thread(target=lam.invoke, kwargs={"FunctionName": "measured", "Payload": b'{"sleep": 2}'})
    running.start()
    try:
        during = wait_for(broker, lambda s: value(s, "broker_lambda_concurrent_executions", **fn) == 1, timeout=20)
    finally:
        running.join()
    after = scrape(broker)

    def delta(name: str, labels: dict[str, str] = fn) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("broker_lambda_invocations_total") == 3
    assert delta("broker_lambda_errors_total") == 1
    assert delta("broker_lambda_throttles_total", held) == 1
    assert delta("broker_lambda_invocations_total", held) == 0
    assert delta("broker_lambda_duration_seconds_count") == 3
    assert delta("broker_lambda_duration_seconds_sum") >= 2.05
    assert value(during, "broker_lambda_concurrent_executions", **fn) == 1
    assert value(after, "broker_lambda_concurrent_executions", **fn) == 0
    assert value(after, "broker_requests_total", service="lambda", operation="Invoke", outcome="success") >= 3


def test_lambda_backlogs_leases_and_writer(broker):
    lam, sqs = _lambda_client(broker), fresh_client(broker, "sqs")
    create_function(lam, "stuck", source=SLEEPER)
    lam.put_function_concurrency(FunctionName="stuck", ReservedConcurrentExecutions=0)
    for _ in range(2):  # throttled attempts stay stored, to be retried
        assert lam.invoke(FunctionName="stuck", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    url = sqs.create_queue(QueueName="source")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    mapping = lam.create_event_source_mapping(FunctionName="stuck", EventSourceArn=arn, Enabled=False)["UUID"]
    stuck = {"account": ACCOUNT, "region": REGION, "function": "stuck"}
    source = {**stuck, "mapping": mapping, "source": arn}

    def ready(s: Samples) -> bool:
        return (
            value(s, "broker_lambda_async_backlog", **stuck) == 2
            and value(s, "broker_lambda_mapping_backlog", **source) == 5
        )

    samples = wait_for(broker, ready)
    assert value(samples, "broker_lambda_async_oldest_age_seconds", **stuck) >= 0
    # Live leases, each held by one worker process ("host:pid:..."), as /_broker/leases shows them.
    held = series(samples, "broker_lease_held")
    assert held and all(v == 1 for _, v in held)
    listed = broker.admin("GET", "/_broker/leases")["leases"]
    # (an owner may have changed since the cached read; the names and the processes are the same)
    assert {labels["lease"] for labels, _ in held} <= {lease["name"] for lease in listed}
    assert {labels["owner"] for labels, _ in held} <= {lease["owner"] for lease in listed}
    # The writer thread's group commits: at least one batch per write above, none bigger than the limit.
    assert value(samples, "broker_db_write_batch_size_count") >= 8
    assert value(samples, "broker_db_write_batch_seconds_count") == value(samples, "broker_db_write_batch_size_count")
    assert value(samples, "broker_db_write_batch_size_bucket", le="512.0") == value(
        samples, "broker_db_write_batch_size_count"
    )


def test_openmetrics_when_asked_and_text_format_otherwise(broker):
    r = httpx.get(broker.url + "/_broker/metrics", headers={"accept": "application/openmetrics-text"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/openmetrics-text")
    assert r.text.rstrip().endswith("# EOF")
    plain = httpx.get(broker.url + "/_broker/metrics")
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE broker_requests_total counter" in plain.text


def test_live_gauges_of_dead_workers_are_dropped(broker):
    """uvicorn replaces a dead worker without telling anyone: its running-invocation gauge must not stay in the
    sums. A file left by a process that no longer exists is dropped at the next scrape."""
    path = metrics_dir(broker)
    dead = _dead_pid()
    source = next(iter(glob.glob(str(path / "counter_*.db"))))
    fake = path / f"gauge_livesum_{dead}.db"
    fake.write_bytes(Path(source).read_bytes())  # any valid metric file: its contents are never read
    scrape(broker)
    assert not fake.exists()
    assert glob.glob(str(path / "counter_*.db"))  # counters of every process, dead or alive, stay


def _dead_pid() -> int:
    for pid in range(os.getpid() + 100_000, os.getpid() + 200_000):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            continue
    raise AssertionError("no free pid")


def _beyond_pid_max() -> int:
    """A process id no process can have."""
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


def test_concurrent_scrapes_after_workers_died_all_answer(broker):
    """Several scrapes at once each drop the files of the same dead workers: none may fail for a file another
    removed first."""
    path = metrics_dir(broker)
    empty = struct.pack("i", 8) + bytes(4)  # a valid metric file holding nothing
    first = _beyond_pid_max()

    def get(_: int) -> int:
        return httpx.get(broker.url + "/_broker/metrics", timeout=30).status_code

    for _ in range(3):
        for pid in range(first, first + 300):
            (path / f"gauge_livesum_{pid}.db").write_bytes(empty)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            assert list(pool.map(get, range(4))) == [200] * 4
        assert not glob.glob(str(path / f"gauge_livesum_{first}*.db"))


def test_workers_share_the_database_gauges(broker):
    """One worker's read of the database serves the scrapes of every worker of the node until it is
    GAUGE_TTL_S old: a figure planted in the shared file is what every scrape shows, until the next read."""
    sqs = fresh_client(broker, "sqs")
    sqs.create_queue(QueueName="shared")
    queue = {"account": ACCOUNT, "region": REGION, "queue": "shared"}
    wait_for(broker, lambda s: ("broker_sqs_messages_visible", frozenset(queue.items())) in s)
    shared = metrics_dir(broker) / "database-gauges.json"
    doc = json.loads(shared.read_text())
    time.sleep(GAUGE_TTL_S)  # every worker's own copy is stale now
    planted = [ACCOUNT, REGION, "shared", 12345, 0, 0, None]
    doc["snapshot"]["queues"] = [q for q in doc["snapshot"]["queues"] if q[2] != "shared"] + [planted]
    doc["read_at"] = time.time() + 5  # fresh for GAUGE_TTL_S + 5 s: the scrapes below take less on a busy machine
    shared.write_text(json.dumps(doc))

    def visible(_: int) -> float:
        # a connection per scrape: the scrapes spread over both workers
        r = httpx.get(broker.url + "/_broker/metrics", timeout=30)
        got = {
            frozenset(s.labels.items()): s.value
            for family in text_string_to_metric_families(r.text)
            for s in family.samples
            if s.name == "broker_sqs_messages_visible"
        }
        return got[frozenset(queue.items())]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert list(pool.map(visible, range(8))) == [12345] * 8
    # read again once stale
    wait_for(broker, lambda s: value(s, "broker_sqs_messages_visible", **queue) == 0, timeout=30)
