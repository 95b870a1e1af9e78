"""HTTP/2 cleartext (prior knowledge) on the same port as HTTP/1.1: Kinesis and SQS over JSON and CBOR through
httpx and a raw `h2` client, large bodies through both sides' flow control, many streams on one connection,
SubscribeToShard's event stream as DATA frames and its cancellation by RST_STREAM or a closed connection, and the
AWS SDK for JavaScript v3 (whose Kinesis client speaks HTTP/2 by default) run by node."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import cbor2
import h2.config
import h2.connection
import h2.events
import h2.settings
import httpx
import pytest
from botocore.eventstream import EventStreamBuffer
from h2.errors import ErrorCodes

from tests.server import ROOT, BrokerServer

CI = os.environ.get("CI", "").lower() == "true"
JSON_CT = "application/x-amz-json-1.1"
CBOR_CT = "application/x-amz-cbor-1.1"
SQS_CT = "application/x-amz-json-1.0"
AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{svc}/aws4_request, SignedHeaders=host, Signature=0"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One broker (SQLite: the protocol layer is the same on every backend) for the module."""
    s = BrokerServer(tmp_path_factory.mktemp("h2") / "data").start()
    yield s
    s.stop()


@pytest.fixture
def broker(server):
    server.reset()
    return server


def _cbor(data: bytes):
    """AWS's CBOR: timestamps are tag 1 with epoch milliseconds, which cbor2 would read as seconds."""
    return cbor2.CBORDecoder(io.BytesIO(data), semantic_decoders={1: lambda value, immutable: value}).decode()


def _headers(svc: str, target: str, ct: str) -> dict[str, str]:
    return {"Content-Type": ct, "X-Amz-Target": target, "Authorization": AUTH.format(svc=svc)}


def _h2_client() -> httpx.Client:
    return httpx.Client(http1=False, http2=True, timeout=30)


def _kinesis(client: httpx.Client, url: str, op: str, body: dict, cbor: bool = False) -> dict:
    ct = CBOR_CT if cbor else JSON_CT
    content = cbor2.dumps(body) if cbor else json.dumps(body).encode()
    r = client.post(url + "/", content=content, headers=_headers("kinesis", f"Kinesis_20131202.{op}", ct))
    assert r.http_version == "HTTP/2"
    assert r.status_code == 200, r.content[:500]
    assert r.headers["content-type"] == ct
    return _cbor(r.content) if cbor else r.json()


def _create_stream(client: httpx.Client, url: str, name: str, cbor: bool = False) -> str:
    _kinesis(client, url, "CreateStream", {"StreamName": name, "ShardCount": 1}, cbor)
    for _ in range(100):
        summary = _kinesis(client, url, "DescribeStreamSummary", {"StreamName": name}, cbor)
        if summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            return summary["StreamDescriptionSummary"]["StreamARN"]
        time.sleep(0.1)
    raise AssertionError("the stream never became ACTIVE")


def _read_all(client: httpx.Client, url: str, stream: str, cbor: bool = False) -> list[dict]:
    it = _kinesis(
        client,
        url,
        "GetShardIterator",
        {"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"},
        cbor,
    )["ShardIterator"]
    return _kinesis(client, url, "GetRecords", {"ShardIterator": it}, cbor)["Records"]


