"""SQL of API Gateway v2 (HTTP and WebSocket APIs): rows of the shared `apigateway_objects` table, written through
the v1 store's functions (get/listing/add/put/remove; `remove_http_api` here), by the kinds below.

Every document is the Get* output of its object with botocore's member names (PascalCase) — what the handlers
answer as is. Timestamps (CreatedDate, LastUpdatedDate) are stored as ISO 8601 strings in UTC with second precision
("2026-12-07T08:43:34Z"), the form API Gateway v2 writes them on the wire. Members starting with "_" are private
(never answered): a deployment's `_Snapshot` = {"Api", "Routes", "Integrations", "Authorizers"} is what the data plane
serves its stages from.

Per API (api_id = the API's id): routes, route responses (api_id = "<apiId>/<routeId>"), integrations, integration
responses (api_id = "<apiId>/<integrationId>"), authorizers, models, stages (object_id = StageName) and deployments.
The API itself is api_id = object_id = its id. Account-wide objects (domain names, VPC links) have api_id = "";
API mappings live under their domain name (api_id = "domain:" + a digest of the name)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, and_, delete, select

from broker.services.apigateway.store import Doc, add, get, listing, put, remove
from broker.storage.db import Tx
from broker.storage.tables import apigateway_objects as o

__all__ = ["Doc", "add", "get", "listing", "put", "remove"]

API, ROUTE, INTEGRATION, AUTHORIZER = "v2api", "v2route", "v2integration", "v2authorizer"
STAGE, DEPLOYMENT, MODEL = "v2stage", "v2deployment", "v2model"
ROUTE_RESPONSE, INTEGRATION_RESPONSE = "v2routeresponse", "v2integrationresponse"
DOMAIN_NAME, API_MAPPING, VPC_LINK = "v2domainname", "v2apimapping", "v2vpclink"

SNAPSHOT = "_Snapshot"
V2_KINDS = (API, ROUTE, INTEGRATION, AUTHORIZER, STAGE, DEPLOYMENT, MODEL, ROUTE_RESPONSE, INTEGRATION_RESPONSE)


def child_key(api_id: str, parent_id: str) -> str:
    """The api_id column of an object under a route or an integration (its responses)."""
    return f"{api_id}/{parent_id}"


def mapping_key(domain_name: str) -> str:
    """The api_id column of a domain name's API mappings: a digest (domain names are longer than the column)."""
    return "domain:" + hashlib.sha256(domain_name.encode()).hexdigest()[:48]


def find_http_api(conn: Connection, api_id: str) -> tuple[str, str, Doc] | None:
    """(account, region, API document) of a v2 API id in any account and region (the invoke URL names neither)."""
    row = conn.execute(
        select(o.c.account, o.c.region, o.c.doc).where(o.c.kind == API, o.c.api_id == api_id, o.c.object_id == api_id)
    ).first()
    return (row.account, row.region, json.loads(row.doc)) if row else None


def get_api(conn: Connection, account: str, region: str, api_id: str) -> Doc | None:
    return get(conn, account, region, API, api_id, api_id)


def list_apis(conn: Connection, account: str, region: str) -> list[Doc]:
    rows = conn.execute(
        select(o.c.doc)
        .where(o.c.account == account, o.c.region == region, o.c.kind == API, o.c.api_id == o.c.object_id)
        .order_by(o.c.object_id)
    ).all()
    return [json.loads(r.doc) for r in rows]


def remove_http_api(tx: Tx, account: str, region: str, api_id: str) -> None:
    """The API and everything under it (routes' and integrations' responses included)."""
    base = and_(o.c.account == account, o.c.region == region, o.c.kind.in_(V2_KINDS))
    tx.conn.execute(delete(o).where(base, o.c.api_id == api_id))
    # responses of its routes and integrations: api_id "<apiId>/<parentId>" (API ids are letters and digits only)
    tx.conn.execute(delete(o).where(base, o.c.api_id.like(f"{api_id}/%")))


def remove_children(tx: Tx, account: str, region: str, kind: str, parent_key: str) -> None:
    tx.conn.execute(
        delete(o).where(o.c.account == account, o.c.region == region, o.c.kind == kind, o.c.api_id == parent_key)
    )


def listing_any(conn: Connection, account: str, region: str, kind: str) -> list[tuple[str, Doc]]:
    """(api_id column, doc) of every object of a kind in the account and region (API mappings of an API)."""
    rows = conn.execute(
        select(o.c.api_id, o.c.doc)
        .where(o.c.account == account, o.c.region == region, o.c.kind == kind)
        .order_by(o.c.object_id)
    ).all()
    return [(r.api_id, json.loads(r.doc)) for r in rows]


def doc_of(value: Any) -> Doc:
    """A stored document without its private members (what the operations answer)."""
    return {k: v for k, v in value.items() if not k.startswith("_")}
