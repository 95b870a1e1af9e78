"""The basics through boto3 against a real server: health, STS, a message round trip."""

from __future__ import annotations

import httpx


def test_health(broker):
    h = httpx.get(broker.url + "/_broker/health").json()
    assert h["status"] == "ok" and h["database"] == "reachable"
    assert h["version"] and h["pid"] > 0 and h["uptime_seconds"] >= 0


def test_sts_caller_identity_default_and_numeric_key(broker):
    sts = broker.client("sts")
    ident = sts.get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ident["Arn"] == "arn:aws:iam::000000000000:user/broker"
    assert ident["UserId"].startswith("AIDA") and len(ident["UserId"]) == 21 and ident["UserId"].isalnum()
    other = broker.client("sts", access_key="123456789012").get_caller_identity()
    assert (other["Account"], other["Arn"]) == ("123456789012", "arn:aws:iam::123456789012:user/broker")
    assert other["UserId"] != ident["UserId"]
    assert sts.get_caller_identity()["UserId"] == ident["UserId"]  # stable


def test_sts_json_protocol(broker):
    r = httpx.post(
        broker.url + "/",
        headers={
            "X-Amz-Target": "AWSSecurityTokenServiceV20110615.GetCallerIdentity",
            "Content-Type": "application/x-amz-json-1.0",
        },
        content=b"{}",
    )
    assert r.status_code == 200
    assert r.json()["Account"] == "000000000000"


def test_round_trip(sqs):
    url = sqs.create_queue(QueueName="smoke")["QueueUrl"]
    assert url.endswith("/000000000000/smoke")
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello")
    got = sqs.receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in got] == ["hello"]
    assert got[0]["MessageId"] == sent["MessageId"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
