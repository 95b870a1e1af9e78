"""FilterCriteria of event source mappings: a record reaches the function when any of the mapping's patterns
matches it. The patterns see the record as the function would, with the payload read as JSON when it is JSON (an
SQS message's `body`, a Kinesis record's base64 `data`) and as the plain string otherwise."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from broker.errors import ServiceError
from broker.services.sns.filter_policy import event_pattern

Test = Callable[[dict[str, Any]], bool]


def compile_criteria(criteria: dict[str, Any] | None) -> list[Test] | None:
    """The mapping's patterns; None when it has none (every record passes). Raises ValueError for a pattern the
    grammar refuses."""
    filters = (criteria or {}).get("Filters") or []
    if not filters:
        return None
    tests = []
    for f in filters:
        try:
            document = json.loads(f.get("Pattern") or "", parse_float=Decimal)
            if not isinstance(document, dict):
                raise ValueError("not an object")
            tests.append(event_pattern(document))
        except ServiceError as e:
            raise ValueError(e.message) from None
        except RecursionError:
            raise ValueError("too deep") from None
    return tests


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        return text


def sqs_view(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "body": _json_or_text(record["body"])}


def kinesis_view(record: dict[str, Any]) -> dict[str, Any]:
    kinesis = record["kinesis"]
    try:
        data: Any = _json_or_text(base64.b64decode(kinesis["data"]).decode())
    except (binascii.Error, UnicodeDecodeError):
        data = kinesis["data"]
    return {**record, "kinesis": kinesis, "data": data}


def passes(tests: list[Test] | None, view: dict[str, Any]) -> bool:
    return tests is None or any(test(view) for test in tests)