class H2Client:
    """A raw HTTP/2 client on one socket (the `h2` library): many streams at once, our own flow-control window,
    RST_STREAM when we like."""

    def __init__(self, port: int, window: int | None = None, ack: bool = True) -> None:
        self.port = port
        self.ack = ack  # False: never hand the window back (a client that stops reading)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        if window is not None:  # how much response data the server may send before we acknowledge it
            self.conn.local_settings = h2.settings.Settings(
                client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window}
            )
        self.conn.initiate_connection()
        self.pending: dict[int, memoryview] = {}  # request bodies not sent yet (waiting for window)
        self.status: dict[int, int] = {}
        self.data: dict[int, bytearray] = {}
        self.ended: set[int] = set()
        self.reset: dict[int, int] = {}
        self.max_frame = 0
        self.unacknowledged = 0
        self.flush()

    def flush(self) -> None:
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def start(self, svc: str, target: str, body: bytes, ct: str, end: bool = True) -> int:
        sid = self.conn.get_next_available_stream_id()
        headers = [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":authority", f"127.0.0.1:{self.port}".encode()),
            (b":path", b"/"),
            (b"content-type", ct.encode()),
            (b"x-amz-target", target.encode()),
            (b"authorization", AUTH.format(svc=svc).encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        self.conn.send_headers(sid, headers, end_stream=not body and end)
        self.data[sid] = bytearray()
        if body:
            self.pending[sid] = memoryview(body)
        self._send_pending(end)
        self.flush()
        return sid

    def _send_pending(self, end: bool = True) -> None:
        for sid, view in list(self.pending.items()):
            while view:
                size = min(len(view), self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
                if size <= 0:
                    break
                self.conn.send_data(sid, view[:size], end_stream=end and size == len(view))
                view = view[size:]
            if view:
                self.pending[sid] = view
            else:
                del self.pending[sid]

    def pump(self, timeout: float = 15) -> bool:
        """Read once and handle what arrived; False when the server closed the connection."""
        self.sock.settimeout(timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        for event in self.conn.receive_data(chunk):
            if isinstance(event, h2.events.ResponseReceived):
                self.status[event.stream_id] = int(dict(event.headers)[b":status"])
            elif isinstance(event, h2.events.DataReceived):
                self.data[event.stream_id] += event.data
                self.max_frame = max(self.max_frame, event.flow_controlled_length)
                if self.ack:
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                else:
                    self.unacknowledged += event.flow_controlled_length
            elif isinstance(event, h2.events.StreamEnded):
                self.ended.add(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self.reset[event.stream_id] = event.error_code
        self._send_pending()
        self.flush()
        return True

    def wait(self, sids: list[int]) -> None:
        deadline = time.monotonic() + 30
        while not all(s in self.ended or s in self.reset for s in sids):
            assert time.monotonic() < deadline, "no answer in time"
            assert self.pump(), "the server closed the connection"

    def json(self, sid: int) -> dict:
        assert self.status[sid] == 200, bytes(self.data[sid][:500])
        return json.loads(self.data[sid])

    def cancel(self, sid: int) -> None:
        self.conn.reset_stream(sid, ErrorCodes.CANCEL)
        self.flush()

    def close(self) -> None:
        self.sock.close()


# -- Kinesis and SQS, JSON and CBOR ----------------------------------------------------------------------------
def test_kinesis_json_over_http2(broker):
    with _h2_client() as c:
        _create_stream(c, broker.url, "h2json")
        put = _kinesis(c, broker.url, "PutRecord", {"StreamName": "h2json", "Data": "aGVsbG8=", "PartitionKey": "k"})
        assert put["ShardId"] == "shardId-000000000000"
        (record,) = _read_all(c, broker.url, "h2json")
        assert record["Data"] == "aGVsbG8=" and record["SequenceNumber"] == put["SequenceNumber"]
        # Errors are answered in the request's protocol over HTTP/2 too.
        r = c.post(
            broker.url + "/",
            content=b'{"StreamName":"missing"}',
            headers=_headers("kinesis", "Kinesis_20131202.DescribeStreamSummary", JSON_CT),
        )
        assert r.status_code == 400 and r.json()["__type"] == "ResourceNotFoundException"
    # The same port still speaks HTTP/1.1, and sees what HTTP/2 wrote.
    r = httpx.post(
        broker.url + "/",
        content=b'{"StreamName":"h2json"}',
        headers=_headers("kinesis", "Kinesis_20131202.DescribeStreamSummary", JSON_CT),
    )
    assert r.http_version == "HTTP/1.1" and r.json()["StreamDescriptionSummary"]["StreamName"] == "h2json"


def test_kinesis_cbor_over_http2(broker):
    with _h2_client() as c:
        _create_stream(c, broker.url, "h2cbor", cbor=True)
        out = _kinesis(
            c, broker.url, "PutRecord", {"StreamName": "h2cbor", "Data": b"\x00\xffbin", "PartitionKey": "k"}, True
        )
        assert out["ShardId"] == "shardId-000000000000"
        (record,) = _read_all(c, broker.url, "h2cbor", cbor=True)
        assert record["Data"] == b"\x00\xffbin"


def test_sqs_json_and_query_over_http2(broker):
    with _h2_client() as c:

        def call(op: str, body: dict) -> dict:
            r = c.post(broker.url + "/", json=body, headers=_headers("sqs", f"AmazonSQS.{op}", SQS_CT))
            assert r.http_version == "HTTP/2" and r.status_code == 200, r.content
            return r.json()

        url = call("CreateQueue", {"QueueName": "h2q"})["QueueUrl"]
        assert url == f"http://127.0.0.1:{broker.port}/queue/us-east-1/000000000000/h2q"  # host from :authority
        call("SendMessage", {"QueueUrl": url, "MessageBody": "over h2"})
        (msg,) = call("ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 1})["Messages"]
        assert msg["Body"] == "over h2"
        r = c.post(broker.url + "/", data={"Action": "GetQueueUrl", "QueueName": "h2q", "Version": "2012-11-05"})
        assert r.status_code == 200 and b"<QueueUrl>" in r.content


def test_large_bodies_through_flow_control(broker):
    """A 1 MB record goes up through the server's windows (256 KiB a stream) and comes back (base64: 1.4 MB)
    through a client window of 16 KiB: h2 on either side fails on any frame beyond its window."""
    with _h2_client() as c:
        _create_stream(c, broker.url, "big")
    payload = os.urandom(1_000_000)
    h2c = H2Client(broker.port, window=16 * 1024)
    try:
        body = cbor2.dumps({"StreamName": "big", "Data": payload, "PartitionKey": "k"})
        sids = [h2c.start("kinesis", "Kinesis_20131202.PutRecord", body, CBOR_CT) for _ in range(3)]
        h2c.wait(sids)
        assert [h2c.status[s] for s in sids] == [200, 200, 200]
        it = h2c.start(
            "kinesis",
            "Kinesis_20131202.GetShardIterator",
            json.dumps(
                {"StreamName": "big", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}
            ).encode(),
            JSON_CT,
        )
        h2c.wait([it])
        body = json.dumps({"ShardIterator": h2c.json(it)["ShardIterator"], "Limit": 2}).encode()
        get = h2c.start("kinesis", "Kinesis_20131202.GetRecords", body, JSON_CT)
        h2c.wait([get])
        records = h2c.json(get)["Records"]
        assert len(records) == 2 and len(h2c.data[get]) > 2_600_000
        assert [base64.b64decode(r["Data"]) for r in records] == [payload, payload]
        assert h2c.max_frame <= 16 * 1024  # never past the default frame size the client announced
    finally:
        h2c.close()


def test_many_concurrent_streams_on_one_connection(broker):
    h2c = H2Client(broker.port)
    try:
        sids = [
            h2c.start("sqs", "AmazonSQS.CreateQueue", json.dumps({"QueueName": f"q{i}"}).encode(), SQS_CT)
            for i in range(100)
        ]
        h2c.wait(sids)  # all 100 were open at once: sent before any answer was read
        assert sorted(h2c.json(s)["QueueUrl"].rsplit("/", 1)[1] for s in sids) == sorted(f"q{i}" for i in range(100))
    finally:
        h2c.close()

    async def many() -> list[httpx.Response]:
        async with httpx.AsyncClient(http1=False, http2=True, timeout=30) as client:
            url = (
                await client.post(
                    broker.url + "/",
                    json={"QueueName": "async"},
                    headers=_headers("sqs", "AmazonSQS.CreateQueue", SQS_CT),
                )
            ).json()["QueueUrl"]
            sends = [
                client.post(
                    broker.url + "/",
                    json={"QueueUrl": url, "MessageBody": f"m{i}"},
                    headers=_headers("sqs", "AmazonSQS.SendMessage", SQS_CT),
                )
                for i in range(200)
            ]
            return await asyncio.gather(*sends)

    answers = asyncio.run(many())
    assert {(r.http_version, r.status_code) for r in answers} == {("HTTP/2", 200)}


def test_body_cut_off_by_a_reset_is_not_executed(broker):
    h2c = H2Client(broker.port)
    try:
        body = json.dumps({"QueueName": "never"}).encode()
        sid = h2c.start("sqs", "AmazonSQS.CreateQueue", body[:10], SQS_CT, end=False)
        time.sleep(0.2)
        h2c.cancel(sid)
        ok = h2c.start("sqs", "AmazonSQS.ListQueues", b"{}", SQS_CT)
        h2c.wait([ok])
        assert h2c.json(ok).get("QueueUrls", []) == []
    finally:
        h2c.close()


def test_first_bytes_split_across_packets(broker):
    """The protocol is told by the first bytes even when they come in pieces: an HTTP/1.1 request whose first
    packet could still be the HTTP/2 preface ("P"), and a preface cut in two."""
    body = b"{}"
    request = (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.ListQueues\r\n"
        b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n" + body
    )
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as s:
        s.sendall(request[:1])
        time.sleep(0.1)
        s.sendall(request[1:])
        assert s.recv(65536).startswith(b"HTTP/1.1 200 ")
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as s:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        conn.initiate_connection()
        first = conn.data_to_send()
        s.sendall(first[:7])
        time.sleep(0.1)
        s.sendall(first[7:])
        conn.send_headers(
            1,
            [
                (b":method", b"GET"),
                (b":scheme", b"http"),
                (b":authority", b"127.0.0.1"),
                (b":path", b"/_broker/health"),
            ],
            end_stream=True,
        )
        s.sendall(conn.data_to_send())
        status = None
        while status is None:
            for event in conn.receive_data(s.recv(65536)):
                if isinstance(event, h2.events.ResponseReceived):
                    status = dict(event.headers)[b":status"]
            s.sendall(conn.data_to_send())
        assert status == b"200"


def test_graceful_shutdown_with_http2_connections(server_factory):
    """SIGTERM: an idle HTTP/2 connection gets GOAWAY at once, an open event stream the same grace period as
    HTTP/1.1 requests (5 s), then the server exits cleanly."""
    server = server_factory("sqlite").start()
    with _h2_client() as c:
        arn = _create_stream(c, server.url, "bye")
        consumer = _consumer(c, server.url, arn, "bye")
    idle = H2Client(server.port)
    ok = idle.start("kinesis", "Kinesis_20131202.ListStreams", b"{}", JSON_CT)
    idle.wait([ok])
    busy = H2Client(server.port)
    sid = _subscribe(busy, consumer)
    while sid not in busy.status:
        assert busy.pump()
    started = time.monotonic()
    os.killpg(server.proc.pid, signal.SIGTERM)
    while idle.pump():  # GOAWAY, then the server closes the connection
        pass
    assert idle.conn.state_machine.state == h2.connection.ConnectionState.CLOSED
    assert time.monotonic() - started < 2
    while busy.pump(timeout=15):
        pass
    assert sid in busy.reset and 4 < time.monotonic() - started < 10
    assert server.proc.wait(15) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    assert "Traceback" not in server.log_path.read_text().split("Cancel 1 running task(s)")[0]
    idle.close()
    busy.close()


# -- SubscribeToShard: an event stream as DATA frames ----------------------------------------------------------
def _resources(broker: BrokerServer) -> dict:
    return broker.admin("GET", "/_broker/resources")


def _settle(broker: BrokerServer, ok, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        now = _resources(broker)
        if ok(now) or time.monotonic() > deadline:
            return now
        time.sleep(0.1)


def _subscribe(h2c: H2Client, consumer: str, cbor: bool = False) -> int:
    body = {"ConsumerARN": consumer, "ShardId": "shardId-000000000000", "StartingPosition": {"Type": "LATEST"}}
    content = cbor2.dumps(body) if cbor else json.dumps(body).encode()
    return h2c.start("kinesis", "Kinesis_20131202.SubscribeToShard", content, CBOR_CT if cbor else JSON_CT)


def _events(h2c: H2Client, sid: int, buffer: EventStreamBuffer, messages: list, want: int) -> list:
    """Event-stream messages of the stream, added to `messages` until it holds the initial response and `want`
    records."""
    deadline = time.monotonic() + 20
    seen = 0
    while True:
        if h2c.data[sid]:
            buffer.add_data(bytes(h2c.data[sid]))
            h2c.data[sid].clear()
            for m in buffer:
                messages.append(m)
        records = sum(
            len(_payload(m)["Records"]) for m in messages if m.headers[":event-type"] == "SubscribeToShardEvent"
        )
        if messages and records >= want:
            return messages
        assert sid not in h2c.ended and sid not in h2c.reset, "the subscription ended early"
        assert time.monotonic() < deadline, f"only {seen} records arrived"
        seen = records
        assert h2c.pump()


def _payload(message) -> dict:
    ct = message.headers[":content-type"]
    return _cbor(message.payload) if ct == CBOR_CT else json.loads(message.payload)


def _consumer(c: httpx.Client, url: str, arn: str, name: str) -> str:
    consumer = _kinesis(c, url, "RegisterStreamConsumer", {"StreamARN": arn, "ConsumerName": name})["Consumer"]
    return consumer["ConsumerARN"]


@pytest.mark.parametrize("cancel", ["rst_stream", "connection_close"])
@pytest.mark.parametrize("cbor", [False, True], ids=["json", "cbor"])
def test_subscribe_to_shard_over_http2(broker, cancel, cbor):
    with _h2_client() as c:
        arn = _create_stream(c, broker.url, "efo")
        consumer = _consumer(c, broker.url, arn, f"h2-{cancel}-{cbor}")
        before = _settle(broker, lambda r: r["waiting"] == 0)
        h2c = H2Client(broker.port)
        buffer = EventStreamBuffer()
        try:
            sid = _subscribe(h2c, consumer, cbor)
            messages: list = []
            initial = _events(h2c, sid, buffer, messages, 0)
            assert h2c.status[sid] == 200 and initial[0].headers[":event-type"] == "initial-response"
            assert _settle(broker, lambda r: r["waiting"] >= 1)["waiting"] >= 1  # parked, waiting for records
            # Records put after the subscription started are pushed on the open stream, while other streams of
            # the same connection keep working.
            for i in range(3):
                _kinesis(c, broker.url, "PutRecord", {"StreamName": "efo", "Data": "eA==", "PartitionKey": f"p{i}"})
            other = h2c.start("kinesis", "Kinesis_20131202.ListStreams", b"{}", JSON_CT)
            _events(h2c, sid, buffer, messages, 3)
            h2c.wait([other])
            assert h2c.json(other)["StreamNames"] == ["efo"]
            records = [r for m in messages[1:] for r in _payload(m)["Records"]]
            assert len(records) == 3 and all(m.headers[":event-type"] == "SubscribeToShardEvent" for m in messages[1:])
            if cancel == "rst_stream":
                h2c.cancel(sid)
                # The connection lives on: the reset ended one stream, not the others.
                ok = h2c.start("kinesis", "Kinesis_20131202.ListStreams", b"{}", JSON_CT)
                h2c.wait([ok])
                assert h2c.status[ok] == 200
        finally:
            if cancel == "connection_close":
                h2c.close()
        # The subscription's waiter and task are gone, as after an HTTP/1.1 hang-up.
        after = _settle(broker, lambda r: r["waiting"] == 0 and r["tasks"] <= before["tasks"])
        assert after["waiting"] == 0, after
        assert after["tasks"] <= before["tasks"], (before, after)
        h2c.close()


def test_event_stream_waits_for_the_client_window(broker):
    """A subscriber that stops reading gets no more than its window (h2 would fail on a frame beyond it); the
    producer waits and goes on once the client reads again, and a reset still ends it cleanly."""
    with _h2_client() as c:
        arn = _create_stream(c, broker.url, "slow")
        consumer = _consumer(c, broker.url, arn, "slow")
        before = _settle(broker, lambda r: r["waiting"] == 0)
        h2c = H2Client(broker.port, window=4096, ack=False)
        try:
            sid = _subscribe(h2c, consumer)
            while sid not in h2c.status:
                assert h2c.pump()
            data = base64.b64encode(os.urandom(3000)).decode()
            for i in range(5):
                _kinesis(c, broker.url, "PutRecord", {"StreamName": "slow", "Data": data, "PartitionKey": f"p{i}"})
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                try:
                    h2c.pump(timeout=0.2)
                except TimeoutError:
                    pass
            assert 0 < len(h2c.data[sid]) <= 4096  # the first events, cut at the window
            assert sid not in h2c.reset and sid not in h2c.ended
            h2c.ack = True  # reading again: the rest of the records follow
            h2c.conn.acknowledge_received_data(h2c.unacknowledged, sid)
            h2c.flush()
            messages = _events(h2c, sid, EventStreamBuffer(), [], 5)
            assert [r["Data"] for m in messages[1:] for r in _payload(m)["Records"]] == [data] * 5
            h2c.cancel(sid)
            after = _settle(broker, lambda r: r["waiting"] == 0 and r["tasks"] <= before["tasks"])
            assert after["waiting"] == 0 and after["tasks"] <= before["tasks"], (before, after)
        finally:
            h2c.close()


# -- The AWS SDK for JavaScript v3 ------------------------------------------------------------------------------
JS_SDK = ROOT / ".cache" / "npm-js-sdk"
# Exact versions: installed once into JS_SDK and kept there (a newer SDK may want a newer node than Debian's).
JS_PACKAGES = {"@aws-sdk/client-kinesis": "3.1143.0", "@aws-sdk/client-sqs": "3.1178.0"}
JS_SCRIPT = r"""
import { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordCommand,
  GetShardIteratorCommand, GetRecordsCommand } from "@aws-sdk/client-kinesis";
import { SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";

const common = { endpoint: process.argv[2], region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: "test", secretAccessKey: "secret" } };
const kinesis = new KinesisClient(common);
const sqs = new SQSClient(common);
const out = { kinesisHandler: kinesis.config.requestHandler.constructor.name };
await kinesis.send(new CreateStreamCommand({ StreamName: "js", ShardCount: 1 }));
for (let i = 0; i < 100; i++) {
  const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: "js" }));
  if (s.StreamDescriptionSummary.StreamStatus === "ACTIVE") break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const data = new TextEncoder().encode("hello from node");
const puts = await Promise.all([0, 1, 2].map((i) =>
  kinesis.send(new PutRecordCommand({ StreamName: "js", Data: data, PartitionKey: `p${i}` }))));
const it = await kinesis.send(new GetShardIteratorCommand({ StreamName: "js", ShardId: puts[0].ShardId,
  ShardIteratorType: "TRIM_HORIZON" }));
const got = await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
out.records = got.Records.map((r) => new TextDecoder().decode(r.Data));
const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "js" }));
await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "hello sqs" }));
const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
out.messages = (received.Messages ?? []).map((m) => m.Body);
kinesis.destroy();
sqs.destroy();
console.log("RESULT " + JSON.stringify(out));
"""


def _node_and_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    if not CI:
        reason = "node and npm are needed for the AWS SDK for JavaScript test (apt-get install nodejs npm)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "nodejs", "npm"], check=True, timeout=600)
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "apt-get installed no node/npm"
    return node, npm


def _installed(package: str) -> str | None:
    manifest = JS_SDK / "node_modules" / package / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


@pytest.fixture(scope="session")
def js_sdk() -> Path:
    """The AWS SDK for JavaScript v3 clients, installed by npm into .cache/npm-js-sdk (kept between runs)."""
    node, npm = _node_and_npm()
    if any(_installed(p) != v for p, v in JS_PACKAGES.items()):
        JS_SDK.mkdir(parents=True, exist_ok=True)
        (JS_SDK / "package.json").write_text(json.dumps({"private": True, "dependencies": JS_PACKAGES}, indent=2))
        proc = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund"], cwd=JS_SDK, capture_output=True, text=True, timeout=600
        )
        if proc.returncode != 0:
            reason = f"npm install failed: {(proc.stderr or proc.stdout)[-1000:]}"
            if CI:
                pytest.fail(reason)
            print(f"SKIP: {reason}")
            pytest.skip(reason)
    return JS_SDK


def test_aws_sdk_for_javascript_v3(broker, js_sdk):
    script = js_sdk / "h2_smoke.mjs"  # beside node_modules, where its imports resolve
    script.write_text(JS_SCRIPT)
    proc = subprocess.run(["node", str(script), broker.url], cwd=js_sdk, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])
    assert out["kinesisHandler"] == "NodeHttp2Handler"  # the SDK's default for Kinesis: HTTP/2
    assert out["records"] == ["hello from node"] * 3
    assert out["messages"] == ["hello sqs"]
