"""No input produces HTTP 500: every member of every served Kinesis operation, given values of every wrong kind,
over JSON and CBOR, gets a 4xx AWS error or a success."""

from __future__ import annotations

import json

import cbor2
import httpx
import pytest
from botocore.loaders import Loader
from botocore.model import ServiceModel

from broker.services.registry import all_specs
from tests.kinesis.helpers import client, create_stream

MODEL = ServiceModel(Loader().load_service_model("kinesis", "service-2"), "kinesis")
SERVED = sorted(all_specs()["kinesis"].handlers)
JUNK = [None, True, -1, 0, 2**70, 1.5, "", "x", "\u0000", "9" * 50, "A" * 70000, [], [1], {}, {"a": 1}]


def _plausible(shape, stream_arn: str, name: str = ""):
    if name == "StreamName":
        return "fuzz"
    if name in ("StreamARN", "ResourceARN"):
        return stream_arn
    t = shape.type_name
    if t == "structure":
        return {m: _plausible(s, stream_arn, m) for m, s in shape.members.items() if m in shape.required_members}
    if t == "list":
        return [_plausible(shape.member, stream_arn)]
    if t == "map":
        return {"k": _plausible(shape.value, stream_arn)}
    if t in ("integer", "long"):
        return 1
    if t == "boolean":
        return True
    if t == "blob":
        return b"x"
    return "x"


def _cases(stream_arn: str):
    for op_name in SERVED:
        if op_name in ("DeleteStream", "DeregisterStreamConsumer"):
            continue  # would remove what the other cases use
        shape = MODEL.operation_model(op_name).input_shape
        base = _plausible(shape, stream_arn)
        for member, mshape in shape.members.items():
            for junk in JUNK:
                yield op_name, {**base, member: junk}
            inner = mshape.member if mshape.type_name == "list" else None
            if inner is not None and inner.type_name == "structure":
                entry = _plausible(inner, stream_arn)
                for sub in inner.members:
                    for junk in JUNK:
                        yield op_name, {**base, member: [{**entry, sub: junk}]}


def _json_default(value):
    if isinstance(value, bytes):
        return "eA=="
    raise TypeError


@pytest.mark.parametrize("wire", ["json", "cbor"])
def test_never_500(broker, wire):
    k = client(broker)
    arn = create_stream(k, "fuzz", shards=2)["StreamARN"]
    bad, count = [], 0
    ctype = "application/x-amz-json-1.1" if wire == "json" else "application/x-amz-cbor-1.1"
    with httpx.Client(base_url=broker.url, timeout=30) as http:
        for op_name, params in _cases(arn):
            body = json.dumps(params, default=_json_default) if wire == "json" else cbor2.dumps(params)
            r = http.post(
                "/", content=body, headers={"X-Amz-Target": f"Kinesis_20131202.{op_name}", "Content-Type": ctype}
            )
            count += 1
            if r.status_code >= 500:
                bad.append((op_name, str(params)[:200], r.status_code, r.content[:200]))
    assert count > 1000
    assert not bad, bad[:10]
