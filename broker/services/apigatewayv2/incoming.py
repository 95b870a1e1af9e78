"""A request to an HTTP API as the data plane sees it once its stage and route are known, and the values of the
selection expressions HTTP APIs evaluate against it (identity sources, parameter mappings): `$request.header.x`,
`$request.querystring.x`, `$request.body.<JSONPath>`, `$request.path[.x]`, `$context.x`, `$stageVariables.x`,
`$response.header.x`, `$response.body.<JSONPath>`, `${...}` inside a longer string, else the literal text."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from broker.services.apigateway import templates

Headers = list[tuple[str, str]]
_EMBEDDED = re.compile(r"\$\{([^}]*)\}")
# API Gateway applies a body JSONPath to the first 100 KB of the body only.
_BODY_SELECT_LIMIT = 100 * 1024


@dataclass
class Incoming:
    method: str
    raw_path: str  # as the client sent it (with the stage segment of a named stage)
    path: str  # without the stage segment
    raw_query: str
    query: list[tuple[str, str]]  # decoded, in order
    headers: Headers  # lowercase names, in order (repeats kept)
    body: bytes
    source_ip: str
    protocol: str
    request_id: str
    account: str
    region: str
    api_id: str
    domain_name: str
    domain_prefix: str
    stage: str
    stage_variables: dict[str, str]
    time_ms: int
    route_key: str = ""
    route_id: str = ""
    path_parameters: dict[str, str] = field(default_factory=dict)
    # What an authorizer established: {"jwt": {"claims", "scopes"}} or {"lambda": {...}} (+ principalId).
    authorizer: dict[str, Any] | None = None

    def header(self, name: str) -> str | None:
        """A header's value, repeats joined with commas (as HTTP APIs pass them); None when absent."""
        name = name.lower()
        values = [v for k, v in self.headers if k == name]
        return ",".join(values) if values else None

    def querystring(self, name: str) -> str | None:
        values = [v for k, v in self.query if k == name]
        return ",".join(values) if values else None

    @property
    def user_agent(self) -> str:
        return self.header("user-agent") or ""

    @property
    def request_time(self) -> str:
        return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.time_ms / 1000))

    def context(self) -> dict[str, Any]:
        """The $context variables of HTTP APIs (dotted names, flat)."""
        out: dict[str, Any] = {
            "accountId": self.account,
            "apiId": self.api_id,
            "domainName": self.domain_name,
            "domainPrefix": self.domain_prefix,
            "httpMethod": self.method,
            "identity.sourceIp": self.source_ip,
            "identity.userAgent": self.user_agent,
            "path": self.raw_path,
            "protocol": self.protocol,
            "requestId": self.request_id,
            "extendedRequestId": self.request_id,
            "requestTime": self.request_time,
            "requestTimeEpoch": self.time_ms,
            "routeKey": self.route_key,
            "stage": self.stage,
        }
        auth = self.authorizer or {}
        jwt = auth.get("jwt")
        if isinstance(jwt, dict):
            for k, v in (jwt.get("claims") or {}).items():
                out[f"authorizer.claims.{k}"] = v
        lam = auth.get("lambda")
        if isinstance(lam, dict):
            for k, v in lam.items():
                out[f"authorizer.{k}"] = v
        if "principalId" in auth:
            out["authorizer.principalId"] = auth["principalId"]
        return out


@dataclass
class Answer:
    """An integration's answer, for `$response.*` values of response parameter mappings."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


def _body_value(body: bytes, path: str) -> str | None:
    if not path:
        return body.decode("utf-8", "replace")
    try:
        document = json.loads(body[:_BODY_SELECT_LIMIT])
        found = templates.select(document, "$." + path)
    except (ValueError, templates.TemplateError):
        return None
    return None if found is templates.MISSING else _text(found)


def variable(name: str, request: Incoming, answer: Answer | None = None) -> str | None:
    """The value of one variable without its `$` (`request.header.x`, `context.requestId` ...); None when the
    request has no such value."""
    head, _, rest = name.partition(".")
    if head == "request":
        where, _, key = rest.partition(".")
        if where == "header":
            return request.header(key)
        if where == "querystring":
            return request.querystring(key)
        if where == "path":
            return request.path_parameters.get(key) if key else request.path
        if where == "body":
            return _body_value(request.body, key)
        return None
    if head == "context":
        return _text(request.context().get(rest))
    if head == "stageVariables":
        return request.stage_variables.get(rest)
    if head == "response" and answer is not None:
        where, _, key = rest.partition(".")
        if where == "header":
            values = [v.decode("latin-1") for k, v in answer.headers if k.decode("latin-1").lower() == key.lower()]
            return ",".join(values) if values else None
        if where == "body":
            return _body_value(answer.body, key)
    return None


def evaluate(expression: str, request: Incoming, answer: Answer | None = None) -> str | None:
    """A selection expression's value: `$a.b` (None when missing), a string with `${a.b}` parts (missing parts
    empty), else the literal."""
    if expression.startswith("$") and not expression.startswith("${"):
        return variable(expression[1:], request, answer)
    if "${" in expression:
        return _EMBEDDED.sub(lambda m: variable(m.group(1), request, answer) or "", expression)
    return expression
