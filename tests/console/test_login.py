"""The console with auth = "sigv4": a login page (admin token, or an access key and its secret), sessions of one
account that see only that account, and actions that obey the same cross-account rules as signed API calls."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.auth.helpers import (
    ADMIN_ACCOUNT,
    ADMIN_KEY,
    ADMIN_SECRET,
    ADMIN_TOKEN,
    OTHER_ACCOUNT,
    OTHER_KEY,
    OTHER_SECRET,
    sigv4_server_kw,
)
from tests.conftest import serve
from tests.console.conftest import Browser, check_console
from tests.server import BrokerServer


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "console-login", workers=2, **sigv4_server_kw())


@pytest.fixture
def page(chrome: Browser, server: BrokerServer) -> Iterator[Browser]:
    """The conftest's page, logged out."""
    server.reset()
    chrome.open("/_broker/console/login")
    chrome.driver.delete_all_cookies()
    yield from check_console(chrome)


def _log_in(page: Browser, **fields: str) -> None:
    page.open("/_broker/console/login")
    page.fill("main.login form", **fields)
    page.click("main.login button[type=submit]")


def _iam_key(server: BrokerServer, account_key: tuple[str, str], user: str) -> tuple[str, str]:
    """A new IAM user's access key in the account of the configured key `account_key`."""
    iam = server.client("iam", access_key=account_key[0], secret=account_key[1])
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_pages_need_a_login(page: Browser, server: BrokerServer) -> None:
    r = httpx.get(server.url + "/_broker/console/sqs", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/_broker/console/login")
    assert httpx.post(server.url + "/_broker/console/actions/sqs.send", data={"QueueUrl": "x"}).status_code == 401
    assert httpx.get(server.url + "/_broker/console/sqs/live", follow_redirects=False).status_code == 303

    page.open("/_broker/console/sqs")
    page.wait(lambda d: "/_broker/console/login" in d.current_url, message="not sent to the login")
    _log_in(page, token="wrong")
    page.wait(lambda _d: page.all("#login-error"), message="no error for a wrong token")
    _log_in(page, access_key_id=ADMIN_KEY, secret_access_key="not-the-secret")
    page.wait(lambda _d: page.all("#login-error"), message="no error for a wrong secret")


def test_admin_token_sees_every_account(page: Browser, server: BrokerServer) -> None:
    server.client("sqs").create_queue(QueueName="admins")
    server.client("sqs", access_key=OTHER_KEY, secret=OTHER_SECRET).create_queue(QueueName="others")
    _log_in(page, token=ADMIN_TOKEN)
    page.wait(lambda _d: page.text("h1") == "Overview", message="not logged in")
    accounts = page.text("#accounts")
    assert ADMIN_ACCOUNT in accounts and OTHER_ACCOUNT in accounts
    page.open(f"/_broker/console/sqs?account={OTHER_ACCOUNT}")
    assert page.all("tr[data-queue=others]")
    # A bearer token works for scripts too.
    r = httpx.get(
        server.url + f"/_broker/console/sqs/live?account={ADMIN_ACCOUNT}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert r.status_code == 200 and 'data-queue="admins"' in r.text
    # The admin session opens the other /_broker pages too, such as the OpenAPI page.
    assert httpx.get(server.url + "/_broker/docs").status_code == 401
    page.open("/_broker/docs")
    page.wait(lambda _d: "broker admin" in page.text(".swagger-ui .info .title"), message="no OpenAPI page")


def test_account_session_sees_only_its_account(page: Browser, server: BrokerServer) -> None:
    mine = server.client("sqs", access_key=OTHER_KEY, secret=OTHER_SECRET).create_queue(QueueName="own")["QueueUrl"]
    theirs = server.client("sqs").create_queue(QueueName="foreign")["QueueUrl"]
    key_id, secret = _iam_key(server, (OTHER_KEY, OTHER_SECRET), "viewer")
    _log_in(page, access_key_id=key_id, secret_access_key=secret)
    page.wait(lambda _d: page.text("h1") == "Overview", message="not logged in")
    assert ADMIN_ACCOUNT not in page.text("#accounts")
    options = page.attributes("select[data-scope] option", "value")
    assert options and all(o.startswith(OTHER_ACCOUNT + "|") for o in options)

    page.open("/_broker/console/sqs")  # defaults to the session's account
    assert page.all("tr[data-queue=own]") and not page.all("tr[data-queue=foreign]")
    cookies = {c["name"]: c["value"] for c in page.driver.get_cookies()}
    assert httpx.get(server.url + f"/_broker/console/sqs?account={ADMIN_ACCOUNT}", cookies=cookies).status_code == 403

    # Actions act as that account, with the same cross-account rules as a signed SendMessage.
    ok, text = page.act("#send-form", QueueUrl=mine, MessageBody="mine")
    assert ok, text
    answer = httpx.post(
        server.url + "/_broker/console/actions/sqs.send", data={"QueueUrl": theirs, "MessageBody": "x"}, cookies=cookies
    ).json()
    assert answer["ok"] is False and answer["code"] == "AccessDeniedException", answer
    assert answer["message"].startswith(f"User: arn:aws:iam::{OTHER_ACCOUNT}:user/viewer is not authorized"), answer
    assert (
        server.client("sqs").get_queue_attributes(QueueUrl=theirs, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "0"
    )

    page.click("header form[action$=logout] button")
    page.wait(lambda d: "/_broker/console/login" in d.current_url, message="not logged out")
    page.open("/_broker/console/sqs")
    page.wait(lambda d: "/_broker/console/login" in d.current_url, message="the session outlived the logout")


def test_configured_key_logs_in_as_admin(page: Browser, server: BrokerServer) -> None:
    _log_in(page, access_key_id=ADMIN_KEY, secret_access_key=ADMIN_SECRET)
    page.wait(lambda _d: page.text("h1") == "Overview", message="not logged in")
    page.open(f"/_broker/console/sqs?account={OTHER_ACCOUNT}")
    assert OTHER_ACCOUNT in page.text("h1")


def test_revoking_the_key_ends_its_session(page: Browser, server: BrokerServer) -> None:
    key_id, secret = _iam_key(server, (OTHER_KEY, OTHER_SECRET), "leaver")
    _log_in(page, access_key_id=key_id, secret_access_key=secret)
    page.wait(lambda _d: page.text("h1") == "Overview", message="not logged in")
    page.open("/_broker/console/sqs")
    assert page.text("h1").startswith("SQS")
    cookies = {c["name"]: c["value"] for c in page.driver.get_cookies()}

    iam = server.client("iam", access_key=OTHER_KEY, secret=OTHER_SECRET)
    iam.update_access_key(UserName="leaver", AccessKeyId=key_id, Status="Inactive")
    page.open("/_broker/console/sqs")
    page.wait(lambda d: "/_broker/console/login" in d.current_url, message="the session outlived its key")
    # On both workers, for the live fragment and the actions too.
    for _ in range(4):
        live = httpx.get(server.url + "/_broker/console/sqs/live", cookies=cookies, follow_redirects=False)
        assert live.status_code == 303 and live.headers["location"].startswith("/_broker/console/login")
        act = httpx.post(server.url + "/_broker/console/actions/sqs.send", data={"QueueUrl": "x"}, cookies=cookies)
        assert act.status_code == 401
    # The key active again: the same cookie is good again (the session was refused, not forgotten).
    iam.update_access_key(UserName="leaver", AccessKeyId=key_id, Status="Active")
    assert httpx.get(server.url + "/_broker/console/sqs/live", cookies=cookies).status_code == 200
    iam.delete_access_key(UserName="leaver", AccessKeyId=key_id)
    assert httpx.get(server.url + "/_broker/console/sqs/live", cookies=cookies).status_code == 303


def test_actions_act_as_the_logged_in_user(page: Browser, server: BrokerServer) -> None:
    owner = server.client("sqs", access_key=OTHER_KEY, secret=OTHER_SECRET)
    url = owner.create_queue(QueueName="guarded")["QueueUrl"]
    arn = owner.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    key_id, secret = _iam_key(server, (OTHER_KEY, OTHER_SECRET), "blocked")
    user_arn = f"arn:aws:iam::{OTHER_ACCOUNT}:user/blocked"
    deny = {"Effect": "Deny", "Principal": {"AWS": user_arn}, "Action": "sqs:SendMessage", "Resource": arn}
    owner.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [deny]})}
    )

    _log_in(page, access_key_id=key_id, secret_access_key=secret)
    page.wait(lambda _d: page.text("h1") == "Overview", message="not logged in")
    page.open("/_broker/console/sqs")
    ok, text = page.act("#send-form", QueueUrl=url, MessageBody="from blocked")
    assert not ok
    assert text == (
        f"AccessDeniedException: User: {user_arn} is not authorized to perform: sqs:sendmessage on resource: {arn}"
        " with an explicit deny in a resource-based policy"
    )
    # Peeking is not denied to this user; the other users of the account still send.
    ok, text = page.act("#peek-form", QueueUrl=url)
    assert ok and json.loads(text)["Messages"] == [], text
    owner.send_message(QueueUrl=url, MessageBody="from the owner")

    # The admin token acts as the account's default user, whom the policy does not name.
    page.click("header form[action$=logout] button")
    page.wait(lambda d: "/_broker/console/login" in d.current_url, message="not logged out")
    _log_in(page, token=ADMIN_TOKEN)
    page.wait(lambda _d: page.text("h1") == "Overview", message="not logged in")
    page.open(f"/_broker/console/sqs?account={OTHER_ACCOUNT}")
    ok, text = page.act("#send-form", QueueUrl=url, MessageBody="from the admin")
    assert ok, text
    bodies = {m["Body"] for m in owner.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]}
    assert bodies == {"from the owner", "from the admin"}
