"""AWS service integrations (type AWS) of REST APIs (placeholder until served: a configuration error)."""

from __future__ import annotations

from typing import Any

from broker.services.apigateway import templates
from broker.services.apigateway.call import Call, Response
from broker.services.apigateway.gateway_errors import GatewayError


async def serve(call: Call, integration: dict[str, Any], request: templates.Request) -> Response:
    """Call the AWS action the integration names with the rendered request template; map the answer back."""
    raise GatewayError("API_CONFIGURATION_ERROR")
