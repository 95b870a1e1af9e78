"""The EventBridge service spec: botocore's "events" model (JSON 1.1, X-Amz-Target `AWSEvents.<Op>`). Operations
of the model without a handler answer the layer's 501 (PutEvents, archives, connections, ... come in later slices)."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from botocore.loaders import Loader
from botocore.model import ServiceModel

from broker.protocol.spec import Handler, ServiceSpec
from broker.services.events import (
    api_destination_operations,
    archive_operations,
    bus_operations,
    connection_operations,
    event_operations,
    permission_operations,
    replay_operations,
    rule_operations,
    tagging,
    target_operations,
)

# Java regex classes in the model that Python's re does not take (RunCommandTargetKey).
_JAVA_SYNTAX = ((r"\p{L}", r"\w"), (r"\p{N}", r"\d"), (r"\p{Z}", r"\s"))


@cache
def model() -> ServiceModel:
    raw: dict[str, Any] = copy.deepcopy(Loader().load_service_model("events", "service-2"))
    for shape in raw["shapes"].values():
        if "pattern" in shape:
            for java, python in _JAVA_SYNTAX:
                shape["pattern"] = shape["pattern"].replace(java, python)
    return ServiceModel(raw, service_name="events")


def build() -> ServiceSpec:
    handlers: dict[str, Handler] = {
        **bus_operations.HANDLERS,
        **permission_operations.HANDLERS,
        **rule_operations.HANDLERS,
        **target_operations.HANDLERS,
        **tagging.HANDLERS,
        **event_operations.HANDLERS,
        **connection_operations.HANDLERS,
        **api_destination_operations.HANDLERS,
        **archive_operations.HANDLERS,
        **replay_operations.HANDLERS,
    }
    return ServiceSpec(
        name="events",
        model=model(),
        handlers=handlers,
        enum_checked=frozenset(handlers),
        # AWS's validation messages name members in camel case ("Value '...' at 'rule' failed to satisfy ...").
        validation_names="camel",
        # PostgreSQL text cannot hold NUL: such a member is refused like any other malformed one.
        refuse_nul=True,
    )
