"""Deployments: CreateDeployment freezes the API's routes, integrations and authorizers (the snapshot the data plane
serves a stage from, never answered) and, with StageName, points that stage at it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.services.apigatewayv2 import common, errors, store
from broker.services.apigatewayv2.common import WEBSOCKET
from broker.services.apigatewayv2.stage_operations import stage_or_404
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx


def _deployment_or_404(conn: Connection, ctx: RequestContext, api_id: str, deployment_id: str) -> Doc:
    found = store.get(conn, ctx.account, ctx.region, store.DEPLOYMENT, api_id, deployment_id)
    if found is None:
        raise errors.deployment_not_found(deployment_id)
    return found


async def create_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, stage_name = p["ApiId"], p.get("StageName")

    def write(tx: Tx) -> Doc:
        api = common.api_or_404(tx.conn, ctx, api_id)
        stage = stage_or_404(tx.conn, ctx, api_id, stage_name) if stage_name is not None else None
        if stage is not None and stage.get("AutoDeploy"):
            raise errors.bad_request(
                f"Stage {stage_name} has AutoDeploy enabled: it is deployed with every change of the API"
            )
        if api["ProtocolType"] == WEBSOCKET and not store.listing(
            tx.conn, ctx.account, ctx.region, store.ROUTE, api_id
        ):
            raise errors.bad_request("At least one route is required before deploying the Api.")
        doc = common.deploy(tx, ctx.account, ctx.region, api, p.get("Description"), False)
        if stage is not None:
            stage["DeploymentId"] = doc["DeploymentId"]
            stage["LastDeploymentStatusMessage"] = common.deployed_message(doc["DeploymentId"])
            stage["LastUpdatedDate"] = common.now_iso()
            store.put(tx, ctx.account, ctx.region, store.STAGE, api_id, stage["StageName"], stage)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def get_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> Doc:
        common.api_or_404(conn, ctx, p["ApiId"])
        return _deployment_or_404(conn, ctx, p["ApiId"], p["DeploymentId"])

    return common.answer(await ctx.env.db.read(read))


async def get_deployments(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> list[Doc]:
        common.api_or_404(conn, ctx, p["ApiId"])
        return store.listing(conn, ctx.account, ctx.region, store.DEPLOYMENT, p["ApiId"])

    return common.answered_page(await ctx.env.db.read(read), "DeploymentId", p)


async def update_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, deployment_id = p["ApiId"], p["DeploymentId"]

    def write(tx: Tx) -> Doc:
        common.api_or_404(tx.conn, ctx, api_id)
        doc = _deployment_or_404(tx.conn, ctx, api_id, deployment_id)
        if p.get("Description") is not None:
            doc["Description"] = p["Description"]
        store.put(tx, ctx.account, ctx.region, store.DEPLOYMENT, api_id, deployment_id, doc)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def delete_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    api_id, deployment_id = p["ApiId"], p["DeploymentId"]

    def write(tx: Tx) -> None:
        common.api_or_404(tx.conn, ctx, api_id)
        _deployment_or_404(tx.conn, ctx, api_id, deployment_id)
        for stage in store.listing(tx.conn, ctx.account, ctx.region, store.STAGE, api_id):
            if stage.get("DeploymentId") == deployment_id:
                raise errors.bad_request("Active stages pointing to this deployment must be moved or deleted")
        store.remove(tx, ctx.account, ctx.region, store.DEPLOYMENT, api_id, [deployment_id])

    await ctx.env.db.write(write)
    return {}


HANDLERS = {
    "CreateDeployment": create_deployment,
    "GetDeployment": get_deployment,
    "GetDeployments": get_deployments,
    "UpdateDeployment": update_deployment,
    "DeleteDeployment": delete_deployment,
}
