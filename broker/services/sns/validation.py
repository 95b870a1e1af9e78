"""SNS input rules the service model does not express: names, attributes, messages, subscriptions."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from broker import clock
from broker.services.sns import filter_policy, json_errors
from broker.services.sns.errors import (
    invalid_parameter,
    invalid_parameter_value,
    invalid_sms_endpoint,
    null_member,
)

TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
FIFO_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
FIFO_TOKEN = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
ATTRIBUTE_NAME_CHAR = re.compile(r"[^A-Za-z0-9_.-]")
MAX_ATTRIBUTE_NAME_BYTES = 256
# A base type, optionally followed by "." and a custom label of any characters ("String.  x." is valid).
DATA_TYPE = re.compile(r"^(String|Number|Binary)(\..+)?$", re.DOTALL)
# Subject: printable ASCII without line breaks, starting with a letter, number or punctuation mark.
SUBJECT = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,99}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An SMS endpoint: an E.164 number, its digits optionally grouped by single ".", "/" or "-" ("+15/55-123.4567").
PHONE = re.compile(r"^\+?[1-9]\d{1,14}$")
PHONE_SEPARATORS = re.compile(r"[./-]")
PHONE_BAD_SEPARATORS = re.compile(r"[./-]{2,}|^[./-]|[./-]$")
MAX_MESSAGE_BYTES = 262_144
# Characters AWS accepts in messages and attribute values (the XML Char production; no NUL, which PostgreSQL's text
# cannot hold either).
INVALID_CHAR = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
TOKEN = re.compile(r"^[A-Za-z0-9]{1,2048}$")
# AWS's own message attributes (mobile push and SMS settings) are the only "AWS." names a publisher may use.
RESERVED_ATTRIBUTE_PREFIXES = ("aws.sns.mobile.", "aws.sns.sms.", "aws.mm.sms.")

PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose")
RAW_PROTOCOLS = ("http", "https", "sqs", "firehose")  # the protocols that may set RawMessageDelivery
SHOWS_RAW = (*RAW_PROTOCOLS, "lambda", "sms")  # the subscriptions whose attributes list RawMessageDelivery

TOPIC_SETTABLE = {
    "Policy",
    "DisplayName",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "ContentBasedDeduplication",
    "FifoThroughputScope",
    "ArchivePolicy",
}
FEEDBACK = {
    f"{proto}{kind}"
    for proto in ("HTTP", "Application", "Firehose", "Lambda", "SQS")
    for kind in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
}
FIFO_TOPIC_ONLY = {"ContentBasedDeduplication", "FifoThroughputScope", "ArchivePolicy"}
SUBSCRIPTION_SETTABLE = {
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
}

BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")


def check_topic_name(name: str, fifo: bool) -> None:
    if not (FIFO_TOPIC_NAME if fifo else TOPIC_NAME).match(name):
        raise invalid_parameter("Topic Name")


def boolean(name: str, value: str) -> str:
    """A "true"/"false" attribute (any case) as stored: in lowercase."""
    if value.lower() not in ("true", "false"):
        raise invalid_parameter(f"Attributes Reason: {name}: Invalid value [{value}]. Must be true or false.")
    return value.lower()


def is_percentage(value: str) -> bool:
    """A whole number from 0 to 100 (the sampling rates)."""
    return value.isascii() and value.isdigit() and 0 <= int(value) <= 100


def parse_json(name: str, value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:  # with the parser's details, as SNS gives them
        raise invalid_parameter(f"{name}: {json_errors.failed_to_parse(value)}") from None


def _json_object(name: str, value: str) -> dict[str, Any]:
    parsed = parse_json(name, value)
    if not isinstance(parsed, dict):
        raise invalid_parameter(f"{name}: must be a JSON object.")
    return parsed


def topic_attribute(name: str, value: str, fifo: bool) -> str:
    """Check one settable topic attribute; returns the value to store."""
    if name not in TOPIC_SETTABLE and name not in FEEDBACK:
        raise invalid_parameter("AttributeName")
    if name in FIFO_TOPIC_ONLY and not fifo:
        if name == "ContentBasedDeduplication":
            raise invalid_parameter(
                "ContentBasedDeduplication Reason: Content-based deduplication can only be set for FIFO topics"
            )
        raise invalid_parameter(f"{name} Reason: {name} can only be set for FIFO topics")
    if name == "Policy":
        _json_object("Policy", value)
    elif name == "DeliveryPolicy":
        check_delivery_policy(value, topic=True)
    elif name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid_parameter("SignatureVersion")
    elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise invalid_parameter("TracingConfig")
    elif name == "ContentBasedDeduplication":
        return boolean(name, value)
    elif name == "FifoThroughputScope" and value not in ("Topic", "MessageGroup"):
        raise invalid_parameter("FifoThroughputScope Reason: Invalid value. Valid values are Topic, MessageGroup")
    elif name == "ArchivePolicy":
        check_archive_policy(value)
    elif name == "DisplayName" and len(value) > 100:
        raise invalid_parameter("DisplayName")
    elif name.endswith("SampleRate") and not is_percentage(value):
        raise invalid_parameter(f"{name}: must be an integer from 0 to 100")
    return value


def check_archive_policy(value: str) -> None:
    if value in ("", "{}"):
        return  # an empty policy stops archiving
    policy = _json_object("ArchivePolicy", value)
    period = str(policy.get("MessageRetentionPeriod"))
    digits = period.isascii() and period.isdigit()  # int() refuses other scripts' digits ("²")
    if set(policy) != {"MessageRetentionPeriod"} or not digits or not 1 <= int(period) <= 365:
        raise invalid_parameter("ArchivePolicy Reason: MessageRetentionPeriod must be an integer from 1 to 365")


# -- delivery policy (HTTP/S retries) --------------------------------------------------------------------------
RETRY_KEYS = {
    "minDelayTarget",
    "maxDelayTarget",
    "numRetries",
    "numNoDelayRetries",
    "numMinDelayRetries",
    "numMaxDelayRetries",
    "backoffFunction",
}


def check_delivery_policy(value: str, topic: bool) -> dict[str, Any]:
    """Validate a DeliveryPolicy (topic: {"http": {...}}; subscription: {"healthyRetryPolicy": ...})."""
    policy = _json_object("DeliveryPolicy", value)
    if topic:
        unknown = set(policy) - {"http", "https"}
        if unknown:
            raise invalid_parameter(f"DeliveryPolicy: Unsupported protocol {sorted(unknown)[0]}")
        for proto in policy.values():
            if not isinstance(proto, dict):
                raise invalid_parameter("DeliveryPolicy: protocol policy must be an object")
            if "defaultHealthyRetryPolicy" in proto:
                _check_retry(proto["defaultHealthyRetryPolicy"])
            _check_throttle(proto.get("defaultThrottlePolicy"))
            _check_request(proto.get("defaultRequestPolicy"))
    else:
        if "healthyRetryPolicy" in policy:
            _check_retry(policy["healthyRetryPolicy"])
        _check_throttle(policy.get("throttlePolicy"))
        _check_request(policy.get("requestPolicy"))
    return policy


def _check_retry(retry: object) -> None:
    if not isinstance(retry, dict):
        raise invalid_parameter("DeliveryPolicy: healthyRetryPolicy must be an object")
    unknown = set(retry) - RETRY_KEYS
    if unknown:
        raise invalid_parameter(f"DeliveryPolicy: Unsupported key {sorted(unknown)[0]}")
    for key in RETRY_KEYS - {"backoffFunction"}:
        if key in retry and (not isinstance(retry[key], int) or isinstance(retry[key], bool) or retry[key] < 0):
            raise invalid_parameter(f"DeliveryPolicy: {key} must be a non-negative integer")
    lo, hi = retry.get("minDelayTarget", 20), retry.get("maxDelayTarget", 20)
    if not 1 <= lo <= hi:
        raise invalid_parameter("DeliveryPolicy: minDelayTarget must be between 1 and maxDelayTarget")
    if hi > 3600:
        raise invalid_parameter("DeliveryPolicy: maxDelayTarget must be at most 3600")
    total = retry.get("numRetries", 3)
    if total > 100:
        raise invalid_parameter("DeliveryPolicy: numRetries must be at most 100")
    parts = sum(retry.get(k, 0) for k in ("numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries"))
    if parts > total:
        raise invalid_parameter("DeliveryPolicy: numRetries must be at least the sum of the other retry counts")
    if "backoffFunction" in retry and retry["backoffFunction"] not in BACKOFF_FUNCTIONS:
        raise invalid_parameter("DeliveryPolicy: backoffFunction must be linear, arithmetic, geometric or exponential")


def _check_throttle(throttle: object) -> None:
    if throttle is None:
        return
    rate = throttle.get("maxReceivesPerSecond") if isinstance(throttle, dict) else None
    if not isinstance(rate, int) or isinstance(rate, bool) or rate < 1:
        raise invalid_parameter("DeliveryPolicy: maxReceivesPerSecond must be a positive integer")


CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+( *;[ -~]*)?")  # no control characters


def _check_request(request: object) -> None:
    if request is None:
        return
    kind = request.get("headerContentType") if isinstance(request, dict) else None
    if not isinstance(kind, str) or not CONTENT_TYPE.fullmatch(kind) or len(kind) > 256:
        raise invalid_parameter("DeliveryPolicy: headerContentType must be a MIME type")


# -- subscriptions --------------------------------------------------------------------------------------------
def check_endpoint(protocol: str, endpoint: str | None) -> str:
    if protocol not in PROTOCOLS:
        raise invalid_parameter(f"Amazon SNS does not support this protocol string: {protocol}")
    if not endpoint:
        raise invalid_parameter("Endpoint Reason: An endpoint must be specified")
    if INVALID_CHAR.search(endpoint):
        raise invalid_parameter("Endpoint")
    ok = {
        "http": endpoint.lower().startswith("http://"),
        "https": endpoint.lower().startswith("https://"),
        "email": bool(EMAIL.match(endpoint)),
        "email-json": bool(EMAIL.match(endpoint)),
        "sms": is_sms_endpoint(endpoint),
        "sqs": endpoint.startswith("arn:aws:sqs:") and endpoint.count(":") == 5,
        "application": endpoint.startswith("arn:aws:sns:") and ":endpoint/" in endpoint,
        "lambda": endpoint.startswith("arn:aws:lambda:"),
        "firehose": endpoint.startswith("arn:aws:firehose:"),
    }[protocol]
    if not ok:
        if protocol == "sqs":
            raise invalid_parameter("SQS endpoint ARN")
        if protocol in ("http", "https"):
            raise invalid_parameter(f"Endpoint must match the specified protocol Reason: {protocol}")
        if protocol == "sms":
            raise invalid_sms_endpoint(endpoint)
        raise invalid_parameter("Endpoint")
    return endpoint


def is_sms_endpoint(endpoint: str) -> bool:
    if PHONE_BAD_SEPARATORS.search(endpoint):
        return False
    return bool(PHONE.match(PHONE_SEPARATORS.sub("", endpoint)))


def subscription_attribute(name: str, value: str, protocol: str, attrs: dict[str, str]) -> str:
    """Check one settable subscription attribute (given the others, `attrs`); returns the value to store.

    Errors are worded as SetSubscriptionAttributes words them ("Invalid parameter: <reason>"); Subscribe adds
    "Attributes Reason: " (errors.in_attributes)."""
    if name not in SUBSCRIPTION_SETTABLE:
        raise invalid_parameter("AttributeName")
    if name == "RawMessageDelivery":
        if value.lower() not in ("true", "false"):
            raise invalid_parameter(f"{name}: Invalid value [{value}]. Must be true or false.")
        if protocol not in RAW_PROTOCOLS:
            raise invalid_parameter(f"Delivery protocol [{protocol}] does not support raw message delivery.")
        return value.lower()
    if name == "FilterPolicy":
        if value != "":
            filter_policy.validate(value, attrs.get("FilterPolicyScope", "MessageAttributes"))
    elif name == "FilterPolicyScope":
        if value not in ("MessageAttributes", "MessageBody"):
            raise invalid_parameter(
                f"FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
            )
        if attrs.get("FilterPolicy"):
            filter_policy.validate(attrs["FilterPolicy"], value)
    elif name == "RedrivePolicy":
        if value != "":
            policy = _json_object("RedrivePolicy", value)
            arn = policy.get("deadLetterTargetArn")
            if not isinstance(arn, str) or not arn.startswith("arn:aws:sqs:") or arn.count(":") != 5:
                raise invalid_parameter("RedrivePolicy: deadLetterTargetArn is an invalid arn")
    elif name == "DeliveryPolicy":
        if protocol not in ("http", "https"):
            raise invalid_parameter(f"DeliveryPolicy: Delivery protocol [{protocol}] does not support delivery policy")
        check_delivery_policy(value, topic=False)
    elif name == "SubscriptionRoleArn":
        if not value.startswith("arn:aws:iam::"):
            raise invalid_parameter("SubscriptionRoleArn")
    elif name == "ReplayPolicy":
        check_replay_policy(value)
    return value


def check_replay_policy(value: str) -> tuple[int, int | None]:
    """(StartingPoint, EndingPoint) in ms of a ReplayPolicy {"PointType": "Timestamp", "StartingPoint": ISO, ...}."""
    policy = _json_object("ReplayPolicy", value)
    if policy.get("PointType") != "Timestamp":
        raise invalid_parameter("ReplayPolicy: PointType must be Timestamp")
    unknown = set(policy) - {"PointType", "StartingPoint", "EndingPoint"}
    if unknown:
        raise invalid_parameter(f"ReplayPolicy: Unsupported key {sorted(unknown)[0]}")
    start = _iso_ms("StartingPoint", policy.get("StartingPoint"))
    end = _iso_ms("EndingPoint", policy["EndingPoint"]) if policy.get("EndingPoint") else None
    if end is not None and end < start:
        raise invalid_parameter("ReplayPolicy: EndingPoint must not be before StartingPoint")
    return start, end


def _iso_ms(name: str, value: object) -> int:
    if not isinstance(value, str):
        raise invalid_parameter(f"ReplayPolicy: {name} is required and must be a timestamp")
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_parameter(f"ReplayPolicy: {name} is not a valid timestamp") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return clock.to_ms(stamp)


# -- messages -------------------------------------------------------------------------------------------------
def check_subject(subject: str | None) -> None:
    if subject is not None and not SUBJECT.match(subject):
        raise invalid_parameter("Subject")


def check_message(message: str | None, structure: str | None) -> dict[str, str] | None:
    """The per-protocol messages of MessageStructure=json, or None."""
    if message is None:
        raise invalid_parameter("Message Reason: no value for required parameter")
    if message == "":
        raise invalid_parameter("Empty message")
    if INVALID_CHAR.search(message):
        raise invalid_parameter("Message Reason: Message contains invalid characters")
    if structure is None:
        return None
    if structure != "json":
        raise invalid_parameter("MessageStructure Reason: Only json is supported")
    try:
        parsed = json.loads(message)
    except ValueError:
        raise invalid_parameter("Message Structure - JSON message body failed to parse") from None
    if not isinstance(parsed, dict):
        raise invalid_parameter("Message Structure - JSON message body failed to parse")
    # Only string values count: a protocol key with any other value is ignored (its subscribers get "default").
    messages = {k: v for k, v in parsed.items() if isinstance(v, str)}
    if "default" not in messages:
        raise invalid_parameter("Message Structure - No default entry in JSON message body")
    return messages


def check_data_types_present(attrs: dict[str, dict[str, Any]] | None, path: str = "messageAttributes") -> None:
    """AWS's request validation, before anything else: every message attribute names its DataType."""
    for name, attr in (attrs or {}).items():
        if attr.get("DataType") is None:
            raise null_member(f"{path}.{name}.member.dataType")


