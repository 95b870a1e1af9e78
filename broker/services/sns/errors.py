"""SNS errors as AWS spells them (codes and HTTP statuses from the service model's error shapes)."""

from __future__ import annotations

from broker.errors import ServiceError


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameter", f"Invalid parameter: {message}")


def invalid_parameter_value(message: str) -> ServiceError:
    return ServiceError("ParameterValueInvalid", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFound", message, status=404)


def topic_not_found() -> ServiceError:
    return not_found("Topic does not exist")


def subscription_not_found() -> ServiceError:
    return not_found("Subscription does not exist")


def resource_not_found(message: str = "Resource does not exist") -> ServiceError:
    return ServiceError("ResourceNotFound", message, status=404)


def tag_limit_exceeded() -> ServiceError:
    return ServiceError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")
