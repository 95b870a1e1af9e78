"""Streaming (aws-chunked) payloads in sigv4 mode: each chunk signed in a chain from the seed signature
(STREAMING-AWS4-HMAC-SHA256-PAYLOAD, with or without a signed trailer), or unsigned with a trailing checksum
(STREAMING-UNSIGNED-PAYLOAD-TRAILER). The body is decoded before it is parsed; a bad chunk signature or checksum
is refused. The chunk signer below follows AWS's "Signature Calculations for the Authorization Header: Transferring
Payload in Multiple Chunks" and reuses botocore only for the seed signature."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import zlib
from urllib.parse import urlencode

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.auth.helpers import ADMIN_KEY, ADMIN_SECRET

EMPTY = hashlib.sha256(b"").hexdigest()


def _signing_key(date: str, region: str, service: str, secret: str = ADMIN_SECRET) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _send_chunked(
    url: str,
    service: str,
    payload: bytes,
    headers: dict[str, str],
    mode: str,
    *,
    chunk: int = 20,
    trailer: tuple[str, str] | None = None,
    tamper: bool = False,
    bad_signature: str | None = None,
    bad_trailer_signature: str | None = None,
) -> httpx.Response:
    """Sign and send `payload` aws-chunked in `mode`, chunks of `chunk` bytes (`tamper`: a wrong second chunk
    signature; `bad_signature` / `bad_trailer_signature`: that text as the second chunk's / the trailer's)."""
    headers = {
        **headers,
        "X-Amz-Content-SHA256": mode,
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(payload)),
    }
    if trailer:
        headers["X-Amz-Trailer"] = trailer[0]
    req = AWSRequest(method="POST", url=url, data=b"", headers=headers)
    SigV4Auth(Credentials(ADMIN_KEY, ADMIN_SECRET), service, "us-east-1").add_auth(req)
    amz_date = req.headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/us-east-1/{service}/aws4_request"
    previous = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    key = _signing_key(amz_date[:8], "us-east-1", service)
    signed = mode != "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    pieces = [payload[i : i + chunk] for i in range(0, len(payload), chunk)] + [b""]
    body = b""
    for n, data in enumerate(pieces):
        if signed:
            to_sign = "\n".join(
                ("AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY, hashlib.sha256(data).hexdigest())
            )
            previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
            sig = previous if not (tamper and n == 1) else "0" * 64
            if bad_signature is not None and n == 1:
                sig = bad_signature
            body += f"{len(data):x};chunk-signature={sig}\r\n".encode() + data
        else:
            body += f"{len(data):x}\r\n".encode() + data
        if data:
            body += b"\r\n"
    if trailer:
        line = f"{trailer[0]}:{trailer[1]}"
        body += line.encode() + b"\r\n"
        if signed:
            to_sign = "\n".join(
                (
                    "AWS4-HMAC-SHA256-TRAILER",
                    amz_date,
                    scope,
                    previous,
                    hashlib.sha256(f"{line}\n".encode()).hexdigest(),
                )
            )
            trailer_sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
            body += f"x-amz-trailer-signature:{bad_trailer_signature or trailer_sig}\r\n".encode()
    body += b"\r\n"
    sent = {k: v for k, v in req.headers.items() if k.lower() != "content-length"}
    return httpx.post(url, headers=sent, content=body, timeout=30)


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _send_message_form(queue_url: str, body: str) -> bytes:
    return urlencode(
        {"Action": "SendMessage", "Version": "2012-11-05", "QueueUrl": queue_url, "MessageBody": body}
    ).encode()


def test_signed_chunks_are_verified_and_decoded(signed_broker):
    sqs = signed_broker.client("sqs")
    queue = sqs.create_queue(QueueName="chunked")["QueueUrl"]
    payload = _send_message_form(queue, "a message sent in signed chunks " * 3)
    r = _send_chunked(signed_broker.url + "/", "sqs", payload, FORM, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    assert r.status_code == 200, r.text
    got = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert [m["Body"] for m in got] == ["a message sent in signed chunks " * 3]

    r = _send_chunked(signed_broker.url + "/", "sqs", payload, FORM, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", tamper=True)
    assert r.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in r.text

    # JSON services decode the same way before parsing.
    signed_broker.client("kinesis").create_stream(StreamName="chunks", ShardCount=1)
    record = json.dumps({"StreamName": "chunks", "Data": base64.b64encode(b"x" * 100).decode(), "PartitionKey": "k"})
    kinesis_headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecord"}
    r = _send_chunked(
        signed_broker.url + "/", "kinesis", record.encode(), kinesis_headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    )
    assert r.status_code == 200, r.text
    assert r.json()["ShardId"] == "shardId-000000000000"


def test_signed_chunks_with_a_signed_trailer(signed_broker):
    sqs = signed_broker.client("sqs")
    queue = sqs.create_queue(QueueName="trailer")["QueueUrl"]
    payload = _send_message_form(queue, "with a signed trailer")
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    trailer = ("x-amz-checksum-crc32", _crc32(payload))
    r = _send_chunked(signed_broker.url + "/", "sqs", payload, FORM, mode, trailer=trailer)
    assert r.status_code == 200, r.text
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "with a signed trailer"


def test_unsigned_chunks_with_a_trailing_checksum(signed_broker):
    sqs = signed_broker.client("sqs")
    queue = sqs.create_queue(QueueName="unsigned")["QueueUrl"]
    payload = _send_message_form(queue, "checksummed")
    mode = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    r = _send_chunked(
        signed_broker.url + "/", "sqs", payload, FORM, mode, trailer=("x-amz-checksum-crc32", _crc32(payload))
    )
    assert r.status_code == 200, r.text
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "checksummed"

    r = _send_chunked(
        signed_broker.url + "/", "sqs", payload, FORM, mode, trailer=("x-amz-checksum-crc32", _crc32(b"other"))
    )
    assert r.status_code == 403
    assert "x-amz-checksum-crc32" in r.text
    sha = base64.b64encode(hashlib.sha256(payload).digest()).decode()
    r = _send_chunked(signed_broker.url + "/", "sqs", payload, FORM, mode, trailer=("x-amz-checksum-sha256", sha))
    assert r.status_code == 200, r.text


def test_a_broken_chunk_frame_is_refused(signed_broker):
    payload = b"Action=ListQueues&Version=2012-11-05"
    headers = {**FORM, "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked"}
    req = AWSRequest(method="POST", url=signed_broker.url + "/", data=b"", headers=headers)
    SigV4Auth(Credentials(ADMIN_KEY, ADMIN_SECRET), "sqs", "us-east-1").add_auth(req)
    sent = {k: v for k, v in req.headers.items() if k.lower() != "content-length"}
    for body in (payload, b"zz;chunk-signature=00\r\n", b"ff;chunk-signature=00\r\nshort\r\n"):
        r = httpx.post(signed_broker.url + "/", headers=sent, content=body)
        assert r.status_code == 403, r.text
        assert "<Code>SignatureDoesNotMatch</Code>" in r.text


def test_the_date_in_the_scope_must_be_the_signing_date(signed_broker):
    # botocore's own signer never gets this wrong: send a hand-made header.
    now = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    header = (
        f"AWS4-HMAC-SHA256 Credential={ADMIN_KEY}/20200101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00"
    )
    r = httpx.post(
        signed_broker.url + "/", data={"Action": "ListQueues"}, headers={"Authorization": header, "X-Amz-Date": now}
    )
    assert r.status_code == 403
    assert f"'20200101' != '{now[:8]}', from '{now}'." in r.text


def test_a_chunk_or_trailer_signature_that_is_not_ascii_is_refused(signed_broker):
    payload = b"Action=ListQueues&Version=2012-11-05"
    url = signed_broker.url + "/"
    r = _send_chunked(url, "sqs", payload, FORM, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chunk=10, bad_signature="é" * 32)
    assert r.status_code == 403, r.text
    assert "<Code>SignatureDoesNotMatch</Code>" in r.text
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    trailer = ("x-amz-checksum-crc32", _crc32(payload))
    r = _send_chunked(url, "sqs", payload, FORM, mode, trailer=trailer, bad_trailer_signature="é" * 32)
    assert r.status_code == 403, r.text
    assert "<Code>SignatureDoesNotMatch</Code>" in r.text
