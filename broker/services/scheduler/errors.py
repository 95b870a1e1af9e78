"""The errors EventBridge Scheduler sends, each written once (codes are the scheduler model's error shapes:
ValidationException 400, ResourceNotFoundException 404, ConflictException 409)."""

from __future__ import annotations

from broker.errors import ServiceError


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, status=404)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, status=409)


def schedule_not_found(name: str) -> ServiceError:
    return not_found(f"Schedule {name} does not exist.")


def group_not_found(name: str) -> ServiceError:
    return not_found(f"Schedule group {name} does not exist.")


def schedule_exists(name: str) -> ServiceError:
    return conflict(f"Schedule {name} already exists.")


def group_exists(name: str) -> ServiceError:
    return conflict(f"Schedule group {name} already exists.")


def group_deleting(name: str) -> ServiceError:
    return conflict(f"Schedule group {name} is being deleted.")


def default_group_undeletable() -> ServiceError:
    return validation("Cannot delete the default schedule group.")


def invalid_expression(expression: str) -> ServiceError:
    return validation(f"Invalid Schedule Expression {expression}.")


def invalid_timezone(zone: str) -> ServiceError:
    return validation(f"Invalid timezone {zone}.")


def end_before_start() -> ServiceError:
    return validation("The EndDate must be after the StartDate.")


def end_in_past() -> ServiceError:
    return validation("The EndDate must be in the future.")


def start_too_early() -> ServiceError:
    return validation("The StartDate you specify cannot be earlier than 5 minutes ago.")


def window_required() -> ServiceError:
    return validation("MaximumWindowInMinutes must be provided when FlexibleTimeWindow Mode is FLEXIBLE.")


def window_not_allowed() -> ServiceError:
    return validation("MaximumWindowInMinutes must not be provided when FlexibleTimeWindow Mode is OFF.")


def invalid_input(arn: str) -> ServiceError:
    return validation(f"Invalid target input for {arn}: the input must be well-formed JSON.")


def invalid_target(arn: str) -> ServiceError:
    return validation(f"Invalid target {arn}.")


def unsupported_action(arn: str) -> ServiceError:
    return validation(f"The target API action of {arn} is not supported: read-only actions cannot be targets.")


def unsupported_service(arn: str, service: str) -> ServiceError:
    return validation(f"Invalid target {arn}: {service} is not an AWS SDK service identifier this endpoint serves.")


def unknown_action(arn: str, service: str, action: str) -> ServiceError:
    return validation(f"Invalid target {arn}: {service} has no API action {action}.")


def unsupported_templated_target(arn: str) -> ServiceError:
    return validation(f"Invalid target {arn}: this endpoint delivers to SQS, SNS, Lambda, Kinesis and EventBridge.")


def event_bus_parameters_required(arn: str) -> ServiceError:
    return validation(f"EventBridgeParameters must be provided for the event bus target {arn}.")


def invalid_next_token() -> ServiceError:
    return validation("The NextToken provided is invalid.")


def invalid_arn(arn: str) -> ServiceError:
    return validation(f"Invalid ARN {arn}.")


def too_many_tags() -> ServiceError:
    return validation("Too many tags: a schedule group can have at most 200 tags.")
