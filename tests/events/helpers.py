"""Shared helpers of the EventBridge tests."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.lambda_.helpers import queue_with_arn

ACCOUNT = "000000000000"
REGION = "us-east-1"


def queue(broker, name: str, **attrs) -> tuple[str, str]:
    """An SQS queue of the broker (attributes as keyword arguments); its URL and ARN."""
    return queue_with_arn(broker.client("sqs"), name, **attrs)


def bus_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"


def rule_arn(name: str, bus: str = "default") -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name if bus == 'default' else f'{bus}/{name}'}"


def error(call, **kwargs) -> tuple[str, str]:
    """The (code, message) a call fails with."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err["Code"], err["Message"]