def _check_attribute_name(name: str) -> None:
    low = name.lower()
    if len(name.encode()) > MAX_ATTRIBUTE_NAME_BYTES:
        raise invalid_parameter_value("Length of message attribute name must be less than 256 bytes.")
    if bad := ATTRIBUTE_NAME_CHAR.search(name):
        raise invalid_parameter_value(
            f"Invalid non-alphanumeric character '#x{ord(bad.group()):X}' was found in the message attribute name. "
            "Can only include alphanumeric characters, hyphens, underscores, or dots."
        )
    if name.startswith("."):
        raise invalid_parameter_value("Invalid message attribute name starting with character '.' was found.")
    if name.endswith("."):
        raise invalid_parameter_value("Invalid message attribute name ending with character '.' was found.")
    if ".." in name:
        raise invalid_parameter_value("Message attribute name can not have successive '.' character.")
    if (
        not name
        or (low.startswith("aws.") and not low.startswith(RESERVED_ATTRIBUTE_PREFIXES))
        or low.startswith("amazon.")
    ):
        raise invalid_parameter_value(f"The message attribute name '{name}' is invalid.")


def message_attributes(attrs: dict[str, dict[str, Any]] | None) -> tuple[dict[str, dict[str, Any]], int]:
    """Validate SNS message attributes; return them (binary as bytes) and their size in bytes."""
    if not attrs:
        return {}, 0
    out: dict[str, dict[str, Any]] = {}
    size = 0
    for name, attr in attrs.items():
        _check_attribute_name(name)
        data_type = attr.get("DataType") or ""
        if not data_type:
            raise invalid_parameter_value(
                f"The message attribute '{name}' must contain non-empty message attribute type."
            )
        if not DATA_TYPE.match(data_type) or len(data_type) > 256:
            raise invalid_parameter_value(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported type "
                "prefixes is Binary, Number, and String."
            )
        base = data_type.split(".", 1)[0]
        shown = data_type if data_type == "String.Array" else base
        if base == "Binary":
            value = attr.get("BinaryValue")
            if value is None and attr.get("StringValue") is not None:
                raise invalid_parameter_value(
                    f"The message attribute '{name}' with type '{shown}' must use field 'Binary'."
                )
            if not value:
                raise invalid_parameter_value(
                    f"The message attribute '{name}' must contain non-empty message attribute value for message "
                    "attribute type 'Binary'."
                )
            out[name] = {"DataType": data_type, "BinaryValue": value}
            size += len(value)
        else:
            value = attr.get("StringValue")
            if value is None and attr.get("BinaryValue") is not None:
                raise invalid_parameter_value(
                    f"The message attribute '{name}' with type '{shown}' must use field 'String'."
                )
            if value is None or value == "":
                raise invalid_parameter_value(
                    f"The message attribute '{name}' must contain non-empty message attribute value for message "
                    f"attribute type '{shown}'."
                )
            if INVALID_CHAR.search(value):
                raise invalid_parameter_value(f"Message attribute '{name}' contains invalid characters.")
            if data_type == "String.Array":
                _check_string_array(name, value)
            elif base == "Number":
                _check_number(name, value)
            out[name] = {"DataType": data_type, "StringValue": value}
            size += len(value.encode())
        size += len(name.encode()) + len(data_type.encode())
    return out, size


