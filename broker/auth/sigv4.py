"""Verifying AWS Signature Version 4 (auth = "sigv4"): the Authorization header or a presigned query string.

The canonical request is rebuilt as botocore's `SigV4Auth` builds it (the same path normalisation and query
ordering, botocore's own functions), from the request as received: its method, its raw path, its query string
(a presigned URL's without X-Amz-Signature), exactly the headers the client listed as signed, and the payload hash
the client declared in x-amz-content-sha256 (checked against the body when it is a hash) or the body's. Streaming
payloads (aws-chunked) are decoded and their chunk signatures checked in `chunked.py`.

X-Amz-Date must be within 15 minutes of the wall clock (`time.time()`, never the test clock, which tests move).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from botocore.auth import SigV4Auth

from broker.auth import chunked
from broker.auth.errors import AuthFailure
from broker.auth.keys import find_key
from broker.identity import SigningKey
from broker.protocol.base import HttpRequest

if TYPE_CHECKING:
    from broker.services.base import Env

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX = frozenset("0123456789abcdef")
# botocore's canonicalisation (path normalisation, query ordering) without a credential: only its pure methods run.
_BOTOCORE = SigV4Auth(None, "", "")
_AUTH_PARTS = ("Credential", "SignedHeaders", "Signature")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
HOST_NOT_SIGNED = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
# Operations AWS serves without any signature: SNS's SubscribeURL and UnsubscribeURL are links a subscriber
# follows (ConfirmSubscription is authorised by its token; Unsubscribe needs no signature unless the subscription
# was confirmed with AuthenticateOnUnsubscribe: SNS's Unsubscribe checks that itself).
UNSIGNED_OPERATIONS = frozenset({("sns", "ConfirmSubscription"), ("sns", "Unsubscribe")})


@dataclass(frozen=True, slots=True)
class Claim:
    """What a request says about its signature."""

    access_key_id: str
    scope_date: str  # YYYYMMDD
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # YYYYMMDDTHHMMSSZ
    signed_at: float  # epoch seconds of amz_date
    session_token: str | None
    presigned: bool
    expires: int  # seconds a presigned URL stays valid; MAX_SKEW_SECONDS for a header signature

    @property
    def scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/aws4_request"


async def authenticate(env: Env, req: HttpRequest) -> tuple[SigningKey, HttpRequest]:
    """The key that signed `req` and the request to serve (its body decoded when it came aws-chunked, its
    `signed_scope` the verified credential scope); raises AuthFailure with AWS's reason otherwise."""
    claim = parse(req)
    key = await find_key(env, claim.access_key_id, claim.session_token)
    if key is None:
        raise AuthFailure("unknown")
    check_time(claim, time.time())
    payload_hash = _payload_hash(req)
    expected = signature(key.secret, claim, canonical_request(req, claim, payload_hash))
    # As bytes: compare_digest refuses str that are not ASCII (a TypeError, not a refusal).
    if not hmac.compare_digest(expected.encode(), claim.signature.encode()):
        raise AuthFailure("mismatch")
    if chunked.is_streaming(payload_hash):
        req = chunked.decode(req, payload_hash, claim.amz_date, claim.scope, expected, _signing_key(key.secret, claim))
    req.signed_scope = (claim.access_key_id, claim.region, claim.service)
    return key, req


def check_service(scope: tuple[str, str, str], signing_name: str) -> None:
    """AWS's refusal of a signature scoped to another service than the one the request reaches (a signed request
    must not be replayable against another service)."""
    if scope[2] != signing_name:
        raise AuthFailure("mismatch", f"Credential should be scoped to correct service: '{signing_name}'. ")


def request_of(scope: Mapping[str, Any], body: bytes) -> HttpRequest:
    """The request of an ASGI scope (data planes and admin routes, which do not come through the gateway)."""
    return HttpRequest(
        scope["method"],
        scope["path"],
        scope.get("query_string", b""),
        dict(scope["headers"]),
        body,
        scope.get("raw_path") or b"",
        scope["headers"],
    )


# -- what the request claims --------------------------------------------------------------------------------------
def parse(req: HttpRequest) -> Claim:
    header = req.header(b"authorization")
    if header:
        return _from_header(req, header)
    if b"X-Amz-Credential=" in req.query_string or b"X-Amz-Algorithm=" in req.query_string:
        return _from_query(req)
    raise AuthFailure("missing")


