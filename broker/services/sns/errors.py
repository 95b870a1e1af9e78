"""SNS errors as AWS spells them (codes and HTTP statuses from the service model's error shapes): every error the
service sends is built here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from broker.errors import ServiceError


def authorization_error(message: str) -> ServiceError:
    """A verified caller the topic's policy does not let act (another account, or an explicit Deny)."""
    return ServiceError("AuthorizationError", message, status=403)


# -- InvalidParameter / ParameterValueInvalid ----------------------------------------------------------------------
def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameter", f"Invalid parameter: {message}")


def invalid_parameter_value(message: str) -> ServiceError:
    return ServiceError("ParameterValueInvalid", message)


def invalid_parameter_bare(message: str) -> ServiceError:
    """InvalidParameter whose message AWS words without the "Invalid parameter: " prefix (SMS endpoints and
    settings, confirmation tokens)."""
    return ServiceError("InvalidParameter", message)


def in_attributes(err: ServiceError) -> ServiceError:
    """A subscription attribute's error as Subscribe words it: "Invalid parameter: Attributes Reason: <reason>"
    (SetSubscriptionAttributes says "Invalid parameter: <reason>")."""
    prefix = "Invalid parameter: "
    if err.code != "InvalidParameter" or not err.message.startswith(prefix):
        return err
    return invalid_parameter(f"Attributes Reason: {err.message[len(prefix) :]}")


def null_member(path: str) -> ServiceError:
    """AWS's request validation of a member the request leaves out (`path` in AWS's spelling, e.g. 'attributes' or
    'messageAttributes.a.member.dataType')."""
    return ServiceError(
        "ValidationError",
        f"1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null",
    )


def invalid_sms_endpoint(endpoint: str) -> ServiceError:
    return invalid_parameter_bare(f"Invalid SMS endpoint: {endpoint}")


def arn_too_short(member: str, parts: int) -> ServiceError:
    return invalid_parameter(f"{member} Reason: An ARN must have at least 6 elements, not {parts}")


def invalid_filter_policy(reason: str) -> ServiceError:
    return invalid_parameter(f"FilterPolicy: {reason}")


def invalid_filter_policy_scope(scope: str) -> ServiceError:
    return invalid_parameter(
        f"FilterPolicyScope: Invalid value [{scope}]. Please use either MessageBody or MessageAttributes"
    )


def nested_filter_policy_in_attribute_scope() -> ServiceError:
    return invalid_parameter("Filter policy scope MessageAttributes does not support nested filter policy")


def endpoint_token_taken(endpoint_arn: str) -> ServiceError:
    """CreatePlatformEndpoint with the token of an existing endpoint whose attributes differ."""
    return invalid_parameter(
        f"Token Reason: Endpoint {endpoint_arn} already exists with the same Token, but different attributes."
    )


def no_target_endpoint() -> ServiceError:
    return invalid_parameter("TargetArn Reason: No endpoint found for the target arn specified")


# -- NotFound / ResourceNotFound -----------------------------------------------------------------------------------
def not_found(message: str) -> ServiceError:
    return ServiceError("NotFound", message, status=404)


def topic_not_found() -> ServiceError:
    return not_found("Topic does not exist")


def subscription_not_found() -> ServiceError:
    return not_found("Subscription does not exist")


def app_not_found() -> ServiceError:
    return not_found("PlatformApplication does not exist")


def endpoint_not_found() -> ServiceError:
    return not_found("Endpoint does not exist")


def resource_not_found(message: str = "Resource does not exist") -> ServiceError:
    return ServiceError("ResourceNotFound", message, status=404)


def tag_limit_exceeded() -> ServiceError:
    return ServiceError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")


# -- PublishBatch ----------------------------------------------------------------------------------------------------
def empty_batch() -> ServiceError:
    return ServiceError("EmptyBatchRequest", "The batch request doesn't contain any entries.")


def too_many_batch_entries() -> ServiceError:
    return ServiceError("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.")


def invalid_batch_entry_id(entry_id: str, too_long: bool) -> ServiceError:
    problem = "is too long" if too_long else "contains an impermissible character"
    return ServiceError("InvalidBatchEntryId", f"The Id of a batch entry in the batch request {problem}: {entry_id}")


def batch_entry_ids_not_distinct() -> ServiceError:
    return ServiceError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")


def batch_too_long() -> ServiceError:
    return ServiceError("BatchRequestTooLong", "The length of all the messages put together is more than the limit.")


# -- mobile push -----------------------------------------------------------------------------------------------------
def platform_application_disabled() -> ServiceError:
    return ServiceError("PlatformApplicationDisabled", "Platform application is disabled")


def endpoint_disabled() -> ServiceError:
    return ServiceError("EndpointDisabled", "Endpoint is disabled")


# -- SMS -------------------------------------------------------------------------------------------------------------
def opted_out(phone: str) -> ServiceError:
    return ServiceError("OptedOut", f"Phone number {phone} is opted out of receiving SMS messages from this account")


def user_error(message: str) -> ServiceError:
    return ServiceError("UserError", message)


def wrong_one_time_password() -> ServiceError:
    return ServiceError("VerificationException", "Invalid one-time password")


# -- helpers ---------------------------------------------------------------------------------------------------------
T = TypeVar("T")


def require(found: T | None, missing: Callable[[], ServiceError]) -> T:
    """`found`, or the error `missing` builds when there is nothing (a lookup that came back empty)."""
    if found is None:
        raise missing()
    return found
