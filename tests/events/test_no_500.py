"""No input produces HTTP 500 in EventBridge: every member of every served operation, given values of every wrong
kind (tests/apigateway/no_500_grid.py's grid, sent as JSON 1.1), gets a 4xx AWS error or a success; every operation of
the model the broker does not serve answers the layer's 501 NotImplemented; and hypothesis-generated requests
(tests/reliability/fuzz_model.py), broken in every way the fuzzer knows, never get a 5xx."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import strategies as st

from broker.services.registry import all_specs
from tests.apigateway.no_500_grid import cases, fuzz_never_5xx, ordered
from tests.events.helpers import rule_arn
from tests.reliability.fuzz_model import body_for, model

MODEL = model("events")
SERVED = sorted(all_specs()["events"].handlers)
DESTRUCTIVE = ("Delete", "Remove", "Untag")
KNOWN = {"Name": "fuzz", "Rule": "fuzz", "EventBusName": "default", "ResourceARN": rule_arn("fuzz")}


def _fixture(broker) -> None:
    events = broker.client("events")
    events.put_rule(Name="fuzz", EventPattern='{"source": ["fuzz"]}')


def test_never_500(broker):
    _fixture(broker)
    bad, count, succeeded = [], 0, set()
    with httpx.Client(base_url=broker.url, timeout=30) as http:
        for op, params in cases(MODEL, ordered(SERVED, DESTRUCTIVE, ()), KNOWN, into_structures=True):
            body, headers = body_for("json", MODEL, op, params)
            r = http.post("/", content=body, headers=headers)
            count += 1
            if r.status_code < 300:
                succeeded.add(op.name)
            if r.status_code >= 500:
                bad.append((op.name, str(params)[:200], r.status_code, r.content[:200]))
        for op_name in sorted(set(MODEL.operation_names) - set(SERVED)):
            body, headers = body_for("json", MODEL, MODEL.operation_model(op_name), {})
            r = http.post("/", content=body, headers=headers)
            assert (r.status_code, r.json()["__type"]) == (501, "NotImplemented"), op_name
            assert json.loads(r.content)["message"] == f"{op_name} is not supported by this broker yet."
    assert count > 1000
    assert not bad, bad[:10]
    assert len(succeeded) >= 10, sorted(succeeded)


@pytest.mark.timeout(300)
def test_fuzzed_requests_never_get_a_5xx(broker):
    _fixture(broker)
    known = {k: st.just(v) for k, v in KNOWN.items()}
    fuzz_never_5xx(broker.url, MODEL, SERVED, DESTRUCTIVE, known, protocol="json")
