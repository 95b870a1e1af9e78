"""Fixtures of the Lambda tests: they run against a broker of two worker processes (per backend), so that every
invocation path is exercised where environments, slots and logs are spread over workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import serve
from tests.server import BrokerServer


@pytest.fixture(scope="session")
def lambda_server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "lambda", workers=2)


@pytest.fixture
def broker(lambda_server: BrokerServer) -> BrokerServer:
    lambda_server.reset()
    return lambda_server


@pytest.fixture
def lam(broker):
    """A Lambda client of the shared broker; invocations may wait for a cold start."""
    return broker.client("lambda", read_timeout=60)
