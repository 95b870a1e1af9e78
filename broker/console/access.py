"""Who may use the console: `broker.auth.admin` decides (everyone with auth = "none"; with auth = "sigv4" an admin
token or the session cookie this module's login sets). A session opened with a key of one account sees only that
account; the admin token or a configured key sees every account.

A session opened with an access key names that key, which is looked up again on every console request (through
the per-worker key cache that a revocation empties everywhere): a key deactivated, deleted or gone from the
configuration ends the session. The console then acts as the key's owner (`Session.identity`); the admin token
acts as each account's default user, as an unsigned request with auth = "none" does."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request

from broker.auth.admin import COOKIE, Viewer, admin_viewer, session_cookie
from broker.auth.keys import find_key
from broker.identity import Identity
from broker.runtime import Runtime

__all__ = ["COOKIE", "Session", "Viewer", "login", "session"]


@dataclass(frozen=True, slots=True)
class Session:
    """A console viewer and, for a session opened with an access key, who it acts as."""

    viewer: Viewer
    identity: Identity | None = None

    def identity_in(self, account: str) -> Identity | None:
        """Who the console acts as in `account`: the key's owner in its own account; None (the account's default
        user) for the admin token, and for a configured key viewing another account."""
        if self.identity is not None and self.identity.account == account:
            return self.identity
        return None


async def session(runtime: Runtime, request: Request) -> Session | None:
    """The request's session; None when it must log in (again)."""
    viewer = admin_viewer(runtime, request.headers, request.cookies)
    if viewer is None:
        return None
    if not viewer.key_id:
        # The admin token (or auth = "none"); a session of one account without a key is a cookie from before
        # sessions named their key: logged in again.
        return Session(viewer) if viewer.account is None else None
    key = await find_key(runtime, viewer.key_id, None)
    if key is None:
        return None  # deactivated, deleted, or gone from the configuration
    if viewer.account != (None if key.admin else key.identity.account):
        return None  # the key no longer gives the scope the session was opened with
    return Session(viewer, key.identity)


async def login(runtime: Runtime, form: Mapping[str, str]) -> str | None:
    """The session cookie for valid login form credentials (an admin token, or an access key id and its secret),
    else None."""
    token = form.get("token", "")
    admin_token = runtime.settings.admin_token
    if token:
        if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
            return session_cookie(runtime, Viewer(None))
        return None
    key_id, secret = form.get("access_key_id", "").strip(), form.get("secret_access_key", "")
    if not key_id or not secret:
        return None
    key = await find_key(runtime, key_id, None)
    if key is None or not hmac.compare_digest(key.secret.encode(), secret.encode()):
        return None
    return session_cookie(runtime, Viewer(None if key.admin else key.identity.account, key.access_key_id))
