"""Requests refused before they reach an operation are counted too: in sigv4 mode an unsigned request, one signed
with an unknown key and one with a wrong signature land in broker_requests_total under the service they name, the
operation "unknown" and the AWS error code they were answered with."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.auth.helpers import ADMIN_KEY, ADMIN_TOKEN, signed, sigv4_server_kw
from tests.conftest import serve
from tests.server import BrokerServer

JSON_1_0 = "application/x-amz-json-1.0"


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "metrics-refusals", workers=1, **sigv4_server_kw())


def refusals(server: BrokerServer) -> dict[tuple[str, str, str], float]:
    r = httpx.get(server.url + "/_broker/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)
    assert r.status_code == 200, r.text
    return {
        (s.labels["service"], s.labels["operation"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
        if s.name == "broker_requests_total"
    }


def test_authentication_refusals_are_counted(server: BrokerServer) -> None:
    before = refusals(server)
    target = {"x-amz-target": "AmazonSQS.ListQueues", "content-type": JSON_1_0}
    unsigned = httpx.post(server.url + "/", headers=target, content=b"{}")
    unknown_key = signed(
        "POST", server.url + "/", service="sqs", body=b"{}", headers=target, key="AKIDNOSUCHKEY000", secret="x"
    )
    wrong_secret = signed("POST", server.url + "/", service="sqs", body=b"{}", headers=target, secret="not-it")
    codes = []
    for r in (unsigned, unknown_key, wrong_secret):
        assert r.status_code in (400, 403), r.text
        codes.append(r.json()["__type"].rsplit("#", 1)[-1])
    assert len(set(codes)) == 3, codes  # three different refusals
    ok = signed("POST", server.url + "/", service="sqs", body=b"{}", headers=target, key=ADMIN_KEY)
    assert ok.status_code == 200
    after = refusals(server)
    for code in codes:
        key = ("sqs", "unknown", code)
        assert after.get(key, 0) - before.get(key, 0) == 1, (code, after)
    success = ("sqs", "ListQueues", "success")
    assert after.get(success, 0) - before.get(success, 0) == 1
