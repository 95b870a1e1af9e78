"""EventBridge connections: CreateConnection, DescribeConnection, UpdateConnection, DeleteConnection,
ListConnections, DeauthorizeConnection. A connection holds how API destinations authorize (Basic, API key, OAuth
client credentials) and the parameters every invocation carries. Its secrets are stored in its document (AWS keeps
them in a Secrets Manager secret, whose ARN it answers; we answer one of that form) and never answered.

States as AWS reports them: Basic and API key connections answer CREATING/UPDATING and are AUTHORIZED at once;
OAuth connections are AUTHORIZING until a token was fetched from their authorization endpoint (AUTHORIZED) or that
failed (DEAUTHORIZED); DeauthorizeConnection answers DEAUTHORIZING, drops the secrets and leaves DEAUTHORIZED."""

from __future__ import annotations

import json
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.services.events import authorizations, resource_store
from broker.services.events.authorizations import OAUTH
from broker.services.events.errors import connection_exists, connection_not_found, invalid_parameter
from broker.services.events.names import page_after
from broker.services.events.resource_store import CONNECTIONS
from broker.services.events.resources import check_endpoint, page, times, unique_arn
from broker.storage.db import Tx

# The member of AuthParameters each authorization type needs, and the members in it that type needs (all of them
# when a connection is created or changes its type; a new type's parameters replace the old type's).
_AUTH_MEMBER = {"BASIC": "BasicAuthParameters", "API_KEY": "ApiKeyAuthParameters", OAUTH: "OAuthParameters"}
_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "BASIC": (("Username",), ("Password",)),
    "API_KEY": (("ApiKeyName",), ("ApiKeyValue",)),
    OAUTH: (
        ("ClientParameters", "ClientID"),
        ("ClientParameters", "ClientSecret"),
        ("AuthorizationEndpoint",),
        ("HttpMethod",),
    ),
}
# Where the secrets are: never answered, dropped by DeauthorizeConnection.
_SECRETS = (
    ("BasicAuthParameters", "Password"),
    ("ApiKeyAuthParameters", "ApiKeyValue"),
    ("OAuthParameters", "ClientParameters", "ClientSecret"),
)
_HTTP_PARAMETERS = (("InvocationHttpParameters",), ("OAuthParameters", "OAuthHttpParameters"))
_TIMES = ("CreationTime", "LastModifiedTime", "LastAuthorizedTime")
_SUMMARY = ("ConnectionArn", "Name", "ConnectionState", "StateReason", "AuthorizationType")
_DESCRIBED = (
    "ConnectionArn",
    "Name",
    "Description",
    "InvocationConnectivityParameters",
    "ConnectionState",
    "StateReason",
    "AuthorizationType",
    "SecretArn",
    "KmsKeyIdentifier",
)
_OPTIONAL = ("Description", "KmsKeyIdentifier", "InvocationConnectivityParameters")


