"""The API Gateway v2 (HTTP and WebSocket APIs) service spec: botocore's `apigatewayv2` rest-json model (its paths all
begin with /v2/, so it routes beside v1's under the same signing name "apigateway"); errors as API Gateway writes
them, validation failures as BadRequestException. Operations without a handler (portals, portal products and
their pages, routing rules) get the layer's 501 "not supported by this broker yet"."""

from __future__ import annotations

from broker.protocol.spec import Handler, ServiceSpec, load_model
from broker.services.apigatewayv2 import (
    api_operations,
    authorizer_operations,
    deployment_operations,
    domain_operations,
    integration_operations,
    lengths,
    model_operations,
    openapi_operations,
    route_operations,
    stage_operations,
    tag_operations,
)


def build() -> ServiceSpec:
    handlers: dict[str, Handler] = {
        **api_operations.HANDLERS,
        **route_operations.HANDLERS,
        **integration_operations.HANDLERS,
        **authorizer_operations.HANDLERS,
        **stage_operations.HANDLERS,
        **deployment_operations.HANDLERS,
        **model_operations.HANDLERS,
        **domain_operations.HANDLERS,
        **tag_operations.HANDLERS,
        **openapi_operations.HANDLERS,
    }
    model = load_model("apigatewayv2")
    return ServiceSpec(
        name="apigatewayv2",  # signing name "apigateway" is v1's spec name; rest routing goes by path
        model=model,
        handlers={name: lengths.checked(model.operation_model(name).input_shape, h) for name, h in handlers.items()},
        missing_error=(
            "BadRequestException",
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null",
        ),
        constraint_error="BadRequestException",
        refuse_nul=True,
    )
