"""SNS mobile push (platform applications and endpoints) and SMS: nothing leaves the machine; what would have
been sent goes to the outbox (/_broker/sns/outbox).

AWS behaviour is the contract (SNS API Reference of each operation; Developer Guide: mobile push, SMS, SMS
sandbox). Where AWS does not document a detail, the choice made is said next to it.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any, NamedTuple

from broker import clock, ids, paging
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.sns import mobile_store as ms
from broker.services.sns.delivery import Message
from broker.services.sns.errors import invalid_parameter, not_found, resource_not_found
from broker.services.sns.topics import parse_topic_arn
from broker.services.sns.validation import INVALID_CHAR

APPLE = ("APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "MACOS", "MACOS_SANDBOX")
PLATFORMS = (*APPLE, "ADM", "GCM", "BAIDU", "MPNS", "WNS")
APP_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
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

# SMS
PUBLISH_PHONE = re.compile(r"^\+?[1-9]\d{1,14}$")  # E.164, the "+" optional as AWS accepts
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
SMS_ATTRIBUTE_NAMES = (
    "MonthlySpendLimit",
    "DeliveryStatusIAMRole",
    "DeliveryStatusSuccessSamplingRate",
    "DefaultSenderID",
    "DefaultSMSType",
    "UsageReportS3Bucket",
)
SMS_DEFAULTS = {"MonthlySpendLimit": "1"}  # a new account's spend quota is 1 USD a month
SMS_TYPES = ("Promotional", "Transactional")
SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Message attributes of a Publish to a phone number -> the field of the outbox record they set.
SMS_MESSAGE_ATTRIBUTES = {
    "AWS.SNS.SMS.SenderID": "SenderID",
    "AWS.SNS.SMS.SMSType": "SMSType",
    "AWS.SNS.SMS.MaxPrice": "MaxPrice",
    "AWS.MM.SMS.OriginationNumber": "OriginationNumber",
    "AWS.MM.SMS.EntityId": "EntityId",
    "AWS.MM.SMS.TemplateId": "TemplateId",
}
SANDBOX_LIMIT = 10  # destination numbers an account may have in the SMS sandbox
OTP_SENDS_PER_DAY = 5  # the OTP can be sent to a number up to five times every 24 hours
DAY_MS = 86_400_000  # a sandbox number can be deleted 24 hours after its last verification (attempt)
SANDBOX_KEY = "IsInSandbox"


class AppArn(NamedTuple):
    region: str
    account: str
    platform: str
    name: str


class EndpointArn(NamedTuple):
    region: str
    account: str
    platform: str
    app_name: str
    id: str


# -- small helpers -------------------------------------------------------------------------------------------------
def _error(code: str, message: str, status: int = 400) -> ServiceError:
    return ServiceError(code, message, status=status)


def _decode_token(token: str | None, member: str = "NextToken") -> str | None:
    if not token:
        return None
    after = paging.after_of(token)
    if not isinstance(after, str):
        raise invalid_parameter(member)
    return after


def _bool(member: str, value: str) -> str:
    if value.lower() not in ("true", "false"):
        raise invalid_parameter(f"Attributes Reason: {member}: Invalid value [{value}]. Must be true or false.")
    return value.lower()


def _arn_parts(arn: str, member: str) -> list[str]:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        raise invalid_parameter(f"{member} Reason: An ARN must have at least 6 elements, not {len(parts)}")
    return parts


def _sns_arn_base(parts: list[str]) -> bool:
    return parts[0] == "arn" and parts[1] == "aws" and parts[2] == "sns" and bool(parts[3]) and _account(parts[4])


def _account(value: str) -> bool:
    return len(value) == 12 and value.isdigit()


def parse_app_arn(arn: str) -> AppArn | None:
    """arn:aws:sns:{region}:{account}:app/{platform}/{name}"""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not _sns_arn_base(parts):
        return None
    rel = parts[5].split("/")
    if len(rel) != 3 or rel[0] != "app" or rel[1] not in PLATFORMS or not APP_NAME.match(rel[2]):
        return None
    return AppArn(parts[3], parts[4], rel[1], rel[2])


def parse_endpoint_arn(arn: str) -> EndpointArn | None:
    """arn:aws:sns:{region}:{account}:endpoint/{platform}/{app name}/{id}"""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not _sns_arn_base(parts):
        return None
    rel = parts[5].split("/")
    if len(rel) != 4 or rel[0] != "endpoint" or rel[1] not in PLATFORMS or not APP_NAME.match(rel[2]) or not rel[3]:
        return None
    return EndpointArn(parts[3], parts[4], rel[1], rel[2], rel[3])


def _check_app_arn(ctx: RequestContext, arn: str, member: str = "PlatformApplicationArn") -> AppArn:
    _arn_parts(arn, member)
    parsed = parse_app_arn(arn)
    if parsed is None or parsed.region != ctx.region:
        raise invalid_parameter(member)
    return parsed


def _check_endpoint_arn(ctx: RequestContext, arn: str, member: str = "EndpointArn") -> EndpointArn:
    _arn_parts(arn, member)
    parsed = parse_endpoint_arn(arn)
    if parsed is None or parsed.region != ctx.region:
        raise invalid_parameter(member)
    return parsed


async def _app(ctx: RequestContext, arn: str) -> dict:
    parsed = _check_app_arn(ctx, arn)
    row = await ctx.env.db.read(ms.get_app, arn) if parsed.account == ctx.account else None
    if row is None:
        raise ms.app_not_found()
    return row


async def _endpoint(ctx: RequestContext, arn: str) -> dict:
    parsed = _check_endpoint_arn(ctx, arn)
    row = await ctx.env.db.read(ms.get_endpoint, arn) if parsed.account == ctx.account else None
    if row is None:
        raise not_found("Endpoint does not exist")
    return row


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
        if not value.isdigit() or not 0 <= int(value) <= 100:
            raise invalid_parameter(f"Attributes Reason: {name}: must be an integer from 0 to 100")
    elif name == "Enabled":
        return _bool(name, value)
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


def _shown_app_attributes(row: dict) -> dict[str, str]:
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


async def create_platform_application(ctx: RequestContext, p: dict) -> dict:
    name, platform = p["Name"], p["Platform"]
    _check_app_name(name)
    if platform not in PLATFORMS:
        raise invalid_parameter(f"Platform Reason: {platform} is not supported")
    attrs = {k: _app_attribute(k, v, platform) for k, v in (p.get("Attributes") or {}).items()}
    _check_credentials(platform, attrs)
    attrs = {k: v for k, v in attrs.items() if v != ""}
    arn = f"arn:aws:sns:{ctx.region}:{ctx.account}:app/{platform}/{name}"
    # Creating an application that exists (same name and platform) returns its ARN and applies the attributes given
    # over the ones it had (AWS does not document this case).
    await ctx.env.db.write(ms.create_app, arn, ctx.account, ctx.region, name, platform, attrs, clock.now_ms())
    return {"PlatformApplicationArn": arn}


async def get_platform_application_attributes(ctx: RequestContext, p: dict) -> dict:
    row = await _app(ctx, p["PlatformApplicationArn"])
    return {"Attributes": _shown_app_attributes(row)}


async def set_platform_application_attributes(ctx: RequestContext, p: dict) -> dict:
    arn = p["PlatformApplicationArn"]
    parsed = _check_app_arn(ctx, arn)
    changes = {k: _app_attribute(k, v, parsed.platform) for k, v in (p.get("Attributes") or {}).items()}
    if parsed.platform == "GCM":
        changes.pop("PlatformPrincipal", None)  # FCM has no principal
    if parsed.account != ctx.account:
        raise ms.app_not_found()
    await ctx.env.db.write(ms.set_app_attributes, arn, changes)
    return {}


async def delete_platform_application(ctx: RequestContext, p: dict) -> dict:
    arn = p["PlatformApplicationArn"]
    parsed = _check_app_arn(ctx, arn)
    if parsed.account == ctx.account:
        await ctx.env.db.write(ms.delete_app, arn)  # its endpoints go with it; deleting twice succeeds
    return {}


async def list_platform_applications(ctx: RequestContext, p: dict) -> dict:
    after = _decode_token(p.get("NextToken"))
    rows = await ctx.env.db.read(ms.list_apps, ctx.account, ctx.region, after)
    page = rows[: ms.PAGE]
    out: dict[str, Any] = {
        "PlatformApplications": [
            {"PlatformApplicationArn": r["arn"], "Attributes": _shown_app_attributes(r)} for r in page
        ]
    }
    if len(rows) > ms.PAGE:
        out["NextToken"] = paging.after_token(page[-1]["arn"])
    return out


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


def _shown_endpoint_attributes(row: dict) -> dict[str, str]:
    return {**json.loads(row["attributes"]), "Token": row["token"]}


async def create_platform_endpoint(ctx: RequestContext, p: dict) -> dict:
    app_arn = p["PlatformApplicationArn"]
    app = _check_app_arn(ctx, app_arn)
    token = _check_token(app.platform, p["Token"])
    given = p.get("Attributes") or {}
    _check_endpoint_attribute_names(given)
    attrs = {"Enabled": _bool("Enabled", given.get("Enabled", "true"))}
    custom = given.get("CustomUserData", p.get("CustomUserData"))  # the attribute wins over the parameter
    if custom:
        _check_custom_user_data(custom, "CustomUserData" in given)
        attrs["CustomUserData"] = custom
    if app.account != ctx.account:
        raise ms.app_not_found()
    new_arn = f"arn:aws:sns:{ctx.region}:{ctx.account}:endpoint/{app.platform}/{app.name}/{ids.uuid4()}"
    # Idempotent on the token: the same token with the same attributes gives back the existing endpoint.
    arn = await ctx.env.db.write(ms.create_endpoint, app_arn, token, attrs, new_arn, clock.now_ms())
    return {"EndpointArn": arn}


async def get_endpoint_attributes(ctx: RequestContext, p: dict) -> dict:
    row = await _endpoint(ctx, p["EndpointArn"])
    return {"Attributes": _shown_endpoint_attributes(row)}


async def set_endpoint_attributes(ctx: RequestContext, p: dict) -> dict:
    arn = p["EndpointArn"]
    parsed = _check_endpoint_arn(ctx, arn)
    given = p.get("Attributes") or {}
    _check_endpoint_attribute_names(given)
    changes: dict[str, str] = {}
    if "Enabled" in given:
        changes["Enabled"] = _bool("Enabled", given["Enabled"])
    if "CustomUserData" in given:
        _check_custom_user_data(given["CustomUserData"], True)
        changes["CustomUserData"] = given["CustomUserData"]
    token = _check_token(parsed.platform, given["Token"]) if "Token" in given else None
    if parsed.account != ctx.account:
        raise not_found("Endpoint does not exist")
    await ctx.env.db.write(ms.set_endpoint_attributes, arn, token, changes)
    return {}


async def delete_endpoint(ctx: RequestContext, p: dict) -> dict:
    arn = p["EndpointArn"]
    parsed = _check_endpoint_arn(ctx, arn)
    if parsed.account == ctx.account:
        await ctx.env.db.write(ms.delete_endpoint, arn)  # deleting twice succeeds, as on AWS
    return {}


async def list_endpoints_by_platform_application(ctx: RequestContext, p: dict) -> dict:
    app = await _app(ctx, p["PlatformApplicationArn"])
    after = _decode_token(p.get("NextToken"))
    rows = await ctx.env.db.read(ms.list_endpoints, app["arn"], after)
    page = rows[: ms.PAGE]
    out: dict[str, Any] = {
        "Endpoints": [{"EndpointArn": r["arn"], "Attributes": _shown_endpoint_attributes(r)} for r in page]
    }
    if len(rows) > ms.PAGE:
        out["NextToken"] = paging.after_token(page[-1]["arn"])
    return out


# -- publishing to an endpoint ---------------------------------------------------------------------------------------
def _no_endpoint() -> ServiceError:
    return invalid_parameter("TargetArn Reason: No endpoint found for the target arn specified")


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
    out = {}
    for name, attr in msg.attributes.items():
        if name.lower().startswith(MOBILE_ATTRIBUTE_PREFIX):
            value = attr.get("StringValue")
            out[name] = value if value is not None else base64.b64encode(attr["BinaryValue"]).decode()
    return out


def push_payload(endpoint_arn: str, msg: Message) -> dict:
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


async def publish_to_endpoint(ctx: RequestContext, endpoint_arn: str, msg: Message) -> dict:
    _arn_parts(endpoint_arn, "TargetArn")
    parsed = parse_endpoint_arn(endpoint_arn)
    if parsed is None or parsed.region != ctx.region or parsed.account != ctx.account:
        raise _no_endpoint()
    await ctx.env.db.write(_publish_to_endpoint, ctx.account, ctx.region, endpoint_arn, msg, clock.now_ms())
    return {"MessageId": msg.message_id}


def _publish_to_endpoint(tx, account: str, region: str, arn: str, msg: Message, now: int) -> None:  # noqa: ANN001
    found = ms.endpoint_and_app(tx.conn, arn)
    if found is None:
        raise _no_endpoint()
    endpoint, app = found
    if json.loads(app["attributes"]).get("Enabled", "true") != "true":
        raise _error("PlatformApplicationDisabled", "Platform application is disabled")
    if json.loads(endpoint["attributes"]).get("Enabled", "true") != "true":
        raise _error("EndpointDisabled", "Endpoint is disabled")
    _check_notification(app["platform"], msg)
    ms.add_outbox(tx, account, region, "application", arn, push_payload(arn, msg), now)


# -- SMS: publishing ---------------------------------------------------------------------------------------------------
def sms_payload(phone: str, msg: Message, defaults: dict[str, str]) -> dict:
    """The outbox record of an SMS: the text, and its settings from the AWS.SNS.SMS.* / AWS.MM.SMS.* message
    attributes, else the account's defaults (SetSMSAttributes). Pure."""
    given = {
        field: attr.get("StringValue")
        for name, field in SMS_MESSAGE_ATTRIBUTES.items()
        if (attr := msg.attributes.get(name)) is not None and attr.get("StringValue") is not None
    }
    out: dict[str, Any] = {
        "PhoneNumber": phone,
        "Message": msg.text_for("sms"),
        "MessageId": msg.message_id,
        "SMSType": given.get("SMSType") or defaults.get("DefaultSMSType") or "Promotional",
    }
    sender = given.get("SenderID") or defaults.get("DefaultSenderID")
    if sender:
        out["SenderID"] = sender
    for name in ("MaxPrice", "OriginationNumber", "EntityId", "TemplateId"):
        if name in given:
            out[name] = given[name]
    return out


