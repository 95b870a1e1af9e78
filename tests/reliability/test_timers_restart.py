"""Timers are stored, so they run on after kill -9: delayed messages become visible on time, in-flight messages and
queue records reappear when their visibility ends (also when it ended while the broker was down: real seconds
count, the test clock is real time plus a stored offset), retention still expires. (SNS HTTP retries, move tasks,
replays and leases have their own crash tests: tests/sns/test_http.py, test_move_task_crash.py,
test_sns_replay_crash.py, test_workers.py.)"""

from __future__ import annotations

import time

import pytest

BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]


def _bodies(sqs, url: str) -> list[str]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return sorted(m["Body"] for m in got)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sqs_timers_run_on_after_kill_9(server_factory, backend):
    server = server_factory(backend).start()
    sqs = server.client("sqs")
    delayed = sqs.create_queue(QueueName="delayed")["QueueUrl"]
    flight = sqs.create_queue(QueueName="flight", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    brief = sqs.create_queue(QueueName="brief", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    short = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=delayed, MessageBody="later", DelaySeconds=30)
    sqs.send_message(QueueUrl=flight, MessageBody="held")
    assert _bodies(sqs, flight) == ["held"]
    sqs.send_message(QueueUrl=brief, MessageBody="brief")
    assert _bodies(sqs, brief) == ["brief"]
    sqs.send_message(QueueUrl=short, MessageBody="expires")
    server.advance(10)  # the clock offset is stored: it survives the kill too
    server.kill()
    time.sleep(2.5)  # "brief"'s 2 s visibility timeout ends while the broker is down

    server.start()
    sqs = server.client("sqs")
    assert _bodies(sqs, brief) == ["brief"]  # visible again at once: the time passed while down counts
    assert _bodies(sqs, delayed) == [] and _bodies(sqs, flight) == []
    server.advance(21)  # 31 s after the send: the delay is over
    assert _bodies(sqs, delayed) == ["later"]
    assert _bodies(sqs, flight) == []  # 31 of 60 s
    waiting = sqs.get_queue_attributes(QueueUrl=short, AttributeNames=["ApproximateNumberOfMessages"])
    assert waiting["Attributes"]["ApproximateNumberOfMessages"] == "1"  # kept through the kill, not expired yet
    server.kill()

    server.start()
    sqs = server.client("sqs")
    server.advance(30)
    assert _bodies(sqs, flight) == ["held"]
    assert _bodies(sqs, short) == []  # 61 s old: past its retention, never delivered


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_kinesis_timers_run_on_after_kill_9(server_factory, backend):
    server = server_factory(backend).start()
    k = server.client("kinesis")
    k.create_stream(StreamName="s", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    k.get_waiter("stream_exists").wait(StreamName="s", WaiterConfig={"Delay": 0.2})
    arn = k.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
    queue = k.create_queue(
        QueueName="q", StreamConfigurationList=[{"StreamARN": arn}], QueueAttributes={"VisibilityTimeoutSeconds": 60}
    )["QueueDescription"]["QueueARN"]
    brief = k.create_queue(
        QueueName="brief", StreamConfigurationList=[{"StreamARN": arn}], QueueAttributes={"VisibilityTimeoutSeconds": 2}
    )["QueueDescription"]["QueueARN"]
    put = k.put_record(StreamName="s", Data=b"held", PartitionKey="a")
    (held,) = k.receive_queue_records(QueueARN=queue, WaitTimeSeconds=1)["QueueRecords"]
    assert len(k.receive_queue_records(QueueARN=brief, WaitTimeSeconds=1)["QueueRecords"]) == 1
    server.kill()
    time.sleep(2.5)  # "brief"'s visibility timeout ends while the broker is down

    server.start()
    k = server.client("kinesis")
    (again,) = k.receive_queue_records(QueueARN=brief, WaitTimeSeconds=1)["QueueRecords"]
    assert again["ReceiveCount"] == 2
    it = k.get_shard_iterator(StreamName="s", ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")
    assert [r["Data"] for r in k.get_records(ShardIterator=it["ShardIterator"])["Records"]] == [b"held"]
    assert k.receive_queue_records(QueueARN=queue, WaitTimeSeconds=1)["QueueRecords"] == []  # still in flight
    server.advance(61)
    (again,) = k.receive_queue_records(QueueARN=queue, WaitTimeSeconds=1)["QueueRecords"]
    assert again["RecordId"] == held["RecordId"] and again["ReceiveCount"] == 2
    server.kill()

    server.start()
    k = server.client("kinesis")
    server.advance(25 * 3600)  # past the stream's 24 h retention
    for shard in k.list_shards(StreamName="s")["Shards"]:
        it = k.get_shard_iterator(StreamName="s", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        assert k.get_records(ShardIterator=it["ShardIterator"])["Records"] == [], shard["ShardId"]
    assert k.receive_queue_records(QueueARN=queue, WaitTimeSeconds=1)["QueueRecords"] == []
