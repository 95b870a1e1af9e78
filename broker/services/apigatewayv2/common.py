"""What the v2 operations share: finding an API (AWS's NotFoundException text), timestamps as stored, paging with
NextToken/MaxResults, and deployments — a snapshot of the API's routes, integrations and authorizers, made by
CreateDeployment and, for every stage with AutoDeploy, after each change of the API (`changed`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from broker import clock, ids, paging
from broker.context import RequestContext
from broker.services.apigateway.common import items_after
from broker.services.apigatewayv2 import errors, store
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

T = TypeVar("T")
HTTP, WEBSOCKET = "HTTP", "WEBSOCKET"
MAX_RESULTS = 500
ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:.+$")


def now_iso() -> str:
    return clock.to_datetime(clock.now_ms()).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def answer(doc: Doc) -> Doc:
    """A stored document as the operations answer it: private members left out, timestamps as datetimes."""
    out = store.doc_of(doc)
    for key in ("CreatedDate", "LastUpdatedDate"):
        if isinstance(out.get(key), str):
            out[key] = parse_iso(out[key])
    return out


def api_or_404(conn: Connection, ctx: RequestContext, api_id: str) -> Doc:
    found = store.get_api(conn, ctx.account, ctx.region, api_id)
    if found is None:
        raise errors.api_not_found(ctx.account, api_id)
    return found


async def api(ctx: RequestContext, api_id: str) -> Doc:
    return await ctx.env.db.read(api_or_404, ctx, api_id)


def page(items: list[T], key: Callable[[T], str], p: dict[str, Any]) -> dict[str, Any]:
    """{"Items": ..., "NextToken": ...}: the items after NextToken (a token this broker gave), at most MaxResults
    (a string in the model; every item when absent)."""
    raw = p.get("MaxResults")
    limit: int | None = None
    if raw is not None and raw != "":
        try:
            limit = int(raw)
        except ValueError:
            raise errors.bad_request("MaxResults must be a number") from None
        if not 1 <= limit <= MAX_RESULTS:
            raise errors.bad_request(f"MaxResults must be between 1 and {MAX_RESULTS}")
    token = p.get("NextToken")
    if token:
        items = items_after(items, key, token, "Invalid NextToken")
    out: dict[str, Any] = {}
    if limit is not None and len(items) > limit:
        items = items[:limit]
        out["NextToken"] = paging.after_token(key(items[-1]))
    out["Items"] = items
    return out


def answered_page(docs: list[Doc], id_member: str, p: dict[str, Any]) -> dict[str, Any]:
    """A page of stored documents, in the order of their id member, as the operations answer them."""
    out = page(docs, lambda d: str(d[id_member]), p)
    out["Items"] = [answer(d) for d in out["Items"]]
    return out


def new_id(length: int) -> str:
    return ids.short_id(length)


# -- deployments -------------------------------------------------------------------------------------------------


def snapshot(conn: Connection, account: str, region: str, api_id: str, api_doc: Doc) -> Doc:
    """What a deployment serves: the API and its routes, integrations and authorizers as they are now."""
    return {
        "Api": store.doc_of(api_doc),
        "Routes": store.listing(conn, account, region, store.ROUTE, api_id),
        "Integrations": store.listing(conn, account, region, store.INTEGRATION, api_id),
        "Authorizers": store.listing(conn, account, region, store.AUTHORIZER, api_id),
    }


def deploy(tx: Tx, account: str, region: str, api_doc: Doc, description: str | None, auto: bool) -> Doc:
    """A new deployment row (with its snapshot); returns its document (no snapshot)."""
    api_id = api_doc["ApiId"]
    deployment_id = new_id(6)
    doc: Doc = {"AutoDeployed": auto, "CreatedDate": now_iso(), "DeploymentId": deployment_id}
    doc["DeploymentStatus"] = "DEPLOYED"
    if description is not None:
        doc["Description"] = description
    snap = snapshot(tx.conn, account, region, api_id, api_doc)
    store.add(tx, account, region, store.DEPLOYMENT, api_id, deployment_id, {**doc, store.SNAPSHOT: snap})
    return doc


def deployed_message(deployment_id: str) -> str:
    return f"Successfully deployed stage with deployment ID '{deployment_id}'"


def auto_deploy_stage(tx: Tx, account: str, region: str, api_doc: Doc, stage: Doc) -> None:
    """Deploy the API now to one auto-deploy stage (the stage row is written)."""
    dep = deploy(tx, account, region, api_doc, None, True)
    stage["DeploymentId"] = dep["DeploymentId"]
    stage["LastDeploymentStatusMessage"] = deployed_message(dep["DeploymentId"])
    stage["LastUpdatedDate"] = now_iso()
    store.put(tx, account, region, store.STAGE, api_doc["ApiId"], stage["StageName"], stage)


def changed(tx: Tx, account: str, region: str, api_id: str) -> None:
    """After a change of the API or its routes, integrations, authorizers: every AutoDeploy stage redeploys."""
    api_doc = store.get_api(tx.conn, account, region, api_id)
    if api_doc is None:
        return
    for stage in store.listing(tx.conn, account, region, store.STAGE, api_id):
        if stage.get("AutoDeploy"):
            auto_deploy_stage(tx, account, region, api_doc, stage)


def check_arn(value: str | None, member: str) -> None:
    if value is not None and not ARN.match(value):
        raise errors.bad_request(f"Invalid ARN specified in the request: {member}")
