"""String length bounds of API Gateway v2's inputs: the model names them in its shape names
(`StringWithLengthBetween1And128`, `UriWithLengthBetween1And2048`, `...0And32K`) but carries no min/max for them,
so the generic validator cannot check them; `checked` wraps each handler with the check, answered as API Gateway's
validation errors (BadRequestException)."""

from __future__ import annotations

import re
from typing import Any

from botocore.model import Shape

from broker.context import RequestContext
from broker.protocol.spec import Handler
from broker.services.apigatewayv2 import errors

BOUNDS = re.compile(r"^(?:String|Uri)WithLengthBetween(\d+)And(\d+)(K?)$")
MAX_DEPTH = 16


def _bounds(shape: Shape) -> tuple[int, int] | None:
    m = BOUNDS.match(shape.name)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)) * (1024 if m.group(3) else 1)


def check(shape: Shape, value: Any, name: str, depth: int = 0) -> None:
    """Raise BadRequestException for the first string of `value` (as converted for `shape`) out of its bounds."""
    if depth > MAX_DEPTH or value is None:
        return
    t = shape.type_name
    if t == "string" and isinstance(value, str):
        bounds = _bounds(shape)
        if bounds is None:
            return
        lo, hi = bounds
        if len(value) < lo:
            raise errors.bad_request(
                f"1 validation error detected: Value at '{name}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {lo}"
            )
        if len(value) > hi:
            raise errors.bad_request(
                f"1 validation error detected: Value at '{name}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {hi}"
            )
    elif t == "structure" and isinstance(value, dict):
        for member, mshape in shape.members.items():
            if member in value:
                check(mshape, value[member], f"{name}.{member}" if name else member, depth + 1)
    elif t == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            check(shape.member, item, f"{name}.{i + 1}", depth + 1)
    elif t == "map" and isinstance(value, dict):
        for key, item in value.items():
            if item == "" and shape.name == "IntegrationParameters":
                continue  # an HTTP API parameter mapping given "" is one UpdateIntegration removes
            check(shape.value, item, f"{name}.{key}", depth + 1)


def checked(shape: Shape | None, handler: Handler) -> Handler:
    if shape is None:
        return handler

    async def run(ctx: RequestContext, p: dict[str, Any]) -> Any:
        check(shape, p, "")
        return await handler(ctx, p)

    return run
