"""The filter policy engine on its own: validate() and Policy.matches() over the tables in filter_cases.py.

No server is involved; the same tables drive the end-to-end tests.
"""

from __future__ import annotations

import json

import pytest

from broker.errors import ServiceError
from broker.services.sns import filter_policy
from tests.sns.filter_cases import ATTRS, BODY, INVALID_POLICIES, MATCH_CASES, VALID_POLICIES


def _text(policy: dict | str) -> str:
    return policy if isinstance(policy, str) else json.dumps(policy)


def _id(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


@pytest.mark.parametrize(
    ("policy", "scope", "message", "expected"),
    MATCH_CASES,
    ids=[f"{i}-{scope}-{_id(policy)}" for i, (policy, scope, _, _) in enumerate(MATCH_CASES)],
)
def test_match(policy: dict, scope: str, message: dict | str, expected: bool) -> None:
    compiled = filter_policy.validate(json.dumps(policy), scope)
    if scope == ATTRS:
        assert compiled.matches(message, None) is expected
    else:
        assert compiled.matches({}, message) is expected


@pytest.mark.parametrize(
    ("policy", "scope", "fragment"),
    INVALID_POLICIES,
    ids=[f"{i}-{_id(policy)}" for i, (policy, _, _) in enumerate(INVALID_POLICIES)],
)
def test_invalid(policy: dict | str, scope: str, fragment: str) -> None:
    with pytest.raises(ServiceError) as caught:
        filter_policy.validate(_text(policy), scope)
    assert caught.value.code == "InvalidParameter"
    assert caught.value.status == 400
    assert caught.value.message.startswith("Invalid parameter: ")
    assert fragment in caught.value.message


@pytest.mark.parametrize(("policy", "scope"), VALID_POLICIES, ids=[_id(p) for p, _ in VALID_POLICIES])
def test_valid_at_limits(policy: dict, scope: str) -> None:
    assert isinstance(filter_policy.validate(json.dumps(policy), scope), filter_policy.Policy)


def test_tables_are_plain_data() -> None:
    # The end-to-end tests send these through a real server, so they must survive JSON (bytes aside).
    assert len(MATCH_CASES) >= 80
    for policy, scope, message, expected in MATCH_CASES:
        assert scope in (ATTRS, BODY)
        assert isinstance(expected, bool)
        json.dumps(policy)
        json.dumps(message, default=lambda value: value.decode("latin-1"))


def test_body_scope_ignores_attributes_and_attribute_scope_ignores_body() -> None:
    body_policy = filter_policy.validate('{"store": ["fans"]}', BODY)
    assert not body_policy.matches({"store": {"DataType": "String", "StringValue": "fans"}}, None)
    attribute_policy = filter_policy.validate('{"store": ["fans"]}', ATTRS)
    assert not attribute_policy.matches({}, '{"store": "fans"}')


def test_dotted_body_keys_match_nested_properties() -> None:
    # A nested policy key is the dotted path of the property, and a dotted property name is the same path.
    policy = filter_policy.validate('{"object.nested": ["string.value"]}', BODY)
    assert policy.matches({}, '{"object": {"nested": "string.value"}}')
    assert policy.matches({}, '{"object.nested": "string.value"}')
    nested = filter_policy.validate('{"object": {"nested": ["string.value"]}}', BODY)
    assert nested.matches({}, '{"object.nested": "string.value"}')


def test_number_attribute_forms() -> None:
    policy = filter_policy.validate('{"n": [{"numeric": [">", 1]}]}', ATTRS)
    for value in ("2", "2.0", "+2", "2e0", "0.2E1", ".5e1"):
        assert policy.matches({"n": {"DataType": "Number", "StringValue": value}}, None), value
    for value in ("abc", "1_000", "NaN", "Infinity", ""):
        assert not policy.matches({"n": {"DataType": "Number", "StringValue": value}}, None), value


def test_huge_body_numbers_keep_their_order() -> None:
    policy = filter_policy.validate('{"n": [{"numeric": [">", 1000000000]}]}', BODY)
    assert policy.matches({}, '{"n": 1e400}')
    assert not policy.matches({}, '{"n": -1e400}')
    assert not filter_policy.validate('{"n": [1000000000]}', BODY).matches({}, '{"n": 1e400}')


def test_wildcard_is_not_backtracking() -> None:
    policy = filter_policy.validate(json.dumps({"k": [{"wildcard": "*a" * 40 + "*b"}]}), ATTRS)
    assert not policy.matches({"k": {"DataType": "String", "StringValue": "a" * 5000}}, None)
    assert policy.matches({"k": {"DataType": "String", "StringValue": "a" * 50 + "b"}}, None)


def test_wildcard_escapes() -> None:
    policy = filter_policy.validate(json.dumps({"k": [{"wildcard": "a\\*b*"}]}), ATTRS)
    assert policy.matches({"k": {"DataType": "String", "StringValue": "a*bcd"}}, None)
    assert not policy.matches({"k": {"DataType": "String", "StringValue": "axbcd"}}, None)


def test_malformed_messages_do_not_raise() -> None:
    policy = filter_policy.validate('{"k": ["v"], "n": [{"numeric": [">", 0]}]}', ATTRS)
    odd = [
        {"k": {"DataType": "String.Array", "StringValue": "not json"}},
        {"k": {"DataType": "String.Array", "StringValue": '{"a": 1}'}},
        {"k": {"DataType": "String"}},
        {"k": "v"},
        {"k": {"DataType": "Binary", "BinaryValue": b"v"}},
        {"n": {"DataType": "Number", "StringValue": "1e999999999"}},
    ]
    for attributes in odd:
        assert not policy.matches(attributes, None)
    body_policy = filter_policy.validate('{"k": ["v"]}', BODY)
    for body in (None, "", "[", '{"k": NaN}', "[" * 100000 + "]" * 100000):
        assert not body_policy.matches({}, body)


def test_policy_is_compiled_once() -> None:
    # matches() must not look at the policy text again: the compiled object holds no copy of it.
    policy = filter_policy.validate('{"store": ["fans"]}', ATTRS)
    assert not hasattr(policy, "__dict__")
    assert policy.matches({"store": {"DataType": "String", "StringValue": "fans"}}, None)
