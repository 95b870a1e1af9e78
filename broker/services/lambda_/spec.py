"""The Lambda service spec: rest-json, error documents as Lambda writes them ({"Type": "User", "Message": ...})."""

from __future__ import annotations

from typing import Any

from broker.protocol.spec import Handler, ServiceSpec, load_model
from broker.services.lambda_ import (
    alias_operations,
    function_operations,
    invoke_operations,
    other_operations,
)


def handlers() -> dict[str, Handler]:
    table: dict[str, Any] = {}
    for module in (function_operations, alias_operations, invoke_operations, other_operations):
        table.update(module.HANDLERS)
    return table


def build() -> ServiceSpec:
    return ServiceSpec(
        name="lambda",
        model=load_model("lambda"),
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
