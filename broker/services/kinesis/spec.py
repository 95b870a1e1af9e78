"""The Kinesis service spec: botocore's (JSON 1.1) model; errors go out as their bare shape names."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec, load_model
from broker.services.kinesis import channels, consumers, queues, subscribe, tagging
from broker.services.kinesis.operations import HANDLERS


def build() -> ServiceSpec:
    handlers = {
        **HANDLERS,
        **consumers.HANDLERS,
        **queues.HANDLERS,
        **channels.HANDLERS,
        **subscribe.HANDLERS,
        **tagging.HANDLERS,
    }
    # Queue and channel requests get the model's enum check (ValidationException); the older operations answer
    # bad enum values with the InvalidArgumentException their handlers give.
    enum_checked = frozenset({*queues.HANDLERS, *channels.HANDLERS})
    return ServiceSpec(
        name="kinesis",
        model=load_model("kinesis"),
        handlers=handlers,
        enum_checked=enum_checked,
        refuse_nul=True,
        # Queue receives long-poll (up to 20 s): cancelled when their client hangs up.
        waiting_operations=frozenset({"ReceiveQueueRecords", "ReceiveDeadLetterQueueRecords"}),
    )
