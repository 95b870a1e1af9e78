"""SQS standard queues over the JSON protocol: queue lifecycle, attributes, purge, tags, accounts and regions.

AWS behaviour is the contract (SQS API Reference: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue,
GetQueueAttributes, SetQueueAttributes, PurgeQueue, TagQueue, UntagQueue, ListQueueTags).
"""

from __future__ import annotations

import json

import pytest

from tests.sqs.clients import client as _client
from tests.sqs.clients import error_400 as _err
from tests.sqs.clients import outcome as _outcome

DEFAULT_ACCOUNT = "000000000000"


@pytest.fixture
def sqs(broker):
    return _client(broker)


# The attributes GetQueueAttributes(All) returns for a fresh standard queue, with their defaults
# (API Reference, SetQueueAttributes: DelaySeconds 0, MaximumMessageSize 1,048,576, MessageRetentionPeriod
# 345,600, ReceiveMessageWaitTimeSeconds 0, VisibilityTimeout 30; SSE-SQS is on by default for new queues).
DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
    "ApproximateNumberOfMessages": "0",
    "ApproximateNumberOfMessagesNotVisible": "0",
    "ApproximateNumberOfMessagesDelayed": "0",
}
COMPUTED = {"QueueArn", "CreatedTimestamp", "LastModifiedTimestamp"}

# (attribute, lowest valid, highest valid)
RANGES = [
    ("DelaySeconds", 0, 900),
    ("MaximumMessageSize", 1024, 1048576),
    ("MessageRetentionPeriod", 60, 1209600),
    ("ReceiveMessageWaitTimeSeconds", 0, 20),
    ("VisibilityTimeout", 0, 43200),
]


def _now_ms(broker) -> int:
    return broker.admin("GET", "/_broker/clock")["now_ms"]


def _attrs(sqs, url: str, *names: str) -> dict:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"]).get("Attributes", {})


def _counts(sqs, url: str) -> tuple[int, int, int]:
    a = _attrs(
        sqs,
        url,
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    )
    return (
        int(a["ApproximateNumberOfMessages"]),
        int(a["ApproximateNumberOfMessagesNotVisible"]),
        int(a["ApproximateNumberOfMessagesDelayed"]),
    )


def _urls(sqs, **kw) -> list[str]:
    return sqs.list_queues(**kw).get("QueueUrls", [])


# -- CreateQueue ---------------------------------------------------------------------------------------------
def test_create_queue_returns_url_with_account_and_name(sqs):
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    assert url.endswith(f"/{DEFAULT_ACCOUNT}/orders")
    assert sqs.get_queue_url(QueueName="orders")["QueueUrl"] == url


def test_create_queue_is_idempotent_without_attributes(sqs):
    first = sqs.create_queue(QueueName="idem")["QueueUrl"]
    sqs.send_message(QueueUrl=first, MessageBody="kept")
    second = sqs.create_queue(QueueName="idem")["QueueUrl"]
    assert second == first
    assert _urls(sqs).count(first) == 1
    # The same queue, not a new one: the message is still there.
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=first)["Messages"]] == ["kept"]


def test_create_queue_is_idempotent_with_identical_attributes(sqs):
    attrs = {"VisibilityTimeout": "45", "DelaySeconds": "3"}
    first = sqs.create_queue(QueueName="same-attrs", Attributes=attrs)["QueueUrl"]
    assert sqs.create_queue(QueueName="same-attrs", Attributes=attrs)["QueueUrl"] == first
    got = _attrs(sqs, first)
    assert got["VisibilityTimeout"] == "45" and got["DelaySeconds"] == "3"


def test_create_existing_queue_without_attributes_ignores_its_non_default_settings(sqs):
    # QueueNameExists: "returns this error only if the request includes attributes whose values differ".
    first = sqs.create_queue(QueueName="custom", Attributes={"VisibilityTimeout": "99"})["QueueUrl"]
    assert sqs.create_queue(QueueName="custom")["QueueUrl"] == first
    assert _attrs(sqs, first, "VisibilityTimeout")["VisibilityTimeout"] == "99"


def test_create_existing_queue_with_attributes_equal_to_its_defaults(sqs):
    # The existing queue has VisibilityTimeout 30 and DelaySeconds 0 (defaults): these values do not differ.
    first = sqs.create_queue(QueueName="defaults")["QueueUrl"]
    again = sqs.create_queue(QueueName="defaults", Attributes={"VisibilityTimeout": "30", "DelaySeconds": "0"})
    assert again["QueueUrl"] == first


