"""Sending an event to an API destination (a remote sender of targets.REMOTE_SENDERS, run by the delivery
dispatcher): the delivery's payload goes to the destination's endpoint with its method, `*` path segments filled
from the target's PathParameterValues, the target's header and query string parameters, the connection's invocation
parameters (which take precedence) and its authorization: a Basic header, an API key header, or an OAuth bearer
token (authorizations.py).

Outcomes as EventBridge treats them: 2xx delivered; 401, 407, 409, 429, 5xx, timeouts and unreachable endpoints
are retried; any other 4xx is not. A 401 or 407 de-authorizes a Basic or API key connection (as EventBridge does)
and drops an OAuth connection's token (the retry fetches another). A DEAUTHORIZED connection sends nothing. Calls
beyond the destination's InvocationRateLimitPerSecond (counted per process) are retried later. The endpoint's
answer is read as a stream and discarded (its first bytes name a failure); the whole call has one deadline. An
endpoint on one of the broker's own host names is served by the broker on loopback (data_plane.own_url)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import httpx

from broker import clock
from broker.services.base import Env
from broker.services.events import authorizations
from broker.services.events.authorizations import OAUTH, AuthorizationFailed, pairs
from broker.services.events.resource_store import API_DESTINATIONS, CONNECTIONS
from broker.services.events.resources import by_arn, name_in
from broker.services.events.targets import REMOTE_SENDERS, Delivery, TargetError

log = logging.getLogger("broker.events.api_destinations")

USER_AGENT = "Amazon/EventBridge/ApiDestinations"
CONTENT_TYPE = "application/json; charset=utf-8"
ERROR_PREFIX_BYTES = 256  # of a failed call's answer, kept for its error message
_RETRIED_4XX = frozenset({401, 407, 409, 429})
_PREFIX = "Unable to invoke ApiDestination endpoint: "
_MAX_BUCKETS = 10_000

# Per process: each destination's token bucket, (tokens left, when it was last filled, ms on the broker clock).
_buckets: OrderedDict[str, tuple[float, int]] = OrderedDict()


def _take(arn: str, rate: int, now: int) -> bool:
    """One invocation out of the destination's bucket (`rate` per second, bursts up to `rate`); False when empty."""
    tokens, at = _buckets.get(arn, (float(rate), now))
    tokens = min(float(rate), tokens + max(0, now - at) * rate / 1000)
    ok = tokens >= 1
    _buckets[arn] = (tokens - 1 if ok else tokens, now)
    _buckets.move_to_end(arn)
    if len(_buckets) > _MAX_BUCKETS:
        _buckets.popitem(last=False)
    return ok


def _endpoint(template: str, values: list[str]) -> str:
    """`*` path segments filled in order (a missing value leaves the `*`)."""
    out, rest = [], list(values)
    for part in template.split("*"):
        out.append(part)
        out.append(quote(rest.pop(0), safe="") if rest else "*")
    return "".join(out[:-1])


def _body(payload: str, params: dict[str, Any] | None) -> str:
    """The connection's body parameters join a JSON object payload."""
    extra = pairs(params, "BodyParameters")
    if not extra:
        return payload
    try:
        document = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(document, dict):
        return payload
    return json.dumps({**document, **dict(extra)})


def _auth_header(conn: dict[str, Any]) -> tuple[str, str] | None:
    auth = conn["AuthParameters"]
    if conn["AuthorizationType"] == "BASIC":
        basic = auth["BasicAuthParameters"]
        return "Authorization", "Basic " + base64.b64encode(
            f"{basic['Username']}:{basic['Password']}".encode()
        ).decode()
    if conn["AuthorizationType"] == "API_KEY":
        key = auth["ApiKeyAuthParameters"]
        return key["ApiKeyName"], key["ApiKeyValue"]
    return None


