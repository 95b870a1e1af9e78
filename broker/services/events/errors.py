"""The errors EventBridge sends, each written once: codes are the events model's error shapes; every one is a 400."""

from __future__ import annotations

from broker.errors import ServiceError


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def bus_not_found(bus: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Event bus {bus} does not exist.")


def rule_not_found(rule: str, bus: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Rule {rule} does not exist on EventBus {bus}.")


def bus_exists(bus: str) -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", f"Event bus {bus} already exists.")


def default_bus_undeletable() -> ServiceError:
    return validation("Cannot delete event bus default.")


def pattern_or_schedule() -> ServiceError:
    return validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")


def schedule_on_custom_bus() -> ServiceError:
    return validation("ScheduleExpression is supported only on the default event bus.")


def invalid_schedule() -> ServiceError:
    return validation("Parameter ScheduleExpression is not valid.")


def invalid_pattern(reason: str) -> ServiceError:
    return ServiceError("InvalidEventPatternException", f"Event pattern is not valid. Reason: {reason}")


def invalid_event() -> ServiceError:
    return validation("Parameter Event is not valid.")


def rule_has_targets() -> ServiceError:
    return validation("Rule can't be deleted since it has targets.")


def limit_exceeded() -> ServiceError:
    """More than a quota allows (targets per rule, tags per resource)."""
    return ServiceError("LimitExceededException", "The requested resource exceeds the maximum number allowed.")


def invalid_input(target_id: str, reason: str) -> ServiceError:
    return validation(f"JSON syntax error in input for target {target_id}: {reason}")


def invalid_input_path(target_id: str) -> ServiceError:
    return validation(f"InputPath for target {target_id} is invalid.")


def invalid_arn(arn: str) -> ServiceError:
    return validation(f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format.")


def invalid_next_token() -> ServiceError:
    return validation("The NextToken provided is invalid.")


# -- connections, API destinations, archives and replays ------------------------------------------------------------
def connection_exists(name: str) -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", f"Connection {name} already exists.")


def connection_not_found(name: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException", f"Failed to describe the connection(s). Connection '{name}' does not exist."
    )


def api_destination_exists(name: str) -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", f"An api-destination '{name}' already exists.")


def api_destination_not_found(name: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"Failed to describe the api-destination(s). An api-destination '{name}' does not exist.",
    )


def archive_exists(name: str) -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", f"Archive {name} already exists.")


def archive_not_found(name: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Archive {name} does not exist.")


def replay_exists(name: str) -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", f"Replay {name} already exists.")


def replay_not_found(name: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Replay {name} does not exist.")


def replay_not_cancellable(name: str) -> ServiceError:
    return ServiceError("IllegalStatusException", f"Replay {name} is not in a valid state for this operation.")


def invalid_parameter(member: str, reason: str) -> ServiceError:
    return validation(f"Parameter {member} is not valid. Reason: {reason}")


def policy_too_long() -> ServiceError:
    return ServiceError("PolicyLengthExceededException", "Policy exceeds the maximum allowed size of 10240 bytes.")


def no_bus_policy() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "EventBus does not have a policy.")


def no_policy_statement() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "Statement with the provided id does not exist.")
