"""Integrations (HTTP APIs: Lambda proxy with payload format 1.0 or 2.0, HTTP proxy, AWS service integrations by
subtype; WebSocket APIs: AWS, HTTP, MOCK and the proxies) and their integration responses (WebSocket). Every change
redeploys the API's auto-deploy stages."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.services.apigatewayv2 import common, errors, responses, store
from broker.services.apigatewayv2.common import HTTP, WEBSOCKET
from broker.services.apigatewayv2.responses import ResponseKind
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

TYPES = {HTTP: ("AWS_PROXY", "HTTP_PROXY"), WEBSOCKET: ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK")}
DEFAULT_TIMEOUT = {HTTP: 30000, WEBSOCKET: 29000}
HTTP_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
WEBSOCKET_MEMBERS = (
    "ContentHandlingStrategy",
    "PassthroughBehavior",
    "RequestTemplates",
    "TemplateSelectionExpression",
)
UPDATABLE = (
    "ConnectionId", "ConnectionType", "ContentHandlingStrategy", "CredentialsArn", "Description", "IntegrationMethod",
    "IntegrationSubtype", "IntegrationType", "IntegrationUri", "PassthroughBehavior", "PayloadFormatVersion",
    "RequestParameters", "RequestTemplates", "ResponseParameters", "TemplateSelectionExpression", "TimeoutInMillis",
    "TlsConfig",
)  # fmt: skip
RESPONSE_KEY = re.compile(r"^(\$default|/.+/)$")


def check_integration(api: Doc, doc: Doc) -> None:
    protocol = api["ProtocolType"]
    kind = doc["IntegrationType"]
    if kind not in TYPES[protocol]:
        raise errors.bad_request(f"Integration type {kind} is not supported for {protocol} APIs")
    uri, subtype = doc.get("IntegrationUri"), doc.get("IntegrationSubtype")
    version = doc.get("PayloadFormatVersion")
    if version not in ("1.0", "2.0"):
        raise errors.bad_request("PayloadFormatVersion must be one of: 1.0, 2.0")
    if version == "2.0" and not (protocol == HTTP and kind == "AWS_PROXY"):
        raise errors.bad_request("PayloadFormatVersion 2.0 is supported only for AWS_PROXY integrations of HTTP APIs")
    timeout = doc.get("TimeoutInMillis")
    if timeout is not None and not 50 <= timeout <= DEFAULT_TIMEOUT[protocol]:
        raise errors.bad_request(f"TimeoutInMillis must be between 50 and {DEFAULT_TIMEOUT[protocol]} milliseconds")
    if doc.get("ConnectionType") == "VPC_LINK" and not doc.get("ConnectionId"):
        raise errors.bad_request("ConnectionId is required for VPC_LINK integrations")
    if protocol == HTTP:
        for member in WEBSOCKET_MEMBERS:
            if doc.get(member) is not None:
                raise errors.websocket_only(member)
        if subtype is not None and kind != "AWS_PROXY":
            raise errors.bad_request("IntegrationSubtype is supported only for AWS_PROXY integrations")
        if kind == "AWS_PROXY" and subtype is None:
            if not uri:
                raise errors.bad_request("IntegrationUri is required for AWS_PROXY integrations")
            if ":lambda:" not in uri:
                raise errors.bad_request(f"Invalid integration URI specified: {uri}")
        if kind == "HTTP_PROXY":
            if not uri:
                raise errors.bad_request("IntegrationUri is required for HTTP_PROXY integrations")
            if doc.get("ConnectionType") != "VPC_LINK" and not uri.startswith(("http://", "https://")):
                raise errors.bad_request(f"Invalid HTTP endpoint specified for URI: {uri}")
            method = doc.get("IntegrationMethod")
            if method is None:
                raise errors.bad_request("IntegrationMethod is required for HTTP_PROXY integrations")
            if method.upper() not in HTTP_METHODS:
                raise errors.bad_request(f"Invalid IntegrationMethod: {method}")
    else:
        if subtype is not None:
            raise errors.http_only("IntegrationSubtype")
        if kind != "MOCK" and not uri:
            raise errors.bad_request(f"IntegrationUri is required for {kind} integrations")
    common.check_arn(doc.get("CredentialsArn"), "CredentialsArn")


def build_integration(api: Doc, p: dict[str, Any], integration_id: str) -> Doc:
    protocol = api["ProtocolType"]
    kind = p["IntegrationType"]
    doc: Doc = {}
    for key in ("ConnectionId",):
        if p.get(key) is not None:
            doc[key] = p[key]
    doc["ConnectionType"] = p.get("ConnectionType") or "INTERNET"
    for key in ("ContentHandlingStrategy", "CredentialsArn", "Description"):
        if p.get(key) is not None:
            doc[key] = p[key]
    doc["IntegrationId"] = integration_id
    if p.get("IntegrationMethod") is not None:
        doc["IntegrationMethod"] = p["IntegrationMethod"]
    elif protocol == HTTP and kind == "AWS_PROXY":
        doc["IntegrationMethod"] = "POST"
    if protocol == WEBSOCKET and kind not in ("AWS_PROXY", "HTTP_PROXY"):
        doc["IntegrationResponseSelectionExpression"] = "${integration.response.statuscode}"
    for key in ("IntegrationSubtype",):
        if p.get(key) is not None:
            doc[key] = p[key]
    doc["IntegrationType"] = kind
    if p.get("IntegrationUri") is not None:
        doc["IntegrationUri"] = p["IntegrationUri"]
    if p.get("PassthroughBehavior") is not None:
        doc["PassthroughBehavior"] = p["PassthroughBehavior"]
    elif protocol == WEBSOCKET and kind in ("AWS", "HTTP", "MOCK"):
        doc["PassthroughBehavior"] = "WHEN_NO_MATCH"
    version = p.get("PayloadFormatVersion")
    if version is None:
        if protocol == HTTP and kind == "AWS_PROXY" and p.get("IntegrationSubtype") is None:
            raise errors.bad_request("PayloadFormatVersion is required for AWS_PROXY integrations of HTTP APIs")
        version = "1.0"
    doc["PayloadFormatVersion"] = version
    for key in ("RequestParameters", "RequestTemplates", "ResponseParameters", "TemplateSelectionExpression"):
        if p.get(key) is not None:
            doc[key] = p[key]
    doc["TimeoutInMillis"] = p.get("TimeoutInMillis") or DEFAULT_TIMEOUT[protocol]
    if p.get("TlsConfig") is not None:
        doc["TlsConfig"] = p["TlsConfig"]
    return doc


def _integration_or_404(conn: Connection, ctx: RequestContext, api_id: str, integration_id: str) -> Doc:
    found = store.get(conn, ctx.account, ctx.region, store.INTEGRATION, api_id, integration_id)
    if found is None:
        raise errors.integration_not_found(integration_id)
    return found


async def create_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id = p["ApiId"]

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        doc = build_integration(api, p, common.new_id(7))
        check_integration(api, doc)
        store.add(tx, ctx.account, ctx.region, store.INTEGRATION, api_id, doc["IntegrationId"], doc)
        common.changed(tx, ctx.account, ctx.region, api_id)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def get_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> Doc:
        common.api_or_404(conn, ctx, p["ApiId"])
        return _integration_or_404(conn, ctx, p["ApiId"], p["IntegrationId"])

    return common.answer(await ctx.env.db.read(read))


async def get_integrations(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> list[Doc]:
        common.api_or_404(conn, ctx, p["ApiId"])
        return store.listing(conn, ctx.account, ctx.region, store.INTEGRATION, p["ApiId"])

    return common.answered_page(await ctx.env.db.read(read), "IntegrationId", p)


def _merge_mappings(doc: Doc, p: dict[str, Any], before: Doc) -> None:
    """HTTP API parameter mappings change key by key on update, as AWS applies them: a mapping given "" is removed,
    a status code given {} loses its mappings, the others stay."""
    for key in ("RequestParameters", "ResponseParameters"):
        if p.get(key) is None:
            continue
        merged = dict(before.get(key) or {})
        for name, value in p[key].items():
            if value in ("", {}):
                merged.pop(name, None)
            elif isinstance(value, dict) and isinstance(merged.get(name), dict):
                merged[name] = {k: v for k, v in {**merged[name], **value}.items() if v != ""}
            else:
                merged[name] = value
        if merged:
            doc[key] = merged
        else:
            doc.pop(key, None)


async def update_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, integration_id = p["ApiId"], p["IntegrationId"]

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        doc = _integration_or_404(tx.conn, ctx, api_id, integration_id)
        before = dict(doc)
        for key in UPDATABLE:
            if p.get(key) is not None:
                doc[key] = p[key]
        if api.get("ProtocolType") == HTTP and not doc.get("IntegrationSubtype"):
            _merge_mappings(doc, p, before)
        if doc.get("ConnectionType") == "INTERNET" and p.get("ConnectionId") is None:
            doc.pop("ConnectionId", None)
        check_integration(api, doc)
        store.put(tx, ctx.account, ctx.region, store.INTEGRATION, api_id, integration_id, doc)
        common.changed(tx, ctx.account, ctx.region, api_id)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def delete_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, integration_id = p["ApiId"], p["IntegrationId"]

    def write(tx: Tx) -> None:
        common.api_or_404(tx.conn, ctx, api_id)
        _integration_or_404(tx.conn, ctx, api_id, integration_id)
        store.remove(tx, ctx.account, ctx.region, store.INTEGRATION, api_id, [integration_id])
        parent = store.child_key(api_id, integration_id)
        store.remove_children(tx, ctx.account, ctx.region, store.INTEGRATION_RESPONSE, parent)
        common.changed(tx, ctx.account, ctx.region, api_id)

    await ctx.env.db.write(write)
    return {}


def _check_response_key(key: str) -> None:
    if not RESPONSE_KEY.match(key):
        raise errors.bad_request(
            f"Invalid IntegrationResponseKey {key}: must be $default or a regular expression between slashes"
        )


INTEGRATION_RESPONSES = ResponseKind(
    name="IntegrationResponse",
    parent="Integration",
    kind=store.INTEGRATION_RESPONSE,
    parent_kind=store.INTEGRATION,
    members=("ContentHandlingStrategy", "ResponseParameters", "ResponseTemplates", "TemplateSelectionExpression"),
    not_found=errors.integration_response_not_found,
    parent_not_found=errors.integration_not_found,
    check_key=_check_response_key,
)


HANDLERS = {
    "CreateIntegration": create_integration,
    "GetIntegration": get_integration,
    "GetIntegrations": get_integrations,
    "UpdateIntegration": update_integration,
    "DeleteIntegration": delete_integration,
    **responses.handlers(INTEGRATION_RESPONSES),
}