async def _call(env: Env, method: str, url: str, headers: dict[str, str], content: bytes | None) -> tuple[int, str]:
    """(status, the first bytes of the answer) of one call; the rest of the answer is read and dropped."""
    async with (
        asyncio.timeout(authorizations.TIMEOUT_S),
        authorizations.request(env, method, url, headers, content) as answer,
    ):
        head = b""
        async for chunk in answer.aiter_raw():
            if len(head) < ERROR_PREFIX_BYTES:
                head += chunk[: ERROR_PREFIX_BYTES - len(head)]
        return answer.status_code, head.decode("utf-8", "replace")


async def send(env: Env, delivery: Delivery) -> None:
    account, region = delivery.account, delivery.region
    dest = await env.db.read(by_arn, API_DESTINATIONS, account, region, delivery.target_arn, "api-destination")
    if dest is None:
        name = name_in(delivery.target_arn, "api-destination")
        raise TargetError("NO_RESOURCE", f"{_PREFIX}API destination {name} does not exist.", retryable=False)
    conn = await env.db.read(by_arn, CONNECTIONS, account, region, dest["ConnectionArn"], "connection")
    if conn is None:
        name = name_in(dest["ConnectionArn"], "connection")
        raise TargetError("NO_RESOURCE", f"{_PREFIX}Connection {name} does not exist.", retryable=False)
    if conn["ConnectionState"] == "DEAUTHORIZED":
        raise TargetError("SDK_CLIENT_ERROR", f"{_PREFIX}The connection is not authorized.", retryable=False)
    if not _take(dest["ApiDestinationArn"], int(dest["InvocationRateLimitPerSecond"]), clock.now_ms()):
        raise TargetError("THROTTLING", f"{_PREFIX}InvocationRateLimitPerSecond of the API destination exceeded.")
    target = delivery.extra.get("HttpParameters") or {}
    invocation = conn["AuthParameters"].get("InvocationHttpParameters")
    headers = {"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT}
    headers.update({str(k): str(v) for k, v in (target.get("HeaderParameters") or {}).items()})
    headers.update(pairs(invocation, "HeaderParameters"))
    query = {str(k): str(v) for k, v in (target.get("QueryStringParameters") or {}).items()}
    query.update(pairs(invocation, "QueryStringParameters"))
    url = httpx.URL(_endpoint(dest["InvocationEndpoint"], list(target.get("PathParameterValues") or [])))
    if query:
        url = url.copy_merge_params(dict(query))
    oauth = conn["AuthorizationType"] == OAUTH
    if oauth:
        try:
            headers["Authorization"] = await authorizations.token(env, account, region, conn)
        except AuthorizationFailed as e:
            raise TargetError("SDK_CLIENT_ERROR", f"{_PREFIX}{e}") from None
    else:
        header = _auth_header(conn)
        if header is not None:
            headers[header[0]] = header[1]
    method = dest["HttpMethod"]
    content = None if method in ("GET", "HEAD") else _body(delivery.payload, invocation).encode()
    try:
        status, head = await _call(env, method, str(url), headers, content)
    except (httpx.TimeoutException, TimeoutError):
        raise TargetError("UNKNOWN", f"{_PREFIX}Timeout calling endpoint for API Destination.") from None
    except (httpx.HTTPError, httpx.InvalidURL, OSError):
        raise TargetError("SDK_CLIENT_ERROR", f"{_PREFIX}API destination endpoint cannot be reached.") from None
    if 200 <= status < 300:
        return
    if status in (401, 407):
        if oauth:
            authorizations.forget(conn)  # the retry fetches a new token
        else:
            reason = f"The endpoint answered {status}: update the connection's credentials."
            changes = authorizations.deauthorized(reason)
            await env.db.write(
                authorizations.set_state, account, region, conn["Name"], int(conn.get("Version", 1)), changes
            )
    retryable = status >= 500 or status in _RETRIED_4XX
    detail = f" {head}" if head else ""
    raise TargetError(
        "SDK_CLIENT_ERROR",
        f"{_PREFIX}API destination endpoint returned status code {status}.{detail}",
        retryable=retryable,
    )


def claims(target_arn: str) -> bool:
    return ":api-destination/" in target_arn


REMOTE_SENDERS.append((claims, send))
