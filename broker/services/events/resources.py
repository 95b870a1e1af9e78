"""What the operations on connections, API destinations, archives and replays share: their ARNs, their times,
looking a resource up by its ARN, and paging."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from sqlalchemy import Connection, Table

from broker import clock, ids, paging
from broker.context import RequestContext
from broker.services.data_plane import own_url
from broker.services.events import resource_store
from broker.services.events.errors import invalid_parameter

LIST_LIMIT = 100


def arn(ctx: RequestContext, kind: str, path: str) -> str:
    return f"arn:aws:events:{ctx.region}:{ctx.account}:{kind}/{path}"


def unique_arn(ctx: RequestContext, kind: str, name: str) -> str:
    """A connection's or API destination's ARN: its name and a UUID (a new one each time the name is created)."""
    return arn(ctx, kind, f"{name}/{ids.uuid4()}")


def name_in(arn_text: str, kind: str) -> str | None:
    """The name in an ARN of `kind` (`connection/<name>/<uuid>`, `archive/<name>`), None when it is not one."""
    _, sep, rest = arn_text.partition(f":{kind}/")
    return rest.split("/", 1)[0] if sep and rest else None


def bus_in(account: str, region: str, arn_text: str) -> str | None:
    """The name of the event bus an ARN names in this account and Region; None for any other ARN."""
    prefix = f"arn:aws:events:{region}:{account}:event-bus/"
    name = arn_text.removeprefix(prefix)
    return name if arn_text.startswith(prefix) and name and "/" not in name else None


def by_arn(
    conn: Connection, table: Table, account: str, region: str, arn_text: str, kind: str
) -> dict[str, Any] | None:
    """The document an ARN names: the one of its name, if it is still that one (a name created again has another
    ARN)."""
    name = name_in(arn_text, kind)
    doc = resource_store.get(conn, table, account, region, name) if name else None
    return doc if doc is not None and doc.get(resource_store.ARN_KEY[table.name]) == arn_text else None


def times(doc: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The timestamps (epoch ms in the document) of `keys` it has, as the wire answers them."""
    return {k: clock.to_datetime(doc[k]) for k in keys if doc.get(k) is not None}


def page(
    p: dict[str, Any], docs: list[dict[str, Any]], keep: Callable[[dict[str, Any]], bool], name_key: str
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a name-ordered listing (`docs`: those after the request's NextToken, see `after`) filtered by
    `keep`, and the next page's token."""
    limit = p.get("Limit") or LIST_LIMIT
    kept = [d for d in docs if keep(d)]
    items = kept[:limit]
    return items, paging.after_token(items[-1][name_key]) if len(kept) > limit else None


def check_endpoint(ctx: RequestContext, endpoint: str, member: str) -> None:
    """An endpoint EventBridge may call (InvocationEndpoint, AuthorizationEndpoint): HTTPS, as AWS requires — plain
    HTTP only to loopback or the broker's own host names (local endpoints and tests) — never a link-local address
    (instance metadata) nor the broker's own /_broker/ routes."""
    try:
        url = httpx.URL(endpoint)
        host = url.host.lower()
    except (httpx.InvalidURL, UnicodeError):
        url, host = None, ""
    if url is None or not host or url.scheme not in ("https", "http"):
        raise invalid_parameter(member, f"{member.rsplit('.', 1)[-1]} must be a valid HTTPS URL.")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    loopback = host == "localhost" or (address is not None and address.is_loopback)
    own = own_url(url, ctx.env.settings) != url or (loopback and url.port == ctx.env.settings.port)
    if url.scheme == "http" and not (loopback or own):
        raise invalid_parameter(member, f"{member.rsplit('.', 1)[-1]} must use HTTPS.")
    if address is not None and address.is_link_local:
        raise invalid_parameter(member, f"{member.rsplit('.', 1)[-1]} must not be a link-local address.")
    if own and url.path.startswith("/_broker"):
        raise invalid_parameter(member, f"{member.rsplit('.', 1)[-1]} must not be a path of the broker itself.")
