"""Details where an AWS-validated acceptance suite found the broker differing from SNS, each checked through boto3
(or raw HTTP where boto3 cannot send the request) against a real server: error documents and texts, the URLs and
fields of notifications, subscription attributes, batch and FIFO rules, headers of HTTP deliveries."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.sns.helpers import Endpoint, bodies, queue_arn, receive_all, sns_client, topic_with_queue
from tests.sns.helpers import error_of as _error
from tests.sqs.clients import client as sqs_client

AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0"
JACKSON_SOURCE = "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: {}]"
REQUEST_ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def sns(broker):
    return sns_client(broker)


@pytest.fixture
def sqs(broker):
    return sqs_client(broker)


@pytest.fixture
def endpoint():
    ep = Endpoint()
    yield ep
    ep.close()


def _invalid(message: str) -> tuple[int, str, str]:
    return 400, "InvalidParameter", message


def _query(broker, **params: str) -> httpx.Response:
    """A raw query-protocol SNS request (what boto3's own validation would not let through)."""
    return httpx.post(broker.url + "/", data={"Version": "2010-03-31", **params}, headers={"Authorization": AUTH})


def _headers(request: dict) -> dict[str, str]:
    return {k.lower(): v for k, v in request["headers"].items()}


# -- 1. query error documents: no <Detail/> ---------------------------------------------------------------------------
def test_query_error_document_has_no_detail_element(broker):
    missing = "arn:aws:sns:us-east-1:000000000000:missing"
    r = _query(broker, Action="GetTopicAttributes", TopicArn=missing)
    assert r.status_code == 404
    assert re.fullmatch(
        r'<\?xml version="1\.0"\?><ErrorResponse xmlns="https://sns\.amazonaws\.com/doc/2010-03-31/">'
        r"<Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error>"
        rf"<RequestId>{REQUEST_ID}</RequestId></ErrorResponse>",
        r.text,
    ), r.text


# -- 2. ARNs in notification URLs are not percent-encoded --------------------------------------------------------------
def test_unsubscribe_url_carries_the_subscription_arn_as_it_is(broker, sns, sqs):
    topic, url, sub = topic_with_queue(broker, name="urls")
    sns.publish(TopicArn=topic, Message="m")
    (env,) = bodies(receive_all(sqs, url))
    assert env["UnsubscribeURL"] == f"{broker.url}/?Action=Unsubscribe&SubscriptionArn={sub}"


def test_subscribe_url_carries_the_topic_arn_as_it_is(broker, sns, endpoint):
    topic = sns.create_topic(Name="confirm-url")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    (req,) = endpoint.wait_for(1)
    doc = json.loads(req["body"])
    assert doc["SubscribeURL"] == f"{broker.url}/?Action=ConfirmSubscription&TopicArn={topic}&Token={doc['Token']}"
    # and it works as it is
    assert httpx.get(doc["SubscribeURL"]).status_code == 200


# -- 4. FIFO topics' notifications are not signed ---------------------------------------------------------------------
def test_fifo_notification_has_a_sequence_number_and_no_signature(broker, sns, sqs):
    topic, url, sub = topic_with_queue(broker, name="unsigned", fifo=True)
    r = sns.publish(TopicArn=topic, Message="m", MessageGroupId="g")
    (msg,) = receive_all(sqs, url)
    env = json.loads(msg["Body"])
    assert list(env) == ["Type", "MessageId", "SequenceNumber", "TopicArn", "Message", "Timestamp", "UnsubscribeURL"]
    assert (env["MessageId"], env["SequenceNumber"]) == (r["MessageId"], r["SequenceNumber"])
    # A standard topic's notification keeps its signature.
    std, std_url, _ = topic_with_queue(broker, name="signed")
    sns.publish(TopicArn=std, Message="m")
    (std_env,) = bodies(receive_all(sqs, std_url))
    assert {"SignatureVersion", "Signature", "SigningCertURL"} <= set(std_env)


# -- 5. filter policy errors ------------------------------------------------------------------------------------------
def test_filter_policy_errors_on_subscribe_and_set(broker, sns, sqs):
    topic, url, sub = topic_with_queue(broker, name="policies")
    other = queue_arn(sqs, sqs.create_queue(QueueName="policies-2")["QueueUrl"])
    bad = json.dumps({"a": [{"anything-but": {"suffix": "x"}}]})
    assert _error(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=other, Attributes={"FilterPolicy": bad}) == (
        _invalid("Invalid parameter: Attributes Reason: FilterPolicy: Unsupported anything-but pattern: suffix")
    )
    set_attr = sns.set_subscription_attributes
    assert _error(set_attr, SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=bad) == _invalid(
        "Invalid parameter: FilterPolicy: Unsupported anything-but pattern: suffix"
    )
    assert _error(set_attr, SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="X") == _invalid(
        "Invalid parameter: FilterPolicyScope: Invalid value [X]. Please use either MessageBody or MessageAttributes"
    )
    jackson = (
        "failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to start field "
        f"name\n at {JACKSON_SOURCE.format(2)}"
    )
    assert _error(set_attr, SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="{invalidjson}") == (
        _invalid(f"Invalid parameter: FilterPolicy: {jackson}")
    )
    assert _error(set_attr, SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue="{invalidjson}") == (
        _invalid(f"Invalid parameter: RedrivePolicy: {jackson}")
    )
    token = (
        "failed to parse JSON. Unrecognized token 'invalid': was expecting (JSON String, Number, Array, Object or "
        f"token 'null', 'true' or 'false')\n at {JACKSON_SOURCE.format(8)}"
    )
    attrs = {"FilterPolicy": "invalid-json"}
    assert _error(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=other, Attributes=attrs) == _invalid(
        f"Invalid parameter: Attributes Reason: FilterPolicy: {token}"
    )
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1


def test_subscription_attribute_errors_are_worded_per_operation(broker, sns, sqs):
    topic, url, sub = topic_with_queue(broker, name="wording")
    other = queue_arn(sqs, sqs.create_queue(QueueName="wording-2")["QueueUrl"])
    assert _error(
        sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="x"
    ) == _invalid("Invalid parameter: RawMessageDelivery: Invalid value [x]. Must be true or false.")
    attrs = {"RawMessageDelivery": "wrongvalue"}
    assert _error(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=other, Attributes=attrs) == _invalid(
        "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false."
    )
    fake = json.dumps({"deadLetterTargetArn": "fake-arn"})
    assert _error(
        sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=fake
    ) == _invalid("Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn")
    assert _error(
        sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="Fake", AttributeValue="x"
    ) == _invalid("Invalid parameter: AttributeName")


# -- 6. FifoThroughputScope ----------------------------------------------------------------------------------------
def test_fifo_throughput_scope_is_listed_only_once_set(sns):
    arn = sns.create_topic(Name="scope.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["FifoTopic"], attrs["ContentBasedDeduplication"]) == ("true", "false")
    assert "FifoThroughputScope" not in attrs
    sns.set_topic_attributes(TopicArn=arn, AttributeName="FifoThroughputScope", AttributeValue="Topic")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["FifoThroughputScope"] == "Topic"


# -- 7. malformed ARNs ----------------------------------------------------------------------------------------------
def test_malformed_arns_count_their_elements(broker, sns):
    def too_short(member: str, n: int) -> tuple[int, str, str]:
        return _invalid(f"Invalid parameter: {member} Reason: An ARN must have at least 6 elements, not {n}")

    assert _error(sns.get_topic_attributes, TopicArn="randomstring") == too_short("TopicArn", 1)
    assert _error(sns.publish, TopicArn="arn:aws:sns:us-east-1", Message="m") == too_short("TopicArn", 4)
    assert _error(sns.publish, TopicArn="", Message="m") == too_short("TopicArn", 1)
    sub = {"Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:000000000000:q"}
    assert _error(sns.subscribe, TopicArn="arn:aws:sns:us-east-1:random", **sub) == too_short("TopicArn", 5)
    assert _error(sns.delete_topic, TopicArn="x:y") == too_short("TopicArn", 2)
    assert _error(
        sns.set_platform_application_attributes, PlatformApplicationArn="invalid", Attributes={"Enabled": "true"}
    ) == too_short("PlatformApplicationArn", 1)
    # the ARN is checked before the attributes
    assert _error(
        sns.set_platform_application_attributes, PlatformApplicationArn="invalid", Attributes={}
    ) == too_short("PlatformApplicationArn", 1)
    assert _error(sns.unsubscribe, SubscriptionArn="arn:aws:sns:us-east-1:random") == too_short("SubscriptionArn", 5)


# -- 8. SetSMSAttributes ---------------------------------------------------------------------------------------------
def test_set_sms_attributes_errors(sns):
    assert _error(sns.set_sms_attributes, attributes={"Colour": "red"}) == (
        400,
        "InvalidParameter",
        "Colour is not a valid attribute",
    )
    assert _error(sns.set_sms_attributes, attributes={"DefaultSMSType": "Spam"}) == (
        400,
        "InvalidParameter",
        "DefaultSMSType is invalid",
    )


# -- 9. a required Attributes map left out --------------------------------------------------------------------------
def test_platform_attributes_missing_is_a_validation_error(broker, sns):
    null = (
        400,
        "ValidationError",
        "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: Member must not be null",
    )
    assert _error(sns.create_platform_application, Name="a", Platform="GCM", Attributes={}) == null
    app = sns.create_platform_application(Name="a", Platform="GCM", Attributes={"PlatformCredential": "k"})[
        "PlatformApplicationArn"
    ]
    assert _error(sns.set_platform_application_attributes, PlatformApplicationArn=app, Attributes={}) == null
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t")["EndpointArn"]
    assert _error(sns.set_endpoint_attributes, EndpointArn=endpoint, Attributes={}) == null
    # It comes before the other checks: the platform here is not one AWS knows.
    r = _query(broker, Action="CreatePlatformApplication", Name="Foobar", Platform="Bar")
    assert r.status_code == 400
    assert "<Code>ValidationError</Code>" in r.text
    assert "Value null at &apos;attributes&apos;" in r.text or "Value null at 'attributes'" in r.text


# -- 10. FIFO topic names --------------------------------------------------------------------------------------------
def test_fifo_topic_name_without_suffix(sns):
    assert _error(sns.create_topic, Name="nofifo", Attributes={"FifoTopic": "true"}) == _invalid(
        "Invalid parameter: Topic Name"
    )


# -- 11. MessageStructure=json ---------------------------------------------------------------------------------------
def test_message_structure_ignores_values_that_are_not_strings(broker, sns, sqs):
    topic, url, _ = topic_with_queue(broker, name="structure")
    message = json.dumps({"default": "default field", "sqs": {"field": "value"}})
    sns.publish(TopicArn=topic, Message=message, MessageStructure="json")
    (env,) = bodies(receive_all(sqs, url))
    assert env["Message"] == "default field"
    sns.publish(
        TopicArn=topic, Message=json.dumps({"default": "d", "sqs": '{"field": "value"}'}), MessageStructure="json"
    )
    (env,) = bodies(receive_all(sqs, url))
    assert env["Message"] == '{"field": "value"}'
    no_default = _invalid("Invalid parameter: Message Structure - No default entry in JSON message body")
    for body in ({"sqs": "s"}, {"default": 1, "sqs": "s"}, {"default": {"a": "b"}}):
        assert _error(sns.publish, TopicArn=topic, Message=json.dumps(body), MessageStructure="json") == no_default


# -- 12. an empty FilterPolicy, and FilterPolicyScope only with a policy -----------------------------------------
def test_empty_filter_policy_stores_no_policy_and_the_scope_shows_only_with_one(broker, sns, sqs):
    topic = sns.create_topic(Name="empty-policy")["TopicArn"]
    q = queue_arn(sqs, sqs.create_queue(QueueName="empty-policy-q")["QueueUrl"])
    attrs = {"FilterPolicy": "", "FilterPolicyScope": "MessageBody"}
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q, Attributes=attrs)["SubscriptionArn"]
    shown = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert "FilterPolicy" not in shown and "FilterPolicyScope" not in shown
    policy = json.dumps({"a": ["b"]})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=policy)
    shown = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert (shown["FilterPolicy"], shown["FilterPolicyScope"]) == (policy, "MessageBody")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="")
    shown = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert "FilterPolicy" not in shown and "FilterPolicyScope" not in shown