async def publish_sms(ctx: RequestContext, phone: str, msg: Message) -> dict:
    if not PUBLISH_PHONE.match(phone):
        raise invalid_parameter(f"PhoneNumber Reason: {phone} is not valid to publish to")
    await ctx.env.db.write(_publish_sms, ctx.account, ctx.region, phone, msg, clock.now_ms())
    return {"MessageId": msg.message_id}


def _publish_sms(tx, account: str, region: str, phone: str, msg: Message, now: int) -> None:  # noqa: ANN001
    # AWS accepts a publish to an opted-out number (or, in the sandbox, to an unverified one) and fails the
    # delivery ("Phone number is opted out" in the delivery status logs): nothing is sent.
    if ms.is_opted_out(tx.conn, account, region, phone):
        return
    if ms.in_sandbox(tx.conn, account, region):
        entry = ms.get_sms(tx.conn, account, region, ms.SANDBOX, phone)
        if entry is None or json.loads(entry).get("status") != "Verified":
            return
    defaults = ms.sms_attributes(tx.conn, account, region)
    ms.add_outbox(tx, account, region, "sms", phone, sms_payload(phone, msg, defaults), now)


# -- SMS: account settings -----------------------------------------------------------------------------------------
def _sms_attribute(name: str, value: str) -> str:
    if name not in SMS_ATTRIBUTE_NAMES:
        raise invalid_parameter(f"{name} Reason: {name} is not a valid attribute")
    if name == "MonthlySpendLimit":
        if not value.isdigit():
            raise invalid_parameter(f"{name} Reason: must be a whole number of USD")
        return str(int(value))
    if name == "DeliveryStatusSuccessSamplingRate":
        if not value.isdigit() or not 0 <= int(value) <= 100:
            raise invalid_parameter(f"{name} Reason: must be an integer from 0 to 100")
        return str(int(value))
    if name == "DefaultSMSType":
        if value not in SMS_TYPES:
            raise invalid_parameter(f"{name} Reason: must be Promotional or Transactional")
    elif name == "DefaultSenderID":
        if value and not SENDER_ID.match(value):
            raise invalid_parameter(
                f"{name} Reason: must be 1-11 alphanumeric characters and contain at least one letter"
            )
    elif name == "DeliveryStatusIAMRole":
        if value and not value.startswith("arn:aws:iam::"):
            raise invalid_parameter(f"{name} Reason: must be an IAM role ARN")
    elif name == "UsageReportS3Bucket" and value and not BUCKET.match(value):
        raise invalid_parameter(f"{name} Reason: must be an S3 bucket name")
    return value


