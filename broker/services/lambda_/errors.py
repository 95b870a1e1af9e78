"""The errors Lambda answers, with AWS's texts."""

from __future__ import annotations

from broker.errors import ServiceError


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def function_not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Function not found: {arn}", status=404)


def alias_not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Alias not found: {arn}", status=404)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, status=404)


def conflict(message: str) -> ServiceError:
    return ServiceError("ResourceConflictException", message, status=409)


def function_exists(name: str) -> ServiceError:
    return conflict(f"Function already exist: {name}")


def precondition_failed(message: str) -> ServiceError:
    return ServiceError("PreconditionFailedException", message, status=412)


def too_many_requests(reason: str, message: str = "Rate Exceeded.") -> ServiceError:
    return ServiceError(
        "TooManyRequestsException", message, status=429, fields={"Reason": reason, "retryAfterSeconds": "1"}
    )


def request_too_large(operation: str, limit: int) -> ServiceError:
    """AWS answers an oversized request with this code, which the model does not list (its RequestTooLargeException
    is never what the wire says)."""
    return ServiceError(
        "RequestEntityTooLargeException",
        f"Request must be smaller than {limit} bytes for the {operation} operation",
        413,
    )


def event_too_large(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "RequestEntityTooLargeException",
        f"{size} byte payload is too large for the Event invocation type (limit {limit} bytes)",
        413,
    )


def zipped_too_large(limit: int) -> ServiceError:
    return ServiceError("RequestEntityTooLargeException", f"Zipped size must be smaller than {limit} bytes", 413)


def access_denied() -> ServiceError:
    """A function ARN of another account: AWS answers 403 with a null message."""
    return ServiceError("AccessDeniedException", status=403, fields={"Message": None})


def not_authorized(message: str) -> ServiceError:
    """A verified caller of another account whom the function's policy does not grant the action."""
    return ServiceError("AccessDeniedException", message, status=403)


def region_unreachable(region: str, here: str) -> ServiceError:
    return not_found(f"Functions from '{region}' are not reachable in this region ('{here}')")


def invalid_parameter_untyped(message: str) -> ServiceError:
    """InvalidParameterValueException as the few checks send it whose document carries no "Type"."""
    return ServiceError("InvalidParameterValueException", message, fields={"Type": None})


def unsupported(operation: str) -> ServiceError:
    """An operation of the model that the broker stores nothing for (it would need AWS infrastructure)."""
    return invalid_parameter(f"{operation} is not supported by this broker.")


def execution_disabled() -> ServiceError:
    return ServiceError(
        "ServiceException",
        "Function execution is disabled on this broker (setting lambda_enabled = false).",
        status=500,
        sender_fault=False,
    )


def invalid_runtime(runtime: str) -> ServiceError:
    return invalid_parameter(
        f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. "
        "We recommend you use a supported runtime while creating or updating functions."
    )


def invalid_zip() -> ServiceError:
    return invalid_parameter("Could not unzip uploaded file. Please check your file, then try to upload again.")


def invalid_request_content(message: str) -> ServiceError:
    return ServiceError("InvalidRequestContentException", message)


# -- layers, permissions, tags, URLs, concurrency, event-invoke configs, event source mappings, code signing ------
def resource_missing() -> ServiceError:
    return not_found("The resource you requested does not exist.")


def layer_version_missing(arn: str) -> ServiceError:
    return not_found(f"Layer version {arn} does not exist.")


def layer_version_too_low() -> ServiceError:
    return invalid_parameter("Layer Version Cannot be less than 1")


def statement_exists(sid: str) -> ServiceError:
    return conflict(
        f"The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the "
        "existing statement."
    )


def statement_missing(sid: str) -> ServiceError:
    return not_found(f"Statement {sid} is not found in resource policy.")


def no_policy() -> ServiceError:
    return not_found("No policy is associated with the given resource.")


def no_policy_for(arn: str) -> ServiceError:
    return not_found(f"No policy found for: {arn}")


def revision_mismatch(api: str = "GetFunction/GetAlias") -> ServiceError:
    return precondition_failed(
        f"The Revision Id provided does not match the latest Revision Id. Call the {api} API to retrieve the "
        "latest Revision Id"
    )


def policy_too_long(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "PolicyLengthExceededException", f"The final policy size ({size}) is bigger than the limit ({limit}).", 400
    )


def invalid_principal() -> ServiceError:
    return invalid_parameter("The provided principal was invalid. Please check the principal and try again.")


def function_missing() -> ServiceError:
    """What function URL operations answer for a function (or alias) that does not exist."""
    return not_found("Function does not exist")


def function_gone() -> ServiceError:
    """What event-invoke configuration operations answer for a function (or qualifier) that does not exist."""
    return not_found("The function doesn't exist.")


def no_event_invoke_config(arn: str) -> ServiceError:
    return not_found(f"The function {arn} doesn't have an EventInvokeConfig")


def provisioned_missing() -> ServiceError:
    return ServiceError(
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
        status=404,
    )


def code_signing_missing(arn: str) -> ServiceError:
    return not_found(f"The Lambda code signing configuration {arn} can not be found.")


def code_signing_not_found(arn: str) -> ServiceError:
    return ServiceError(
        "CodeSigningConfigNotFoundException",
        f"The code signing configuration cannot be found. Check that the provided configuration is not deleted: {arn}.",
        status=404,
    )
