"""No input produces HTTP 500 in EventBridge Scheduler: every member of every served operation, given values of
every wrong kind (tests/apigateway/no_500_grid.py's grid, sent as rest-json), gets a 4xx AWS error or a success;
every operation of the model the broker does not serve answers the layer's 501; and hypothesis-generated requests,
broken in every way the fuzzer knows, never get a 5xx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import strategies as st

from broker.services.registry import all_specs
from tests.apigateway.no_500_grid import STRIDE, cases, check_unserved, fuzz_never_5xx, ordered, run_grid
from tests.reliability.fuzz_model import model
from tests.scheduler.helpers import OFF, ROLE, group_arn

MODEL = model("scheduler")
SERVED = sorted(all_specs()["scheduler"].handlers)
DESTRUCTIVE = ("Delete", "Untag")
QUEUE = "arn:aws:sqs:us-east-1:000000000000:fuzz"


def _fixture(broker) -> dict[str, Any]:
    scheduler = broker.client("scheduler")
    scheduler.create_schedule_group(Name="fuzz")
    target = {"Arn": QUEUE, "RoleArn": ROLE}
    scheduler.create_schedule(
        Name="fuzz", GroupName="fuzz", ScheduleExpression="rate(1 hour)", Target=target, FlexibleTimeWindow=OFF
    )
    return {
        "Name": "fuzz",
        "GroupName": "fuzz",
        "ResourceArn": group_arn("fuzz"),
        "ScheduleExpression": "rate(1 hour)",
        "Target": target,
        "FlexibleTimeWindow": OFF,
    }


@pytest.mark.timeout(600)
def test_never_500(broker):
    known = _fixture(broker)
    with httpx.Client(timeout=30) as http:
        grid = cases(MODEL, ordered(SERVED, DESTRUCTIVE, ("DeleteScheduleGroup",)), known, True)
        bad, succeeded, statuses = run_grid(http, broker.url, MODEL, grid)
        check_unserved(http, broker.url, MODEL, SERVED, {})
    assert not bad, sorted({(b[0], b[1][:120], b[3][:120]) for b in bad})[:20]
    assert statuses.total() > 1000 // STRIDE
    assert len(succeeded) >= 8, sorted(set(SERVED) - succeeded)


@pytest.mark.timeout(300)
def test_fuzzed_requests_never_get_a_5xx(broker):
    known = {name: st.just(v) for name, v in _fixture(broker).items()}
    fuzz_never_5xx(broker.url, MODEL, SERVED, DESTRUCTIVE, known)
