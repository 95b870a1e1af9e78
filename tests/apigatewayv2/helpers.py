"""Shared by the API Gateway v2 control-plane tests."""

from __future__ import annotations

from tests.apigateway.helpers import error_of

__all__ = ["LAMBDA", "error_of", "http_api", "lambda_integration"]

LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:f"


def http_api(gw2, name: str = "api", **kw) -> str:
    return gw2.create_api(Name=name, ProtocolType="HTTP", **kw)["ApiId"]


def lambda_integration(gw2, api_id: str, **kw) -> str:
    kw.setdefault("PayloadFormatVersion", "2.0")
    return gw2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=LAMBDA, **kw)[
        "IntegrationId"
    ]
