"""Custom domain names (edge-optimized, regional and private), their base path mappings and the access associations
of private domain names, as API Gateway's control plane keeps them. Certificates are stored by ARN or name, never
fetched from ACM; a domain is AVAILABLE at once with the CloudFront or regional names AWS would answer. The data
plane does not route custom domains here."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import Connection

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import common, errors, store
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

NONE_BASE_PATH = "(none)"
ENDPOINT_TYPES = ("EDGE", "REGIONAL", "PRIVATE")
IP_ADDRESS_TYPES = ("ipv4", "dualstack")
DISTRIBUTION_HOSTED_ZONE = "Z2FDTNDATAQYW2"
# Route 53 hosted zones of API Gateway's regional endpoints (AWS's endpoint table).
REGIONAL_HOSTED_ZONES = {
    "us-east-2": "ZOJJZC49E0EPZ",
    "us-east-1": "Z1UJRXOUMOOFQ8",
    "us-west-1": "Z2MUQ32089INYE",
    "us-west-2": "Z2OJLYMUO9EFXC",
    "ap-south-1": "Z3VO1THU9YC4UR",
    "ap-northeast-3": "Z2YQB5RD63NC85",
    "ap-northeast-2": "Z20JF4UZKIW1U8",
    "ap-southeast-1": "ZL327KTPIQFUL",
    "ap-southeast-2": "Z2RPCDW04V8134",
    "ap-northeast-1": "Z1YSHQZHG15GKL",
    "ca-central-1": "Z19DQILCV0OWEC",
    "eu-central-1": "Z1U9ULNL0V5AJ3",
    "eu-west-1": "ZLY8HYME6SFDD",
    "eu-west-2": "ZJ5UAJN8Y3Z2Q",
    "eu-west-3": "Z3KY65QIEKYHQQ",
    "sa-east-1": "ZCMLWB8V5SYIT",
}
DOMAIN = re.compile(r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$")
# AWS's patch table of UpdateDomainName: path -> the ops it takes (nested members and the endpoint types aside, each
# names a top-level member).
ANY_OP, REPLACE = ("add", "replace", "remove"), ("replace",)
DOMAIN_PATCHABLE: dict[str, tuple[str, ...]] = {
    "/certificateName": ANY_OP,
    "/certificateArn": ANY_OP,
    "/regionalCertificateName": ANY_OP,
    "/regionalCertificateArn": ANY_OP,
    "/ownershipVerificationCertificateArn": ANY_OP,
    "/mutualTlsAuthentication/truststoreUri": ANY_OP,
    "/mutualTlsAuthentication/truststoreVersion": ANY_OP,
    "/endpointConfiguration/types": ("add", "remove"),
    "/endpointConfiguration/ipAddressType": REPLACE,
    "/endpointAccessMode": REPLACE,
    "/managementPolicy": REPLACE,
    "/policy": REPLACE,
    "/routingMode": REPLACE,
    "/securityPolicy": REPLACE,
}
ACCESS_MODES = ("BASIC", "STRICT")
ROUTING_MODES = ("BASE_PATH_MAPPING_ONLY", "ROUTING_RULE_ONLY", "ROUTING_RULE_THEN_BASE_PATH_MAPPING")
DOMAIN_ARN = re.compile(
    r"^arn:aws[a-z-]*:apigateway:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):/domainnames/(?P<name>[^+/]+)\+(?P<id>[^/]+)$"
)
VPCE = re.compile(r"^vpce-[0-9a-f]{8,17}$")


def domain_not_found() -> ServiceError:
    return errors.not_found("Invalid domain name identifier specified")


def mapping_not_found() -> ServiceError:
    return errors.not_found("Invalid base path mapping identifier specified")


def association_not_found() -> ServiceError:
    return errors.not_found("Invalid domain name access association identifier specified")


def _object_id(name: str, domain_id: str | None) -> str:
    return f"{name}+{domain_id}" if domain_id else name


def _domain_row(conn: Connection, account: str, region: str, name: str, domain_id: str | None) -> Doc | None:
    return store.get(conn, account, region, store.DOMAIN_NAME, "", _object_id(name, domain_id))


def _mappings_key(domain: Doc) -> str:
    """The api_id the domain's base path mappings live under (never an API's id: those have no "/")."""
    return f"domain/{domain['_key']}"


# -- domain names


def _endpoint_names(domain: Doc, region: str) -> None:
    """The CloudFront and regional names of the domain's endpoint types (kept across updates once made)."""
    types = domain["endpointConfiguration"]["types"]
    if "EDGE" in types:
        domain.setdefault("distributionDomainName", f"d{ids.short_id(13)}.cloudfront.net")
        domain["distributionHostedZoneId"] = DISTRIBUTION_HOSTED_ZONE
    else:
        domain.pop("distributionDomainName", None)
        domain.pop("distributionHostedZoneId", None)
    if "REGIONAL" in types:
        domain.setdefault("regionalDomainName", f"d-{ids.short_id(10)}.execute-api.{region}.amazonaws.com")
        if region in REGIONAL_HOSTED_ZONES:
            domain["regionalHostedZoneId"] = REGIONAL_HOSTED_ZONES[region]
    else:
        domain.pop("regionalDomainName", None)
        domain.pop("regionalHostedZoneId", None)