def test_create_existing_queue_with_different_attribute_is_queue_already_exists(sqs):
    url = sqs.create_queue(QueueName="clash", Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    with pytest.raises(sqs.exceptions.QueueNameExists) as ei:
        sqs.create_queue(QueueName="clash", Attributes={"VisibilityTimeout": "46"})
    assert ei.value.response["Error"]["Code"] == "QueueAlreadyExists"
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # The existing queue is unchanged.
    assert _attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "45"


def test_create_queue_with_attributes_applies_them(sqs):
    attrs = {
        "DelaySeconds": "5",
        "MaximumMessageSize": "2048",
        "MessageRetentionPeriod": "120",
        "ReceiveMessageWaitTimeSeconds": "2",
        "VisibilityTimeout": "7",
    }
    url = sqs.create_queue(QueueName="configured", Attributes=attrs)["QueueUrl"]
    got = _attrs(sqs, url)
    for k, v in attrs.items():
        assert got[k] == v, k


def test_valid_queue_names(sqs):
    names = ["a", "Z", "0", "with-hyphen", "with_underscore", "MiXeD-123_x", "n" * 80]
    urls = {n: sqs.create_queue(QueueName=n)["QueueUrl"] for n in names}
    for name, url in urls.items():
        assert url.endswith(f"/{DEFAULT_ACCOUNT}/{name}")
        assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sorted(_urls(sqs)) == sorted(urls.values())


def test_invalid_queue_names_are_invalid_parameter_value(sqs):
    wrong = []
    for name in ["n" * 81, "has space", "dot.name", "bang!", "slash/name", "ünïcode", "a:b", "tab\tname"]:
        got = _outcome(sqs.create_queue, QueueName=name)
        if got != (400, "InvalidParameterValue"):
            wrong.append((name, got))
    assert wrong == []
    assert _urls(sqs) == []


def test_queue_names_are_case_sensitive(sqs):
    lower = sqs.create_queue(QueueName="case")["QueueUrl"]
    upper = sqs.create_queue(QueueName="CASE")["QueueUrl"]
    assert lower != upper
    sqs.send_message(QueueUrl=upper, MessageBody="upper")
    assert "Messages" not in sqs.receive_message(QueueUrl=lower)
    assert sqs.receive_message(QueueUrl=upper)["Messages"][0]["Body"] == "upper"


def test_create_after_delete_is_queue_deleted_recently_until_60_seconds_pass(broker, sqs):
    url = sqs.create_queue(QueueName="phoenix")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old life")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDeletedRecently) as ei:
        sqs.create_queue(QueueName="phoenix")
    assert ei.value.response["Error"]["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    broker.advance(30)
    assert _err(sqs.create_queue, QueueName="phoenix")["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    broker.advance(31)
    again = sqs.create_queue(QueueName="phoenix")["QueueUrl"]
    assert again == url
    # A new queue: nothing of the deleted one survives.
    assert "Messages" not in sqs.receive_message(QueueUrl=again)
    assert _counts(sqs, again) == (0, 0, 0)


def test_deleted_recently_is_per_name(sqs):
    sqs.delete_queue(QueueUrl=sqs.create_queue(QueueName="gone")["QueueUrl"])
    assert sqs.create_queue(QueueName="gone2")["QueueUrl"].endswith("/gone2")


# -- GetQueueUrl ---------------------------------------------------------------------------------------------
def test_get_queue_url_of_other_account_with_owner_id(broker, sqs):
    owner = _client(broker, access_key="111122223333")
    url = owner.create_queue(QueueName="shared")["QueueUrl"]
    assert url.endswith("/111122223333/shared")
    got = sqs.get_queue_url(QueueName="shared", QueueOwnerAWSAccountId="111122223333")["QueueUrl"]
    assert got == url
    # Without the owner id the caller's own account is searched, where no such queue exists.
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="shared")


def test_get_queue_url_with_own_account_id(sqs):
    url = sqs.create_queue(QueueName="mine")["QueueUrl"]
    assert sqs.get_queue_url(QueueName="mine", QueueOwnerAWSAccountId=DEFAULT_ACCOUNT)["QueueUrl"] == url


def test_get_queue_url_unknown_owner_is_non_existent_queue(sqs):
    sqs.create_queue(QueueName="mine")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as ei:
        sqs.get_queue_url(QueueName="mine", QueueOwnerAWSAccountId="999999999999")
    assert ei.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


# -- ListQueues ----------------------------------------------------------------------------------------------
def test_list_queues_empty(sqs):
    resp = sqs.list_queues()
    assert resp.get("QueueUrls", []) == []
    assert "NextToken" not in resp


def test_list_queues_all_and_by_prefix(sqs):
    names = ["alpha-1", "alpha-2", "alphabet", "beta-1", "Alpha-upper", "al_pha"]
    urls = {n: sqs.create_queue(QueueName=n)["QueueUrl"] for n in names}
    assert sorted(_urls(sqs)) == sorted(urls.values())
    assert sorted(_urls(sqs, QueueNamePrefix="alpha")) == sorted(urls[n] for n in ["alpha-1", "alpha-2", "alphabet"])
    assert sorted(_urls(sqs, QueueNamePrefix="alpha-")) == sorted([urls["alpha-1"], urls["alpha-2"]])
    # Prefixes are case-sensitive, and "_" is a literal character, not a wildcard.
    assert _urls(sqs, QueueNamePrefix="Alpha") == [urls["Alpha-upper"]]
    assert _urls(sqs, QueueNamePrefix="al_") == [urls["al_pha"]]
    assert _urls(sqs, QueueNamePrefix="beta-1") == [urls["beta-1"]]
    assert _urls(sqs, QueueNamePrefix="gamma") == []


def test_list_queues_without_max_results_has_no_next_token(sqs):
    for i in range(5):
        sqs.create_queue(QueueName=f"q{i}")
    resp = sqs.list_queues()
    assert len(resp["QueueUrls"]) == 5
    assert "NextToken" not in resp


def test_list_queues_pagination_with_max_results(sqs):
    created = {sqs.create_queue(QueueName=f"page-{i:02d}")["QueueUrl"] for i in range(7)}
    sqs.create_queue(QueueName="other")
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kw = {"QueueNamePrefix": "page-", "MaxResults": 3}
        if token:
            kw["NextToken"] = token
        resp = sqs.list_queues(**kw)
        page = resp.get("QueueUrls", [])
        assert len(page) <= 3
        seen.extend(page)
        pages += 1
        token = resp.get("NextToken")
        if not token:
            break
        assert pages < 10, "pagination does not end"
    assert pages >= 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == created
    first = sqs.list_queues(QueueNamePrefix="page-", MaxResults=3)
    assert len(first["QueueUrls"]) == 3 and first["NextToken"]


def test_list_queues_paginator(sqs):
    created = {sqs.create_queue(QueueName=f"pg{i}")["QueueUrl"] for i in range(5)}
    pages = list(sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 2}))
    urls = [u for p in pages for u in p.get("QueueUrls", [])]
    assert len(pages) >= 3
    assert sorted(urls) == sorted(created)


