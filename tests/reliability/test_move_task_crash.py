"""kill -9 in the middle of a message move task: after a restart the task finishes, and every message moved
exactly once (none lost, none duplicated, none left in the dead-letter queue)."""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.server import drain

BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]
ACCOUNT = "000000000000"
N = 1000
# Slow enough that the kill lands mid-task on a busy machine: about 5.7 s of moving are left when it is sent.
RATE = 150
KILL_AT = 150


def _arn(name: str) -> str:
    return f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


def _fill(server, url: str, bodies: list[str]) -> None:
    batches = [bodies[i : i + 10] for i in range(0, len(bodies), 10)]

    def send(chunk: list[list[str]]) -> None:
        client = server.client("sqs")
        for batch in chunk:
            entries = [{"Id": str(k), "MessageBody": b} for k, b in enumerate(batch)]
            assert len(client.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == len(batch)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, [batches[i::4] for i in range(4)]))


def _task(client, source_arn: str) -> dict:
    (task,) = client.list_message_move_tasks(SourceArn=source_arn)["Results"]
    return task


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_move_task_survives_kill_9(server_factory, backend):
    server = server_factory(backend).start()
    client = server.client("sqs")
    dlq_url = client.create_queue(QueueName="dlq")["QueueUrl"]
    client.create_queue(
        QueueName="src",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": _arn("dlq"), "maxReceiveCount": 1})},
    )
    dest_url = client.create_queue(QueueName="dest")["QueueUrl"]
    bodies = [f"msg-{i:05d}" for i in range(N)]
    _fill(server, dlq_url, bodies)

    client.start_message_move_task(
        SourceArn=_arn("dlq"), DestinationArn=_arn("dest"), MaxNumberOfMessagesPerSecond=RATE
    )
    deadline = time.monotonic() + 15
    while True:
        task = _task(client, _arn("dlq"))
        assert task["Status"] == "RUNNING", f"the task ended before the kill: {task}"
        if task["ApproximateNumberOfMessagesMoved"] >= KILL_AT:
            break
        assert time.monotonic() < deadline, f"the task made no progress: {task}"
        time.sleep(0.02)
    server.kill()  # SIGKILL to the whole process group, mid-task

    server.start()
    client = server.client("sqs")
    task = _task(client, _arn("dlq"))
    assert task["Status"] == "RUNNING" and KILL_AT <= task["ApproximateNumberOfMessagesMoved"] < N, task
    deadline = time.monotonic() + 30
    while task["Status"] == "RUNNING":
        assert time.monotonic() < deadline, f"the task never finished after the restart: {task}"
        time.sleep(0.1)
        task = _task(client, _arn("dlq"))
    assert task["Status"] == "COMPLETED", task
    assert task["ApproximateNumberOfMessagesToMove"] == N

    moved = Counter(drain(client, dest_url, max_batches=N))
    duplicated = sorted(b for b, n in moved.items() if n > 1)
    missing = sorted(set(bodies) - set(moved))
    assert not duplicated, f"{len(duplicated)} messages moved twice, e.g. {duplicated[:5]}"
    assert not missing, f"{len(missing)} messages lost, e.g. {missing[:5]}"
    assert set(moved) == set(bodies)
    attrs = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert "Messages" not in client.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)
