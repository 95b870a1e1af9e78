"""EventBridge API destinations: CreateApiDestination, DescribeApiDestination, UpdateApiDestination,
DeleteApiDestination, ListApiDestinations. An API destination is an HTTP endpoint (`*` in its path filled from a
target's PathParameterValues), a method, a rate limit and the connection that authorizes the calls; sending to it is
api_destinations.py."""

from __future__ import annotations

from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.events import resource_store
from broker.services.events.errors import api_destination_exists, api_destination_not_found, connection_not_found
from broker.services.events.names import page_after
from broker.services.events.resource_store import API_DESTINATIONS, CONNECTIONS
from broker.services.events.resources import by_arn, check_endpoint, name_in, page, times, unique_arn
from broker.storage.db import Tx

DEFAULT_RATE = 300  # invocations per second (API reference)
_TIMES = ("CreationTime", "LastModifiedTime")
# DescribeApiDestination's members; the ApiDestination of ListApiDestinations has no Description.
_DESCRIBED = (
    "ApiDestinationArn",
    "Name",
    "Description",
    "ApiDestinationState",
    "ConnectionArn",
    "InvocationEndpoint",
    "HttpMethod",
    "InvocationRateLimitPerSecond",
)
_LISTED = tuple(k for k in _DESCRIBED if k != "Description")
_CHANGED = ("Description", "ConnectionArn", "InvocationEndpoint", "HttpMethod", "InvocationRateLimitPerSecond")


async def _check_connection(ctx: RequestContext, arn: str) -> None:
    """The connection an ARN names must exist (the same one: a connection created again has a new ARN)."""
    if await ctx.env.db.read(by_arn, CONNECTIONS, ctx.account, ctx.region, arn, "connection") is None:
        raise connection_not_found(name_in(arn, "connection") or arn)


def _answer(doc: dict[str, Any]) -> dict[str, Any]:
    state = {"ApiDestinationArn": doc["ApiDestinationArn"], "ApiDestinationState": doc["ApiDestinationState"]}
    return state | times(doc, _TIMES)


def _view(doc: dict[str, Any], members: tuple[str, ...]) -> dict[str, Any]:
    return {**{k: doc[k] for k in members if k in doc}, **times(doc, _TIMES)}


async def create_api_destination(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    check_endpoint(ctx, p["InvocationEndpoint"], "InvocationEndpoint")
    await _check_connection(ctx, p["ConnectionArn"])
    now = clock.now_ms()
    doc: dict[str, Any] = {
        "ApiDestinationArn": unique_arn(ctx, "api-destination", name),
        "Name": name,
        "ApiDestinationState": "ACTIVE",
        "ConnectionArn": p["ConnectionArn"],
        "InvocationEndpoint": p["InvocationEndpoint"],
        "HttpMethod": p["HttpMethod"],
        "InvocationRateLimitPerSecond": p.get("InvocationRateLimitPerSecond") or DEFAULT_RATE,
        "CreationTime": now,
        "LastModifiedTime": now,
    }
    if p.get("Description") is not None:
        doc["Description"] = p["Description"]
    if not await ctx.env.db.write(resource_store.create, API_DESTINATIONS, ctx.account, ctx.region, name, doc):
        raise api_destination_exists(name)
    return _answer(doc)


async def describe_api_destination(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    doc = await ctx.env.db.read(resource_store.get, API_DESTINATIONS, ctx.account, ctx.region, p["Name"])
    if doc is None:
        raise api_destination_not_found(p["Name"])
    return _view(doc, _DESCRIBED)


def _update(tx: Tx, account: str, region: str, name: str, changes: dict[str, Any]) -> dict[str, Any] | None:
    """The changes, unless the connection they name is gone by now (ResourceNotFoundException)."""

    def change(_old: dict[str, Any]) -> dict[str, Any]:
        arn = changes.get("ConnectionArn")
        if arn is not None and by_arn(tx.conn, CONNECTIONS, account, region, arn, "connection") is None:
            raise connection_not_found(name_in(arn, "connection") or arn)
        return changes

    return resource_store.modify(tx, API_DESTINATIONS, account, region, name, change)


async def update_api_destination(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    if p.get("InvocationEndpoint") is not None:
        check_endpoint(ctx, p["InvocationEndpoint"], "InvocationEndpoint")
    changes: dict[str, Any] = {"LastModifiedTime": clock.now_ms()}
    changes.update({k: p[k] for k in _CHANGED if p.get(k) is not None})
    doc = await ctx.env.db.write(_update, ctx.account, ctx.region, name, changes)
    if doc is None:
        raise api_destination_not_found(name)
    return _answer(doc)


async def delete_api_destination(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    if await ctx.env.db.write(resource_store.remove, API_DESTINATIONS, ctx.account, ctx.region, p["Name"]) is None:
        raise api_destination_not_found(p["Name"])
    return {}


async def list_api_destinations(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    connection = p.get("ConnectionArn")
    docs = await ctx.env.db.read(
        resource_store.listing, API_DESTINATIONS, ctx.account, ctx.region, p.get("NamePrefix"), page_after(p)
    )
    items, token = page(p, docs, lambda d: connection is None or d["ConnectionArn"] == connection, "Name")
    out: dict[str, Any] = {"ApiDestinations": [_view(d, _LISTED) for d in items]}
    if token:
        out["NextToken"] = token
    return out


HANDLERS = {
    "CreateApiDestination": create_api_destination,
    "DescribeApiDestination": describe_api_destination,
    "UpdateApiDestination": update_api_destination,
    "DeleteApiDestination": delete_api_destination,
    "ListApiDestinations": list_api_destinations,
}
