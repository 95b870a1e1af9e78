"""OAuth client credentials of connections: the token fetched from a connection's authorization endpoint with its
client credentials (cached per process until it is about to expire; refreshed after a 401 or 407), the connection's
state as that goes (AUTHORIZING until a token came: AUTHORIZED, or DEAUTHORIZED with the reason, as EventBridge
de-authorizes a connection whose token it cannot get), and the leased job that authorizes the connections left
AUTHORIZING (their first fetch runs in the process that answered the request; a crash would leave them so)."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from sqlalchemy import Connection, select

from broker import clock
from broker.services.base import Env
from broker.services.data_plane import TooLarge, own_url, read_answer
from broker.services.events import resource_store
from broker.services.events.resource_store import CONNECTIONS
from broker.storage.db import Tx

log = logging.getLogger("broker.events.authorizations")

OAUTH = "OAUTH_CLIENT_CREDENTIALS"
TIMEOUT_S = 5.0  # the whole exchange with an endpoint, connecting to the last byte
REFRESH_BEFORE_MS = 60_000  # a token expiring within this is refreshed before the call
MAX_TOKEN_ANSWER = 64 * 1024  # a token answer is a few hundred bytes
GRACE_MS = 5_000  # an AUTHORIZING connection older than this is the job's (its first fetch did not end)
MAX_CACHED = 1_000
_AUTHORIZING = '"ConnectionState": "AUTHORIZING"'  # as json.dumps writes it: the job's cheap filter

# OAuth tokens of this process by connection ARN: (the connection's version, token header, expiry ms or None).
_tokens: OrderedDict[str, tuple[int, str, int | None]] = OrderedDict()
_fetching: dict[str, asyncio.Future[tuple[str, int | None]]] = {}  # connection ARN -> the fetch under way
_client: httpx.AsyncClient | None = None
_loop: asyncio.AbstractEventLoop | None = None
_background: set[asyncio.Task[None]] = set()


class AuthorizationFailed(Exception):
    pass


def http() -> httpx.AsyncClient:
    """The process's client for endpoints outside the broker (no proxies from the environment, no redirects)."""
    global _client
    if _client is None:
        _client = httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False)
    return _client


def start() -> None:
    global _loop
    _loop = asyncio.get_running_loop()


async def close() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None


def pairs(params: dict[str, Any] | None, member: str) -> list[tuple[str, str]]:
    """A connection's http parameters of one kind as (key, value) pairs."""
    return [(str(item["Key"]), str(item.get("Value", ""))) for item in (params or {}).get(member) or []]


def request(env: Env, method: str, url: str, headers: dict[str, str], content: bytes | None) -> Any:
    """A streamed request (`async with`): an endpoint on the broker's own host names goes to it on loopback."""
    target = httpx.URL(url)
    headers = {"Host": target.netloc.decode("ascii"), **headers}
    return http().stream(method, own_url(target, env.settings), headers=headers, content=content)


