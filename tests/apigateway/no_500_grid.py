"""The no-500 checks both API Gateway suites run (REST APIs: tests/apigateway/test_no_500.py; HTTP and WebSocket
APIs: tests/apigatewayv2/test_no_500.py) over their rest-json models: the value grid (every member of every served
operation given values of every wrong kind), the 501 of the model's operations not served, and the hypothesis run of
mangled requests (also used over awsJson by the EventBridge and CloudWatch Logs suites). The request builder and
sender are tests/reliability/fuzz_model.py's."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
from botocore.model import OperationModel, ServiceModel, Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.fuzz_model import (
    MANGLE,
    MANGLE_REQUEST,
    body_for,
    mangle,
    mangle_request,
    operation_inputs,
    plausible,
    request_for,
    send,
)

JUNK: list[Any] = [
    None,
    True,
    -1,
    0,
    2**40,
    1.5,
    "",
    "x",
    "\u0000",
    "9" * 40,
    "A" * 3000,
    "%2F..",
    [],
    [1],
    {},
    {"a": 1},
]
EXAMPLES = int(os.environ.get("BROKER_FUZZ_EXAMPLES", "300")) // 2
# make test sends each member a third of the junk values (a different third from member to member, so that every
# value meets every kind of member); make soak (BROKER_GRID_FULL=1) sends every value to every member.
FULL = os.environ.get("BROKER_GRID_FULL") == "1"
STRIDE = 1 if FULL else 3
MIN_CASES = 5000 // STRIDE  # what a grid of the served API Gateway operations sends at least


def some(values: list[Any], turn: int) -> list[Any]:
    """The values of this turn: all of them in the full grid, else every STRIDE-th from an offset that turns."""
    return values[turn % STRIDE :: STRIDE]


# More cases for one member of an operation's input: (member, its shape, the plausible input) -> inputs.
Extra = Callable[[str, Shape, dict[str, Any]], Iterable[dict[str, Any]]]


def ordered(served: list[str], destructive: tuple[str, ...], last: tuple[str, ...]) -> list[str]:
    """Served operations, the deleting ones last (each finds its object once, then 404s), those in `last` (the
    ones deleting the fixture's parents) last of all."""
    keep = [n for n in served if not n.startswith(destructive)]
    gone = sorted((n for n in served if n.startswith(destructive)), key=lambda n: (n in last, n))
    return keep + gone


def cases(
    model: ServiceModel, op_names: list[str], known: dict[str, Any], into_structures: bool, extra: Extra | None = None
) -> Iterator[tuple[OperationModel, dict[str, Any]]]:
    """Each operation's plausible input, then that input with each member (each entry of a map, each member of a
    list's structures and, with `into_structures`, of a structure) replaced by every JUNK value."""
    turn = 0
    for op_name in op_names:
        op = model.operation_model(op_name)
        shape = op.input_shape
        base = plausible(shape, "", known) if shape is not None else {}
        yield op, base
        for member, mshape in (shape.members if shape is not None else {}).items():
            turn += 1
            for junk in some(JUNK, turn):
                yield op, {**base, member: junk}
            if mshape.type_name == "map":
                for junk in some(JUNK, turn + 1):
                    yield op, {**base, member: {"k": junk}}
            inner = mshape.member if mshape.type_name == "list" else None
            if inner is not None and inner.type_name == "structure":
                entry = plausible(inner, "", {})
                for sub in inner.members:
                    turn += 1
                    for junk in some(JUNK, turn):
                        yield op, {**base, member: [{**entry, sub: junk}]}
            if into_structures and mshape.type_name == "structure":
                entry = plausible(mshape, "", {})
                for sub in mshape.members:
                    turn += 1
                    for junk in some(JUNK, turn):
                        yield op, {**base, member: {**entry, sub: junk}}
            for params in extra(member, mshape, base) if extra is not None else ():
                yield op, params


def run_grid(
    http: httpx.Client, url: str, model: ServiceModel, grid: Iterable[tuple[OperationModel, dict[str, Any]]]
) -> tuple[list[tuple[str, str, int, bytes]], set[str], Counter[int]]:
    """Sends every case: (the 5xx answers, the operations that succeeded at least once, the count of each status)."""
    bad, succeeded, statuses = [], set(), Counter[int]()
    for op, params in grid:
        r = send(http, url, request_for("rest-json", model, op, params))
        statuses[r.status_code] += 1
        if r.status_code < 300:
            succeeded.add(op.name)
        if r.status_code >= 500:
            bad.append((op.name, str(params)[:200], r.status_code, r.content[:200]))
    return bad, succeeded, statuses


def check_unserved(http: httpx.Client, url: str, model: ServiceModel, served: list[str], known: dict[str, Any]) -> None:
    """The model's other operations: the layer's not-implemented answer, never a crash."""
    for op_name in sorted(set(model.operation_names) - set(served)):
        op = model.operation_model(op_name)
        params = plausible(op.input_shape, "", known) if op.input_shape is not None else {}
        r = send(http, url, request_for("rest-json", model, op, params))
        assert (r.status_code, r.headers.get("x-amzn-errortype")) == (501, "NotImplemented"), (op_name, r.text)
        assert "is not supported by this broker yet" in r.text


def fuzz_never_5xx(
    url: str,
    model: ServiceModel,
    served: list[str],
    destructive: tuple[str, ...],
    known: dict[str, st.SearchStrategy[Any]],
    protocol: str = "rest-json",
) -> None:
    """Hypothesis-generated requests (the deleting operations without the known objects, so that few succeed),
    broken in every way the fuzzer knows, never get a 5xx; at least three operations succeed. `protocol`
    "rest-json" (requests mangled as a whole) or "json" (awsJson bodies and headers mangled, posted to `/`)."""
    safe = [n for n in served if not n.startswith(destructive)]
    risky = [n for n in served if n.startswith(destructive)]
    inputs = st.one_of(operation_inputs(model, safe, known), operation_inputs(model, risky, {}))
    failures: list[str] = []
    succeeded: set[str] = set()
    rest = protocol == "rest-json"

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=inputs, kind=MANGLE_REQUEST if rest else MANGLE, noise=st.binary(max_size=300))
    def check(http: httpx.Client, case: tuple[str, dict, bool], kind: str, noise: bytes) -> None:
        op_name, params, _ = case
        op = model.operation_model(op_name)
        if rest:
            req = mangle_request(kind, request_for("rest-json", model, op, params), noise)
            r, sent = send(http, url, req), f"{req.method} {req.raw_path[:200]!r}"
        else:
            body, headers = mangle(kind, *body_for("json", model, op, params), noise)
            r, sent = http.post(url + "/", content=body, headers=headers), str(params)[:300]
        if r.status_code < 300:
            succeeded.add(op_name)
        if rest and r.status_code == 501 and kind != "none" and "is not supported by this broker yet" in r.text:
            return  # a mangled request (another method, say) that names a model operation not served yet
        if r.status_code >= 500:
            failures.append(f"{op_name} [{kind}] {r.status_code}: {r.text[:300]} <- {sent}")
        assert r.status_code < 500, failures[-1]

    with httpx.Client(timeout=60) as http:
        check(http)
    assert len(succeeded) >= 3, sorted(succeeded)
