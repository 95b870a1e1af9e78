"""Fixtures of the EventBridge tests: an EventBridge client of the shared broker."""

from __future__ import annotations

import pytest


@pytest.fixture
def events(broker):
    return broker.client("events")
