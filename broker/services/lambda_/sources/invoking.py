"""One synchronous invocation of a mapping's function with a batch, as every poller makes it: the function (or
alias) resolved at the time of the call, the outcome classified the way Lambda's pollers react to it, and the
function's answer read for ReportBatchItemFailures and tumbling-window state."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.base import Env
from broker.services.lambda_.invoke_operations import resolve, run

log = logging.getLogger("broker.lambda.sources")


@dataclass
class BatchOutcome:
    """ "ok", "error" (the function failed), "throttle", "gone" (no such function) or "system"."""

    kind: str
    request_id: str
    payload: bytes = b""
    function_error: str | None = None
    executed_version: str | None = None
    status: int = 200

    def answer(self) -> Any:
        """The function's result as JSON (None when it returned nothing or not JSON)."""
        try:
            return json.loads(self.payload) if self.payload else None
        except ValueError:
            return None


async def invoke(env: Env, host: str, function_arn: str, event: dict[str, Any]) -> BatchOutcome:
    parts = function_arn.split(":")
    ctx = RequestContext(env=env, account=parts[4], region=parts[3], host=host, trace_header="")
    request_id = ids.uuid4()
    try:
        ref, version = await resolve(ctx, {"FunctionName": function_arn})
        outcome = await run(ctx, ref, version, orjson.dumps(event), None, request_id)
    except ServiceError as e:
        if e.code == "TooManyRequestsException":
            return BatchOutcome("throttle", request_id, status=e.status)
        if e.code == "ResourceNotFoundException":
            return BatchOutcome("gone", request_id, status=e.status)
        log.warning("event source mapping of %s: %s %s", function_arn, e.code, e.message)
        return BatchOutcome("system", request_id, status=e.status)
    kind = "error" if outcome.function_error else "ok"
    return BatchOutcome(kind, request_id, outcome.payload, outcome.function_error, version.version)


def failed_items(payload: bytes, known: list[str]) -> list[str] | None:
    """ReportBatchItemFailures: the identifiers to retry ([] = the whole batch succeeded), or None when the answer
    fails the whole batch. As Lambda: nothing, null, {} or an empty or null list is success; an answer that is not
    a JSON object, or an identifier that is empty, null, under another key or not in the batch, is failure."""
    if not payload.strip():
        return []
    try:
        answer = json.loads(payload)
    except ValueError:
        return None
    if answer is None:
        return []
    if not isinstance(answer, dict):
        return None
    failures = answer.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    wanted = set(known)
    out: list[str] = []
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or ident not in wanted:
            return None
        out.append(ident)
    return out
