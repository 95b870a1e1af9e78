"""No input produces HTTP 500 in STS: every member of every served operation (and the members inside its lists),
given values of every wrong kind over the query protocol, gets an AWS error document or a success; so does a
session token of every wrong kind."""

from __future__ import annotations

import httpx
import pytest

from broker.services.registry import all_specs
from tests.sts.helpers import ACCOUNT, ROLE

AUTH = f"AWS4-HMAC-SHA256 Credential={ACCOUNT}/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0"
JUNK = ["", "x", "-1", "99999999999999999999", "true", "{", '{"a": [1]}', "\u0000", "\udcff", "A" * 70_000]
NESTED = [
    "Tags.member.1.Key",
    "Tags.member.1.Value",
    "TransitiveTagKeys.member.1",
    "PolicyArns.member.1.arn",
    "ProvidedContexts.member.1.ProviderArn",
    "ProvidedContexts.member.1.ContextAssertion",
]


@pytest.mark.parametrize("value", JUNK, ids=range(len(JUNK)))
def test_query_protocol_never_500(broker, value):
    model = broker.client("sts").meta.service_model
    bad, count = [], 0
    base = {"Version": "2011-06-15", "RoleArn": ROLE, "RoleSessionName": "fuzz", "AccessKeyId": "ASIAAAAAAAAAAAAAAAAA"}
    with httpx.Client(base_url=broker.url, timeout=30, headers={"Authorization": AUTH}) as http:
        for op_name in sorted(all_specs()["sts"].handlers):
            shape = model.operation_model(op_name).input_shape
            members = list(shape.members) if shape is not None else []
            for key in members + NESTED:
                r = http.post("/", data={**base, "Action": op_name, key: value.encode("utf-8", "surrogatepass")})
                count += 1
                if r.status_code >= 500 or (r.status_code >= 400 and b"<ErrorResponse" not in r.content):
                    bad.append((op_name, key, r.status_code, r.text[:200]))
    assert count == 42  # every member of the four operations and the nested ones, once each
    assert not bad, bad[:10]


@pytest.mark.parametrize("token", ["", "x", "====", "AQ==", "A" * 5000, "\u00ff\u00fe", "AR" + "A" * 100 + "=="])
def test_session_tokens_of_every_kind_never_500(broker, token):
    auth = AUTH.replace(f"Credential={ACCOUNT}", "Credential=ASIAAAAAAAAAAAAAAAAA")
    r = httpx.post(
        broker.url,
        data={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
        headers={"Authorization": auth, "X-Amz-Security-Token": token.encode("latin-1")},
        timeout=30,
    )
    # Auth none: a token that does not verify names no account, so the default one answers.
    assert r.status_code == 200, r.text
    assert "<Account>000000000000</Account>" in r.text
