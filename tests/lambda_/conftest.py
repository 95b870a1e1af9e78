"""Fixtures of the Lambda tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def lam(broker):
    """A Lambda client of the shared broker; invocations may wait for a cold start."""
    return broker.client("lambda", read_timeout=60)
