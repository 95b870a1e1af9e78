"""SNS topics: CreateTopic, DeleteTopic, Get/SetTopicAttributes, ListTopics, tags, permissions, data protection."""

from __future__ import annotations

import json

import pytest

from tests.sns.helpers import queue_arn, sns_client
from tests.sqs.clients import client as sqs_client
from tests.sqs.clients import error_400, outcome


@pytest.fixture
def sns(broker):
    return sns_client(broker)


def test_create_topic_and_its_default_attributes(sns):
    arn = sns.create_topic(Name="orders")["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:000000000000:orders"
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["TopicArn"] == arn
    assert attrs["Owner"] == "000000000000"
    assert attrs["DisplayName"] == ""
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"], attrs["SubscriptionsDeleted"]) == (
        "0",
        "0",
        "0",
    )
    policy = json.loads(attrs["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    assert "SNS:Publish" in policy["Statement"][0]["Action"]
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert "FifoTopic" not in attrs


def test_create_topic_is_idempotent_and_refuses_different_attributes(sns):
    a = sns.create_topic(Name="same", Attributes={"DisplayName": "x"})["TopicArn"]
    assert sns.create_topic(Name="same", Attributes={"DisplayName": "x"})["TopicArn"] == a
    assert sns.create_topic(Name="same")["TopicArn"] == a
    err = error_400(sns.create_topic, Name="same", Attributes={"DisplayName": "y"})
    assert err["Code"] == "InvalidParameter"
    assert "already exists with different attributes" in err["Message"]


@pytest.mark.parametrize("name", ["", "a" * 257, "has space", "dot.name", "x.fifo"])
def test_invalid_topic_names(sns, name):
    err = error_400(sns.create_topic, Name=name)
    assert err["Code"] == "InvalidParameter"


def test_fifo_topic(sns):
    arn = sns.create_topic(Name="f.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["FifoTopic"], attrs["ContentBasedDeduplication"]) == ("true", "false")
    assert "FifoThroughputScope" not in attrs  # listed once set, as on AWS
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="FifoThroughputScope", AttributeValue="MessageGroup")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["ContentBasedDeduplication"], attrs["FifoThroughputScope"]) == ("true", "MessageGroup")
    err = error_400(sns.create_topic, Name="nofifo", Attributes={"FifoTopic": "true"})
    assert err["Message"] == "Invalid parameter: Topic Name"


def test_fifo_only_attributes_are_refused_on_standard_topics(sns):
    arn = sns.create_topic(Name="std")["TopicArn"]
    for name, value in (("ContentBasedDeduplication", "true"), ("FifoThroughputScope", "Topic")):
        err = error_400(sns.set_topic_attributes, TopicArn=arn, AttributeName=name, AttributeValue=value)
        assert err["Code"] == "InvalidParameter"


def test_set_topic_attributes(sns):
    arn = sns.create_topic(Name="attrs")["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="My Topic")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="TracingConfig", AttributeValue="Active")
    policy = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 1, "maxDelayTarget": 9}}}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["DisplayName"], attrs["SignatureVersion"], attrs["TracingConfig"]) == ("My Topic", "2", "Active")
    assert json.loads(attrs["DeliveryPolicy"]) == policy
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
    assert (effective["numRetries"], effective["minDelayTarget"], effective["backoffFunction"]) == (5, 1, "linear")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NoSuchAttribute", "x"),
        ("SignatureVersion", "3"),
        ("TracingConfig", "Sometimes"),
        ("Policy", "{not json"),
        ("DeliveryPolicy", '{"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}}'),
        ("DeliveryPolicy", '{"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 10}}}'),
        ("DeliveryPolicy", '{"http": {"defaultHealthyRetryPolicy": {"backoffFunction": "cubic"}}}'),
        ("FifoTopic", "true"),
    ],
)
def test_invalid_topic_attribute_values(sns, name, value):
    arn = sns.create_topic(Name="bad-attrs")["TopicArn"]
    err = error_400(sns.set_topic_attributes, TopicArn=arn, AttributeName=name, AttributeValue=value)
    assert err["Code"] == "InvalidParameter"


