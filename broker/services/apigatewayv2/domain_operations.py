"""Custom domain names (stored with AWS's answer: regional configurations, AVAILABLE), their API mappings (a stage
of an API under a path key) and VPC links (stored, AVAILABLE at once: the broker reaches no VPC)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from broker import ids
from broker.context import RequestContext
from broker.services.apigatewayv2 import common, errors, store
from broker.services.apigatewayv2.store import Doc
from broker.storage.db import Tx

VPC_LINK_READY = "VPC link is ready to route traffic"
DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _domain_or_404(conn: Connection, ctx: RequestContext, name: str) -> Doc:
    found = store.get(conn, ctx.account, ctx.region, store.DOMAIN_NAME, "", name)
    if found is None:
        raise errors.domain_not_found(name)
    return found


def _configurations(ctx: RequestContext, given: list[Doc] | None, current: list[Doc] | None) -> list[Doc]:
    out = []
    for i, c in enumerate(given or [{}]):
        base = (current or [{}])[i] if current and i < len(current) else {}
        conf: Doc = {
            "ApiGatewayDomainName": base.get("ApiGatewayDomainName")
            or f"d-{ids.short_id(10)}.execute-api.{ctx.region}.amazonaws.com",
        }
        for key in ("CertificateArn", "CertificateName", "OwnershipVerificationCertificateArn"):
            if c.get(key, base.get(key)) is not None:
                conf[key] = c.get(key, base.get(key))
            common.check_arn(c.get(key) if key.endswith("Arn") else None, key)
        conf["DomainNameStatus"] = "AVAILABLE"
        conf["EndpointType"] = c.get("EndpointType") or base.get("EndpointType") or "REGIONAL"
        if conf["EndpointType"] != "REGIONAL":
            raise errors.bad_request("Only REGIONAL domain names are supported for HTTP and WebSocket APIs")
        conf["IpAddressType"] = c.get("IpAddressType") or base.get("IpAddressType") or "ipv4"
        conf["SecurityPolicy"] = c.get("SecurityPolicy") or base.get("SecurityPolicy") or "TLS_1_2"
        out.append(conf)
    return out


def _check_name(name: str) -> None:
    labels = name.split(".")
    if (
        len(name) > 253
        or len(labels) < 2
        or not all(DNS_LABEL.match(label) for label in labels[1:])
        or not (labels[0] == "*" or DNS_LABEL.match(labels[0]))
    ):
        raise errors.bad_request(f"Invalid domain name specified: {name}")


async def create_domain_name(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["DomainName"]
    _check_name(name)
    doc: Doc = {"ApiMappingSelectionExpression": "$request.basepath", "DomainName": name}
    doc["DomainNameArn"] = f"arn:aws:apigateway:{ctx.region}::/domainnames/{name}"
    doc["DomainNameConfigurations"] = _configurations(ctx, p.get("DomainNameConfigurations"), None)
    if p.get("MutualTlsAuthentication") is not None:
        doc["MutualTlsAuthentication"] = p["MutualTlsAuthentication"]
    doc["RoutingMode"] = p.get("RoutingMode") or "API_MAPPING_ONLY"
    doc["Tags"] = dict(p.get("Tags") or {})

    def write(tx: Tx) -> Doc:
        if not store.add(tx, ctx.account, ctx.region, store.DOMAIN_NAME, "", name, doc):
            raise errors.conflict("The domain name you provided already exists.")
        return doc

    return common.answer(await ctx.env.db.write(write))


async def get_domain_name(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return common.answer(await ctx.env.db.read(_domain_or_404, ctx, p["DomainName"]))


async def get_domain_names(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    found = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.DOMAIN_NAME, "")
    return common.answered_page(found, "DomainName", p)


async def update_domain_name(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["DomainName"]

    def write(tx: Tx) -> Doc:
        doc = _domain_or_404(tx.conn, ctx, name)
        if p.get("DomainNameConfigurations") is not None:
            doc["DomainNameConfigurations"] = _configurations(
                ctx, p["DomainNameConfigurations"], doc.get("DomainNameConfigurations")
            )
        if p.get("MutualTlsAuthentication") is not None:
            doc["MutualTlsAuthentication"] = p["MutualTlsAuthentication"]
        if p.get("RoutingMode") is not None:
            doc["RoutingMode"] = p["RoutingMode"]
        store.put(tx, ctx.account, ctx.region, store.DOMAIN_NAME, "", name, doc)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def delete_domain_name(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = p["DomainName"]

    def write(tx: Tx) -> None:
        _domain_or_404(tx.conn, ctx, name)
        store.remove(tx, ctx.account, ctx.region, store.DOMAIN_NAME, "", [name])
        store.remove_children(tx, ctx.account, ctx.region, store.API_MAPPING, store.mapping_key(name))

    await ctx.env.db.write(write)
    return {}


# -- API mappings ------------------------------------------------------------------------------------------------


def _check_mapping(conn: Connection, ctx: RequestContext, doc: Doc, mappings: list[Doc]) -> None:
    common.api_or_404(conn, ctx, doc["ApiId"])
    if store.get(conn, ctx.account, ctx.region, store.STAGE, doc["ApiId"], doc["Stage"]) is None:
        raise errors.stage_not_found(doc["Stage"])
    key = doc.get("ApiMappingKey", "")
    if key.startswith("/") or key.endswith("/") or "//" in key:
        raise errors.bad_request(f"Invalid ApiMappingKey specified: {key}")
    for other in mappings:
        if other["ApiMappingId"] != doc["ApiMappingId"] and other.get("ApiMappingKey", "") == key:
            raise errors.conflict(f"ApiMapping with key '{key}' already exists for domain name")


def _mapping_or_404(conn: Connection, ctx: RequestContext, domain: str, mapping_id: str) -> Doc:
    _domain_or_404(conn, ctx, domain)
    found = store.get(conn, ctx.account, ctx.region, store.API_MAPPING, store.mapping_key(domain), mapping_id)
    if found is None:
        raise errors.api_mapping_not_found(mapping_id)
    return found


async def create_api_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    domain = p["DomainName"]
    doc: Doc = {"ApiId": p["ApiId"], "ApiMappingId": common.new_id(6), "ApiMappingKey": p.get("ApiMappingKey") or ""}
    doc["Stage"] = p["Stage"]
    parent = store.mapping_key(domain)

    def write(tx: Tx) -> Doc:
        _domain_or_404(tx.conn, ctx, domain)
        _check_mapping(tx.conn, ctx, doc, store.listing(tx.conn, ctx.account, ctx.region, store.API_MAPPING, parent))
        store.add(tx, ctx.account, ctx.region, store.API_MAPPING, parent, doc["ApiMappingId"], doc)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def get_api_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return common.answer(await ctx.env.db.read(_mapping_or_404, ctx, p["DomainName"], p["ApiMappingId"]))


async def get_api_mappings(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def read(conn: Connection) -> list[Doc]:
        _domain_or_404(conn, ctx, p["DomainName"])
        return store.listing(conn, ctx.account, ctx.region, store.API_MAPPING, store.mapping_key(p["DomainName"]))

    return common.answered_page(await ctx.env.db.read(read), "ApiMappingId", p)


async def update_api_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    domain, mapping_id = p["DomainName"], p["ApiMappingId"]
    parent = store.mapping_key(domain)

    def write(tx: Tx) -> Doc:
        doc = _mapping_or_404(tx.conn, ctx, domain, mapping_id)
        for key in ("ApiId", "ApiMappingKey", "Stage"):
            if p.get(key) is not None:
                doc[key] = p[key]
        _check_mapping(tx.conn, ctx, doc, store.listing(tx.conn, ctx.account, ctx.region, store.API_MAPPING, parent))
        store.put(tx, ctx.account, ctx.region, store.API_MAPPING, parent, mapping_id, doc)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def delete_api_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    domain, mapping_id = p["DomainName"], p["ApiMappingId"]

    def write(tx: Tx) -> None:
        _mapping_or_404(tx.conn, ctx, domain, mapping_id)
        store.remove(tx, ctx.account, ctx.region, store.API_MAPPING, store.mapping_key(domain), [mapping_id])

    await ctx.env.db.write(write)
    return {}


# -- VPC links ---------------------------------------------------------------------------------------------------


def _vpc_link_or_404(conn: Connection, ctx: RequestContext, link_id: str) -> Doc:
    found = store.get(conn, ctx.account, ctx.region, store.VPC_LINK, "", link_id)
    if found is None:
        raise errors.vpc_link_not_found(link_id)
    return found


async def create_vpc_link(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    for subnet in p["SubnetIds"]:
        if not subnet.startswith("subnet-"):
            raise errors.bad_request(f"Invalid subnet id specified: {subnet}")
    for group in p.get("SecurityGroupIds") or []:
        if not group.startswith("sg-"):
            raise errors.bad_request(f"Invalid security group id specified: {group}")
    doc: Doc = {"CreatedDate": common.now_iso(), "Name": p["Name"]}
    doc["SecurityGroupIds"] = list(p.get("SecurityGroupIds") or [])
    doc["SubnetIds"] = list(p["SubnetIds"])
    doc["Tags"] = dict(p.get("Tags") or {})
    doc["VpcLinkId"] = common.new_id(7)
    doc.update(VpcLinkStatus="AVAILABLE", VpcLinkStatusMessage=VPC_LINK_READY, VpcLinkVersion="V2")

    def write(tx: Tx) -> Doc:
        store.add(tx, ctx.account, ctx.region, store.VPC_LINK, "", doc["VpcLinkId"], doc)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def get_vpc_link(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return common.answer(await ctx.env.db.read(_vpc_link_or_404, ctx, p["VpcLinkId"]))


async def get_vpc_links(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    found = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.VPC_LINK, "")
    return common.answered_page(found, "VpcLinkId", p)


async def update_vpc_link(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def write(tx: Tx) -> Doc:
        doc = _vpc_link_or_404(tx.conn, ctx, p["VpcLinkId"])
        if p.get("Name") is not None:
            doc["Name"] = p["Name"]
        store.put(tx, ctx.account, ctx.region, store.VPC_LINK, "", doc["VpcLinkId"], doc)
        return doc

    return common.answer(await ctx.env.db.write(write))


async def delete_vpc_link(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def write(tx: Tx) -> None:
        _vpc_link_or_404(tx.conn, ctx, p["VpcLinkId"])
        store.remove(tx, ctx.account, ctx.region, store.VPC_LINK, "", [p["VpcLinkId"]])

    await ctx.env.db.write(write)
    return {}


HANDLERS = {
    "CreateDomainName": create_domain_name,
    "GetDomainName": get_domain_name,
    "GetDomainNames": get_domain_names,
    "UpdateDomainName": update_domain_name,
    "DeleteDomainName": delete_domain_name,
    "CreateApiMapping": create_api_mapping,
    "GetApiMapping": get_api_mapping,
    "GetApiMappings": get_api_mappings,
    "UpdateApiMapping": update_api_mapping,
    "DeleteApiMapping": delete_api_mapping,
    "CreateVpcLink": create_vpc_link,
    "GetVpcLink": get_vpc_link,
    "GetVpcLinks": get_vpc_links,
    "UpdateVpcLink": update_vpc_link,
    "DeleteVpcLink": delete_vpc_link,
}
