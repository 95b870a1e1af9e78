"""Temporary credentials (STS sessions, Lambda execution roles, the broker's own loopback calls), stateless.

A session token carries who the credentials are and until when (access key id, account, user name, principal ARN,
principal id, expiry), authenticated by an HMAC with the server key; the secret access key is an HMAC of the access
key id with the same key. So any worker of any node verifies a token and derives its secret without a database
read, and nothing is stored per session. The server key is one `broker_state` row created by the first process
that starts (services/sts/store.py) and read by every other: a token of another broker (another database) never
verifies.

The access key id ("ASIA" and 16 more of A-Z2-7) carries the account in AWS's layout (bits 1-40 of the first 48 of
its base32 payload), so GetAccessKeyInfo answers from the key id alone, as AWS does.

Expiry is measured with `broker.clock` (the test clock moves it), as the Expiration handed out is."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from broker import clock
from broker.identity import Identity, SigningKey
from broker.services.base import Slot

if TYPE_CHECKING:
    from broker.services.base import Env

PREFIX = "ASIA"
_VERSION = b"\x01"
_MAC_BYTES = 32
_ACCOUNT_MASK = 0x7FFFFFFFFF80  # AWS's layout: the account in bits 7..46 of the key id's first 6 payload bytes


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration_ms: int
    identity: Identity

    def output(self) -> dict[str, Any]:
        """STS's Credentials structure."""
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration,
        }

    @property
    def expiration(self) -> datetime:
        return clock.to_datetime(self.expiration_ms)


@dataclass(frozen=True, slots=True)
class Session:
    """What a verified session token says."""

    access_key_id: str
    identity: Identity
    expiration_ms: int

    @property
    def expired(self) -> bool:
        return self.expiration_ms <= clock.now_ms()


class SessionKeys:
    """The server key of one process (loaded at start by the STS service), and credentials the broker issued
    itself and reuses (its loopback calls: one issue per role per half lifetime, not one per call)."""

    def __init__(self) -> None:
        self._key: bytes | None = None
        self._reused: dict[Hashable, TemporaryCredentials] = {}

    def load(self, key: bytes) -> None:
        self._key = key
        self._reused.clear()

    @property
    def key(self) -> bytes:
        if self._key is None:
            raise RuntimeError("the server key is loaded when the STS service starts")
        return self._key

    def reused(self, name: Hashable, lifetime_s: int) -> TemporaryCredentials | None:
        """Credentials remembered under `name` with more than half their lifetime left (None: issue new ones)."""
        found = self._reused.get(name)
        if found is None:
            return None
        left = found.expiration_ms - clock.now_ms()
        # A test clock moved back leaves more than the whole lifetime: issue anew then too.
        return found if lifetime_s * 500 < left <= lifetime_s * 1000 else None

    def remember(self, name: Hashable, credentials: TemporaryCredentials) -> None:
        if len(self._reused) >= 10_000:
            self._reused.clear()
        self._reused[name] = credentials


SESSION_KEYS: Slot[SessionKeys] = Slot("sts.session_keys")


def new_server_key() -> str:
    """What the first process stores as the server key (hex)."""
    return secrets.token_hex(32)


def issue(env: Env, identity: Identity, seconds: int) -> TemporaryCredentials:
    """New credentials acting as `identity`, valid for `seconds` from now."""
    server_key = env.get(SESSION_KEYS).key
    key_id = _new_key_id(identity.account)
    expires = clock.now_ms() + seconds * 1000
    claims = [key_id, identity.account, identity.user_name, identity.principal_arn, identity.principal_id, expires]
    payload = _VERSION + json.dumps(claims, separators=(",", ":")).encode()
    token = base64.b64encode(payload + _mac(server_key, payload)).decode()
    return TemporaryCredentials(key_id, _secret(server_key, key_id), token, expires, identity)


def verify(env: Env, access_key_id: str, session_token: str) -> Session | None:
    """The session a token of this broker says, whether expired or not (None: forged, altered, of another broker,
    or not the token of `access_key_id`)."""
    try:
        raw = base64.b64decode(session_token, validate=True)
    except (binascii.Error, ValueError):
        return None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not payload.startswith(_VERSION) or not hmac.compare_digest(mac, _mac(env.get(SESSION_KEYS).key, payload)):
        return None
    key_id, account, user_name, principal_arn, principal_id, expires = json.loads(payload[1:])
    if key_id != access_key_id:
        return None
    return Session(key_id, Identity(account, user_name, principal_arn, principal_id), int(expires))


def resolve(env: Env, access_key_id: str, session_token: str) -> SigningKey | None:
    """The key to verify a request signed with temporary credentials (None: forged or expired)."""
    session = verify(env, access_key_id, session_token)
    if session is None or session.expired:
        return None
    return SigningKey(access_key_id, _secret(env.get(SESSION_KEYS).key, access_key_id), session.identity)


def key_account(access_key_id: str) -> str | None:
    """The account AWS's key id layout names (any AKIA/ASIA-style id of 4 + 16 base32 characters), else None."""
    body = access_key_id[4:]
    if len(body) != 16:
        return None
    try:
        raw = base64.b32decode(body)
    except (binascii.Error, ValueError):
        return None
    return f"{(int.from_bytes(raw[:6], 'big') & _ACCOUNT_MASK) >> 7:012d}"


def _new_key_id(account: str) -> str:
    head = (int(account) << 7) | secrets.randbits(7)
    return PREFIX + base64.b32encode(head.to_bytes(6, "big") + secrets.token_bytes(4)).decode()


def _mac(server_key: bytes, payload: bytes) -> bytes:
    return hmac.new(server_key, b"token\x00" + payload, hashlib.sha256).digest()


def _secret(server_key: bytes, access_key_id: str) -> str:
    digest = hmac.new(server_key, b"secret\x00" + access_key_id.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()[:40]