# -- 13. SMS endpoints -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("phone", ["+15--551234567", "NAA+15551234567", "+15551234567.", "/+15551234567", "nope"])
def test_invalid_sms_endpoints(sns, phone):
    topic = sns.create_topic(Name="sms-endpoints")["TopicArn"]
    assert _error(sns.subscribe, TopicArn=topic, Protocol="sms", Endpoint=phone) == (
        400,
        "InvalidParameter",
        f"Invalid SMS endpoint: {phone}",
    )


def test_sms_subscription_lists_raw_message_delivery(sns):
    topic = sns.create_topic(Name="sms-attrs")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+123123123")["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert (attrs["Protocol"], attrs["Endpoint"], attrs["RawMessageDelivery"]) == ("sms", "+123123123", "false")
    grouped = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15/55-123.4567")["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=grouped)["Attributes"]["Endpoint"] == "+15/55-123.4567"
    fn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    lam = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=lam)["Attributes"]["RawMessageDelivery"] == "false"


# -- 14. dead-letter copies of raw deliveries --------------------------------------------------------------------
def test_raw_subscription_dead_letters_the_raw_message(broker, sns, sqs):
    dlq = sqs.create_queue(QueueName="raw-dlq")["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq)})
    topic, url, _ = topic_with_queue(broker, name="raw-lost", raw=True, RedrivePolicy=policy)
    sqs.delete_queue(QueueUrl=url)
    attrs = {
        "attr1": {"DataType": "Number", "StringValue": "111"},
        "attr2": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
    }
    sns.publish(TopicArn=topic, Message="test_dlq", MessageAttributes=attrs)
    (msg,) = receive_all(sqs, dlq)
    assert msg["Body"] == "test_dlq"
    assert msg["MessageAttributes"] == attrs


def test_raw_http_subscription_dead_letters_the_raw_message(broker, sns, sqs, endpoint):
    dlq = sqs.create_queue(QueueName="raw-http-dlq")["QueueUrl"]
    topic = sns.create_topic(Name="raw-http")["TopicArn"]
    attrs = {
        "RawMessageDelivery": "true",
        "DeliveryPolicy": json.dumps(
            {"healthyRetryPolicy": {"numRetries": 0, "minDelayTarget": 1, "maxDelayTarget": 1}}
        ),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq)}),
    }
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, Attributes=attrs)
    (req,) = endpoint.wait_for(1)
    sns.confirm_subscription(TopicArn=topic, Token=json.loads(req["body"])["Token"])
    endpoint.status = 500
    sns.publish(TopicArn=topic, Message="lost", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    (msg,) = receive_all(sqs, dlq, expect=1, wait=10)
    assert msg["Body"] == "lost"
    assert msg["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}


# -- 15. Accept-Encoding of HTTP/S deliveries --------------------------------------------------------------------
def test_http_deliveries_accept_gzip_and_deflate(broker, sns, endpoint):
    topic = sns.create_topic(Name="encoding")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    (confirm,) = endpoint.wait_for(1)
    assert _headers(confirm)["accept-encoding"] == "gzip,deflate"
    sns.confirm_subscription(TopicArn=topic, Token=json.loads(confirm["body"])["Token"])
    sns.publish(TopicArn=topic, Message="m")
    notification = endpoint.wait_for(2)[1]
    assert _headers(notification)["x-amz-sns-message-type"] == "Notification"
    assert _headers(notification)["accept-encoding"] == "gzip,deflate"


# -- 16. subscribing again --------------------------------------------------------------------------------------
def test_subscribe_again_compares_the_effective_attributes(broker, sns, sqs):
    topic = sns.create_topic(Name="again")["TopicArn"]
    q = queue_arn(sqs, sqs.create_queue(QueueName="again-q")["QueueUrl"])

    def subscribe(attrs: dict | None = None) -> str:
        kw = {} if attrs is None else {"Attributes": attrs}
        return sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q, ReturnSubscriptionArn=True, **kw)[
            "SubscriptionArn"
        ]

    arn = subscribe({"RawMessageDelivery": "true"})
    assert subscribe({"RawMessageDelivery": "true"}) == arn
    assert subscribe({"RawMessageDelivery": "true", "FilterPolicyScope": "MessageAttributes"}) == arn  # a default
    assert subscribe() == arn
    assert subscribe({}) == arn
    assert subscribe({"FilterPolicyScope": "MessageAttributes"}) == arn
    assert _error(subscribe, attrs={"RawMessageDelivery": "false", "FilterPolicyScope": "MessageBody"}) == _invalid(
        "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
    )
    plain = queue_arn(sqs, sqs.create_queue(QueueName="again-plain")["QueueUrl"])
    first = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=plain)["SubscriptionArn"]
    again = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=plain, Attributes={"RawMessageDelivery": "false"})
    assert again["SubscriptionArn"] == first


