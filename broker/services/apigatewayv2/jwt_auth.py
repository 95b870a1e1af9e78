"""JWT authorizers of HTTP APIs. The token comes from the authorizer's identity source (a `Bearer ` prefix
dropped); its signature is checked with the issuer's key (`kid`) from the JWKS its OpenID configuration names
(`<issuer>/.well-known/openid-configuration` -> `jwks_uri`, fetched as configured — the broker's own host names
on loopback — and cached per worker); RSA algorithms only, as AWS. Then `iss` must be the configured Issuer,
`aud` (or `client_id` when there is no `aud`) one of the Audience, `exp` after and `nbf` before now (the broker
clock), and, when the route names AuthorizationScopes, `scope`/`scp` must hold one of them. A bad token is 401
Unauthorized with a `www-authenticate` header saying why; missing scopes are 403 Forbidden."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import orjson

from broker import clock
from broker.services.apigatewayv2.incoming import Incoming, evaluate
from broker.services.data_plane import TooLarge, own_url, read_answer

if TYPE_CHECKING:
    from broker.config import Settings

Doc = dict[str, Any]

_ALGORITHMS = ("RS256", "RS384", "RS512")
_JWKS_TTL_S = 300.0
_REFETCH_AFTER_S = 10.0  # an unknown kid refetches the key set (key rotation), at most this often per issuer
_MAX_DOCUMENT = 1024 * 1024  # an OpenID configuration or JWKS document is a few KB
_FETCH_TIMEOUT_S = 5.0


_PRINTABLE = re.compile(r'[^\x20-\x7e]|"')


class Refused(Exception):
    """The request is not authorized: `status` 401 or 403, with the www-authenticate value AWS sends."""

    def __init__(self, status: int, description: str = "", scope: str = "", error: str = "invalid_token") -> None:
        super().__init__(description)
        self.status = status
        # Parts of the description come from the token (its alg): nothing that could break the header or its quoting.
        description = _PRINTABLE.sub("?", description)
        self.www_authenticate = (
            f'Bearer scope="{scope}" error="{error}" error_description="{description}"' if description else ""
        )


@dataclass
class _KeySet:
    keys: dict[str, jwt.PyJWK]
    fetched: float  # time.monotonic() of the fetch


def _claim_text(value: Any) -> str:
    """Claims reach integrations as strings: arrays as `[a b]`, objects as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return str(value)


def _scopes(claims: Doc) -> list[str]:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(s) for s in raw]
    return []


def token_of(authorizer: Doc, request: Incoming) -> str:
    """The token from the authorizer's first identity source, without a `Bearer ` prefix; raises Refused (401)."""
    sources = authorizer.get("IdentitySource") or ["$request.header.Authorization"]
    value = evaluate(str(sources[0]), request) or ""
    if value[:7].lower() == "bearer ":
        value = value[7:]
    value = value.strip()
    if not value:
        raise Refused(401)
    return value


class JwtAuthorizers:
    """The JWKS cache of a worker and the checks of a token."""

    def __init__(self, http_client: Callable[[], httpx.AsyncClient], settings: Settings) -> None:
        self._http = http_client
        self._settings = settings
        self._sets: dict[str, _KeySet] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _get_json(self, url: str) -> Any:
        try:
            wanted = httpx.URL(url)
        except httpx.InvalidURL:
            raise Refused(401, "the issuer is not a URL") from None
        # The broker's own host names (a function URL serving the keys) go to its own port, Host header kept.
        target = own_url(wanted, self._settings)
        headers = {"host": wanted.netloc.decode()}
        try:
            async with self._http().stream("GET", target, headers=headers, timeout=_FETCH_TIMEOUT_S) as answer:
                answer.raise_for_status()
                return orjson.loads(await read_answer(answer, _MAX_DOCUMENT, raw=False))
        except (httpx.HTTPError, orjson.JSONDecodeError, TooLarge):
            raise Refused(401, "unable to retrieve the issuer's keys") from None

    async def _fetch(self, issuer: str) -> _KeySet:
        config = await self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        jwks_uri = config.get("jwks_uri") if isinstance(config, dict) else None
        if not isinstance(jwks_uri, str):
            raise Refused(401, "the issuer's openid-configuration names no jwks_uri")
        document = await self._get_json(jwks_uri)
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            try:
                key = jwt.PyJWK(entry)
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
                continue  # keys of kinds AWS does not use are skipped
            keys[str(entry.get("kid", ""))] = key
        return _KeySet(keys, time.monotonic())

    async def _key(self, issuer: str, kid: str) -> jwt.PyJWK:
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            found = self._sets.get(issuer)
            age = time.monotonic() - found.fetched if found else None
            stale = age is None or age > _JWKS_TTL_S
            unknown = found is not None and kid not in found.keys and age is not None and age > _REFETCH_AFTER_S
            if stale or unknown:
                found = await self._fetch(issuer)
                self._sets[issuer] = found
        assert found is not None
        key = found.keys.get(kid)
        if key is None:
            raise Refused(401, "the token's kid does not match a key of the issuer")
        return key

    async def authorize(self, authorizer: Doc, route: Doc, request: Incoming) -> Doc:
        """requestContext.authorizer of an authorized request ({"jwt": {"claims", "scopes"}}); raises Refused."""
        token = token_of(authorizer, request)
        config = authorizer.get("JwtConfiguration") or {}
        issuer = str(config.get("Issuer") or "")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Refused(401, "the token is not a valid JWT") from None
        algorithm = str(header.get("alg", ""))
        if algorithm not in _ALGORITHMS:
            raise Refused(401, f"signing method {algorithm} is invalid")
        key = await self._key(issuer, str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token, key, algorithms=[algorithm],
                options={
                    "verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                    "verify_aud": False, "verify_iss": False,
                },
            )  # fmt: skip
        except (jwt.PyJWTError, ValueError, TypeError):  # a key of another kind than the token's algorithm too
            raise Refused(401, "the token's signature is not valid") from None
        self._check(claims, issuer, [str(a) for a in config.get("Audience") or []])
        wanted = [str(s) for s in route.get("AuthorizationScopes") or []]
        scopes = _scopes(claims)
        if wanted and not set(wanted) & set(scopes):
            joined = " ".join(wanted)
            raise Refused(403, f"expected scopes: [{joined}]", joined, "insufficient_scope")
        # Claims travel as strings (a null one is left out); scopes only when the route asks for some, as AWS.
        text = {k: _claim_text(v) for k, v in claims.items() if v is not None}
        return {"jwt": {"claims": text, "scopes": (scopes or None) if wanted else None}}

    @staticmethod
    def _check(claims: Doc, issuer: str, audience: list[str]) -> None:
        if claims.get("iss") != issuer:
            raise Refused(401, "the token does not have a valid issuer")
        # client_id counts only when there is no aud.
        presented = claims["aud"] if "aud" in claims else claims.get("client_id")
        presented = [presented] if isinstance(presented, str) else presented
        if audience and not (
            isinstance(presented, list) and {str(p) for p in presented if p is not None} & set(audience)
        ):
            raise Refused(401, "the token does not have a valid audience")
        now = clock.now_ms() / 1000
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= now:
            raise Refused(401, "the token has expired")
        nbf = claims.get("nbf")
        if nbf is not None and (not isinstance(nbf, int | float) or nbf > now):
            raise Refused(401, "the token is not valid yet")
        iat = claims.get("iat")
        if iat is not None and (not isinstance(iat, int | float) or iat > now):
            raise Refused(401, "the token was issued in the future")
