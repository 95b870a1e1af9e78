"""A published message, and the documents SNS makes of it: the JSON envelopes AWS sends (signed), the events of
lambda subscriptions, HTTP/S requests as AWS sends them, sequence numbers and timestamps as AWS spells them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.sns.delivery_policy import DEFAULT_CONTENT_TYPE
from broker.services.sns.signing import SIGNER, Signer
from broker.services.sns.topics import Subscription, Topic

USER_AGENT = "Amazon Simple Notification Service Agent"
ACCEPT_ENCODING = "gzip,deflate"  # as AWS's HTTP/S deliveries send it

# Message attributes by name: {"DataType": ..., "StringValue": str} or {"DataType": ..., "BinaryValue": bytes}
# (in base64 text where they are kept as JSON).
Attributes = dict[str, dict[str, Any]]


@lru_cache(maxsize=65536)
def _unsubscribe_url(base_url: str, sub_arn: str) -> str:
    return f"{base_url}/?Action=Unsubscribe&SubscriptionArn={sub_arn}"  # AWS leaves the ARN as it is


@lru_cache(maxsize=65536)
def _unsubscribe_json(base_url: str, sub_arn: str) -> str:
    """The URL as a JSON string (quoting it is a good part of a notification's cost: done once per subscription)."""
    return json.dumps(_unsubscribe_url(base_url, sub_arn))


def timestamp(ms: int) -> str:
    return clock.to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def dumps(envelope: dict[str, Any]) -> str:
    """AWS's layout of an SNS JSON document (two-space indent, " : " separators)."""
    return json.dumps(envelope, indent=2, separators=(",", " : "), ensure_ascii=False)


@dataclass(slots=True)
class Message:
    """One published message, checked."""

    message_id: str
    topic_arn: str
    message: str
    subject: str | None
    attributes: Attributes
    published_at: int  # ms
    per_protocol: dict[str, str] | None = None  # MessageStructure=json
    group: str | None = None
    dedup: str | None = None
    seq: int | None = None  # FIFO topics: set inside the publishing transaction
    replayed: bool = False  # redelivered from a FIFO topic's archive
    trace_header: str | None = None  # the publisher's X-Amzn-Trace-Id, SQS subscribers' AWSTraceHeader
    signatures: dict[str, str] = field(default_factory=dict)  # by SignatureVersion (and protocol, see Envelopes)
    rendered: dict[str, tuple[str, str]] = field(default_factory=dict)  # signed notification text, see Envelopes

    def text_for(self, key: str) -> str:
        if self.per_protocol is None:
            return self.message
        return self.per_protocol.get(key, self.per_protocol["default"])

    def payload(self) -> dict[str, Any]:
        """What the archive keeps of it, to replay."""
        return {
            "message_id": self.message_id,
            "message": self.message,
            "subject": self.subject,
            "attributes": encode_attributes(self.attributes),
            "published_at": self.published_at,
            "per_protocol": self.per_protocol,
            "group": self.group,
            "dedup": self.dedup,
            "seq": self.seq,
            "trace_header": self.trace_header,
        }

    @classmethod
    def from_payload(cls, topic_arn: str, p: dict[str, Any]) -> Message:
        return cls(
            message_id=p["message_id"],
            topic_arn=topic_arn,
            message=p["message"],
            subject=p["subject"],
            attributes=decode_attributes(p["attributes"]),
            published_at=p["published_at"],
            per_protocol=p["per_protocol"],
            group=p["group"],
            dedup=p["dedup"],
            seq=p["seq"],
            trace_header=p.get("trace_header"),
        )


def attribute_text(a: dict[str, Any]) -> str:
    """A message attribute's value as text (binary values in base64)."""
    value: str = a["StringValue"] if "StringValue" in a else base64.b64encode(a["BinaryValue"]).decode()
    return value


def encode_attributes(attrs: Attributes) -> Attributes:
    return {
        k: {"DataType": a["DataType"], "BinaryValue": base64.b64encode(a["BinaryValue"]).decode()}
        if "BinaryValue" in a
        else a
        for k, a in attrs.items()
    }


def decode_attributes(attrs: Attributes) -> Attributes:
    return {
        k: {"DataType": a["DataType"], "BinaryValue": base64.b64decode(a["BinaryValue"])} if "BinaryValue" in a else a
        for k, a in attrs.items()
    }


def base_url(ctx: RequestContext) -> str:
    """Where clients reach this broker: the root of the URLs SNS hands out (SubscribeURL, UnsubscribeURL, ...)."""
    return f"http://{ctx.env.settings.public_host or ctx.host}"


def envelopes(ctx: RequestContext) -> Envelopes:
    return Envelopes(ctx.env.get(SIGNER), base_url(ctx), ctx.env.settings.sigv4)


class Envelopes:
    """Builds the JSON documents SNS sends; signs each message once per SignatureVersion."""

    def __init__(self, signer: Signer, base_url: str, grants: bool) -> None:
        self.signer = signer
        self.base_url = base_url
        # auth = "sigv4": deliveries to another account's queue or function need its policy's grant (grants.py)
        self.grants = grants

    def cert_url(self) -> str:
        return self.base_url + self.signer.cert_path

    def unsubscribe_url(self, sub_arn: str) -> str:
        return _unsubscribe_url(self.base_url, sub_arn)

    def notification(self, msg: Message, topic: Topic, sub: Subscription) -> str:
        """The Notification document for one subscription, as text.

        Everything but the UnsubscribeURL is the same for every subscription of the message: it is rendered and
        signed once per message (and per protocol with MessageStructure=json), then only the URL is spliced in."""
        key = f"{topic.signature_version}:{sub.protocol if msg.per_protocol else ''}"
        parts = msg.rendered.get(key)
        if parts is None:
            parts = msg.rendered[key] = self._render(msg, topic, sub)
        return parts[0] + _unsubscribe_json(self.base_url, sub.arn) + parts[1]

    def lambda_event(self, msg: Message, topic: Topic, sub: Subscription) -> bytes:
        """The event a lambda subscription's function is invoked with: one record holding the signed notification
        in Lambda's spelling (SigningCertUrl, UnsubscribeUrl; Subject null when absent; MessageAttributes always),
        keys in the order AWS sends them."""
        notification = {
            "Type": "Notification",
            "MessageId": msg.message_id,
            "TopicArn": msg.topic_arn,
            "Subject": msg.subject,
            "Message": msg.text_for(sub.protocol),
            "Timestamp": timestamp(msg.published_at),
            "SignatureVersion": topic.signature_version,
            "Signature": self.sign(msg, topic, sub),
            "SigningCertUrl": self.cert_url(),
            "UnsubscribeUrl": self.unsubscribe_url(sub.arn),
            "MessageAttributes": {
                k: {"Type": a["DataType"], "Value": attribute_text(a)} for k, a in msg.attributes.items()
            },
        }
        record = {"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": sub.arn, "Sns": notification}
        return json.dumps({"Records": [record]}, ensure_ascii=False).encode()

    def sign(self, msg: Message, topic: Topic, sub: Subscription) -> str:
        """The notification's signature (standard topics only: AWS signs no FIFO topic's notification)."""
        version = topic.signature_version
        key = f"{version}:{sub.protocol if msg.per_protocol else ''}"
        signature = msg.signatures.get(key)
        if signature is None:
            fields = {
                "Type": "Notification",
                "MessageId": msg.message_id,
                "TopicArn": msg.topic_arn,
                "Subject": msg.subject,
                "Message": msg.text_for(sub.protocol),
                "Timestamp": timestamp(msg.published_at),
            }
            signature = msg.signatures[key] = self.signer.sign(fields, version)
        return signature

    def _render(self, msg: Message, topic: Topic, sub: Subscription) -> tuple[str, str]:
        version, text, stamp = topic.signature_version, msg.text_for(sub.protocol), timestamp(msg.published_at)
        head: list[tuple[str, str | bool]] = [("Type", "Notification"), ("MessageId", msg.message_id)]
        if msg.seq is not None:
            head.append(("SequenceNumber", sequence_number(msg.seq)))
        head.append(("TopicArn", msg.topic_arn))
        if msg.subject is not None:
            head.append(("Subject", msg.subject))
        head += [("Message", text), ("Timestamp", stamp)]
        if not topic.fifo:
            head += [
                ("SignatureVersion", version),
                ("Signature", self.sign(msg, topic, sub)),
                ("SigningCertURL", self.cert_url()),
            ]
        if msg.replayed:
            head.append(("Replayed", True))
        start = "{\n" + "".join(f'  "{k}" : {json.dumps(v, ensure_ascii=False)},\n' for k, v in head)
        start += '  "UnsubscribeURL" : '
        end = "\n}"
        if msg.attributes:
            items = ",\n".join(
                f"    {json.dumps(k, ensure_ascii=False)} : "
                + json.dumps({"Type": a["DataType"], "Value": attribute_text(a)}, ensure_ascii=False)
                for k, a in msg.attributes.items()
            )
            end = ',\n  "MessageAttributes" : {\n' + items + "\n  }\n}"
        return start, end

    def confirmation(
        self, kind: str, topic_arn: str, message_id: str, token: str, now: int, version: str, sub_arn: str = ""
    ) -> dict[str, Any]:
        """SubscriptionConfirmation, or UnsubscribeConfirmation (of the subscription `sub_arn`)."""
        subscribe_url = f"{self.base_url}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"
        if kind == "SubscriptionConfirmation":
            text = (
                f"You have chosen to subscribe to the topic {topic_arn}.\n"
                "To confirm the subscription, visit the SubscribeURL included in this message."
            )
        else:
            text = (
                f"You have chosen to deactivate subscription {sub_arn}.\n"
                "To cancel this operation and restore the subscription, visit the SubscribeURL included in this "
                "message."
            )
        fields = {
            "Type": kind,
            "MessageId": message_id,
            "Token": token,
            "TopicArn": topic_arn,
            "Message": text,
            "SubscribeURL": subscribe_url,
            "Timestamp": timestamp(now),
        }
        return {
            **fields,
            "SignatureVersion": version,
            "Signature": self.signer.sign(fields, version),
            "SigningCertURL": self.cert_url(),
        }


SEQ_BASE = 10_000_000_000_000_000_000  # SequenceNumbers are 20-digit decimal strings, like AWS's


def sequence_number(seq: int) -> str:
    return str(SEQ_BASE + seq)


def sqs_raw_attributes(attrs: Attributes) -> Attributes:
    """Message attributes of a raw delivery to SQS, as SQS message attributes."""
    return {k: dict(a) for k, a in attrs.items()}


def sqs_system_attributes(msg: Message) -> Attributes:
    """The SQS system attributes of a delivery: the publisher's trace header, as AWSTraceHeader."""
    if not msg.trace_header:
        return {}
    return {"AWSTraceHeader": {"DataType": "String", "StringValue": msg.trace_header}}


def http_request(
    sub: Subscription, topic_arn: str, kind: str, message_id: str, body: str, raw: bool = False
) -> dict[str, Any]:
    """The POST an HTTP/S subscription receives (headers as AWS sends them)."""
    headers = {
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
        "Content-Type": DEFAULT_CONTENT_TYPE,  # a notification's follows its requestPolicy
        "User-Agent": USER_AGENT,
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    if kind != "SubscriptionConfirmation":
        headers["x-amz-sns-subscription-arn"] = sub.arn
    if raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    return {"url": sub.endpoint, "headers": headers, "body": body}