def _from_header(req: HttpRequest, header: str) -> Claim:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        # AWS's text for a signature of another scheme (SigV2's "AWS key:sig", SigV4a) could not be confirmed.
        raise AuthFailure("incomplete", f"Unsupported AWS 'algorithm': '{algorithm}'. Authorization={header}")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, eq, value = item.strip().partition("=")
        if eq:
            if name in parts:
                # Which one counts would be a guess: a signature verified for one scope must not route by another.
                raise AuthFailure(
                    "incomplete", f"Authorization header has a duplicate '{name}' parameter. Authorization={header}"
                )
            parts[name] = value
    missing = [name for name in _AUTH_PARTS if not parts.get(name)]
    if missing:
        wanted = " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
        raise AuthFailure("incomplete", f"{wanted} Authorization={header}")
    amz_date = req.header(b"x-amz-date")
    if not amz_date:
        date = req.header(b"date")
        if not date:
            raise AuthFailure(
                "incomplete",
                f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                f"Authorization={header}",
            )
        amz_date = _from_http_date(date)
    token = req.header(b"x-amz-security-token") or None
    return _claim(parts["Credential"], parts["SignedHeaders"], parts["Signature"], amz_date, token, None, header)


def _from_query(req: HttpRequest) -> Claim:
    try:
        params = req.query_params()
    except (UnicodeDecodeError, ValueError):
        raise AuthFailure("incomplete", "The query string is malformed.") from None
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise AuthFailure("incomplete", f"Unsupported AWS 'algorithm': '{params.get('X-Amz-Algorithm', '')}'.")
    names = ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date")
    missing = [name for name in names if not params.get(name)]
    if missing:
        raise AuthFailure("incomplete", " ".join(f"AWS query-string parameters must include '{n}'." for n in missing))
    expires = params.get("X-Amz-Expires", str(MAX_SKEW_SECONDS))
    if not expires.isdigit() or not 1 <= int(expires) <= MAX_PRESIGNED_EXPIRES:
        raise AuthFailure("incomplete", "X-Amz-Expires must be between 1 and 604800 seconds.")
    return _claim(
        params["X-Amz-Credential"],
        params["X-Amz-SignedHeaders"],
        params["X-Amz-Signature"],
        params["X-Amz-Date"],
        params.get("X-Amz-Security-Token") or None,
        int(expires),
        "",
    )


def _claim(
    credential: str,
    signed_headers: str,
    sig: str,
    amz_date: str,
    token: str | None,
    expires: int | None,
    header: str,
) -> Claim:
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        where = f" Authorization={header}" if header else ""
        raise AuthFailure(
            "incomplete",
            f"Credential should be scoped to a valid region, not '{scope[2] if len(scope) > 2 else ''}'.{where}"
            if len(scope) == 5
            else f"Authorization header requires 'Credential' parameter.{where}",
        )
    if not _REGION.fullmatch(scope[2]):
        raise AuthFailure("mismatch", f"Credential should be scoped to a valid region, not '{scope[2]}'. ")
    names = tuple(signed_headers.split(";"))
    if "host" not in names and ":authority" not in names:
        raise AuthFailure("incomplete", HOST_NOT_SIGNED)
    signed_at = _epoch(amz_date)
    if signed_at is None:
        raise AuthFailure("incomplete", f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.")
    if scope[1] != amz_date[:8]:
        raise AuthFailure(
            "mismatch",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope[1]}' != '{amz_date[:8]}', from '{amz_date}'.",
        )
    return Claim(
        access_key_id=scope[0],
        scope_date=scope[1],
        region=scope[2],
        service=scope[3],
        signed_headers=names,
        signature=sig,
        amz_date=amz_date,
        signed_at=signed_at,
        session_token=token,
        presigned=expires is not None,
        expires=MAX_SKEW_SECONDS if expires is None else expires,
    )


