"""The CloudWatch Logs service spec: botocore's (JSON 1.1) model. AWS answers every malformed member with
InvalidParameterException ("1 validation error detected: ..."), enum members included."""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any

from botocore.loaders import Loader
from botocore.model import ServiceModel

from broker.protocol.spec import Handler, ServiceSpec
from broker.services.logs import event_operations, group_operations, stream_operations, tagging
from broker.services.logs.errors import MISSING_TEMPLATE

# Java regex syntax in the model that Python's re does not take: Unicode categories (TagKey, TagValue) and a class
# range that starts at a shorthand (ResourceType's `[\w-_]`, where Java reads the '-' literally).
_JAVA_SYNTAX = (
    (r"\p{L}", r"\w"),
    (r"\p{N}", r"\d"),
    (r"\p{Z}", r"\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"),
)
_SHORTHAND_RANGE = re.compile(r"(\\[wdsWDS])-")


def _python_pattern(pattern: str) -> str:
    for java, python in _JAVA_SYNTAX:
        pattern = pattern.replace(java, python)
    return _SHORTHAND_RANGE.sub(r"\1\\-", pattern)


@cache
def model() -> ServiceModel:
    """botocore's Logs model with its member patterns in Python's regex syntax (the generic validator compiles them
    with re)."""
    raw: dict[str, Any] = copy.deepcopy(Loader().load_service_model("logs", "service-2"))
    for shape in raw["shapes"].values():
        if "pattern" in shape:
            shape["pattern"] = _python_pattern(shape["pattern"])
    return ServiceModel(raw, service_name="logs")


def build() -> ServiceSpec:
    handlers: dict[str, Handler] = {
        **group_operations.HANDLERS,
        **stream_operations.HANDLERS,
        **event_operations.HANDLERS,
        **tagging.HANDLERS,
    }
    return ServiceSpec(
        name="logs",
        model=model(),
        handlers=handlers,
        missing_error=("InvalidParameterException", MISSING_TEMPLATE),
        constraint_error="InvalidParameterException",
        enum_checked=frozenset(handlers),
        # PostgreSQL text cannot hold NUL: such a member is refused like any other malformed one.
        refuse_nul=True,
    )
