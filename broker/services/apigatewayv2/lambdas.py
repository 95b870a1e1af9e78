"""Calling a Lambda function for an HTTP API (an AWS_PROXY integration or a REQUEST authorizer) as any Invoke runs:
the version resolved, a concurrency slot, the engine, the log lines stored (lambda_/invoke_operations)."""

from __future__ import annotations

import re
from typing import Any

import orjson

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.lambda_.invoke_operations import MAX_SYNC_PAYLOAD, resolve, run

# An integration or authorizer uri names the function either in API Gateway's invocation form or by its ARN.
_INVOCATION_URI = re.compile(r"^arn:aws[a-z-]*:apigateway:[^:]+:lambda:path/2015-03-31/functions/(.+)/invocations$")


class InvokeFailed(Exception):
    """The function could not be called, failed, or its payload was too large: `status` is what HTTP APIs answer
    (500 for most, 429 when throttled, 413 for a payload over Invoke's limit)."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


def function_of(uri: str) -> str | None:
    m = _INVOCATION_URI.match(uri)
    if m is not None:
        return m.group(1)
    return uri if uri.startswith("arn:") and ":lambda:" in uri else None


async def call(ctx: RequestContext, uri: str, event: dict[str, Any]) -> bytes:
    """The function's result payload; raises InvokeFailed."""
    name = function_of(uri)
    if name is None:
        raise InvokeFailed(500, f"not a Lambda function: {uri}")
    payload = orjson.dumps(event)
    if len(payload) > MAX_SYNC_PAYLOAD:
        raise InvokeFailed(413, "request too large for Lambda")
    try:
        ref, version = await resolve(ctx, {"FunctionName": name})
        outcome = await run(ctx, ref, version, payload, None)
    except ServiceError as e:
        raise InvokeFailed(429 if e.status == 429 else 500, e.message) from None
    if outcome.function_error:
        raise InvokeFailed(500, f"function error {outcome.function_error}")
    return bytes(outcome.payload or b"")
