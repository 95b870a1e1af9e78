"""/_broker/* in sigv4 mode: health stays open; everything else takes the admin token, a request signed by a
configured key, or a console session cookie, on any worker. IAM keys and account sessions are not admins."""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx

from broker.auth.admin import COOKIE, Viewer, admin_viewer, session_cookie
from broker.config import Settings
from tests.auth.helpers import ADMIN_ACCOUNT, ADMIN_KEY, ADMIN_SECRET, ADMIN_TOKEN, signed, sigv4_env


def _env() -> SimpleNamespace:
    """The settings the broker under test runs with (what the session secret derives from)."""
    env = sigv4_env()
    settings = Settings(
        auth="sigv4", credentials=json.loads(env["BROKER_CREDENTIALS"]), admin_token=env["BROKER_ADMIN_TOKEN"]
    )
    return SimpleNamespace(settings=settings)


def test_health_is_open_and_the_rest_needs_an_admin(signed_broker):
    url = signed_broker.url
    assert httpx.get(url + "/_broker/health").status_code == 200
    for method, path in (("GET", "/_broker/leases"), ("POST", "/_broker/reset"), ("GET", "/_broker/clock")):
        r = httpx.request(method, url + path)
        assert r.status_code == 401, (path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        r = httpx.request(method, url + path, headers={"Authorization": "Bearer not-the-token"})
        assert r.status_code == 401
        r = httpx.request(method, url + path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert r.status_code == 200, (path, r.text)
    # The test helpers keep working: they send the token.
    signed_broker.advance(10)
    signed_broker.reset()


def test_a_request_signed_by_a_configured_key_is_an_admin(signed_broker):
    url = signed_broker.url + "/_broker/leases"
    assert signed("GET", url, service="sqs").status_code == 200
    r = signed("GET", url, service="sqs", secret="wrong")
    assert r.status_code == 403

    iam = signed_broker.client("iam")
    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    r = signed("GET", url, service="sqs", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert r.status_code == 403
    assert ADMIN_ACCOUNT in r.json()["detail"]


def test_console_session_cookies(signed_broker):
    env = _env()
    url = signed_broker.url + "/_broker/leases"
    admin = session_cookie(env, Viewer(None))
    for _ in range(6):  # new connections: both workers derive the same secret
        assert httpx.get(url, cookies={COOKIE: admin}).status_code == 200
    account = session_cookie(env, Viewer(ADMIN_ACCOUNT))
    assert httpx.get(url, cookies={COOKIE: account}).status_code == 403
    assert admin_viewer(env, {}, {COOKIE: account}) == Viewer(ADMIN_ACCOUNT)

    body, _, mac = admin.partition(".")
    forged = session_cookie(env, Viewer(ADMIN_ACCOUNT)).partition(".")[0] + "." + mac
    assert httpx.get(url, cookies={COOKIE: forged}).status_code == 401
    expired = session_cookie(env, Viewer(None), seconds=-1)
    assert httpx.get(url, cookies={COOKIE: expired}).status_code == 401

    # Another configuration (another admin token) derives another secret: its cookies are refused here.
    other = SimpleNamespace(settings=env.settings.model_copy(update={"admin_token": "rotated"}))
    assert httpx.get(url, cookies={COOKIE: session_cookie(other, Viewer(None))}).status_code == 401


def test_admin_viewer_without_auth_sees_everything():
    env = SimpleNamespace(settings=Settings())
    assert admin_viewer(env, {}, {}) == Viewer(None)
    assert admin_viewer(_env(), {"authorization": f"Bearer {ADMIN_TOKEN}"}, {}) == Viewer(None)
    assert admin_viewer(_env(), {"authorization": "Bearer nope"}, {}) is None
    assert admin_viewer(_env(), {}, {COOKIE: "garbage"}) is None
    assert ADMIN_KEY and ADMIN_SECRET  # the configured keys are part of the session secret (see _env)


def test_the_sns_signing_certificate_is_public(signed_broker):
    r = httpx.get(signed_broker.url + "/_broker/sns/SimpleNotificationService-nosuchcert.pem")
    assert r.status_code == 404  # found no such certificate, rather than asking for credentials
