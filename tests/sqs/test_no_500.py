"""No input produces HTTP 500: every member of every served SQS operation, given values of every wrong kind,
over both protocols, gets a 4xx AWS error or a success."""

from __future__ import annotations

import json

import httpx
import pytest
from botocore.loaders import Loader
from botocore.model import ServiceModel

from broker.services.registry import all_specs

HANDLERS = all_specs()["sqs"].handlers
MODEL = ServiceModel(Loader().load_service_model("sqs", "service-2"), "sqs")
JUNK = [
    None,
    True,
    -1,
    0,
    2**40,
    1.5,
    "",
    "x",
    "\u0000",
    "\ufffe",
    "A" * 70000,
    [],
    [1],
    ["x", None],
    {},
    {"a": 1},
    {"DataType": 5},
    {"a": {"DataType": "String.\u0001", "StringValue": "v"}},
]


def _plausible(shape, url: str, name: str = ""):
    t = shape.type_name
    if name == "QueueUrl":
        return url
    if t == "structure":
        return {m: _plausible(s, url, m) for m, s in shape.members.items() if m in shape.required_members}
    if t == "list":
        return [_plausible(shape.member, url)]
    if t == "map":
        return {"k": _plausible(shape.value, url)}
    if t in ("integer", "long"):
        return 1
    if t == "boolean":
        return True
    if t == "blob":
        return "eA=="
    return "x"


def _cases(url: str):
    for op_name in sorted(HANDLERS):
        shape = MODEL.operation_model(op_name).input_shape
        base = _plausible(shape, url)
        for member, mshape in shape.members.items():
            for junk in JUNK:
                yield op_name, {**base, member: junk}
            # One level down: junk inside list entries and map values.
            inner = mshape.member if mshape.type_name == "list" else None
            if inner is not None and inner.type_name == "structure":
                entry = _plausible(inner, url)
                for sub in inner.members:
                    for junk in JUNK:
                        yield op_name, {**base, member: [{**entry, "Id": "a", sub: junk}]}
            if mshape.type_name == "map":
                for junk in JUNK:
                    yield op_name, {**base, member: {"Name": junk}}


def test_json_protocol_never_500(broker):
    url = broker.client().create_queue(QueueName="fuzz")["QueueUrl"]
    bad = []
    count = 0
    with httpx.Client(base_url=broker.url, timeout=30) as http:
        for op_name, params in _cases(url):
            if op_name in ("DeleteQueue", "PurgeQueue"):
                params = {**params, "QueueUrl": params.get("QueueUrl") if params.get("QueueUrl") != url else url + "x"}
            r = http.post(
                "/",
                content=json.dumps(params),
                headers={"X-Amz-Target": f"AmazonSQS.{op_name}", "Content-Type": "application/x-amz-json-1.0"},
            )
            count += 1
            if r.status_code >= 500 or (r.status_code >= 400 and "__type" not in r.json()):
                bad.append((op_name, str(params)[:200], r.status_code, r.text[:200]))
    assert count > 1000
    assert not bad, bad[:10]


@pytest.mark.parametrize("value", ["", "x", "-1", "99999999999999999999", "1.5", "true", "%ZZ", "\u0000"])
def test_query_protocol_never_500(broker, value):
    url = broker.client().create_queue(QueueName="fuzzq")["QueueUrl"]
    bad = []
    with httpx.Client(base_url=broker.url, timeout=30) as http:
        for op_name in sorted(HANDLERS):
            if op_name in ("DeleteQueue", "PurgeQueue"):
                continue
            shape = MODEL.operation_model(op_name).input_shape
            for member in shape.members:
                for key in (
                    member,
                    f"{member}.1",
                    f"{member}.1.Name",
                    f"{member}.1.Id",
                    "Attribute.1.Value",
                    "MessageAttribute.1.Value.DataType",
                    f"SendMessageBatchRequestEntry.1.{member}",
                ):
                    form = {"Action": op_name, "Version": "2012-11-05", "QueueUrl": url, key: value}
                    r = http.post("/", data=form)
                    if r.status_code >= 500 or (r.status_code >= 400 and b"<ErrorResponse" not in r.content):
                        bad.append((op_name, key, r.status_code, r.text[:200]))
        r = http.post(
            "/",
            content=b"Action=SendMessage&MessageBody=\xff\xfe&QueueUrl=" + url.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if r.status_code >= 500:
            bad.append(("raw invalid utf-8", "", r.status_code, r.text[:200]))
    assert not bad, bad[:10]


def test_hostile_values_found_in_review_get_aws_errors(broker):
    """Inputs that once produced a 500 or broken XML."""
    import base64

    sqs = broker.client()
    url = sqs.create_queue(QueueName="hostile")["QueueUrl"]
    with httpx.Client(base_url=broker.url, timeout=30) as http:

        def call(op: str, params: dict) -> httpx.Response:
            return http.post(
                "/",
                content=json.dumps(params),
                headers={"X-Amz-Target": f"AmazonSQS.{op}", "Content-Type": "application/x-amz-json-1.0"},
            )

        cases = [
            ("SendMessage", {"QueueUrl": "http://[::1/000000000000/hostile", "MessageBody": "x"}),
            (
                "DeleteMessage",
                {"QueueUrl": url, "ReceiptHandle": base64.urlsafe_b64encode(f"1:{10**25}:tok".encode()).decode()},
            ),
            (
                "ChangeMessageVisibility",
                {
                    "QueueUrl": url,
                    "VisibilityTimeout": 1,
                    "ReceiptHandle": base64.urlsafe_b64encode(f"1:{2**63}:tok".encode()).decode(),
                },
            ),
            ("ListQueues", {"MaxResults": 5, "NextToken": base64.urlsafe_b64encode(b'{"after": true}').decode()}),
            ("ListQueues", {"MaxResults": 5, "NextToken": base64.urlsafe_b64encode(b'{"after": "a\\u0000"}').decode()}),
            ("SetQueueAttributes", {"QueueUrl": url, "Attributes": {"Policy": '{"Statement": "x"}'}}),
            ("SetQueueAttributes", {"QueueUrl": url, "Attributes": {"Policy": '{"Statement": [1]}'}}),
            (
                "SendMessage",
                {
                    "QueueUrl": url,
                    "MessageBody": "x",
                    "MessageAttributes": {"a": {"DataType": "String.\u0001", "StringValue": "v"}},
                },
            ),
            (
                "SendMessage",
                {
                    "QueueUrl": url,
                    "MessageBody": "x",
                    "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "\u0001"}},
                },
            ),
        ]
        for op, params in cases:
            r = call(op, params)
            assert 400 <= r.status_code < 500 and "__type" in r.json(), (op, params, r.status_code, r.text)
        assert (
            call(
                "AddPermission",
                {"QueueUrl": url, "Label": "l", "AWSAccountIds": ["123456789012"], "Actions": ["SendMessage"]},
            ).status_code
            == 200
        )