def _check_domain(domain: Doc) -> None:
    types = domain["endpointConfiguration"]["types"]
    kind = types[0]
    if "EDGE" in types and not (domain.get("certificateArn") or domain.get("certificateName")):
        raise errors.bad_request("A certificate was not provided for the edge-optimized domain name")
    if "REGIONAL" in types and not domain.get("regionalCertificateArn"):
        raise errors.bad_request("A regional certificate ARN was not provided for the regional domain name")
    if kind == "PRIVATE" and not domain.get("certificateArn"):
        raise errors.bad_request("A certificate ARN was not provided for the private domain name")
    policy = domain.get("securityPolicy")
    if policy not in ("TLS_1_0", "TLS_1_2") and not str(policy).startswith("SecurityPolicy_"):
        raise errors.bad_request(f"Invalid security policy specified: {policy}")
    if kind == "PRIVATE" and policy != "TLS_1_2":
        raise errors.bad_request("Private custom domain names only support the TLS_1_2 security policy")
    if domain.get("routingMode") not in ROUTING_MODES:
        raise errors.bad_request(f"Invalid routing mode specified: {domain.get('routingMode')}")
    if domain.get("endpointAccessMode", "BASIC") not in ACCESS_MODES:
        raise errors.bad_request(f"Invalid endpoint access mode specified: {domain.get('endpointAccessMode')}")
    if domain["endpointConfiguration"].get("ipAddressType") not in IP_ADDRESS_TYPES:
        raise errors.bad_request("Invalid IP address type specified. Must be one of: [ipv4, dualstack]")


def _domain_answer(domain: Doc) -> Doc:
    out = {k: v for k, v in domain.items() if not k.startswith("_")}
    if "certificateUploadDate" in domain:
        out["certificateUploadDate"] = common.when(domain["certificateUploadDate"])
    return out


