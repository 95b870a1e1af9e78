"""Fixtures of the API Gateway v2 tests: an apigatewayv2 client of the shared broker."""

from __future__ import annotations

import pytest


@pytest.fixture
def gw2(broker):
    return broker.client("apigatewayv2")
