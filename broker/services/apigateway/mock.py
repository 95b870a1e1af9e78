"""MOCK integrations: answered by the gateway from the integration's templates alone."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx

from broker.services.apigateway import templates
from broker.services.apigateway.call import Response
from broker.services.apigateway.gateway_errors import GatewayError
from broker.services.apigateway.http_integration import response_value
from broker.services.apigateway.integration_responses import (
    FRAMING,
    UNSAFE,
    integration_response,
    rendered,
    request_template,
    response_template,
)


def mock(integration: dict[str, Any], request: templates.Request) -> Response:
    """A MOCK integration: its request template (rendered) names the statusCode that selects the integration
    response (by its selectionPattern, else the default one); that response's template, rendered with MOCK's empty
    result as $input, is the body, and $context.responseOverride may change the status and headers."""
    try:
        template = request_template(integration, request.headers.get("content-type", ""))
    except LookupError as e:
        raise GatewayError("UNSUPPORTED_MEDIA_TYPE") from e
    try:
        mapped = (
            request.body.decode("utf-8", "replace") if template is None else templates.render(template, request).text
        )
    except templates.BodyError as e:
        raise GatewayError("BAD_REQUEST_BODY", str(e)) from e
    except templates.TemplateError as e:
        raise GatewayError("API_CONFIGURATION_ERROR") from e
    status = 200
    if mapped.strip():
        try:
            status = int(json.loads(mapped).get("statusCode", 200))
        except (ValueError, AttributeError, TypeError, OverflowError, RecursionError):
            if template is not None:  # a passed-through body that names no statusCode is a plain 200
                raise GatewayError("API_CONFIGURATION_ERROR") from None
    chosen = integration_response(integration, status)
    if chosen is None:
        raise GatewayError("API_CONFIGURATION_ERROR")
    status, response = chosen
    content_type, template = response_template(response)
    headers = [(b"content-type", content_type.encode("latin-1", "replace"))]
    for name, source in (response.get("responseParameters") or {}).items():
        # MOCK has no backend: its mappings take literals, stage variables and $context values.
        value = response_value(str(source), httpx.Headers(), b"", request)
        if name.startswith("method.response.header.") and value is not None and not UNSAFE.search(value):
            key = name[len("method.response.header.") :].lower().encode("latin-1", "replace")
            if key not in FRAMING:
                headers.append((key, value.encode("latin-1", "replace")))
    if not template:
        return status, headers, b""
    return rendered(template, dataclasses.replace(request, body=b""), status, headers)
