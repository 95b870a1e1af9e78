"""Request validation on the data plane (placeholder until validators are applied)."""

from __future__ import annotations

from broker.services.apigateway.call import Call


def validate(call: Call) -> None:
    """Apply the method's request validator: required parameters, the body against its model's JSON Schema."""
    return None
