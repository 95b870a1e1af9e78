"""Fixtures of the API Gateway tests: an API Gateway client of the shared broker."""

from __future__ import annotations

import pytest


@pytest.fixture
def gw(broker):
    return broker.client("apigateway")
