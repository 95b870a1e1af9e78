"""No input produces HTTP 500 in Lambda's configuration operation groups (layers, permissions, tags, URLs,
concurrency, event-invoke configurations, event source mappings, code signing, settings): every top-level member
of every operation, given values of wrong kinds, gets a 4xx AWS error or a success."""

from __future__ import annotations

import httpx
from botocore.serialize import create_serializer

from broker.services.lambda_ import other_operations
from tests.lambda_.helpers import create, zip_of
from tests.reliability.fuzz_model import model, plausible

MODEL = model("lambda")
SERIALIZER = create_serializer("rest-json", include_validation=False)
OPERATIONS = sorted(op for op in other_operations.HANDLERS if not op.startswith(("Delete", "Remove", "Untag")))
JUNK = [None, True, -1, 0, 2**40, "", "x", "$LATEST", "9" * 40, "A" * 3000, "arn:aws:lambda:::", [], {}, {"a": 1}]
ARN = "arn:aws:lambda:us-east-1:000000000000"
AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"


def _requests(known: dict[str, object]):
    for op_name in OPERATIONS:
        op = MODEL.operation_model(op_name)
        shape = op.input_shape
        base = plausible(shape, "", known) if shape is not None else {}
        assert isinstance(base, dict)
        yield op, base
        for member in shape.members if shape is not None else {}:
            for junk in JUNK:
                yield op, {**base, member: junk}


def test_configuration_operations_never_answer_500(broker):
    lam = broker.client("lambda")
    create(lam, "fuzz")
    lam.publish_version(FunctionName="fuzz")
    lam.create_alias(FunctionName="fuzz", Name="live", FunctionVersion="1")
    lam.publish_layer_version(LayerName="fuzz", Content={"ZipFile": zip_of({"a.py": "A = 1"})})
    mapping = lam.create_event_source_mapping(FunctionName="fuzz", EventSourceArn=f"{ARN.replace('lambda', 'sqs')}:q")
    csc = lam.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": ["arn:aws:signer:us-east-1:000000000000:/signing-profiles/p"]}
    )["CodeSigningConfig"]["CodeSigningConfigArn"]
    known: dict[str, object] = {
        "FunctionName": "fuzz",
        "LayerName": "fuzz",
        "UUID": mapping["UUID"],
        "CodeSigningConfigArn": csc,
        "Resource": f"{ARN}:function:fuzz",
        "ResourceArn": f"{ARN}:function:fuzz",
        "Arn": f"{ARN}:layer:fuzz:1",
        "EventSourceArn": f"{ARN.replace('lambda', 'kinesis')}:stream/s",
        "Qualifier": "live",
        "Content": {"ZipFile": zip_of({"b.py": "B = 1"})},
    }
    bad, count = [], 0
    with httpx.Client(base_url=broker.url, timeout=30) as http:
        for op, params in _requests(known):
            try:
                req = SERIALIZER.serialize_to_request(params, op)
            except (TypeError, ValueError, AttributeError, KeyError, RuntimeError):
                continue  # a value the SDK could not even send
            r = http.request(
                req["method"],
                req["url_path"],
                params=req["query_string"],
                content=req["body"],
                headers={**req["headers"], "Authorization": AUTH},
            )
            count += 1
            if r.status_code >= 500:
                bad.append((op.name, str(params)[:200], r.status_code, r.content[:300]))
    assert not bad, sorted({(b[0], b[1][:90]) for b in bad})
    assert count > 1000