async def set_sms_attributes(ctx: RequestContext, p: dict) -> dict:
    attrs = {k: _sms_attribute(k, v) for k, v in (p.get("attributes") or {}).items()}
    await ctx.env.db.write(ms.put_sms_attributes, ctx.account, ctx.region, attrs)
    return {}


async def get_sms_attributes(ctx: RequestContext, p: dict) -> dict:
    stored = await ctx.env.db.read(ms.sms_attributes, ctx.account, ctx.region)
    attrs = {**SMS_DEFAULTS, **stored}
    wanted = p.get("attributes")
    if wanted:
        attrs = {k: v for k, v in attrs.items() if k in wanted}
    return {"attributes": attrs}


# -- SMS: opted-out numbers ----------------------------------------------------------------------------------------
def _check_listed_phone(phone: str) -> None:
    if not PUBLISH_PHONE.match(phone):
        raise invalid_parameter("PhoneNumber Reason: input incorrectly formatted")


async def check_if_phone_number_is_opted_out(ctx: RequestContext, p: dict) -> dict:
    phone = p["phoneNumber"]
    _check_listed_phone(phone)
    return {"isOptedOut": await ctx.env.db.read(ms.is_opted_out, ctx.account, ctx.region, phone)}


async def list_phone_numbers_opted_out(ctx: RequestContext, p: dict) -> dict:
    after = _decode_token(p.get("nextToken"), "nextToken")
    rows = await ctx.env.db.read(ms.sms_rows, ctx.account, ctx.region, ms.OPTED_OUT, after, ms.PAGE + 1)
    page = [k for k, _ in rows[: ms.PAGE]]
    out: dict[str, Any] = {"phoneNumbers": page}
    if len(rows) > ms.PAGE:
        out["nextToken"] = paging.after_token(page[-1])
    return out


