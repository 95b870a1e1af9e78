"""Throttling and quotas on the data plane, as API Gateway applies them to a REST API request.

Throttles are token buckets (rate = tokens per second, burst = the bucket's size) refilled on `broker.clock`, so
moving the test clock refills them. Two layers apply, each taking its most specific setting, and a request needs a
token from both (AWS's order: the usage plan's limits, then the stage's):
- the stage's methodSettings: the method's own `resource/METHOD` entry, else `*/*` (each method of the stage has
  its own bucket, as AWS's per-method limits do);
- for a request admitted with an API key (api_keys.py): the plan's per-method throttle of this API stage
  (apiStages[].throttle["/resource/METHOD"]), else the plan's throttle — one bucket per key.
Buckets live in each worker process: across N workers (or nodes) a client may get up to N times the configured
rate. That is a deliberate trade for a dev broker: a shared bucket would cost a database write per request, and
dividing the rate by the worker count would throttle a keep-alive client (whose requests all reach one worker) N
times too hard.

Quotas are durable and exact across workers and nodes: every request admitted with a key counts one request on
its (plan, key, UTC day) row (usage_store.py, one UPDATE); a period over its limit answers 429 "Limit Exceeded".
Periods start at 00:00 UTC: DAY every day, WEEK on the offset's weekday (0 = Sunday), MONTH on day offset + 1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from broker import clock
from broker.services.apigateway import usage_store
from broker.services.apigateway.call import Call, Doc
from broker.services.apigateway.gateway_errors import GatewayError

MAX_BUCKETS = 100_000  # a worker forgets all buckets past this many (they refill to full anyway)


@dataclass
class Bucket:
    rate: float  # tokens per second
    burst: float  # the bucket's size
    tokens: float
    at_ms: int  # when `tokens` was right

    def refill(self, now_ms: int) -> None:
        elapsed = max(0, now_ms - self.at_ms) / 1000
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.at_ms = now_ms


_buckets: dict[tuple[str, ...], Bucket] = {}


def _bucket(key: tuple[str, ...], rate: float, burst: float, now_ms: int) -> Bucket:
    """The bucket of `key`, (re)shaped to the current limits (a changed limit keeps the tokens it allows)."""
    found = _buckets.get(key)
    if found is None:
        if len(_buckets) >= MAX_BUCKETS:
            _buckets.clear()
        found = _buckets[key] = Bucket(rate, burst, burst, now_ms)
    elif (found.rate, found.burst) != (rate, burst):
        found.refill(now_ms)
        found.rate, found.burst = rate, burst
        found.tokens = min(found.tokens, burst)
    found.refill(now_ms)
    return found


def take(buckets: list[Bucket]) -> bool:
    """One token from every bucket, or none from any when one is empty."""
    if any(b.tokens < 1 for b in buckets):
        return False
    for b in buckets:
        b.tokens -= 1
    return True


# -- which limits apply


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _setting_path(key: str) -> tuple[str, str]:
    """(resource path without its leading "/", METHOD) of a methodSettings key (`~1pets~1{id}/GET`, `*/*`)."""
    resource, _, method = key.rpartition("/")
    return _unescape(resource).strip("/"), method


def method_setting(stage: Doc, resource_path: str, method: str) -> tuple[str, Doc] | None:
    """(key, settings) of the stage's most specific method settings for a method: its own, then the resource's
    `*` method, then `*/*`."""
    settings: dict[str, Doc] = stage.get("methodSettings") or {}
    wanted = resource_path.strip("/")
    ranked: list[tuple[int, str, Doc]] = []
    for key, entry in settings.items():
        resource, m = _setting_path(key)
        if resource == wanted and m == method:
            ranked.append((0, key, entry))
        elif resource == wanted and m == "*":
            ranked.append((1, key, entry))
        elif resource == "*" and m == "*":
            ranked.append((2, key, entry))
    if not ranked:
        return None
    _, key, entry = min(ranked, key=lambda r: r[0])
    return key, entry


def _limits(rate: Any, burst: Any) -> tuple[float, float] | None:
    """(rate, burst) of a throttle; None when it sets no rate (no limit). A missing burst allows one second's
    worth of requests (at least one)."""
    if rate is None:
        return None
    r = max(0.0, float(rate))
    b = float(burst) if burst is not None else max(1.0, r)
    return r, max(0.0, b)


def plan_throttle(plan: Doc, api_id: str, stage: str, resource_path: str, method: str) -> tuple[str, Doc] | None:
    """(which, throttle) of a usage plan for a method of an API stage: the stage's per-method throttle
    (`/resource/METHOD`), else the plan's."""
    for api_stage in plan.get("apiStages") or []:
        if api_stage.get("apiId") == api_id and api_stage.get("stage") == stage:
            per_method: dict[str, Doc] = api_stage.get("throttle") or {}
            own = per_method.get(f"{resource_path.rstrip('/')}/{method}")
            if own is None and resource_path == "/":
                own = per_method.get(f"//{method}")
            if own is not None:
                return f"{resource_path}/{method}", own
    throttle = plan.get("throttle")
    return ("*", throttle) if throttle else None


