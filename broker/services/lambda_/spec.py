"""The Lambda service spec: rest-json, error documents as Lambda writes them ({"Type": "User", "Message": ...})."""

from __future__ import annotations

import copy
from typing import Any

from botocore.model import ServiceModel

from broker.protocol.spec import Handler, ServiceSpec, load_model
from broker.services.lambda_ import (
    alias_operations,
    function_operations,
    invoke_operations,
    other_operations,
)

# Constraints the operations check themselves because AWS words their failures differently from the generic
# validator: Runtime's enum (InvalidParameterValueException listing the runtimes one can still create, in
# functions.check_runtime) and the routing weights' keys and values (one failure for the whole map, in
# alias_operations).
_OWN_CHECKS = {"Runtime": ("enum",), "AdditionalVersion": ("min", "max", "pattern"), "Weight": ("min", "max")}


def handlers() -> dict[str, Handler]:
    table: dict[str, Any] = {}
    for module in (function_operations, alias_operations, invoke_operations, other_operations):
        table.update(module.HANDLERS)
    return table


def model() -> ServiceModel:
    """botocore's model without the constraints the operations check (the shared model stays as loaded)."""
    description = copy.deepcopy(load_model("lambda")._service_description)
    for shape, keys in _OWN_CHECKS.items():
        for key in keys:
            description["shapes"][shape].pop(key, None)
    return ServiceModel(description, service_name="lambda")


def build() -> ServiceSpec:
    return ServiceSpec(
        name="lambda",
        model=model(),
        handlers=handlers(),
        rest_error_type=True,
        rest_error_message_key="Message",
        waiting_operations=frozenset({"Invoke", "InvokeWithResponseStream"}),
        # Enum members of these are checked against the model (ValidationException); the other groups check their
        # own where AWS's text differs.
        enum_checked=frozenset(function_operations.HANDLERS) | frozenset(invoke_operations.HANDLERS),
        validation_names="camel",
        refuse_nul=True,  # PostgreSQL text cannot hold NUL; AWS's patterns refuse it anyway
    )
