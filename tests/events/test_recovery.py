"""Replays and OAuth authorization across a crash, on a broker whose jobs run only when the test runs them: a replay
killed (-9) in the middle resumes after the restart without sending an event twice; a RUNNING replay cancelled
stops at its next chunk; a connection left AUTHORIZING by a crash is authorized by the authorization job."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.events.helpers import ACCOUNT, REGION, bus_arn

ARCHIVE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:archive/arc"
EVENTS = 1500  # more than one run of the replay job sends


@pytest.fixture
def quiet(server_factory, backend):
    """A broker whose periodic jobs do not run by themselves (the test runs them)."""
    return server_factory(backend, env={"BROKER_SWEEP_INTERVAL_SECONDS": "3600"}).start()


def _archived_replay(server) -> tuple[object, object, str]:
    """EVENTS events archived, then a rule sending to an SQS queue, and a replay of them started."""
    events, sqs = server.client("events"), server.client("sqs")
    events.create_archive(ArchiveName="arc", EventSourceArn=bus_arn("default"))
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    for first in range(0, EVENTS, 10):
        entries = [
            {"Source": "my.app", "DetailType": "t", "Detail": json.dumps({"n": n}), "Time": base + timedelta(seconds=n)}
            for n in range(first, first + 10)
        ]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    url = sqs.create_queue(QueueName="replayed")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    events.start_replay(
        ReplayName="rp",
        EventSourceArn=ARCHIVE_ARN,
        EventStartTime=base - timedelta(minutes=1),
        EventEndTime=base + timedelta(minutes=30),
        Destination={"Arn": bus_arn("default")},
    )
    server.advance(5)  # past the replay's start delay
    return events, sqs, url


def _drain(sqs, url: str) -> list[int]:
    """The `n` of every message in the queue (deleted), until it stays empty."""
    out: list[int] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return out
        for m in batch:
            body = json.loads(m["Body"])
            assert body["replay-name"] == "rp"
            out.append(body["detail"]["n"])
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )


def _run_until_killed(server) -> None:
    with contextlib.suppress(httpx.HTTPError):
        server.run_job("events.replays")


def _state(events) -> str:
    return events.describe_replay(ReplayName="rp")["State"]


def test_replay_resumes_after_kill(quiet):
    events, sqs, url = _archived_replay(quiet)
    assert quiet.run_job("events.replays")["ran"]
    assert _state(events) == "RUNNING"  # one run does part of the work
    runner = threading.Thread(target=_run_until_killed, args=(quiet,), daemon=True)
    try:
        runner.start()
        time.sleep(0.1)  # in the middle of the second run
    finally:
        quiet.kill()
    runner.join(timeout=30)
    quiet.start()
    events, sqs = quiet.client("events"), quiet.client("sqs")
    deadline = time.monotonic() + 60
    while _state(events) != "COMPLETED" and time.monotonic() < deadline:
        quiet.run_job("events.replays")
    assert _state(events) == "COMPLETED"
    replayed = _drain(sqs, url)
    assert sorted(replayed) == list(range(EVENTS))  # each once: a chunk commits with the cursor or not at all


def test_cancel_running_replay(quiet):
    events, sqs, url = _archived_replay(quiet)
    assert quiet.run_job("events.replays")["ran"]
    assert _state(events) == "RUNNING"
    sent = _drain(sqs, url)
    assert 0 < len(sent) < EVENTS
    assert events.cancel_replay(ReplayName="rp")["State"] == "CANCELLING"
    quiet.run_job("events.replays")
    described = events.describe_replay(ReplayName="rp")
    assert described["State"] == "CANCELLED" and "ReplayEndTime" in described
    assert _drain(sqs, url) == []  # nothing after the cancel
    assert sorted(sent) == list(range(len(sent)))  # in event-time order, from the start


class _SlowTokens:
    """A token endpoint whose first answer never comes in time (the broker is killed meanwhile)."""

    def __init__(self) -> None:
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.calls += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.calls == 1:
                    time.sleep(3)
                answer = json.dumps({"access_token": f"tok-{outer.calls}", "expires_in": 3600}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_connection_left_authorizing_by_a_crash_is_authorized(quiet):
    tokens = _SlowTokens()
    try:
        events = quiet.client("events")
        auth = {
            "OAuthParameters": {
                "ClientParameters": {"ClientID": "c", "ClientSecret": "s"},
                "AuthorizationEndpoint": tokens.url,
                "HttpMethod": "POST",
            }
        }
        out = events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=auth)
        assert out["ConnectionState"] == "AUTHORIZING"
        deadline = time.monotonic() + 10
        while tokens.calls == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        quiet.kill()  # while the first token fetch waits for its answer
        quiet.start()
        events = quiet.client("events")
        assert events.describe_connection(Name="o")["ConnectionState"] == "AUTHORIZING"
        quiet.advance(10)  # older than the grace the first fetch has
        assert quiet.run_job("events.authorizations")["ran"]
        described = events.describe_connection(Name="o")
        assert described["ConnectionState"] == "AUTHORIZED" and "LastAuthorizedTime" in described
        assert tokens.calls == 2
    finally:
        tokens.server.shutdown()
        tokens.server.server_close()
