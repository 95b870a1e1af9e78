"""Resources declared in the configuration are created when the broker starts: queues with their attributes and
tags, a topic whose subscription delivers to a declared queue, a stream with its shards, functions from a code
directory and from a zip, event source mappings that deliver. With two workers they are made once, a restart
duplicates nothing, and two PostgreSQL nodes starting together on one database make each mapping once. The banner
and /_broker/health say what the broker serves. A declared subscription still waiting for its confirmation does not
stop a restart."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import serve
from tests.lambda_.helpers import json_lines, wait_until
from tests.operating.conftest import START_TIMEOUT
from tests.server import BrokerServer

ACCOUNT = "000000000000"
RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    return {"seen": len(event.get("Records", [])), "from": os.environ["FROM"]}
"""
# queues 4, stream 1, functions 2, topics 2, subscriptions 2, mappings 2
DECLARED = 13
# An endpoint that never confirms (nothing listens on the discard port): its subscription stays pending.
UNCONFIRMED = "http://127.0.0.1:9/never-confirms"


def _declaration(tmp: Path) -> dict:
    code_dir = tmp / "code"
    code_dir.mkdir()
    (code_dir / "app.py").write_text(RECORDER)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", RECORDER)
    (tmp / "fn.zip").write_bytes(buf.getvalue())
    return {
        "queues": [
            {"name": "jobs-dlq"},
            {
                "name": "jobs",
                # TOML-style values: a number and a table, sent to AWS as strings.
                "attributes": {
                    "VisibilityTimeout": 45,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs-dlq",
                        "maxReceiveCount": 3,
                    },
                },
                "tags": {"team": "core"},
            },
            {"name": "inbox"},
            {"name": "orders.fifo", "attributes": {"ContentBasedDeduplication": True}},
        ],
        "topics": [
            {
                "name": "events",
                "subscriptions": [{"protocol": "sqs", "endpoint": "inbox", "attributes": {"RawMessageDelivery": True}}],
            },
            {"name": "alerts", "subscriptions": [{"protocol": "http", "endpoint": UNCONFIRMED}]},
        ],
        "streams": [{"name": "clicks", "shard_count": 2}],
        "functions": [
            {
                "name": "from-dir",
                "runtime": "python3.12",
                "handler": "app.handler",
                "code": str(code_dir),
                "environment": {"OUT": str(tmp / "dir.jsonl"), "FROM": "dir"},
                "timeout": 30,
            },
            {
                "name": "from-zip",
                "runtime": "python3.12",
                "handler": "handler.handler",
                "code": str(tmp / "fn.zip"),
                "environment": {"OUT": str(tmp / "zip.jsonl"), "FROM": "zip"},
                "memory_size": 256,
            },
        ],
        "event_source_mappings": [
            {"function": "from-dir", "source": "jobs", "batch_size": 5},
            {"function": "from-zip", "source": "clicks", "starting_position": "TRIM_HORIZON"},
        ],
    }


