"""Access keys created through IAM sign requests in sigv4 mode, as their user in their account, and stop at once
when deactivated or deleted: on every worker (two here) and on every node sharing a PostgreSQL database."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.auth.helpers import ADMIN_ACCOUNT, OTHER_ACCOUNT, OTHER_KEY, OTHER_SECRET, signed, sigv4_server_kw

CALLER = b"Action=GetCallerIdentity&Version=2011-06-15"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _caller(url: str, key: dict) -> tuple[int, str]:
    """STS GetCallerIdentity on a new connection (so the requests of a loop reach both workers)."""
    r = signed(
        "POST",
        url + "/",
        service="sts",
        body=CALLER,
        headers=FORM,
        key=key["AccessKeyId"],
        secret=key["SecretAccessKey"],
    )
    return r.status_code, r.text


def _new_key(broker, user: str, **client_kw) -> dict:
    iam = broker.client("iam", **client_kw)
    iam.create_user(UserName=user, Path="/team/")
    return iam.create_access_key(UserName=user)["AccessKey"]


def test_an_iam_key_signs_as_its_user_until_it_is_revoked(signed_broker):
    iam = signed_broker.client("iam")
    key = _new_key(signed_broker, "alice")
    alice = signed_broker.client("sts", access_key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    me = alice.get_caller_identity()
    assert me["Account"] == ADMIN_ACCOUNT
    assert me["Arn"] == f"arn:aws:iam::{ADMIN_ACCOUNT}:user/team/alice"
    assert me["UserId"] == iam.get_user(UserName="alice")["User"]["UserId"]
    # Cached on both workers from here on.
    for _ in range(8):
        assert _caller(signed_broker.url, key)[0] == 200

    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    for _ in range(8):
        status, text = _caller(signed_broker.url, key)
        assert status == 403
        assert "<Code>InvalidClientTokenId</Code>" in text

    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Active")
    for _ in range(8):
        assert _caller(signed_broker.url, key)[0] == 200

    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    for _ in range(8):
        assert _caller(signed_broker.url, key)[0] == 403

    # The user is gone with its last key; a renamed user's key signs under the new name at once.
    second = iam.create_access_key(UserName="alice")["AccessKey"]
    assert _caller(signed_broker.url, second)[0] == 200
    iam.update_user(UserName="alice", NewUserName="alicia")
    for _ in range(4):
        status, text = _caller(signed_broker.url, second)
        assert status == 200
        assert f"arn:aws:iam::{ADMIN_ACCOUNT}:user/team/alicia" in text


def test_an_iam_key_acts_in_its_users_account(signed_broker):
    key = _new_key(signed_broker, "bob", access_key=OTHER_KEY, secret=OTHER_SECRET)
    bob = signed_broker.client("sqs", access_key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    url = bob.create_queue(QueueName="bobs")["QueueUrl"]
    assert f"/{OTHER_ACCOUNT}/bobs" in url
    assert signed_broker.client("sqs").list_queues().get("QueueUrls", []) == []
    with pytest.raises(ClientError) as e:
        signed_broker.client("sqs", access_key=key["AccessKeyId"], secret="not-it").list_queues()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


@pytest.mark.pg
def test_revocation_reaches_another_node_at_once(server_factory):
    first = server_factory("pg", workers=1, **sigv4_server_kw()).start()
    second = server_factory(db_url=first.db_url, workers=1, **sigv4_server_kw()).start()
    key = _new_key(first, "carol")
    for node in (first, second, first, second):
        assert _caller(node.url, key)[0] == 200
    first.client("iam").update_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert _caller(second.url, key)[0] == 403
    assert _caller(first.url, key)[0] == 403
    second.client("iam").delete_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"])
    assert _caller(first.url, key)[0] == 403
