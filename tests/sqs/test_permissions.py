"""AddPermission / RemovePermission over the JSON protocol (and once over the query protocol).

AWS behaviour is the contract. Sources: SQS API Reference AddPermission (Label: up to 80 alphanumeric characters,
hyphens and underscores; AWSAccountId.N / ActionName.N; "AddPermission generates a policy for you"), RemovePermission
("Revokes any permissions in the queue policy that matches the specified Label"), SetQueueAttributes (Policy), and
the policy AWS generates: {"Version": "2012-10-17", "Id": "<queue arn>/SQSDefaultPolicy", "Statement": [{"Sid":
<Label>, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::<account>:root"}, "Action": "SQS:<action>",
"Resource": <queue arn>}]}. A duplicate label or an unknown label is InvalidParameterValue.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.sqs.clients import client as _client
from tests.sqs.query_client import ACCOUNT, QueryClient, attributes


@pytest.fixture
def sqs(broker):
    return _client(broker)


def _arn(name: str) -> str:
    return f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


def _policy(sqs, url: str) -> dict | None:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    return json.loads(attrs["Policy"]) if "Policy" in attrs else None


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _statement(policy: dict, sid: str) -> dict:
    (st,) = [s for s in policy["Statement"] if s["Sid"] == sid]
    return st


def _code(fn, **kw) -> str:
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, ei.value.response
    return ei.value.response["Error"]["Code"]


def test_add_permission_builds_the_policy(sqs):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    assert _policy(sqs, url) is None
    sqs.add_permission(QueueUrl=url, Label="AliceSend", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    policy = _policy(sqs, url)
    assert policy["Version"] == "2008-10-17"  # AWS writes the policy language's older version here
    assert policy["Id"] == f"{_arn('shared')}/SQSDefaultPolicy"
    st = _statement(policy, "AliceSend")
    assert st["Effect"] == "Allow"
    assert _as_list(st["Principal"]["AWS"]) == ["arn:aws:iam::111111111111:root"]
    assert _as_list(st["Action"]) == ["SQS:SendMessage"]
    assert st["Resource"] == _arn("shared")
    assert len(policy["Statement"]) == 1
    # The Policy is also part of "All".
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert json.loads(got["Policy"]) == policy


def test_several_accounts_actions_and_labels(sqs):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    sqs.add_permission(
        QueueUrl=url,
        Label="team-a_1",
        AWSAccountIds=["111111111111", "222222222222"],
        Actions=["ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility"],
    )
    sqs.add_permission(QueueUrl=url, Label="everything", AWSAccountIds=["333333333333"], Actions=["*"])
    sqs.add_permission(
        QueueUrl=url, Label="attrs", AWSAccountIds=["111111111111"], Actions=["GetQueueAttributes", "GetQueueUrl"]
    )
    policy = _policy(sqs, url)
    assert [s["Sid"] for s in policy["Statement"]] == ["team-a_1", "everything", "attrs"]
    a = _statement(policy, "team-a_1")
    assert sorted(_as_list(a["Principal"]["AWS"])) == [
        "arn:aws:iam::111111111111:root",
        "arn:aws:iam::222222222222:root",
    ]
    assert sorted(_as_list(a["Action"])) == sorted(
        ["SQS:ReceiveMessage", "SQS:DeleteMessage", "SQS:ChangeMessageVisibility"]
    )
    assert _as_list(_statement(policy, "everything")["Action"]) == ["SQS:*"]
    assert sorted(_as_list(_statement(policy, "attrs")["Action"])) == ["SQS:GetQueueAttributes", "SQS:GetQueueUrl"]
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow" and st["Resource"] == _arn("shared")

    sqs.remove_permission(QueueUrl=url, Label="everything")
    policy = _policy(sqs, url)
    assert [s["Sid"] for s in policy["Statement"]] == ["team-a_1", "attrs"]
    assert policy["Id"] == f"{_arn('shared')}/SQSDefaultPolicy"


def test_duplicate_label_is_rejected(sqs):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    before = _policy(sqs, url)
    code = _code(
        sqs.add_permission, QueueUrl=url, Label="dup", AWSAccountIds=["222222222222"], Actions=["ReceiveMessage"]
    )
    assert code == "InvalidParameterValue"
    assert _policy(sqs, url) == before


def test_remove_unknown_label_is_rejected(sqs):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    # No policy at all.
    assert _code(sqs.remove_permission, QueueUrl=url, Label="nope") == "InvalidParameterValue"
    assert _policy(sqs, url) is None
    sqs.add_permission(QueueUrl=url, Label="there", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    assert _code(sqs.remove_permission, QueueUrl=url, Label="nope") == "InvalidParameterValue"
    # Labels are case-sensitive.
    assert _code(sqs.remove_permission, QueueUrl=url, Label="THERE") == "InvalidParameterValue"
    assert [s["Sid"] for s in _policy(sqs, url)["Statement"]] == ["there"]


def test_removing_the_last_statement_removes_the_policy(sqs):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    sqs.add_permission(QueueUrl=url, Label="a", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    sqs.add_permission(QueueUrl=url, Label="b", AWSAccountIds=["111111111111"], Actions=["ReceiveMessage"])
    sqs.remove_permission(QueueUrl=url, Label="a")
    assert [s["Sid"] for s in _policy(sqs, url)["Statement"]] == ["b"]
    sqs.remove_permission(QueueUrl=url, Label="b")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # Removing it again: the label is gone.
    assert _code(sqs.remove_permission, QueueUrl=url, Label="b") == "InvalidParameterValue"
    # And the label can be used again.
    sqs.add_permission(QueueUrl=url, Label="a", AWSAccountIds=["222222222222"], Actions=["SendMessage"])
    assert _as_list(_statement(_policy(sqs, url), "a")["Principal"]["AWS"]) == ["arn:aws:iam::222222222222:root"]


def test_policy_set_directly_is_returned_unchanged(sqs):
    url = sqs.create_queue(QueueName="custom")["QueueUrl"]
    text = (
        '{ "Version" : "2012-10-17",  "Id": "custom-id",\n  "Statement": [ {"Sid": "Mine", "Effect": "Deny", '
        '"Principal": "*", "Action": "sqs:SendMessage", "Resource": "' + _arn("custom") + '", '
        '"Condition": {"Bool": {"aws:SecureTransport": "false"}}} ] }'
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": text})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"] == {"Policy": text}
    # AddPermission adds to the queue's policy; what was there stays.
    sqs.add_permission(QueueUrl=url, Label="Extra", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    policy = _policy(sqs, url)
    assert [s["Sid"] for s in policy["Statement"]] == ["Mine", "Extra"]
    assert _statement(policy, "Mine") == json.loads(text)["Statement"][0]
    sqs.remove_permission(QueueUrl=url, Label="Extra")
    assert [s["Sid"] for s in _policy(sqs, url)["Statement"]] == ["Mine"]
    # An empty Policy removes it.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert _policy(sqs, url) is None


def test_created_with_a_policy(sqs):
    text = json.dumps({"Version": "2012-10-17", "Statement": []})
    url = sqs.create_queue(QueueName="with-policy", Attributes={"Policy": text})["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"] == text


@pytest.mark.parametrize("label", ["has space", "semi;colon", "x" * 81, "dot.ted", "slash/ed"])
def test_invalid_labels(sqs, label):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    code = _code(sqs.add_permission, QueueUrl=url, Label=label, AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    assert code == "InvalidParameterValue"
    assert _policy(sqs, url) is None


def test_longest_label(sqs):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    label = "A-_9" * 20
    sqs.add_permission(QueueUrl=url, Label=label, AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    assert [s["Sid"] for s in _policy(sqs, url)["Statement"]] == [label]


def test_permissions_on_a_missing_queue(sqs):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"] + "-missing"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.add_permission(QueueUrl=url, Label="a", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.remove_permission(QueueUrl=url, Label="a")


def test_permissions_over_query(broker):
    q = QueryClient(broker.url)
    url = q.create_queue("shared")
    q.call(
        "AddPermission",
        [
            ("QueueUrl", url),
            ("Label", "MyLabel"),
            ("AWSAccountId.1", "111111111111"),
            ("AWSAccountId.2", "222222222222"),
            ("ActionName.1", "SendMessage"),
            ("ActionName.2", "ReceiveMessage"),
        ],
    ).empty_result("AddPermission")
    q.call(
        "AddPermission",
        [("QueueUrl", url), ("Label", "Other"), ("AWSAccountId.1", "333333333333"), ("ActionName.1", "*")],
    ).empty_result("AddPermission")
    res = q.call("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "Policy"}).result("GetQueueAttributes")
    policy = json.loads(attributes(res)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["MyLabel", "Other"]
    st = _statement(policy, "MyLabel")
    assert sorted(_as_list(st["Principal"]["AWS"])) == [
        "arn:aws:iam::111111111111:root",
        "arn:aws:iam::222222222222:root",
    ]
    assert sorted(_as_list(st["Action"])) == ["SQS:ReceiveMessage", "SQS:SendMessage"]
    assert st["Resource"] == _arn("shared")

    _kind, code, _ = q.call(
        "AddPermission",
        [("QueueUrl", url), ("Label", "MyLabel"), ("AWSAccountId.1", "111111111111"), ("ActionName.1", "SendMessage")],
    ).error()
    assert code == "InvalidParameterValue"

    q.call("RemovePermission", {"QueueUrl": url, "Label": "MyLabel"}).empty_result("RemovePermission")
    _kind, code, _ = q.call("RemovePermission", {"QueueUrl": url, "Label": "MyLabel"}).error()
    assert code == "InvalidParameterValue"
    q.call("RemovePermission", {"QueueUrl": url, "Label": "Other"}).empty_result("RemovePermission")
    res = q.call("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "Policy"}).result("GetQueueAttributes")
    assert attributes(res) == {}
