"""An idle broker writes nothing: the retention sweeps of SQS, SNS and Kinesis take no lease and run no transaction
while nothing is due (they sleep until their first expiry, a deletion or a shorter retention wakes them, or a move
of the test clock), and with no event source mapping no worker renews its presence among the pollers."""

import json
import sqlite3
import time
from collections.abc import Callable

import pytest


def _count(data, table: str) -> int:
    with sqlite3.connect(data / "broker.db") as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # our table names


def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _commits_during(data, seconds: float) -> bool:
    """Whether any other connection committed to the database within `seconds`."""
    db = sqlite3.connect(data / "broker.db")
    try:
        before = db.execute("PRAGMA data_version").fetchone()[0]
        time.sleep(seconds)
        return db.execute("PRAGMA data_version").fetchone()[0] != before
    finally:
        db.close()


@pytest.mark.slow
def test_sweeps_write_nothing_until_work_is_due(server_factory, tmp_path):
    data = tmp_path / "idle"
    server = server_factory("sqlite", workers=2, data_dir=data, env={"BROKER_SWEEP_INTERVAL_SECONDS": "0.2"}).start()
    sqs, sns, kinesis = server.client("sqs"), server.client("sns"), server.client("kinesis")
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="expires")
    gone_url = sqs.create_queue(QueueName="deleted")["QueueUrl"]
    sqs.send_message(QueueUrl=gone_url, MessageBody="of a deleted queue")
    policy = json.dumps({"MessageRetentionPeriod": "1"})
    topic = sns.create_topic(
        Name="t.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true", "ArchivePolicy": policy}
    )["TopicArn"]
    sns.publish(TopicArn=topic, Message="archived", MessageGroupId="g")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="s", WaiterConfig={"Delay": 0.2})
    kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")
    time.sleep(1.0)  # each process's first sweeps (they run at start, due or not) are over

    assert not _commits_during(data, 2.0), "an idle sweep wrote to the database"

    sqs.delete_queue(QueueUrl=gone_url)  # wakes the SQS sweep: a deleted queue's messages go at once
    _until(lambda: _count(data, "sqs_messages") == 1)
    server.advance(61)  # past the queue's retention: the clock's move wakes the sweep
    _until(lambda: _count(data, "sqs_messages") == 0)
    assert _count(data, "sns_archive") == 1 and _count(data, "sns_fifo_dedup") == 1
    assert _count(data, "kinesis_records") == 1
    server.advance(2 * 86_400)  # past the archive's day, the 5 minutes of deduplication, the stream's 24 hours
    _until(lambda: _count(data, "sns_archive") == 0 and _count(data, "sns_fifo_dedup") == 0)
    _until(lambda: _count(data, "kinesis_records") == 0)
    kinesis.put_record(StreamName="s", Data=b"y", PartitionKey="k")
    kinesis.delete_stream(StreamName="s")  # wakes the Kinesis sweep: a deleted stream's rows go at once
    _until(lambda: _count(data, "kinesis_streams") == 0 and _count(data, "kinesis_records") == 0)
    time.sleep(1.0)
    assert not _commits_during(data, 2.0), "a sweep kept writing once its work was done"