# -- quota periods


def period_start(day: date, quota: Doc) -> date:
    """The first day of the quota period holding `day`."""
    period, offset = quota.get("period"), int(quota.get("offset") or 0)
    if period == "WEEK":
        since_sunday = (day.weekday() + 1) % 7
        return day - timedelta(days=(since_sunday - offset) % 7)
    if period == "MONTH":
        if day.day > offset:
            return day.replace(day=offset + 1)
        last_month = day.replace(day=1) - timedelta(days=1)
        return last_month.replace(day=offset + 1)
    return day


def today() -> date:
    return datetime.fromtimestamp(clock.now_ms() / 1000, UTC).date()


def quota_limit(plan: Doc) -> int:
    quota = plan.get("quota")
    if quota is None or quota.get("limit") is None:
        return usage_store.NO_LIMIT
    return int(quota["limit"])


# -- the step


async def admit(call: Call) -> None:
    """Throttle (the stage's method settings, the usage plan's throttle) and count the request against its plan's
    quota; GatewayError THROTTLED / QUOTA_EXCEEDED (429) when refused."""
    resource_path = str(call.matched.resource.get("path") or "/")
    method = str(call.matched.method.get("httpMethod") or call.method)
    stage_name = str(call.stage["stageName"])
    now = clock.now_ms()
    buckets: list[Bucket] = []
    setting = method_setting(call.stage, resource_path, method)
    if setting is not None:
        limits = _limits(setting[1].get("throttlingRateLimit"), setting[1].get("throttlingBurstLimit"))
        if limits is not None:
            # `*/*` limits each method separately, so the method (not the key) names the bucket.
            key: tuple[str, ...] = ("stage", call.account, call.region, call.api_id, stage_name, resource_path, method)
            buckets.append(_bucket(key, *limits, now))
    plan: Doc | None = call.extras.get("usage_plan")
    api_key = call.api_key
    if plan is not None and api_key is not None:
        throttle = plan_throttle(plan, call.api_id, stage_name, resource_path, method)
        if throttle is not None:
            limits = _limits(throttle[1].get("rateLimit"), throttle[1].get("burstLimit"))
            if limits is not None:
                key = ("plan", call.account, call.region, str(plan["id"]), str(api_key["id"]), throttle[0])
                buckets.append(_bucket(key, *limits, now))
    if not take(buckets):
        raise GatewayError("THROTTLED")
    if plan is None or api_key is None:
        return
    day = today()
    start = period_start(day, plan.get("quota") or {})
    counted = await call.env.db.write(
        usage_store.count, call.account, call.region, str(plan["id"]), str(api_key["id"]),
        day.isoformat(), start.isoformat(), quota_limit(plan),
    )  # fmt: skip
    if not counted:
        raise GatewayError("QUOTA_EXCEEDED")
