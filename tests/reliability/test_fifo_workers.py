"""FIFO order across worker processes: concurrent consumers never see a message group out of order or twice.

AWS: "Messages within the same message group are always processed one at a time, in strict order, ensuring that no two
messages from the same group are processed simultaneously" (SQS Developer Guide, FIFO queue key terms); "While
messages with a particular MessageGroupId are invisible, no more messages belonging to the same MessageGroupId are
returned" (ReceiveMessage, ReceiveRequestAttemptId).
"""

from __future__ import annotations

import threading
import time

import pytest

GROUPS = 100
PER_GROUP = 10
CONSUMERS = 8
DEADLINE_S = 25


def _fill(server, url: str) -> None:
    client = server.client()
    for g in range(GROUPS):
        resp = client.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": f"m{i}",
                    "MessageBody": f"g{g}:{i}",
                    "MessageGroupId": f"g{g}",
                    "MessageDeduplicationId": f"g{g}-{i}",
                }
                for i in range(PER_GROUP)
            ],
        )
        assert resp.get("Failed", []) == [], resp["Failed"]


class _Log:
    """Receipts in the order they happened, across all consumers, and the groups currently held by a consumer."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, int]] = []
        self.held: set[str] = set()
        self.overlaps: list[str] = []
        self.errors: list[BaseException] = []


def _consume(server, url: str, log: _Log, stop: threading.Event, max_n: int) -> None:
    client = server.client()
    try:
        while not stop.is_set():
            msgs = client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=max_n,
                VisibilityTimeout=120,
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["MessageGroupId"],
            ).get("Messages", [])
            if not msgs:
                continue
            groups = set()
            with log.lock:  # logged before anything is deleted: the next receipt of a group can only come later
                for m in msgs:
                    group, index = m["Body"].split(":")
                    assert m["Attributes"]["MessageGroupId"] == group
                    log.received.append((group, int(index)))
                    groups.add(group)
                for group in groups:
                    if group in log.held:
                        log.overlaps.append(group)
                log.held |= groups
            time.sleep(0.002)  # "processing": the groups stay held, nothing of them may be delivered meanwhile
            with log.lock:  # let go just before the deletes, so a prompt redelivery is not mistaken for an overlap
                log.held -= groups
            resp = client.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]} for k, m in enumerate(msgs)],
            )
            assert resp.get("Failed", []) == [], resp["Failed"]
    except BaseException as e:  # noqa: BLE001 - reported by the test
        with log.lock:
            log.errors.append(e)


def _per_group_order(servers: list) -> None:
    url = servers[0].client().create_queue(QueueName="ordered.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    _fill(servers[0], url)
    log = _Log()
    stop = threading.Event()
    total = GROUPS * PER_GROUP
    threads = [
        threading.Thread(
            target=_consume, args=(servers[n % len(servers)], url, log, stop, (1, 2, 4, 10)[n % 4]), daemon=True
        )
        for n in range(CONSUMERS)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        with log.lock:
            if len(log.received) >= total or log.errors:
                break
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert not log.errors, log.errors[0]
    received = list(log.received)
    assert len(received) == len(set(received)), "a message was delivered twice"
    expected = {(f"g{g}", i) for g in range(GROUPS) for i in range(PER_GROUP)}
    assert not expected - set(received), f"{len(expected - set(received))} messages never delivered"
    assert set(received) == expected
    by_group: dict[str, list[int]] = {}
    for group, index in received:
        by_group.setdefault(group, []).append(index)
    out_of_order = {g: idx for g, idx in by_group.items() if idx != list(range(PER_GROUP))}
    assert not out_of_order, f"groups received out of order: {dict(list(out_of_order.items())[:5])}"
    assert not log.overlaps, f"groups delivered to two consumers at once: {log.overlaps[:5]}"
    attrs = servers[0].client().get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


@pytest.mark.slow
def test_fifo_group_order_with_concurrent_consumers_sqlite(server_factory):
    server = server_factory("sqlite", workers=2).start()
    _per_group_order([server])


@pytest.mark.slow
@pytest.mark.pg
def test_fifo_group_order_with_concurrent_consumers_pg(server_factory):
    server = server_factory("pg", workers=2).start()
    _per_group_order([server])