async def opt_in_phone_number(ctx: RequestContext, p: dict) -> dict:
    phone = p["phoneNumber"]
    _check_listed_phone(phone)
    # AWS lets a number be opted in once every 30 days; that limit is not modelled.
    await ctx.env.db.write(ms.delete_sms, ctx.account, ctx.region, ms.OPTED_OUT, phone)
    return {}


def opt_out(tx, account: str, region: str, phone: str) -> None:  # noqa: ANN001
    """Opt a number out, as its owner replying STOP would (no API does it): for an admin endpoint."""
    ms.put_sms(tx, account, region, ms.OPTED_OUT, phone, "{}")


def set_sms_sandbox(tx, account: str, region: str, in_sandbox: bool) -> None:  # noqa: ANN001
    """Put an account into the SMS sandbox or take it out (AWS: a support case): for an admin endpoint. Accounts
    start outside it here, so SMS goes to any number."""
    ms.put_sms(tx, account, region, ms.ACCOUNT, SANDBOX_KEY, "true" if in_sandbox else "false")


# -- SMS sandbox -------------------------------------------------------------------------------------------------------
def _check_sandbox_phone(phone: str) -> None:
    if not E164.match(phone):
        raise invalid_parameter("PhoneNumber Reason: input incorrectly formatted")


