"""The keys requests may be signed with: the configuration's (bootstrap administrators), IAM access keys of users
(CreateAccessKey), and temporary credentials (`temporary.py`, when a session token comes along).

IAM keys are cached per process. Every change of a key (created, deactivated, deleted, its user renamed or deleted)
wakes "iam.key:<id>" at commit, which drops the entry in every process and node (`IamKeyCache` is a `TtlCache`
the IAM service provides, so the runtime subscribes it and empties it on reset); a key not found is remembered
briefly, so a client hammering with an unknown key costs one read per second, not one per request.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from broker.auth.errors import AuthFailure
from broker.cache import TtlCache
from broker.identity import Identity, SigningKey
from broker.services.base import Slot

if TYPE_CHECKING:
    from broker.config import Settings
    from broker.services.base import Env

PREFIX = "iam.key:"
# Dropped by notification when the key changes; the TTL is only the safety net of a lost notification.
POSITIVE_TTL = 60.0
NEGATIVE_TTL = 1.0


def key_changed(key_id: str) -> str:
    """The notification key a change of this access key wakes."""
    return PREFIX + key_id


ALL_KEYS = PREFIX + "*"


class IamKeyCache(TtlCache[SigningKey]):
    """Active IAM access keys by id, and ids recently found missing or inactive."""

    def __init__(self) -> None:
        super().__init__(PREFIX, POSITIVE_TTL)
        self._misses: dict[str, float] = {}

    def missed(self, key_id: str) -> bool:
        at = self._misses.get(key_id)
        if at is None:
            return False
        if time.monotonic() - at > NEGATIVE_TTL:
            del self._misses[key_id]
            return False
        return True

    def miss(self, key_id: str) -> None:
        if len(self._misses) >= 10_000:
            self._misses.clear()
        self._misses[key_id] = time.monotonic()

    def on_notify(self, key: str) -> None:
        super().on_notify(key)
        if key == ALL_KEYS:
            self._misses.clear()
        else:
            self._misses.pop(key[len(PREFIX) :], None)


IAM_KEYS: Slot[IamKeyCache] = Slot("auth.iam_keys")

_configured: tuple[Settings, dict[str, SigningKey]] | None = None


def configured_keys(settings: Settings) -> dict[str, SigningKey]:
    """The configuration's keys by access key id (built once per process)."""
    global _configured
    if _configured is None or _configured[0] is not settings:
        keys = {
            c.access_key_id: SigningKey(
                c.access_key_id,
                c.secret_access_key,
                Identity(c.account_id, c.user_name or settings.user_name),
                admin=True,
            )
            for c in settings.credentials
        }
        _configured = (settings, keys)
    return _configured[1]


async def find_key(env: Env, access_key_id: str, session_token: str | None) -> SigningKey | None:
    """The key `access_key_id` names, or None when it is unknown, inactive or (with a session token) forged;
    AuthFailure("expired") for temporary credentials past their expiration."""
    if session_token is not None:
        return _temporary(env, access_key_id, session_token)
    key = configured_keys(env.settings).get(access_key_id)
    if key is not None:
        return key
    cache = env.get(IAM_KEYS)
    hit = cache.get(PREFIX + access_key_id)
    if hit is not None:
        return hit
    if cache.missed(access_key_id):
        return None
    from broker.services.iam import store  # the IAM service's SQL; imported late: services import this module

    row = await env.db.read(store.signing_key, access_key_id)
    if row is None or row["status"] != "Active":
        cache.miss(access_key_id)
        return None
    path = row["path"] or "/"
    identity = Identity(
        row["account"],
        row["user_name"],
        principal_arn=f"arn:aws:iam::{row['account']}:user{path}{row['user_name']}" if path != "/" else "",
        principal_id=row["user_id"],
    )
    key = SigningKey(access_key_id, row["secret"], identity)
    cache.put(PREFIX + access_key_id, key)
    return key


def _temporary(env: Env, access_key_id: str, session_token: str) -> SigningKey | None:
    from broker.auth import temporary  # its server key lives with STS; imported when a session token first comes

    key = temporary.resolve(env, access_key_id, session_token)
    if key is None:
        session = temporary.verify(env, access_key_id, session_token)  # only on refusal: which one AWS gives
        if session is not None and session.expired:
            raise AuthFailure("expired")
    return key
