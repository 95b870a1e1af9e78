"""The one exception operations raise, and the errors no single service owns.

Convention: an operation raises `ServiceError`; the protocol layer renders it as AWS would. The codes a service
sends are written once, in its own `services/<svc>/errors.py`; the ones below are AWS's common errors, which the
protocol layer and the storage layer send for every service. tests/test_error_codes.py checks every code against
the error shapes of the services' botocore models (or the documented common and legacy codes).
"""

from __future__ import annotations


class ServiceError(Exception):
    """An AWS error.

    `code` is the error shape name from the service model (e.g. ``QueueDoesNotExist``) or a common AWS error
    code (``InvalidParameterValue``, ``MissingParameter``). Each protocol maps it to its wire spelling.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        status: int = 400,
        sender_fault: bool = True,
        fields: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        # Members of the error shape besides the message (Lambda's TooManyRequestsException: Reason,
        # retryAfterSeconds), rendered where the protocol carries them.
        self.fields = fields or {}


class ServiceUnavailable(ServiceError):
    """A retryable server-side failure (database locked, disk full, ...)."""

    def __init__(self, message: str = "Service is unavailable. Please retry.") -> None:
        super().__init__("ServiceUnavailable", message, status=503, sender_fault=False)


# -- common errors: sent by the protocol layer for any service ----------------------------------------------------
def internal_failure() -> ServiceError:
    return ServiceError(
        "InternalFailure",
        "The request processing has failed because of an unknown error.",
        status=500,
        sender_fault=False,
    )


def request_too_large() -> ServiceError:
    return ServiceError("RequestEntityTooLarge", "Request body is too large.", status=413)


def not_implemented(name: str) -> ServiceError:
    """An operation of the service's model that this broker does not serve yet."""
    return ServiceError(
        "NotImplemented", f"{name} is not supported by this broker yet.", status=501, sender_fault=False
    )


def invalid_action(action: str) -> ServiceError:
    return ServiceError("InvalidAction", f"The action {action} is not valid for this endpoint.")


def missing_action() -> ServiceError:
    return ServiceError("MissingAction", "The request must contain the parameter Action.")


def malformed_query_string() -> ServiceError:
    return ServiceError("MalformedQueryString", "The query string is malformed.")


def unknown_operation(message: str, status: int = 400) -> ServiceError:
    return ServiceError("UnknownOperationException", message, status=status)


def serialization(message: str) -> ServiceError:
    """A body that cannot be decoded, or a member of the wrong JSON/CBOR type."""
    return ServiceError("SerializationException", message)


def missing_parameter(name: str) -> ServiceError:
    return ServiceError("MissingParameter", f"The request must contain the parameter {name}.")


def invalid_parameter_value(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message)


def service_not_provided(message: str) -> ServiceError:
    """A request for an AWS service this broker does not serve (S3, DynamoDB, ...), answered in that service's
    protocol: 501, which SDKs do not retry."""
    return ServiceError("NotImplemented", message, status=501, sender_fault=False)
