"""Who may use /_broker/* and the console (auth = "sigv4"; with auth = "none" everyone may).

Three ways in: `Authorization: Bearer <admin_token>`; a request SigV4-signed by a configured key; the console's
session cookie (`session_cookie`, set by the console's login). The cookie is HMAC-signed with a secret every
worker and node derives alike from the configuration (the admin token and the configured keys), so any process
accepts it; changing those settings logs every console out.

`admin_viewer` (token or cookie, no I/O) is what the console's pages call; `require_admin` is the FastAPI
dependency of the other /_broker routes (health and SNS's signing certificate stay open; the console guards its own
pages, so its login page stays reachable), which also takes signed requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from fastapi import HTTPException, Request

from broker.auth.errors import AuthFailure

if TYPE_CHECKING:
    from broker.config import Settings
    from broker.services.base import Env

COOKIE = "broker_console"
SESSION_SECONDS = 12 * 3600
# Open to anyone: health, and SNS's signing certificate (the SigningCertURL every subscriber fetches to verify a
# notification, public on AWS too).
OPEN_PREFIXES = ("/_broker/health", "/_broker/sns/SimpleNotificationService-")
# The console checks its viewer itself (its login page must be reachable without one).
SELF_GUARDED = ("/_broker/console",)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: `account` None may see every account (admin token, configured key, auth = "none").
    `key_id`: the access key a console session was opened with ("" for the admin token), which the console checks
    on every request (a revoked key ends the session) and acts as."""

    account: str | None
    key_id: str = ""


def admin_viewer(env: Env, headers: Mapping[str, str], cookies: Mapping[str, str]) -> Viewer | None:
    """The viewer an admin token or a console cookie makes; None when neither is valid (auth = "sigv4")."""
    settings = env.settings
    if settings.auth == "none":
        return Viewer(None)
    token = _bearer(headers)
    # Compared as bytes: compare_digest raises on str that are not ASCII, and a header may carry any byte.
    if (
        token is not None
        and settings.admin_token
        and hmac.compare_digest(token.encode(), settings.admin_token.encode())
    ):
        return Viewer(None)
    cookie = cookies.get(COOKIE)
    return _from_cookie(settings, cookie, time.time()) if cookie else None


def session_cookie(env: Env, viewer: Viewer, seconds: int = SESSION_SECONDS) -> str:
    """The value of the console's session cookie for `viewer`, valid `seconds`."""
    claims = orjson.dumps({"a": viewer.account or "*", "e": int(time.time()) + seconds, "k": viewer.key_id})
    body = base64.urlsafe_b64encode(claims).decode().rstrip("=")
    return f"{body}.{_mac(env.settings, body)}"


async def require_admin(request: Request) -> Viewer:
    """FastAPI dependency: the full viewer of a /_broker request, else 401 (no credentials) / 403."""
    path = request.url.path
    env: Env = request.app.state.broker_env
    if env.settings.auth == "none" or path.startswith(OPEN_PREFIXES) or path.startswith(SELF_GUARDED):
        return Viewer(None)
    viewer = admin_viewer(env, request.headers, request.cookies)
    if viewer is None and _signed(request):
        viewer = await _signed_viewer(env, request)
    if viewer is None:
        raise HTTPException(
            401,
            "/_broker/* needs an admin token (Authorization: Bearer), a signed request or a console session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if viewer.account is not None:
        raise HTTPException(403, f"a session of account {viewer.account} may only use the console")
    return viewer


def _signed(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    return header.startswith("AWS4-HMAC-SHA256") or "X-Amz-Credential" in request.query_params


async def _signed_viewer(env: Env, request: Request) -> Viewer | None:
    from broker.auth import sigv4  # sigv4 reaches the IAM store through keys: loaded when first needed

    try:
        key, _ = await sigv4.authenticate(env, sigv4.request_of(request.scope, await request.body()))
    except AuthFailure as failure:
        raise HTTPException(403, failure.message or f"signature refused: {failure.kind}") from None
    return Viewer(None) if key.admin else Viewer(key.identity.account)


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _secret(settings: Settings) -> bytes:
    """The same on every worker and node of one configuration; any change of token or keys changes it."""
    material = [settings.admin_token] + sorted(f"{c.access_key_id}:{c.secret_access_key}" for c in settings.credentials)
    return hashlib.sha256("\0".join(["broker-console-session", *material]).encode()).digest()


def _mac(settings: Settings, body: str) -> str:
    return hmac.new(_secret(settings), body.encode(), hashlib.sha256).hexdigest()


def _from_cookie(settings: Settings, cookie: str, now: float) -> Viewer | None:
    body, _, mac = cookie.partition(".")
    if not mac or not hmac.compare_digest(mac.encode(), _mac(settings, body).encode()):
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        account, expires, key_id = claims["a"], claims["e"], claims.get("k", "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(expires, int) or expires < now or not isinstance(account, str) or not isinstance(key_id, str):
        return None
    return Viewer(None if account == "*" else account, key_id)
