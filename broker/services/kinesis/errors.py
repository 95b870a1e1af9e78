"""The errors Kinesis sends, each written once: codes are the Kinesis model's error shapes (ValidationException is
also one of AWS's common errors); every one is a 400 unless said otherwise. The errors that end a SubscribeToShard
event stream are here too, as the events that carry them."""

from __future__ import annotations

from broker.errors import ServiceError
from broker.protocol.base import StreamEvent


# -- by code: the message varies with the request ------------------------------------------------------------------
def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidArgumentException", message)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def in_use(message: str) -> ServiceError:
    return ServiceError("ResourceInUseException", message)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message)


def access_denied(message: str) -> ServiceError:
    """A verified caller of another account whom the stream's resource policy does not grant the action."""
    return ServiceError("AccessDeniedException", message)


def resource_not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def throughput_exceeded(message: str, sender_fault: bool = True) -> ServiceError:
    return ServiceError("ProvisionedThroughputExceededException", message, sender_fault=sender_fault)


# -- any resource ------------------------------------------------------------------------------------------------
def not_found(kind: str, what: str) -> ServiceError:
    """A consumer, queue or channel (`kind` capitalized) that does not exist: `what` is its ARN or its name."""
    return resource_not_found(f"{kind} {what} not found.")


def already_exists(kind: str, name: str, account: str) -> ServiceError:
    return in_use(f"{kind} {name} under account {account} already exists.")


def too_many_tags(kind: str, limit: int) -> ServiceError:
    return limit_exceeded(f"A {kind} cannot have more than {limit} tags.")


def invalid_next_token() -> ServiceError:
    return invalid("Invalid NextToken.")


def next_token_expired() -> ServiceError:
    return ServiceError("ExpiredNextTokenException", "The NextToken has expired.")


# -- streams -----------------------------------------------------------------------------------------------------
def stream_not_found(name: str, account: str) -> ServiceError:
    return not_found("Stream", f"{name} under account {account}")


def stream_gone() -> ServiceError:
    """The stream a write unit was about to change was deleted meanwhile."""
    return resource_not_found("The stream no longer exists.")


def stream_not_active(name: str, account: str, state: str) -> ServiceError:
    return in_use(f"Stream {name} under account {account} not ACTIVE, instead in state {state}")


def stream_being_deleted(name: str, account: str) -> ServiceError:
    return in_use(f"Stream {name} under account {account} is being deleted.")


def too_many_stream_tags(name: str, account: str, limit: int) -> ServiceError:
    return limit_exceeded(
        f"Failed to add tags to stream {name} under account {account} because a given stream cannot have more than "
        f"{limit} tags."
    )


def no_resource_policy(arn: str) -> ServiceError:
    return resource_not_found(f"No resource policy found for resource ARN {arn}.")


def shard_limit_exceeded(account: str, region: str, current: int, limit: int, more: int | None = None) -> ServiceError:
    """The account's open shard limit; CreateStream also says how many shards the request would have added."""
    message = (
        f"This request would exceed the shard limit for the account {account} in {region}. Current shard count for "
        f"the account: {current}. Limit: {limit}."
    )
    if more is not None:
        message += f" Number of additional shards that would have resulted from this request: {more}."
    return limit_exceeded(message)


def on_demand_stream_limit() -> ServiceError:
    return limit_exceeded("This request would exceed the on-demand stream limit.")


# -- shards and resharding ---------------------------------------------------------------------------------------
def no_open_shard() -> ServiceError:
    """Open shards always cover the whole hash key space: this one cannot happen."""
    return ServiceError("InternalFailure", "No open shard for the hash key.", status=500, sender_fault=False)


def shard_not_found(name: str, stream: str, account: str) -> ServiceError:
    return resource_not_found(f"Shard {name} in stream {stream} under account {account} does not exist")


def shard_not_open(name: str) -> ServiceError:
    return resource_not_found(f"Could not find shard {name}, or it is not open.")


def scale_up_limit(current: int, target: int) -> ServiceError:
    return limit_exceeded(
        f"UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: "
        f"{current} Target shard count: {target}"
    )


def scale_down_limit(current: int, target: int) -> ServiceError:
    return limit_exceeded(
        f"UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: "
        f"{current} Target shard count: {target}"
    )


# -- records -----------------------------------------------------------------------------------------------------
def missing_partition_key(where: str) -> ServiceError:
    return validation(
        f"1 validation error detected: Value null at '{where}partitionKey' failed to satisfy constraint: Member must "
        "not be null"
    )


