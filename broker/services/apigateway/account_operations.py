"""API Gateway's account-wide objects that no API owns: the account's settings (CloudWatch role, AWS's fixed
throttle and features), client certificates (a real self-signed certificate, valid one year), VPC links (AVAILABLE
at once: there is no load balancer to wait for), the SDK types AWS lists (SDK generation itself is not served), and
FlushStageCache (no stage cache is kept, so there is nothing to flush)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from broker import clock, ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import common, errors, patch, store
from broker.services.apigateway.store import Doc
from broker.services.sns.signing import self_signed
from broker.storage.db import Tx

ACCOUNT_ID = "account"
# AWS's account-level defaults (its documented quotas: 10,000 requests per second, bursts of 5,000).
ACCOUNT_DEFAULTS: Doc = {
    "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
    "features": ["UsagePlans"],
    "apiKeyVersion": "4",
}
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
NLB_ARN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/net/[^/]+/[0-9a-f]+$")
CERTIFICATE_DAYS = 365
CERTIFICATE_PATCHABLE = {"description": patch.STRING}
VPC_LINK_PATCHABLE = {"name": patch.STRING, "description": patch.STRING}
VPC_LINK_READY = "Your vpc link is ready for use"


def _sdk_property(name: str, friendly: str, required: bool, default: str | None = None) -> Doc:
    out: Doc = {"name": name, "friendlyName": friendly, "description": "", "required": required}
    if default is not None:
        out["defaultValue"] = default
    return out


# The SDK types API Gateway generates (the ids GetSdk takes) and the parameters each requires.
SDK_TYPES: list[Doc] = [
    {
        "id": "android",
        "friendlyName": "Android",
        "description": "Android SDK",
        "configurationProperties": [
            _sdk_property("groupId", "Group ID", True),
            _sdk_property("invokerPackage", "Invoker package", True),
            _sdk_property("artifactId", "Artifact ID", True),
            _sdk_property("artifactVersion", "Artifact version", True),
        ],
    },
    {"id": "javascript", "friendlyName": "JavaScript", "description": "JavaScript SDK", "configurationProperties": []},
    {
        "id": "objectivec",
        "friendlyName": "iOS (Objective-C)",
        "description": "iOS SDK (Objective-C)",
        "configurationProperties": [_sdk_property("classPrefix", "Prefix", False)],
    },
    {
        "id": "swift",
        "friendlyName": "iOS (Swift)",
        "description": "iOS SDK (Swift)",
        "configurationProperties": [_sdk_property("classPrefix", "Prefix", False)],
    },
    {
        "id": "java",
        "friendlyName": "Java SDK",
        "description": "Java SDK",
        "configurationProperties": [
            _sdk_property("serviceName", "Service Name", True),
            _sdk_property("javaPackageName", "Java Package Name", True),
            _sdk_property("javaBuildSystem", "Java Build System", False, "maven"),
            _sdk_property("javaGroupId", "Java Group Id", False),
            _sdk_property("javaArtifactId", "Java Artifact Id", False),
            _sdk_property("javaArtifactVersion", "Java Artifact Version", False),
        ],
    },
    {
        "id": "ruby",
        "friendlyName": "Ruby",
        "description": "Ruby SDK",
        "configurationProperties": [
            _sdk_property("service.name", "Service Name", True),
            _sdk_property("ruby.gem-name", "Ruby Gem Name", False),
            _sdk_property("ruby.gem-version", "Ruby Gem Version", False),
        ],
    },
]


def certificate_not_found() -> ServiceError:
    return errors.not_found("Invalid Client Certificate identifier specified")


def vpc_link_not_found() -> ServiceError:
    return errors.not_found("Invalid VPC link identifier specified")


# -- the account


def _account_answer(stored: Doc | None) -> Doc:
    out: Doc = {}
    if stored and stored.get("cloudwatchRoleArn"):
        out["cloudwatchRoleArn"] = stored["cloudwatchRoleArn"]
    out["throttleSettings"] = dict(ACCOUNT_DEFAULTS["throttleSettings"])
    out["features"] = list((stored or ACCOUNT_DEFAULTS).get("features") or [])
    out["apiKeyVersion"] = ACCOUNT_DEFAULTS["apiKeyVersion"]
    return out


async def get_account(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    stored = await ctx.env.db.read(store.get, ctx.account, ctx.region, store.ACCOUNT, "", ACCOUNT_ID)
    return _account_answer(stored)


def _account_operation(account: Doc, operation: Doc) -> None:
    op, path, value = operation.get("op"), str(operation.get("path") or ""), operation.get("value")
    if path == "/cloudwatchRoleArn":
        # AWS's patch table: replace only (an empty value clears the role).
        if op != "replace":
            raise errors.bad_request(f"Invalid patch operation specified. Must be 'replace' for path {path}")
        if not value:
            account.pop("cloudwatchRoleArn", None)
        elif not ROLE_ARN.match(str(value)):
            raise errors.bad_request("The role ARN does not have required permissions set to API Gateway")
        else:
            account["cloudwatchRoleArn"] = str(value)
        return
    if path == "/features":
        # add and remove, but usage plans, once enabled (as every account now is), cannot be disabled.
        if op not in ("add", "remove"):
            raise errors.bad_request(f"Invalid patch operation specified. Must be 'add' or 'remove' for path {path}")
        if value != "UsagePlans":
            raise errors.bad_request(f"Invalid feature specified: {value}. Must be one of: [UsagePlans]")
        if op == "remove":
            raise errors.bad_request("The UsagePlans feature cannot be removed")
        features: list[str] = list(account.get("features") or [])
        if value not in features:
            features.append(value)
        account["features"] = features
        return
    raise errors.bad_request(
        f"Invalid patch path '{path}' specified for op '{op}'. Must be one of: [/cloudwatchRoleArn, /features]"
    )


async def update_account(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    operations = list(p.get("patchOperations") or [])

    def write(tx: Tx) -> Doc:
        account = store.get(tx.conn, ctx.account, ctx.region, store.ACCOUNT, "", ACCOUNT_ID)
        if account is None:
            account = {"features": list(ACCOUNT_DEFAULTS["features"])}
        for operation in operations:
            _account_operation(account, operation)
        store.put(tx, ctx.account, ctx.region, store.ACCOUNT, "", ACCOUNT_ID, account)
        return account

    return _account_answer(await ctx.env.db.write(write))


# -- client certificates


def _self_signed(common_name: str, now_ms: int) -> str:
    """A PEM certificate of a fresh RSA key, valid CERTIFICATE_DAYS from now (the broker's clock)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "ApiGateway"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    start = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    return self_signed(key, name, start, start + dt.timedelta(days=CERTIFICATE_DAYS))


def _certificate_answer(cert: Doc) -> Doc:
    out = dict(cert)
    out["createdDate"] = common.when(cert["createdDate"])
    out["expirationDate"] = common.when(cert["expirationDate"])
    return out


async def generate_client_certificate(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    cert_id = ids.short_id(6)
    now_ms = clock.now_ms()
    # Key generation takes tens of milliseconds: off the event loop.
    pem = await asyncio.get_running_loop().run_in_executor(None, _self_signed, cert_id, now_ms)
    cert: Doc = {"clientCertificateId": cert_id}
    if p.get("description") is not None:
        cert["description"] = p["description"]
    cert["pemEncodedCertificate"] = pem
    cert["createdDate"] = now_ms / 1000
    cert["expirationDate"] = now_ms / 1000 + CERTIFICATE_DAYS * 86400
    if p.get("tags"):
        cert["tags"] = dict(p["tags"])

    def write(tx: Tx) -> None:
        store.add(tx, ctx.account, ctx.region, store.CLIENT_CERTIFICATE, "", cert_id, cert)

    await ctx.env.db.write(write)
    return _certificate_answer(cert)


async def _certificate(ctx: RequestContext, cert_id: str) -> Doc:
    return await common.stored(ctx, store.CLIENT_CERTIFICATE, "", cert_id, certificate_not_found)


async def get_client_certificate(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _certificate_answer(await _certificate(ctx, p["clientCertificateId"]))


async def get_client_certificates(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    certs = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.CLIENT_CERTIFICATE, "")
    out = common.page(certs, lambda c: str(c["clientCertificateId"]), p)
    out["items"] = [_certificate_answer(c) for c in out["items"]]
    return out


async def update_client_certificate(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    cert_id = p["clientCertificateId"]
    changed = patch.replace_only(await _certificate(ctx, cert_id), p.get("patchOperations"), CERTIFICATE_PATCHABLE)
    await common.replace(ctx, store.CLIENT_CERTIFICATE, "", cert_id, changed, certificate_not_found)
    return _certificate_answer(changed)


async def delete_client_certificate(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await common.delete(ctx, store.CLIENT_CERTIFICATE, "", p["clientCertificateId"], certificate_not_found)
    return {}


# -- VPC links


def _check_vpc_link(link: Doc) -> None:
    if not link.get("name"):
        raise errors.bad_request("Invalid VPC link name specified: must be non-empty")


async def create_vpc_link(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    targets = [str(t) for t in p.get("targetArns") or []]
    if len(targets) != 1:
        raise errors.bad_request("A VPC link must have exactly one target: the ARN of a Network Load Balancer")
    for target in targets:
        if not NLB_ARN.match(target):
            raise errors.bad_request(f"Invalid target ARN specified: {target}. Must be a Network Load Balancer ARN")
    link: Doc = {"id": ids.short_id(6), "name": p.get("name")}
    if p.get("description") is not None:
        link["description"] = p["description"]
    link["targetArns"] = targets
    link["status"] = "AVAILABLE"
    link["statusMessage"] = VPC_LINK_READY
    if p.get("tags"):
        link["tags"] = dict(p["tags"])
    _check_vpc_link(link)

    def write(tx: Tx) -> None:
        store.add(tx, ctx.account, ctx.region, store.VPC_LINK, "", link["id"], link)

    await ctx.env.db.write(write)
    return link


async def _vpc_link(ctx: RequestContext, link_id: str) -> Doc:
    return await common.stored(ctx, store.VPC_LINK, "", link_id, vpc_link_not_found)


async def get_vpc_link(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _vpc_link(ctx, p["vpcLinkId"])


async def get_vpc_links(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    links = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.VPC_LINK, "")
    return common.page(links, lambda v: str(v["id"]), p)


async def update_vpc_link(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    link_id = p["vpcLinkId"]
    changed = patch.replace_only(await _vpc_link(ctx, link_id), p.get("patchOperations"), VPC_LINK_PATCHABLE)
    _check_vpc_link(changed)
    await common.replace(ctx, store.VPC_LINK, "", link_id, changed, vpc_link_not_found)
    return changed


async def delete_vpc_link(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await common.delete(ctx, store.VPC_LINK, "", p["vpcLinkId"], vpc_link_not_found)
    return {}


# -- SDK types and SDK generation


def _sdk_type(sdk_id: str) -> Doc:
    for sdk in SDK_TYPES:
        if sdk["id"] == sdk_id:
            return sdk
    raise errors.not_found(f"Invalid SDK type specified: {sdk_id}")


async def get_sdk_types(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    # AWS's own order, not sorted by id: position tokens name the index of the last answered type.
    indexed = [{**s, "_i": f"{i:04d}"} for i, s in enumerate(SDK_TYPES)]
    out = common.page(indexed, lambda s: str(s["_i"]), p)
    out["items"] = [{k: v for k, v in s.items() if k != "_i"} for s in out["items"]]
    return out


async def get_sdk_type(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return dict(_sdk_type(p["id"]))


async def _check_stage(ctx: RequestContext, api_id: str, stage: str) -> None:
    await common.rest_api(ctx, api_id)
    if await ctx.env.db.read(store.get, ctx.account, ctx.region, store.STAGE, api_id, stage) is None:
        raise errors.not_found("Invalid stage identifier specified")


async def get_sdk(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _check_stage(ctx, p["restApiId"], p["stageName"])
    sdk = _sdk_type(p["sdkType"])
    raise errors.bad_request(
        f"SDK generation ({sdk['friendlyName']}) is not supported by this broker: generate the SDK from the API's "
        "OpenAPI definition instead"
    )


async def flush_stage_cache(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    """No stage cache is kept (responses are never cached), so a flush only checks its target."""
    await _check_stage(ctx, p["restApiId"], p["stageName"])
    return {}


HANDLERS = {
    "GetAccount": get_account,
    "UpdateAccount": update_account,
    "GenerateClientCertificate": generate_client_certificate,
    "GetClientCertificate": get_client_certificate,
    "GetClientCertificates": get_client_certificates,
    "UpdateClientCertificate": update_client_certificate,
    "DeleteClientCertificate": delete_client_certificate,
    "CreateVpcLink": create_vpc_link,
    "GetVpcLink": get_vpc_link,
    "GetVpcLinks": get_vpc_links,
    "UpdateVpcLink": update_vpc_link,
    "DeleteVpcLink": delete_vpc_link,
    "GetSdkTypes": get_sdk_types,
    "GetSdkType": get_sdk_type,
    "GetSdk": get_sdk,
    "FlushStageCache": flush_stage_cache,
}
