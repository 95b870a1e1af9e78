"""Deliveries that fail: retries with backoff on the test clock, dead-letter queues with EventBridge's message
attributes (a target that does not exist goes there at once), MaximumRetryAttempts and MaximumEventAgeInSeconds,
a throttled Kinesis target retried until its records are in, and deliveries pending at kill -9 completing after
the restart. Failing targets are real: a deleted queue, a saturated shard, a loopback HTTP endpoint (an API
destination) that answers 500."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import create_engine, func, select

from broker.config import Settings
from broker.services.events.delivery import CLAIM_MS
from broker.storage.tables import events_deliveries
from tests.conftest import serve
from tests.events.helpers import ACCOUNT, queue, rule_arn
from tests.server import BrokerServer

ROLE = f"arn:aws:iam::{ACCOUNT}:role/events"


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "events-delivery", workers=2, env={"BROKER_KINESIS_THROUGHPUT_LIMITS": "true"})


@pytest.fixture
def broker(server: BrokerServer) -> BrokerServer:
    server.reset()
    return server


@pytest.fixture
def events(broker):
    return broker.client("events")


class Endpoint:
    """A loopback HTTP endpoint answering `status`; records (event id, status answered) per request."""

    def __init__(self) -> None:
        self.status = 500
        self.delay = 0.0  # seconds before answering
        self.seen: list[tuple[str, int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = outer.status
                outer.seen.append((json.loads(body)["id"], status))
                time.sleep(outer.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    e = Endpoint()
    yield e
    e.stop()


def dead_letter(broker, url: str, timeout: float = 30, advance: float = 0) -> dict:
    """The next dead-lettered message, moving the clock by `advance` and running the delivery job meanwhile."""
    sqs = broker.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, MessageAttributeNames=["All"]).get("Messages")
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return got[0]
        if advance:
            broker.advance(advance)
        broker.run_job("events.deliveries")
        time.sleep(0.2)
    raise AssertionError(f"nothing dead-lettered in {url}")


def until(broker, check, timeout: float = 30, advance: float = 0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if advance:
            broker.advance(advance)
        broker.run_job("events.deliveries")
        time.sleep(0.2)
    assert check()


_engines: dict[str, object] = {}


def pending(broker) -> int:
    """Stored deliveries (retries waiting, remote sends not yet made), read from the broker's database."""
    url = Settings(data_dir=str(broker.data_dir), db_url=broker.db_url).database_url()
    if url not in _engines:
        _engines[url] = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    with _engines[url].connect() as conn:
        return conn.execute(select(func.count()).select_from(events_deliveries)).scalar_one()


def no_more_attempts(broker, endpoint: Endpoint) -> None:
    """Nothing stored is left to attempt: an hour later, with the job run, the endpoint saw nothing more."""
    seen = len(endpoint.seen)
    until(broker, lambda: pending(broker) == 0)
    broker.advance(3600)
    broker.run_job("events.deliveries")
    assert pending(broker) == 0 and len(endpoint.seen) == seen


def attributes(message: dict) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}


def put(events, detail: dict | None = None) -> str:
    out = events.put_events(Entries=[{"Source": "my.app", "DetailType": "t", "Detail": json.dumps(detail or {"n": 1})}])
    assert out["FailedEntryCount"] == 0, out
    return out["Entries"][0]["EventId"]


def rule_to(events, target: dict) -> None:
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["my.app"]}))
    assert events.put_targets(Rule="r", Targets=[{"Id": "t", **target}])["FailedEntryCount"] == 0


def api_destination(events, endpoint: Endpoint) -> str:
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "x-key", "ApiKeyValue": "v"}}
    conn = events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters=auth)["ConnectionArn"]
    return events.create_api_destination(
        Name="d", ConnectionArn=conn, InvocationEndpoint=endpoint.url, HttpMethod="POST"
    )["ApiDestinationArn"]