def test_unknown_topic_is_not_found(sns):
    missing = "arn:aws:sns:us-east-1:000000000000:missing"
    for fn, kw in (
        (sns.get_topic_attributes, {}),
        (sns.set_topic_attributes, {"AttributeName": "DisplayName", "AttributeValue": "x"}),
        (sns.publish, {"Message": "m"}),
        (sns.list_subscriptions_by_topic, {}),
        (sns.subscribe, {"Protocol": "email", "Endpoint": "a@example.com"}),
    ):
        assert outcome(fn, TopicArn=missing, **kw) == (404, "NotFound"), fn.__name__


def test_malformed_topic_arn_is_invalid_parameter(sns):
    err = error_400(sns.get_topic_attributes, TopicArn="not-an-arn")
    assert err["Code"] == "InvalidParameter"
    assert err["Message"] == "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
    err = error_400(sns.get_topic_attributes, TopicArn="not:an:arn:at:all:x")
    assert err["Message"] == "Invalid parameter: TopicArn Reason: not:an:arn:at:all:x does not start with arn"


def test_delete_topic_removes_it_and_its_subscriptions(broker, sns):
    sqs = sqs_client(broker)
    arn = sns.create_topic(Name="gone")["TopicArn"]
    url = sqs.create_queue(QueueName="gone-q")["QueueUrl"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, url))
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # deleting twice succeeds, as on AWS
    assert outcome(sns.get_topic_attributes, TopicArn=arn) == (404, "NotFound")
    assert sns.list_subscriptions()["Subscriptions"] == []
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def test_list_topics_pages_by_100(sns):
    created = sorted(sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(105))
    first = sns.list_topics()
    assert len(first["Topics"]) == 100
    second = sns.list_topics(NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert sorted(t["TopicArn"] for t in first["Topics"] + second["Topics"]) == created
    assert outcome(sns.list_topics, NextToken="garbage") == (400, "InvalidParameter")


def test_topics_are_per_region_and_account(broker, sns):
    sns.create_topic(Name="here")
    west = sns_client(broker, region="us-west-2")
    other = sns_client(broker, access_key="111111111111")
    assert west.list_topics()["Topics"] == []
    assert other.list_topics()["Topics"] == []
    arn = west.create_topic(Name="here")["TopicArn"]
    assert arn == "arn:aws:sns:us-west-2:000000000000:here"


def test_tags(sns):
    arn = sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}])
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"team": "b", "env": "dev"}
    sns.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    missing = "arn:aws:sns:us-east-1:000000000000:nope"
    assert outcome(sns.list_tags_for_resource, ResourceArn=missing) == (404, "ResourceNotFound")
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert outcome(sns.tag_resource, ResourceArn=arn, Tags=too_many) == (400, "TagLimitExceeded")


def test_create_topic_with_different_tags_is_refused(sns):
    sns.create_topic(Name="tags-twice", Tags=[{"Key": "a", "Value": "1"}])
    err = error_400(sns.create_topic, Name="tags-twice", Tags=[{"Key": "a", "Value": "2"}])
    assert "different tags" in err["Message"]


def test_add_and_remove_permission(sns):
    arn = sns.create_topic(Name="perm")["TopicArn"]
    sns.add_permission(TopicArn=arn, Label="share", AWSAccountId=["111122223333"], ActionName=["Publish"])
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    statement = next(s for s in policy["Statement"] if s["Sid"] == "share")
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert statement["Action"] == "SNS:Publish"
    err = error_400(sns.add_permission, TopicArn=arn, Label="share", AWSAccountId=["1"], ActionName=["Publish"])
    assert err["Code"] == "InvalidParameter"
    sns.remove_permission(TopicArn=arn, Label="share")
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["__default_statement_ID"]


def test_data_protection_policy(sns):
    arn = sns.create_topic(Name="dpp")["TopicArn"]
    assert "DataProtectionPolicy" not in sns.get_data_protection_policy(ResourceArn=arn)
    doc = json.dumps({"Name": "p", "Version": "2021-06-01", "Statement": []})
    sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy=doc)
    assert sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"] == doc
    assert outcome(sns.put_data_protection_policy, ResourceArn=arn, DataProtectionPolicy="{x") == (
        400,
        "InvalidParameter",
    )
    missing = "arn:aws:sns:us-east-1:000000000000:none"
    assert outcome(sns.get_data_protection_policy, ResourceArn=missing) == (404, "NotFound")