async def create_sms_sandbox_phone_number(ctx: RequestContext, p: dict) -> dict:
    phone = p["PhoneNumber"]
    _check_sandbox_phone(phone)
    language = p.get("LanguageCode") or "en-US"
    otp = f"{secrets.randbelow(1_000_000):06d}"
    await ctx.env.db.write(
        _create_sandbox_number, ctx.account, ctx.region, phone, language, otp, ids.uuid4(), clock.now_ms()
    )
    return {}


def _create_sandbox_number(tx, account, region, phone, language, otp, message_id, now):  # noqa: ANN001, ANN202
    if ms.is_opted_out(tx.conn, account, region, phone):
        raise _error("OptedOut", f"Phone number {phone} is opted out of receiving SMS messages from this account")
    stored = ms.get_sms(tx.conn, account, region, ms.SANDBOX, phone)
    if stored is None:
        if ms.count_sms(tx.conn, account, region, ms.SANDBOX) >= SANDBOX_LIMIT:
            raise _error(
                "UserError", f"You can have at most {SANDBOX_LIMIT} destination phone numbers in the SMS sandbox"
            )
        entry: dict[str, Any] = {"status": "Pending", "sends": []}
    else:
        entry = json.loads(stored)
        if entry["status"] == "Verified":
            raise _error("UserError", f"Phone number {phone} is already verified")
    sends = [t for t in entry.get("sends", []) if t > now - DAY_MS]
    if len(sends) >= OTP_SENDS_PER_DAY:
        raise _error("UserError", f"The one-time password can be sent at most {OTP_SENDS_PER_DAY} times every 24 hours")
    entry.update(otp=otp, language=language, sends=[*sends, now], changed_at=now)
    ms.put_sms(tx, account, region, ms.SANDBOX, phone, json.dumps(entry))
    text = f"Your verification code is {otp}"
    record = {
        "PhoneNumber": phone,
        "Message": text,
        "MessageId": message_id,
        "SMSType": "Transactional",
        "OneTimePassword": otp,
        "LanguageCode": language,
    }
    ms.add_outbox(tx, account, region, "sms", phone, record, now)


