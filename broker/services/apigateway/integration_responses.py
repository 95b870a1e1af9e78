"""What MOCK, HTTP and AWS integrations share: the request template for a content type (or passthrough) and the
body it renders, the integration response a status code selects, its template, and a response template rendered with
$context.responseOverride applied."""

from __future__ import annotations

import re
from typing import Any

from broker.services.apigateway import templates
from broker.services.apigateway.call import Response
from broker.services.apigateway.gateway_errors import GatewayError

FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})
UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def media_type(value: str) -> str:
    return value.partition(";")[0].strip().lower()


def request_template(integration: dict[str, Any], content_type: str) -> str | None:
    """The request template for the request's content type (application/json when it names none); None for a
    passthrough; raises LookupError when passthroughBehavior refuses the request (415)."""
    templates_ = integration.get("requestTemplates") or {}
    wanted = media_type(content_type) or "application/json"
    for key, template in templates_.items():
        if media_type(key) == wanted:
            return str(template or "")
    behavior = integration.get("passthroughBehavior") or "WHEN_NO_MATCH"
    if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates_):
        raise LookupError(wanted)
    return None


def request_body(
    integration: dict[str, Any], request: templates.Request, content_type: str, mapped: dict[str, dict[str, str]]
) -> tuple[bytes, str]:
    """(body, content type) sent to the backend: the request template rendered (as the type it names, else
    application/json) or, passed through, the request's own; what the template set in $context.requestOverride
    (header, querystring, path) replaces those of the `mapped` parameters. Raises LookupError (415) and
    TemplateError."""
    template = request_template(integration, content_type)
    if template is None:
        return request.body, content_type
    out = templates.render(template, request)
    for where, values in out.request_override.items():
        if where in mapped:
            mapped[where].update(values)
    return out.text.encode(), media_type(content_type) or "application/json"


def integration_response(integration: dict[str, Any], status: int | str) -> tuple[int, dict[str, Any]] | None:
    """(status code, integration response) whose selectionPattern matches `status`, else the default one (no
    pattern); None when neither exists or the code is not a number (a configuration error: 500)."""
    responses = integration.get("integrationResponses") or {}
    chosen = None
    for code, response in responses.items():
        pattern = response.get("selectionPattern")
        try:
            if pattern and re.fullmatch(pattern, str(status)):
                chosen = (code, response)
                break
        except re.error:
            continue
    if chosen is None:
        chosen = next(((c, r) for c, r in responses.items() if not r.get("selectionPattern")), None)
    if chosen is None:
        return None
    try:
        return int(chosen[0]), chosen[1]
    except ValueError:
        return None


def response_template(response: dict[str, Any]) -> tuple[str, str | None]:
    """(content type, template) of an integration response: application/json's, else the first one."""
    response_templates = response.get("responseTemplates") or {}
    content_type = "application/json"
    template = response_templates.get(content_type)
    if template is None and response_templates:
        content_type, template = next(iter(response_templates.items()))
    return content_type, template


def rendered(template: str, request: templates.Request, status: int, headers: list[tuple[bytes, bytes]]) -> Response:
    """A response template rendered: its text the body, $context.responseOverride's status and headers applied
    (framing headers and values with line breaks dropped: a value may carry request input)."""
    try:
        rendered = templates.render(template, request)
    except templates.TemplateError as e:
        raise GatewayError("API_CONFIGURATION_ERROR") from e
    if rendered.status is not None:
        if not 100 <= rendered.status <= 599:
            raise GatewayError("API_CONFIGURATION_ERROR")
        status = rendered.status
    for name, value in rendered.headers.items():
        key = name.lower().encode("latin-1", "replace")
        if key in FRAMING or UNSAFE.search(value):
            continue
        headers = [h for h in headers if h[0] != key] + [(key, value.encode("latin-1", "replace"))]
    return status, headers, rendered.text.encode()