def test_list_queues_max_results_larger_than_count(sqs):
    created = {sqs.create_queue(QueueName=f"few{i}")["QueueUrl"] for i in range(2)}
    resp = sqs.list_queues(MaxResults=1000)
    assert set(resp["QueueUrls"]) == created
    assert "NextToken" not in resp


# -- DeleteQueue ---------------------------------------------------------------------------------------------
def test_delete_queue(sqs):
    keep = sqs.create_queue(QueueName="keep")["QueueUrl"]
    url = sqs.create_queue(QueueName="doomed")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="bye")
    sqs.delete_queue(QueueUrl=url)
    assert _urls(sqs) == [keep]
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="doomed")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="late")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=url)


# -- GetQueueAttributes --------------------------------------------------------------------------------------
def test_get_all_attributes_of_new_queue(broker, sqs):
    before = _now_ms(broker) // 1000
    url = sqs.create_queue(QueueName="fresh")["QueueUrl"]
    after = _now_ms(broker) // 1000
    got = _attrs(sqs, url)
    assert set(got) == set(DEFAULTS) | COMPUTED
    for k, v in DEFAULTS.items():
        assert got[k] == v, k
    assert got["QueueArn"] == f"arn:aws:sqs:us-east-1:{DEFAULT_ACCOUNT}:fresh"
    assert before <= int(got["CreatedTimestamp"]) <= after
    assert got["LastModifiedTimestamp"] == got["CreatedTimestamp"]


