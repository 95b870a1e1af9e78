"""The handler table of Lambda's other operation groups (layers, permissions, tags, function URLs, concurrency,
event-invoke configurations, event source mappings, account settings, and the model's remaining operations).

Not in the table (answered by the protocol layer as not implemented): capacity providers and durable executions,
which need AWS infrastructure this broker does not have."""

from __future__ import annotations

from broker.protocol.spec import Handler
from broker.services.lambda_ import (
    concurrency_operations,
    event_invoke_operations,
    layer_operations,
    mapping_operations,
    permission_operations,
    settings_operations,
    signing_operations,
    tag_operations,
    url_operations,
)

HANDLERS: dict[str, Handler] = {}
for _module in (
    layer_operations,
    permission_operations,
    tag_operations,
    url_operations,
    concurrency_operations,
    event_invoke_operations,
    mapping_operations,
    signing_operations,
    settings_operations,
):
    HANDLERS.update(_module.HANDLERS)