def _epoch(amz_date: str) -> float | None:
    """Epoch seconds of an ISO-8601 basic timestamp (YYYYMMDDTHHMMSSZ); None if it is not one. Parsed by hand:
    time.strptime cost a quarter of a verification."""
    if len(amz_date) != 16 or amz_date[8] != "T" or amz_date[15] != "Z":
        return None
    digits = amz_date[:8] + amz_date[9:15]
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        parts = (int(digits[:4]), int(digits[4:6]), int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
        return datetime(*parts, int(digits[12:14]), tzinfo=UTC).timestamp()
    except ValueError:  # month 13, hour 25, ...
        return None


def _from_http_date(date: str) -> str:
    try:
        return parsedate_to_datetime(date).strftime("%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError):
        raise AuthFailure("incomplete", f"Date must be in ISO-8601 'basic format'. Got '{date}'.") from None


def _stamp(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def check_time(claim: Claim, now: float) -> None:
    """AWS's window: signed at most 15 minutes ahead, and at most 15 minutes (a presigned URL: X-Amz-Expires)
    ago."""
    if claim.signed_at > now + MAX_SKEW_SECONDS:
        raise AuthFailure(
            "mismatch",
            f"Signature not yet current: {claim.amz_date} is still later than {_stamp(now + MAX_SKEW_SECONDS)} "
            f"({_stamp(now)} + 15 min.)",
        )
    if claim.signed_at < now - claim.expires:
        window = f"{claim.expires // 60} min." if claim.expires % 60 == 0 else f"{claim.expires} sec."
        raise AuthFailure(
            "mismatch",
            f"Signature expired: {claim.amz_date} is now earlier than {_stamp(now - claim.expires)} "
            f"({_stamp(now)} - {window})",
        )


# -- the signature ------------------------------------------------------------------------------------------------
def _payload_hash(req: HttpRequest) -> str:
    declared = req.header(b"x-amz-content-sha256")
    if not declared:
        return hashlib.sha256(req.body).hexdigest() if req.body else EMPTY_SHA256
    if len(declared) == 64 and _HEX.issuperset(declared):
        # A declared hash is only worth its signature if it is the body's.
        if declared != (hashlib.sha256(req.body).hexdigest() if req.body else EMPTY_SHA256):
            raise AuthFailure(
                "mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        return declared
    if declared == UNSIGNED_PAYLOAD or chunked.is_streaming(declared):
        return declared
    raise AuthFailure("mismatch", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a SHA-256 hash.")


def canonical_request(req: HttpRequest, claim: Claim, payload_hash: str) -> str:
    raw_path = (req.raw_path or req.path.encode()).decode("latin-1")
    query = req.query_string.decode("latin-1")
    if claim.presigned:
        query = "&".join(p for p in query.split("&") if not p.startswith("X-Amz-Signature="))
    lines = [
        req.method.upper(),
        # "/" and "" are what most requests carry, and what botocore's rules leave them.
        raw_path if raw_path == "/" else _BOTOCORE._normalize_url_path(raw_path),
        _BOTOCORE._canonical_query_string_url(SimpleNamespace(query=query)) if query else "",
    ]
    headers = req.headers
    # A name sent twice collapsed in `headers`: only then look at the list as received.
    everything = req.header_list if req.header_list is not None and len(req.header_list) != len(headers) else None
    for name in claim.signed_headers:
        # "replace": a name from a presigned URL may be any text; one no header can carry is simply not there.
        wanted = name.lower().encode("latin-1", "replace")
        if everything is None:
            value = headers.get(wanted)
            values = [] if value is None else [value]
        else:
            values = [v for n, v in everything if n == wanted]
        if not values:
            raise AuthFailure("mismatch", f"The request lists '{name}' as signed but does not carry it.")
        # Trimall each value and join a repeated header's values with ",", as botocore's SigV4Auth does.
        lines.append(f"{name}:{','.join(' '.join(v.decode('latin-1').split()) for v in values)}")
    lines.append("")
    lines.append(";".join(claim.signed_headers))
    lines.append(payload_hash)
    return "\n".join(lines)


def signature(secret: str, claim: Claim, canonical: str) -> str:
    to_sign = f"{ALGORITHM}\n{claim.amz_date}\n{claim.scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(_signing_key(secret, claim), to_sign.encode(), hashlib.sha256).hexdigest()


_KEYS: dict[tuple[str, str, str, str], bytes] = {}


def _signing_key(secret: str, claim: Claim) -> bytes:
    """The derived key of (secret, date, region, service), cached: four HMACs per day and scope, not per request."""
    cache_key = (secret, claim.scope_date, claim.region, claim.service)
    key = _KEYS.get(cache_key)
    if key is None:
        key = hmac.new(f"AWS4{secret}".encode(), claim.scope_date.encode(), hashlib.sha256).digest()
        for part in (claim.region, claim.service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        if len(_KEYS) >= 4096:  # keys of past days and revoked secrets must not pile up
            _KEYS.clear()
        _KEYS[cache_key] = key
    return key
