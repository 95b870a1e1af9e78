"""The errors AWS answers a request whose signature fails, in each service family's words.

Query services (SQS, SNS, STS, IAM) and SQS on its JSON protocol (awsQueryCompatible: the query code travels in
x-amzn-query-error) answer with the query codes and HTTP 403; awsJson services (Kinesis, CloudWatch Logs,
EventBridge) with the *Exception codes and HTTP 400; rest-json control planes (Lambda, API Gateway, Scheduler) with
the *Exception codes and HTTP 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from broker.errors import ServiceError
from broker.protocol.base import WireProtocol
from broker.protocol.query import QueryProtocol
from broker.protocol.restjson import RestJsonProtocol
from broker.protocol.spec import ServiceSpec

Kind = Literal["missing", "incomplete", "unknown", "expired", "mismatch"]
Family = Literal["query", "json", "rest"]

INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details."
)


@dataclass(slots=True)
class AuthFailure(Exception):
    """Why a request's signature was refused; `message` replaces the kind's usual text when set."""

    kind: Kind
    message: str = ""


def error(failure: AuthFailure, family: Family) -> ServiceError:
    """The ServiceError `family`'s services answer `failure` with."""
    query = family == "query"
    status = 400 if family == "json" else 403
    kind, message = failure.kind, failure.message
    if kind == "missing":
        if query:
            return ServiceError("MissingAuthenticationToken", message or "Request is missing Authentication Token", 403)
        return ServiceError("MissingAuthenticationTokenException", message or "Missing Authentication Token", status)
    if kind == "incomplete":
        if query:
            return ServiceError("IncompleteSignature", message, 403)
        return ServiceError("IncompleteSignatureException", message, status)
    if kind == "unknown":
        if query:
            return ServiceError("InvalidClientTokenId", message or INVALID_TOKEN, 403)
        return ServiceError("UnrecognizedClientException", message or INVALID_TOKEN, status)
    if kind == "expired":
        if query:
            return ServiceError("ExpiredToken", message or EXPIRED_TOKEN, 403)
        return ServiceError("ExpiredTokenException", message or EXPIRED_TOKEN, status)
    if query:
        return ServiceError("SignatureDoesNotMatch", message or MISMATCH, 403)
    return ServiceError("InvalidSignatureException", message or MISMATCH, status)


def family(proto: WireProtocol, spec: ServiceSpec | None) -> Family:
    """Whose words a refusal takes: the request's protocol, and SQS's query codes on its JSON protocol too."""
    if isinstance(proto, QueryProtocol) or (spec is not None and spec.query_compatible):
        return "query"
    if isinstance(proto, RestJsonProtocol):
        return "rest"
    return "json"
