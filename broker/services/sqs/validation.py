"""SQS input rules that the service model does not express: attribute names and ranges, names, bodies."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from broker.errors import ServiceError
from broker.services.sqs.errors import (
    batch_entry_ids_not_distinct,
    empty_batch_request,
    invalid_attribute_name,
    invalid_attribute_value,
    invalid_batch_entry_id,
    invalid_message_contents,
    invalid_parameter,
    invalid_value,
    missing_parameter,
    too_many_entries_in_batch_request,
    unknown_attribute,
)

QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
FIFO_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")
ANY_QUEUE_NAME = re.compile(r"^(?:[A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}\.fifo)$")
# MessageGroupId / MessageDeduplicationId / ReceiveRequestAttemptId: alphanumerics and punctuation, 1-128.
FIFO_TOKEN = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
QUEUE_NAME_CHARS = re.compile(r"^[A-Za-z0-9_.-]*$")
DATA_TYPE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII: a custom type suffix is shown in XML and headers
BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
ATTRIBUTE_NAME = re.compile(r"^[\w.-]{1,256}$")  # letters and digits of any script, "_", "-", "."
# Characters AWS accepts in a message body (W3C XML Char production).
INVALID_BODY_CHAR = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

DEFAULTS: dict[str, str] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
INT_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1048576),
    "MessageRetentionPeriod": (60, 1209600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43200),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}
BOOLEANS = {"SqsManagedSseEnabled"}
SETTABLE = set(INT_RANGES) | BOOLEANS | {"Policy", "KmsMasterKeyId", "RedrivePolicy", "RedriveAllowPolicy"}
FIFO_ONLY = {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
FIFO_DEFAULTS = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
FIFO_THROUGHPUT = ("DeduplicationScope", "FifoThroughputLimit")  # high-throughput FIFO settings
FIFO_ENUMS = {"DeduplicationScope": ("messageGroup", "queue"), "FifoThroughputLimit": ("perQueue", "perMessageGroupId")}
COMPUTED = {
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
}
READABLE = SETTABLE | COMPUTED | FIFO_ONLY
SYSTEM_ATTRIBUTES = {
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
}


def is_account_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) == 12


def check_queue_name(name: str, fifo: bool) -> None:
    if fifo:
        if not FIFO_QUEUE_NAME.match(name):
            raise invalid_parameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must "
                "end with .fifo suffix and be 1 to 80 in length."
            )
    elif not QUEUE_NAME.match(name):
        raise invalid_parameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")


def is_fifo_request(attrs: dict[str, str]) -> bool:
    """CreateQueue makes a FIFO queue when FifoQueue is true (the name must then end in .fifo)."""
    value = attrs.get("FifoQueue")
    if value is None:
        return False
    if not isinstance(value, str) or value.lower() not in ("true", "false"):
        raise _bad_value("FifoQueue")
    return value.lower() == "true"


def normalize_attributes(attrs: dict[str, str], *, creating: bool, fifo: bool) -> dict[str, str]:
    """Validate settable queue attributes; return them in the form GetQueueAttributes returns."""
    out: dict[str, str] = {}
    for name, value in attrs.items():
        if name == "FifoQueue":
            if creating:
                if not fifo:  # FifoQueue=false: AWS knows the attribute only for FIFO queues
                    raise unknown_attribute(name)
                out[name] = "true"
            elif not fifo and isinstance(value, str) and value.lower() == "true":
                raise unknown_attribute(name)  # as AWS answers FifoQueue=true for a standard queue
            elif not fifo or not isinstance(value, str) or value.lower() != "true":
                raise invalid_attribute_value(
                    "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
                )
            continue
        if name in FIFO_THROUGHPUT and not fifo:
            raise invalid_attribute_name(f"You can specify the {name} only when FifoQueue is set to true.")
        if (name in FIFO_ONLY and not fifo) or (name not in SETTABLE and name not in FIFO_ONLY):
            raise unknown_attribute(name)
        if not isinstance(value, str) or INVALID_BODY_CHAR.search(value):
            raise _bad_value(name)
        if name in INT_RANGES:
            lo, hi = INT_RANGES[name]
            try:
                n = int(value.strip())
            except ValueError:
                raise _bad_value(name) from None
            if not lo <= n <= hi:
                raise _bad_value(name)
            out[name] = str(n)
        elif name in BOOLEANS or name == "ContentBasedDeduplication":
            if value.lower() not in ("true", "false"):
                raise _bad_value(name)
            out[name] = value.lower()
        elif name in FIFO_ENUMS:
            if value not in FIFO_ENUMS[name]:
                raise _bad_value(name)
            out[name] = value
        elif name == "Policy":
            if value:
                try:
                    doc = json.loads(value)
                except ValueError:
                    raise _bad_value(name) from None
                statements = doc.get("Statement", []) if isinstance(doc, dict) else None
                if isinstance(statements, dict):
                    statements = [statements]
                if not isinstance(statements, list) or not all(isinstance(st, dict) for st in statements):
                    raise _bad_value(name)
            out[name] = value
        elif name == "RedrivePolicy":
            out[name] = redrive_policy(value) if value else ""
        elif name == "RedriveAllowPolicy":
            out[name] = redrive_allow_policy(value) if value else ""
        else:
            out[name] = value
    if out.get("KmsMasterKeyId") and out.get("SqsManagedSseEnabled") == "true":
        raise invalid_attribute_name(
            "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS "
            "SSE or SQS SSE."
        )
    if "KmsMasterKeyId" in out and "SqsManagedSseEnabled" not in out:
        out["SqsManagedSseEnabled"] = "false" if out["KmsMasterKeyId"] else "true"
    return out


def _json_map(name: str, value: str, what: str) -> dict[str, Any]:
    """A policy attribute's JSON object, or InvalidParameterValue saying `what` is not a valid JSON map."""
    try:
        doc = json.loads(value)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise invalid_value(name, value, f"{what} is not a valid JSON map.")
    return doc