# -- targets that do not exist ------------------------------------------------------------------------------------
def test_missing_target_is_dead_lettered_without_retries(broker, events):
    sqs = broker.client("sqs")
    gone_url, gone_arn = queue(broker, "gone")
    dlq_url, dlq_arn = queue(broker, "dlq")
    rule_to(events, {"Arn": gone_arn, "DeadLetterConfig": {"Arn": dlq_arn}})
    sqs.delete_queue(QueueUrl=gone_url)
    event_id = put(events)
    message = dead_letter(broker, dlq_url)
    assert json.loads(message["Body"])["id"] == event_id
    attrs = attributes(message)
    assert attrs["RULE_ARN"] == rule_arn("r")
    assert attrs["TARGET_ARN"] == gone_arn
    assert attrs["ERROR_CODE"] == "NO_RESOURCE"
    assert attrs["ERROR_MESSAGE"] == f"Queue {gone_arn} does not exist."
    assert attrs["RETRY_ATTEMPTS"] == "0"
    assert "EXHAUSTED_RETRY_CONDITION" not in attrs


def test_missing_function_is_dead_lettered_with_the_transformed_input(broker, events):
    dlq_url, dlq_arn = queue(broker, "dlq")
    missing = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nobody"
    rule_to(events, {"Arn": missing, "InputPath": "$.detail", "DeadLetterConfig": {"Arn": dlq_arn}})
    put(events, {"n": 7})
    message = dead_letter(broker, dlq_url)
    assert json.loads(message["Body"]) == {"n": 7}
    attrs = attributes(message)
    assert attrs["TARGET_ARN"] == missing
    assert (attrs["ERROR_CODE"], attrs["ERROR_MESSAGE"]) == ("NO_RESOURCE", f"Function {missing} does not exist.")


# -- retries --------------------------------------------------------------------------------------------------------
def test_failing_endpoint_is_retried_until_it_answers(broker, events, endpoint):
    rule_to(events, {"Arn": api_destination(events, endpoint), "RoleArn": ROLE})
    event_id = put(events)
    until(broker, lambda: len(endpoint.seen) >= 1)
    endpoint.status = 200
    until(broker, lambda: (event_id, 200) in endpoint.seen, advance=5)
    assert {e for e, _ in endpoint.seen} == {event_id}
    no_more_attempts(broker, endpoint)  # delivered


