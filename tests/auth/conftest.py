"""One broker in sigv4 mode (two workers) per backend, shared by the auth tests (`signed_broker` resets it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.helpers import sigv4_server_kw
from tests.conftest import serve
from tests.server import BrokerServer


@pytest.fixture(scope="session")
def signed_server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "auth", workers=2, **sigv4_server_kw())


@pytest.fixture
def signed_broker(signed_server: BrokerServer) -> BrokerServer:
    signed_server.reset()
    return signed_server
