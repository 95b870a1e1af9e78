"""The console's SQS page in a real browser: it lists what boto3 created with the right counts, updates itself, and
each action (send, peek, purge, redrive start/cancel) changes the state as boto3 then sees it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.conftest import serve
from tests.console.conftest import Browser
from tests.lambda_.helpers import queue_with_arn
from tests.server import BrokerServer

# SQLite only in make test: make soak runs the module on PostgreSQL too.


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "console-sqs", workers=2)


def _count(sqs, url: str, name: str = "ApproximateNumberOfMessages") -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name])


def test_lists_queues_with_counts_and_dead_letter_links(page: Browser, server: BrokerServer) -> None:
    sqs = server.client("sqs")
    _dlq, dlq_arn = queue_with_arn(sqs, "orders-dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    url = sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=600)

    page.open("/_broker/console/sqs")
    row = "tr[data-queue=orders]"
    assert page.text(f"{row} td.visible") == "2"
    assert page.text(f"{row} td.in-flight") == "1"
    assert page.text(f"{row} td.delayed") == "1"
    assert page.text(f"{row} td.dlq a") == "orders-dlq"
    assert page.text("tr[data-queue=orders-dlq] td.sources") == "orders"
    assert "FIFO" in page.text("tr[data-queue='jobs.fifo']")
    # The attributes are one click away.
    page.click(f"{row} summary")
    assert "RedrivePolicy" in page.text(f"{row} details")


def test_count_updates_live_without_reload(page: Browser, server: BrokerServer) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="live")["QueueUrl"]
    page.open("/_broker/console/sqs")
    page.wait_text("tr[data-queue=live] td.visible", "0")
    marker = page.driver.execute_script("window.__sameDocument = 1; return 1;")
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    page.wait_text("tr[data-queue=live] td.visible", "2", timeout=10)
    assert page.driver.execute_script("return window.__sameDocument;") == marker  # refreshed in place


def test_send_and_validation_error(page: Browser, server: BrokerServer) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    fifo = sqs.create_queue(QueueName="inbox.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    page.open("/_broker/console/sqs")

    ok, text = page.act("#send-form", QueueUrl=url, MessageBody="hello from the console")
    assert ok, text
    sent = json.loads(text)
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in got] == [(sent["MessageId"], "hello from the console")]

    # The operation's own validation: a FIFO queue needs a group id.
    ok, text = page.act("#send-form", QueueUrl=fifo, MessageBody="no group")
    assert not ok
    assert text == "MissingParameter: The request must contain the parameter MessageGroupId."
    assert _count(sqs, fifo) == 0
    # And the input shape's checks, as the protocol layer applies them.
    ok, text = page.act("#send-form", QueueUrl=url, MessageBody="x", DelaySeconds="901")
    assert not ok and text.startswith("InvalidParameterValue"), text

    ok, text = page.act(
        "#send-form",
        QueueUrl=fifo,
        MessageBody="grouped",
        MessageGroupId="g1",
        MessageDeduplicationId="d1",
        DelaySeconds="",
    )
    assert ok, text
    assert "SequenceNumber" in json.loads(text)


def test_peek_leaves_visibility_untouched(page: Browser, server: BrokerServer) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="peeked")["QueueUrl"]
    ids = [sqs.send_message(QueueUrl=url, MessageBody=f"body-{i}")["MessageId"] for i in range(2)]
    page.open("/_broker/console/sqs")

    ok, text = page.act("#peek-form", QueueUrl=url)
    assert ok, text
    peeked = json.loads(text)["Messages"]
    assert [(m["MessageId"], m["Body"], m["ApproximateReceiveCount"]) for m in peeked] == [
        (ids[0], "body-0", 0),
        (ids[1], "body-1", 0),
    ]
    assert _count(sqs, url) == 2
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert sorted(m["MessageId"] for m in got) == sorted(ids)
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in got} == {"1"}


def test_purge(page: Browser, server: BrokerServer) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="full")["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    page.open("/_broker/console/sqs")
    page.wait_text("tr[data-queue=full] td.visible", "5")
    ok, text = page.act("tr[data-queue=full] form[data-action='sqs.purge']")
    assert ok, text
    assert _count(sqs, url) == 0
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    page.wait_text("tr[data-queue=full] td.visible", "0")
    # A second purge within 60 s is refused by the operation itself.
    ok, text = page.act("tr[data-queue=full] form[data-action='sqs.purge']")
    assert not ok and text.startswith("PurgeQueueInProgress: "), text


DEAD = 100


def test_redrive_start_and_cancel(page: Browser, server: BrokerServer) -> None:
    sqs = server.client("sqs")
    dlq, dlq_arn = queue_with_arn(sqs, "dead")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    src, src_arn = queue_with_arn(sqs, "work", RedrivePolicy=redrive)
    for batch in range(DEAD // 10):
        entries = [{"Id": str(i), "MessageBody": f"dead-{batch}-{i}"} for i in range(10)]
        assert not sqs.send_message_batch(QueueUrl=dlq, Entries=entries).get("Failed")
    page.open("/_broker/console/sqs")

    # A slow task (1 message a second, 100 to move) so that it is certainly still running when cancelled.
    ok, text = page.act("#redrive-form", SourceArn=dlq_arn, DestinationArn=src_arn, MaxNumberOfMessagesPerSecond="1")
    assert ok, text
    handle = json.loads(text)["TaskHandle"]
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert tasks[0]["TaskHandle"] == handle and tasks[0]["Status"] == "RUNNING"
    page.wait(lambda _d: page.all("tr[data-task-status=RUNNING] button[data-cancel=dead]"), message="no Cancel")
    ok, text = page.act("tr[data-task-status=RUNNING] form[data-action='sqs.cancel-redrive']")
    assert ok, text
    assert sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] in ("CANCELLING", "CANCELLED")

    # A second task to the original source moves the rest.
    deadline = time.monotonic() + 10
    while sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "CANCELLING":
        assert time.monotonic() < deadline, "the cancelled task never stopped"
        time.sleep(0.1)
    ok, text = page.act("#redrive-form", SourceArn=dlq_arn, DestinationArn=src_arn, MaxNumberOfMessagesPerSecond="")
    assert ok, text
    page.wait(
        lambda _d: sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "COMPLETED",
        message="redrive never completed",
    )
    assert _count(sqs, dlq) == 0 and _count(sqs, src) == DEAD
    page.wait_text("tr[data-queue=work] td.visible", str(DEAD))


def test_account_selector_shows_each_accounts_resources(page: Browser, server: BrokerServer) -> None:
    server.client("sqs").create_queue(QueueName="mine")
    server.client("sqs", access_key="111122223333", region="eu-west-1").create_queue(QueueName="theirs")
    page.open("/_broker/console/")
    accounts = page.text("#accounts")
    assert "111122223333" in accounts and "eu-west-1" in accounts and "000000000000" in accounts

    page.open("/_broker/console/sqs")
    assert page.all("tr[data-queue=mine]") and not page.all("tr[data-queue=theirs]")
    page.fill("header form.scope", scope="111122223333|eu-west-1")
    page.wait(lambda d: "account=111122223333" in d.current_url, message="selector did not switch")
    assert page.all("tr[data-queue=theirs]") and not page.all("tr[data-queue=mine]")
    assert "111122223333 / eu-west-1" in page.text("h1")


def test_queues_are_paged(page: Browser, server: BrokerServer) -> None:
    sqs = server.client("sqs")
    for i in range(55):
        sqs.create_queue(QueueName=f"q{i:02d}")
    page.open("/_broker/console/sqs")
    assert len(page.all("tr[data-queue]")) == 50
    assert page.all("tr[data-queue=q49]") and not page.all("tr[data-queue=q50]")
    assert "1–50 of 55" in page.text("nav.pager")
    page.click("nav.pager a[rel=next]")
    page.wait(lambda d: "p=2" in d.current_url, message="no second page")
    assert page.attributes("tr[data-queue]", "data-queue") == [f"q{i}" for i in range(50, 55)]
    # The live refresh stays on that page.
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="q54")["QueueUrl"], MessageBody="x")
    page.wait_text("tr[data-queue=q54] td.visible", "1")
    assert not page.all("tr[data-queue=q00]") and page.all("nav.pager a[rel=prev]")


def test_polling_pauses_while_hidden(page: Browser, server: BrokerServer) -> None:
    url = server.client("sqs").create_queue(QueueName="watched")["QueueUrl"]
    page.open("/_broker/console/sqs")
    polls = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/sqs/live')).length;"
    page.wait(lambda d: d.execute_script(polls) >= 1, message="never polled")
    page.driver.execute_script(
        "window.__visibility = 'hidden';"
        "Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => window.__visibility});"
        "document.dispatchEvent(new Event('visibilitychange'));"
    )
    time.sleep(0.5)  # a poll already under way ends
    before = page.driver.execute_script(polls)
    server.client("sqs").send_message(QueueUrl=url, MessageBody="while hidden")
    time.sleep(2.5)  # more than a refresh period
    assert page.driver.execute_script(polls) == before
    assert page.text("tr[data-queue=watched] td.visible") == "0"
    # Visible again: refreshed at once.
    page.driver.execute_script(
        "window.__visibility = 'visible'; document.dispatchEvent(new Event('visibilitychange'));"
    )
    page.wait_text("tr[data-queue=watched] td.visible", "1", timeout=1.5)
