"""Event patterns and TestEventPattern's events: patterns use the broker's one pattern grammar
(sns.filter_policy.event_pattern); a pattern it refuses is InvalidEventPatternException with its reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from broker.errors import ServiceError
from broker.services.events.errors import invalid_event, invalid_pattern
from broker.services.sns.filter_policy import event_pattern

# TestEventPattern: the fields every event must have (API reference).
EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")
_REASON_PREFIX = "Invalid parameter: FilterPolicy: "


def _document(text: str) -> Any:
    # Numbers as ints or Decimals: what the pattern grammar compares.
    return json.loads(text, parse_float=Decimal)


def compile_pattern(text: str) -> Callable[[dict[str, Any]], bool]:
    try:
        document = _document(text)
    except ValueError:
        raise invalid_pattern("Filter is not valid JSON") from None
    if not isinstance(document, dict):
        raise invalid_pattern("Filter is not an object")
    try:
        return event_pattern(document)
    except ServiceError as e:
        raise invalid_pattern(e.message.removeprefix(_REASON_PREFIX)) from None
    except (ValueError, TypeError, RecursionError) as e:
        raise invalid_pattern(str(e)) from None


def parse_event(text: str) -> dict[str, Any]:
    try:
        event = _document(text)
    except (ValueError, RecursionError):
        raise invalid_event() from None
    if not isinstance(event, dict) or any(f not in event for f in EVENT_FIELDS):
        raise invalid_event()
    if not isinstance(event["resources"], list):
        raise invalid_event()
    return event