def test_get_each_attribute_alone(sqs):
    url = sqs.create_queue(QueueName="single")["QueueUrl"]
    for name in sorted(set(DEFAULTS) | COMPUTED):
        got = _attrs(sqs, url, name)
        assert set(got) == {name}
        if name in DEFAULTS:
            assert got[name] == DEFAULTS[name], name


def test_get_attributes_subset_and_all_mixed(sqs):
    url = sqs.create_queue(QueueName="subset")["QueueUrl"]
    assert set(_attrs(sqs, url, "VisibilityTimeout", "QueueArn")) == {"VisibilityTimeout", "QueueArn"}
    assert set(_attrs(sqs, url, "All", "VisibilityTimeout")) == set(DEFAULTS) | COMPUTED


def test_get_attributes_without_names_returns_none(sqs):
    url = sqs.create_queue(QueueName="nothing")["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes", {}) == {}


def test_get_unknown_attribute_is_invalid_attribute_name(sqs):
    url = sqs.create_queue(QueueName="unknown-attr")["QueueUrl"]
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as ei:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "Foo"])
    assert ei.value.response["Error"]["Code"] == "InvalidAttributeName"
    wrong = []
    for bad in ["visibilitytimeout", "ApproximateNumberOfMessage", "", "All "]:
        got = _outcome(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=[bad])
        if got != (400, "InvalidAttributeName"):
            wrong.append((bad, got))
    assert wrong == []


def test_queue_arn_has_region_and_account(broker):
    c = _client(broker, region="eu-west-2", access_key="123456789012")
    url = c.create_queue(QueueName="arn-check")["QueueUrl"]
    assert _attrs(c, url, "QueueArn")["QueueArn"] == "arn:aws:sqs:eu-west-2:123456789012:arn-check"


def test_approximate_counts_visible_in_flight_and_delayed(broker, sqs):
    url = sqs.create_queue(QueueName="counts")["QueueUrl"]
    assert _counts(sqs, url) == (0, 0, 0)
    sqs.send_message(QueueUrl=url, MessageBody="in-flight")
    assert _counts(sqs, url) == (1, 0, 0)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "in-flight"
    sqs.send_message(QueueUrl=url, MessageBody="visible")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=120)
    assert _counts(sqs, url) == (1, 1, 1)
    broker.advance(31)  # the default visibility timeout (30 s) has run out
    assert _counts(sqs, url) == (2, 0, 1)
    broker.advance(90)  # the delay (120 s) has run out
    assert _counts(sqs, url) == (3, 0, 0)


def test_approximate_counts_follow_deletes(sqs):
    url = sqs.create_queue(QueueName="count-del")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    got = _counts(sqs, url)
    assert got == (3 - len(msgs), len(msgs), 0)
    for m in msgs:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert _counts(sqs, url) == (3 - len(msgs), 0, 0)


def test_queue_delay_counts_as_delayed(sqs):
    url = sqs.create_queue(QueueName="delayq", Attributes={"DelaySeconds": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later")
    assert _counts(sqs, url) == (0, 0, 1)


@pytest.mark.parametrize(("name", "lo", "hi"), RANGES)
def test_set_each_attribute_at_its_bounds(sqs, name, lo, hi):
    url = sqs.create_queue(QueueName="bounds")["QueueUrl"]
    for value in (str(lo), str(hi)):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
        assert _attrs(sqs, url, name) == {name: value}


@pytest.mark.parametrize(("name", "lo", "hi"), RANGES)
def test_create_with_each_attribute_at_its_bounds(sqs, name, lo, hi):
    a = sqs.create_queue(QueueName="lo", Attributes={name: str(lo)})["QueueUrl"]
    b = sqs.create_queue(QueueName="hi", Attributes={name: str(hi)})["QueueUrl"]
    assert _attrs(sqs, a, name)[name] == str(lo)
    assert _attrs(sqs, b, name)[name] == str(hi)


@pytest.mark.parametrize(("name", "lo", "hi"), RANGES)
def test_set_attribute_out_of_range_is_invalid_attribute_value(sqs, name, lo, hi):
    url = sqs.create_queue(QueueName="range")["QueueUrl"]
    with pytest.raises(sqs.exceptions.InvalidAttributeValue) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: str(hi + 1)})
    assert ei.value.response["Error"]["Code"] == "InvalidAttributeValue"
    wrong = []
    for value in [str(lo - 1), str(hi + 1000), "abc", "1.5", "", "0x10"]:
        got = _outcome(sqs.set_queue_attributes, QueueUrl=url, Attributes={name: value})
        if got != (400, "InvalidAttributeValue"):
            wrong.append((value, got))
    assert wrong == []
    assert _attrs(sqs, url, name)[name] == DEFAULTS[name]


