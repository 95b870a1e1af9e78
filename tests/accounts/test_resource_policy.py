"""The resource-policy evaluator against the cases of IAM's policy-evaluation logic and its policy grammar
reference (a pure function: no server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from broker.auth.resource_policy import Decision, allows, decide, denial
from broker.context import RequestContext
from broker.identity import Identity

OWNER = "111111111111"
OTHER = "222222222222"
QUEUE = f"arn:aws:sqs:us-east-1:{OWNER}:orders"
ALICE = Identity(OTHER, "alice")
ROLE_SESSION = Identity(OTHER, "", principal_arn=f"arn:aws:sts::{OTHER}:assumed-role/reader/session-1")
STRANGER = Identity("333333333333", "mallory")


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(**kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE, **kw}


def deny(**kw: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": QUEUE, **kw}


# -- no policy, malformed policies -------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [None, "", "not json", "[]", '{"Statement": "x"}', '{"Statement": [1, "a"]}'])
def test_nothing_allowed_without_a_usable_policy(text: str | None) -> None:
    assert not allows(text, ALICE, "sqs:SendMessage", QUEUE)
    assert decide(text, ALICE, "sqs:SendMessage", QUEUE) is Decision.NONE


def test_a_single_statement_object_is_a_statement_list() -> None:
    text = json.dumps({"Statement": allow(Principal={"AWS": OTHER})})
    assert allows(text, ALICE, "sqs:SendMessage", QUEUE)


# -- principals --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": OTHER},
        {"AWS": f"arn:aws:iam::{OTHER}:root"},
        {"AWS": f"arn:aws:iam::{OTHER}:user/alice"},
        {"AWS": ["arn:aws:iam::444444444444:root", OTHER]},
    ],
)
def test_principals_that_name_the_caller(principal: Any) -> None:
    assert allows(policy(allow(Principal=principal)), ALICE, "sqs:SendMessage", QUEUE)


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": OWNER},
        {"AWS": f"arn:aws:iam::{OTHER}:user/bob"},
        {"AWS": f"arn:aws:iam::{OTHER}:role/alice"},
        {"Service": "sns.amazonaws.com"},
        {"Federated": "cognito-identity.amazonaws.com"},
        {"AWS": "arn:aws:iam::*:root"},  # no wildcards in principals but "*" alone
        "AWS",
    ],
)
def test_principals_that_do_not(principal: Any) -> None:
    assert not allows(policy(allow(Principal=principal)), ALICE, "sqs:SendMessage", QUEUE)


def test_a_role_arn_names_its_sessions_and_a_session_arn_itself() -> None:
    role = f"arn:aws:iam::{OTHER}:role/reader"
    session = f"arn:aws:sts::{OTHER}:assumed-role/reader/session-1"
    assert allows(policy(allow(Principal={"AWS": role})), ROLE_SESSION, "sqs:SendMessage", QUEUE)
    assert allows(policy(allow(Principal={"AWS": session})), ROLE_SESSION, "sqs:SendMessage", QUEUE)
    other_session = f"arn:aws:sts::{OTHER}:assumed-role/reader/session-2"
    assert not allows(policy(allow(Principal={"AWS": other_session})), ROLE_SESSION, "sqs:SendMessage", QUEUE)


def test_service_principals_match_the_calling_service() -> None:
    text = policy(allow(Principal={"Service": ["sns.amazonaws.com", "events.amazonaws.com"]}))
    as_sns = {"aws:PrincipalServiceName": "sns.amazonaws.com"}
    assert allows(text, ALICE, "sqs:SendMessage", QUEUE, as_sns)
    assert not allows(text, ALICE, "sqs:SendMessage", QUEUE, {"aws:PrincipalServiceName": "s3.amazonaws.com"})


def test_not_principal_applies_to_everyone_else() -> None:
    text = policy(
        allow(Principal="*"),
        deny(NotPrincipal={"AWS": f"arn:aws:iam::{OTHER}:root"}),
    )
    assert allows(text, ALICE, "sqs:SendMessage", QUEUE)
    assert decide(text, STRANGER, "sqs:SendMessage", QUEUE) is Decision.DENY


def test_a_statement_without_principal_matches_any_caller() -> None:
    # Identity-policy style statements (no Principal) are accepted as naming no one in particular.
    assert allows(policy(allow()), ALICE, "sqs:SendMessage", QUEUE)


# -- actions -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "action", ["sqs:SendMessage", "SQS:SendMessage", "sqs:sendmessage", "sqs:*", "*", "sqs:Send*", "sqs:SendMessag?"]
)
def test_actions_match_case_insensitively_with_wildcards(action: str) -> None:
    text = policy({"Effect": "Allow", "Principal": "*", "Action": action, "Resource": QUEUE})
    assert allows(text, ALICE, "sqs:SendMessage", QUEUE)


@pytest.mark.parametrize("action", ["sqs:ReceiveMessage", "sns:SendMessage", "sqs:Send", "sqs:SendMessage?", "sq*:x"])
def test_other_actions_do_not_match(action: str) -> None:
    text = policy({"Effect": "Allow", "Principal": "*", "Action": action, "Resource": QUEUE})
    assert not allows(text, ALICE, "sqs:SendMessage", QUEUE)


def test_action_lists_and_not_action() -> None:
    listed = policy({"Effect": "Allow", "Principal": "*", "Action": ["sqs:ReceiveMessage", "SQS:SendMessage"]})
    assert allows(listed, ALICE, "sqs:SendMessage", QUEUE)
    everything_but_purge = policy({"Effect": "Allow", "Principal": "*", "NotAction": "sqs:Purge*", "Resource": "*"})
    assert allows(everything_but_purge, ALICE, "sqs:SendMessage", QUEUE)
    assert not allows(everything_but_purge, ALICE, "sqs:PurgeQueue", QUEUE)


def test_a_statement_without_action_matches_nothing() -> None:
    assert not allows(policy({"Effect": "Allow", "Principal": "*", "Resource": QUEUE}), ALICE, "sqs:X", QUEUE)


# -- resources ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "resource",
    [QUEUE, "*", f"arn:aws:sqs:*:{OWNER}:*", "arn:aws:sqs:us-east-1:111111111111:ord*", [QUEUE + "x", QUEUE]],
)
def test_resources_with_wildcards(resource: Any) -> None:
    assert allows(policy(allow(Principal="*", Resource=resource)), ALICE, "sqs:SendMessage", QUEUE)


@pytest.mark.parametrize("resource", [QUEUE + "-dlq", f"arn:aws:sqs:us-east-1:{OWNER}:Orders", "arn:aws:sqs:*:*:x"])
def test_resources_are_case_sensitive_and_exact(resource: str) -> None:
    assert not allows(policy(allow(Principal="*", Resource=resource)), ALICE, "sqs:SendMessage", QUEUE)


def test_not_resource() -> None:
    text = policy({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "NotResource": f"{QUEUE}-private"})
    assert allows(text, ALICE, "sqs:SendMessage", QUEUE)
    assert not allows(text, ALICE, "sqs:SendMessage", f"{QUEUE}-private")


# -- effects -----------------------------------------------------------------------------------------------------
def test_explicit_deny_wins_over_any_allow_in_any_order() -> None:
    for statements in ((allow(Principal="*"), deny(Principal={"AWS": OTHER})), (deny(Principal="*"), allow())):
        assert decide(policy(*statements), ALICE, "sqs:SendMessage", QUEUE) is Decision.DENY
        assert not allows(policy(*statements), ALICE, "sqs:SendMessage", QUEUE)


def test_a_deny_that_does_not_match_leaves_the_allow() -> None:
    text = policy(allow(Principal="*"), deny(Principal={"AWS": "333333333333"}))
    assert decide(text, ALICE, "sqs:SendMessage", QUEUE) is Decision.ALLOW
    assert decide(text, STRANGER, "sqs:SendMessage", QUEUE) is Decision.DENY


def test_unknown_effects_grant_nothing() -> None:
    assert not allows(policy(allow(Principal="*", Effect="allow")), ALICE, "sqs:SendMessage", QUEUE)


# -- conditions --------------------------------------------------------------------------------------------------
TOPIC = "arn:aws:sns:us-east-1:222222222222:events"


def granted(condition: dict[str, Any], context: dict[str, Any] | None = None) -> bool:
    return allows(policy(allow(Principal="*", Condition=condition)), ALICE, "sqs:SendMessage", QUEUE, context)


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"ArnEquals": {"aws:SourceArn": TOPIC}}, {"aws:SourceArn": TOPIC}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:222222222222:*"}}, {"aws:SourceArn": TOPIC}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:333333333333:*"}}, {"aws:SourceArn": TOPIC}, False),
        ({"ArnNotEquals": {"aws:SourceArn": TOPIC}}, {"aws:SourceArn": TOPIC}, False),
        ({"ArnLike": {"aws:SourceArn": "not-an-arn"}}, {"aws:SourceArn": TOPIC}, False),
        ({"StringEquals": {"aws:SourceAccount": OTHER}}, {"aws:SourceAccount": OTHER}, True),
        ({"StringEquals": {"AWS:SOURCEACCOUNT": OTHER}}, {"aws:SourceAccount": OTHER}, True),  # keys: any case
        ({"StringEquals": {"aws:SourceAccount": [OWNER, OTHER]}}, {"aws:SourceAccount": OTHER}, True),  # OR
        ({"StringEquals": {"aws:SourceAccount": OWNER}}, {"aws:SourceAccount": OTHER}, False),
        ({"StringEquals": {"aws:SourceAccount": OTHER}}, {}, False),  # a missing key never equals
        ({"StringNotEquals": {"aws:SourceAccount": OWNER}}, {}, True),  # ...and a negated test holds
        ({"StringNotEquals": {"aws:SourceAccount": [OWNER, OTHER]}}, {"aws:SourceAccount": OTHER}, False),  # NOR
        ({"StringEqualsIgnoreCase": {"aws:username": "ALICE"}}, {"aws:username": "alice"}, True),
        ({"StringNotEqualsIgnoreCase": {"aws:username": "ALICE"}}, {"aws:username": "alice"}, False),
        ({"StringLike": {"aws:username": "al*"}}, {"aws:username": "alice"}, True),
        ({"StringLike": {"aws:username": "al?ce"}}, {"aws:username": "alice"}, True),
        ({"StringNotLike": {"aws:username": "bo*"}}, {"aws:username": "alice"}, True),
        ({"StringEquals": {"aws:username": "al*"}}, {"aws:username": "alice"}, False),  # no wildcards in Equals
        ({"NumericLessThan": {"sqs:delay": "10"}}, {"sqs:delay": "5"}, True),
        ({"NumericLessThanEquals": {"sqs:delay": "5"}}, {"sqs:delay": "5"}, True),
        ({"NumericGreaterThan": {"sqs:delay": "5"}}, {"sqs:delay": "5"}, False),
        ({"NumericGreaterThanEquals": {"sqs:delay": 5}}, {"sqs:delay": "5.0"}, True),
        ({"NumericEquals": {"sqs:delay": "5"}}, {"sqs:delay": "five"}, False),
        ({"NumericNotEquals": {"sqs:delay": "5"}}, {"sqs:delay": "6"}, True),
        (
            {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
            {"aws:CurrentTime": "2026-12-07T00:00:00Z"},
            True,
        ),
        (
            {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
            {"aws:CurrentTime": "2026-12-07T00:00:00Z"},
            False,
        ),
        ({"DateEquals": {"aws:EpochTime": "2026-12-07T00:00:00Z"}}, {"aws:EpochTime": "1796601600"}, True),
        ({"DateLessThanEquals": {"aws:CurrentTime": "nonsense"}}, {"aws:CurrentTime": "2026-12-07T00:00:00Z"}, False),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "TRUE"}, True),
        ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "true"}, True),  # JSON booleans too
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, False),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, True),
        ({"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "2001:db8::/32"]}}, {"aws:SourceIp": "2001:db8::1"}, True),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.0.0.1"}, False),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.0.0.1"}, True),
        ({"IpAddress": {"aws:SourceIp": "garbage"}}, {"aws:SourceIp": "10.0.0.1"}, False),
        ({"Null": {"aws:SourceArn": "true"}}, {}, True),
        ({"Null": {"aws:SourceArn": "true"}}, {"aws:SourceArn": TOPIC}, False),
        ({"Null": {"aws:SourceArn": "false"}}, {"aws:SourceArn": TOPIC}, True),
        ({"StringEqualsIfExists": {"aws:SourceAccount": OWNER}}, {}, True),
        ({"StringEqualsIfExists": {"aws:SourceAccount": OWNER}}, {"aws:SourceAccount": OTHER}, False),
        ({"ArnLikeIfExists": {"aws:SourceArn": "arn:aws:sns:*:*:*"}}, {"aws:SourceArn": TOPIC}, True),
        ({"StringFrobnicate": {"aws:SourceAccount": OTHER}}, {"aws:SourceAccount": OTHER}, False),  # unknown
        ({"Somewhere:StringEquals": {"aws:SourceAccount": OTHER}}, {"aws:SourceAccount": OTHER}, False),
        # Several operators and several keys: all must hold.
        (
            {"StringEquals": {"aws:SourceAccount": OTHER}, "ArnLike": {"aws:SourceArn": "arn:aws:sns:*"}},
            {"aws:SourceAccount": OTHER, "aws:SourceArn": TOPIC},
            False,  # "arn:aws:sns:*" has fewer than six parts
        ),
        (
            {"StringEquals": {"aws:SourceAccount": OTHER, "aws:username": "alice"}},
            {"aws:SourceAccount": OTHER, "aws:username": "bob"},
            False,
        ),
        (
            {"StringEquals": {"aws:SourceAccount": OTHER}, "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}},
            {"aws:SourceAccount": OTHER, "aws:SourceArn": TOPIC},
            True,
        ),
    ],
)
def test_condition_operators(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert granted(condition, context) is expected


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["b", "c"]}, True),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["b", "c"]}, False),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {}, False),  # nothing to match
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a", "b"]}, True),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a", "c"]}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {}, True),  # holds vacuously
        ({"ForAllValues:StringLike": {"aws:TagKeys": ["team-*"]}}, {"aws:TagKeys": ["team-a", "team-b"]}, True),
        ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["a", "b"]}, True),
        ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["a", "b"]}, False),
        ({"StringEquals": {"aws:TagKeys": "a"}}, {"aws:TagKeys": "a"}, True),  # one string is one value
    ],
)
def test_set_operators_over_multivalued_keys(
    condition: dict[str, Any], context: dict[str, Any], expected: bool
) -> None:
    assert granted(condition, context) is expected


def test_a_condition_that_is_not_an_object_never_holds() -> None:
    assert not granted("StringEquals")  # type: ignore[arg-type]
    assert not granted({"StringEquals": ["aws:SourceAccount"]})


def test_a_conditional_deny_only_denies_when_it_holds() -> None:
    text = policy(
        allow(Principal={"AWS": OTHER}),
        deny(Principal="*", Condition={"StringNotEquals": {"aws:SourceAccount": OTHER}}),
    )
    assert allows(text, ALICE, "sqs:SendMessage", QUEUE, {"aws:SourceAccount": OTHER})
    assert decide(text, ALICE, "sqs:SendMessage", QUEUE, {"aws:SourceAccount": OWNER}) is Decision.DENY
    assert decide(text, ALICE, "sqs:SendMessage", QUEUE) is Decision.DENY  # absent key: the negated test holds


def test_generated_policies_of_sqs_sns_and_lambda() -> None:
    """The statements AddPermission writes in each service, as the broker stores them."""
    sqs = policy(
        {
            "Sid": "share",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{OTHER}:root"]},
            "Action": ["SQS:SendMessage", "SQS:ReceiveMessage"],
            "Resource": QUEUE,
        }
    )
    assert allows(sqs, ALICE, "sqs:ReceiveMessage", QUEUE)
    assert not allows(sqs, ALICE, "sqs:DeleteMessage", QUEUE)
    function = f"arn:aws:lambda:us-east-1:{OWNER}:function:fn"
    lam = policy(
        {
            "Sid": "x",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": "lambda:InvokeFunction",
            "Resource": function,
        }
    )
    assert allows(lam, ALICE, "lambda:InvokeFunction", function)
    assert not allows(lam, ALICE, "lambda:InvokeFunction", function + ":1")
    assert not allows(lam, STRANGER, "lambda:InvokeFunction", function)
    # SNS's default policy grants its actions only to the owner's account (AWS:SourceOwner).
    topic = f"arn:aws:sns:us-east-1:{OWNER}:t"
    sns = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:Publish", "SNS:Subscribe"],
            "Resource": topic,
            "Condition": {"StringEquals": {"AWS:SourceOwner": OWNER}},
        }
    )
    assert not allows(sns, ALICE, "sns:Publish", topic)
    assert allows(sns, ALICE, "SNS:Publish", topic, {"aws:SourceOwner": OWNER})


# -- a request's decision ----------------------------------------------------------------------------------------
def request(identity: Identity | None, authenticated: bool = True) -> RequestContext:
    """A verified request of `identity` (denial reads nothing else of the context)."""
    return RequestContext(
        env=None, account=OWNER, region="us-east-1", host="", authenticated=authenticated, identity=identity
    )  # type: ignore[arg-type]


def test_denial_of_a_request() -> None:
    owner = Identity(OWNER, "admin")
    open_to_b = policy(allow(Principal={"AWS": OTHER}), deny(Principal={"AWS": OWNER}, Action="sqs:PurgeQueue"))
    # auth = "none": nothing is checked.
    assert denial(request(None, authenticated=False), OWNER, None, "sqs:SendMessage", QUEUE) is None
    # The owner's account: allowed without a policy, refused by an explicit Deny only.
    assert denial(request(owner), OWNER, None, "sqs:SendMessage", QUEUE) is None
    assert denial(request(owner), OWNER, open_to_b, "sqs:SendMessage", QUEUE) is None
    deny_reason = "with an explicit deny in a resource-based policy"
    assert denial(request(owner), OWNER, open_to_b, "sqs:PurgeQueue", QUEUE) == deny_reason
    # Another account: only what the policy allows.
    no_grant = "because no resource-based policy allows the sqs:SendMessage action"
    assert denial(request(STRANGER), OWNER, None, "sqs:SendMessage", QUEUE) == no_grant
    assert denial(request(STRANGER), OWNER, open_to_b, "sqs:SendMessage", QUEUE) == no_grant
    assert denial(request(ALICE), OWNER, open_to_b, "sqs:SendMessage", QUEUE) is None


def test_the_request_context_keys_the_broker_provides() -> None:
    def only(condition: dict[str, Any]) -> str:
        return policy(allow(Principal="*", Condition=condition))

    assert (
        denial(request(ALICE), OWNER, only({"StringEquals": {"aws:PrincipalAccount": OTHER}}), "sqs:SendMessage", QUEUE)
        is None
    )
    assert denial(
        request(STRANGER), OWNER, only({"StringEquals": {"aws:PrincipalAccount": OTHER}}), "sqs:SendMessage", QUEUE
    )
    by_role = only({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER}:role/read*"}})
    assert denial(request(ROLE_SESSION), OWNER, by_role, "sqs:SendMessage", QUEUE) is None
    assert denial(request(ALICE), OWNER, by_role, "sqs:SendMessage", QUEUE)
    assert (
        denial(request(ALICE), OWNER, only({"StringEquals": {"aws:username": "alice"}}), "sqs:SendMessage", QUEUE)
        is None
    )
    until_2100 = only({"DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}})
    assert denial(request(ALICE), OWNER, until_2100, "sqs:SendMessage", QUEUE) is None
    since_2100 = only({"NumericGreaterThan": {"aws:EpochTime": "4102444800"}})
    assert denial(request(ALICE), OWNER, since_2100, "sqs:SendMessage", QUEUE)
