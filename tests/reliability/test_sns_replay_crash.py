"""kill -9 in the middle of an SNS archive replay: after a restart the replay resumes where its last committed chunk
ended, and every archived message reaches the subscriber exactly once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from tests.server import drain


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_replay_resumes_after_kill_9(server_factory, backend):
    server = server_factory(backend).start()
    sns, sqs = server.client("sns"), server.client("sqs")
    start = server.admin("GET", "/_broker/clock")["now_ms"]
    topic = sns.create_topic(
        Name="crash.fifo",
        Attributes={
            "FifoTopic": "true",
            "ContentBasedDeduplication": "true",
            "ArchivePolicy": json.dumps({"MessageRetentionPeriod": "1"}),
        },
    )["TopicArn"]
    total = 3000
    for i in range(0, total, 10):
        entries = [{"Id": str(k), "Message": f"m{i + k}", "MessageGroupId": "g"} for k in range(10)]
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    # A standard queue keeps duplicates visible (a FIFO queue would hide them behind its deduplication).
    url = sqs.create_queue(QueueName="replayed")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stamp = datetime.fromtimestamp(start / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    policy = json.dumps({"PointType": "Timestamp", "StartingPoint": stamp})
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"ReplayPolicy": policy})[
        "SubscriptionArn"
    ]
    deadline = time.monotonic() + 20
    while sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["ReplayStatus"] != "In progress":
        assert time.monotonic() < deadline, "the replay did not start"
        time.sleep(0.02)
    server.kill()
    server.start()
    sns = server.client("sns")
    deadline = time.monotonic() + 60
    while sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["ReplayStatus"] != "Completed":
        assert time.monotonic() < deadline, "the replay did not finish after the restart"
        time.sleep(0.1)
    bodies = drain(server.client("sqs"), url)
    messages = [json.loads(b)["Message"] for b in bodies]
    assert len(messages) == total, f"{len(messages)} deliveries for {total} archived messages"
    assert sorted(messages, key=lambda m: int(m[1:])) == [f"m{i}" for i in range(total)]
