"""REQUEST (Lambda) authorizers of HTTP APIs. Every identity source must have a value (else 401, the function not
called); the function gets the format 1.0 or 2.0 authorizer event and answers a simple response
(`{"isAuthorized": bool, "context": {...}}`, format 2.0 with EnableSimpleResponses) or an IAM policy (allowed when
a statement allows execute-api:Invoke on the route's ARN and none denies it). Denied is 403, an unusable answer or a
failed call 500. Results are cached per worker for AuthorizerResultTtlInSeconds on the broker clock, keyed by the
identity source values (a policy is evaluated again for each route)."""

from __future__ import annotations

import fnmatch
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from broker import clock
from broker.context import RequestContext
from broker.services.apigatewayv2 import lambdas, payloads
from broker.services.apigatewayv2.incoming import Incoming, evaluate
from broker.services.base import Env

Doc = dict[str, Any]
Scope = Any

_CACHE_SIZE = 10_000


class Denied(Exception):
    """The authorizer refused the request or failed: `status` 401, 403 or 500."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class _Result:
    simple: bool
    allowed: bool  # simple responses
    policy: Doc | None  # IAM policy responses
    context: Doc
    principal: Any


def route_arn(request: Incoming) -> str:
    """arn:aws:execute-api:<region>:<account>:<api>/<stage>/<method><path>, or .../$default for that route."""
    tail = "$default" if request.route_key == "$default" else f"{request.method}{request.path}"
    return f"arn:aws:execute-api:{request.region}:{request.account}:{request.api_id}/{request.stage}/{tail}"


def _arn_matches(pattern: str, arn: str) -> bool:
    return fnmatch.fnmatchcase(arn, pattern.replace("[", "[[]"))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_allows(policy: Doc, arn: str) -> bool:
    """Whether an IAM policy allows execute-api:Invoke on `arn` (an explicit Deny wins)."""
    allowed = False
    for statement in _listed(policy.get("Statement") or []):
        if not isinstance(statement, dict):
            continue
        actions = [str(a) for a in _listed(statement.get("Action", []))]
        if not any(a in ("*", "execute-api:*", "execute-api:Invoke") for a in actions):
            continue
        resources = [str(r) for r in _listed(statement.get("Resource", []))]
        if not any(_arn_matches(r, arn) for r in resources):
            continue
        effect = str(statement.get("Effect", ""))
        if effect == "Deny":
            return False
        allowed = allowed or effect == "Allow"
    return allowed


def _event(env: Env, scope: Scope, authorizer: Doc, request: Incoming, values: list[str]) -> Doc:
    version = str(authorizer.get("AuthorizerPayloadFormatVersion") or "2.0")
    if version == "1.0":
        base = payloads.event_v1(env, scope, request)
        base.pop("body", None)
        base.pop("isBase64Encoded", None)
        joined = ",".join(values)
        head: Doc = {"version": "1.0", "type": "REQUEST", "methodArn": route_arn(request)}
        head.update({"identitySource": joined, "authorizationToken": joined})
        return {**head, **{k: v for k, v in base.items() if k != "version"}}
    event = payloads.common_v2(request)
    head = {"version": "2.0", "type": "REQUEST", "routeArn": route_arn(request), "identitySource": values}
    rest = {k: v for k, v in event.items() if k != "version"}
    if request.path_parameters:
        rest["pathParameters"] = request.path_parameters
    if request.stage_variables:
        rest["stageVariables"] = request.stage_variables
    return {**head, **rest}


def _parse(authorizer: Doc, payload: bytes) -> _Result:
    try:
        answer = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise Denied(500) from None
    if not isinstance(answer, dict):
        raise Denied(500)
    context = answer.get("context") or {}
    if not isinstance(context, dict):
        raise Denied(500)
    simple = bool(authorizer.get("EnableSimpleResponses")) and authorizer.get("AuthorizerPayloadFormatVersion") == "2.0"
    if simple:
        allowed = answer.get("isAuthorized")
        if not isinstance(allowed, bool):
            raise Denied(500)
        return _Result(True, allowed, None, context, None)
    policy = answer.get("policyDocument")
    if not isinstance(policy, dict):
        raise Denied(500)
    return _Result(False, False, policy, context, answer.get("principalId"))


RESET_PREFIX = "apigw2-authz:"


def reset_key(account: str, region: str, api_id: str, stage: str) -> str:
    """The notifier key ResetAuthorizersCache broadcasts: every worker drops that stage's cached results."""
    return f"{RESET_PREFIX}{account}:{region}:{api_id}:{stage}"


class LambdaAuthorizers:
    """The authorizer result cache of a worker (entries per API stage), and the calls."""

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[str, ...], tuple[int, _Result]] = OrderedDict()

    def on_reset(self, key: str) -> None:
        """A ResetAuthorizersCache of some worker: drop the stage's entries."""
        _, _, names = key.partition(RESET_PREFIX)
        account, region, api_id, stage = (names.split(":", 3) + ["", "", "", ""])[:4]
        for k in [k for k in self._cache if k[:4] == (account, region, api_id, stage)]:
            del self._cache[k]

    def _cached(self, key: tuple[str, ...]) -> _Result | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        if hit[0] <= clock.now_ms():
            del self._cache[key]
            return None
        return hit[1]

    def _store(self, key: tuple[str, ...], ttl_s: int, result: _Result) -> None:
        self._cache[key] = (clock.now_ms() + ttl_s * 1000, result)
        self._cache.move_to_end(key)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)

    async def authorize(self, ctx: RequestContext, scope: Scope, authorizer: Doc, request: Incoming) -> Doc:
        """requestContext.authorizer of an allowed request ({"lambda": context}); raises Denied."""
        sources = [str(s) for s in authorizer.get("IdentitySource") or []]
        values: list[str] = []
        for source in sources:
            value = evaluate(source, request)
            if not value:
                raise Denied(401)
            values.append(value)
        try:
            ttl = int(authorizer.get("AuthorizerResultTtlInSeconds") or 0)
        except (TypeError, ValueError):
            ttl = 0
        scope_ = (request.account, request.region, request.api_id, request.stage)
        key: tuple[str, ...] = (*scope_, str(authorizer.get("AuthorizerId", "")), *values)
        result = self._cached(key) if ttl > 0 and sources else None
        if result is None:
            event = _event(ctx.env, scope, authorizer, request, values)
            try:
                payload = await lambdas.call(ctx, str(authorizer.get("AuthorizerUri") or ""), event)
            except lambdas.InvokeFailed:
                raise Denied(500) from None
            result = _parse(authorizer, payload)
            if ttl > 0 and sources:
                self._store(key, ttl, result)
        allowed = result.allowed if result.simple else policy_allows(result.policy or {}, route_arn(request))
        if not allowed:
            raise Denied(403)
        out: Doc = {}
        if result.principal is not None:
            out["principalId"] = result.principal
        out["lambda"] = result.context
        return out
