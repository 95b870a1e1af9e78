"""Fixtures of the STS tests: a broker in auth none mode (two workers) shared by the modules that need no
signatures, holding the role `ROLE` after each reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import serve
from tests.server import BrokerServer
from tests.sts.helpers import ACCOUNT, trust


@pytest.fixture(scope="session")
def sts_server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "sts-none", workers=2)


@pytest.fixture
def broker(sts_server: BrokerServer) -> BrokerServer:
    sts_server.reset()
    sts_server.client("iam", access_key=ACCOUNT).create_role(
        RoleName="worker", AssumeRolePolicyDocument=trust({"Service": "lambda.amazonaws.com"})
    )
    return sts_server
