"""The gateway executes only requests that arrived whole: a body cut off by a disconnect is dropped, for every
protocol (its client saw no answer and would retry it, so executing the part that arrived would duplicate it)."""

from __future__ import annotations

import json
import socket
import time

import cbor2
import pytest

from broker.gateway import MAX_BODY
from tests.server import BrokerServer

AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{svc}/aws4_request, SignedHeaders=host, Signature=0"


def raw_post(broker: BrokerServer, headers: dict[str, str], body: bytes, missing: int) -> bytes:
    """POST `body` announcing `missing` more bytes than it has, then hang up; what the server answered (if any)."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{broker.port}\r\nContent-Length: {len(body) + missing}\r\n{head}\r\n"
    with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as s:
        s.sendall(request.encode() + body)
        if missing:
            time.sleep(0.2)  # the server has read the part that arrived and waits for the rest
            s.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
                if not missing:
                    break  # keep-alive: one answer is all we need
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def settle(broker: BrokerServer) -> None:
    time.sleep(0.5)  # long enough for a (wrongly) executed request to commit


def sqs_query(url: str, body: str) -> tuple[dict[str, str], bytes]:
    form = f"Action=SendMessage&Version=2012-11-05&QueueUrl={url}&MessageBody={body}"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": AUTH.format(svc="sqs")}
    return headers, form.encode()


def sqs_json(url: str, body: str) -> tuple[dict[str, str], bytes]:
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AmazonSQS.SendMessage",
        "Authorization": AUTH.format(svc="sqs"),
    }
    return headers, json.dumps({"QueueUrl": url, "MessageBody": body}).encode()


@pytest.mark.parametrize("encode", [sqs_query, sqs_json], ids=["query", "json"])
def test_cut_off_sqs_send_is_not_executed(broker: BrokerServer, encode) -> None:
    sqs = broker.client("sqs")
    url = sqs.create_queue(QueueName="cut")["QueueUrl"]
    assert b"HTTP/1.1 200" in raw_post(broker, *encode(url, "whole"), missing=0)  # the same request, complete
    raw_post(broker, *encode(url, "cut"), missing=40)
    settle(broker)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in got] == ["whole"]


def test_cut_off_sns_create_topic_is_not_executed(broker: BrokerServer) -> None:
    sns = broker.client("sns")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": AUTH.format(svc="sns")}
    form = "Action=CreateTopic&Version=2010-03-31&Name={}"
    assert b"HTTP/1.1 200" in raw_post(broker, headers, form.format("whole").encode(), missing=0)
    raw_post(broker, headers, form.format("cut").encode(), missing=40)
    settle(broker)
    assert [t["TopicArn"].rsplit(":", 1)[1] for t in sns.list_topics()["Topics"]] == ["whole"]


def test_cut_off_kinesis_cbor_put_is_not_executed(broker: BrokerServer) -> None:
    kinesis = broker.client("kinesis")
    kinesis.create_stream(StreamName="cut", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="cut", WaiterConfig={"Delay": 0.2})
    headers = {
        "Content-Type": "application/x-amz-cbor-1.1",
        "X-Amz-Target": "Kinesis_20131202.PutRecord",
        "Authorization": AUTH.format(svc="kinesis"),
    }

    def put(data: bytes) -> bytes:
        return cbor2.dumps({"StreamName": "cut", "Data": data, "PartitionKey": "k"})

    assert b"HTTP/1.1 200" in raw_post(broker, headers, put(b"whole"), missing=0)
    raw_post(broker, headers, put(b"cut"), missing=40)
    settle(broker)
    shard = kinesis.list_shards(StreamName="cut")["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName="cut", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]
    assert [r["Data"] for r in records] == [b"whole"]


@pytest.mark.parametrize(
    ("headers", "content_type"),
    [
        ({"Content-Type": "application/x-www-form-urlencoded"}, "text/xml"),
        (
            {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"},
            "application/x-amz-json-1.0",
        ),
    ],
    ids=["query", "json"],
)
def test_too_large_a_body_is_refused_in_the_requests_protocol(broker: BrokerServer, headers, content_type) -> None:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {MAX_BODY + 1}\r\n{head}\r\n"
    with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as s:
        s.sendall(request.encode())
        answer = ""
        while "RequestEntityTooLarge" not in answer:  # headers and body may come in separate writes
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk.decode()
    assert answer.startswith("HTTP/1.1 413")
    assert f"content-type: {content_type}" in answer.lower()
    assert "RequestEntityTooLarge" in answer
