"""The errors CloudWatch Logs sends, each written once: codes are the Logs model's error shapes; every one is a 400.
AWS answers bad input with InvalidParameterException (its validation messages included), so the spec uses that
code for the generic checks too."""

from __future__ import annotations

from broker.errors import ServiceError

MISSING_TEMPLATE = (
    "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
)


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def already_exists(message: str) -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", message)


# -- log groups and streams ----------------------------------------------------------------------------------------
def group_not_found() -> ServiceError:
    return not_found("The specified log group does not exist.")


def stream_not_found() -> ServiceError:
    return not_found("The specified log stream does not exist.")


def resource_not_found() -> ServiceError:
    """A tagging ARN that names no log group of this account and Region."""
    return not_found("The specified resource does not exist.")


def group_exists() -> ServiceError:
    return already_exists("The specified log group already exists")


def stream_exists() -> ServiceError:
    return already_exists("The specified log stream already exists")


def reserved_group_name() -> ServiceError:
    return invalid("Log groups starting with AWS/ are reserved for AWS.")


def deletion_protected(name: str) -> ServiceError:
    return validation(
        f"Log group {name} has deletion protection enabled. Disable deletion protection before deleting it or its "
        "log streams."
    )


def name_and_identifier() -> ServiceError:
    return validation("LogGroup name and LogGroup ARN are mutually exclusive parameters.")


def name_or_identifier() -> ServiceError:
    return invalid("Either logGroupName or logGroupIdentifier must be specified.")


def invalid_identifier(identifier: str) -> ServiceError:
    return invalid(f"Invalid logGroupIdentifier: {identifier}")


def invalid_arn(arn: str) -> ServiceError:
    return invalid(f"Invalid ARN: {arn}")


def prefix_and_pattern() -> ServiceError:
    return invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")


def order_with_prefix() -> ServiceError:
    return invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")


def names_and_prefix() -> ServiceError:
    return invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")


def retention_days(value: int, allowed: tuple[int, ...]) -> ServiceError:
    return invalid(
        f"1 validation error detected: Value '{value}' at 'retentionInDays' failed to satisfy constraint: Member "
        f"must satisfy enum value set: [{', '.join(str(d) for d in allowed)}]"
    )


def too_many_tags(arn: str, limit: int) -> ServiceError:
    return ServiceError(
        "TooManyTagsException",
        f"A resource can have no more than {limit} tags.",
        fields={"resourceName": arn},
    )


def too_many_group_tags(limit: int) -> ServiceError:
    """TagLogGroup's (the legacy operation has no TooManyTagsException)."""
    return invalid(f"A log group can have no more than {limit} tags.")


def invalid_next_token() -> ServiceError:
    return invalid("The specified nextToken is invalid.")


# -- log events ----------------------------------------------------------------------------------------------------
def not_chronological() -> ServiceError:
    return invalid("Log events in a single PutLogEvents request must be in chronological order.")


def span_over_24_hours() -> ServiceError:
    return invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")


def event_too_large(size: int, limit: int) -> ServiceError:
    return invalid(f"Log event too large: {size} bytes exceeds limit of {limit}")


def upload_too_large(size: int, limit: int) -> ServiceError:
    return invalid(f"Upload too large: {size} bytes exceeds limit of {limit}")


def descending_before_2024() -> ServiceError:
    return invalid("startFromHead=false is supported only when startTime is on or after Jan 1, 2024 00:00:00 UTC.")


def invalid_filter_pattern() -> ServiceError:
    return invalid("Invalid filter pattern")
