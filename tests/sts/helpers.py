"""Shared by the STS tests: clients signing with temporary credentials, trust policies, error answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.server import BrokerServer, make_client

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/worker"  # what tests/sts/conftest.py's broker holds


def with_credentials(broker: BrokerServer, service: str, creds: dict[str, Any], **config: Any) -> Any:
    """A boto3 client of `broker` signing with temporary credentials (an STS Credentials structure)."""
    config.setdefault("retries", {"max_attempts": 1, "mode": "standard"})
    return make_client(
        service, broker.url, creds["AccessKeyId"], creds["SecretAccessKey"], config=Config(**config),
        session_token=creds["SessionToken"],
    )  # fmt: skip


def trust(principal: Any, actions: list[str] | None = None, condition: dict[str, Any] | None = None) -> str:
    """A trust policy allowing `principal` sts:AssumeRole (or `actions`)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": actions or "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def error_of(call: Any, status: int, **kw: Any) -> dict[str, str]:
    """The error (Code, Message) a call answers, its HTTP status checked."""
    with pytest.raises(ClientError) as e:
        call(**kw)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, e.value.response
    return dict(e.value.response["Error"])