async def create_domain_name(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = str(p["domainName"])
    if len(name) > 240 or not DOMAIN.match(name):
        raise errors.bad_request(f"Invalid domain name specified: {name}")
    endpoint = p.get("endpointConfiguration") or {}
    types = list(endpoint.get("types") or ["EDGE"])
    if len(types) != 1:
        raise errors.bad_request("A domain name must have exactly one endpoint type")
    if types[0] not in ENDPOINT_TYPES:
        raise errors.bad_request(f"Invalid endpoint type specified: {types[0]}")
    private = types[0] == "PRIVATE"
    domain_id = ids.short_id(8) if private else None
    domain: Doc = {"domainName": name}
    if domain_id:
        domain["domainNameId"] = domain_id
        domain["domainNameArn"] = f"arn:aws:apigateway:{ctx.region}:{ctx.account}:/domainnames/{name}+{domain_id}"
    else:
        domain["domainNameArn"] = f"arn:aws:apigateway:{ctx.region}::/domainnames/{name}"
    for key in ("certificateName", "certificateArn", "regionalCertificateName", "regionalCertificateArn"):
        if p.get(key) is not None:
            domain[key] = p[key]
    if p.get("certificateBody") is not None and p.get("certificatePrivateKey") is not None:
        domain.setdefault("certificateName", name)  # an uploaded certificate is known by its name
    if types[0] != "REGIONAL" and (domain.get("certificateArn") or domain.get("certificateName")):
        domain["certificateUploadDate"] = common.now()
    config: Doc = {"types": types, "ipAddressType": endpoint.get("ipAddressType") or "ipv4"}
    if endpoint.get("vpcEndpointIds"):
        config["vpcEndpointIds"] = list(endpoint["vpcEndpointIds"])
    domain["endpointConfiguration"] = config
    domain["domainNameStatus"] = "AVAILABLE"
    domain["securityPolicy"] = p.get("securityPolicy") or "TLS_1_2"
    if p.get("endpointAccessMode") is not None:
        domain["endpointAccessMode"] = p["endpointAccessMode"]
    if p.get("mutualTlsAuthentication"):
        mtls = p["mutualTlsAuthentication"]
        domain["mutualTlsAuthentication"] = {k: mtls[k] for k in ("truststoreUri", "truststoreVersion") if k in mtls}
        domain["mutualTlsAuthentication"]["truststoreWarnings"] = []
    for key in ("ownershipVerificationCertificateArn", "policy"):
        if p.get(key) is not None:
            domain[key] = p[key]
    domain["routingMode"] = p.get("routingMode") or "BASE_PATH_MAPPING_ONLY"
    if p.get("tags"):
        domain["tags"] = dict(p["tags"])
    domain["_key"] = ids.short_id(12)
    _endpoint_names(domain, ctx.region)
    _check_domain(domain)

    def write(tx: Tx) -> None:
        if not store.add(tx, ctx.account, ctx.region, store.DOMAIN_NAME, "", _object_id(name, domain_id), domain):
            raise errors.bad_request("The domain name you provided already exists.")

    await ctx.env.db.write(write)
    return _domain_answer(domain)


async def _domain(ctx: RequestContext, name: str, domain_id: str | None) -> Doc:
    found = await ctx.env.db.read(_domain_row, ctx.account, ctx.region, name, domain_id)
    if found is None:
        raise domain_not_found()
    return found


async def get_domain_name(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _domain_answer(await _domain(ctx, p["domainName"], p.get("domainNameId")))


async def get_domain_names(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("resourceOwner") == "OTHER_ACCOUNTS":
        domains: list[Doc] = []  # no other account shares its private domain names with this one
    else:
        domains = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.DOMAIN_NAME, "")
    out = common.page(domains, lambda d: _object_id(d["domainName"], d.get("domainNameId")), p)
    out["items"] = [_domain_answer(d) for d in out["items"]]
    return out


def _domain_operation(domain: Doc, operation: Doc) -> None:
    op, path, value = operation.get("op"), str(operation.get("path") or ""), operation.get("value")
    ops = DOMAIN_PATCHABLE.get(path)
    if ops is None:
        allowed = ", ".join(DOMAIN_PATCHABLE)
        raise errors.bad_request(f"Invalid patch path '{path}' specified for op '{op}'. Must be one of: [{allowed}]")
    if op not in ops:
        raise errors.bad_request(f"Invalid patch operation specified. Must be one of {list(ops)} for path {path}")
    private = "PRIVATE" in domain["endpointConfiguration"]["types"]
    text = "" if value is None else str(value)
    if path == "/endpointConfiguration/types":
        types: list[str] = domain["endpointConfiguration"]["types"]
        if private or text not in ("EDGE", "REGIONAL"):
            raise errors.bad_request(f"Invalid endpoint type specified: {text}")
        if op == "add" and text not in types:
            types.append(text)
        elif op == "remove":
            if text not in types or len(types) == 1:
                raise errors.bad_request(f"Cannot remove endpoint type {text}: a domain name keeps one endpoint type")
            types.remove(text)
    elif path == "/endpointConfiguration/ipAddressType":
        domain["endpointConfiguration"]["ipAddressType"] = text
    elif path.startswith("/mutualTlsAuthentication/"):
        mtls: Doc = domain.setdefault("mutualTlsAuthentication", {"truststoreWarnings": []})
        member = path.rsplit("/", 1)[1]
        if op == "remove":
            mtls.pop(member, None)
        else:
            mtls[member] = text
    else:
        member = path[1:]
        if member in ("managementPolicy", "policy") and not private:
            raise errors.bad_request(f"Invalid patch path {path}: supported only for private custom domain names")
        if member == "endpointAccessMode" and private:
            raise errors.bad_request(f"Invalid patch path {path}: supported only for public custom domain names")
        if op == "remove":
            domain.pop(member, None)
        else:
            domain[member] = text


async def update_domain_name(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name, domain_id = p["domainName"], p.get("domainNameId")
    changed = await _domain(ctx, name, domain_id)
    before = (changed.get("certificateArn"), changed.get("certificateName"))
    operations = list(p.get("patchOperations") or [])
    type_ops = {o.get("op") for o in operations if o.get("path") == "/endpointConfiguration/types"}
    if type_ops == {"add", "remove"}:
        raise errors.bad_request("Endpoint types cannot be added and removed in the same request")
    for operation in operations:
        _domain_operation(changed, operation)
    changed.setdefault("securityPolicy", "TLS_1_2")
    changed.setdefault("routingMode", "BASE_PATH_MAPPING_ONLY")
    if not (changed.get("certificateArn") or changed.get("certificateName")):
        changed.pop("certificateUploadDate", None)
    elif (changed.get("certificateArn"), changed.get("certificateName")) != before:
        changed["certificateUploadDate"] = common.now()
    _endpoint_names(changed, ctx.region)
    _check_domain(changed)

    def write(tx: Tx) -> None:
        if _domain_row(tx.conn, ctx.account, ctx.region, name, domain_id) is None:
            raise domain_not_found()
        store.put(tx, ctx.account, ctx.region, store.DOMAIN_NAME, "", _object_id(name, domain_id), changed)

    await ctx.env.db.write(write)
    return _domain_answer(changed)


async def delete_domain_name(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name, domain_id = p["domainName"], p.get("domainNameId")

    def write(tx: Tx) -> None:
        domain = _domain_row(tx.conn, ctx.account, ctx.region, name, domain_id)
        if domain is None:
            raise domain_not_found()
        key = _mappings_key(domain)
        mappings = store.listing(tx.conn, ctx.account, ctx.region, store.BASE_PATH_MAPPING, key)
        store.remove(tx, ctx.account, ctx.region, store.BASE_PATH_MAPPING, key, [m["basePath"] for m in mappings])
        store.remove(tx, ctx.account, ctx.region, store.DOMAIN_NAME, "", [_object_id(name, domain_id)])

    await ctx.env.db.write(write)
    return {}


# -- base path mappings


def _base_path(raw: Any) -> str:
    base = str(raw or "") or NONE_BASE_PATH
    if len(base) > 128:
        raise errors.bad_request("Base path must be at most 128 characters")
    if "/" in base:
        raise errors.bad_request(
            "API Gateway V1 doesn't support the slash character (/) in base path mappings. "
            "To create a multi-level base path mapping, use API Gateway V2."
        )
    return base


def _check_target(conn: Connection, account: str, region: str, mapping: Doc) -> None:
    """BadRequestException unless the mapping's API (and stage, when it names one) exist."""
    api_id = mapping.get("restApiId") or ""
    if store.get(conn, account, region, store.REST_API, "", api_id) is None:
        raise errors.bad_request("Invalid REST API identifier specified")
    stage = mapping.get("stage")
    if stage and store.get(conn, account, region, store.STAGE, api_id, stage) is None:
        raise errors.bad_request("Invalid stage identifier specified")


def _mapping_answer(mapping: Doc) -> Doc:
    return {k: mapping[k] for k in ("basePath", "restApiId", "stage") if mapping.get(k)}


async def create_base_path_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name, domain_id = p["domainName"], p.get("domainNameId")
    mapping: Doc = {"basePath": _base_path(p.get("basePath")), "restApiId": p["restApiId"]}
    if p.get("stage") and p["stage"] != NONE_BASE_PATH:
        mapping["stage"] = p["stage"]

    def write(tx: Tx) -> None:
        domain = _domain_row(tx.conn, ctx.account, ctx.region, name, domain_id)
        if domain is None:
            raise domain_not_found()
        _check_target(tx.conn, ctx.account, ctx.region, mapping)
        key = _mappings_key(domain)
        if not store.add(tx, ctx.account, ctx.region, store.BASE_PATH_MAPPING, key, mapping["basePath"], mapping):
            raise errors.conflict("Base path already exists for this domain name")

    await ctx.env.db.write(write)
    return _mapping_answer(mapping)


def _mappings(conn: Connection, account: str, region: str, name: str, domain_id: str | None) -> list[Doc] | None:
    domain = _domain_row(conn, account, region, name, domain_id)
    if domain is None:
        return None
    return store.listing(conn, account, region, store.BASE_PATH_MAPPING, _mappings_key(domain))


async def _all_mappings(ctx: RequestContext, p: dict[str, Any]) -> list[Doc]:
    found = await ctx.env.db.read(_mappings, ctx.account, ctx.region, p["domainName"], p.get("domainNameId"))
    if found is None:
        raise domain_not_found()
    return found


async def get_base_path_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    base = p["basePath"] or NONE_BASE_PATH
    for mapping in await _all_mappings(ctx, p):
        if mapping["basePath"] == base:
            return _mapping_answer(mapping)
    raise mapping_not_found()


async def get_base_path_mappings(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    out = common.page(await _all_mappings(ctx, p), lambda m: str(m["basePath"]), p)
    out["items"] = [_mapping_answer(m) for m in out["items"]]
    return out


def _mapping_operation(mapping: Doc, operation: Doc) -> None:
    op, path, value = operation.get("op"), str(operation.get("path") or ""), operation.get("value")
    # AWS's patch table spells /basepath in lower case; /basePath, as the member is spelled, is taken too.
    members = {"/basepath": "basePath", "/basePath": "basePath", "/restapiId": "restApiId", "/stage": "stage"}
    if path not in members:
        raise errors.bad_request(
            f"Invalid patch path '{path}' specified for op '{op}'. Must be one of: [/basepath, /restapiId, /stage]"
        )
    if op != "replace":
        raise errors.bad_request(f"Invalid patch operation specified. Must be 'replace' for path {path}")
    member = members[path]
    if member == "basePath":
        mapping["basePath"] = _base_path(value)
    elif member == "stage" and (not value or value == NONE_BASE_PATH):
        mapping.pop("stage", None)
    else:
        mapping[member] = "" if value is None else str(value)


async def update_base_path_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name, domain_id = p["domainName"], p.get("domainNameId")
    base = p["basePath"] or NONE_BASE_PATH
    operations = list(p.get("patchOperations") or [])

    def write(tx: Tx) -> Doc:
        domain = _domain_row(tx.conn, ctx.account, ctx.region, name, domain_id)
        if domain is None:
            raise domain_not_found()
        key = _mappings_key(domain)
        mapping = store.get(tx.conn, ctx.account, ctx.region, store.BASE_PATH_MAPPING, key, base)
        if mapping is None:
            raise mapping_not_found()
        for operation in operations:
            _mapping_operation(mapping, operation)
        _check_target(tx.conn, ctx.account, ctx.region, mapping)
        if mapping["basePath"] != base:
            if not store.add(tx, ctx.account, ctx.region, store.BASE_PATH_MAPPING, key, mapping["basePath"], mapping):
                raise errors.conflict("Base path already exists for this domain name")
            store.remove(tx, ctx.account, ctx.region, store.BASE_PATH_MAPPING, key, [base])
        else:
            store.put(tx, ctx.account, ctx.region, store.BASE_PATH_MAPPING, key, base, mapping)
        return mapping

    return _mapping_answer(await ctx.env.db.write(write))


async def delete_base_path_mapping(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name, domain_id = p["domainName"], p.get("domainNameId")
    base = p["basePath"] or NONE_BASE_PATH

    def write(tx: Tx) -> None:
        domain = _domain_row(tx.conn, ctx.account, ctx.region, name, domain_id)
        if domain is None:
            raise domain_not_found()
        key = _mappings_key(domain)
        if store.get(tx.conn, ctx.account, ctx.region, store.BASE_PATH_MAPPING, key, base) is None:
            raise mapping_not_found()
        store.remove(tx, ctx.account, ctx.region, store.BASE_PATH_MAPPING, key, [base])

    await ctx.env.db.write(write)
    return {}


# -- domain name access associations: a row in the creating account and, when the private domain name belongs to
# another account, a copy in the owner's (so the owner lists and rejects it); "_creator" tells them apart.


def _digest(arn: str) -> str:
    return hashlib.sha256(arn.encode()).hexdigest()[:40]


def _association_answer(row: Doc) -> Doc:
    return {k: v for k, v in row.items() if not k.startswith("_")}


async def create_domain_name_access_association(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    domain_arn, source = str(p["domainNameArn"]), str(p["accessAssociationSource"])
    m = DOMAIN_ARN.match(domain_arn)
    if m is None:
        raise errors.bad_request(f"Invalid domain name ARN specified: {domain_arn}")
    if p.get("accessAssociationSourceType") != "VPCE":
        raise errors.bad_request("Invalid access association source type specified. Must be one of: [VPCE]")
    if not VPCE.match(source):
        raise errors.bad_request(f"Invalid access association source specified: {source}")
    arn = (
        f"arn:aws:apigateway:{m['region']}:{ctx.account}:/domainnameaccessassociations/domainname/"
        f"{m['name']}+{m['id']}/vpcesource/{source}"
    )
    row: Doc = {
        "domainNameAccessAssociationArn": arn,
        "domainNameArn": domain_arn,
        "accessAssociationSourceType": "VPCE",
        "accessAssociationSource": source,
    }
    if p.get("tags"):
        row["tags"] = dict(p["tags"])
    row["_creator"] = ctx.account
    owner, region = m["account"], m["region"]

    def write(tx: Tx) -> None:
        if region != ctx.region or _domain_row(tx.conn, owner, region, m["name"], m["id"]) is None:
            raise domain_not_found()
        if not store.add(tx, ctx.account, ctx.region, store.DOMAIN_ACCESS_ASSOCIATION, "", _digest(arn), row):
            raise errors.conflict("Domain name access association already exists")
        if owner != ctx.account:
            store.put(tx, owner, region, store.DOMAIN_ACCESS_ASSOCIATION, "", _digest(arn), row)

    await ctx.env.db.write(write)
    return _association_answer(row)


async def get_domain_name_access_associations(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    rows = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.DOMAIN_ACCESS_ASSOCIATION, "")
    others = p.get("resourceOwner") == "OTHER_ACCOUNTS"
    rows = [r for r in rows if (r.get("_creator") != ctx.account) == others]
    out = common.page(rows, lambda r: str(r["domainNameAccessAssociationArn"]), p)
    out["items"] = [_association_answer(r) for r in out["items"]]
    return out


def _drop_association(tx: Tx, region: str, row: Doc) -> None:
    """The association's rows in its creator's and its domain owner's accounts."""
    digest = _digest(row["domainNameAccessAssociationArn"])
    m = DOMAIN_ARN.match(row["domainNameArn"])
    for account in {row["_creator"], m["account"] if m else row["_creator"]}:
        store.remove(tx, account, region, store.DOMAIN_ACCESS_ASSOCIATION, "", [digest])


async def delete_domain_name_access_association(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = str(p["domainNameAccessAssociationArn"])

    def write(tx: Tx) -> None:
        row = store.get(tx.conn, ctx.account, ctx.region, store.DOMAIN_ACCESS_ASSOCIATION, "", _digest(arn))
        if row is None or row.get("_creator") != ctx.account:
            raise association_not_found()
        _drop_association(tx, ctx.region, row)

    await ctx.env.db.write(write)
    return {}


async def reject_domain_name_access_association(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn, domain_arn = str(p["domainNameAccessAssociationArn"]), str(p["domainNameArn"])

    def write(tx: Tx) -> None:
        row = store.get(tx.conn, ctx.account, ctx.region, store.DOMAIN_ACCESS_ASSOCIATION, "", _digest(arn))
        m = DOMAIN_ARN.match(domain_arn)
        if row is None or row.get("domainNameArn") != domain_arn or m is None or m["account"] != ctx.account:
            raise association_not_found()
        _drop_association(tx, ctx.region, row)

    await ctx.env.db.write(write)
    return {}


HANDLERS = {
    "CreateDomainName": create_domain_name,
    "GetDomainName": get_domain_name,
    "GetDomainNames": get_domain_names,
    "UpdateDomainName": update_domain_name,
    "DeleteDomainName": delete_domain_name,
    "CreateBasePathMapping": create_base_path_mapping,
    "GetBasePathMapping": get_base_path_mapping,
    "GetBasePathMappings": get_base_path_mappings,
    "UpdateBasePathMapping": update_base_path_mapping,
    "DeleteBasePathMapping": delete_base_path_mapping,
    "CreateDomainNameAccessAssociation": create_domain_name_access_association,
    "GetDomainNameAccessAssociations": get_domain_name_access_associations,
    "DeleteDomainNameAccessAssociation": delete_domain_name_access_association,
    "RejectDomainNameAccessAssociation": reject_domain_name_access_association,
}
