"""One request on its way through a deployed REST API: what the data plane's steps (api keys, authorizers, usage
plans, validation, the integration) read and add to, and the small readers of the ASGI request they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from broker.services.apigateway import routing, templates
from broker.services.base import Env
from broker.services.data_plane import header

Doc = dict[str, Any]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]
Scope = Any

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit


@dataclass
class Call:
    env: Env
    scope: Scope
    body: bytes
    request_id: str
    account: str
    region: str
    api: Doc  # the API as deployed (the deployment's `_api`, else the current row)
    stage: Doc
    deployment: Doc
    matched: routing.Match
    path: str  # after the stage segment, with a leading "/"
    # Filled in by the steps: the Lambda authorizer's result ($context.authorizer: principalId, context values,
    # claims) and the API key the request was admitted with ($context.identity.apiKey / apiKeyId).
    authorizer: Doc | None = None
    api_key: Doc | None = None
    started_ms: int = 0
    extras: Doc = field(default_factory=dict)

    @property
    def api_id(self) -> str:
        return str(self.api["id"])

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    def header(self, name: bytes) -> str:
        return header(self.scope, name)

    def deployed(self, key: str) -> list[Doc]:
        """A list the deployment froze (`_authorizers`, `_models`, `_validators`, `_gatewayResponses`)."""
        return list(self.deployment.get(key) or [])


def template_request(event: Doc, body: bytes) -> templates.Request:
    """What mapping templates see of a request: its payload, parameters (the last value of a repeated one),
    $context and $stageVariables (taken from the proxy event, so both agree)."""
    return templates.Request(
        body=body,
        path=event["pathParameters"] or {},
        querystring=event["queryStringParameters"] or {},
        headers=event["headers"] or {},
        context=event["requestContext"],
        stage_variables=event["stageVariables"] or {},
    )