def _check_number(name: str, value: str) -> None:
    try:
        d = Decimal(value.strip())
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or abs(d) > Decimal("1e308") or len(value) > 38 + 4:
        raise invalid_parameter_value(f"Could not cast message attribute '{name}' value to number.")


def _check_string_array(name: str, value: str) -> None:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, list) or any(isinstance(v, dict | list) for v in parsed):
        raise invalid_parameter_value(
            f"The message attribute '{name}' with type 'String.Array' has an invalid value: the value must be a "
            "JSON array of strings, numbers, true, false or null."
        )


def fifo_ids(
    fifo: bool, content_dedup: bool, message: str, group: str | None, dedup: str | None
) -> tuple[str | None, str | None]:
    """(MessageGroupId, MessageDeduplicationId) of a publish, checked against the topic's type."""
    if group is not None and not FIFO_TOKEN.match(group):
        raise invalid_parameter(
            "MessageGroupId Reason: MessageGroupId can only include alphanumeric and punctuation "
            "characters. 1 to 128 in length."
        )
    if not fifo:
        if dedup is not None:
            raise invalid_parameter(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not "
                "valid for this topic type"
            )
        return group, None
    if group is None:
        raise invalid_parameter("The MessageGroupId parameter is required for FIFO topics")
    if dedup is None:
        if not content_dedup:
            raise invalid_parameter(
                "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided "
                "explicitly"
            )
        dedup = hashlib.sha256(message.encode()).hexdigest()
    elif not FIFO_TOKEN.match(dedup):
        raise invalid_parameter(
            "MessageDeduplicationId Reason: MessageDeduplicationId can only include alphanumeric and punctuation "
            "characters. 1 to 128 in length."
        )
    return group, dedup


def check_tags(tags: list[dict[str, str]]) -> None:
    keys = [tag.get("Key", "") for tag in tags]
    if len(set(keys)) != len(keys):
        raise invalid_parameter("Duplicated keys are not allowed.")
    for tag in tags:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise invalid_parameter("TagKey or TagValue")
        if key.lower().startswith("aws:"):
            raise invalid_parameter("Tag keys must not start with aws:")
