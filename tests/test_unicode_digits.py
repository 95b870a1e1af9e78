"""Digits of other scripts ("²", "٣") are not numbers to AWS: they get the service's validation error, never a 500
(Python's str.isdigit() accepts them but int() refuses some)."""

from __future__ import annotations

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.server import BrokerServer


def code_of(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return info.value.response["Error"]["Code"]


@pytest.mark.parametrize("digits", ["²", "1²"])
def test_sns_numbers(broker: BrokerServer, digits: str) -> None:
    sns = broker.client("sns")
    assert code_of(lambda: sns.set_sms_attributes(attributes={"MonthlySpendLimit": digits})) == "InvalidParameter"
    arn = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    policy = f'{{"MessageRetentionPeriod": "{digits}"}}'

    def set_attribute(name: str, value: str) -> None:
        sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)

    assert code_of(lambda: set_attribute("ArchivePolicy", policy)) == "InvalidParameter"
    assert code_of(lambda: set_attribute("HTTPSuccessFeedbackSampleRate", digits)) == "InvalidParameter"


def test_query_list_index(broker: BrokerServer) -> None:
    url = broker.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    form = {"Action": "GetQueueAttributes", "Version": "2012-11-05", "QueueUrl": url, "AttributeName.²": "All"}
    r = httpx.post(broker.url + "/", data=form, timeout=10)
    assert r.status_code == 200, r.text  # not an index: ignored, as an unknown member is
