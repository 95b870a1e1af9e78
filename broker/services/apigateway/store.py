"""SQL of API Gateway's objects (apigateway_objects): every object is a row (kind, api_id, object_id) holding the
document AWS answers for it. Under an API (api_id = its id): its resources (each with its methods, method
responses, integrations and integration responses, as GetResource answers them), deployments (with the snapshot
of the resources they deployed), stages, models, authorizers, request validators, gateway responses and
documentation; account-wide (api_id ""): the APIs themselves, API keys, usage plans, the account's settings,
client certificates, VPC links and custom domain names (the constants below say where each kind lives)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, delete, select

from broker.storage.db import Tx
from broker.storage.helpers import insert_ignore, upsert
from broker.storage.tables import apigateway_objects as o

Doc = dict[str, Any]

REST_API, RESOURCE, DEPLOYMENT, STAGE = "restapi", "resource", "deployment", "stage"


def _where(account: str, region: str, kind: str, api_id: str) -> Any:
    return and_(o.c.account == account, o.c.region == region, o.c.kind == kind, o.c.api_id == api_id)


def get(conn: Connection, account: str, region: str, kind: str, api_id: str, object_id: str) -> Doc | None:
    row = conn.execute(select(o.c.doc).where(_where(account, region, kind, api_id), o.c.object_id == object_id)).first()
    return json.loads(row.doc) if row else None


def listing(conn: Connection, account: str, region: str, kind: str, api_id: str) -> list[Doc]:
    rows = conn.execute(select(o.c.doc).where(_where(account, region, kind, api_id)).order_by(o.c.object_id)).all()
    return [json.loads(r.doc) for r in rows]


def add(tx: Tx, account: str, region: str, kind: str, api_id: str, object_id: str, doc: Doc) -> bool:
    """Insert; False when the object exists."""
    values = {
        "account": account, "region": region, "kind": kind, "api_id": api_id, "object_id": object_id,
        "doc": json.dumps(doc),
    }  # fmt: skip
    return insert_ignore(tx.conn, o, values) == 1


def put(tx: Tx, account: str, region: str, kind: str, api_id: str, object_id: str, doc: Doc) -> None:
    values = {
        "account": account, "region": region, "kind": kind, "api_id": api_id, "object_id": object_id,
        "doc": json.dumps(doc),
    }  # fmt: skip
    upsert(tx.conn, o, values, ["account", "region", "kind", "api_id", "object_id"])


def remove(tx: Tx, account: str, region: str, kind: str, api_id: str, object_ids: list[str]) -> None:
    tx.conn.execute(delete(o).where(_where(account, region, kind, api_id), o.c.object_id.in_(object_ids)))


def remove_api(tx: Tx, account: str, region: str, api_id: str) -> None:
    """The API and everything under it."""
    tx.conn.execute(
        delete(o).where(o.c.account == account, o.c.region == region, o.c.api_id == api_id, o.c.kind != REST_API)
    )
    tx.conn.execute(delete(o).where(_where(account, region, REST_API, "")).where(o.c.object_id == api_id))


def find_api(conn: Connection, api_id: str) -> tuple[str, str, Doc] | None:
    """(account, region, API) of an API id, whatever the account and region (the invoke URL names neither)."""
    row = conn.execute(
        select(o.c.account, o.c.region, o.c.doc).where(o.c.kind == REST_API, o.c.api_id == "", o.c.object_id == api_id)
    ).first()
    return (row.account, row.region, json.loads(row.doc)) if row else None


# Account-wide (api_id ""): API keys, the index of their values (object_id = the value, so a value is unique), usage
# plans; a usage plan's keys live under api_id = the plan's id.
API_KEY, API_KEY_VALUE, USAGE_PLAN, USAGE_PLAN_KEY = "apikey", "apikeyvalue", "usageplan", "usageplankey"

# Per API: authorizers, request validators, models (object_id = the model's name) and the gateway responses an API
# customised (object_id = the response type; the others are answered as AWS's defaults).
AUTHORIZER, REQUEST_VALIDATOR, MODEL, GATEWAY_RESPONSE = "authorizer", "requestvalidator", "model", "gatewayresponse"

# Account-wide (api_id ""): the account's settings (object_id "account"), client certificates, VPC links, custom
# domain names (object_id = the name, "<name>+<domainNameId>" for a private one) and domain name access associations
# (object_id = a digest of the ARN, which may be longer than a key). A domain's base path mappings live under
# api_id = "domain/" + the domain's private key (never an API id); documentation parts, their location index (object_id
# = a digest of the location, so a location is documented once) and documentation versions under their API.
ACCOUNT, CLIENT_CERTIFICATE, VPC_LINK = "account", "clientcertificate", "vpclink"
DOMAIN_NAME, BASE_PATH_MAPPING, DOMAIN_ACCESS_ASSOCIATION = "domainname", "basepathmapping", "domainaccessassociation"
DOCUMENTATION_PART, DOCUMENTATION_LOCATION = "documentationpart", "documentationloc"
DOCUMENTATION_VERSION = "documentationversion"
