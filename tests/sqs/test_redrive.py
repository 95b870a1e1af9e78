"""SQS dead-letter queues over the JSON protocol (and the query protocol once per operation): RedrivePolicy,
RedriveAllowPolicy, moving over-received messages, ListDeadLetterSourceQueues and message move tasks.

AWS behaviour is the contract. Sources: SQS API Reference (SetQueueAttributes: RedrivePolicy, RedriveAllowPolicy;
ReceiveMessage: DeadLetterQueueSourceArn; ListDeadLetterSourceQueues; StartMessageMoveTask; ListMessageMoveTasks and
ListMessageMoveTasksResultEntry; CancelMessageMoveTask), SQS Developer Guide ("Using dead-letter queues",
"Learn how to configure a dead-letter queue redrive": redriven messages are new messages with a new MessageId and
enqueue time, FIFO DLQs replace the deduplication id with the MessageId; "Setting-up dead-letter queue retention":
standard queues keep the original enqueue timestamp, FIFO queues reset it). Error codes and HTTP statuses of move
tasks as recorded against AWS (localstack's AWS-validated snapshots, tests/aws/services/sqs/test_sqs_move_task).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.sqs.clients import client as _client
from tests.sqs.query_client import ACCOUNT, QueryClient


@pytest.fixture
def sqs(broker):
    return _client(broker)


@pytest.fixture
def q(broker) -> QueryClient:
    return QueryClient(broker.url)


# -- helpers ---------------------------------------------------------------------------------------------------
def _arn(name: str, region: str = "us-east-1", account: str = ACCOUNT) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _queue(sqs, name: str, **attrs) -> str:
    return sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]


def _fifo(sqs, name: str, **attrs) -> str:
    return _queue(sqs, name, FifoQueue="true", **attrs)


def _policy(target: str, count: int | str = 1) -> str:
    return json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": count})


def _compact(target: str, count: int) -> str:
    return '{"deadLetterTargetArn":"' + target + '","maxReceiveCount":' + str(count) + "}"


def _attrs(sqs, url: str, *names: str) -> dict[str, str]:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names or ["All"])).get("Attributes", {})


def _total(sqs, url: str) -> int:
    a = _attrs(sqs, url)
    return sum(
        int(a[k])
        for k in (
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        )
    )


def _visible(sqs, url: str) -> int:
    return int(_attrs(sqs, url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"])


def _receive(sqs, url: str, **kw) -> list[dict]:
    return sqs.receive_message(QueueUrl=url, **kw).get("Messages", [])


def _take(sqs, url: str, **kw) -> list[dict]:
    """Receive (with all attributes) and delete every visible message."""
    out: list[dict] = []
    for _ in range(400):
        msgs = _receive(
            sqs, url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"], **kw
        )
        if not msgs:
            return out
        out.extend(msgs)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
        )
    raise AssertionError("queue never drained")


def _send_many(sqs, url: str, bodies: list[str], **entry) -> None:
    for i in range(0, len(bodies), 10):
        entries = [{"Id": str(k), "MessageBody": b, **entry} for k, b in enumerate(bodies[i : i + 10])]
        assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == len(entries)


def _redrive_all(sqs, url: str, max_receives: int = 1) -> None:
    """Receive with VisibilityTimeout=0 until the (standard) source is empty: every message is dead-lettered."""
    for _ in range(500 * max_receives):
        _receive(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        if _total(sqs, url) == 0:
            return
    raise AssertionError("messages never left the source queue")


def _now_ms(broker) -> int:
    return broker.admin("GET", "/_broker/clock")["now_ms"]


def _err(fn, **kw) -> dict:
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    return ei.value.response


def _code(fn, **kw) -> str:
    resp = _err(fn, **kw)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400, resp
    return resp["Error"]["Code"]


def _dlq_pair(sqs, source: str = "src", dlq: str = "dlq", max_receives: int = 1, **source_attrs) -> tuple[str, str]:
    dlq_url = _queue(sqs, dlq)
    src_url = _queue(sqs, source, RedrivePolicy=_policy(_arn(dlq), max_receives), **source_attrs)
    return src_url, dlq_url


def _tasks(sqs, source_arn: str, **kw) -> list[dict]:
    return sqs.list_message_move_tasks(SourceArn=source_arn, **kw).get("Results", [])


def _wait_status(sqs, source_arn: str, statuses: set[str], timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        tasks = _tasks(sqs, source_arn)
        if tasks and tasks[0]["Status"] in statuses:
            return tasks[0]
        assert time.monotonic() < deadline, f"task never reached {statuses}: {tasks}"
        time.sleep(0.05)


# == RedrivePolicy ===============================================================================================
def test_redrive_policy_on_create_is_returned_in_compact_form(sqs):
    _queue(sqs, "dlq")
    # Spaces after separators and a string count: AWS answers with its own compact JSON and a numeric count.
    url = _queue(sqs, "src", RedrivePolicy=_policy(_arn("dlq"), "3"))
    assert _attrs(sqs, url, "RedrivePolicy") == {"RedrivePolicy": _compact(_arn("dlq"), 3)}
    assert _attrs(sqs, url)["RedrivePolicy"] == _compact(_arn("dlq"), 3)


def test_redrive_policy_via_set_queue_attributes_and_removal_with_empty_string(sqs):
    dlq_url = _queue(sqs, "dlq")
    url = _queue(sqs, "src")
    assert "RedrivePolicy" not in _attrs(sqs, url)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": _policy(_arn("dlq"), 5)})
    assert _attrs(sqs, url)["RedrivePolicy"] == _compact(_arn("dlq"), 5)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"] == [url]

    # Changing it replaces it.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": _policy(_arn("dlq"), 1000)})
    assert _attrs(sqs, url)["RedrivePolicy"] == _compact(_arn("dlq"), 1000)

    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in _attrs(sqs, url)
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"] == []
    # Without a policy, messages are delivered however often they are received.
    sqs.send_message(QueueUrl=url, MessageBody="stays")
    for n in range(1, 4):
        (m,) = _receive(sqs, url, VisibilityTimeout=0, MessageSystemAttributeNames=["ApproximateReceiveCount"])
        assert m["Attributes"]["ApproximateReceiveCount"] == str(n)
    assert _total(sqs, dlq_url) == 0


@pytest.mark.parametrize("count", [1, 1000, "1", "1000"])
def test_max_receive_count_bounds_accepted(sqs, count):
    _queue(sqs, "dlq")
    url = _queue(sqs, "src", RedrivePolicy=_policy(_arn("dlq"), count))
    assert _attrs(sqs, url)["RedrivePolicy"] == _compact(_arn("dlq"), int(count))


def _setup_for_invalid(sqs, broker) -> None:
    _queue(sqs, "dlq")
    _fifo(sqs, "dlq.fifo")
    # A queue of the same name in another region: still not a valid target from us-east-1.
    _queue(_client(broker, region="eu-west-1"), "dlq")
    # ... and in another account.
    _queue(_client(broker, access_key="111111111111"), "dlq")


INVALID_REDRIVE_POLICIES = {
    "not-json": "{not json",
    "json-array": json.dumps([_arn("dlq"), 3]),
    "json-string": json.dumps("dlq"),
    "missing-target": json.dumps({"maxReceiveCount": 3}),
    "missing-count": json.dumps({"deadLetterTargetArn": _arn("dlq")}),
    "count-zero": _policy(_arn("dlq"), 0),
    "count-1001": _policy(_arn("dlq"), 1001),
    "count-negative": _policy(_arn("dlq"), -1),
    "count-not-a-number": _policy(_arn("dlq"), "many"),
    "target-missing": _policy(_arn("nothere"), 3),
    "target-not-an-arn": _policy("dlq", 3),
    "target-other-account": _policy(_arn("dlq", account="111111111111"), 3),
    "target-other-region": _policy(_arn("dlq", region="eu-west-1"), 3),
    "target-fifo-for-standard": _policy(_arn("dlq.fifo"), 3),
}


@pytest.mark.parametrize("policy", list(INVALID_REDRIVE_POLICIES.values()), ids=list(INVALID_REDRIVE_POLICIES))
def test_invalid_redrive_policy_on_create(sqs, broker, policy):
    _setup_for_invalid(sqs, broker)
    assert _code(sqs.create_queue, QueueName="src", Attributes={"RedrivePolicy": policy}) == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="src")


@pytest.mark.parametrize("policy", list(INVALID_REDRIVE_POLICIES.values()), ids=list(INVALID_REDRIVE_POLICIES))
def test_invalid_redrive_policy_on_set_leaves_the_old_one(sqs, broker, policy):
    _setup_for_invalid(sqs, broker)
    _queue(sqs, "good-dlq")
    url = _queue(sqs, "src", RedrivePolicy=_policy(_arn("good-dlq"), 4))
    code = _code(sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedrivePolicy": policy})
    assert code == "InvalidParameterValue"
    assert _attrs(sqs, url)["RedrivePolicy"] == _compact(_arn("good-dlq"), 4)


def test_fifo_source_needs_a_fifo_dead_letter_queue(sqs):
    _queue(sqs, "std-dlq")
    _fifo(sqs, "dlq.fifo")
    bad = {"FifoQueue": "true", "RedrivePolicy": _policy(_arn("std-dlq"), 2)}
    assert _code(sqs.create_queue, QueueName="src.fifo", Attributes=bad) == "InvalidParameterValue"
    url = _fifo(sqs, "src.fifo", RedrivePolicy=_policy(_arn("dlq.fifo"), 2))
    assert _attrs(sqs, url)["RedrivePolicy"] == _compact(_arn("dlq.fifo"), 2)
    code = _code(sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedrivePolicy": _policy(_arn("std-dlq"), 2)})
    assert code == "InvalidParameterValue"


# == moving over-received messages ==============================================================================
def test_message_moves_to_dlq_after_max_receive_count(sqs, broker):
    src_url, dlq_url = _dlq_pair(sqs, max_receives=2)
    attrs = {
        "color": {"DataType": "String", "StringValue": "red"},
        "n": {"DataType": "Number", "StringValue": "42"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    sent = sqs.send_message(QueueUrl=src_url, MessageBody="poison", MessageAttributes=attrs)
    (first,) = _receive(sqs, src_url, VisibilityTimeout=0, MessageSystemAttributeNames=["All"])
    sent_ts = first["Attributes"]["SentTimestamp"]
    broker.advance(5)
    (second,) = _receive(sqs, src_url, VisibilityTimeout=0, MessageSystemAttributeNames=["All"])
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    # Received maxReceiveCount times: still in the source until the next receive.
    assert _total(sqs, src_url) == 1 and _total(sqs, dlq_url) == 0

    assert _receive(sqs, src_url, VisibilityTimeout=0) == []
    assert _total(sqs, src_url) == 0
    assert _total(sqs, dlq_url) == 1

    (dead,) = _receive(sqs, dlq_url, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"])
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Body"] == "poison"
    assert dead["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert dead["MessageAttributes"] == attrs
    assert dead["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == _arn("src")
    # Standard queues keep the original enqueue timestamp.
    assert dead["Attributes"]["SentTimestamp"] == sent_ts


def test_dead_letter_queue_source_arn_only_on_request(sqs):
    src_url, dlq_url = _dlq_pair(sqs)
    sqs.send_message(QueueUrl=src_url, MessageBody="x")
    _redrive_all(sqs, src_url)
    (m,) = _receive(sqs, dlq_url, VisibilityTimeout=0, MessageSystemAttributeNames=["SentTimestamp"])
    assert set(m["Attributes"]) == {"SentTimestamp"}
    (m,) = _receive(sqs, dlq_url, VisibilityTimeout=0, MessageSystemAttributeNames=["DeadLetterQueueSourceArn"])
    assert m["Attributes"] == {"DeadLetterQueueSourceArn": _arn("src")}
    # A message sent straight to the DLQ has no source.
    sqs.send_message(QueueUrl=dlq_url, MessageBody="direct")
    got = {m["Body"]: m for m in _take(sqs, dlq_url)}
    assert "DeadLetterQueueSourceArn" not in got["direct"]["Attributes"]
    assert got["x"]["Attributes"]["DeadLetterQueueSourceArn"] == _arn("src")


def test_redrive_with_visibility_timeout_on_the_test_clock(sqs, broker):
    src_url, dlq_url = _dlq_pair(sqs, max_receives=2, VisibilityTimeout=30)
    _send_many(sqs, src_url, [f"m{i}" for i in range(6)])
    first = _receive(sqs, src_url, MaxNumberOfMessages=10)
    assert len(first) == 6
    # Three are processed and deleted; three fail again and again.
    for m in first[:3]:
        sqs.delete_message(QueueUrl=src_url, ReceiptHandle=m["ReceiptHandle"])
    failing = sorted(m["Body"] for m in first[3:])
    assert _receive(sqs, src_url) == []  # still in flight
    broker.advance(31)
    assert sorted(m["Body"] for m in _receive(sqs, src_url, MaxNumberOfMessages=10)) == failing
    assert _total(sqs, dlq_url) == 0
    broker.advance(31)
    assert _receive(sqs, src_url, MaxNumberOfMessages=10) == []
    assert _total(sqs, src_url) == 0
    assert sorted(m["Body"] for m in _take(sqs, dlq_url)) == failing


def test_receive_returns_the_others_while_dead_lettering(sqs):
    src_url, dlq_url = _dlq_pair(sqs)
    _send_many(sqs, src_url, ["old1", "old2"])
    assert len(_receive(sqs, src_url, MaxNumberOfMessages=10, VisibilityTimeout=0)) == 2
    _send_many(sqs, src_url, ["new1", "new2"])
    # The two old ones move; the two new ones are delivered in the same receive (or the next).
    got = []
    for _ in range(5):
        got += [m["Body"] for m in _receive(sqs, src_url, MaxNumberOfMessages=10, VisibilityTimeout=60)]
    assert sorted(got) == ["new1", "new2"]
    assert sorted(m["Body"] for m in _take(sqs, dlq_url)) == ["old1", "old2"]


def test_standard_dlq_retention_counts_from_the_original_enqueue_time(sqs, broker):
    _queue(sqs, "dlq", MessageRetentionPeriod=60)
    src_url = _queue(sqs, "src", RedrivePolicy=_policy(_arn("dlq"), 1))
    dlq_url = sqs.get_queue_url(QueueName="dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=src_url, MessageBody="aging")
    _receive(sqs, src_url, VisibilityTimeout=0)
    broker.advance(50)
    _redrive_all(sqs, src_url)
    assert _total(sqs, dlq_url) == 1
    broker.advance(15)  # 65 s after the send, 15 s after the move: past the DLQ's 60 s retention
    assert _total(sqs, dlq_url) == 0
    assert _receive(sqs, dlq_url) == []


def test_fifo_dlq_resets_the_enqueue_time(sqs, broker):
    dlq_url = _fifo(sqs, "dlq.fifo", MessageRetentionPeriod=60)
    src_url = _fifo(sqs, "src.fifo", ContentBasedDeduplication="true", RedrivePolicy=_policy(_arn("dlq.fifo"), 1))
    sqs.send_message(QueueUrl=src_url, MessageBody="aging", MessageGroupId="g")
    _receive(sqs, src_url, VisibilityTimeout=0)
    broker.advance(50)
    moved_at = _now_ms(broker)
    assert _receive(sqs, src_url, VisibilityTimeout=0) == []
    assert _total(sqs, dlq_url) == 1
    broker.advance(15)
    (m,) = _receive(sqs, dlq_url, MessageSystemAttributeNames=["SentTimestamp"])
    assert int(m["Attributes"]["SentTimestamp"]) >= moved_at


def test_fifo_source_to_fifo_dlq_keeps_ids_groups_and_order(sqs):
    dlq_url = _fifo(sqs, "dlq.fifo")
    src_url = _fifo(sqs, "src.fifo", RedrivePolicy=_policy(_arn("dlq.fifo"), 1))
    sent = {}
    for group, bodies in (("a", ["a1", "a2", "a3", "a4"]), ("b", ["b1", "b2", "b3"])):
        for body in bodies:
            r = sqs.send_message(
                QueueUrl=src_url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=f"dedup-{body}"
            )
            sent[body] = r["MessageId"]
    # One receive of everything (VisibilityTimeout=0 frees the groups at once), then the next receive moves them.
    got = []
    for _ in range(10):
        msgs = _receive(sqs, src_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        if not msgs:
            break
        got += [m["Body"] for m in msgs]
    assert sorted(got) == sorted(sent)
    assert _total(sqs, src_url) == 0
    assert _total(sqs, dlq_url) == 7

    dead = []
    for _ in range(10):
        msgs = _receive(sqs, dlq_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
        if not msgs:
            break
        dead += msgs
        for m in msgs:
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
    by_group: dict[str, list[dict]] = {}
    for m in dead:
        by_group.setdefault(m["Attributes"]["MessageGroupId"], []).append(m)
    assert [m["Body"] for m in by_group["a"]] == ["a1", "a2", "a3", "a4"]
    assert [m["Body"] for m in by_group["b"]] == ["b1", "b2", "b3"]
    for group in by_group.values():
        seqs = [int(m["Attributes"]["SequenceNumber"]) for m in group]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for m in dead:
        assert m["MessageId"] == sent[m["Body"]]
        # "the original message's deduplication ID will be replaced with the original message's ID"
        assert m["Attributes"]["MessageDeduplicationId"] == m["MessageId"]
        assert m["Attributes"]["DeadLetterQueueSourceArn"] == _arn("src.fifo")


def test_fifo_group_waits_behind_its_head_until_the_head_is_dead_lettered(sqs):
    _fifo(sqs, "dlq.fifo")
    src_url = _fifo(sqs, "src.fifo", ContentBasedDeduplication="true", RedrivePolicy=_policy(_arn("dlq.fifo"), 2))
    for body in ("head", "next"):
        sqs.send_message(QueueUrl=src_url, MessageBody=body, MessageGroupId="g")
    # The head is received twice (each time alone, holding the group), then dead-lettered; "next" follows.
    for _ in range(2):
        (m,) = _receive(sqs, src_url, VisibilityTimeout=0)
        assert m["Body"] == "head"
    bodies = [m["Body"] for m in _receive(sqs, src_url, MaxNumberOfMessages=10, VisibilityTimeout=30)]
    assert bodies == ["next"]


def test_a_message_is_never_in_both_queues_under_concurrent_receivers(sqs, broker):
    src_url, dlq_url = _dlq_pair(sqs)
    bodies = [f"m{i:03d}" for i in range(60)]
    _send_many(sqs, src_url, bodies)
    seen = []
    for _ in range(60):
        msgs = _receive(sqs, src_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        seen += [m["Body"] for m in msgs]
        if len(set(seen)) == 60:
            break
    assert set(seen) == set(bodies)
    # Every message now has one receive: whoever receives next moves it; nobody may get it.
    clients = [broker.client("sqs") for _ in range(4)]
    delivered: list[str] = []
    errors: list[BaseException] = []

    def worker(client) -> None:
        try:
            for _ in range(30):
                delivered.extend(
                    m["Body"] for m in _receive(client, src_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
                )
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert delivered == [], "a message over maxReceiveCount was delivered instead of dead-lettered"
    assert _total(sqs, src_url) == 0
    assert _total(sqs, dlq_url) == 60
    dead = [m["Body"] for m in _take(sqs, dlq_url)]
    assert sorted(dead) == bodies, "a message was lost or duplicated on its way to the DLQ"


def test_deleting_and_receiving_leave_counts_consistent(sqs):
    src_url, dlq_url = _dlq_pair(sqs, max_receives=3)
    _send_many(sqs, src_url, [f"m{i}" for i in range(20)])
    for _ in range(200):
        if _total(sqs, src_url) == 0:
            break
        msgs = _receive(sqs, src_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        # Delete every other message the first time it shows up: the rest go to the DLQ.
        for m in msgs:
            if int(m["Body"][1:]) % 2 == 0:
                sqs.delete_message(QueueUrl=src_url, ReceiptHandle=m["ReceiptHandle"])
        assert _total(sqs, src_url) + _total(sqs, dlq_url) <= 20
    assert _total(sqs, src_url) == 0
    assert sorted(m["Body"] for m in _take(sqs, dlq_url)) == sorted(f"m{i}" for i in range(1, 20, 2))


# == RedriveAllowPolicy ==========================================================================================
def test_redrive_allow_policy_deny_all(sqs):
    dlq_url = _queue(sqs, "dlq", RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    assert json.loads(_attrs(sqs, dlq_url)["RedriveAllowPolicy"]) == {"redrivePermission": "denyAll"}
    code = _code(sqs.create_queue, QueueName="src", Attributes={"RedrivePolicy": _policy(_arn("dlq"), 2)})
    assert code == "InvalidParameterValue"
    url = _queue(sqs, "src2")
    code = _code(sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedrivePolicy": _policy(_arn("dlq"), 2)})
    assert code == "InvalidParameterValue"
    assert "RedrivePolicy" not in _attrs(sqs, url)


def test_redrive_allow_policy_allow_all_and_removal(sqs):
    dlq_url = _queue(sqs, "dlq", RedriveAllowPolicy=json.dumps({"redrivePermission": "allowAll"}))
    _queue(sqs, "a", RedrivePolicy=_policy(_arn("dlq"), 2))
    sqs.set_queue_attributes(
        QueueUrl=dlq_url, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})}
    )
    assert _code(sqs.create_queue, QueueName="b", Attributes={"RedrivePolicy": _policy(_arn("dlq"), 2)}) == (
        "InvalidParameterValue"
    )
    # An empty value removes the policy: the default (allowAll) applies again.
    sqs.set_queue_attributes(QueueUrl=dlq_url, Attributes={"RedriveAllowPolicy": ""})
    assert "RedriveAllowPolicy" not in _attrs(sqs, dlq_url)
    _queue(sqs, "b", RedrivePolicy=_policy(_arn("dlq"), 2))


def test_redrive_allow_policy_by_queue(sqs):
    allowed = [_arn(f"ok{i}") for i in range(10)]
    doc = {"redrivePermission": "byQueue", "sourceQueueArns": allowed}
    dlq_url = _queue(sqs, "dlq", RedriveAllowPolicy=json.dumps(doc))
    assert json.loads(_attrs(sqs, dlq_url)["RedriveAllowPolicy"]) == doc
    for i in (0, 9):
        _queue(sqs, f"ok{i}", RedrivePolicy=_policy(_arn("dlq"), 2))
    code = _code(sqs.create_queue, QueueName="other", Attributes={"RedrivePolicy": _policy(_arn("dlq"), 2)})
    assert code == "InvalidParameterValue"
    other = _queue(sqs, "other")
    code = _code(sqs.set_queue_attributes, QueueUrl=other, Attributes={"RedrivePolicy": _policy(_arn("dlq"), 2)})
    assert code == "InvalidParameterValue"
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"]
    assert sorted(u.rsplit("/", 1)[1] for u in sources) == ["ok0", "ok9"]


INVALID_ALLOW_POLICIES = {
    "not-json": "{nope",
    "not-a-map": json.dumps(["allowAll"]),
    "unknown-permission": json.dumps({"redrivePermission": "allowSome"}),
    "missing-permission": json.dumps({"sourceQueueArns": [_arn("a")]}),
    "by-queue-without-arns": json.dumps({"redrivePermission": "byQueue"}),
    "by-queue-empty-arns": json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": []}),
    "by-queue-11-arns": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [_arn(f"q{i}") for i in range(11)]}
    ),
    "allow-all-with-arns": json.dumps({"redrivePermission": "allowAll", "sourceQueueArns": [_arn("a")]}),
    "deny-all-with-arns": json.dumps({"redrivePermission": "denyAll", "sourceQueueArns": [_arn("a")]}),
}


@pytest.mark.parametrize("value", list(INVALID_ALLOW_POLICIES.values()), ids=list(INVALID_ALLOW_POLICIES))
def test_invalid_redrive_allow_policy(sqs, value):
    code = _code(sqs.create_queue, QueueName="dlq", Attributes={"RedriveAllowPolicy": value})
    assert code == "InvalidParameterValue"
    url = _queue(sqs, "dlq2")
    code = _code(sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedriveAllowPolicy": value})
    assert code == "InvalidParameterValue"
    assert "RedriveAllowPolicy" not in _attrs(sqs, url)


# == ListDeadLetterSourceQueues ==================================================================================
def test_list_dead_letter_source_queues(sqs):
    dlq_url = _queue(sqs, "dlq")
    other_dlq = _queue(sqs, "other-dlq")
    a = _queue(sqs, "a", RedrivePolicy=_policy(_arn("dlq"), 2))
    b = _queue(sqs, "b")
    sqs.set_queue_attributes(QueueUrl=b, Attributes={"RedrivePolicy": _policy(_arn("dlq"), 3)})
    _queue(sqs, "c", RedrivePolicy=_policy(_arn("other-dlq"), 2))
    _queue(sqs, "plain")
    r = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)
    assert sorted(r["queueUrls"]) == sorted([a, b])
    assert "NextToken" not in r
    assert [u.rsplit("/", 1)[1] for u in sqs.list_dead_letter_source_queues(QueueUrl=other_dlq)["queueUrls"]] == ["c"]
    # A queue that is nobody's DLQ.
    plain = sqs.get_queue_url(QueueName="plain")["QueueUrl"]
    assert sqs.list_dead_letter_source_queues(QueueUrl=plain)["queueUrls"] == []
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.list_dead_letter_source_queues(QueueUrl=dlq_url + "-missing")


def test_list_dead_letter_source_queues_pagination(sqs):
    dlq_url = _queue(sqs, "dlq")
    names = [f"src-{i:02d}" for i in range(7)]
    urls = {_queue(sqs, n, RedrivePolicy=_policy(_arn("dlq"), 2)) for n in names}
    pages = []
    token = None
    for _ in range(10):
        kw = {"NextToken": token} if token else {}
        r = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url, MaxResults=3, **kw)
        pages.append(r["queueUrls"])
        token = r.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [u for p in pages for u in p]
    assert len(flat) == len(set(flat)) and set(flat) == urls
    # Exactly as many as MaxResults: no further page is announced, or it is empty.
    r = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url, MaxResults=7)
    assert set(r["queueUrls"]) == urls
    if "NextToken" in r:
        assert (
            sqs.list_dead_letter_source_queues(QueueUrl=dlq_url, MaxResults=7, NextToken=r["NextToken"])["queueUrls"]
            == []
        )
    # Without MaxResults: everything, no NextToken.
    r = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)
    assert set(r["queueUrls"]) == urls and "NextToken" not in r


@pytest.mark.parametrize("max_results", [0, 1001])
def test_list_dead_letter_source_queues_max_results_bounds(sqs, max_results):
    dlq_url = _queue(sqs, "dlq")
    assert _code(sqs.list_dead_letter_source_queues, QueueUrl=dlq_url, MaxResults=max_results) == (
        "InvalidParameterValue"
    )


def test_list_dead_letter_source_queues_over_query(q):
    dlq = q.create_queue("dlq")
    for name in ("a", "b", "c"):
        q.create_queue(name, {"Attribute.1.Name": "RedrivePolicy", "Attribute.1.Value": _policy(_arn("dlq"), 2)})
    res = q.call("ListDeadLetterSourceQueues", {"QueueUrl": dlq}).result("ListDeadLetterSourceQueues")
    assert sorted(u.rsplit("/", 1)[1] for u in (e.text for e in res.findall("QueueUrl"))) == ["a", "b", "c"]
    assert res.find("NextToken") is None

    res = q.call("ListDeadLetterSourceQueues", {"QueueUrl": dlq, "MaxResults": "2"}).result(
        "ListDeadLetterSourceQueues"
    )
    first = [e.text for e in res.findall("QueueUrl")]
    token = res.findtext("NextToken")
    assert len(first) == 2 and token
    res = q.call("ListDeadLetterSourceQueues", {"QueueUrl": dlq, "MaxResults": "2", "NextToken": token}).result(
        "ListDeadLetterSourceQueues"
    )
    rest = [e.text for e in res.findall("QueueUrl")]
    assert sorted(u.rsplit("/", 1)[1] for u in first + rest) == ["a", "b", "c"]

    plain = q.create_queue("plain")
    res = q.call("ListDeadLetterSourceQueues", {"QueueUrl": plain}).result("ListDeadLetterSourceQueues")
    assert res.findall("QueueUrl") == []


# == message move tasks ==========================================================================================
def test_move_task_back_to_the_original_sources(sqs, broker):
    dlq_url = _queue(sqs, "dlq")
    src1 = _queue(sqs, "src1", RedrivePolicy=_policy(_arn("dlq"), 1))
    src2 = _queue(sqs, "src2", RedrivePolicy=_policy(_arn("dlq"), 1))
    attrs = {"k": {"DataType": "String", "StringValue": "v"}, "b": {"DataType": "Binary", "BinaryValue": b"\xff"}}
    sent = {}
    for url, prefix in ((src1, "one"), (src2, "two")):
        for i in range(3):
            r = sqs.send_message(QueueUrl=url, MessageBody=f"{prefix}-{i}", MessageAttributes=attrs)
            sent[f"{prefix}-{i}"] = r
        _redrive_all(sqs, url)
    assert _total(sqs, dlq_url) == 6
    started = _now_ms(broker)
    handle = sqs.start_message_move_task(SourceArn=_arn("dlq"))["TaskHandle"]
    assert handle
    task = _wait_status(sqs, _arn("dlq"), {"COMPLETED"})
    assert task["ApproximateNumberOfMessagesMoved"] == 6
    assert task["ApproximateNumberOfMessagesToMove"] == 6
    assert task["SourceArn"] == _arn("dlq")
    assert "DestinationArn" not in task and "MaxNumberOfMessagesPerSecond" not in task
    assert "TaskHandle" not in task  # only while RUNNING
    assert _total(sqs, dlq_url) == 0

    for url, prefix in ((src1, "one"), (src2, "two")):
        got = _take(sqs, url)
        assert sorted(m["Body"] for m in got) == [f"{prefix}-{i}" for i in range(3)]
        for m in got:
            original = sent[m["Body"]]
            # Redriven messages are new messages: new MessageId and enqueue time; body and attributes kept.
            assert m["MessageId"] != original["MessageId"]
            assert m["MD5OfBody"] == original["MD5OfMessageBody"]
            assert m["MessageAttributes"] == attrs
            assert m["MD5OfMessageAttributes"] == original["MD5OfMessageAttributes"]
            assert int(m["Attributes"]["SentTimestamp"]) >= started
            assert m["Attributes"]["ApproximateReceiveCount"] == "1"
            assert "DeadLetterQueueSourceArn" not in m["Attributes"]


def test_move_task_to_a_destination_arn(sqs, broker):
    src_url, dlq_url = _dlq_pair(sqs)
    dest_url = _queue(sqs, "dest")
    _send_many(sqs, src_url, [f"r{i}" for i in range(5)])
    _redrive_all(sqs, src_url)
    # Messages sent straight to the DLQ have no source; with a DestinationArn they move all the same.
    _send_many(sqs, dlq_url, [f"d{i}" for i in range(5)])
    ids = {m["Body"]: m["MessageId"] for m in _receive(sqs, dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0)}
    ids.update({m["Body"]: m["MessageId"] for m in _receive(sqs, dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0)})
    sqs.start_message_move_task(SourceArn=_arn("dlq"), DestinationArn=_arn("dest"), MaxNumberOfMessagesPerSecond=100)
    task = _wait_status(sqs, _arn("dlq"), {"COMPLETED"})
    assert task["DestinationArn"] == _arn("dest")
    assert task["MaxNumberOfMessagesPerSecond"] == 100
    assert task["ApproximateNumberOfMessagesToMove"] == 10
    assert task["ApproximateNumberOfMessagesMoved"] == 10
    got = _take(sqs, dest_url)
    assert sorted(m["Body"] for m in got) == sorted([f"r{i}" for i in range(5)] + [f"d{i}" for i in range(5)])
    for m in got:
        if m["Body"] in ids:
            assert m["MessageId"] != ids[m["Body"]]
    assert _total(sqs, dlq_url) == 0 and _total(sqs, src_url) == 0


def test_move_task_fifo_to_fifo_keeps_order_and_groups(sqs):
    dlq_url = _fifo(sqs, "dlq.fifo")
    _fifo(sqs, "src.fifo", RedrivePolicy=_policy(_arn("dlq.fifo"), 1))
    dest_url = _fifo(sqs, "dest.fifo")
    for i in range(8):
        sqs.send_message(
            QueueUrl=dlq_url, MessageBody=f"m{i}", MessageGroupId="g" if i % 2 else "h", MessageDeduplicationId=str(i)
        )
    sqs.start_message_move_task(SourceArn=_arn("dlq.fifo"), DestinationArn=_arn("dest.fifo"))
    _wait_status(sqs, _arn("dlq.fifo"), {"COMPLETED"})
    got = []
    for _ in range(20):
        msgs = _receive(sqs, dest_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"])
        if not msgs:
            break
        got += msgs
        for m in msgs:
            sqs.delete_message(QueueUrl=dest_url, ReceiptHandle=m["ReceiptHandle"])
    assert [m["Body"] for m in got if m["Attributes"]["MessageGroupId"] == "h"] == ["m0", "m2", "m4", "m6"]
    assert [m["Body"] for m in got if m["Attributes"]["MessageGroupId"] == "g"] == ["m1", "m3", "m5", "m7"]
    assert _total(sqs, dlq_url) == 0


def test_move_task_fields_while_running_and_cancel(sqs, broker):
    src_url, dlq_url = _dlq_pair(sqs)
    dest_url = _queue(sqs, "dest")
    _send_many(sqs, dlq_url, [f"m{i:02d}" for i in range(20)])
    before = int(time.time() * 1000)
    handle = sqs.start_message_move_task(
        SourceArn=_arn("dlq"), DestinationArn=_arn("dest"), MaxNumberOfMessagesPerSecond=2
    )["TaskHandle"]
    after = int(time.time() * 1000)
    (task,) = _tasks(sqs, _arn("dlq"))
    assert task["Status"] == "RUNNING"
    assert task["TaskHandle"] == handle
    assert task["SourceArn"] == _arn("dlq")
    assert task["DestinationArn"] == _arn("dest")
    assert task["MaxNumberOfMessagesPerSecond"] == 2
    assert task["ApproximateNumberOfMessagesToMove"] == 20
    assert 0 <= task["ApproximateNumberOfMessagesMoved"] < 20
    assert before - 1000 <= task["StartedTimestamp"] <= after + 1000  # epoch milliseconds

    time.sleep(1.2)
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 1 <= moved < 20
    task = _wait_status(sqs, _arn("dlq"), {"CANCELLED"}, timeout=5)
    assert "TaskHandle" not in task
    assert task["ApproximateNumberOfMessagesToMove"] == 20
    # Cancelling stops the move; what moved stays moved, the rest stays in the DLQ.
    time.sleep(1.0)
    in_dest = _total(sqs, dest_url)
    assert in_dest == task["ApproximateNumberOfMessagesMoved"]
    assert 1 <= in_dest < 20
    assert in_dest + _total(sqs, dlq_url) == 20
    assert _total(sqs, src_url) == 0
    # A task that is no longer running can't be cancelled.
    _err(sqs.cancel_message_move_task, TaskHandle=handle)
    # Once cancelled, a new task may start.
    sqs.start_message_move_task(SourceArn=_arn("dlq"), DestinationArn=_arn("dest"))
    _wait_status(sqs, _arn("dlq"), {"COMPLETED"})
    assert _total(sqs, dest_url) == 20 and _total(sqs, dlq_url) == 0


def test_cancel_a_completed_task_errors(sqs):
    _src, dlq_url = _dlq_pair(sqs)
    _queue(sqs, "dest")
    sqs.send_message(QueueUrl=dlq_url, MessageBody="x")
    handle = sqs.start_message_move_task(SourceArn=_arn("dlq"), DestinationArn=_arn("dest"))["TaskHandle"]
    _wait_status(sqs, _arn("dlq"), {"COMPLETED"})
    resp = _err(sqs.cancel_message_move_task, TaskHandle=handle)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] in (400, 404)
    assert _tasks(sqs, _arn("dlq"))[0]["Status"] == "COMPLETED"


def test_cancel_with_an_invalid_task_handle(sqs):
    resp = _err(sqs.cancel_message_move_task, TaskHandle="foobared")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert resp["Error"]["Code"] == "InvalidParameterValue"


def _handle(task_id: str, source_arn: str) -> str:
    return base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn}).encode()).decode()


def test_cancel_with_an_unknown_task_or_source(sqs):
    _queue(sqs, "some-queue")
    for handle in (
        _handle(str(uuid.uuid4()), _arn("some-queue")),
        _handle(str(uuid.uuid4()), _arn("no-such-queue")),
    ):
        resp = _err(sqs.cancel_message_move_task, TaskHandle=handle)
        assert resp["Error"]["Code"] == "ResourceNotFoundException"
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_only_one_active_task_per_source(sqs):
    _src, dlq_url = _dlq_pair(sqs)
    _queue(sqs, "dest")
    _send_many(sqs, dlq_url, [f"m{i}" for i in range(10)])
    handle = sqs.start_message_move_task(
        SourceArn=_arn("dlq"), DestinationArn=_arn("dest"), MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    resp = _err(sqs.start_message_move_task, SourceArn=_arn("dlq"), DestinationArn=_arn("dest"))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert resp["Error"]["Code"] == "InvalidParameterValue"
    assert len(_tasks(sqs, _arn("dlq"), MaxResults=10)) == 1
    sqs.cancel_message_move_task(TaskHandle=handle)


def test_source_must_be_a_dead_letter_queue(sqs):
    _queue(sqs, "plain")
    _queue(sqs, "dest")
    resp = _err(sqs.start_message_move_task, SourceArn=_arn("plain"), DestinationArn=_arn("dest"))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert resp["Error"]["Code"] == "InvalidParameterValue"
    assert _tasks(sqs, _arn("plain")) == []


def test_start_with_missing_queues(sqs):
    _dlq_pair(sqs)
    resp = _err(sqs.start_message_move_task, SourceArn=_arn("dlq"), DestinationArn=_arn("no-such-dest"))
    assert resp["Error"]["Code"] == "ResourceNotFoundException"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 404
    resp = _err(sqs.start_message_move_task, SourceArn=_arn("no-such-dlq"))
    assert resp["Error"]["Code"] == "ResourceNotFoundException"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_destination_must_be_of_the_same_type(sqs):
    _dlq_pair(sqs)
    _fifo(sqs, "dest.fifo")
    code = _code(sqs.start_message_move_task, SourceArn=_arn("dlq"), DestinationArn=_arn("dest.fifo"))
    assert code == "InvalidParameterValue"


@pytest.mark.parametrize("rate", [0, -1, 501, 10_000])
def test_max_number_of_messages_per_second_bounds(sqs, rate):
    _dlq_pair(sqs)
    _queue(sqs, "dest")
    code = _code(
        sqs.start_message_move_task,
        SourceArn=_arn("dlq"),
        DestinationArn=_arn("dest"),
        MaxNumberOfMessagesPerSecond=rate,
    )
    assert code == "InvalidParameterValue"
    assert _tasks(sqs, _arn("dlq")) == []


@pytest.mark.parametrize("rate", [1, 500])
def test_max_number_of_messages_per_second_limits_accepted(sqs, rate):
    _src, dlq_url = _dlq_pair(sqs)
    _queue(sqs, "dest")
    sqs.send_message(QueueUrl=dlq_url, MessageBody="x")
    sqs.start_message_move_task(SourceArn=_arn("dlq"), DestinationArn=_arn("dest"), MaxNumberOfMessagesPerSecond=rate)
    assert _wait_status(sqs, _arn("dlq"), {"COMPLETED"})["MaxNumberOfMessagesPerSecond"] == rate


def test_list_message_move_tasks_most_recent_first(sqs):
    _src, dlq_url = _dlq_pair(sqs)
    for name in ("d1", "d2", "d3"):
        _queue(sqs, name)
        sqs.send_message(QueueUrl=dlq_url, MessageBody=name)
        sqs.start_message_move_task(SourceArn=_arn("dlq"), DestinationArn=_arn(name))
        _wait_status(sqs, _arn("dlq"), {"COMPLETED"})
        time.sleep(0.01)
    # Default MaxResults is 1: the most recent task.
    assert [t["DestinationArn"] for t in _tasks(sqs, _arn("dlq"))] == [_arn("d3")]
    assert [t["DestinationArn"] for t in _tasks(sqs, _arn("dlq"), MaxResults=2)] == [_arn("d3"), _arn("d2")]
    every = _tasks(sqs, _arn("dlq"), MaxResults=10)
    assert [t["DestinationArn"] for t in every] == [_arn("d3"), _arn("d2"), _arn("d1")]
    stamps = [t["StartedTimestamp"] for t in every]
    assert stamps == sorted(stamps, reverse=True)
    assert all(t["Status"] == "COMPLETED" and t["ApproximateNumberOfMessagesMoved"] == 1 for t in every)
    for name in ("d1", "d2", "d3"):
        assert [m["Body"] for m in _take(sqs, sqs.get_queue_url(QueueName=name)["QueueUrl"])] == [name]


def test_list_message_move_tasks_keeps_at_most_ten(sqs):
    _src, dlq_url = _dlq_pair(sqs)
    _queue(sqs, "dest")
    for i in range(11):
        sqs.send_message(QueueUrl=dlq_url, MessageBody=str(i))
        sqs.start_message_move_task(SourceArn=_arn("dlq"), DestinationArn=_arn("dest"))
        _wait_status(sqs, _arn("dlq"), {"COMPLETED"})
    assert len(_tasks(sqs, _arn("dlq"), MaxResults=10)) == 10


@pytest.mark.parametrize("max_results", [0, 11])
def test_list_message_move_tasks_max_results_bounds(sqs, max_results):
    _dlq_pair(sqs)
    assert _code(sqs.list_message_move_tasks, SourceArn=_arn("dlq"), MaxResults=max_results) == "InvalidParameterValue"


def test_list_message_move_tasks_of_a_missing_queue(sqs):
    resp = _err(sqs.list_message_move_tasks, SourceArn=_arn("no-such-queue"))
    assert resp["Error"]["Code"] == "ResourceNotFoundException"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_move_task_fails_when_its_destination_is_deleted(sqs):
    _src, dlq_url = _dlq_pair(sqs)
    dest_url = _queue(sqs, "dest")
    _send_many(sqs, dlq_url, [f"m{i}" for i in range(10)])
    sqs.start_message_move_task(SourceArn=_arn("dlq"), DestinationArn=_arn("dest"), MaxNumberOfMessagesPerSecond=1)
    sqs.delete_queue(QueueUrl=dest_url)
    task = _wait_status(sqs, _arn("dlq"), {"FAILED", "COMPLETED", "CANCELLED"}, timeout=10)
    assert task["Status"] == "FAILED"
    assert "TaskHandle" not in task
    assert task["FailureReason"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert _total(sqs, dlq_url) > 0


def test_move_task_rate_is_respected(sqs):
    _src, dlq_url = _dlq_pair(sqs)
    dest_url = _queue(sqs, "dest")
    _send_many(sqs, dlq_url, [f"m{i:03d}" for i in range(100)])
    started = time.monotonic()
    sqs.start_message_move_task(SourceArn=_arn("dlq"), DestinationArn=_arn("dest"), MaxNumberOfMessagesPerSecond=50)
    progress = []
    while True:
        (task,) = _tasks(sqs, _arn("dlq"))
        progress.append(task["ApproximateNumberOfMessagesMoved"])
        if task["Status"] != "RUNNING":
            break
        assert time.monotonic() - started < 8, f"task still running: {task}"
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    assert task["Status"] == "COMPLETED"
    assert 1.4 <= elapsed <= 4.0, f"100 messages at 50/s took {elapsed:.2f} s"
    assert any(0 < p < 100 for p in progress), "no progress was ever visible while running"
    assert progress == sorted(progress)
    assert _total(sqs, dest_url) == 100 and _total(sqs, dlq_url) == 0


def test_move_task_stepped_by_the_job(sqs, broker):
    """broker.run_job("sqs.move") runs one step now; whatever the scheduler does, every message moves once."""
    _src, dlq_url = _dlq_pair(sqs)
    dest_url = _queue(sqs, "dest")
    _send_many(sqs, dlq_url, [f"m{i}" for i in range(30)])
    sqs.start_message_move_task(SourceArn=_arn("dlq"), DestinationArn=_arn("dest"))
    deadline = time.monotonic() + 10
    while _tasks(sqs, _arn("dlq"))[0]["Status"] == "RUNNING":
        broker.run_job("sqs.move")
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert sorted(m["Body"] for m in _take(sqs, dest_url)) == sorted(f"m{i}" for i in range(30))
    assert _total(sqs, dlq_url) == 0


# == the query protocol ==========================================================================================
def test_message_move_tasks_over_query(q):
    q.create_queue("dlq")
    q.create_queue("src", {"Attribute.1.Name": "RedrivePolicy", "Attribute.1.Value": _policy(_arn("dlq"), 1)})
    dest = q.create_queue("dest")
    dlq = q.call("GetQueueUrl", {"QueueName": "dlq"}).result("GetQueueUrl").findtext("QueueUrl")
    for i in range(10):
        q.send(dlq, f"m{i}")

    res = q.call(
        "StartMessageMoveTask",
        {"SourceArn": _arn("dlq"), "DestinationArn": _arn("dest"), "MaxNumberOfMessagesPerSecond": "1"},
    ).result("StartMessageMoveTask")
    handle = res.findtext("TaskHandle")
    assert handle

    res = q.call("ListMessageMoveTasks", {"SourceArn": _arn("dlq"), "MaxResults": "10"}).result("ListMessageMoveTasks")
    (entry,) = res.findall("ListMessageMoveTasksResultEntry")
    fields = {c.tag: c.text for c in entry}
    assert fields["Status"] == "RUNNING"
    assert fields["TaskHandle"] == handle
    assert fields["SourceArn"] == _arn("dlq")
    assert fields["DestinationArn"] == _arn("dest")
    assert fields["MaxNumberOfMessagesPerSecond"] == "1"
    assert fields["ApproximateNumberOfMessagesToMove"] == "10"
    assert int(fields["ApproximateNumberOfMessagesMoved"]) < 10
    assert fields["StartedTimestamp"].isdigit()

    res = q.call("CancelMessageMoveTask", {"TaskHandle": handle}).result("CancelMessageMoveTask")
    assert int(res.findtext("ApproximateNumberOfMessagesMoved")) < 10

    deadline = time.monotonic() + 5
    while True:
        res = q.call("ListMessageMoveTasks", {"SourceArn": _arn("dlq")}).result("ListMessageMoveTasks")
        (entry,) = res.findall("ListMessageMoveTasksResultEntry")
        if entry.findtext("Status") == "CANCELLED":
            break
        assert time.monotonic() < deadline, entry.findtext("Status")
        time.sleep(0.05)
    assert entry.find("TaskHandle") is None
    assert len(q.receive(dest, {"MaxNumberOfMessages": "10"})) < 10

    # Errors come back as <ErrorResponse>.
    _kind, code, _ = q.call("StartMessageMoveTask", {"SourceArn": _arn("dest")}).error()
    assert code == "InvalidParameterValue"
    _kind, code, _ = q.call(
        "StartMessageMoveTask", {"SourceArn": _arn("dlq"), "MaxNumberOfMessagesPerSecond": "501"}
    ).error()
    assert code == "InvalidParameterValue"