@pytest.fixture(scope="module")
def files(backend, tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp(f"declared-{backend}")


@pytest.fixture(scope="module")
def server(backend, request, files) -> Iterator[BrokerServer]:
    env = {"BROKER_RESOURCES": json.dumps(_declaration(files))}
    yield from serve(request, backend, "startup", START_TIMEOUT, workers=2, env=env)


def _banners(server: BrokerServer) -> list[str]:
    return re.findall(r"  resources: .*", server.log_path.read_text())


def _mappings(server: BrokerServer) -> list[dict]:
    return server.client("lambda").list_event_source_mappings()["EventSourceMappings"]


def _subscriptions(server: BrokerServer, topic: str = "events") -> list[dict]:
    arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:{topic}"
    return server.client("sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]


def test_queues_have_their_attributes_and_tags(server: BrokerServer) -> None:
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    assert json.loads(attrs["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs-dlq",
        "maxReceiveCount": 3,
    }
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
    fifo = sqs.get_queue_url(QueueName="orders.fifo")["QueueUrl"]
    fifo_attrs = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
    assert fifo_attrs["FifoQueue"] == "true" and fifo_attrs["ContentBasedDeduplication"] == "true"


def test_topic_subscription_delivers_to_the_declared_queue(server: BrokerServer) -> None:
    sns, sqs = server.client("sns"), server.client("sqs")
    [sub] = _subscriptions(server)
    assert sub["Protocol"] == "sqs" and sub["Endpoint"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:inbox"
    sns.publish(TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:events", Message="hello inbox")
    url = sqs.get_queue_url(QueueName="inbox")["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)["Messages"]
    assert [m["Body"] for m in got] == ["hello inbox"]  # RawMessageDelivery, as declared
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])


def test_stream_is_active_with_its_shards(server: BrokerServer) -> None:
    summary = server.client("kinesis").describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["OpenShardCount"] == 2


def test_functions_from_a_directory_and_a_zip_run(server: BrokerServer) -> None:
    lam = server.client("lambda", read_timeout=60)
    for name, origin in (("from-dir", "dir"), ("from-zip", "zip")):
        out = lam.invoke(FunctionName=name, Payload=b"{}")
        assert "FunctionError" not in out, out["Payload"].read()
        assert json.loads(out["Payload"].read()) == {"seen": 0, "from": origin}
    config = lam.get_function_configuration(FunctionName="from-zip")
    assert config["MemorySize"] == 256 and config["Runtime"] == "python3.12"
    assert lam.get_function_configuration(FunctionName="from-dir")["Timeout"] == 30


def test_mappings_deliver(server: BrokerServer, files: Path) -> None:
    sqs, kinesis = server.client("sqs"), server.client("kinesis")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="jobs")["QueueUrl"], MessageBody="job-1")
    kinesis.put_record(StreamName="clicks", Data=b"click-1", PartitionKey="p")

    def bodies() -> list[str]:
        path = files / "dir.jsonl"
        return [r["body"] for e in json_lines(path) for r in e.get("Records", [])] if path.exists() else []

    def records() -> list[str]:
        path = files / "zip.jsonl"
        events = json_lines(path) if path.exists() else []
        return [r["kinesis"]["data"] for e in events for r in e.get("Records", [])]

    wait_until(lambda: "job-1" in bodies(), timeout=30)
    wait_until(lambda: "Y2xpY2stMQ==" in records(), timeout=30)  # base64 of click-1


def test_two_workers_created_each_resource_once(server: BrokerServer) -> None:
    assert _banners(server) == [f"  resources: {DECLARED} created, 0 already present"]
    pairs = sorted(
        (m["FunctionArn"].rsplit(":", 1)[1], m["EventSourceArn"].rsplit(":", 1)[1]) for m in _mappings(server)
    )
    assert pairs == [("from-dir", "jobs"), ("from-zip", "stream/clicks")]
    assert len(_subscriptions(server)) == 1


def test_banner_names_endpoint_services_database_auth_and_console(server: BrokerServer) -> None:
    log = server.log_path.read_text()
    base = f"http://127.0.0.1:{server.port}"
    assert f"  endpoint:  {base} (region us-east-1, account {ACCOUNT})" in log
    services = re.search(r"  services:  (.*)", log)
    assert services is not None
    assert {"sqs", "sns", "kinesis", "lambda", "logs", "events"} <= set(services.group(1).split(", "))
    assert f"  console:   {base}/_broker/console/" in log
    assert "  auth:      none" in log
    database = re.search(r"  database:  (.*)", log)
    assert database is not None
    if server.db_url:
        assert database.group(1).startswith("postgresql+psycopg://")
    else:
        assert database.group(1) == str(server.data_dir.resolve() / "broker.db")
    assert "created event source mapping" in log


def test_health_lists_services_and_jobs(server: BrokerServer) -> None:
    health = server.admin("GET", "/_broker/health")
    assert health["status"] == "ok" and health["auth"] == "none"
    services = health["services"]
    assert set(services) >= {"sqs", "sns", "kinesis", "sts", "iam", "logs", "lambda", "events", "scheduler"}
    assert all(s["state"] == "running" for s in services.values())
    assert services["sqs"]["protocols"] == ["json", "query"]
    assert "python3.12" in services["lambda"]["runtimes"]
    assert health["jobs"]["sqs.sweep"]["leased"] is True


def test_restart_duplicates_nothing_and_applies_changes(server: BrokerServer, files: Path) -> None:
    lam = server.client("lambda")
    sha = lam.get_function_configuration(FunctionName="from-dir")["CodeSha256"]
    declaration = json.loads(server.env["BROKER_RESOURCES"])
    declaration["queues"][1]["attributes"]["VisibilityTimeout"] = 50
    declaration["queues"].append({"name": "late"})
    declaration["functions"][0]["timeout"] = 40
    declaration["topics"][1]["subscriptions"][0]["attributes"] = {"RawMessageDelivery": True}
    server.env["BROKER_RESOURCES"] = json.dumps(declaration)
    server.kill()
    server.start(timeout=START_TIMEOUT)
    assert _banners(server)[-1] == f"  resources: 1 created, {DECLARED} already present"
    assert len(_mappings(server)) == 2
    assert len(_subscriptions(server)) == 1
    # The unconfirmed subscription is the same one, with the attribute declared since.
    [pending] = _subscriptions(server, "alerts")
    assert (pending["Endpoint"], pending["SubscriptionArn"]) == (UNCONFIRMED, "PendingConfirmation")
    sns = server.client("sns")
    alerts = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
    arn = sns.subscribe(TopicArn=alerts, Protocol="http", Endpoint=UNCONFIRMED, ReturnSubscriptionArn=True)
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn["SubscriptionArn"])["Attributes"]
    assert (attrs["PendingConfirmation"], attrs["RawMessageDelivery"]) == ("true", "true")
    sqs = server.client("sqs")
    assert len(sqs.list_queues()["QueueUrls"]) == 5
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "50"
    assert "RedrivePolicy" in attrs
    config = server.client("lambda").get_function_configuration(FunctionName="from-dir")
    assert config["Timeout"] == 40
    # The directory zips the same way again: its code is not replaced.
    assert config["CodeSha256"] == sha


@pytest.mark.pg
def test_two_postgresql_nodes_starting_together_create_once(server_factory, pg_databases, tmp_path) -> None:
    db_url = pg_databases.create()
    env = {"BROKER_RESOURCES": json.dumps(_declaration(tmp_path))}
    nodes = [server_factory("pg", db_url=db_url, env=env) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda node: node.start(timeout=START_TIMEOUT), nodes))
    banners = sorted(_banners(nodes[0]) + _banners(nodes[1]))
    assert banners == [
        f"  resources: 0 created, {DECLARED} already present",
        f"  resources: {DECLARED} created, 0 already present",
    ]
    assert len(_mappings(nodes[1])) == 2
    assert len(_subscriptions(nodes[0])) == 1
