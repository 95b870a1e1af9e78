"""SNS SMS: publishing to a phone number, the account's SMS settings, opted-out numbers and the SMS sandbox.
Nothing leaves the machine; what would have been sent goes to the outbox (/_broker/sns/outbox).

AWS behaviour is the contract (SNS API Reference of each operation; Developer Guide: SMS, SMS sandbox). Where AWS
does not document a detail, the choice made is said next to it.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from broker import clock, ids
from broker.context import RequestContext
from broker.services.sns import listing, store, validation
from broker.services.sns import mobile_store as ms
from broker.services.sns.errors import (
    invalid_parameter,
    invalid_parameter_bare,
    opted_out,
    resource_not_found,
    user_error,
    wrong_one_time_password,
)
from broker.services.sns.messages import Message
from broker.storage.db import Tx

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


def _add_outbox(tx: Tx, account: str, region: str, phone: str, record: dict[str, Any], now: int) -> None:
    store.add_outbox(tx, [store.outbox_row(account, region, "sms", phone, record, now)])


def _check_phone(phone: str, pattern: re.Pattern[str] = PUBLISH_PHONE) -> None:
    if not pattern.match(phone):
        raise invalid_parameter("PhoneNumber Reason: input incorrectly formatted")


# -- SMS: publishing ---------------------------------------------------------------------------------------------------
def sms_payload(phone: str, msg: Message, defaults: dict[str, str]) -> dict[str, Any]:
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


async def publish_sms(ctx: RequestContext, phone: str, msg: Message) -> dict[str, Any]:
    if not PUBLISH_PHONE.match(phone):
        raise invalid_parameter(f"PhoneNumber Reason: {phone} is not valid to publish to")
    await ctx.env.db.write(_publish_sms, ctx.account, ctx.region, phone, msg, clock.now_ms())
    return {"MessageId": msg.message_id}


def _publish_sms(tx: Tx, account: str, region: str, phone: str, msg: Message, now: int) -> None:
    # AWS accepts a publish to an opted-out number (or, in the sandbox, to an unverified one) and fails the
    # delivery ("Phone number is opted out" in the delivery status logs): nothing is sent.
    if ms.is_opted_out(tx.conn, account, region, phone):
        return
    if ms.in_sandbox(tx.conn, account, region):
        entry = ms.get_sms(tx.conn, account, region, ms.SANDBOX, phone)
        if entry is None or json.loads(entry).get("status") != "Verified":
            return
    defaults = ms.sms_attributes(tx.conn, account, region)
    _add_outbox(tx, account, region, phone, sms_payload(phone, msg, defaults), now)


# -- SMS: account settings -----------------------------------------------------------------------------------------
def _sms_attribute(name: str, value: str) -> str:
    if name not in SMS_ATTRIBUTE_NAMES:
        raise invalid_parameter_bare(f"{name} is not a valid attribute")
    if name == "MonthlySpendLimit":
        if not (value.isascii() and value.isdigit()):
            raise invalid_parameter(f"{name} Reason: must be a whole number of USD")
        return str(int(value))
    if name == "DeliveryStatusSuccessSamplingRate":
        if not validation.is_percentage(value):
            raise invalid_parameter(f"{name} Reason: must be an integer from 0 to 100")
        return str(int(value))
    if name == "DefaultSMSType":
        if value not in SMS_TYPES:
            raise invalid_parameter_bare(f"{name} is invalid")
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


async def set_sms_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    attrs = {k: _sms_attribute(k, v) for k, v in (p.get("attributes") or {}).items()}
    await ctx.env.db.write(ms.put_sms_attributes, ctx.account, ctx.region, attrs)
    return {}


async def get_sms_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    stored = await ctx.env.db.read(ms.sms_attributes, ctx.account, ctx.region)
    attrs = {**SMS_DEFAULTS, **stored}
    wanted = p.get("attributes")
    if wanted:
        attrs = {k: v for k, v in attrs.items() if k in wanted}
    return {"attributes": attrs}


# -- SMS: opted-out numbers ----------------------------------------------------------------------------------------
async def check_if_phone_number_is_opted_out(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    phone = p["phoneNumber"]
    _check_phone(phone)
    return {"isOptedOut": await ctx.env.db.read(ms.is_opted_out, ctx.account, ctx.region, phone)}


async def list_phone_numbers_opted_out(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    after = listing.after_str(p.get("nextToken"), "nextToken")
    rows = await ctx.env.db.read(ms.sms_rows, ctx.account, ctx.region, ms.OPTED_OUT, after, ms.PAGE + 1)
    shown, token = listing.page(rows, ms.PAGE, _key)
    out: dict[str, Any] = {"phoneNumbers": [k for k, _ in shown]}
    if token is not None:
        out["nextToken"] = token
    return out


async def opt_in_phone_number(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    phone = p["phoneNumber"]
    _check_phone(phone)
    # AWS lets a number be opted in once every 30 days; that limit is not modelled.
    await ctx.env.db.write(ms.delete_sms, ctx.account, ctx.region, ms.OPTED_OUT, phone)
    return {}


def opt_out(tx: Tx, account: str, region: str, phone: str) -> None:
    """Opt a number out, as its owner replying STOP would (no API does it): for an admin endpoint."""
    ms.put_sms(tx, account, region, ms.OPTED_OUT, phone, "{}")


def set_sms_sandbox(tx: Tx, account: str, region: str, in_sandbox: bool) -> None:
    """Put an account into the SMS sandbox or take it out (AWS: a support case): for an admin endpoint. Accounts
    start outside it here, so SMS goes to any number."""
    ms.put_sms(tx, account, region, ms.ACCOUNT, ms.SANDBOX_KEY, "true" if in_sandbox else "false")


# -- SMS sandbox -------------------------------------------------------------------------------------------------------
async def create_sms_sandbox_phone_number(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    phone = p["PhoneNumber"]
    _check_phone(phone, E164)
    language = p.get("LanguageCode") or "en-US"
    otp = f"{secrets.randbelow(1_000_000):06d}"
    await ctx.env.db.write(
        _create_sandbox_number, ctx.account, ctx.region, phone, language, otp, ids.uuid4(), clock.now_ms()
    )
    return {}


def _create_sandbox_number(
    tx: Tx, account: str, region: str, phone: str, language: str, otp: str, message_id: str, now: int
) -> None:
    if ms.is_opted_out(tx.conn, account, region, phone):
        raise opted_out(phone)
    stored = ms.get_sms(tx.conn, account, region, ms.SANDBOX, phone)
    if stored is None:
        if ms.count_sms(tx.conn, account, region, ms.SANDBOX) >= SANDBOX_LIMIT:
            raise user_error(f"You can have at most {SANDBOX_LIMIT} destination phone numbers in the SMS sandbox")
        entry: dict[str, Any] = {"status": "Pending", "sends": []}
    else:
        entry = json.loads(stored)
        if entry["status"] == "Verified":
            raise user_error(f"Phone number {phone} is already verified")
    sends = [t for t in entry.get("sends", []) if t > now - DAY_MS]
    if len(sends) >= OTP_SENDS_PER_DAY:
        raise user_error(f"The one-time password can be sent at most {OTP_SENDS_PER_DAY} times every 24 hours")
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
    _add_outbox(tx, account, region, phone, record, now)


async def verify_sms_sandbox_phone_number(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    phone = p["PhoneNumber"]
    _check_phone(phone, E164)
    outcome = await ctx.env.db.write(
        _verify_sandbox_number, ctx.account, ctx.region, phone, p["OneTimePassword"], clock.now_ms()
    )
    if outcome == "missing":
        raise resource_not_found(f"Phone number {phone} is not in the SMS sandbox")
    if outcome == "wrong":
        raise wrong_one_time_password()
    return {}


def _verify_sandbox_number(tx: Tx, account: str, region: str, phone: str, otp: str, now: int) -> str:
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


async def delete_sms_sandbox_phone_number(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    phone = p["PhoneNumber"]
    _check_phone(phone, E164)
    await ctx.env.db.write(_delete_sandbox_number, ctx.account, ctx.region, phone, clock.now_ms())
    return {}


def _delete_sandbox_number(tx: Tx, account: str, region: str, phone: str, now: int) -> None:
    stored = ms.get_sms(tx.conn, account, region, ms.SANDBOX, phone)
    if stored is None:
        raise resource_not_found(f"Phone number {phone} is not in the SMS sandbox")
    if now - json.loads(stored).get("changed_at", 0) < DAY_MS:
        raise user_error(
            "A destination phone number can be deleted only 24 hours after its verification or last verification "
            "attempt"
        )
    ms.delete_sms(tx, account, region, ms.SANDBOX, phone)


async def list_sms_sandbox_phone_numbers(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    after = listing.after_str(p.get("NextToken"))
    limit = p.get("MaxResults") or ms.PAGE
    rows = await ctx.env.db.read(ms.sms_rows, ctx.account, ctx.region, ms.SANDBOX, after, limit + 1)
    shown, token = listing.page(rows, limit, _key)
    out: dict[str, Any] = {"PhoneNumbers": [{"PhoneNumber": k, "Status": json.loads(v)["status"]} for k, v in shown]}
    if token is not None:
        out["NextToken"] = token
    return out


async def get_sms_sandbox_account_status(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"IsInSandbox": await ctx.env.db.read(ms.in_sandbox, ctx.account, ctx.region)}


async def list_origination_numbers(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    # Nothing is provisioned here (no toll-free numbers, 10DLC or short codes), so the list is empty and no
    # NextToken can be valid. MaxResults (1-30) is checked against the model before this runs.
    if p.get("NextToken"):
        raise invalid_parameter("NextToken")
    return {"PhoneNumbers": []}


def _key(row: tuple[str, str]) -> str:
    return row[0]


HANDLERS = {
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
