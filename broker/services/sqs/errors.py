"""The errors SQS sends, each written once (codes are the model's error shapes or AWS's common errors)."""

from __future__ import annotations

from broker.errors import ServiceError, invalid_parameter_value, missing_parameter

__all__ = ["invalid_parameter", "missing_parameter", "resource_not_found"]

invalid_parameter = invalid_parameter_value


def resource_not_found(message: str) -> ServiceError:
    """ResourceNotFoundException (move tasks), which AWS answers with HTTP 404."""
    return ServiceError("ResourceNotFoundException", message, status=404)


def too_many_tags() -> ServiceError:
    return ServiceError("InvalidParameterValue", "Too many tags added for queue. Maximum is 50.")