def redrive_policy(value: str) -> str:
    """Normalize a RedrivePolicy to AWS's compact form; the target queue is checked by the operation."""
    doc = _json_map("RedrivePolicy", value, "Redrive policy")
    arn = doc.get("deadLetterTargetArn")
    if not isinstance(arn, str) or not arn:
        raise invalid_value(
            "RedrivePolicy", value, "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."
        )
    count = doc.get("maxReceiveCount")
    if count is None:
        raise invalid_value(
            "RedrivePolicy", value, "Redrive policy does not contain mandatory attribute: maxReceiveCount."
        )
    try:
        n = int(count)
    except (TypeError, ValueError):
        n = 0
    if isinstance(count, bool) or not 1 <= n <= 1000 or (isinstance(count, float) and count != n):
        raise invalid_value(
            "RedrivePolicy",
            value,
            f"Invalid value for maxReceiveCount: {count}, valid values are from 1 to 1000 both inclusive.",
        )
    if set(doc) - {"deadLetterTargetArn", "maxReceiveCount"}:
        raise invalid_value(
            "RedrivePolicy", value, "Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount]."
        )
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": n}, separators=(",", ":"))


def redrive_allow_policy(value: str) -> str:
    doc = _json_map("RedriveAllowPolicy", value, "Redrive allow policy")
    permission = doc.get("redrivePermission")
    arns = doc.get("sourceQueueArns")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise invalid_value(
            "RedriveAllowPolicy", value, "redrivePermission must be one of allowAll, denyAll or byQueue."
        )
    if permission == "byQueue":
        if not isinstance(arns, list) or not 1 <= len(arns) <= 10 or not all(isinstance(a, str) for a in arns):
            raise invalid_value(
                "RedriveAllowPolicy", value, "Between 1 and 10 sourceQueueArns are required for byQueue."
            )
    elif arns is not None:
        raise invalid_value(
            "RedriveAllowPolicy", value, "sourceQueueArns may only be given when redrivePermission is byQueue."
        )
    out: dict[str, Any] = {"redrivePermission": permission}
    if permission == "byQueue":
        out["sourceQueueArns"] = arns
    return json.dumps(out, separators=(",", ":"))


def check_fifo_token(name: str, value: str) -> None:
    if not FIFO_TOKEN.match(value):
        raise invalid_value(
            name, value, f"{name} can only include alphanumeric and punctuation characters. 1 to 128 in length."
        )


def _bad_value(name: str) -> ServiceError:
    return invalid_attribute_value(f"Invalid value for the parameter {name}.")