# -- 17. ConfirmSubscription and Unsubscribe errors ----------------------------------------------------------------
def test_confirm_subscription_errors(sns):
    topic = sns.create_topic(Name="tokens")["TopicArn"]
    well_formed = "51b2ff3edb475b7d91550e0ab6edf0c1de2a34e6ebaf6c2262a001bcb7e051c4" * 4
    assert _error(sns.confirm_subscription, TopicArn=topic[:-1] + "i", Token=well_formed) == _invalid(
        "Invalid parameter: Token"
    )
    assert _error(sns.confirm_subscription, TopicArn=topic, Token=well_formed) == _invalid("Invalid parameter: Token")
    assert _error(sns.confirm_subscription, TopicArn=topic, Token="randomtoken") == _invalid("Invalid token")
    assert _error(sns.confirm_subscription, TopicArn="not-an-arn", Token=well_formed) == _invalid(
        "Invalid parameter: Topic"
    )
    other_region = topic.replace("us-east-1", "eu-central-1")
    assert _error(sns.confirm_subscription, TopicArn=other_region, Token=well_formed) == _invalid(
        "Invalid parameter: Topic"
    )


def test_subscription_arn_without_an_id(sns):
    assert _error(sns.unsubscribe, SubscriptionArn="arn:aws:sns:us-east-1:111111111111:random") == _invalid(
        "Invalid parameter: SubscriptionId"
    )
    assert _error(sns.unsubscribe, SubscriptionArn="randomstring") == _invalid(
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"
    )
    not_sns = "arn:aws:sqs:us-east-1:000000000000:test-queue:66d97e76-31e5-444f-8fa7-b60b680d0d39"
    assert _error(sns.get_subscription_attributes, SubscriptionArn=not_sns) == _invalid(
        "Invalid parameter: SubscriptionId"
    )


