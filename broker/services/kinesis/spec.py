"""The Kinesis service spec: botocore's (JSON 1.1) model; errors go out as their bare shape names."""

from __future__ import annotations

from broker.protocol.spec import Handler, ServiceSpec, load_model
from broker.services.kinesis import (
    channel_operations,
    consumers,
    queue_operations,
    record_operations,
    reshard,
    stream_operations,
    stream_settings,
    subscribe,
    tagging,
)


def build() -> ServiceSpec:
    handlers: dict[str, Handler] = {
        **stream_operations.HANDLERS,
        **record_operations.HANDLERS,
        **stream_settings.HANDLERS,
        **reshard.HANDLERS,
        **consumers.HANDLERS,
        **queue_operations.HANDLERS,
        **channel_operations.HANDLERS,
        **subscribe.HANDLERS,
        **tagging.HANDLERS,
    }
    # Queue and channel requests get the model's enum check (ValidationException); the older operations answer
    # bad enum values with the InvalidArgumentException their handlers give.
    enum_checked = frozenset({*queue_operations.HANDLERS, *channel_operations.HANDLERS})
    return ServiceSpec(
        name="kinesis",
        model=load_model("kinesis"),
        handlers=handlers,
        enum_checked=enum_checked,
        refuse_nul=True,
        # Queue receives long-poll (up to 20 s): cancelled when their client hangs up.
        waiting_operations=frozenset({"ReceiveQueueRecords", "ReceiveDeadLetterQueueRecords"}),
    )