async def _fetch(env: Env, conn: dict[str, Any]) -> tuple[str, int | None]:
    oauth = conn["AuthParameters"]["OAuthParameters"]
    client = oauth.get("ClientParameters") or {}
    if not client.get("ClientSecret"):
        raise AuthorizationFailed("The connection has no client secret.")
    http_params = oauth.get("OAuthHttpParameters")
    credentials = base64.b64encode(f"{client['ClientID']}:{client['ClientSecret']}".encode()).decode()
    headers = dict(pairs(http_params, "HeaderParameters"))
    headers["Authorization"] = f"Basic {credentials}"
    url = httpx.URL(oauth["AuthorizationEndpoint"])
    query = pairs(http_params, "QueryStringParameters")
    if query:
        url = url.copy_merge_params(dict(query))
    content = None
    if oauth["HttpMethod"] != "GET":
        body = [(k, v) for k, v in pairs(http_params, "BodyParameters") if k != "grant_type"]
        body.insert(0, ("grant_type", "client_credentials"))
        content = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in body).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        async with asyncio.timeout(TIMEOUT_S), request(env, oauth["HttpMethod"], str(url), headers, content) as answer:
            status = answer.status_code
            text = await read_answer(answer, MAX_TOKEN_ANSWER, raw=False) if 200 <= status < 300 else b""
    except TooLarge:
        raise AuthorizationFailed("The authorization endpoint's answer is too large.") from None
    except (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError) as e:
        raise AuthorizationFailed(f"Unable to reach the authorization endpoint: {type(e).__name__}") from None
    if not 200 <= status < 300:
        raise AuthorizationFailed(f"The authorization endpoint returned status code {status}.")
    try:
        document = orjson.loads(text)
        token = str(document["access_token"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise AuthorizationFailed("The authorization endpoint did not return an access token.") from None
    kind = str(document.get("token_type") or "Bearer")
    kind = "Bearer" if kind.lower() == "bearer" else kind
    expires_in = document.get("expires_in")
    expiry = clock.now_ms() + int(expires_in) * 1000 if isinstance(expires_in, int | float) else None
    return f"{kind} {token}", expiry


async def _fetch_and_remember(env: Env, conn: dict[str, Any], arn: str, version: int) -> tuple[str, int | None]:
    """Cached before the fetch counts as done: an attempt arriving in between finds the token, not a new fetch."""
    value = await _fetch(env, conn)
    _remember(arn, version, value)
    return value


def _remember(arn: str, version: int, value: tuple[str, int | None]) -> None:
    _tokens[arn] = (version, *value)
    _tokens.move_to_end(arn)
    while len(_tokens) > MAX_CACHED:
        _tokens.popitem(last=False)


def forget(conn: dict[str, Any]) -> None:
    """Drop a connection's cached token (its endpoint refused it: the next call fetches another)."""
    _tokens.pop(conn["ConnectionArn"], None)


def set_state(tx: Tx, account: str, region: str, name: str, version: int, changes: dict[str, Any]) -> None:
    """Record an outcome unless the connection changed meanwhile (read locked: no concurrent update is lost)."""
    resource_store.modify(
        tx, CONNECTIONS, account, region, name, lambda old: changes if old.get("Version") == version else None
    )


def authorized(now: int) -> dict[str, Any]:
    return {"ConnectionState": "AUTHORIZED", "LastAuthorizedTime": now, "StateReason": None}


def deauthorized(reason: str) -> dict[str, Any]:
    return {"ConnectionState": "DEAUTHORIZED", "StateReason": reason}


async def token(env: Env, account: str, region: str, conn: dict[str, Any]) -> str:
    """The Authorization header of an OAuth connection's calls (AUTHORIZED once there is one); a failed fetch
    de-authorizes the connection."""
    arn, version = conn["ConnectionArn"], int(conn.get("Version", 1))
    cached = _tokens.get(arn)
    valid = cached is not None and (cached[2] is None or cached[2] - REFRESH_BEFORE_MS > clock.now_ms())
    if cached is not None and valid and cached[0] == version:
        header = cached[1]
    else:
        # One fetch per connection at a time in this process: attempts running together share it.
        task = _fetching.get(arn)
        if task is None:
            task = _fetching[arn] = asyncio.ensure_future(_fetch_and_remember(env, conn, arn, version))
            task.add_done_callback(lambda _t: _fetching.pop(arn, None))
        try:
            value = await asyncio.shield(task)
        except AuthorizationFailed as e:
            await env.db.write(set_state, account, region, conn["Name"], version, deauthorized(str(e)))
            raise
        header = value[0]
    if conn.get("ConnectionState") != "AUTHORIZED":
        await env.db.write(set_state, account, region, conn["Name"], version, authorized(clock.now_ms()))
    return header


async def authorize(env: Env, account: str, region: str, name: str, version: int) -> None:
    """An OAuth connection's first token: AUTHORIZED, or DEAUTHORIZED with the reason."""
    try:
        conn = await env.db.read(resource_store.get, CONNECTIONS, account, region, name)
        if conn is None or conn.get("Version") != version or conn.get("ConnectionState") != "AUTHORIZING":
            return
        await token(env, account, region, conn)
    except AuthorizationFailed:
        pass
    except Exception:  # the connection stays AUTHORIZING: the job tries again
        log.exception("authorizing connection %s failed", name)


def authorize_later(env: Env, account: str, region: str, doc: dict[str, Any]) -> None:
    """Fetch an OAuth connection's first token after the answer (AUTHORIZING until then)."""
    task = asyncio.get_running_loop().create_task(authorize(env, account, region, doc["Name"], doc["Version"]))
    _background.add(task)
    task.add_done_callback(_background.discard)


# -- the job -------------------------------------------------------------------------------------------------------
def _authorizing(conn: Connection, before: int | None) -> list[tuple[str, str, str, int]]:
    """(account, Region, name, version) of the connections AUTHORIZING since before `before` (None: any)."""
    c = CONNECTIONS.c
    rows = conn.execute(select(c.account, c.region, c.doc).where(c.doc.contains(_AUTHORIZING, autoescape=True)))
    out = []
    for row in rows:
        doc = orjson.loads(row.doc)
        if doc.get("ConnectionState") == "AUTHORIZING" and (before is None or doc["LastModifiedTime"] < before):
            out.append((row.account, row.region, doc["Name"], int(doc.get("Version", 1))))
    return out


def has_work(env: Env) -> bool:
    return bool(env.db.read_sync(_authorizing, None))


def run(env: Env) -> None:
    """The job (leased, on a scheduler thread): authorize each connection left AUTHORIZING, on the event loop."""
    loop = _loop
    if loop is None:
        return
    for account, region, name, version in env.db.read_sync(_authorizing, clock.now_ms() - GRACE_MS):
        done = asyncio.run_coroutine_threadsafe(authorize(env, account, region, name, version), loop)
        done.result(timeout=TIMEOUT_S * 2)