# -- 18. PublishBatch -------------------------------------------------------------------------------------------
def test_publish_batch_entry_ids(sns):
    topic = sns.create_topic(Name="batch-ids")["TopicArn"]
    assert _error(
        sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[{"Id": "no spaces", "Message": "m"}]
    ) == (
        400,
        "InvalidBatchEntryId",
        "The Id of a batch entry in the batch request contains an impermissible character: no spaces",
    )
    long_id = "a" * 81
    assert _error(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[{"Id": long_id, "Message": "m"}]) == (
        400,
        "InvalidBatchEntryId",
        f"The Id of a batch entry in the batch request is too long: {long_id}",
    )
    ok = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "a" * 80, "Message": "m"}])
    assert [s["Id"] for s in ok["Successful"]] == ["a" * 80]


def test_publish_batch_fails_as_a_whole(broker, sns, sqs):
    topic, url, _ = topic_with_queue(broker, name="whole")
    bad_attr = {"attr1": {"DataType": "String", "StringValue": ""}}
    entries = [
        {"Id": "1", "Message": "fine"},
        {"Id": "2", "Message": "m", "MessageAttributes": bad_attr},
        {"Id": "3", "Message": "fine too"},
    ]
    assert _error(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=entries) == (
        400,
        "ParameterValueInvalid",
        "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type "
        "'String'.",
    )
    assert receive_all(sqs, url) == []  # nothing of the batch was published
    fifo = sns.create_topic(Name="whole.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    entries = [{"Id": "1", "Message": "m", "MessageGroupId": "g", "MessageDeduplicationId": "d"}]
    entries.append({"Id": "2", "Message": "m", "MessageGroupId": "g"})
    assert _error(sns.publish_batch, TopicArn=fifo, PublishBatchRequestEntries=entries) == _invalid(
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly"
    )
    # The message structure is checked before the FIFO group.
    entries = [{"Id": "1", "Message": json.dumps({"sqs": "test sqs"}), "MessageStructure": "json"}]
    assert _error(sns.publish_batch, TopicArn=fifo, PublishBatchRequestEntries=entries) == _invalid(
        "Invalid parameter: Message Structure - No default entry in JSON message body"
    )


# -- 19. tags and permissions ---------------------------------------------------------------------------------------
def test_duplicate_tag_keys_and_foreign_actions(sns):
    arn = sns.create_topic(Name="tags-perms")["TopicArn"]
    tags = [{"Key": "k1", "Value": "v1"}, {"Key": "k1", "Value": "v2"}]
    assert _error(sns.tag_resource, ResourceArn=arn, Tags=tags) == _invalid(
        "Invalid parameter: Duplicated keys are not allowed."
    )
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    assert _error(
        sns.add_permission, TopicArn=arn, Label="l", AWSAccountId=["111122223333"], ActionName=["SendMessage"]
    ) == _invalid("Invalid parameter: Policy statement action out of service scope!")
    sns.add_permission(TopicArn=arn, Label="l", AWSAccountId=["111122223333"], ActionName=["Publish", "Receive"])


# -- 20. message attribute types and names --------------------------------------------------------------------
def test_custom_string_types(broker, sns, sqs):
    topic, url, _ = topic_with_queue(broker, name="types", raw=True)
    for data_type in ("String.prefixed", "String.  prefixed.", "String.ünï"):
        sns.publish(TopicArn=topic, Message="m", MessageAttributes={"a": {"DataType": data_type, "StringValue": "v"}})
    got = [m["MessageAttributes"]["a"]["DataType"] for m in receive_all(sqs, url)]
    assert sorted(got) == sorted(["String.prefixed", "String.  prefixed.", "String.ünï"])
    invalid_type = (
        400,
        "ParameterValueInvalid",
        "The message attribute 'a' has an invalid message attribute type, the set of supported type prefixes is "
        "Binary, Number, and String.",
    )
    for data_type in ("String.", "Stringprefixed"):
        attrs = {"a": {"DataType": data_type, "StringValue": "v"}}
        assert _error(sns.publish, TopicArn=topic, Message="m", MessageAttributes=attrs) == invalid_type


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        (
            {"attr1": {"DataType": "String", "BinaryValue": b"123"}},
            "The message attribute 'attr1' with type 'String' must use field 'String'.",
        ),
        (
            {"attr1": {"DataType": "Number", "BinaryValue": b"123"}},
            "The message attribute 'attr1' with type 'Number' must use field 'String'.",
        ),
        (
            {"attr1": {"DataType": "Binary", "StringValue": "123"}},
            "The message attribute 'attr1' with type 'Binary' must use field 'Binary'.",
        ),
        (
            {"a" * 257: {"DataType": "String", "StringValue": "1"}},
            "Length of message attribute name must be less than 256 bytes.",
        ),
        (
            {"a^*?": {"DataType": "String", "StringValue": "1"}},
            "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include "
            "alphanumeric characters, hyphens, underscores, or dots.",
        ),
        (
            {".abc": {"DataType": "String", "StringValue": "1"}},
            "Invalid message attribute name starting with character '.' was found.",
        ),
        (
            {"abc.": {"DataType": "String", "StringValue": "1"}},
            "Invalid message attribute name ending with character '.' was found.",
        ),
        (
            {"a..bc": {"DataType": "String", "StringValue": "1"}},
            "Message attribute name can not have successive '.' character.",
        ),
    ],
)
def test_message_attribute_errors(broker, sns, attrs, message):
    topic = sns.create_topic(Name="attr-errors")["TopicArn"]
    assert _error(sns.publish, TopicArn=topic, Message="m", MessageAttributes=attrs) == (
        400,
        "ParameterValueInvalid",
        message,
    )
    entries = [{"Id": "1", "Message": "m", "MessageAttributes": attrs}]
    assert _error(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=entries) == (
        400,
        "ParameterValueInvalid",
        message,
    )


