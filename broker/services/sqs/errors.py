"""The errors SQS sends, each written once (codes are the model's error shapes or AWS's common errors).

Modules of this service raise these functions' results and never build a `ServiceError` themselves. The legacy
query-protocol spelling of each code is in `wire.py`.
"""

from __future__ import annotations

from broker.errors import ServiceError, invalid_parameter_value, missing_parameter

__all__ = [
    "access_denied",
    "batch_entry_ids_not_distinct",
    "batch_request_too_long",
    "deduplication_id_required",
    "empty_batch_request",
    "invalid_attribute_name",
    "invalid_attribute_value",
    "invalid_batch_entry_id",
    "invalid_message_contents",
    "invalid_next_token",
    "invalid_parameter",
    "invalid_value",
    "message_not_inflight",
    "missing_parameter",
    "move_task_running",
    "purge_queue_in_progress",
    "queue_deleted_recently",
    "queue_does_not_exist",
    "queue_name_exists",
    "receipt_handle_expired",
    "receipt_handle_is_invalid",
    "resource_not_found",
    "source_arn_not_found",
    "task_not_found",
    "too_many_entries_in_batch_request",
    "too_many_tags",
    "unknown_attribute",
]

invalid_parameter = invalid_parameter_value


def invalid_value(parameter: str, value: object, reason: str) -> ServiceError:
    """InvalidParameterValue in AWS's most common wording: the value, the parameter, the reason."""
    return invalid_parameter(f"Value {value} for parameter {parameter} is invalid. Reason: {reason}")


# -- queues ------------------------------------------------------------------------------------------------------
def access_denied(message: str) -> ServiceError:
    """A verified caller the queue's policy does not let act (sent as AccessDenied on the query protocol)."""
    return ServiceError("AccessDeniedException", message, 403)


def queue_does_not_exist() -> ServiceError:
    return ServiceError("QueueDoesNotExist", "The specified queue does not exist.")


def queue_name_exists(attribute: str) -> ServiceError:
    return ServiceError(
        "QueueNameExists",
        f"A queue already exists with the same name and a different value for attribute {attribute}",
    )


def queue_deleted_recently() -> ServiceError:
    return ServiceError(
        "QueueDeletedRecently",
        "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
    )


def purge_queue_in_progress() -> ServiceError:
    return ServiceError(
        "PurgeQueueInProgress", "Only one PurgeQueue operation on each queue is allowed every 60 seconds."
    )


def invalid_attribute_name(message: str) -> ServiceError:
    return ServiceError("InvalidAttributeName", message)


def unknown_attribute(name: str) -> ServiceError:
    """A queue or message system attribute name SQS does not know (or not for this queue type)."""
    return invalid_attribute_name(f"Unknown Attribute {name}.")


def invalid_attribute_value(message: str) -> ServiceError:
    return ServiceError("InvalidAttributeValue", message)


def invalid_next_token() -> ServiceError:
    return invalid_parameter("Invalid NextToken value.")


def too_many_tags() -> ServiceError:
    return invalid_parameter("Too many tags added for queue. Maximum is 50.")


# -- messages ----------------------------------------------------------------------------------------------------
def invalid_message_contents() -> ServiceError:
    return ServiceError(
        "InvalidMessageContents",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
        "#xE000 to #xFFFD | #x10000 to #x10FFFF",
    )


def deduplication_id_required() -> ServiceError:
    """A message for a FIFO queue without ContentBasedDeduplication and without MessageDeduplicationId."""
    return invalid_parameter(
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    )


def receipt_handle_is_invalid(handle: str) -> ServiceError:
    return ServiceError("ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.')


def receipt_handle_expired(handle: str) -> ServiceError:
    """A FIFO queue's receipt handle whose visibility timeout ran out."""
    return invalid_value("ReceiptHandle", handle, "The receipt handle has expired.")


def message_not_inflight() -> ServiceError:
    return ServiceError("MessageNotInflight", "The message referred to isn't in flight.")


# -- batches -----------------------------------------------------------------------------------------------------
def empty_batch_request(entry_shape: str) -> ServiceError:
    return ServiceError("EmptyBatchRequest", f"There should be at least one {entry_shape} in the request.")


def too_many_entries_in_batch_request(count: int) -> ServiceError:
    return ServiceError(
        "TooManyEntriesInBatchRequest", f"Maximum number of entries per request are 10. You have sent {count}."
    )


def invalid_batch_entry_id() -> ServiceError:
    return ServiceError(
        "InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 "
        "letters long.",
    )


def batch_entry_ids_not_distinct(entry_id: str) -> ServiceError:
    return ServiceError("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")


def batch_request_too_long(limit: int, total: int) -> ServiceError:
    return ServiceError(
        "BatchRequestTooLong", f"Batch requests cannot be longer than {limit} bytes. You have sent {total} bytes."
    )


# -- message move tasks ------------------------------------------------------------------------------------------
def resource_not_found(message: str) -> ServiceError:
    """ResourceNotFoundException (move tasks), which AWS answers with HTTP 404."""
    return ServiceError("ResourceNotFoundException", message, status=404)


def source_arn_not_found() -> ServiceError:
    return resource_not_found("The resource that you specified for the SourceArn parameter doesn't exist.")


def task_not_found() -> ServiceError:
    """CancelMessageMoveTask of a handle whose source queue exists but whose task does not."""
    return resource_not_found("Task does not exist.")


def move_task_running() -> ServiceError:
    return invalid_parameter(
        "There is already a task running. Only one active task is allowed for a source queue arn at a given time."
    )
