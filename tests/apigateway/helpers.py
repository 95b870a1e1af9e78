"""Shared by the API Gateway tests."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_of(call, status: int, **kw) -> dict:
    """The error a call answers (its HTTP status checked): {"Code": ..., "Message": ...}."""
    with pytest.raises(ClientError) as e:
        call(**kw)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return e.value.response["Error"]