def test_message_attribute_without_a_data_type(broker, sns):
    topic = sns.create_topic(Name="no-type")["TopicArn"]
    null = "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null"
    r = _query(
        broker,
        Action="Publish",
        TopicArn=topic,
        Message="m",
        **{"MessageAttributes.entry.1.Name": "attr1", "MessageAttributes.entry.1.Value.StringValue": "v"},
    )
    assert (r.status_code, "<Code>ValidationError</Code>" in r.text) == (400, True)
    assert null.format("messageAttributes.attr1.member.dataType").replace("'", "&apos;") in r.text.replace(
        "'", "&apos;"
    )
    r = _query(
        broker,
        Action="PublishBatch",
        TopicArn=topic,
        **{
            "PublishBatchRequestEntries.member.1.Id": "1",
            "PublishBatchRequestEntries.member.1.Message": "m",
            "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name": "attr1",
            "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue": "v",
        },
    )
    assert (r.status_code, "<Code>ValidationError</Code>" in r.text) == (400, True)
    path = "publishBatchRequestEntries.1.member.messageAttributes.attr1.member.dataType"
    assert null.format(path).replace("'", "&apos;") in r.text.replace("'", "&apos;")


# -- 21. FIFO dead-letter queues --------------------------------------------------------------------------------
def test_fifo_subscription_to_a_fifo_topic_needs_a_fifo_dead_letter_queue(broker, sns, sqs):
    topic = sns.create_topic(Name="dlq.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    standard_dlq = queue_arn(sqs, sqs.create_queue(QueueName="std-dlq")["QueueUrl"])
    fifo_dlq = queue_arn(sqs, sqs.create_queue(QueueName="dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"])
    standard = queue_arn(sqs, sqs.create_queue(QueueName="std-sub")["QueueUrl"])
    fifo = queue_arn(sqs, sqs.create_queue(QueueName="sub.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"])
    plain_sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=standard)["SubscriptionArn"]
    redrive = json.dumps({"deadLetterTargetArn": standard_dlq})
    sns.set_subscription_attributes(SubscriptionArn=plain_sub, AttributeName="RedrivePolicy", AttributeValue=redrive)
    fifo_sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=fifo)["SubscriptionArn"]
    assert _error(
        sns.set_subscription_attributes, SubscriptionArn=fifo_sub, AttributeName="RedrivePolicy", AttributeValue=redrive
    ) == _invalid(
        "Invalid parameter: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic."
    )
    ok = json.dumps({"deadLetterTargetArn": fifo_dlq})
    sns.set_subscription_attributes(SubscriptionArn=fifo_sub, AttributeName="RedrivePolicy", AttributeValue=ok)


