"""Who may use the console: `broker.auth.admin` decides (everyone with auth = "none"; with auth = "sigv4" an admin
token or the session cookie this module's login sets). A session opened with a key of one account sees only that
account; the admin token or a configured key sees every account."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from fastapi import Request

from broker.auth.admin import COOKIE, Viewer, admin_viewer, session_cookie
from broker.auth.keys import find_key
from broker.runtime import Runtime

__all__ = ["COOKIE", "Viewer", "login", "viewer"]


async def viewer(runtime: Runtime, request: Request) -> Viewer | None:
    """The request's viewer; None when it must log in first."""
    return admin_viewer(runtime, request.headers, request.cookies)


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
    return session_cookie(runtime, Viewer(None) if key.admin else Viewer(key.identity.account))