def _at(doc: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _missing(kind: str, auth: dict[str, Any]) -> str | None:
    """The first member `kind` needs that `auth` lacks (as `BasicAuthParameters.Password`), None when complete."""
    member = _AUTH_MEMBER[kind]
    for path in _REQUIRED[kind]:
        if not _at(auth.get(member), path):
            return ".".join((member, *path))
    return None


def _check_auth(kind: str, auth: dict[str, Any], complete: bool) -> None:
    """One kind of authorization only, the one of `kind`, with all it needs when `complete`."""
    member = _AUTH_MEMBER[kind]
    if not auth.get(member):
        raise invalid_parameter("AuthParameters", f"{member} must be specified for AuthorizationType {kind}.")
    others = [m for m in _AUTH_MEMBER.values() if m != member and auth.get(m)]
    if others:
        raise invalid_parameter("AuthParameters", f"{others[0]} cannot be specified for AuthorizationType {kind}.")
    missing = _missing(kind, auth) if complete else None
    if missing:
        raise invalid_parameter("AuthParameters", f"{missing} must be specified for AuthorizationType {kind}.")


def _check_endpoint(ctx: RequestContext, auth: dict[str, Any]) -> None:
    endpoint = _at(auth, ("OAuthParameters", "AuthorizationEndpoint"))
    if endpoint is not None:
        check_endpoint(ctx, endpoint, "AuthParameters.OAuthParameters.AuthorizationEndpoint")


def _without_secrets(auth: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(auth))
    for *path, key in _SECRETS:
        holder = _at(out, tuple(path))
        if isinstance(holder, dict):
            holder.pop(key, None)
    return out


def _public_auth(auth: dict[str, Any]) -> dict[str, Any]:
    """AuthParameters as DescribeConnection answers them: no secret, no value of an http parameter marked secret."""
    out = _without_secrets(auth)
    for path in _HTTP_PARAMETERS:
        for items in (_at(out, path) or {}).values():
            for item in items:
                if item.get("IsValueSecret"):
                    item.pop("Value", None)
    return out


def _answer(doc: dict[str, Any], state: str, keys: tuple[str, ...] = _TIMES) -> dict[str, Any]:
    return {"ConnectionArn": doc["ConnectionArn"], "ConnectionState": state, **times(doc, keys)}


async def create_connection(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name, kind, auth = p["Name"], p["AuthorizationType"], p["AuthParameters"]
    _check_auth(kind, auth, complete=True)
    _check_endpoint(ctx, auth)
    now = clock.now_ms()
    doc: dict[str, Any] = {
        "ConnectionArn": unique_arn(ctx, "connection", name),
        "Name": name,
        "AuthorizationType": kind,
        "AuthParameters": auth,
        "ConnectionState": "AUTHORIZING" if kind == OAUTH else "AUTHORIZED",
        "SecretArn": f"arn:aws:secretsmanager:{ctx.region}:{ctx.account}:secret:events!connection/{name}/"
        + ids.uuid4(),
        "CreationTime": now,
        "LastModifiedTime": now,
        "Version": 1,
    }
    if kind != OAUTH:
        doc["LastAuthorizedTime"] = now
    doc.update({k: p[k] for k in _OPTIONAL if p.get(k) is not None})
    if not await ctx.env.db.write(resource_store.create, CONNECTIONS, ctx.account, ctx.region, name, doc):
        raise connection_exists(name)
    created = ("CreationTime", "LastModifiedTime")
    if kind == OAUTH:
        authorizations.authorize_later(ctx.env, ctx.account, ctx.region, doc)
        return _answer(doc, "AUTHORIZING", created)
    return _answer(doc, "CREATING", created)


async def describe_connection(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    doc = await ctx.env.db.read(resource_store.get, CONNECTIONS, ctx.account, ctx.region, p["Name"])
    if doc is None:
        raise connection_not_found(p["Name"])
    out: dict[str, Any] = {k: doc[k] for k in _DESCRIBED if k in doc}
    out["AuthParameters"] = _public_auth(doc["AuthParameters"])
    return {**out, **times(doc, _TIMES)}


def _merge_auth(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """UpdateConnection's AuthParameters over the stored ones: members given replace, nested ones merge."""
    out = dict(old)
    for member, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(member), dict) and member != "InvocationHttpParameters":
            merged = {**out[member], **value}
            if "ClientParameters" in value and "ClientParameters" in out[member]:
                merged["ClientParameters"] = {**out[member]["ClientParameters"], **value["ClientParameters"]}
            out[member] = merged
        else:
            out[member] = value
    return out


def _updated(old: dict[str, Any], p: dict[str, Any], now: int) -> dict[str, Any]:
    """The changes UpdateConnection makes to a connection (read locked, in the writing transaction)."""
    kind = p.get("AuthorizationType") or old["AuthorizationType"]
    given = p.get("AuthParameters") or {}
    auth = old["AuthParameters"]
    if kind != old["AuthorizationType"]:
        # A new kind of authorization: all its parameters come with it; the old kind's are dropped.
        _check_auth(kind, given, complete=True)
        auth = {k: v for k, v in auth.items() if k not in _AUTH_MEMBER.values()}
    auth = _merge_auth(auth, given)
    _check_auth(kind, auth, complete=False)
    changes: dict[str, Any] = {"AuthorizationType": kind, "AuthParameters": auth, "LastModifiedTime": now}
    changes["Version"] = int(old.get("Version", 1)) + 1
    changes.update({k: p[k] for k in _OPTIONAL if p.get(k) is not None})
    if _missing(kind, auth):  # e.g. deauthorized and given only a user name
        changes.update(ConnectionState="DEAUTHORIZED")
    elif kind == OAUTH:
        changes.update(ConnectionState="AUTHORIZING", StateReason=None)
    else:
        changes.update(ConnectionState="AUTHORIZED", StateReason=None, LastAuthorizedTime=now)
    return changes


def _update(tx: Tx, account: str, region: str, name: str, p: dict[str, Any], now: int) -> dict[str, Any] | None:
    return resource_store.modify(tx, CONNECTIONS, account, region, name, lambda old: _updated(old, p, now))


async def update_connection(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    _check_endpoint(ctx, p.get("AuthParameters") or {})
    doc = await ctx.env.db.write(_update, ctx.account, ctx.region, name, p, clock.now_ms())
    if doc is None:
        raise connection_not_found(name)
    if doc["ConnectionState"] == "AUTHORIZING":
        authorizations.authorize_later(ctx.env, ctx.account, ctx.region, doc)
        return _answer(doc, "AUTHORIZING")
    return _answer(doc, "UPDATING" if doc["ConnectionState"] == "AUTHORIZED" else doc["ConnectionState"])


async def delete_connection(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    doc = await ctx.env.db.write(resource_store.remove, CONNECTIONS, ctx.account, ctx.region, p["Name"])
    if doc is None:
        raise connection_not_found(p["Name"])
    return _answer(doc, doc["ConnectionState"])  # AWS answers the state before the deletion


def _deauthorized(old: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "AuthParameters": _without_secrets(old["AuthParameters"]),
        "ConnectionState": "DEAUTHORIZED",
        "LastModifiedTime": now,
        "Version": int(old.get("Version", 1)) + 1,
    }


def _deauthorize(tx: Tx, account: str, region: str, name: str, now: int) -> dict[str, Any] | None:
    return resource_store.modify(tx, CONNECTIONS, account, region, name, lambda old: _deauthorized(old, now))


async def deauthorize_connection(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    doc = await ctx.env.db.write(_deauthorize, ctx.account, ctx.region, name, clock.now_ms())
    if doc is None:
        raise connection_not_found(name)
    return _answer(doc, "DEAUTHORIZING")


async def list_connections(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    state = p.get("ConnectionState")
    docs = await ctx.env.db.read(
        resource_store.listing, CONNECTIONS, ctx.account, ctx.region, p.get("NamePrefix"), page_after(p)
    )
    items, token = page(p, docs, lambda d: state is None or d["ConnectionState"] == state, "Name")
    out: dict[str, Any] = {
        "Connections": [{**{k: d[k] for k in _SUMMARY if k in d}, **times(d, _TIMES)} for d in items],
    }
    if token:
        out["NextToken"] = token
    return out


HANDLERS = {
    "CreateConnection": create_connection,
    "DescribeConnection": describe_connection,
    "UpdateConnection": update_connection,
    "DeleteConnection": delete_connection,
    "ListConnections": list_connections,
    "DeauthorizeConnection": deauthorize_connection,
}