def check_body(body: str, max_size: int, attributes_size: int) -> None:
    if body == "":
        raise missing_parameter("MessageBody")
    if INVALID_BODY_CHAR.search(body):
        raise invalid_message_contents()
    if len(body.encode()) + attributes_size > max_size:
        raise invalid_parameter(
            f"One or more parameters are invalid. Reason: Message must be shorter than {max_size} bytes."
        )


def check_delay(delay: int | None) -> None:
    if delay is not None and not 0 <= delay <= 900:
        raise invalid_value("DelaySeconds", delay, "DelaySeconds must be >= 0 and <= 900.")


def message_attributes(attrs: dict[str, dict[str, Any]] | None) -> tuple[dict[str, dict[str, Any]], int]:
    """Validate message attributes; return them as stored (binary as bytes) and their size in bytes."""
    if not attrs:
        return {}, 0
    if len(attrs) > 10:
        raise invalid_parameter(f"Number of message attributes [{len(attrs)}] exceeds the allowed maximum [10].")
    out: dict[str, dict[str, Any]] = {}
    size = 0
    for name, attr in attrs.items():
        _check_attribute_name(name)
        data_type = attr.get("DataType", "")
        if not data_type:
            raise invalid_parameter(f"The message attribute '{name}' must contain non-empty message attribute type.")
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary") or len(data_type) > 256 or not DATA_TYPE.match(data_type):
            raise invalid_parameter(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported "
                "type prefixes is Binary, Number, and String."
            )
        if base == "Binary":
            value = attr.get("BinaryValue")
            if not value:
                raise invalid_parameter(f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.")
            out[name] = {"DataType": data_type, "BinaryValue": value}
            size += len(value)
        else:
            value = attr.get("StringValue")
            if value is None or value == "":
                raise invalid_parameter(
                    f"Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
                )
            if INVALID_BODY_CHAR.search(value):
                raise invalid_parameter(f"Message attribute '{name}' contains invalid characters.")
            if base == "Number":
                _check_number(name, value)
            out[name] = {"DataType": data_type, "StringValue": value}
            size += len(value.encode())
        size += len(name.encode()) + len(data_type.encode())
    return out, size


def message_size(body: object, attrs: object) -> int:
    """A message's size as SQS counts it (body, and each attribute's name, type and value), of unchecked input."""
    size = len(body.encode()) if isinstance(body, str) else 0
    if isinstance(attrs, dict):
        for name, attr in attrs.items():
            size += len(str(name).encode())
            if isinstance(attr, dict):
                for key in ("DataType", "StringValue", "BinaryValue"):
                    value = attr.get(key)
                    if isinstance(value, str):
                        size += len(value.encode())
                    elif isinstance(value, bytes):
                        size += len(value)
    return size


def _check_attribute_name(name: str) -> None:
    low = name.lower()
    if (
        not ATTRIBUTE_NAME.match(name)
        or name.startswith(".")
        or name.endswith(".")
        or ".." in name
        or low.startswith("aws.")
        or low.startswith("amazon.")
    ):
        raise invalid_parameter(f"The message attribute name '{name}' is invalid.")


def _check_number(name: str, value: str) -> None:
    try:
        d = Decimal(value.strip())
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or len(d.as_tuple().digits) > 38 or (d != 0 and abs(d.adjusted()) > 126):
        raise invalid_parameter(f"Can't cast the value of message (user) attribute '{name}' to a number.")


def system_attributes(attrs: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    if not attrs:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name, attr in attrs.items():
        if name != "AWSTraceHeader":
            raise invalid_parameter(f"Message system attribute name '{name}' is invalid.")
        if (
            attr.get("DataType") != "String"
            or not attr.get("StringValue")
            or INVALID_BODY_CHAR.search(attr["StringValue"])
        ):
            raise invalid_parameter(
                "Message system attribute 'AWSTraceHeader' must have data type String and a non-empty value."
            )
        out[name] = {"DataType": "String", "StringValue": attr["StringValue"]}
    return out


def batch_ids(entries: list[dict[str, Any]] | None, entry_shape: str) -> None:
    """The checks that refuse a whole batch request."""
    if not entries:
        raise empty_batch_request(entry_shape)
    if len(entries) > 10:
        raise too_many_entries_in_batch_request(len(entries))
    seen = set()
    for e in entries:
        eid = e.get("Id", "")
        if not BATCH_ID.match(eid):
            raise invalid_batch_entry_id()
        if eid in seen:
            raise batch_entry_ids_not_distinct(eid)
        seen.add(eid)
