"""SNS mobile push: platform applications, their endpoints, and publishing to an endpoint. Nothing leaves the
machine; what would have been sent goes to the outbox (/_broker/sns/outbox).

AWS behaviour is the contract (SNS API Reference of each operation; Developer Guide: mobile push). Where AWS does
not document a detail, the choice made is said next to it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.services.sns import listing, store, validation
from broker.services.sns import mobile_store as ms
from broker.services.sns.arns import (
    APP_NAME,
    APPLE,
    PLATFORMS,
    check_app_arn,
    check_arn_parts,
    check_endpoint_arn,
    parse_endpoint_arn,
    parse_topic_arn,
)
from broker.services.sns.errors import (
    app_not_found,
    endpoint_disabled,
    endpoint_not_found,
    invalid_parameter,
    no_target_endpoint,
    null_member,
    platform_application_disabled,
    require,
)
from broker.services.sns.messages import Message, attribute_text
from broker.services.sns.store import Row
from broker.services.sns.validation import INVALID_CHAR
from broker.storage.db import Tx

CREDENTIALS = ("PlatformCredential", "PlatformPrincipal")  # never returned, as on AWS
APPLE_TOKEN_AUTH = ("ApplePlatformTeamID", "ApplePlatformBundleID")
EVENT_TOPICS = ("EventEndpointCreated", "EventEndpointDeleted", "EventEndpointUpdated", "EventDeliveryFailure")
ROLES = ("SuccessFeedbackRoleArn", "FailureFeedbackRoleArn")
APP_ATTRIBUTES = {*CREDENTIALS, *APPLE_TOKEN_AUTH, *EVENT_TOPICS, *ROLES, "SuccessFeedbackSampleRate", "Enabled"}
ENDPOINT_ATTRIBUTES = ("CustomUserData", "Enabled", "Token")
APPLE_TOKEN = re.compile(r"^[0-9A-Fa-f]{1,400}$")
MAX_TOKEN_BYTES = 8192
MAX_CUSTOM_USER_DATA = 2048
# Largest notification each push service takes (bytes of the payload SNS hands it).
MAX_NOTIFICATION = {"GCM": 4096, "ADM": 6144, "BAIDU": 4096, "MPNS": 3072, "WNS": 5120} | dict.fromkeys(APPLE, 4096)
MOBILE_ATTRIBUTE_PREFIX = "aws.sns.mobile."


async def _app(ctx: RequestContext, arn: str) -> Row:
    parsed = check_app_arn(ctx, arn)
    row = await ctx.env.db.read(ms.get_app, arn) if parsed.account == ctx.account else None
    return require(row, app_not_found)


async def _endpoint(ctx: RequestContext, arn: str) -> Row:
    parsed = check_endpoint_arn(ctx, arn)
    row = await ctx.env.db.read(ms.get_endpoint, arn) if parsed.account == ctx.account else None
    return require(row, endpoint_not_found)


# -- platform applications -----------------------------------------------------------------------------------------
def _check_app_name(name: str) -> None:
    # AWS names the value itself in these messages ("Invalid parameter: <name> Reason: ...").
    if name == "":
        raise invalid_parameter(" Reason: cannot be empty")
    if len(name) > 256:
        raise invalid_parameter(f"{name} Reason: must be at most 256 characters long")
    if not APP_NAME.match(name):
        raise invalid_parameter(
            f"{name} Reason: must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.'"
        )


def _app_attribute(name: str, value: str, platform: str) -> str:
    """Check one platform application attribute; returns the value to store."""
    if name not in APP_ATTRIBUTES:
        raise invalid_parameter(f"Attributes Reason: Invalid attribute name: {name}")
    if name in CREDENTIALS or name in APPLE_TOKEN_AUTH:
        if name in APPLE_TOKEN_AUTH and platform not in APPLE:
            raise invalid_parameter(f"Attributes Reason: {name} is only valid for Apple platforms")
        if value == "":
            raise invalid_parameter(f"Attributes Reason: {name} must not be empty")
    elif name in EVENT_TOPICS:
        if value and parse_topic_arn(value) is None:
            raise invalid_parameter(f"Attributes Reason: {name}: Invalid value [{value}]. Must be a topic ARN")
    elif name in ROLES:
        if value and not value.startswith("arn:aws:iam::"):
            raise invalid_parameter(f"Attributes Reason: {name}: Invalid value [{value}]. Must be an IAM role ARN")
    elif name == "SuccessFeedbackSampleRate":
        if not validation.is_percentage(value):
            raise invalid_parameter(f"Attributes Reason: {name}: must be an integer from 0 to 100")
    elif name == "Enabled":
        return validation.boolean(name, value)
    return value


def _check_credentials(platform: str, attrs: dict[str, str]) -> None:
    """The credentials CreatePlatformApplication needs: GCM (FCM) a PlatformCredential (API key or service
    account JSON) and no principal; the others a PlatformPrincipal and a PlatformCredential (Apple with token
    signing: the key ID and key, plus ApplePlatformTeamID and ApplePlatformBundleID)."""
    has_principal, has_credential = "PlatformPrincipal" in attrs, "PlatformCredential" in attrs
    if platform == "GCM":
        if not has_credential:
            raise invalid_parameter("Attributes Reason: PlatformCredential attribute required")
        return
    if has_credential and not has_principal:
        raise invalid_parameter("Attributes Reason: PlatformCredential attribute provided without PlatformPrincipal")
    if has_principal and not has_credential:
        raise invalid_parameter("Attributes Reason: PlatformPrincipal attribute provided without PlatformCredential")
    if not has_principal:
        raise invalid_parameter("Attributes Reason: PlatformPrincipal and PlatformCredential attributes required")
    if ("ApplePlatformTeamID" in attrs) != ("ApplePlatformBundleID" in attrs):
        raise invalid_parameter(
            "Attributes Reason: ApplePlatformTeamID and ApplePlatformBundleID are both required for token-based "
            "authentication"
        )


def _shown_app_attributes(row: Row) -> dict[str, str]:
    """What GetPlatformApplicationAttributes / ListPlatformApplications show: never the credentials."""
    stored = json.loads(row["attributes"])
    shown = {k: v for k, v in stored.items() if k not in CREDENTIALS}
    if row["platform"] in APPLE:
        shown["AuthenticationMethod"] = "Token" if "ApplePlatformTeamID" in stored else "Certificate"
    elif row["platform"] == "GCM":
        shown["AuthenticationMethod"] = "Token" if _is_json_object(stored.get("PlatformCredential", "")) else "Key"
    return shown


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _given_attributes(p: dict[str, Any]) -> dict[str, str]:
    """The Attributes map the operation requires: AWS's request validation refuses it missing (the query protocol
    cannot send an empty map) before the operation looks at anything else."""
    attrs: dict[str, str] | None = p.get("Attributes")
    if not attrs:
        raise null_member("attributes")
    return attrs


async def create_platform_application(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    given = _given_attributes(p)
    name, platform = p["Name"], p["Platform"]
    _check_app_name(name)
    if platform not in PLATFORMS:
        raise invalid_parameter(f"Platform Reason: {platform} is not supported")
    attrs = {k: _app_attribute(k, v, platform) for k, v in given.items()}
    _check_credentials(platform, attrs)
    attrs = {k: v for k, v in attrs.items() if v != ""}
    arn = f"arn:aws:sns:{ctx.region}:{ctx.account}:app/{platform}/{name}"
    # Creating an application that exists (same name and platform) returns its ARN and applies the attributes given
    # over the ones it had (AWS does not document this case).
    await ctx.env.db.write(ms.create_app, arn, ctx.account, ctx.region, name, platform, attrs, clock.now_ms())
    return {"PlatformApplicationArn": arn}


async def get_platform_application_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _app(ctx, p["PlatformApplicationArn"])
    return {"Attributes": _shown_app_attributes(row)}


async def set_platform_application_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["PlatformApplicationArn"]
    check_arn_parts(arn, "PlatformApplicationArn")
    given = _given_attributes(p)
    parsed = check_app_arn(ctx, arn)
    changes = {k: _app_attribute(k, v, parsed.platform) for k, v in given.items()}
    if parsed.platform == "GCM":
        changes.pop("PlatformPrincipal", None)  # FCM has no principal
    if parsed.account != ctx.account:
        raise app_not_found()
    await ctx.env.db.write(ms.set_app_attributes, arn, changes)
    return {}


async def delete_platform_application(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["PlatformApplicationArn"]
    parsed = check_app_arn(ctx, arn)
    if parsed.account == ctx.account:
        await ctx.env.db.write(ms.delete_app, arn)  # its endpoints go with it; deleting twice succeeds
    return {}


async def list_platform_applications(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    after = listing.after_str(p.get("NextToken"))
    rows = await ctx.env.db.read(ms.list_apps, ctx.account, ctx.region, after)
    shown, token = listing.page(rows, ms.PAGE, _arn)
    out: dict[str, Any] = {
        "PlatformApplications": [
            {"PlatformApplicationArn": r["arn"], "Attributes": _shown_app_attributes(r)} for r in shown
        ]
    }
    if token is not None:
        out["NextToken"] = token
    return out


def _arn(row: Row) -> str:
    arn: str = row["arn"]
    return arn


# -- endpoints -----------------------------------------------------------------------------------------------------
def _check_token(platform: str, token: str) -> str:
    """A device token as stored: Apple tokens are hexadecimal, kept (and returned) in lowercase."""
    if token == "":
        raise invalid_parameter("Token Reason: cannot be empty")
    if platform in APPLE:
        if not APPLE_TOKEN.match(token):
            raise invalid_parameter("Token Reason: iOS device tokens must be no more than 400 hexadecimal characters")
        return token.lower()
    if len(token.encode()) > MAX_TOKEN_BYTES:
        raise invalid_parameter("Token Reason: must be at most 8192 bytes long in UTF-8 encoding")
    if INVALID_CHAR.search(token):
        raise invalid_parameter("Token Reason: contains invalid characters")
    return token


def _check_custom_user_data(value: str, in_attributes: bool) -> None:
    if len(value.encode()) > MAX_CUSTOM_USER_DATA:
        where = (
            "Attributes Reason: Invalid value for attribute: CustomUserData:"
            if in_attributes
            else "CustomUserData Reason:"
        )
        raise invalid_parameter(f"{where} must be at most 2048 bytes long in UTF-8 encoding")


def _check_endpoint_attribute_names(attrs: dict[str, str]) -> None:
    for name in attrs:
        if name not in ENDPOINT_ATTRIBUTES:
            raise invalid_parameter(f"Attributes Reason: Invalid attribute name: {name}")


def _shown_endpoint_attributes(row: Row) -> dict[str, str]:
    return {**json.loads(row["attributes"]), "Token": row["token"]}


async def create_platform_endpoint(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    app_arn = p["PlatformApplicationArn"]
    app = check_app_arn(ctx, app_arn)
    token = _check_token(app.platform, p["Token"])
    given = p.get("Attributes") or {}
    _check_endpoint_attribute_names(given)
    attrs = {"Enabled": validation.boolean("Enabled", given.get("Enabled", "true"))}
    custom = given.get("CustomUserData", p.get("CustomUserData"))  # the attribute wins over the parameter
    if custom:
        _check_custom_user_data(custom, "CustomUserData" in given)
        attrs["CustomUserData"] = custom
    if app.account != ctx.account:
        raise app_not_found()
    new_arn = f"arn:aws:sns:{ctx.region}:{ctx.account}:endpoint/{app.platform}/{app.name}/{ids.uuid4()}"
    # Idempotent on the token: the same token with the same attributes gives back the existing endpoint.
    arn = await ctx.env.db.write(ms.create_endpoint, app_arn, token, attrs, new_arn, clock.now_ms())
    return {"EndpointArn": arn}


async def get_endpoint_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    row = await _endpoint(ctx, p["EndpointArn"])
    return {"Attributes": _shown_endpoint_attributes(row)}


async def set_endpoint_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["EndpointArn"]
    check_arn_parts(arn, "EndpointArn")
    given = _given_attributes(p)
    parsed = check_endpoint_arn(ctx, arn)
    _check_endpoint_attribute_names(given)
    changes: dict[str, str] = {}
    if "Enabled" in given:
        changes["Enabled"] = validation.boolean("Enabled", given["Enabled"])
    if "CustomUserData" in given:
        _check_custom_user_data(given["CustomUserData"], True)
        changes["CustomUserData"] = given["CustomUserData"]
    token = _check_token(parsed.platform, given["Token"]) if "Token" in given else None
    if parsed.account != ctx.account:
        raise endpoint_not_found()
    await ctx.env.db.write(ms.set_endpoint_attributes, arn, token, changes)
    return {}


async def delete_endpoint(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["EndpointArn"]
    parsed = check_endpoint_arn(ctx, arn)
    if parsed.account == ctx.account:
        await ctx.env.db.write(ms.delete_endpoint, arn)  # deleting twice succeeds, as on AWS
    return {}


async def list_endpoints_by_platform_application(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    app = await _app(ctx, p["PlatformApplicationArn"])
    after = listing.after_str(p.get("NextToken"))
    rows = await ctx.env.db.read(ms.list_endpoints, app["arn"], after)
    shown, token = listing.page(rows, ms.PAGE, _arn)
    out: dict[str, Any] = {
        "Endpoints": [{"EndpointArn": r["arn"], "Attributes": _shown_endpoint_attributes(r)} for r in shown]
    }
    if token is not None:
        out["NextToken"] = token
    return out


# -- publishing to an endpoint ---------------------------------------------------------------------------------------
def _wrap(platform: str, text: str) -> Any:
    """What SNS hands a push service for a plain (not platform-specific) message."""
    if platform in APPLE:
        return {"aps": {"alert": text}}
    if platform in ("GCM", "ADM"):
        return {"data": {"default": text}}
    return text


def _notification(platform: str, msg: Message) -> tuple[str, Any, bool]:
    """(text, provider payload, whether the text came from the platform's own key of MessageStructure=json)."""
    custom = msg.per_protocol is not None and platform in msg.per_protocol
    text = msg.text_for(platform) if platform else msg.message
    if custom:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        return text, parsed if isinstance(parsed, dict) else text, True
    return text, _wrap(platform, text), False


def _mobile_attributes(msg: Message) -> dict[str, str]:
    """The AWS.SNS.MOBILE.* message attributes (TTL, APNs push type, priority, ...) that shape a push."""
    return {
        name: attribute_text(attr)
        for name, attr in msg.attributes.items()
        if name.lower().startswith(MOBILE_ATTRIBUTE_PREFIX)
    }


def push_payload(endpoint_arn: str, msg: Message) -> dict[str, Any]:
    """What a push to a mobile endpoint carries (the outbox record of an "application" delivery). Pure: topic
    fan-out calls it on the writer thread."""
    parsed = parse_endpoint_arn(endpoint_arn)
    platform = parsed.platform if parsed else ""
    text, payload, _custom = _notification(platform, msg)
    out: dict[str, Any] = {
        "TargetArn": endpoint_arn,
        "MessageId": msg.message_id,
        "Platform": platform,
        "Message": text,
        "Payload": payload,
    }
    attrs = _mobile_attributes(msg)
    if attrs:
        out["MessageAttributes"] = attrs
    return out


def _check_notification(platform: str, msg: Message) -> None:
    text, payload, custom = _notification(platform, msg)
    if custom and not isinstance(payload, dict):
        raise invalid_parameter(
            f"Message Reason: Invalid notification for protocol {platform}: Notification is malformed"
        )
    size = len((json.dumps(payload) if isinstance(payload, dict) else text).encode())
    if size > MAX_NOTIFICATION.get(platform, MAX_NOTIFICATION["GCM"]):
        reason = "Notification data is larger than allowed limit" if platform == "GCM" else "Notification is too long"
        raise invalid_parameter(f"Message Reason: Invalid notification for protocol {platform}: {reason}")


async def check_target(ctx: RequestContext, endpoint_arn: str) -> None:
    """The TargetArn of a Publish names an endpoint of this account and region that takes pushes: checked before
    the message (a disabled endpoint refuses any message)."""
    check_arn_parts(endpoint_arn, "TargetArn")
    parsed = parse_endpoint_arn(endpoint_arn)
    if parsed is None or parsed.region != ctx.region or parsed.account != ctx.account:
        raise no_target_endpoint()
    _check_enabled(*require(await ctx.env.db.read(ms.endpoint_and_app, endpoint_arn), no_target_endpoint))


def _check_enabled(endpoint: Row, app: Row) -> None:
    if json.loads(app["attributes"]).get("Enabled", "true") != "true":
        raise platform_application_disabled()
    if json.loads(endpoint["attributes"]).get("Enabled", "true") != "true":
        raise endpoint_disabled()


async def publish_to_endpoint(ctx: RequestContext, endpoint_arn: str, msg: Message) -> dict[str, Any]:
    """Push a message to an endpoint that check_target() accepted."""
    await ctx.env.db.write(_publish_to_endpoint, ctx.account, ctx.region, endpoint_arn, msg, clock.now_ms())
    return {"MessageId": msg.message_id}


def _publish_to_endpoint(tx: Tx, account: str, region: str, arn: str, msg: Message, now: int) -> None:
    endpoint, app = require(ms.endpoint_and_app(tx.conn, arn), no_target_endpoint)
    _check_enabled(endpoint, app)  # again in the transaction: it may have changed since
    _check_notification(app["platform"], msg)
    store.add_outbox(tx, [store.outbox_row(account, region, "application", arn, push_payload(arn, msg), now)])


HANDLERS = {
    "CreatePlatformApplication": create_platform_application,
    "GetPlatformApplicationAttributes": get_platform_application_attributes,
    "SetPlatformApplicationAttributes": set_platform_application_attributes,
    "DeletePlatformApplication": delete_platform_application,
    "ListPlatformApplications": list_platform_applications,
    "CreatePlatformEndpoint": create_platform_endpoint,
    "GetEndpointAttributes": get_endpoint_attributes,
    "SetEndpointAttributes": set_endpoint_attributes,
    "DeleteEndpoint": delete_endpoint,
    "ListEndpointsByPlatformApplication": list_endpoints_by_platform_application,
}