def test_fifo_queue_to_standard_topic(broker, sns, sqs):
    topic = sns.create_topic(Name="std-topic")["TopicArn"]
    fifo = queue_arn(sqs, sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"])
    assert _error(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=fifo) == _invalid(
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard "
        "SNS topics"
    )


# -- 22. X-Amzn-Trace-Id ----------------------------------------------------------------------------------------
def test_trace_header_reaches_sqs_subscribers(broker, sqs):
    trace = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1"
    sns = broker.client("sns")  # its own client: the hook below must not reach other tests

    def add_trace(request, **_kwargs) -> None:
        request.headers["X-Amzn-Trace-Id"] = trace

    sns.meta.events.register("before-send.sns.Publish", add_trace)
    sns.meta.events.register("before-send.sns.PublishBatch", add_trace)
    topic, url, _ = topic_with_queue(broker, name="traced")
    raw_topic, raw_url, _ = topic_with_queue(broker, name="traced-raw", raw=True)
    sns.publish(TargetArn=topic, Message="X-Ray propagation test msg")
    sns.publish_batch(TopicArn=raw_topic, PublishBatchRequestEntries=[{"Id": "1", "Message": "raw"}])
    for queue in (url, raw_url):
        msgs = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"]
        assert msgs[0]["Attributes"] == {"AWSTraceHeader": trace}
    untraced, untraced_url, _ = topic_with_queue(broker, name="untraced")
    sns_client(broker).publish(TopicArn=untraced, Message="m")
    (msg,) = receive_all(sqs, untraced_url)
    assert "AWSTraceHeader" not in msg.get("Attributes", {})


# -- 23. a disabled platform endpoint --------------------------------------------------------------------------
def test_publish_to_a_disabled_endpoint(sns):
    app = sns.create_platform_application(Name="push", Platform="GCM", Attributes={"PlatformCredential": "k"})[
        "PlatformApplicationArn"
    ]
    arn = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1", Attributes={"Enabled": "false"})[
        "EndpointArn"
    ]
    disabled = (400, "EndpointDisabled", "Endpoint is disabled")
    assert _error(sns.publish, TargetArn=arn, Message="hi") == disabled
    # The endpoint is checked before the message.
    assert _error(sns.publish, TargetArn=arn, Message="not json", MessageStructure="json") == disabled
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "true"})
    assert "MessageId" in sns.publish(TargetArn=arn, Message="hi")