def test_retries_exhausted_go_to_the_dead_letter_queue(broker, events, endpoint):
    dlq_url, dlq_arn = queue(broker, "dlq")
    target = api_destination(events, endpoint)
    rule_to(
        events,
        {
            "Arn": target,
            "RoleArn": ROLE,
            "RetryPolicy": {"MaximumRetryAttempts": 2},
            "DeadLetterConfig": {"Arn": dlq_arn},
        },
    )
    event_id = put(events)
    message = dead_letter(broker, dlq_url, advance=600)
    assert json.loads(message["Body"])["id"] == event_id
    attrs = attributes(message)
    assert attrs["TARGET_ARN"] == target and attrs["RULE_ARN"] == rule_arn("r")
    assert attrs["ERROR_CODE"] == "SDK_CLIENT_ERROR"
    assert "500" in attrs["ERROR_MESSAGE"]
    assert attrs["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attrs["RETRY_ATTEMPTS"] == "2"
    assert endpoint.seen == [(event_id, 500)] * 3  # the first attempt and two retries


def test_no_retries_without_a_dead_letter_queue_drops_the_event(broker, events, endpoint):
    rule_to(
        events, {"Arn": api_destination(events, endpoint), "RoleArn": ROLE, "RetryPolicy": {"MaximumRetryAttempts": 0}}
    )
    put(events)
    until(broker, lambda: len(endpoint.seen) == 1)
    no_more_attempts(broker, endpoint)
    assert len(endpoint.seen) == 1


def test_event_older_than_its_maximum_age_is_dead_lettered(broker, events, endpoint):
    dlq_url, dlq_arn = queue(broker, "dlq")
    rule_to(
        events,
        {
            "Arn": api_destination(events, endpoint),
            "RoleArn": ROLE,
            "RetryPolicy": {"MaximumEventAgeInSeconds": 60},
            "DeadLetterConfig": {"Arn": dlq_arn},
        },
    )
    event_id = put(events)
    until(broker, lambda: len(endpoint.seen) >= 1)
    broker.advance(120)
    message = dead_letter(broker, dlq_url)
    assert json.loads(message["Body"])["id"] == event_id
    attrs = attributes(message)
    assert attrs["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
    assert attrs["ERROR_CODE"] == "SDK_CLIENT_ERROR"
    attempts = len(endpoint.seen)
    assert attrs["RETRY_ATTEMPTS"] == str(attempts - 1)
    no_more_attempts(broker, endpoint)


def test_throttled_stream_target_is_retried_until_every_record_is_in(broker, events):
    # The shard takes 1 MiB per second (kinesis_throughput_limits): ten events of 250 KB put within a second or
    # two overflow it, and the deliveries the shard refused are retried.
    kinesis = broker.client("kinesis")
    kinesis.create_stream(StreamName="narrow", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="narrow")["StreamDescriptionSummary"]["StreamARN"]
    rule_to(events, {"Arn": stream})
    ids = {put(events, {"n": n, "pad": "x" * 250_000}) for n in range(10)}
    shard = kinesis.list_shards(StreamName="narrow")["Shards"][0]["ShardId"]

    def landed() -> set[str]:
        # Reads stay under the shard's 2 MiB and 5 calls per second.
        it = kinesis.get_shard_iterator(StreamName="narrow", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        out: set[str] = set()
        iterator = it["ShardIterator"]
        for _ in range(10):
            time.sleep(0.6)
            try:
                page = kinesis.get_records(ShardIterator=iterator, Limit=4)
            except kinesis.exceptions.ProvisionedThroughputExceededException:
                continue
            out |= {json.loads(r["Data"])["id"] for r in page["Records"]}
            iterator = page["NextShardIterator"]
            if not page["Records"]:
                break
        return out

    until(broker, lambda: landed() == ids, timeout=60, advance=30)


# -- durability -----------------------------------------------------------------------------------------------------
def test_pending_deliveries_complete_after_kill_9(broker, events, endpoint):
    rule_to(events, {"Arn": api_destination(events, endpoint), "RoleArn": ROLE})
    ids = {put(events, {"n": n}) for n in range(3)}
    until(broker, lambda: {e for e, _ in endpoint.seen} == ids)
    broker.kill()
    endpoint.status = 200
    broker.start()
    # An attempt the kill cut short is made again once its claim (delivery.CLAIM_MS, wall clock) has ended.
    until(broker, lambda: {e for e, s in endpoint.seen if s == 200} == ids, advance=10, timeout=CLAIM_MS / 1000 + 20)


# -- refusals of database targets ---------------------------------------------------------------------------------
def test_throttled_stream_with_no_retries_goes_to_the_dead_letter_queue(broker, events):
    # A retryable failure of a database target (the shard's 1 MiB per second is spent) under MaximumRetryAttempts 0.
    dlq_url, dlq_arn = queue(broker, "dlq")
    kinesis = broker.client("kinesis")
    kinesis.create_stream(StreamName="tight", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="tight")["StreamDescriptionSummary"]["StreamARN"]
    rule_to(events, {"Arn": stream, "RetryPolicy": {"MaximumRetryAttempts": 0}, "DeadLetterConfig": {"Arn": dlq_arn}})
    entry = {"Source": "my.app", "DetailType": "t"}
    ids = set()
    # 2.4 MB within a second or two (a loaded machine spreads the deliveries): the records past the shard's 1 MiB
    # per second are refused.
    for batch in range(3):
        out = events.put_events(
            Entries=[{**entry, "Detail": json.dumps({"n": batch * 4 + i, "pad": "x" * 200_000})} for i in range(4)]
        )
        assert out["FailedEntryCount"] == 0
        ids |= {e["EventId"] for e in out["Entries"]}
    message = dead_letter(broker, dlq_url)
    attrs = attributes(message)
    assert json.loads(message["Body"])["id"] in ids
    assert attrs["ERROR_CODE"] == "THROTTLING"
    assert attrs["ERROR_MESSAGE"] == "Rate exceeded for shard shardId-000000000000 in stream tight."
    assert attrs["RETRY_ATTEMPTS"] == "0"
    assert attrs["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert pending(broker) == 0  # nothing is retried


@pytest.mark.parametrize(
    ("attrs", "sqs_parameters", "detail", "message"),
    [
        (
            {"FifoQueue": "true", "ContentBasedDeduplication": "true"},
            {},
            {"n": 1},
            "The request must contain the parameter MessageGroupId.",
        ),
        (
            {"FifoQueue": "true"},
            {"MessageGroupId": "g"},
            {"n": 1},
            "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided "
            "explicitly",
        ),
        (
            {"MaximumMessageSize": "1024"},
            None,
            {"pad": "x" * 2000},
            "Message must be shorter than the queue's MaximumMessageSize.",
        ),
    ],
    ids=["fifo-without-group", "fifo-without-content-deduplication", "oversize"],
)
def test_a_queue_refusing_the_message_dead_letters_it_without_retries(
    broker, events, attrs, sqs_parameters, detail, message
):
    name = "target.fifo" if "FifoQueue" in attrs else "target"
    target_url, target_arn = queue(broker, name, **attrs)
    dlq_url, dlq_arn = queue(broker, "dlq")
    target = {"Arn": target_arn, "DeadLetterConfig": {"Arn": dlq_arn}}
    if sqs_parameters is not None:
        target["SqsParameters"] = sqs_parameters
    rule_to(events, target)
    event_id = put(events, detail)
    got = dead_letter(broker, dlq_url)
    assert json.loads(got["Body"])["id"] == event_id
    attrs = attributes(got)
    assert (attrs["ERROR_CODE"], attrs["ERROR_MESSAGE"]) == ("INVALID_PARAMETER", message)
    assert attrs["RETRY_ATTEMPTS"] == "0" and "EXHAUSTED_RETRY_CONDITION" not in attrs
    assert pending(broker) == 0
    assert not broker.client("sqs").receive_message(QueueUrl=target_url).get("Messages")


def _log_since(broker, offset: int) -> str:
    return broker.log_path.read_bytes()[offset:].decode(errors="replace")


@pytest.mark.parametrize("kind", ["deleted", "fifo"])
def test_a_dead_letter_queue_that_cannot_take_it_drops_the_event(broker, events, kind):
    # Only a standard queue (in the rule's Region) is a dead-letter queue: a FIFO one, or one deleted since,
    # drops the event (logged), and nothing is retried.
    sqs = broker.client("sqs")
    missing = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nobody"
    if kind == "fifo":
        dlq_url, dlq_arn = queue(broker, "dlq.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    else:
        dlq_url, dlq_arn = queue(broker, "dlq")
    rule_to(events, {"Arn": missing, "DeadLetterConfig": {"Arn": dlq_arn}})
    if kind == "deleted":
        sqs.delete_queue(QueueUrl=dlq_url)
    offset = broker.log_path.stat().st_size
    event_id = put(events)
    expected = f"dead-letter queue {dlq_arn} " + ("is a FIFO queue" if kind == "fifo" else "does not exist")
    until(broker, lambda: f"Event {event_id} for {missing} dropped" in _log_since(broker, offset))
    assert expected in _log_since(broker, offset)
    assert pending(broker) == 0
    if kind == "deleted":
        broker.advance(61)  # SQS takes the name again a minute after the deletion
        dlq_url, _ = queue(broker, "dlq")  # the same queue again: nothing arrives late
    assert not sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages")


def test_an_attempt_in_flight_is_not_made_again_by_the_other_worker(broker, events, endpoint):
    # Two workers: the one attempting holds the row's claim; the job run on either worker meanwhile leaves it.
    endpoint.status, endpoint.delay = 200, 3.0
    rule_to(events, {"Arn": api_destination(events, endpoint), "RoleArn": ROLE})
    event_id = put(events)
    until(broker, lambda: len(endpoint.seen) == 1)
    for _ in range(6):  # the admin calls reach both worker processes
        broker.run_job("events.deliveries")
    assert endpoint.seen == [(event_id, 200)]
    endpoint.delay = 0
    no_more_attempts(broker, endpoint)
    assert endpoint.seen == [(event_id, 200)]


def test_every_event_is_attempted_once_by_competing_workers(broker, events, endpoint):
    endpoint.status = 200
    rule_to(events, {"Arn": api_destination(events, endpoint), "RoleArn": ROLE})
    ids = [put(events, {"n": n}) for n in range(30)]
    until(broker, lambda: len(endpoint.seen) >= 30)
    no_more_attempts(broker, endpoint)
    assert sorted(e for e, _ in endpoint.seen) == sorted(ids)
