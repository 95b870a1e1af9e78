"""Fixtures of the EventBridge Scheduler tests: clients of the shared broker."""

from __future__ import annotations

import pytest


@pytest.fixture
def scheduler(broker):
    return broker.client("scheduler")


@pytest.fixture
def raw_scheduler(broker):
    """A client that sends what it is given (no client-side checks): the broker's own validation answers."""
    return broker.client("scheduler", parameter_validation=False)
