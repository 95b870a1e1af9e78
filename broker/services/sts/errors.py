"""STS errors as AWS spells them (codes and HTTP statuses from the model's error shapes and AWS's answers): every
error the service sends is built here; request validation's ValidationError comes from IAM's (the same frontend)."""

from __future__ import annotations

from broker.errors import ServiceError


def not_authorized(caller_arn: str, action: str, resource: str) -> ServiceError:
    """AssumeRole of a role that does not exist or whose trust policy does not allow the caller (AWS does not tell
    the two apart)."""
    return ServiceError(
        "AccessDenied", f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}", 403
    )


def session_credentials(operation: str) -> ServiceError:
    return ServiceError("AccessDenied", f"Cannot call {operation} with session credentials", 403)


def invalid_arn(arn: str) -> ServiceError:
    return ServiceError("ValidationError", f"{arn} is invalid")


def exceeds_max_session() -> ServiceError:
    return ServiceError(
        "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )


def exceeds_chaining_limit() -> ServiceError:
    return ServiceError(
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    )


def duplicate_tag_keys() -> ServiceError:
    return ServiceError(
        "InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive."
    )


def transitive_key_not_tagged() -> ServiceError:
    return ServiceError(
        "InvalidParameterValue", "The specified transitive tag key must be included in the requested tags."
    )


def packed_policy_too_large(percent: int) -> ServiceError:
    return ServiceError(
        "PackedPolicyTooLarge", f"Packed policy consumes {percent}% of allotted space, please use smaller policy."
    )
