"""The one exception operations raise; the protocol layer renders it the way AWS does."""

from __future__ import annotations


class ServiceError(Exception):
    """An AWS error.

    `code` is the error shape name from the service model (e.g. ``QueueDoesNotExist``) or a common AWS error
    code (``InvalidParameterValue``, ``MissingParameter``). Each protocol maps it to its wire spelling.
    """

    def __init__(self, code: str, message: str = "", status: int = 400, sender_fault: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message)


def missing_parameter(name: str) -> ServiceError:
    return ServiceError("MissingParameter", f"The request must contain the parameter {name}.")


class ServiceUnavailable(ServiceError):
    """A retryable server-side failure (database locked, disk full, ...)."""

    def __init__(self, message: str = "Service is unavailable. Please retry.") -> None:
        super().__init__("ServiceUnavailable", message, status=503, sender_fault=False)


def not_found(message: str) -> ServiceError:
    """ResourceNotFoundException, which AWS answers with HTTP 404."""
    return ServiceError("ResourceNotFoundException", message, status=404)