@pytest.mark.parametrize(("name", "lo", "hi"), RANGES)
def test_create_with_attribute_out_of_range_is_invalid_attribute_value(sqs, name, lo, hi):
    wrong = []
    for value in [str(lo - 1), str(hi + 1), "abc"]:
        got = _outcome(sqs.create_queue, QueueName="bad-range", Attributes={name: value})
        if got != (400, "InvalidAttributeValue"):
            wrong.append((value, got))
    assert wrong == []
    assert _urls(sqs) == []


def test_set_unknown_attribute_is_invalid_attribute_name(sqs):
    url = sqs.create_queue(QueueName="set-unknown")["QueueUrl"]
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"NotAnAttribute": "1"})
    err = _err(sqs.create_queue, QueueName="create-unknown", Attributes={"NotAnAttribute": "1"})
    assert err["Code"] == "InvalidAttributeName"
    assert _urls(sqs) == [url]


def test_set_attributes_is_all_or_nothing(sqs):
    url = sqs.create_queue(QueueName="atomic")["QueueUrl"]
    _err(sqs.set_queue_attributes, QueueUrl=url, Attributes={"VisibilityTimeout": "45", "DelaySeconds": "901"})
    got = _attrs(sqs, url)
    assert got["VisibilityTimeout"] == "30" and got["DelaySeconds"] == "0"


def test_set_several_attributes_and_last_modified(broker, sqs):
    url = sqs.create_queue(QueueName="modified")["QueueUrl"]
    created = int(_attrs(sqs, url, "CreatedTimestamp")["CreatedTimestamp"])
    broker.advance(100)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "60", "MessageRetentionPeriod": "600"})
    got = _attrs(sqs, url)
    assert got["VisibilityTimeout"] == "60" and got["MessageRetentionPeriod"] == "600"
    assert int(got["CreatedTimestamp"]) == created
    assert 99 <= int(got["LastModifiedTimestamp"]) - created <= 102


def test_set_queue_visibility_timeout_is_used_by_receive(broker, sqs):
    url = sqs.create_queue(QueueName="vt-attr")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"})
    sqs.send_message(QueueUrl=url, MessageBody="m")
    assert sqs.receive_message(QueueUrl=url)["Messages"]
    broker.advance(4)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    broker.advance(2)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "m"


