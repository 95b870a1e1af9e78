"""The API Gateway (REST APIs, v1) service spec: botocore's rest-json model; errors as API Gateway writes them
({"message": ...} with the x-amzn-errortype header), validation failures as BadRequestException."""

from __future__ import annotations

from broker.protocol.spec import Handler, ServiceSpec, load_model
from broker.services.apigateway import (
    account_operations,
    authorizer_operations,
    authorizer_test_operations,
    deployment_operations,
    documentation_operations,
    domain_operations,
    gateway_response_operations,
    key_operations,
    method_operations,
    method_test_operations,
    model_operations,
    openapi_operations,
    resource_operations,
    rest_api_operations,
    tag_operations,
    usage_operations,
    validator_operations,
)


def build() -> ServiceSpec:
    handlers: dict[str, Handler] = {
        **rest_api_operations.HANDLERS,
        **resource_operations.HANDLERS,
        **deployment_operations.HANDLERS,
        **method_operations.HANDLERS,
        **method_test_operations.HANDLERS,
        **authorizer_operations.HANDLERS,
        **authorizer_test_operations.HANDLERS,
        **validator_operations.HANDLERS,
        **model_operations.HANDLERS,
        **gateway_response_operations.HANDLERS,
        **key_operations.HANDLERS,
        **tag_operations.HANDLERS,
        **domain_operations.HANDLERS,
        **documentation_operations.HANDLERS,
        **account_operations.HANDLERS,
        **openapi_operations.HANDLERS,
        **usage_operations.HANDLERS,
    }
    return ServiceSpec(
        name="apigateway",
        model=load_model("apigateway"),
        handlers=handlers,
        missing_error=(
            "BadRequestException",
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null",
        ),
        constraint_error="BadRequestException",
        refuse_nul=True,
    )