# -- the same kind of differences, found beside the items above ---------------------------------------------------
def test_unsubscribe_confirmation_names_the_subscription(broker, sns, endpoint):
    topic = sns.create_topic(Name="bye")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    (confirm,) = endpoint.wait_for(1)
    sub = sns.confirm_subscription(TopicArn=topic, Token=json.loads(confirm["body"])["Token"])["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=sub)
    bye = endpoint.wait_for(2)[1]
    doc = json.loads(bye["body"])
    assert doc["Type"] == "UnsubscribeConfirmation"
    assert doc["Message"] == (
        f"You have chosen to deactivate subscription {sub}.\n"
        "To cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
    )
    assert _headers(bye)["x-amz-sns-subscription-arn"] == sub


def test_platform_arns_with_the_wrong_number_of_slashes(sns):
    short = "arn:aws:sns:us-east-1:000000000000:app/GCM"
    assert _error(sns.create_platform_endpoint, PlatformApplicationArn=short, Token="t") == _invalid(
        "Invalid parameter: PlatformApplicationArn Reason: Wrong number of slashes in relative portion of the ARN."
    )
    endpoint = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app"
    assert _error(sns.get_endpoint_attributes, EndpointArn=endpoint) == _invalid(
        "Invalid parameter: EndpointArn Reason: Wrong number of slashes in relative portion of the ARN."
    )