def test_policy_attribute(sqs):
    url = sqs.create_queue(QueueName="policy")["QueueUrl"]
    arn = _attrs(sqs, url, "QueueArn")["QueueArn"]
    assert "Policy" not in _attrs(sqs, url)
    policy = {
        "Version": "2012-10-17",
        "Id": "p1",
        "Statement": [
            {
                "Sid": "s1",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    assert json.loads(_attrs(sqs, url, "Policy")["Policy"]) == policy
    assert json.loads(_attrs(sqs, url)["Policy"]) == policy


def test_policy_that_is_not_json_is_invalid_attribute_value(sqs):
    url = sqs.create_queue(QueueName="bad-policy")["QueueUrl"]
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": "{not json"})
    assert "Policy" not in _attrs(sqs, url)


# -- server-side encryption ----------------------------------------------------------------------------------
def test_sse_sqs_is_on_by_default_and_can_be_turned_off(sqs):
    url = sqs.create_queue(QueueName="sse")["QueueUrl"]
    assert _attrs(sqs, url, "SqsManagedSseEnabled") == {"SqsManagedSseEnabled": "true"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "false"})
    got = _attrs(sqs, url)
    assert got["SqsManagedSseEnabled"] == "false"
    assert "KmsMasterKeyId" not in got
    off = sqs.create_queue(QueueName="sse-off", Attributes={"SqsManagedSseEnabled": "false"})["QueueUrl"]
    assert _attrs(sqs, off, "SqsManagedSseEnabled") == {"SqsManagedSseEnabled": "false"}


def test_sse_kms_attributes(sqs):
    url = sqs.create_queue(QueueName="kms", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]
    got = _attrs(sqs, url)
    assert got["KmsMasterKeyId"] == "alias/aws/sqs"
    assert got["KmsDataKeyReusePeriodSeconds"] == "300"  # the documented default
    assert got["SqsManagedSseEnabled"] == "false"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsDataKeyReusePeriodSeconds": "86400"})
    assert _attrs(sqs, url, "KmsDataKeyReusePeriodSeconds") == {"KmsDataKeyReusePeriodSeconds": "86400"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsDataKeyReusePeriodSeconds": "60"})
    assert _attrs(sqs, url, "KmsDataKeyReusePeriodSeconds") == {"KmsDataKeyReusePeriodSeconds": "60"}


@pytest.mark.parametrize("value", ["59", "86401", "x"])
def test_kms_data_key_reuse_period_out_of_range(sqs, value):
    url = sqs.create_queue(QueueName="kms-range", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsDataKeyReusePeriodSeconds": value})


def test_sse_kms_and_sse_sqs_together_are_refused(sqs):
    err = _err(
        sqs.create_queue,
        QueueName="both-sse",
        Attributes={"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "true"},
    )
    assert "one type of server-side encryption" in err["Message"]
    assert _urls(sqs) == []


# -- PurgeQueue ----------------------------------------------------------------------------------------------
def test_purge_removes_visible_in_flight_and_delayed_messages(sqs):
    url = sqs.create_queue(QueueName="purge")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"v{i}")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=60)
    assert sqs.receive_message(QueueUrl=url)["Messages"]
    assert sum(_counts(sqs, url)) == 4
    sqs.purge_queue(QueueUrl=url)
    assert _counts(sqs, url) == (0, 0, 0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)


def test_purge_twice_within_60_seconds_is_purge_queue_in_progress(broker, sqs):
    url = sqs.create_queue(QueueName="purge-twice")["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as ei:
        sqs.purge_queue(QueueUrl=url)
    assert ei.value.response["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    broker.advance(59)
    assert _err(sqs.purge_queue, QueueUrl=url)["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    broker.advance(2)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert _counts(sqs, url) == (0, 0, 0)


def _fill(sqs, url: str, count: int) -> None:
    for i in range(0, count, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(k), "MessageBody": f"m{i + k}"} for k in range(10)])


def test_purge_of_a_large_queue_finishes_in_the_sweep_and_spares_later_messages(broker, sqs):
    # Beyond one chunk (5,000 rows) a purge finishes in the background, as AWS allows itself up to 60 s to.
    url = sqs.create_queue(QueueName="purge-large")["QueueUrl"]
    _fill(sqs, url, 5600)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)  # in flight messages go too
    sqs.purge_queue(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="sent after the purge")  # possibly within the same millisecond
    broker.run_job("sqs.sweep")  # (the scheduled sweep may have finished it already)
    assert _counts(sqs, url) == (1, 0, 0)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["sent after the purge"]


def test_purge_limit_is_per_queue(sqs):
    a = sqs.create_queue(QueueName="purge-a")["QueueUrl"]
    b = sqs.create_queue(QueueName="purge-b")["QueueUrl"]
    sqs.purge_queue(QueueUrl=a)
    sqs.purge_queue(QueueUrl=b)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=a)


def test_purge_leaves_other_queues_alone(sqs):
    a = sqs.create_queue(QueueName="purged")["QueueUrl"]
    b = sqs.create_queue(QueueName="untouched")["QueueUrl"]
    sqs.send_message(QueueUrl=a, MessageBody="a")
    sqs.send_message(QueueUrl=b, MessageBody="b")
    sqs.purge_queue(QueueUrl=a)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=b)["Messages"]] == ["b"]


# -- tags ----------------------------------------------------------------------------------------------------
def test_tags_on_create_and_tag_untag_list(sqs):
    url = sqs.create_queue(QueueName="tagged", tags={"env": "test", "team": "a"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test", "team": "a"}
    sqs.tag_queue(QueueUrl=url, Tags={"team": "b", "cost-center": "42"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test", "team": "b", "cost-center": "42"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["env", "not-there"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "cost-center": "42"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "cost-center"])
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def test_untagged_queue_lists_no_tags(sqs):
    url = sqs.create_queue(QueueName="plain")["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def test_tags_are_per_queue_and_allow_unicode_and_empty_values(sqs):
    a = sqs.create_queue(QueueName="tag-a")["QueueUrl"]
    b = sqs.create_queue(QueueName="tag-b")["QueueUrl"]
    sqs.tag_queue(QueueUrl=a, Tags={"owner": "zoë", "empty": ""})
    assert sqs.list_queue_tags(QueueUrl=a)["Tags"] == {"owner": "zoë", "empty": ""}
    assert sqs.list_queue_tags(QueueUrl=b).get("Tags", {}) == {}


def test_tags_do_not_change_attributes(sqs):
    url = sqs.create_queue(QueueName="tags-vs-attrs", tags={"k": "v"})["QueueUrl"]
    assert set(_attrs(sqs, url)) == set(DEFAULTS) | COMPUTED


# -- accounts and regions ------------------------------------------------------------------------------------
def test_twelve_digit_access_key_is_the_account(broker):
    c = _client(broker, access_key="123456789012")
    url = c.create_queue(QueueName="acct")["QueueUrl"]
    assert url.endswith("/123456789012/acct")
    assert _attrs(c, url, "QueueArn")["QueueArn"] == "arn:aws:sqs:us-east-1:123456789012:acct"


def test_other_access_keys_map_to_the_default_account(broker, sqs):
    url = sqs.create_queue(QueueName="default-acct")["QueueUrl"]
    assert url.endswith(f"/{DEFAULT_ACCOUNT}/default-acct")
    for key in ["AKIAIOSFODNN7EXAMPLE", "12345678901", "1234567890123", "12345678901a"]:
        c = _client(broker, access_key=key)
        assert c.create_queue(QueueName="default-acct")["QueueUrl"] == url, key
        assert _urls(c) == [url], key


def test_accounts_are_isolated(broker, sqs):
    a = _client(broker, access_key="111111111111")
    b = _client(broker, access_key="222222222222")
    url_a = a.create_queue(QueueName="same", Attributes={"VisibilityTimeout": "11"})["QueueUrl"]
    url_b = b.create_queue(QueueName="same", Attributes={"VisibilityTimeout": "22"})["QueueUrl"]
    assert url_a != url_b
    assert _urls(a) == [url_a]
    assert _urls(b) == [url_b]
    assert _urls(sqs) == []
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="same")
    assert _attrs(a, url_a, "VisibilityTimeout")["VisibilityTimeout"] == "11"
    assert _attrs(b, url_b, "VisibilityTimeout")["VisibilityTimeout"] == "22"
    a.send_message(QueueUrl=url_a, MessageBody="for a")
    assert "Messages" not in b.receive_message(QueueUrl=url_b)
    assert a.receive_message(QueueUrl=url_a)["Messages"][0]["Body"] == "for a"


def test_regions_are_isolated(broker):
    east = _client(broker, region="us-east-1")
    west = _client(broker, region="eu-west-1")
    url_east = east.create_queue(QueueName="regional", Attributes={"DelaySeconds": "1"})["QueueUrl"]
    assert _urls(west) == []
    with pytest.raises(west.exceptions.QueueDoesNotExist):
        west.get_queue_url(QueueName="regional")
    url_west = west.create_queue(QueueName="regional", Attributes={"DelaySeconds": "2"})["QueueUrl"]
    assert _urls(east) == [url_east] and _urls(west) == [url_west]
    assert _attrs(east, url_east, "DelaySeconds")["DelaySeconds"] == "1"
    assert _attrs(west, url_west, "DelaySeconds")["DelaySeconds"] == "2"
    assert _attrs(west, url_west, "QueueArn")["QueueArn"] == f"arn:aws:sqs:eu-west-1:{DEFAULT_ACCOUNT}:regional"
    west.send_message(QueueUrl=url_west, MessageBody="west", DelaySeconds=0)
    assert "Messages" not in east.receive_message(QueueUrl=url_east)
    assert west.receive_message(QueueUrl=url_west)["Messages"][0]["Body"] == "west"


def test_region_isolation_of_delete_and_purge(broker):
    east = _client(broker, region="us-east-1")
    west = _client(broker, region="us-west-2")
    url_east = east.create_queue(QueueName="twin")["QueueUrl"]
    url_west = west.create_queue(QueueName="twin")["QueueUrl"]
    east.send_message(QueueUrl=url_east, MessageBody="east")
    west.delete_queue(QueueUrl=url_west)
    assert _urls(east) == [url_east]
    assert east.receive_message(QueueUrl=url_east)["Messages"][0]["Body"] == "east"