def record_too_large(where: str, limit: int) -> ServiceError:
    return validation(
        f"1 validation error detected: Value at '{where}data' failed to satisfy constraint: Member must have length "
        f"less than or equal to {limit}"
    )


def resharding() -> ServiceError:
    """A put routed twice to shards a concurrent reshard closed (a server-side condition: retryable)."""
    return throughput_exceeded("The stream is being resharded. Please retry.", sender_fault=False)


def write_throttled(shard: str, stream: str, account: str) -> ServiceError:
    return throughput_exceeded(f"Rate exceeded for shard {shard} in stream {stream} under account {account}.")


def read_throttled(shard: str, calls: int, mib: int) -> ServiceError:
    return throughput_exceeded(
        f"Rate exceeded for shard {shard}: more than {calls} GetRecords calls or {mib} MiB per second."
    )


def iterator_expired(issued: int) -> ServiceError:
    return ServiceError("ExpiredIteratorException", f"Iterator expired. The iterator was created at time {issued}.")


def iterator_target_gone() -> ServiceError:
    return resource_not_found("The stream or shard of the ShardIterator no longer exists.")


# -- enhanced fan-out consumers ----------------------------------------------------------------------------------
def consumer_not_found(what: str) -> ServiceError:
    return not_found("Consumer", what)


def consumer_exists(name: str, stream: str) -> ServiceError:
    return in_use(f"Consumer {name} under stream {stream} already exists.")


def consumer_limit(stream: str, limit: int) -> ServiceError:
    return limit_exceeded(f"Stream {stream} already has {limit} registered consumers.")


def consumer_not_active(arn: str) -> ServiceError:
    return in_use(f"Consumer {arn} is not ACTIVE.")


def subscription_exists(consumer_arn: str, shard: str) -> ServiceError:
    return in_use(f"Another active subscription exists for consumer {consumer_arn} and shard {shard}.")


def subscription_failed() -> StreamEvent:
    """The event that ends a SubscribeToShard stream whose producer failed."""
    return StreamEvent("InternalFailureException", {"message": "Internal failure. Please resubscribe."}, error=True)


def subscription_target_gone() -> StreamEvent:
    """The event that ends a SubscribeToShard stream whose stream, shard or consumer went."""
    message: dict[str, object] = {"message": "The stream, shard or consumer no longer exists."}
    return StreamEvent("ResourceNotFoundException", message, error=True)


# -- queues and channels -----------------------------------------------------------------------------------------
def queue_not_found(arn: str) -> ServiceError:
    return not_found("Queue", arn)


def channel_not_found(arn: str) -> ServiceError:
    return not_found("Channel", arn)


def consumer_and_queue_limit(stream: str, limit: int) -> ServiceError:
    return limit_exceeded(f"Stream {stream} already has {limit} registered consumers and queues.")


def queues_changing(limit: int) -> ServiceError:
    return limit_exceeded(f"At most {limit} queues of an account and Region can be CREATING or DELETING at once.")


def queue_not_active(arn: str, state: str) -> ServiceError:
    return in_use(f"Queue {arn} is not ACTIVE, instead in state {state}.")


def queue_changed_meanwhile(arn: str) -> ServiceError:
    return in_use(f"Queue {arn} is not ACTIVE (changed meanwhile).")


def queue_creating(arn: str) -> ServiceError:
    return resource_not_found(f"Queue {arn} is not ACTIVE yet (CREATING).")


def channel_not_active(arn: str, state: str) -> ServiceError:
    return in_use(f"Channel {arn} is not ACTIVE, instead {state}.")


def channel_type_taken(stream: str, destination: str) -> ServiceError:
    return limit_exceeded(
        f"Stream {stream} already has a channel to a {destination} destination: one channel of each type per stream."
    )


# -- receipt handles (per entry of the batch operations of queues) -----------------------------------------------
def receipt_invalid() -> ServiceError:
    return invalid("The receipt handle is not valid.")


def receipt_other_path(receive_operation: str) -> ServiceError:
    return invalid(f"The receipt handle was not issued by {receive_operation}.")


def receipt_other_queue() -> ServiceError:
    return invalid("The receipt handle was issued by a different queue.")


def receipt_stale() -> ServiceError:
    return invalid("The receipt handle has expired: the record was received again since, or the queue was deleted.")


def receipt_not_in_flight() -> ServiceError:
    return invalid(
        "The record is not in flight under this receipt handle: its visibility timeout passed, or it was received "
        "again."
    )
