"""No input produces HTTP 500: every member of every served CloudWatch Logs operation, given values of every wrong
kind, gets a 4xx AWS error or a success; every operation of the model the broker does not serve answers the
layer's 501 NotImplemented; and hypothesis-generated requests (tests/reliability/fuzz_model.py) never get a 5xx."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import strategies as st

from broker.services.registry import all_specs
from tests.apigateway.no_500_grid import fuzz_never_5xx
from tests.logs.helpers import client, group_arn
from tests.reliability.fuzz_model import model

MODEL = model("logs")
SERVED = sorted(all_specs()["logs"].handlers)
JUNK = [None, True, -1, 0, 2**70, 1.5, "", "x", "\u0000", "9" * 50, "A" * 70000, [], [1], {}, {"a": 1}]
TARGET = "Logs_20140328."
HEADERS = {"Content-Type": "application/x-amz-json-1.1"}


def _plausible(shape, name: str = ""):
    if name in ("logGroupName", "logGroupIdentifier"):
        return "fuzz"
    if name == "logStreamName":
        return "s"
    if name == "resourceArn":
        return group_arn("fuzz")
    t = shape.type_name
    if t == "structure":
        return {m: _plausible(s, m) for m, s in shape.members.items() if m in shape.required_members}
    if t == "list":
        return [_plausible(shape.member)]
    if t == "map":
        return {"k": _plausible(shape.value)}
    if t in ("integer", "long"):
        return 1
    if t == "boolean":
        return True
    return "x"


def _cases():
    for op_name in SERVED:
        if op_name.startswith("Delete"):
            continue  # would remove what the other cases use
        shape = MODEL.operation_model(op_name).input_shape
        base = _plausible(shape)
        for member, mshape in shape.members.items():
            for junk in JUNK:
                yield op_name, {**base, member: junk}
            inner = mshape.member if mshape.type_name == "list" else None
            if inner is not None and inner.type_name == "structure":
                entry = _plausible(inner)
                for sub in inner.members:
                    for junk in JUNK:
                        yield op_name, {**base, member: [{**entry, sub: junk}]}


def _fixture(broker) -> None:
    logs = client(broker)
    logs.create_log_group(logGroupName="fuzz")
    logs.create_log_stream(logGroupName="fuzz", logStreamName="s")


def test_never_500(broker):
    _fixture(broker)
    bad, count = [], 0
    with httpx.Client(base_url=broker.url, timeout=30) as http:
        for op_name, params in _cases():
            r = http.post("/", content=json.dumps(params), headers={**HEADERS, "X-Amz-Target": TARGET + op_name})
            count += 1
            if r.status_code >= 500:
                bad.append((op_name, str(params)[:200], r.status_code, r.content[:200]))
        # the model's other operations: the layer's not-implemented answer, never a crash
        unserved = sorted(set(MODEL.operation_names) - set(SERVED))
        for op_name in unserved:
            r = http.post("/", content=b"{}", headers={**HEADERS, "X-Amz-Target": TARGET + op_name})
            assert (r.status_code, r.json()["__type"]) == (501, "NotImplemented"), op_name
    assert count > 1000
    assert not bad, bad[:10]


@pytest.mark.timeout(300)
def test_fuzzed_requests_never_get_a_5xx(broker):
    _fixture(broker)
    known = {
        "logGroupName": st.just("fuzz"),
        "logGroupIdentifier": st.sampled_from(["fuzz", group_arn("fuzz")]),
        "logStreamName": st.just("s"),
        "resourceArn": st.just(group_arn("fuzz")),
    }
    fuzz_never_5xx(broker.url, MODEL, SERVED, ("Delete",), known, protocol="json")
