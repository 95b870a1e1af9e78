"""Keys and signed raw requests for the auth tests (botocore's own signer; nothing imported from the broker)."""

from __future__ import annotations

import json

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ADMIN_KEY = "AKIDBROKERADMIN1"
ADMIN_SECRET = "secret"  # what tests.sqs.query_client signs with
ADMIN_ACCOUNT = "111111111111"
OTHER_KEY = "AKIDBROKEROTHER2"
OTHER_SECRET = "other-secret"
OTHER_ACCOUNT = "222222222222"
ADMIN_TOKEN = "test-admin-token"


def sigv4_env() -> dict[str, str]:
    """The environment of a broker in sigv4 mode with two configured keys of two accounts."""
    credentials = [
        {"access_key_id": ADMIN_KEY, "secret_access_key": ADMIN_SECRET, "account_id": ADMIN_ACCOUNT},
        {
            "access_key_id": OTHER_KEY,
            "secret_access_key": OTHER_SECRET,
            "account_id": OTHER_ACCOUNT,
            "user_name": "other-admin",
        },
    ]
    return {"BROKER_AUTH": "sigv4", "BROKER_CREDENTIALS": json.dumps(credentials), "BROKER_ADMIN_TOKEN": ADMIN_TOKEN}


def sigv4_server_kw() -> dict:
    """BrokerServer keyword arguments for such a broker."""
    return {"env": sigv4_env(), "credentials": (ADMIN_KEY, ADMIN_SECRET), "admin_token": ADMIN_TOKEN}


def signed(
    method: str,
    url: str,
    *,
    service: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    key: str = ADMIN_KEY,
    secret: str = ADMIN_SECRET,
    region: str = "us-east-1",
    token: str | None = None,
) -> httpx.Response:
    """Send a request signed by botocore's SigV4Auth."""
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials(key, secret, token), service, region).add_auth(req)
    prepared = req.prepare()
    return httpx.request(
        prepared.method, prepared.url, headers=dict(prepared.headers.items()), content=prepared.body, timeout=30
    )
