"""Shared helpers of the EventBridge Scheduler tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from tests.lambda_.helpers import queue_with_arn as queue  # noqa: F401 - the scheduler tests' name for it

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
OFF = {"Mode": "OFF"}


def schedule_arn(name: str, group: str = "default") -> str:
    return f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{group}/{name}"


def group_arn(name: str) -> str:
    return f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{name}"


def error(call, status: int = 400, **kwargs) -> tuple[str, str]:
    """The (code, message) a call fails with, checking its HTTP status."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return err["Code"], err["Message"]


def now_ms(broker) -> int:
    return int(broker.admin("GET", "/_broker/clock")["now_ms"])


def iso_ms(text: str) -> int:
    """Epoch ms of a <aws.scheduler.scheduled-time> value (2022-03-22T18:59:43Z)."""
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() * 1000)


def at_expression(ms: int) -> str:
    """at(...) of a broker-clock moment (UTC wall time, whole seconds)."""
    return "at(" + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ")"


def receive(sqs, url: str, wait: float = 10.0, count: int = 1) -> list[dict]:
    """Receive (and delete) until `count` messages arrived or `wait` seconds passed."""
    got: list[dict] = []
    deadline = time.monotonic() + wait
    while len(got) < count and time.monotonic() < deadline:
        msgs = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1 if wait >= 1 else 0,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got.extend(msgs)
    return got