async def verify_sms_sandbox_phone_number(ctx: RequestContext, p: dict) -> dict:
    phone = p["PhoneNumber"]
    _check_sandbox_phone(phone)
    outcome = await ctx.env.db.write(
        _verify_sandbox_number, ctx.account, ctx.region, phone, p["OneTimePassword"], clock.now_ms()
    )
    if outcome == "missing":
        raise resource_not_found(f"Phone number {phone} is not in the SMS sandbox")
    if outcome == "wrong":
        raise _error("VerificationException", "Invalid one-time password")
    return {}


def _verify_sandbox_number(tx, account, region, phone, otp, now):  # noqa: ANN001, ANN202
    stored = ms.get_sms(tx.conn, account, region, ms.SANDBOX, phone)
    if stored is None:
        return "missing"
    entry = json.loads(stored)
    if entry["status"] == "Verified":
        return "ok"
    entry["changed_at"] = now  # a verification attempt, right or wrong
    if entry.get("otp") != otp:
        ms.put_sms(tx, account, region, ms.SANDBOX, phone, json.dumps(entry))
        return "wrong"
    entry["status"] = "Verified"
    entry.pop("otp", None)
    ms.put_sms(tx, account, region, ms.SANDBOX, phone, json.dumps(entry))
    return "ok"


async def delete_sms_sandbox_phone_number(ctx: RequestContext, p: dict) -> dict:
    phone = p["PhoneNumber"]
    _check_sandbox_phone(phone)
    await ctx.env.db.write(_delete_sandbox_number, ctx.account, ctx.region, phone, clock.now_ms())
    return {}


def _delete_sandbox_number(tx, account, region, phone, now):  # noqa: ANN001, ANN202
    stored = ms.get_sms(tx.conn, account, region, ms.SANDBOX, phone)
    if stored is None:
        raise resource_not_found(f"Phone number {phone} is not in the SMS sandbox")
    if now - json.loads(stored).get("changed_at", 0) < DAY_MS:
        raise _error(
            "UserError",
            "A destination phone number can be deleted only 24 hours after its verification or last verification "
            "attempt",
        )
    ms.delete_sms(tx, account, region, ms.SANDBOX, phone)


async def list_sms_sandbox_phone_numbers(ctx: RequestContext, p: dict) -> dict:
    after = _decode_token(p.get("NextToken"))
    limit = p.get("MaxResults") or ms.PAGE
    rows = await ctx.env.db.read(ms.sms_rows, ctx.account, ctx.region, ms.SANDBOX, after, limit + 1)
    page = rows[:limit]
    out: dict[str, Any] = {"PhoneNumbers": [{"PhoneNumber": k, "Status": json.loads(v)["status"]} for k, v in page]}
    if len(rows) > limit:
        out["NextToken"] = paging.after_token(page[-1][0])
    return out


async def get_sms_sandbox_account_status(ctx: RequestContext, p: dict) -> dict:
    return {"IsInSandbox": await ctx.env.db.read(ms.in_sandbox, ctx.account, ctx.region)}


async def list_origination_numbers(ctx: RequestContext, p: dict) -> dict:
    # Nothing is provisioned here (no toll-free numbers, 10DLC or short codes), so the list is empty and no
    # NextToken can be valid. MaxResults (1-30) is checked against the model before this runs.
    if p.get("NextToken"):
        raise invalid_parameter("NextToken")
    return {"PhoneNumbers": []}


HANDLERS: dict = {
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
    "SetSMSAttributes": set_sms_attributes,
    "GetSMSAttributes": get_sms_attributes,
    "CheckIfPhoneNumberIsOptedOut": check_if_phone_number_is_opted_out,
    "ListPhoneNumbersOptedOut": list_phone_numbers_opted_out,
    "OptInPhoneNumber": opt_in_phone_number,
    "CreateSMSSandboxPhoneNumber": create_sms_sandbox_phone_number,
    "VerifySMSSandboxPhoneNumber": verify_sms_sandbox_phone_number,
    "DeleteSMSSandboxPhoneNumber": delete_sms_sandbox_phone_number,
    "ListSMSSandboxPhoneNumbers": list_sms_sandbox_phone_numbers,
    "GetSMSSandboxAccountStatus": get_sms_sandbox_account_status,
    "ListOriginationNumbers": list_origination_numbers,
}
