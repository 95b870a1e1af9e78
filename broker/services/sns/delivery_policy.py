"""HTTP/S delivery policies: a topic's and a subscription's DeliveryPolicy combined into the one that applies —
the retry schedule, the throttle and the request's content type — and AWS's retry delay phases.

The same combination feeds the EffectiveDeliveryPolicy attributes, the retries, the throttle and the POST's
Content-Type, so what a user reads is what the broker does.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

DEFAULT_RETRY: dict[str, Any] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
TOPIC_DEFAULT: dict[str, dict[str, Any]] = {
    "http": {
        "defaultHealthyRetryPolicy": DEFAULT_RETRY,
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": DEFAULT_CONTENT_TYPE},
    }
}


def _loads(text: str | None) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(text) if text else {}
    return policy


def effective_topic(topic_attrs: dict[str, str]) -> dict[str, Any]:
    """A topic's EffectiveDeliveryPolicy: AWS's defaults overlaid with the topic's own DeliveryPolicy."""
    effective = copy.deepcopy(TOPIC_DEFAULT)
    for proto, value in _loads(topic_attrs.get("DeliveryPolicy")).items():
        merged = effective.setdefault(proto, {})
        for key, part in value.items():
            merged[key] = {**merged.get(key, {}), **part} if isinstance(part, dict) else part
    return effective


def effective(topic_attrs: dict[str, str], sub_attrs: dict[str, str], protocol: str = "http") -> dict[str, Any]:
    """A subscription's EffectiveDeliveryPolicy: the topic's defaults for its protocol, overridden by the
    subscription's own policy unless the topic sets disableSubscriptionOverrides."""
    topic_policy = _loads(topic_attrs.get("DeliveryPolicy"))
    topic_proto = topic_policy.get(protocol) or topic_policy.get("http") or {}
    own = {} if topic_proto.get("disableSubscriptionOverrides") else _loads(sub_attrs.get("DeliveryPolicy"))
    return {
        "healthyRetryPolicy": {
            **DEFAULT_RETRY,
            **(topic_proto.get("defaultHealthyRetryPolicy") or {}),
            **(own.get("healthyRetryPolicy") or {}),
        },
        "sicklyRetryPolicy": own.get("sicklyRetryPolicy", topic_proto.get("defaultSicklyRetryPolicy")),
        "throttlePolicy": own.get("throttlePolicy", topic_proto.get("defaultThrottlePolicy")),
        "requestPolicy": own.get("requestPolicy")
        or topic_proto.get("defaultRequestPolicy")
        or {"headerContentType": DEFAULT_CONTENT_TYPE},
        "guaranteed": False,
    }


def max_per_second(policy: dict[str, Any]) -> int | None:
    """The throttle of an effective policy: deliveries per second to the subscription, or None (no limit)."""
    throttle = policy.get("throttlePolicy") or {}
    rate: int | None = throttle.get("maxReceivesPerSecond")
    return rate


def content_type(policy: dict[str, Any]) -> str:
    kind: str = (policy.get("requestPolicy") or {}).get("headerContentType") or DEFAULT_CONTENT_TYPE
    return kind


def retry_delay_s(retry: dict[str, Any], attempt: int) -> float | None:
    """Seconds to wait before retry number `attempt` (1-based), or None when the retries are used up.

    AWS's four phases: immediate retries, retries at the minimum delay, a backoff phase from the minimum to the
    maximum delay shaped by backoffFunction, and retries at the maximum delay."""
    p = {**DEFAULT_RETRY, **retry}
    total: int = p["numRetries"]
    if attempt > total:
        return None
    lo: int = p["minDelayTarget"]
    hi: int = p["maxDelayTarget"]
    no_delay: int = p["numNoDelayRetries"]
    at_min: int = p["numMinDelayRetries"]
    at_max: int = p["numMaxDelayRetries"]
    backoff = max(total - no_delay - at_min - at_max, 0)
    if attempt <= no_delay:
        return 0.0
    if attempt <= no_delay + at_min:
        return float(lo)
    k = attempt - no_delay - at_min
    if k > backoff:
        return float(hi)
    if backoff == 1 or hi == lo:
        return float(hi if backoff == 1 else lo)
    x = (k - 1) / (backoff - 1)  # 0 at the first backoff retry, 1 at the last
    fn = p["backoffFunction"]
    if fn == "arithmetic":
        x = x * (x + 1 / (backoff - 1)) / (1 + 1 / (backoff - 1))  # steps that grow by a constant amount
    elif fn == "geometric":
        geometric: float = lo * (hi / lo) ** x
        return geometric
    elif fn == "exponential":
        x = (math.exp(3 * x) - 1) / (math.exp(3) - 1)
    return lo + (hi - lo) * x
