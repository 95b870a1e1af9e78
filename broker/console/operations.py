"""Runs a service operation for the console exactly as the gateway does after decoding: the input is converted and
checked against the operation's input shape (`protocol.spec.InputConverter`, as every protocol's `decode` does), then
the operation's own handler runs. No second code path: the console obeys the same validation and storage rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker import errors
from broker.context import RequestContext
from broker.protocol.base import EventStream
from broker.protocol.spec import InputConverter, ServiceSpec


class Operations:
    """The served specs by signing name, and the call of one operation."""

    def __init__(self, specs: list[ServiceSpec]) -> None:
        self.specs = {spec.name: spec for spec in specs}

    async def call(self, ctx: RequestContext, service: str, operation: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """The operation's result; its ServiceError (AWS code and message) propagates to the caller."""
        spec = self.specs.get(service)
        op = spec.operation(operation) if spec is not None else None
        if spec is None or op is None:
            raise errors.unknown_operation(f"Unknown operation {service}.{operation}.")
        converter = InputConverter(spec, textual=False, enums=operation in spec.enum_checked)
        params = converter.convert(op.input_shape, dict(data))
        result = await spec.handlers[operation](ctx, params)
        if isinstance(result, EventStream):  # no console action streams; close what was opened
            aclose = getattr(result.events, "aclose", None)
            if aclose is not None:
                await aclose()
            return {}
        return result or {}

    async def pages(
        self,
        ctx: RequestContext,
        service: str,
        operation: str,
        data: Mapping[str, Any],
        key: str,
        token_in: str,
        token_out: str,
        limit: int = 1000,
    ) -> list[Any]:
        """The items under `key` of every page of a listing operation, up to `limit` items."""
        items: list[Any] = []
        request = dict(data)
        while len(items) < limit:
            result = await self.call(ctx, service, operation, request)
            items.extend(result.get(key) or [])
            token = result.get(token_out)
            if not token:
                break
            request[token_in] = token
        return items[:limit]
